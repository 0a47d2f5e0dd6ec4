// Package decimal writes float64 values as exact decimal numbers with a
// bounded number of fraction digits, for wire formats and pages that must not
// show float noise (413.4, not 413.40000000000003).
//
// Append rounds f·10^places to an integer (half away from zero) and writes
// that integer's digits with a decimal point, trailing zeros trimmed and no
// exponent. It allocates nothing when the buffer has room. PricePlaces and
// TokenPlaces give the number of places of a price in an Indian market
// segment, as Kite's wire divides it.
package decimal

import "math"

// The places of a price, by segment: Kite's wire carries prices as integers
// divided by 100 (paise), by 10,000,000 in NSE currency derivatives (CDS) and
// by 10,000 in BSE currency derivatives (BCD).
const (
	PaisePlaces = 2
	CDSPlaces   = 7
	BCDPlaces   = 4
)

// MaxPlaces is the most fraction digits Append writes.
const MaxPlaces = 15

// maxScaled bounds f·10^places: below 2^53 every integer is a float64, so
// rounding the product gives the decimal nearest to f.
const maxScaled = 1 << 53

// Append appends f rounded to at most places fraction digits (half away from
// zero; trailing zeros and a bare point trimmed: 182.3, 24000, 0.05, -3.42)
// and reports true. It appends nothing and reports false when it cannot
// write f exactly that way: f is NaN or infinite, places is outside
// [0, MaxPlaces], or |f|·10^places is 2^53 or more. A negative f that rounds
// to zero is written as 0. It rounds the float64 product f·10^places, so a
// decimal exactly halfway between two units (off any price grid, such as
// 611787.575 at two places) may go either way.
func Append(b []byte, f float64, places int) ([]byte, bool) {
	if places < 0 || places > MaxPlaces {
		return b, false
	}
	scaled := math.Round(f * math.Pow10(places)) // 10^places is exact
	if !(math.Abs(scaled) < maxScaled) {         // also NaN
		return b, false
	}
	v := int64(scaled)
	if v < 0 {
		b = append(b, '-')
		v = -v
	}
	u := uint64(v) // unsigned: cheaper to divide
	for places > 0 && u%10 == 0 {
		u /= 10
		places--
	}
	// 16 integer digits (below 2^53), a point and MaxPlaces fraction
	// digits, written from the right, two digits a division where it can.
	var buf [16 + 1 + MaxPlaces]byte
	i := len(buf)
	if places > 0 {
		for ; places >= 2; places -= 2 {
			q := u / 100
			r := 2 * (u - 100*q)
			i -= 2
			buf[i], buf[i+1] = digitPairs[r], digitPairs[r+1]
			u = q
		}
		if places == 1 {
			i--
			buf[i] = byte('0' + u%10)
			u /= 10
		}
		i--
		buf[i] = '.'
	}
	for u >= 100 {
		q := u / 100
		r := 2 * (u - 100*q)
		i -= 2
		buf[i], buf[i+1] = digitPairs[r], digitPairs[r+1]
		u = q
	}
	if u >= 10 {
		i -= 2
		buf[i], buf[i+1] = digitPairs[2*u], digitPairs[2*u+1]
	} else {
		i--
		buf[i] = byte('0' + u)
	}
	return append(b, buf[i:]...), true
}

// digitPairs holds the two digits of 0 to 99 at 2n and 2n+1.
const digitPairs = "00010203040506070809" +
	"10111213141516171819" +
	"20212223242526272829" +
	"30313233343536373839" +
	"40414243444546474849" +
	"50515253545556575859" +
	"60616263646566676869" +
	"70717273747576777879" +
	"80818283848586878889" +
	"90919293949596979899"

// PricePlaces returns the places of a price in segment, a Kite segment
// ("NFO-OPT", "CDS-FUT", "BCD-OPT", "INDICES") or exchange ("NSE", "CDS",
// "BCD") name: CDSPlaces for CDS, BCDPlaces for BCD, PaisePlaces for any
// other. An instrument's tick size is not its unit (it is 0 for index rows
// in Kite's instrument dump).
func PricePlaces(segment string) int {
	head := segment
	for i := range len(segment) {
		if segment[i] == '-' {
			head = segment[:i]
			break
		}
	}
	switch head {
	case "CDS":
		return CDSPlaces
	case "BCD":
		return BCDPlaces
	}
	return PaisePlaces
}

// TokenPlaces returns the places of a price of a Kite instrument token,
// whose low byte is its segment code (3 CDS, 6 BCD), as Kite's wire divides.
func TokenPlaces(token uint32) int {
	switch token & 0xFF {
	case 3:
		return CDSPlaces
	case 6:
		return BCDPlaces
	}
	return PaisePlaces
}

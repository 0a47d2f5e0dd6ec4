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
	for places > 0 && v%10 == 0 {
		v /= 10
		places--
	}
	// 16 integer digits (below 2^53), a point and MaxPlaces fraction digits.
	var buf [16 + 1 + MaxPlaces]byte
	i := len(buf)
	for range places {
		i--
		buf[i] = byte('0' + v%10)
		v /= 10
	}
	if places > 0 {
		i--
		buf[i] = '.'
	}
	for {
		i--
		buf[i] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			break
		}
	}
	return append(b, buf[i:]...), true
}

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

package redispub

import (
	"math"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/steadfast-go/steadfast/internal/decimal"
	"github.com/steadfast-go/steadfast/ticker"
)

// Version is the payload version this package writes and reads (the "v"
// field).
const Version = 1

// Places of the numbers that are not prices (see the package documentation).
const (
	changePlaces = 6 // percent
	ivPlaces     = 6 // a fraction: 0.000001 is 0.0001 points of volatility
	deltaPlaces  = 6
	gammaPlaces  = 8 // per rupee, often below 0.001
	thetaPlaces  = 6 // rupees per day
	vegaPlaces   = 6 // rupees per point of volatility
)

// istOffset is India Standard Time's offset from UTC (no daylight saving).
const istOffset = 5*time.Hour + 30*time.Minute

// AppendPayload appends the JSON payload of t (version 1, described in the
// package documentation) to b and returns the extended slice. It allocates
// nothing when b has room. The instrument fields come from t.Instrument and
// are left out when it is nil.
func AppendPayload(b []byte, t *ticker.Tick) []byte {
	b = append(b, `{"v":1,"token":`...)
	b = strconv.AppendUint(b, uint64(t.Token), 10)
	in := t.Instrument
	option := in != nil && in.Kind.IsOption()
	places := pricePlaces(t)
	if in != nil {
		b = append(b, `,"symbol":`...)
		b = appendString(b, in.Symbol)
		b = append(b, `,"exchange":`...)
		b = appendString(b, in.Exchange)
		b = append(b, `,"underlying":`...)
		b = appendString(b, in.Underlying)
		b = append(b, `,"kind":"`...)
		b = append(b, in.Kind.String()...)
		b = append(b, '"')
		if option {
			b = append(b, `,"strike":`...)
			b = appendFixed(b, in.Strike, places)
		}
		if !in.Expiry.IsZero() {
			b = append(b, `,"expiry":"`...)
			b = appendISTDate(b, in.Expiry)
			b = append(b, '"')
		}
	}
	b = append(b, `,"ltp":`...)
	b = appendFixed(b, t.LastPrice, places)
	b = append(b, `,"change":`...)
	b = appendFixed(b, t.Change, changePlaces)
	b = append(b, `,"volume":`...)
	b = strconv.AppendUint(b, t.Volume, 10)
	b = append(b, `,"oi":`...)
	b = strconv.AppendUint(b, t.OpenInterest, 10)
	b = append(b, `,"bid":`...)
	b = appendFixed(b, t.Bid, places)
	b = append(b, `,"bid_qty":`...)
	b = strconv.AppendUint(b, uint64(t.BidQty), 10)
	b = append(b, `,"ask":`...)
	b = appendFixed(b, t.Ask, places)
	b = append(b, `,"ask_qty":`...)
	b = strconv.AppendUint(b, uint64(t.AskQty), 10)
	// Analytics belong to options; a tick without its instrument carries
	// them when it has any.
	if option || (in == nil && (t.IV != 0 || t.Delta != 0 || t.Gamma != 0 || t.Theta != 0 || t.Vega != 0)) {
		b = append(b, `,"iv":`...)
		b = appendFixed(b, t.IV, ivPlaces)
		b = append(b, `,"delta":`...)
		b = appendFixed(b, t.Delta, deltaPlaces)
		b = append(b, `,"gamma":`...)
		b = appendFixed(b, t.Gamma, gammaPlaces)
		b = append(b, `,"theta":`...)
		b = appendFixed(b, t.Theta, thetaPlaces)
		b = append(b, `,"vega":`...)
		b = appendFixed(b, t.Vega, vegaPlaces)
	}
	if !t.Time.IsZero() {
		b = append(b, `,"ts":"`...)
		b = appendIST(b, t.Time)
		b = append(b, '"')
	}
	if t.Epoch != 0 {
		b = append(b, `,"epoch":`...)
		b = strconv.AppendUint(b, t.Epoch, 10)
	}
	if t.Mock {
		b = append(b, `,"mock":true}`...)
	} else {
		b = append(b, `,"mock":false}`...)
	}
	return b
}

// appendIST appends t as RFC 3339 in IST with up to nine fraction digits
// (trailing zeros trimmed), e.g. 2025-12-01T10:15:30.125+05:30.
func appendIST(b []byte, t time.Time) []byte {
	t = t.UTC().Add(istOffset)
	year, month, day := t.Date()
	if year < 0 || year > 9999 {
		// Outside RFC 3339's four-digit years; time.Time's own form.
		return append(t.AppendFormat(b, "2006-01-02T15:04:05.999999999"), "+05:30"...)
	}
	hour, minute, second := t.Clock()
	b = append4(b, year)
	b = append(b, '-')
	b = append2(b, int(month))
	b = append(b, '-')
	b = append2(b, day)
	b = append(b, 'T')
	b = append2(b, hour)
	b = append(b, ':')
	b = append2(b, minute)
	b = append(b, ':')
	b = append2(b, second)
	if ns := t.Nanosecond(); ns != 0 {
		var frac [10]byte
		frac[0] = '.'
		for i := 9; i > 0; i-- {
			frac[i] = byte('0' + ns%10)
			ns /= 10
		}
		n := 10
		for frac[n-1] == '0' {
			n--
		}
		b = append(b, frac[:n]...)
	}
	return append(b, "+05:30"...)
}

// appendISTDate appends t's calendar date in IST, as time.DateOnly writes
// it.
func appendISTDate(b []byte, t time.Time) []byte {
	t = t.UTC().Add(istOffset)
	year, month, day := t.Date()
	if year < 0 || year > 9999 {
		return t.AppendFormat(b, time.DateOnly)
	}
	b = append4(b, year)
	b = append(b, '-')
	b = append2(b, int(month))
	b = append(b, '-')
	return append2(b, day)
}

// append2 appends n (0 to 99) as two digits.
func append2(b []byte, n int) []byte {
	return append(b, byte('0'+n/10), byte('0'+n%10))
}

// append4 appends n (0 to 9999) as four digits.
func append4(b []byte, n int) []byte {
	return append2(append2(b, n/100), n%100)
}

// pricePlaces returns the places of t's prices: those of its instrument's
// segment (or exchange), or, without either, of its token's segment byte.
func pricePlaces(t *ticker.Tick) int {
	if in := t.Instrument; in != nil {
		if in.Segment != "" {
			return decimal.PricePlaces(in.Segment)
		}
		if in.Exchange != "" {
			return decimal.PricePlaces(in.Exchange)
		}
	}
	return decimal.TokenPlaces(t.Token)
}

// appendFixed appends f rounded to at most places decimals, trailing zeros
// trimmed; null for NaN and ±Inf, which JSON lacks; and, for a magnitude too
// large to round exactly, the shortest form that reads back as f.
func appendFixed(b []byte, f float64, places int) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(b, "null"...)
	}
	if b2, ok := decimal.Append(b, f, places); ok {
		return b2
	}
	return appendShortest(b, f)
}

// appendShortest appends f as a JSON number in its shortest exact form, in
// exponent notation only for magnitudes below 1e-6 or from 1e21 (as
// JavaScript prints numbers).
func appendShortest(b []byte, f float64) []byte {
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// 1e-07 → 1e-7: both are JSON; the short one is what JavaScript writes.
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string: quotes, backslashes and control
// characters escaped, invalid UTF-8 replaced by U+FFFD.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

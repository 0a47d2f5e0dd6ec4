package ticker

import (
	"errors"
	"math"
	"strconv"
)

// Errors reported by this package. Match them with errors.Is: the error
// types below wrap them.
var (
	// ErrInvalidTick is wrapped by every *TickError: a tick with an
	// unusable price, a zero token or a crossed quote.
	ErrInvalidTick = errors.New("ticker: invalid tick")
)

// TickReason says why a tick is invalid. Its String form is short and
// stable, suitable as a metric label value.
type TickReason uint8

// The reasons a tick is invalid.
const (
	TickZeroToken     TickReason = iota + 1 // Token is zero
	TickNotANumber                          // a price or analytic is NaN
	TickInfinite                            // a price or analytic is ±Inf
	TickNegativePrice                       // LastPrice, Bid, Ask, IV, OHLC or AvgPrice is below zero
	TickCrossed                             // Bid above Ask, both non-zero
)

// String returns the reason's name: "zero_token", "not_a_number", "infinite",
// "negative_price" or "crossed".
func (r TickReason) String() string {
	switch r {
	case TickZeroToken:
		return "zero_token"
	case TickNotANumber:
		return "not_a_number"
	case TickInfinite:
		return "infinite"
	case TickNegativePrice:
		return "negative_price"
	case TickCrossed:
		return "crossed"
	}
	return "unknown"
}

// TickError is the error Tick.Validate returns. It wraps ErrInvalidTick.
type TickError struct {
	Token  uint32     // the tick's token
	Reason TickReason // why it is invalid
	Field  string     // the offending field, e.g. "Bid"; empty for TickZeroToken
	Value  float64    // the offending value (the bid for TickCrossed)
	Other  float64    // for TickCrossed, the ask
}

// Error describes the problem, e.g.
// "ticker: invalid tick for token 256265: Bid 101 above Ask 100".
func (e *TickError) Error() string {
	b := []byte("ticker: invalid tick for token ")
	b = strconv.AppendUint(b, uint64(e.Token), 10)
	b = append(b, ": "...)
	switch e.Reason {
	case TickZeroToken:
		b = append(b, "zero token"...)
	case TickCrossed:
		b = append(b, "Bid "...)
		b = strconv.AppendFloat(b, e.Value, 'g', -1, 64)
		b = append(b, " above Ask "...)
		b = strconv.AppendFloat(b, e.Other, 'g', -1, 64)
	default:
		b = append(b, e.Field...)
		b = append(b, " is "...)
		b = strconv.AppendFloat(b, e.Value, 'g', -1, 64)
	}
	return string(b)
}

// Unwrap returns ErrInvalidTick.
func (e *TickError) Unwrap() error { return ErrInvalidTick }

// Validate reports whether t is fit to publish. It returns a *TickError
// (wrapping ErrInvalidTick) for the first problem found, in this order: a
// zero Token; a NaN or infinite LastPrice, Bid, Ask, Change, IV, Greek, Open,
// High, Low, Close or AvgPrice; a negative LastPrice, Bid, Ask, IV, Open,
// High, Low, Close or AvgPrice; a Bid above the Ask when both are
// non-zero (a zero bid or ask means that side of the book is empty). A zero
// LastPrice is valid (no trade yet). Validate does not allocate when t is
// valid.
func (t Tick) Validate() error {
	// Fast path: x-x is 0 for a finite x and NaN for NaN or ±Inf, and a
	// comparison with NaN is false.
	if t.Token != 0 && t.LastPrice >= 0 && t.Bid >= 0 && t.Ask >= 0 && t.IV >= 0 &&
		t.LastPrice-t.LastPrice == 0 && t.Bid-t.Bid == 0 && t.Ask-t.Ask == 0 && t.IV-t.IV == 0 &&
		t.Open >= 0 && t.High >= 0 && t.Low >= 0 && t.Close >= 0 && t.AvgPrice >= 0 &&
		t.Open-t.Open == 0 && t.High-t.High == 0 && t.Low-t.Low == 0 && t.Close-t.Close == 0 &&
		t.AvgPrice-t.AvgPrice == 0 &&
		t.Change-t.Change == 0 && t.Delta-t.Delta == 0 && t.Gamma-t.Gamma == 0 &&
		t.Theta-t.Theta == 0 && t.Vega-t.Vega == 0 &&
		(t.Bid <= t.Ask || t.Bid == 0 || t.Ask == 0) {
		return nil
	}
	return t.invalid()
}

// invalid finds the first problem of a tick the fast path rejected.
func (t Tick) invalid() error {
	if t.Token == 0 {
		return &TickError{Token: t.Token, Reason: TickZeroToken}
	}
	checks := [...]struct {
		name        string
		v           float64
		nonNegative bool
	}{
		{"LastPrice", t.LastPrice, true},
		{"Bid", t.Bid, true},
		{"Ask", t.Ask, true},
		{"Change", t.Change, false},
		{"IV", t.IV, true},
		{"Delta", t.Delta, false},
		{"Gamma", t.Gamma, false},
		{"Theta", t.Theta, false},
		{"Vega", t.Vega, false},
		{"Open", t.Open, true},
		{"High", t.High, true},
		{"Low", t.Low, true},
		{"Close", t.Close, true},
		{"AvgPrice", t.AvgPrice, true},
	}
	for _, c := range checks {
		switch {
		case math.IsNaN(c.v):
			return &TickError{Token: t.Token, Reason: TickNotANumber, Field: c.name, Value: c.v}
		case math.IsInf(c.v, 0):
			return &TickError{Token: t.Token, Reason: TickInfinite, Field: c.name, Value: c.v}
		case c.nonNegative && c.v < 0:
			return &TickError{Token: t.Token, Reason: TickNegativePrice, Field: c.name, Value: c.v}
		}
	}
	if t.Bid > 0 && t.Ask > 0 && t.Bid > t.Ask {
		return &TickError{Token: t.Token, Reason: TickCrossed, Field: "Bid", Value: t.Bid, Other: t.Ask}
	}
	return nil
}

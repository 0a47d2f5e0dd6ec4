package ticker

import (
	"errors"
	"math"
	"strconv"
	"time"
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
	TickNegativePrice                       // IV, or (except for a future) LastPrice, Bid, Ask, OHLC or AvgPrice, is below zero
	TickCrossed                             // Bid above Ask, both non-zero
	TickOutOfRange                          // a price or analytic beyond ±MaxTickValue, or a time outside MinTickTime..MaxTickTime
)

// The bounds of a valid tick: what a market can carry, and what every
// consumer can compute with and encode. Kite's wire carries a price as an
// int32 of paise (at most ±21,474,836.47 rupees); the bound leaves room
// for other sources and keeps a value finite through a consumer's
// arithmetic (a price of 1e307 becomes +Inf once multiplied by 100). A
// time must have Unix nanoseconds that fit an int64 (1677-09-21 to
// 2262-04-11 UTC), so that it is encodable as JSON (a time after year
// 9999 is not) and the mock's simulated clock, which spans that range,
// stays valid.
const (
	MaxTickValue = 1e9         // the largest magnitude of a price or analytic
	MinTickTime  = -9223372036 // Unix seconds: 1677-09-21 UTC
	MaxTickTime  = 9223372036  // Unix seconds: 2262-04-11 UTC
)

// String returns the reason's name: "zero_token", "not_a_number", "infinite",
// "negative_price", "crossed" or "out_of_range".
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
	case TickOutOfRange:
		return "out_of_range"
	}
	return "unknown"
}

// TickError is the error Tick.Validate returns. It wraps ErrInvalidTick.
type TickError struct {
	Token  uint32     // the tick's token
	Reason TickReason // why it is invalid
	Field  string     // the offending field, e.g. "Bid"; empty for TickZeroToken
	Value  float64    // the offending value (the bid for TickCrossed; Unix seconds for a time)
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

// Validate reports whether t is fit to publish for an instrument of
// kind k. It returns a *TickError (wrapping ErrInvalidTick) for the first
// problem found, in this order: a zero Token; a NaN or infinite LastPrice,
// Bid, Ask, Change, IV, Greek, Open, High, Low, Close or AvgPrice; a
// negative IV, or a negative LastPrice, Bid, Ask, Open, High, Low, Close or
// AvgPrice unless k is KindFuture; any of them beyond ±MaxTickValue; a Time
// or LastTradeTime (when not zero) outside MinTickTime..MaxTickTime; a Bid
// above the Ask when both are non-zero (a zero bid or ask means that side
// of the book is empty). A zero LastPrice is valid (no trade yet).
//
// A future's price may be negative: the wire carries signed prices, and
// MCX crude oil futures settled at -37.63 on 20 April 2020. An option, an
// index or an equity cannot trade below zero. The Engine validates each
// tick with its instrument's kind; KindUnknown refuses a negative price. Validate does not allocate when t is
// valid.
func (t Tick) Validate(k Kind) error {
	// Fast path: a comparison with NaN is false, and ±Inf is beyond the
	// bounds; a negative price takes the slow path, which knows the kind.
	const m = MaxTickValue
	if t.Token != 0 && t.LastPrice >= 0 && t.LastPrice <= m && t.Bid >= 0 && t.Bid <= m &&
		t.Ask >= 0 && t.Ask <= m && t.IV >= 0 && t.IV <= m &&
		t.Open >= 0 && t.Open <= m && t.High >= 0 && t.High <= m && t.Low >= 0 && t.Low <= m &&
		t.Close >= 0 && t.Close <= m && t.AvgPrice >= 0 && t.AvgPrice <= m &&
		t.Change >= -m && t.Change <= m && t.Delta >= -m && t.Delta <= m && t.Gamma >= -m && t.Gamma <= m &&
		t.Theta >= -m && t.Theta <= m && t.Vega >= -m && t.Vega <= m &&
		tickTimeOK(t.Time) && tickTimeOK(t.LastTradeTime) &&
		(t.Bid <= t.Ask || t.Bid == 0 || t.Ask == 0) {
		return nil
	}
	return t.invalid(k)
}

// tickTimeOK reports whether a tick's time is zero or within the bounds.
func tickTimeOK(tm time.Time) bool {
	if tm.IsZero() {
		return true
	}
	s := tm.Unix()
	return s >= MinTickTime && s <= MaxTickTime
}

// invalid finds the first problem of a tick the fast path rejected, for
// an instrument of kind k; nil when there is none (a future's negative
// price).
func (t Tick) invalid(k Kind) error {
	if t.Token == 0 {
		return &TickError{Token: t.Token, Reason: TickZeroToken}
	}
	price := k != KindFuture // a price that must not be negative
	checks := [...]struct {
		name        string
		v           float64
		nonNegative bool
	}{
		{"LastPrice", t.LastPrice, price},
		{"Bid", t.Bid, price},
		{"Ask", t.Ask, price},
		{"Change", t.Change, false},
		{"IV", t.IV, true},
		{"Delta", t.Delta, false},
		{"Gamma", t.Gamma, false},
		{"Theta", t.Theta, false},
		{"Vega", t.Vega, false},
		{"Open", t.Open, price},
		{"High", t.High, price},
		{"Low", t.Low, price},
		{"Close", t.Close, price},
		{"AvgPrice", t.AvgPrice, price},
	}
	for _, c := range checks {
		switch {
		case math.IsNaN(c.v):
			return &TickError{Token: t.Token, Reason: TickNotANumber, Field: c.name, Value: c.v}
		case math.IsInf(c.v, 0):
			return &TickError{Token: t.Token, Reason: TickInfinite, Field: c.name, Value: c.v}
		case c.nonNegative && c.v < 0:
			return &TickError{Token: t.Token, Reason: TickNegativePrice, Field: c.name, Value: c.v}
		case math.Abs(c.v) > MaxTickValue:
			return &TickError{Token: t.Token, Reason: TickOutOfRange, Field: c.name, Value: c.v}
		}
	}
	for _, c := range [...]struct {
		name string
		v    time.Time
	}{{"Time", t.Time}, {"LastTradeTime", t.LastTradeTime}} {
		if !tickTimeOK(c.v) {
			return &TickError{Token: t.Token, Reason: TickOutOfRange, Field: c.name, Value: float64(c.v.Unix())}
		}
	}
	if t.Bid != 0 && t.Ask != 0 && t.Bid > t.Ask {
		return &TickError{Token: t.Token, Reason: TickCrossed, Field: "Bid", Value: t.Bid, Other: t.Ask}
	}
	return nil
}

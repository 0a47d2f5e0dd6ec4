package ticker

import "fmt"

// The enumerations of this package marshal to their String forms, so that a
// Kind or a TickReason reads as a word in JSON, logs and
// configuration files. UnmarshalText accepts exactly those words.

// MarshalText returns the kind's String form ("unknown" for KindUnknown).
func (k Kind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText sets k from its String form.
func (k *Kind) UnmarshalText(b []byte) error {
	return unmarshalEnum(b, "kind", k, []Kind{KindUnknown, KindIndex, KindEquity, KindFuture, KindCall, KindPut})
}

// MarshalText returns the reason's String form.
func (r TickReason) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// UnmarshalText sets r from its String form.
func (r *TickReason) UnmarshalText(b []byte) error {
	return unmarshalEnum(b, "tick reason", r, []TickReason{TickZeroToken, TickNotANumber, TickInfinite, TickNegativePrice, TickCrossed, TickOutOfRange})
}

// unmarshalEnum sets *dst to the value of all whose String form is b.
func unmarshalEnum[E fmt.Stringer](b []byte, what string, dst *E, all []E) error {
	for _, v := range all {
		if v.String() == string(b) {
			*dst = v
			return nil
		}
	}
	return fmt.Errorf("ticker: unknown %s %q", what, b)
}

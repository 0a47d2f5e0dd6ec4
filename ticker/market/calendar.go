package market

import (
	"fmt"
	"slices"
	"time"

	"github.com/steadfast-go/steadfast/ticker/internal/nse"
)

// Holidays is an exchange calendar's exceptions to the regular week:
// holidays, the calendar dates on which the market does not open although
// they are weekdays, and special sessions, the dates on which it opens at
// hours of their own (WithSessions). The zero value is an empty set. A
// Holidays is immutable once made, so copies may be shared and used
// concurrently.
type Holidays struct {
	days    map[nse.Day]struct{}
	special map[nse.Day]span
}

// span is a session's bounds in seconds after midnight IST: [open, close).
type span struct{ open, close int64 }

// SpecialSession declares the hours of one date, replacing the regular
// session or the closure of a weekend or holiday. Exchanges hold them for a
// Union Budget presented on a weekend (a full session on Sunday 1 February
// 2026) and for Muhurat trading on Diwali (about an hour, on a day that is
// otherwise a holiday).
type SpecialSession struct {
	// Date is the calendar date as written, read as NewHolidays reads it.
	Date time.Time
	// Open is when the session opens, as a time after midnight IST:
	// 9*time.Hour + 15*time.Minute for 09:15. Whole seconds, at least 0.
	Open time.Duration
	// Close is when it closes (the first instant it is closed), after Open
	// and at most 24 hours; whole seconds.
	Close time.Duration
}

// NewHolidays returns the set of the given dates. Each value stands for its
// calendar date as written, that is the year, month and day it reports in its
// own location: time.Date(2025, 12, 25, 0, 0, 0, 0, time.UTC) and the same
// date in IST both mean 25 December 2025. The time of day is ignored.
func NewHolidays(dates ...time.Time) Holidays {
	if len(dates) == 0 {
		return Holidays{}
	}
	return Holidays{}.With(dates...)
}

// With returns a new set holding h's dates and special sessions and the given
// dates (read as NewHolidays reads them); h is not changed. Use it to add a
// holiday announced after a built-in list such as Holidays2026.
func (h Holidays) With(dates ...time.Time) Holidays {
	out := h.clone()
	if out.days == nil {
		out.days = make(map[nse.Day]struct{}, len(dates))
	}
	for _, t := range dates {
		out.days[nse.Civil(t.Date())] = struct{}{}
	}
	return out
}

// WithSessions returns a new set holding h's dates and special sessions and
// the given sessions; h is not changed. A date given twice keeps its last
// session. A special session on a date in the set also opens the market:
// Muhurat trading falls on the Diwali holiday. WithSessions returns an error
// naming the first session whose Date is zero or whose hours are not whole
// seconds with 0 ≤ Open < Close ≤ 24h.
func (h Holidays) WithSessions(sessions ...SpecialSession) (Holidays, error) {
	for i, s := range sessions {
		switch {
		case s.Date.IsZero():
			return Holidays{}, fmt.Errorf("market: SpecialSession[%d].Date must be set", i)
		case s.Open < 0 || s.Open%time.Second != 0:
			return Holidays{}, fmt.Errorf("market: SpecialSession[%d].Open must be whole seconds, not negative, got %v", i, s.Open)
		case s.Close <= s.Open || s.Close > 24*time.Hour || s.Close%time.Second != 0:
			return Holidays{}, fmt.Errorf("market: SpecialSession[%d].Close must be whole seconds after Open (%v) and at most 24h, got %v", i, s.Open, s.Close)
		}
	}
	out := h.clone()
	if out.special == nil {
		out.special = make(map[nse.Day]span, len(sessions))
	}
	for _, s := range sessions {
		out.special[nse.Civil(s.Date.Date())] = span{int64(s.Open / time.Second), int64(s.Close / time.Second)}
	}
	return out, nil
}

// clone returns a copy of h that shares no map with it.
func (h Holidays) clone() Holidays {
	var out Holidays
	if len(h.days) > 0 {
		out.days = make(map[nse.Day]struct{}, len(h.days))
		for d := range h.days {
			out.days[d] = struct{}{}
		}
	}
	if len(h.special) > 0 {
		out.special = make(map[nse.Day]span, len(h.special))
		for d, s := range h.special {
			out.special[d] = s
		}
	}
	return out
}

// Contains reports whether the IST calendar date of the instant t is in the
// set of holidays.
func (h Holidays) Contains(t time.Time) bool { return h.has(nse.DayOf(t)) }

// Len returns the number of holidays in the set (special sessions not
// counted).
func (h Holidays) Len() int { return len(h.days) }

// Dates returns the holidays in ascending order, each at midnight IST.
func (h Holidays) Dates() []time.Time {
	ds := make([]nse.Day, 0, len(h.days))
	for d := range h.days {
		ds = append(ds, d)
	}
	slices.Sort(ds)
	loc := IST()
	out := make([]time.Time, len(ds))
	for i, d := range ds {
		out[i] = d.At(0, loc)
	}
	return out
}

// Sessions returns the special sessions in ascending order of date, each
// Date at midnight IST.
func (h Holidays) Sessions() []SpecialSession {
	ds := make([]nse.Day, 0, len(h.special))
	for d := range h.special {
		ds = append(ds, d)
	}
	slices.Sort(ds)
	loc := IST()
	out := make([]SpecialSession, len(ds))
	for i, d := range ds {
		s := h.special[d]
		out[i] = SpecialSession{Date: d.At(0, loc), Open: time.Duration(s.open) * time.Second, Close: time.Duration(s.close) * time.Second}
	}
	return out
}

func (h Holidays) has(d nse.Day) bool {
	_, ok := h.days[d]
	return ok
}

// session returns the session of day d: its special session, or the
// regular one on a weekday that is not a holiday; ok is false when the
// market does not open on d.
func (h Holidays) session(d nse.Day) (s span, ok bool) {
	if s, ok := h.special[d]; ok {
		return s, true
	}
	if d.Weekend() || h.has(d) {
		return span{}, false
	}
	return span{nse.SessionOpen, nse.SessionClose}, true
}

// trading reports whether the market opens on d.
func (h Holidays) trading(d nse.Day) bool {
	_, ok := h.session(d)
	return ok
}

// expiryDay reports whether contracts may expire on d: a Monday to Friday
// whose session closes at the regular 15:30, the instant in an Instrument's
// Expiry. So an expiry never moves onto a weekend session, nor onto a
// holiday that only has a Muhurat session.
func (h Holidays) expiryDay(d nse.Day) bool {
	s, ok := h.session(d)
	return ok && !d.Weekend() && s.close == nse.SessionClose
}

// maxClosedRun bounds a run of consecutive days that are not expiry days: a
// run of L days holds at most 2(L+5)/7 weekend days, and every other day of
// it is a holiday or a special session, so L ≤ 1.4(n+2) < 2n+3.
func (h Holidays) maxClosedRun() int { return 2*(len(h.days)+len(h.special)) + 3 }

// is reports whether d is a trading day, or an expiry day when expiry is
// set.
func (h Holidays) is(d nse.Day, expiry bool) bool {
	if expiry {
		return h.expiryDay(d)
	}
	return h.trading(d)
}

// onOrBefore returns the last trading day (expiry day when expiry is set)
// on or before d.
func (h Holidays) onOrBefore(d nse.Day, expiry bool) nse.Day {
	for i := h.maxClosedRun(); i > 0 && !h.is(d, expiry); i-- {
		d--
	}
	return d
}

// onOrAfter returns the first trading day (expiry day when expiry is set)
// on or after d.
func (h Holidays) onOrAfter(d nse.Day, expiry bool) nse.Day {
	for i := h.maxClosedRun(); i > 0 && !h.is(d, expiry); i-- {
		d++
	}
	return d
}

// TradingDay reports whether the market opens on the IST calendar date of
// t: a Monday to Friday that is not a holiday in h, or a date with a special
// session in h (Sunday 1 February 2026 in Holidays2026).
func TradingDay(t time.Time, h Holidays) bool { return h.trading(nse.DayOf(t)) }

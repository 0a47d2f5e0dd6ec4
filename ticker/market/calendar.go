package market

import (
	"slices"
	"time"

	"github.com/steadfast-go/steadfast/ticker/internal/nse"
)

// Holidays is a set of exchange holidays: calendar dates on which the market
// does not open although they are weekdays. The zero value is an empty set.
// A Holidays is immutable once made, so copies may be shared and used
// concurrently.
type Holidays struct {
	days map[nse.Day]struct{}
}

// NewHolidays returns the set of the given dates. Each value stands for its
// calendar date as written, that is the year, month and day it reports in its
// own location: time.Date(2025, 12, 25, 0, 0, 0, 0, time.UTC) and the same
// date in IST both mean 25 December 2025. The time of day is ignored.
func NewHolidays(dates ...time.Time) Holidays {
	if len(dates) == 0 {
		return Holidays{}
	}
	h := Holidays{days: make(map[nse.Day]struct{}, len(dates))}
	for _, t := range dates {
		h.days[nse.Civil(t.Date())] = struct{}{}
	}
	return h
}

// With returns a new set holding h's dates and the given ones (read as
// NewHolidays reads them); h is not changed. Use it to add a holiday
// announced after a built-in list such as Holidays2026.
func (h Holidays) With(dates ...time.Time) Holidays {
	out := Holidays{days: make(map[nse.Day]struct{}, len(h.days)+len(dates))}
	for d := range h.days {
		out.days[d] = struct{}{}
	}
	for _, t := range dates {
		out.days[nse.Civil(t.Date())] = struct{}{}
	}
	return out
}

// Contains reports whether the IST calendar date of the instant t is in the
// set.
func (h Holidays) Contains(t time.Time) bool { return h.has(nse.DayOf(t)) }

// Len returns the number of dates in the set.
func (h Holidays) Len() int { return len(h.days) }

// Dates returns the dates in the set in ascending order, each at midnight IST.
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

func (h Holidays) has(d nse.Day) bool {
	_, ok := h.days[d]
	return ok
}

// trading reports whether d is a weekday and not a holiday.
func (h Holidays) trading(d nse.Day) bool { return !d.Weekend() && !h.has(d) }

// maxClosedRun bounds a run of consecutive non-trading days: a run of L days
// holds at most 2(L+5)/7 weekend days, so L ≤ 1.4(holidays+2) < 2·holidays+3.
func (h Holidays) maxClosedRun() int { return 2*len(h.days) + 3 }

// onOrBefore returns the last trading day on or before d.
func (h Holidays) onOrBefore(d nse.Day) nse.Day {
	for i := h.maxClosedRun(); i > 0 && !h.trading(d); i-- {
		d--
	}
	return d
}

// onOrAfter returns the first trading day on or after d.
func (h Holidays) onOrAfter(d nse.Day) nse.Day {
	for i := h.maxClosedRun(); i > 0 && !h.trading(d); i-- {
		d++
	}
	return d
}

// TradingDay reports whether the IST calendar date of t is a trading day: a
// Monday to Friday that is not in h.
func TradingDay(t time.Time, h Holidays) bool { return h.trading(nse.DayOf(t)) }

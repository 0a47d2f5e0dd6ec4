package ticker

import (
	"slices"
	"time"
)

// daySeconds is the length of a calendar day in IST, which has no daylight
// saving time.
const daySeconds = 24 * 60 * 60

// calDay numbers an IST calendar date: the number of days since 1970-01-01.
// The calendar code works on day numbers so that it needs no time zone
// database and allocates nothing.
type calDay int64

// dayOf returns the IST calendar date of the instant t.
func dayOf(t time.Time) calDay {
	s := t.Unix() + istOffset
	d := s / daySeconds
	if s%daySeconds < 0 {
		d--
	}
	return calDay(d)
}

// secondOfDay returns how many whole seconds of its IST day have passed at t.
func secondOfDay(t time.Time) int64 {
	s := (t.Unix() + istOffset) % daySeconds
	if s < 0 {
		s += daySeconds
	}
	return s
}

// civilDay returns the day number of the date y-m-d (normalised as
// time.Date normalises).
func civilDay(y int, m time.Month, d int) calDay {
	return calDay(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / daySeconds)
}

// weekday returns d's day of the week. 1970-01-01 was a Thursday.
func (d calDay) weekday() time.Weekday {
	w := (int64(d) + int64(time.Thursday)) % 7
	if w < 0 {
		w += 7
	}
	return time.Weekday(w)
}

// date returns d's year, month and day of the month.
func (d calDay) date() (int, time.Month, int) {
	return time.Unix(int64(d)*daySeconds, 0).UTC().Date()
}

// at returns the instant sec seconds after midnight IST on d, in loc.
func (d calDay) at(sec int64, loc *time.Location) time.Time {
	return time.Unix(int64(d)*daySeconds-istOffset+sec, 0).In(loc)
}

// weekend reports whether d is a Saturday or a Sunday.
func (d calDay) weekend() bool {
	w := d.weekday()
	return w == time.Saturday || w == time.Sunday
}

// Holidays is a set of exchange holidays: calendar dates on which the market
// does not open although they are weekdays. The zero value is an empty set.
// A Holidays is immutable once made, so copies may be shared and used
// concurrently.
type Holidays struct {
	days map[calDay]struct{}
}

// NewHolidays returns the set of the given dates. Each value stands for its
// calendar date as written, that is the year, month and day it reports in its
// own location: time.Date(2025, 12, 25, 0, 0, 0, 0, time.UTC) and the same
// date in IST both mean 25 December 2025. The time of day is ignored.
func NewHolidays(dates ...time.Time) Holidays {
	if len(dates) == 0 {
		return Holidays{}
	}
	h := Holidays{days: make(map[calDay]struct{}, len(dates))}
	for _, t := range dates {
		h.days[civilDay(t.Date())] = struct{}{}
	}
	return h
}

// With returns a new set holding h's dates and the given ones (read as
// NewHolidays reads them); h is not changed. Use it to add a holiday
// announced after a built-in list such as NSEHolidays2026.
func (h Holidays) With(dates ...time.Time) Holidays {
	out := Holidays{days: make(map[calDay]struct{}, len(h.days)+len(dates))}
	for d := range h.days {
		out.days[d] = struct{}{}
	}
	for _, t := range dates {
		out.days[civilDay(t.Date())] = struct{}{}
	}
	return out
}

// Contains reports whether the IST calendar date of the instant t is in the
// set.
func (h Holidays) Contains(t time.Time) bool { return h.has(dayOf(t)) }

// Len returns the number of dates in the set.
func (h Holidays) Len() int { return len(h.days) }

// Dates returns the dates in the set in ascending order, each at midnight IST.
func (h Holidays) Dates() []time.Time {
	ds := make([]calDay, 0, len(h.days))
	for d := range h.days {
		ds = append(ds, d)
	}
	slices.Sort(ds)
	loc := IST()
	out := make([]time.Time, len(ds))
	for i, d := range ds {
		out[i] = d.at(0, loc)
	}
	return out
}

func (h Holidays) has(d calDay) bool {
	_, ok := h.days[d]
	return ok
}

// trading reports whether d is a weekday and not a holiday.
func (h Holidays) trading(d calDay) bool { return !d.weekend() && !h.has(d) }

// maxClosedRun bounds a run of consecutive non-trading days: a run of L days
// holds at most 2(L+5)/7 weekend days, so L ≤ 1.4(holidays+2) < 2·holidays+3.
func (h Holidays) maxClosedRun() int { return 2*len(h.days) + 3 }

// onOrBefore returns the last trading day on or before d.
func (h Holidays) onOrBefore(d calDay) calDay {
	for i := h.maxClosedRun(); i > 0 && !h.trading(d); i-- {
		d--
	}
	return d
}

// onOrAfter returns the first trading day on or after d.
func (h Holidays) onOrAfter(d calDay) calDay {
	for i := h.maxClosedRun(); i > 0 && !h.trading(d); i-- {
		d++
	}
	return d
}

// TradingDay reports whether the IST calendar date of t is a trading day: a
// Monday to Friday that is not in h.
func TradingDay(t time.Time, h Holidays) bool { return h.trading(dayOf(t)) }

// Package nse holds the calendar arithmetic and the synthetic contract
// tokens that ticker/market and ticker/mock share: IST day numbers, the
// regular session's bounds, and the hash that gives a synthetic contract its
// token. It is internal so that neither package exports these helpers.
package nse

import "time"

// ISTOffset is India Standard Time's offset from UTC, in seconds. India
// keeps no daylight saving time, so a fixed zone is exact and needs no tzdata
// on the machine.
const ISTOffset = 5*60*60 + 30*60

// DaySeconds is the length of a calendar day in IST, which has no daylight
// saving time.
const DaySeconds = 24 * 60 * 60

// The regular session in seconds after midnight IST: 09:15 to 15:30.
const (
	SessionOpen  = 9*60*60 + 15*60
	SessionClose = 15*60*60 + 30*60
)

// Day numbers an IST calendar date: the number of days since 1970-01-01.
// The calendar code works on day numbers so that it needs no time zone
// database and allocates nothing.
type Day int64

// DayOf returns the IST calendar date of the instant t.
func DayOf(t time.Time) Day {
	s := t.Unix() + ISTOffset
	d := s / DaySeconds
	if s%DaySeconds < 0 {
		d--
	}
	return Day(d)
}

// SecondOfDay returns how many whole seconds of its IST day have passed at t.
func SecondOfDay(t time.Time) int64 {
	s := (t.Unix() + ISTOffset) % DaySeconds
	if s < 0 {
		s += DaySeconds
	}
	return s
}

// Civil returns the day number of the date y-m-d (normalised as time.Date
// normalises).
func Civil(y int, m time.Month, d int) Day {
	return Day(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / DaySeconds)
}

// Weekday returns d's day of the week. 1970-01-01 was a Thursday.
func (d Day) Weekday() time.Weekday {
	w := (int64(d) + int64(time.Thursday)) % 7
	if w < 0 {
		w += 7
	}
	return time.Weekday(w)
}

// Date returns d's year, month and day of the month.
func (d Day) Date() (int, time.Month, int) {
	return time.Unix(int64(d)*DaySeconds, 0).UTC().Date()
}

// At returns the instant sec seconds after midnight IST on d, in loc.
func (d Day) At(sec int64, loc *time.Location) time.Time {
	return time.Unix(int64(d)*DaySeconds-ISTOffset+sec, 0).In(loc)
}

// Weekend reports whether d is a Saturday or a Sunday.
func (d Day) Weekend() bool {
	w := d.Weekday()
	return w == time.Saturday || w == time.Sunday
}

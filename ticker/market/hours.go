package market

import (
	"time"

	"github.com/steadfast-go/steadfast/ticker/internal/nse"
)

// IST returns the Asia/Kolkata time zone (UTC+05:30) in which exchange dates
// and market hours are expressed. India keeps no daylight saving time, so a
// fixed zone is exact and needs no tzdata on the machine.
func IST() *time.Location { return time.FixedZone("IST", nse.ISTOffset) }

// Hours is the NSE trading calendar: the regular session runs from
// 09:15 (inclusive) to 15:30 (exclusive) IST on trading days, which are
// Mondays to Fridays that are not in Holidays; a special session of
// Holidays (WithSessions) replaces the day's hours, on a weekend or a
// holiday too. The zero value knows no holidays. It is a plain value, safe
// for concurrent use.
type Hours struct {
	Holidays Holidays
}

// Open reports whether the market is open at now: in the session of now's
// IST date, at or after its opening and before its close.
func (m Hours) Open(now time.Time) bool {
	s, ok := m.Holidays.session(nse.DayOf(now))
	sec := nse.SecondOfDay(now)
	return ok && sec >= s.open && sec < s.close
}

// Session returns the opening and the close (the first instant closed) of
// the session on the IST calendar date of t, in IST; ok is false when the
// market does not open that day.
func (m Hours) Session(t time.Time) (open, close time.Time, ok bool) {
	d := nse.DayOf(t)
	s, ok := m.Holidays.session(d)
	if !ok {
		return time.Time{}, time.Time{}, false
	}
	loc := IST()
	return d.At(s.open, loc), d.At(s.close, loc), true
}

// NextOpen returns the first session opening strictly after now, in IST.
// While the market is open (and at the opening itself) that is the next
// trading day's opening, so a loop that waits for NextOpen always moves
// forward.
func (m Hours) NextOpen(now time.Time) time.Time {
	return m.next(now, func(s span) int64 { return s.open })
}

// NextClose returns the first session close strictly after now, in IST:
// today's close while the market is open, otherwise the close of the next
// session to open.
func (m Hours) NextClose(now time.Time) time.Time {
	return m.next(now, func(s span) int64 { return s.close })
}

// next returns the first instant strictly after now that is the edge of a
// session that edge picks.
func (m Hours) next(now time.Time, edge func(span) int64) time.Time {
	h := m.Holidays
	d := nse.DayOf(now)
	if s, ok := h.session(d); !ok || edge(s) <= nse.SecondOfDay(now) {
		// Strictly after: at the edge itself, or later, today's is not next.
		d = h.onOrAfter(d+1, false)
	}
	s, _ := h.session(d)
	return d.At(edge(s), IST())
}

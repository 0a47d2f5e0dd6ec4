package market

import (
	"time"

	"github.com/steadfast-go/steadfast/ticker/internal/nse"
)

// The regular session in seconds after midnight IST: 09:15 to 15:30.
const (
	sessionOpen  = 9*60*60 + 15*60
	sessionClose = 15*60*60 + 30*60
)

// IST returns the Asia/Kolkata time zone (UTC+05:30) in which exchange dates
// and market hours are expressed. India keeps no daylight saving time, so a
// fixed zone is exact and needs no tzdata on the machine.
func IST() *time.Location { return time.FixedZone("IST", nse.ISTOffset) }

// Hours is the NSE trading calendar: the regular session runs from
// 09:15 (inclusive) to 15:30 (exclusive) IST on trading days, which are
// Mondays to Fridays that are not in Holidays. The zero value knows no
// holidays. It is a plain value, safe for concurrent use.
type Hours struct {
	Holidays Holidays
}

// Open reports whether the market is open at now: a trading day, at or after
// 09:15:00 and before 15:30:00 IST.
func (m Hours) Open(now time.Time) bool {
	s := nse.SecondOfDay(now)
	return s >= nse.SessionOpen && s < nse.SessionClose && m.Holidays.trading(nse.DayOf(now))
}

// NextOpen returns the first session opening strictly after now, in IST.
// While the market is open (and at 09:15:00 itself) that is the next trading
// day's opening, so a loop that waits for NextOpen always moves forward.
func (m Hours) NextOpen(now time.Time) time.Time {
	return m.next(now, nse.SessionOpen)
}

// NextClose returns the first session close strictly after now, in IST:
// today's 15:30 while the market is open, otherwise the close of the next
// session to open.
func (m Hours) NextClose(now time.Time) time.Time {
	return m.next(now, nse.SessionClose)
}

// next returns the first instant strictly after now that lies at sec
// seconds after midnight IST on a trading day.
func (m Hours) next(now time.Time, sec int64) time.Time {
	d := nse.DayOf(now)
	if s := nse.SecondOfDay(now); s >= sec {
		// Strictly after: at sec itself, or later, today's is not next.
		d++
	}
	return m.Holidays.onOrAfter(d).At(sec, IST())
}

package ticker

import "time"

// The regular session in seconds after midnight IST: 09:15 to 15:30.
const (
	sessionOpen  = 9*60*60 + 15*60
	sessionClose = 15*60*60 + 30*60
)

// MarketHours is the NSE trading calendar: the regular session runs from
// 09:15 (inclusive) to 15:30 (exclusive) IST on trading days, which are
// Mondays to Fridays that are not in Holidays. The zero value knows no
// holidays. It is a plain value, safe for concurrent use.
type MarketHours struct {
	Holidays Holidays
}

// Open reports whether the market is open at now: a trading day, at or after
// 09:15:00 and before 15:30:00 IST.
func (m MarketHours) Open(now time.Time) bool {
	s := secondOfDay(now)
	return s >= sessionOpen && s < sessionClose && m.Holidays.trading(dayOf(now))
}

// NextOpen returns the first session opening strictly after now, in IST.
// While the market is open (and at 09:15:00 itself) that is the next trading
// day's opening, so a loop that waits for NextOpen always moves forward.
func (m MarketHours) NextOpen(now time.Time) time.Time {
	return m.next(now, sessionOpen)
}

// NextClose returns the first session close strictly after now, in IST:
// today's 15:30 while the market is open, otherwise the close of the next
// session to open.
func (m MarketHours) NextClose(now time.Time) time.Time {
	return m.next(now, sessionClose)
}

// next returns the first instant strictly after now that lies at sec
// seconds after midnight IST on a trading day.
func (m MarketHours) next(now time.Time, sec int64) time.Time {
	d := dayOf(now)
	if s := secondOfDay(now); s >= sec {
		// Strictly after: at sec itself, or later, today's is not next.
		d++
	}
	return m.Holidays.onOrAfter(d).at(sec, IST())
}

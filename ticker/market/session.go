package market

import (
	"math"
	"time"

	"github.com/steadfast-go/steadfast/ticker/internal/nse"
)

// sessionSeconds is the length of the regular session: 6 h 15 min.
const sessionSeconds = nse.SessionClose - nse.SessionOpen

// The trading-time variance clock: a year of 252 trading days, of which
// each day's variance falls 0.2 at the open (the overnight gap) and 0.8 over
// the session.
const (
	tradingDaysPerYear = 252
	overnightShare     = 0.2
)

// maxVarianceDays bounds the days tradingDays walks one by one; beyond it the
// weekdays are counted arithmetically and holidays ignored (a gap of decades
// between two steps of the mock).
const maxVarianceDays = 4000

// tradingDays returns the trading-time variance elapsed from a to b, in
// trading days: each session contributes (1−overnight) in proportion to the
// part of it inside [a, b], measured against the regular session's length,
// and each session opening in (a, b] contributes overnight, the gap since
// the previous close. A full regular session counts 1 whatever the weekend
// or holidays before it. It returns 0 when b is not after a.
func tradingDays(a, b time.Time, h Holidays, overnight float64) float64 {
	if !b.After(a) {
		return 0
	}
	da, db := nse.DayOf(a), nse.DayOf(b)
	if db-da > maxVarianceDays {
		weekdays := float64(db-da) * 5 / 7
		return weekdays
	}
	sa, sb := nse.SecondOfDay(a), nse.SecondOfDay(b)
	var v float64
	for d := da; d <= db; d++ {
		s, ok := h.session(d)
		if !ok {
			continue
		}
		lo, hi := int64(0), int64(nse.DaySeconds)
		if d == da {
			lo = sa
		}
		if d == db {
			hi = sb
		}
		// The opening gap counts when the open lies in (a, b].
		if lo < s.open && s.open <= hi {
			v += overnight
		}
		if in := min(hi, s.close) - max(lo, s.open); in > 0 {
			v += (1 - overnight) * float64(in) / sessionSeconds
		}
	}
	return v
}

// TradingYears returns the time from a to b on the trading-time variance
// clock the mock source uses, in years of 252 trading days: each session
// counts 0.8 of a day in proportion to the part of it inside [a, b] (a
// special session in proportion to its length against the regular 6 h 15
// min), and each opening in (a, b] counts the remaining 0.2,
// the overnight share of a day's variance paid as a gap at the open; time
// outside sessions counts nothing. A full trading day counts 1/252 of a
// year, whatever the weekend or holidays before it. The mock's quoted IV is
// a volatility in these years: an option's price is Black–Scholes with total
// variance IV²·TradingYears(now, expiry close) and calendar-time discounting.
func TradingYears(a, b time.Time, h Holidays) float64 {
	return tradingDays(a, b, h, overnightShare) / tradingDaysPerYear
}

// ReplayStart returns where a replay of the market should start at now: now
// itself while the market is open, otherwise the opening of the latest
// session that has already opened (today's after its close, the previous
// trading day's before today's open or on a closed day). A demo shown
// outside market hours replays that session on a SessionClock.
func (m Hours) ReplayStart(now time.Time) time.Time {
	if m.Open(now) {
		return now
	}
	h := m.Holidays
	d := nse.DayOf(now)
	if s, ok := h.session(d); !ok || nse.SecondOfDay(now) < s.open {
		d = h.onOrBefore(d-1, false)
	}
	s, _ := h.session(d)
	return d.At(s.open, IST())
}

// SessionClock returns a simulated clock for mock.Config.Now that replays
// market sessions: it starts at ReplayStart(at) and moves speed times as
// fast as the wall clock (time.Now) from the moment SessionClock is called,
// counting session time only: on reaching a session's close it continues at
// the next session's open, so a mock driven by it always has a session to
// trade in. speed below or equal to zero, or NaN, means 1 (real time).
//
// Outside market hours, SessionClock(time.Now(), hours, 60) replays the
// latest session from its open at a minute per second. The clock is safe for
// concurrent use.
func SessionClock(at time.Time, hours Hours, speed float64) func() time.Time {
	if !(speed > 0) || math.IsInf(speed, 0) {
		speed = 1
	}
	start := hours.ReplayStart(at)
	wall := time.Now()
	return func() time.Time {
		elapsed := time.Duration(float64(time.Since(wall)) * speed)
		return hours.addSessionTime(start, elapsed)
	}
}

// addSessionTime returns the instant reached from t (in a session) after d
// of session time, skipping from each close to the next open. The instant is
// before the close it reaches: a session's last instant is followed by the
// next session's open.
func (m Hours) addSessionTime(t time.Time, d time.Duration) time.Time {
	loc := IST()
	for i := 0; i < 100000; i++ {
		day := nse.DayOf(t)
		s, _ := m.Holidays.session(day)
		end := day.At(s.close, loc)
		left := end.Sub(t)
		if d < left {
			return t.Add(d).In(loc)
		}
		d -= left
		t = m.NextOpen(t)
	}
	return t
}

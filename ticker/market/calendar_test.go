package market

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/steadfast-go/steadfast/ticker/internal/nse"
	"github.com/stretchr/testify/require"
)

// ymd returns midnight IST on y-m-d.
func ymd(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, IST()) }

// ymdhms returns hh:mm:ss IST on y-m-d.
func ymdhms(y int, m time.Month, d, hh, mm, ss int) time.Time {
	return time.Date(y, m, d, hh, mm, ss, 0, IST())
}

func TestDayOf(t *testing.T) {
	tests := []struct {
		name string
		t    time.Time
		want nse.Day
	}{
		{"epoch IST midnight", ymd(1970, 1, 1), 0},
		{"epoch UTC midnight is 05:30 IST", time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC), 0},
		{"23:59:59 IST", ymdhms(1970, 1, 1, 23, 59, 59), 0},
		{"18:30 UTC is next IST day", time.Date(1970, 1, 1, 18, 30, 0, 0, time.UTC), 1},
		{"18:29:59 UTC is same IST day", time.Date(1970, 1, 1, 18, 29, 59, 0, time.UTC), 0},
		{"before the epoch", ymdhms(1969, 12, 31, 23, 0, 0), -1},
		{"recent", ymd(2025, 12, 25), nse.Civil(2025, 12, 25)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, nse.DayOf(tt.t))
		})
	}
	require.Equal(t, time.Wednesday, nse.Civil(1969, 12, 31).Weekday())
	require.Equal(t, time.Thursday, nse.Civil(2025, 12, 25).Weekday())
	require.Equal(t, int64(3600), nse.SecondOfDay(ymdhms(2025, 1, 1, 1, 0, 0)))
	require.Equal(t, int64(86399), nse.SecondOfDay(ymdhms(1969, 12, 31, 23, 59, 59)))
	y, m, d := nse.Civil(2024, 2, 29).Date()
	require.Equal(t, []int{2024, 2, 29}, []int{y, int(m), d})
}

func TestHolidays(t *testing.T) {
	var zero Holidays
	require.Equal(t, 0, zero.Len())
	require.False(t, zero.Contains(ymd(2025, 12, 25)))
	require.Empty(t, zero.Dates())

	h := NewHolidays(
		time.Date(2025, 12, 25, 0, 0, 0, 0, time.UTC), // as written: 25 Dec
		ymd(2025, 10, 21),
		time.Date(2025, 8, 15, 23, 0, 0, 0, time.UTC), // time of day ignored: 15 Aug
		ymd(2025, 10, 21), // repeated
	)
	require.Equal(t, 3, h.Len())
	require.Equal(t, []time.Time{ymd(2025, 8, 15), ymd(2025, 10, 21), ymd(2025, 12, 25)}, h.Dates())

	tests := []struct {
		name    string
		t       time.Time
		holiday bool
		trading bool
	}{
		{"holiday in IST", ymdhms(2025, 12, 25, 10, 0, 0), true, false},
		{"holiday's first second", ymdhms(2025, 12, 25, 0, 0, 0), true, false},
		{"eve's last second", ymdhms(2025, 12, 24, 23, 59, 59), false, true},
		{"instant given in UTC, IST date is the holiday", time.Date(2025, 12, 24, 20, 0, 0, 0, time.UTC), true, false},
		{"instant given in UTC, IST date is after", time.Date(2025, 12, 25, 19, 0, 0, 0, time.UTC), false, true},
		{"saturday", ymd(2025, 12, 27), false, false},
		{"sunday", ymd(2025, 12, 28), false, false},
		{"monday", ymd(2025, 12, 29), false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.holiday, h.Contains(tt.t))
			require.Equal(t, tt.trading, TradingDay(tt.t, h))
		})
	}
}

func TestHolidaysOnOrBeforeAfter(t *testing.T) {
	// A long closure: every weekday from 2025-12-22 to 2026-01-09.
	var dates []time.Time
	for d := ymd(2025, 12, 22); d.Before(ymd(2026, 1, 10)); d = d.AddDate(0, 0, 1) {
		dates = append(dates, d)
	}
	h := NewHolidays(dates...)
	for _, expiry := range []bool{false, true} {
		require.Equal(t, nse.Civil(2025, 12, 19), h.onOrBefore(nse.Civil(2026, 1, 6), expiry))
		require.Equal(t, nse.Civil(2026, 1, 12), h.onOrAfter(nse.Civil(2025, 12, 20), expiry))
		require.Equal(t, nse.Civil(2026, 1, 12), h.onOrAfter(nse.Civil(2026, 1, 12), expiry))
		require.Equal(t, nse.Civil(2025, 12, 19), h.onOrBefore(nse.Civil(2025, 12, 19), expiry))
	}
}

// TestBudgetSunday2026: NSE and BSE held a full session on Sunday 1
// February 2026, the day of the Union Budget (NSE circular of 16 January
// 2026: normal market 09:15 to 15:30).
func TestBudgetSunday2026(t *testing.T) {
	h := Holidays2026()
	require.True(t, TradingDay(ymdhms(2026, 2, 1, 12, 0, 0), h))
	require.False(t, TradingDay(ymdhms(2026, 1, 31, 12, 0, 0), h), "the Saturday before stays closed")
	require.False(t, TradingDay(ymdhms(2026, 2, 8, 12, 0, 0), h), "the Sunday after stays closed")

	m := Hours{Holidays: h}
	require.False(t, m.Open(ymdhms(2026, 2, 1, 9, 14, 59)))
	require.True(t, m.Open(ymdhms(2026, 2, 1, 9, 15, 0)))
	require.True(t, m.Open(ymdhms(2026, 2, 1, 15, 29, 59)))
	require.False(t, m.Open(ymdhms(2026, 2, 1, 15, 30, 0)))
	fri := ymdhms(2026, 1, 30, 16, 0, 0)
	require.True(t, ymdhms(2026, 2, 1, 9, 15, 0).Equal(m.NextOpen(fri)), "%v", m.NextOpen(fri))
	require.True(t, ymdhms(2026, 2, 1, 15, 30, 0).Equal(m.NextClose(fri)), "%v", m.NextClose(fri))
	require.True(t, ymdhms(2026, 2, 2, 9, 15, 0).Equal(m.NextOpen(ymdhms(2026, 2, 1, 10, 0, 0))))
	require.True(t, ymdhms(2026, 2, 1, 9, 15, 0).Equal(m.ReplayStart(ymdhms(2026, 2, 1, 20, 0, 0))))
	require.True(t, ymdhms(2026, 2, 1, 9, 15, 0).Equal(m.ReplayStart(ymdhms(2026, 2, 2, 8, 0, 0))))

	// On the variance clock the Sunday is a trading day like any other.
	day := 1.0 / 252
	require.InDelta(t, 1.2*day, TradingYears(ymdhms(2026, 1, 30, 15, 30, 0), ymdhms(2026, 2, 2, 9, 15, 0), h), 1e-12)

	// Expiries do not move onto it: the NIFTY weekly of Tuesday 3 February
	// stays there.
	es := Expiries(NIFTY(), ymdhms(2026, 1, 30, 16, 0, 0), 1, h)
	require.True(t, ymdhms(2026, 2, 3, 15, 30, 0).Equal(es[0]), "%v", es[0])
}

// muhurat2025 is the Diwali holiday of 21 October 2025 with its Muhurat
// session, 13:45 to 14:45 IST.
func muhurat2025(t *testing.T) Holidays {
	t.Helper()
	h, err := NewHolidays(ymd(2025, 10, 21)).WithSessions(SpecialSession{
		Date: time.Date(2025, 10, 21, 0, 0, 0, 0, time.UTC), Open: 13*time.Hour + 45*time.Minute, Close: 14*time.Hour + 45*time.Minute,
	})
	require.NoError(t, err)
	return h
}

func TestMuhuratSession(t *testing.T) {
	h := muhurat2025(t)
	require.True(t, h.Contains(ymdhms(2025, 10, 21, 14, 0, 0)), "still a holiday")
	require.True(t, TradingDay(ymdhms(2025, 10, 21, 14, 0, 0), h), "with a session")
	require.Equal(t, []SpecialSession{{Date: ymd(2025, 10, 21), Open: 13*time.Hour + 45*time.Minute, Close: 14*time.Hour + 45*time.Minute}}, h.Sessions())

	m := Hours{Holidays: h}
	for _, tt := range []struct {
		at   time.Time
		open bool
	}{
		{ymdhms(2025, 10, 21, 9, 15, 0), false},
		{ymdhms(2025, 10, 21, 13, 44, 59), false},
		{ymdhms(2025, 10, 21, 13, 45, 0), true},
		{ymdhms(2025, 10, 21, 14, 44, 59), true},
		{ymdhms(2025, 10, 21, 14, 45, 0), false},
	} {
		require.Equal(t, tt.open, m.Open(tt.at), "%v", tt.at)
	}
	eve := ymdhms(2025, 10, 20, 16, 0, 0)
	require.True(t, ymdhms(2025, 10, 21, 13, 45, 0).Equal(m.NextOpen(eve)))
	require.True(t, ymdhms(2025, 10, 21, 14, 45, 0).Equal(m.NextClose(eve)))
	require.True(t, ymdhms(2025, 10, 21, 14, 45, 0).Equal(m.NextClose(ymdhms(2025, 10, 21, 14, 0, 0))))
	require.True(t, ymdhms(2025, 10, 22, 9, 15, 0).Equal(m.NextOpen(ymdhms(2025, 10, 21, 14, 0, 0))))
	require.True(t, ymdhms(2025, 10, 21, 13, 45, 0).Equal(m.ReplayStart(ymdhms(2025, 10, 21, 20, 0, 0))))
	require.True(t, ymdhms(2025, 10, 20, 9, 15, 0).Equal(m.ReplayStart(ymdhms(2025, 10, 21, 12, 0, 0))), "before the Muhurat opens")
	open, cls, ok := m.Session(ymdhms(2025, 10, 21, 3, 0, 0))
	require.True(t, ok)
	require.True(t, ymdhms(2025, 10, 21, 13, 45, 0).Equal(open))
	require.True(t, ymdhms(2025, 10, 21, 14, 45, 0).Equal(cls))
	_, _, ok = m.Session(ymd(2025, 10, 25))
	require.False(t, ok, "a Saturday")

	// An hour's session counts an hour of variance and its opening gap.
	day := 1.0 / 252
	got := TradingYears(ymdhms(2025, 10, 20, 15, 30, 0), ymdhms(2025, 10, 21, 23, 0, 0), h)
	require.InDelta(t, (0.2+0.8*60/375)*day, got, 1e-12)

	// A session clock walks from the Muhurat hour to the next day's open.
	require.True(t, ymdhms(2025, 10, 22, 9, 15, 0).Equal(m.addSessionTime(ymdhms(2025, 10, 21, 14, 30, 0), 15*time.Minute)))

	// No expiry moves onto the Muhurat hour: a Tuesday expiry on the
	// holiday moves to Monday.
	es := Expiries(NIFTY(), ymdhms(2025, 10, 20, 10, 0, 0), 1, h)
	require.True(t, ymdhms(2025, 10, 20, 15, 30, 0).Equal(es[0]), "%v", es[0])
}

func TestWithSessions(t *testing.T) {
	base := NewHolidays(ymd(2026, 3, 3))
	d := ymd(2026, 2, 1)
	for _, tt := range []struct {
		s    SpecialSession
		want string
	}{
		{SpecialSession{Open: time.Hour, Close: 2 * time.Hour}, "SpecialSession[0].Date must be set"},
		{SpecialSession{Date: d, Open: -time.Second, Close: time.Hour}, "SpecialSession[0].Open"},
		{SpecialSession{Date: d, Open: time.Hour + time.Millisecond, Close: 2 * time.Hour}, "SpecialSession[0].Open must be whole seconds"},
		{SpecialSession{Date: d, Open: 2 * time.Hour, Close: 2 * time.Hour}, "SpecialSession[0].Close must be whole seconds after Open"},
		{SpecialSession{Date: d, Open: 2 * time.Hour, Close: 25 * time.Hour}, "SpecialSession[0].Close"},
	} {
		_, err := base.WithSessions(tt.s)
		require.ErrorContains(t, err, tt.want)
		require.ErrorContains(t, err, "market: ")
	}

	h, err := base.WithSessions(
		SpecialSession{Date: d, Open: 10 * time.Hour, Close: 11 * time.Hour},
		SpecialSession{Date: d, Open: 9*time.Hour + 15*time.Minute, Close: 15*time.Hour + 30*time.Minute}, // the last wins
		SpecialSession{Date: ymd(2026, 1, 1), Open: 0, Close: 24 * time.Hour},
	)
	require.NoError(t, err)
	require.Empty(t, base.Sessions(), "the receiver is not changed")
	require.Len(t, h.Sessions(), 2)
	require.Equal(t, 9*time.Hour+15*time.Minute, h.Sessions()[1].Open)
	require.True(t, Hours{Holidays: h}.Open(ymdhms(2026, 1, 1, 23, 59, 59)), "a session may last the whole day")
	h2 := h.With(ymd(2026, 2, 1))
	require.Len(t, h2.Sessions(), 2, "With keeps the sessions")
	require.True(t, TradingDay(ymd(2026, 2, 1), h2), "a special session opens a holiday")
	require.Equal(t, 2, h2.Len())
}

// TestSpecialSessionsInvariants checks, at random instants around random
// special sessions (on weekends, holidays and weekdays, in the morning or
// the evening), that the next open and close sit on a session's edges.
func TestSpecialSessionsInvariants(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	start := ymd(2026, 1, 1)
	h := NewHolidays(ymd(2026, 1, 15), ymd(2026, 1, 26), ymd(2026, 3, 3))
	var ss []SpecialSession
	for range 12 {
		// Sessions within 01:00–23:00, so that none touches the next day's.
		open := time.Duration(3600+rng.IntN(21*3600)) * time.Second
		ss = append(ss, SpecialSession{
			Date: start.AddDate(0, 0, rng.IntN(90)), Open: open, Close: min(open+time.Duration(1+rng.IntN(3600*6))*time.Second, 23*time.Hour),
		})
	}
	h, err := h.WithSessions(ss...)
	require.NoError(t, err)
	m := Hours{Holidays: h}
	for range 5000 {
		now := start.Add(time.Duration(rng.Int64N(int64(100 * 24 * time.Hour))))
		open, cls := m.NextOpen(now), m.NextClose(now)
		require.True(t, open.After(now), "now %v: NextOpen %v", now, open)
		require.True(t, cls.After(now), "now %v: NextClose %v", now, cls)
		require.True(t, m.Open(open), "now %v: not open at NextOpen %v", now, open)
		require.False(t, m.Open(open.Add(-time.Nanosecond)), "now %v: open before NextOpen %v", now, open)
		require.False(t, m.Open(cls), "now %v: open at NextClose %v", now, cls)
		require.True(t, m.Open(cls.Add(-time.Nanosecond)), "now %v: closed before NextClose %v", now, cls)
		require.Equal(t, m.Open(now), cls.Before(open), "now %v", now)
		rs := m.ReplayStart(now)
		require.True(t, m.Open(rs) && !rs.After(now), "now %v: ReplayStart %v", now, rs)
	}
}

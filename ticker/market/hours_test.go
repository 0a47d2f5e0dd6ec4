package market

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestMarketHoursOpen(t *testing.T) {
	m := Hours{Holidays: NewHolidays(ymd(2025, 12, 25))}
	tests := []struct {
		name string
		t    time.Time
		open bool
	}{
		{"before open", ymdhms(2025, 12, 1, 9, 14, 59), false},
		{"last nanosecond before open", ymdhms(2025, 12, 1, 9, 14, 59).Add(999999999), false},
		{"at open", ymdhms(2025, 12, 1, 9, 15, 0), true},
		{"midday", ymdhms(2025, 12, 1, 12, 0, 0), true},
		{"last second", ymdhms(2025, 12, 1, 15, 29, 59), true},
		{"last nanosecond", ymdhms(2025, 12, 1, 15, 29, 59).Add(999999999), true},
		{"at close", ymdhms(2025, 12, 1, 15, 30, 0), false},
		{"evening", ymdhms(2025, 12, 1, 20, 0, 0), false},
		{"midnight", ymd(2025, 12, 2), false},
		{"saturday midday", ymdhms(2025, 12, 6, 12, 0, 0), false},
		{"sunday midday", ymdhms(2025, 12, 7, 12, 0, 0), false},
		{"holiday midday", ymdhms(2025, 12, 25, 12, 0, 0), false},
		{"open given in UTC", time.Date(2025, 12, 1, 3, 45, 0, 0, time.UTC), true},
		{"just before open given in UTC", time.Date(2025, 12, 1, 3, 44, 59, 0, time.UTC), false},
		{"close given in UTC", time.Date(2025, 12, 1, 10, 0, 0, 0, time.UTC), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.open, m.Open(tt.t))
		})
	}
}

func TestMarketHoursNext(t *testing.T) {
	// 2025-12-01 is a Monday; 2025-12-25 (Thursday) and 2025-12-26 (Friday)
	// are holidays here.
	m := Hours{Holidays: NewHolidays(ymd(2025, 12, 25), ymd(2025, 12, 26))}
	tests := []struct {
		name      string
		now       time.Time
		nextOpen  time.Time
		nextClose time.Time
	}{
		{"early morning", ymdhms(2025, 12, 1, 8, 0, 0), ymdhms(2025, 12, 1, 9, 15, 0), ymdhms(2025, 12, 1, 15, 30, 0)},
		{"09:14:59", ymdhms(2025, 12, 1, 9, 14, 59), ymdhms(2025, 12, 1, 9, 15, 0), ymdhms(2025, 12, 1, 15, 30, 0)},
		{"at open: next open is tomorrow", ymdhms(2025, 12, 1, 9, 15, 0), ymdhms(2025, 12, 2, 9, 15, 0), ymdhms(2025, 12, 1, 15, 30, 0)},
		{"open", ymdhms(2025, 12, 1, 11, 0, 0), ymdhms(2025, 12, 2, 9, 15, 0), ymdhms(2025, 12, 1, 15, 30, 0)},
		{"15:29:59", ymdhms(2025, 12, 1, 15, 29, 59), ymdhms(2025, 12, 2, 9, 15, 0), ymdhms(2025, 12, 1, 15, 30, 0)},
		{"at close: next close is tomorrow", ymdhms(2025, 12, 1, 15, 30, 0), ymdhms(2025, 12, 2, 9, 15, 0), ymdhms(2025, 12, 2, 15, 30, 0)},
		{"friday evening", ymdhms(2025, 12, 5, 18, 0, 0), ymdhms(2025, 12, 8, 9, 15, 0), ymdhms(2025, 12, 8, 15, 30, 0)},
		{"saturday", ymdhms(2025, 12, 6, 10, 0, 0), ymdhms(2025, 12, 8, 9, 15, 0), ymdhms(2025, 12, 8, 15, 30, 0)},
		{"before a holiday and a weekend", ymdhms(2025, 12, 24, 16, 0, 0), ymdhms(2025, 12, 29, 9, 15, 0), ymdhms(2025, 12, 29, 15, 30, 0)},
		{"on a holiday morning", ymdhms(2025, 12, 25, 8, 0, 0), ymdhms(2025, 12, 29, 9, 15, 0), ymdhms(2025, 12, 29, 15, 30, 0)},
		{"year end", ymdhms(2025, 12, 31, 16, 0, 0), ymdhms(2026, 1, 1, 9, 15, 0), ymdhms(2026, 1, 1, 15, 30, 0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			open, cls := m.NextOpen(tt.now), m.NextClose(tt.now)
			require.True(t, tt.nextOpen.Equal(open), "NextOpen = %v, want %v", open, tt.nextOpen)
			require.True(t, tt.nextClose.Equal(cls), "NextClose = %v, want %v", cls, tt.nextClose)
			require.Equal(t, "IST", open.Location().String())
		})
	}
}

// TestMarketHoursInvariants checks, at random instants, that the next open
// and close are in the future and sit exactly on a session's edges.
func TestMarketHoursInvariants(t *testing.T) {
	m := Hours{Holidays: NewHolidays(ymd(2025, 1, 1), ymd(2025, 3, 14), ymd(2025, 3, 31), ymd(2025, 4, 1))}
	rng := rand.New(rand.NewPCG(1, 2))
	start := ymd(2024, 12, 20)
	for range 5000 {
		now := start.Add(time.Duration(rng.Int64N(int64(120 * 24 * time.Hour))))
		open, cls := m.NextOpen(now), m.NextClose(now)
		require.True(t, open.After(now), "now %v: NextOpen %v", now, open)
		require.True(t, cls.After(now), "now %v: NextClose %v", now, cls)
		require.True(t, m.Open(open), "now %v: not open at NextOpen %v", now, open)
		require.False(t, m.Open(open.Add(-time.Nanosecond)), "now %v: open before NextOpen %v", now, open)
		require.False(t, m.Open(cls), "now %v: open at NextClose %v", now, cls)
		require.True(t, m.Open(cls.Add(-time.Nanosecond)), "now %v: closed before NextClose %v", now, cls)
		// While open, the session ends before the next one starts;
		// while closed, the next session opens before it closes.
		require.Equal(t, m.Open(now), cls.Before(open), "now %v", now)
	}
}

package market

import (
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
	require.Equal(t, nse.Civil(2025, 12, 19), h.onOrBefore(nse.Civil(2026, 1, 6)))
	require.Equal(t, nse.Civil(2026, 1, 12), h.onOrAfter(nse.Civil(2025, 12, 20)))
	require.Equal(t, nse.Civil(2026, 1, 12), h.onOrAfter(nse.Civil(2026, 1, 12)))
	require.Equal(t, nse.Civil(2025, 12, 19), h.onOrBefore(nse.Civil(2025, 12, 19)))
}

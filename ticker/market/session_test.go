package market

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"
)

func TestReplayStart(t *testing.T) {
	h := Hours{Holidays: Holidays2026()}
	for _, tt := range []struct{ now, want time.Time }{
		{ymdhms(2026, 12, 3, 11, 0, 0), ymdhms(2026, 12, 3, 11, 0, 0)},   // open: now
		{ymdhms(2026, 12, 3, 18, 0, 0), ymdhms(2026, 12, 3, 9, 15, 0)},   // after the close: today's session
		{ymdhms(2026, 12, 3, 8, 0, 0), ymdhms(2026, 12, 2, 9, 15, 0)},    // before the open: yesterday's
		{ymdhms(2026, 12, 6, 12, 0, 0), ymdhms(2026, 12, 4, 9, 15, 0)},   // Sunday: Friday's
		{ymdhms(2026, 12, 25, 12, 0, 0), ymdhms(2026, 12, 24, 9, 15, 0)}, // Christmas: the day before
		{ymdhms(2026, 12, 28, 9, 14, 59), ymdhms(2026, 12, 24, 9, 15, 0)},
	} {
		got := h.ReplayStart(tt.now)
		require.True(t, tt.want.Equal(got), "ReplayStart(%v) = %v, want %v", tt.now, got, tt.want)
		require.True(t, h.Open(got))
	}
}

// A SessionClock walks through session time only: at 60× a session of 6 h
// 15 min lasts 6¼ minutes, then the next trading day's session follows.
func TestSessionClock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := Hours{Holidays: Holidays2026()}
		clock := SessionClock(ymdhms(2026, 12, 24, 20, 0, 0), h, 60) // Thursday evening, before Christmas
		require.True(t, ymdhms(2026, 12, 24, 9, 15, 0).Equal(clock()))
		time.Sleep(time.Minute)
		require.True(t, ymdhms(2026, 12, 24, 10, 15, 0).Equal(clock()))
		time.Sleep(5*time.Minute + 15*time.Second) // reaches 15:30 exactly: the next open
		require.True(t, ymdhms(2026, 12, 28, 9, 15, 0).Equal(clock()), "%v", clock())
		time.Sleep(30 * time.Second)
		require.True(t, ymdhms(2026, 12, 28, 9, 45, 0).Equal(clock()))
		require.True(t, h.Open(clock()))

		// In the session it starts at the instant given; a bad speed is 1.
		at := ymdhms(2026, 12, 3, 11, 0, 0)
		unit := SessionClock(at, h, -3)
		time.Sleep(time.Second)
		require.True(t, at.Add(time.Second).Equal(unit()))
	})
}

func TestTradingYears(t *testing.T) {
	day := 1.0 / 252
	h := Holidays{}
	mon := ymdhms(2026, 12, 7, 9, 15, 0)
	require.InDelta(t, 0.8*day, TradingYears(mon, mon.Add(6*time.Hour+15*time.Minute), h), 1e-12, "a session")
	require.InDelta(t, 0.4*day, TradingYears(mon, mon.Add(3*time.Hour+7*time.Minute+30*time.Second), h), 1e-12, "half a session")
	// Close to the next open: the overnight share, paid at the open.
	shut := ymdhms(2026, 12, 7, 15, 30, 0)
	require.Zero(t, TradingYears(shut, ymdhms(2026, 12, 8, 9, 14, 59), h))
	require.InDelta(t, 0.2*day, TradingYears(shut, ymdhms(2026, 12, 8, 9, 15, 0), h), 1e-12)
	// A weekend counts one gap; a whole week of trading days counts 5.
	fri := ymdhms(2026, 12, 11, 15, 30, 0)
	require.InDelta(t, 0.2*day, TradingYears(fri, ymdhms(2026, 12, 14, 9, 15, 0), h), 1e-12)
	require.InDelta(t, 5*day, TradingYears(ymdhms(2026, 12, 4, 15, 30, 0), fri, h), 1e-12)
	// A holiday counts nothing.
	require.InDelta(t, 4*day, TradingYears(ymdhms(2026, 12, 18, 15, 30, 0), ymdhms(2026, 12, 25, 15, 30, 0), Holidays2026()), 1e-12)
	require.Zero(t, TradingYears(fri, shut, h), "backwards")
}

package mock

import (
	"context"
	"io"
	"log/slog"
	"math"
	"testing"
	"time"

	"github.com/steadfast-go/steadfast/ticker"
	"github.com/steadfast-go/steadfast/ticker/market"
	"github.com/stretchr/testify/require"
)

// ymdhms returns hh:mm:ss IST on y-m-d.
func ymdhms(y int, m time.Month, d, hh, mm, ss int) time.Time {
	return time.Date(y, m, d, hh, mm, ss, 0, market.IST())
}

// Config.Now is the user's code: Subscribe must not call it with the
// source's lock held (a clock that reads the source would deadlock).
func TestMockNowCalledWithoutLock(t *testing.T) {
	at := time.Date(2025, 12, 1, 10, 0, 0, 0, market.IST())
	var m *Source
	calls := 0
	now := func() time.Time {
		calls++
		if !m.mu.TryLock() {
			t.Error("Config.Now called with the source's lock held")
		} else {
			m.mu.Unlock()
		}
		return at
	}
	m, err := New(Config{Now: now, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	require.NoError(t, err)
	ins, err := market.Universe(market.UniverseConfig{Date: at, Expiries: 1, StrikesPerSide: 1})
	require.NoError(t, err)
	require.NoError(t, m.Subscribe(ins, nil))
	require.Positive(t, calls)
	require.Len(t, m.Instruments(), len(ins))
}

// lockCheckHandler is a slog.Handler that reports a record logged while the
// mock's lock is held: the Logger's handler is the caller's code too.
type lockCheckHandler struct {
	t       *testing.T
	m       **Source
	records *int
}

func (h lockCheckHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h lockCheckHandler) WithAttrs([]slog.Attr) slog.Handler { return h }

func (h lockCheckHandler) WithGroup(string) slog.Handler { return h }

func (h lockCheckHandler) Handle(_ context.Context, r slog.Record) error {
	*h.records++
	if m := *h.m; m != nil {
		if !m.mu.TryLock() {
			h.t.Errorf("%q logged with the mock's lock held", r.Message)
		} else {
			m.mu.Unlock()
		}
	}
	return nil
}

func TestMockLogsWithoutLock(t *testing.T) {
	var m *Source
	records := 0
	monday := ymdhms(2025, 12, 1, 10, 0, 0)
	spec := market.NIFTY()
	m, err := New(Config{Seed: 1, Now: func() time.Time { return monday }, MaxSize: 8,
		Underlyings: []market.UnderlyingSpec{spec}, Logger: slog.New(lockCheckHandler{t, &m, &records})})
	require.NoError(t, err)
	ins, err := market.Universe(market.UniverseConfig{Seed: 1, Date: monday, Underlyings: []market.UnderlyingSpec{spec}, Expiries: 1, StrikesPerSide: 1, Futures: -1})
	require.NoError(t, err)
	require.NoError(t, m.Subscribe(ins, nil))
	m.Step(ymdhms(2025, 12, 2, 15, 30, 0), nil) // rolls: logs the roll and that the store is full
	require.GreaterOrEqual(t, records, 2)
}

// The quoted delta is how the mock's own price moves with the index: the
// smile is sticky to strikes within a session, so repricing at S±ε with
// everything else fixed gives the quoted delta to within 1e-4 (central
// differences with ε = ₹0.5 on a level of 26,000 are exact to about
// γε²/6 ≈ 1e-7; the tolerance leaves room for rounding only).
func TestMockDeltaMatchesRepricing(t *testing.T) {
	now := ymdhms(2026, 12, 7, 11, 0, 0)
	m, err := New(Config{Seed: 3, Now: func() time.Time { return now }, Underlyings: []market.UnderlyingSpec{market.NIFTY()},
		Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	ins, err := market.Universe(market.UniverseConfig{Seed: 3, Date: now, Underlyings: []market.UnderlyingSpec{market.NIFTY()}, Expiries: 3, StrikesPerSide: 8})
	require.NoError(t, err)
	require.NoError(t, m.Subscribe(ins, nil))
	m.Step(now.Add(-time.Hour), nil) // the session's anchor
	var ticks []ticker.Tick
	m.Step(now, func(tk ticker.Tick) { ticks = append(ticks, tk) })
	spot, _ := m.Spot("NIFTY")
	const eps = 0.5
	checked := 0
	for _, tk := range ticks {
		up, ok := m.priceAt(tk.Token, spot+eps, now)
		if !ok {
			continue
		}
		down, _ := m.priceAt(tk.Token, spot-eps, now)
		fd := (up - down) / (2 * eps)
		if tk.IV == 0 { // a future: delta e^{(r−q)T} is not quoted
			continue
		}
		require.InDelta(t, tk.Delta, fd, 1e-4, "token %d", tk.Token)
		checked++
	}
	require.Equal(t, 3*17*2, checked)
}

// Across sessions the at-the-money level moves against the index: daily
// changes of the index and of the ATM volatility are negatively correlated.
func TestMockSpotVolCorrelationNegative(t *testing.T) {
	start := ymdhms(2026, 1, 5, 10, 0, 0)
	m, err := New(Config{Seed: 17, Now: func() time.Time { return start }, Underlyings: []market.UnderlyingSpec{market.NIFTY()},
		Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	var dS, dV []float64
	prevS, prevV := 0.0, 0.0
	for d := 0; d < 400; d++ {
		now := start.AddDate(0, 0, d)
		if !(market.Hours{}).Open(now) {
			continue
		}
		m.Step(now, nil)
		m.mu.Lock()
		s, v := m.unders[0].spot, m.unders[0].smile.ATM
		m.mu.Unlock()
		if prevS > 0 {
			dS = append(dS, math.Log(s/prevS))
			dV = append(dV, v-prevV)
		}
		prevS, prevV = s, v
	}
	require.Greater(t, len(dS), 250)
	require.Less(t, correlation(dS, dV), -0.5)
}

func correlation(x, y []float64) float64 {
	var mx, my float64
	for i := range x {
		mx += x[i]
		my += y[i]
	}
	mx /= float64(len(x))
	my /= float64(len(y))
	var sxy, sxx, syy float64
	for i := range x {
		sxy += (x[i] - mx) * (y[i] - my)
		sxx += (x[i] - mx) * (x[i] - mx)
		syy += (y[i] - my) * (y[i] - my)
	}
	return sxy / math.Sqrt(sxx*syy)
}

package mock_test

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/steadfast-go/steadfast/ticker"
	"github.com/steadfast-go/steadfast/ticker/market"
	"github.com/steadfast-go/steadfast/ticker/mock"
)

// goldenMockDigest is the sha256 of the canonical text of the first 1,000
// ticks of the fixed-seed run in TestMockGolden. It pins the mock's output:
// a change that alters one price, quantity or timestamp changes it.
const goldenMockDigest = "fa0eba2d8604d14a3431b370fa5cd2a04a77ef71ff71b33cf48234820741c267"

// TestMockGolden runs the mock with a fixed seed on a fixed simulated clock
// (45-minute rounds from Monday 1 December 2025, 09:15 IST, across NIFTY's
// 2 December expiry and its rollover) and compares a digest of the first
// 1,000 ticks with a recorded value.
func TestMockGolden(t *testing.T) {
	const seed = 21
	start := time.Date(2025, 12, 1, 9, 15, 0, 0, market.IST())
	ins, err := market.Universe(market.UniverseConfig{
		Seed: seed, Date: start, Expiries: 2, StrikesPerSide: 1, Futures: 1,
	})
	require.NoError(t, err)
	m := newTestMock(t, mock.Config{Seed: seed, Now: func() time.Time { return start }})
	require.NoError(t, m.Subscribe(ins, nil))

	initial := make(map[uint32]bool, len(ins))
	for _, in := range ins {
		initial[in.Token] = true
	}
	h := sha256.New()
	n, rolled := 0, 0
	var last time.Time
	for i := 0; n < 1000 && i < 1000; i++ {
		m.Step(start.Add(time.Duration(i)*45*time.Minute), func(tk ticker.Tick) {
			if n < 1000 {
				writeTick(h, tk)
				n++
				last = tk.Time
				if !initial[tk.Token] {
					rolled++
				}
			}
		})
	}
	require.Equal(t, 1000, n, "ticks produced")
	// The run covers an expiry and the contracts rolled in after it.
	require.True(t, last.After(time.Date(2025, 12, 2, 15, 30, 0, 0, market.IST())), "last tick at %v", last)
	require.Positive(t, rolled, "ticks of rolled-in contracts")
	require.Equal(t, goldenMockDigest, hex.EncodeToString(h.Sum(nil)))
}

// writeTick writes the canonical text of a tick: every field, floats in
// their shortest exact form, times in UTC.
func writeTick(h hash.Hash, tk ticker.Tick) {
	f := func(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }
	ts := func(x time.Time) string { return x.UTC().Format(time.RFC3339Nano) }
	fmt.Fprintf(h, "%d %s %d %d %s %s %d %d %s %s|%s %s %s %s %s|%t|%s %s %s %s %d %s %d %d %s %d %d|%t %t\n",
		tk.Token, f(tk.LastPrice), tk.Volume, tk.OpenInterest, f(tk.Bid), f(tk.Ask), tk.BidQty, tk.AskQty,
		f(tk.Change), ts(tk.Time),
		f(tk.IV), f(tk.Delta), f(tk.Gamma), f(tk.Theta), f(tk.Vega),
		tk.Mock,
		f(tk.Open), f(tk.High), f(tk.Low), f(tk.Close), tk.LastQty, f(tk.AvgPrice), tk.TotalBuyQty,
		tk.TotalSellQty, ts(tk.LastTradeTime), tk.OIDayHigh, tk.OIDayLow,
		tk.Depth != nil, tk.Instrument != nil)
}

package chainpage_test

import (
	"context"
	"math"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/steadfast-go/steadfast/ticker"
	"github.com/steadfast-go/steadfast/ticker/chainpage"
	"github.com/steadfast-go/steadfast/ticker/market"
	"github.com/steadfast-go/steadfast/ticker/mock"
)

// TestIndexRowsWithoutTickSize streams index rows as Kite's dump has them,
// with tick size and lot 0, through a real engine fed by the mock market and
// out of the chain page: nothing divides by an index's tick size, so every
// index tick is valid, and the page shows a finite, positive price.
func TestIndexRowsWithoutTickSize(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		t0 := time.Now()
		open := time.Date(2026, 12, 1, 10, 0, 0, 0, market.IST())
		now := func() time.Time { return open.Add(time.Since(t0)) }
		specs := []market.UnderlyingSpec{market.NIFTY(), market.SENSEX()}
		src, err := mock.New(mock.Config{Seed: 1, Now: now, Interval: 100 * time.Millisecond, Underlyings: specs})
		require.NoError(t, err)
		ins, err := market.Universe(market.UniverseConfig{Seed: 1, Date: now(), Underlyings: specs, Expiries: 1, StrikesPerSide: 2})
		require.NoError(t, err)
		var indices []ticker.Instrument
		for _, in := range ins {
			if in.Kind == ticker.KindIndex {
				require.Zero(t, in.TickSize, in.Symbol)
				require.Zero(t, in.LotSize, in.Symbol)
				indices = append(indices, in)
			}
		}
		require.Len(t, indices, 2)

		eng, err := ticker.New(ticker.Config{
			Source:      src,
			Publisher:   ticker.PublisherFunc(func(context.Context, []ticker.Tick) error { return nil }),
			Instruments: func(context.Context) ([]ticker.Instrument, error) { return ins, nil },
		})
		require.NoError(t, err)
		ctx, stop := context.WithCancel(context.Background())
		engDone := make(chan error, 1)
		go func() { engDone <- eng.Run(ctx) }()
		defer func() { stop(); <-engDone }() // also when an assertion fails
		time.Sleep(time.Second)
		synctest.Wait()

		h, err := chainpage.New(chainpage.Config{Engine: eng})
		require.NoError(t, err)
		w, cancel, done := serve(h, nil)
		defer func() { cancel(); <-done }()
		time.Sleep(2 * time.Second)

		// The engine stops; the page catches up with its latest ticks.
		stop()
		require.NoError(t, <-engDone)
		engDone <- nil // for the deferred wait
		time.Sleep(2 * chainpage.DefaultFrameInterval)
		synctest.Wait()

		require.Zero(t, eng.Stats().Invalid, "no index tick failed validation")
		page := map[uint32]float64{}
		for _, e := range w.events() {
			var ticks []wireTick
			switch e.name {
			case "snapshot":
				ticks = decode[snapshot](t, e).Ticks
			case "ticks":
				ticks = decode[delta](t, e).Ticks
			}
			for _, tk := range ticks {
				page[tk.Token] = tk.Last
			}
		}
		for _, in := range indices {
			lt, ok := eng.Latest(in.Token)
			require.True(t, ok, "%s ticks through the engine", in.Symbol)
			require.True(t, lt.LastPrice > 0 && !math.IsInf(lt.LastPrice, 0), "%s: %v", in.Symbol, lt.LastPrice)
			got, ok := page[in.Token]
			require.True(t, ok, "%s is on the page", in.Symbol)
			require.InDelta(t, lt.LastPrice, got, 0.005, in.Symbol)
		}
	})
}

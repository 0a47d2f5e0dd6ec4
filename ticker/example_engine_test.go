package ticker_test

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/steadfast-go/steadfast/ticker"
	"github.com/steadfast-go/steadfast/ticker/market"
)

// feed is a Source that emits a few ticks and then asks the engine to stop,
// as a host's shutdown signal would.
type feed struct{ stop context.CancelFunc }

func (f feed) Run(ctx context.Context, emit func(ticker.Tick)) error {
	now := time.Date(2026, 12, 3, 10, 0, 0, 0, market.IST())
	emit(ticker.Tick{Token: 101, LastPrice: 24010.5, Time: now})
	emit(ticker.Tick{Token: 102, LastPrice: 151.2, Bid: 151.1, Ask: 151.3, Time: now})
	emit(ticker.Tick{Token: 101, LastPrice: 24011, Time: now.Add(time.Second)}) // replaces the pending one
	emit(ticker.Tick{Token: 999, LastPrice: 1, Time: now})                      // not subscribed: dropped
	f.stop()
	<-ctx.Done()
	return nil
}

func (feed) Subscribe(add, remove []ticker.Instrument) error { return nil }

// An engine embedded in a host service: the Source feeds it, a
// PublisherFunc receives the batches (here it keeps the latest tick per
// symbol), and Run returns after a final flush once the context ends.
func ExampleEngine() {
	ctx, stop := context.WithCancel(context.Background())
	var (
		mu     sync.Mutex
		latest = map[string]float64{}
	)
	eng, err := ticker.New(ticker.Config{
		Source: feed{stop: stop},
		Publisher: ticker.PublisherFunc(func(ctx context.Context, ticks []ticker.Tick) error {
			mu.Lock()
			defer mu.Unlock()
			for _, t := range ticks {
				latest[t.Instrument.Symbol] = t.LastPrice // the engine sets Instrument
			}
			return nil
		}),
		Instruments: func(ctx context.Context) ([]ticker.Instrument, error) {
			return []ticker.Instrument{
				{Token: 101, Symbol: "NIFTY 50", Underlying: "NIFTY", Kind: ticker.KindIndex},
				{Token: 102, Symbol: "NIFTY26DEC24000CE", Underlying: "NIFTY", Kind: ticker.KindCall,
					Strike: 24000, Expiry: time.Date(2026, 12, 29, 0, 0, 0, 0, market.IST()), LotSize: 65, TickSize: 0.05},
			}, nil
		},
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := eng.Run(ctx); err != nil {
		fmt.Println(err)
		return
	}
	var symbols []string
	for s := range latest {
		symbols = append(symbols, s)
	}
	sort.Strings(symbols)
	for _, s := range symbols {
		fmt.Printf("%s %.2f\n", s, latest[s])
	}
	st := eng.Stats()
	fmt.Println("produced", st.Produced, "unsubscribed", st.Dropped.Unsubscribed,
		"published+conflated", st.Published+st.Conflated, "pending", st.Pending)
	// Output:
	// NIFTY 50 24011.00
	// NIFTY26DEC24000CE 151.20
	// produced 4 unsubscribed 1 published+conflated 3 pending 0
}

package kite_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"time"

	"github.com/steadfast-go/steadfast/ticker"
	"github.com/steadfast-go/steadfast/ticker/kite"
	"github.com/steadfast-go/steadfast/ticker/market"
	"github.com/steadfast-go/steadfast/ticker/mock"
)

// A simulated market served over Kite's protocol on loopback, and the live
// client reading it in full mode: no credentials, no network. The mock's
// clock stands still at 10:00 IST, so every round repeats the same ticks.
func ExampleServer() {
	quiet := slog.New(slog.DiscardHandler)
	at := time.Date(2026, 12, 7, 10, 0, 0, 0, market.IST())
	nifty := []market.UnderlyingSpec{market.NIFTY()}
	ins, err := market.Universe(market.UniverseConfig{
		Seed: 1, Date: at, Underlyings: nifty, Expiries: 1, StrikesPerSide: 1, Futures: -1,
	})
	if err != nil {
		panic(err)
	}
	mock, err := mock.New(mock.Config{
		Seed: 1, Now: func() time.Time { return at }, Interval: 50 * time.Millisecond, Underlyings: nifty, Logger: quiet,
	})
	if err != nil {
		panic(err)
	}
	if err := mock.Subscribe(ins, nil); err != nil { // the instruments the server offers
		panic(err)
	}
	srv, err := kite.NewServer(kite.ServerConfig{Source: mock, APIKey: "key", AccessToken: "token", Logger: quiet})
	if err != nil {
		panic(err)
	}
	hs := httptest.NewServer(srv) // on 127.0.0.1
	defer hs.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	served := make(chan error, 1)
	go func() { served <- srv.Run(ctx) }()

	src, err := kite.New(kite.Config{
		APIKey: "key", AccessToken: "token", BaseURL: "ws" + strings.TrimPrefix(hs.URL, "http"),
		Mode: kite.ModeFull, Logger: quiet,
	})
	if err != nil {
		panic(err)
	}
	if err := src.Subscribe(ins, nil); err != nil {
		panic(err)
	}
	var (
		mu     sync.Mutex
		latest = map[uint32]ticker.Tick{}
	)
	readCtx, stopReading := context.WithCancel(ctx)
	err = src.Run(readCtx, func(t ticker.Tick) {
		mu.Lock()
		defer mu.Unlock()
		latest[t.Token] = t
		if len(latest) == len(ins) {
			stopReading()
		}
	})
	fmt.Println("client:", err)
	cancel()
	fmt.Println("server:", <-served)

	for _, in := range ins {
		t := latest[in.Token]
		fmt.Printf("%-18s %8.2f", in.Symbol, t.LastPrice)
		if t.Depth != nil {
			fmt.Printf("  %d@%.2f/%.2f@%d oi %d", t.BidQty, t.Bid, t.Ask, t.AskQty, t.OpenInterest)
		}
		fmt.Println(" ", t.Time.In(market.IST()).Format("15:04:05"))
	}
	st := srv.Stats()
	fmt.Println("accepted", st.Accepted, "open", st.Conns, "all sent", st.Packets >= uint64(len(ins)))
	// Output:
	// client: <nil>
	// server: <nil>
	// NIFTY 50           26000.00  10:00:00
	// NIFTY26D0825950CE    152.15  520@152.05/152.15@2665 oi 6157190  10:00:00
	// NIFTY26D0825950PE     97.50  3250@97.45/97.55@130 oi 7481175  10:00:00
	// NIFTY26D0826000CE    123.55  650@123.50/123.60@2730 oi 6560515  10:00:00
	// NIFTY26D0826000PE    118.90  780@118.85/118.95@715 oi 7665645  10:00:00
	// NIFTY26D0826050CE     98.55  3120@98.50/98.60@1430 oi 6718920  10:00:00
	// NIFTY26D0826050PE    143.90  2600@143.85/143.90@455 oi 5126680  10:00:00
	// accepted 1 open 0 all sent true
}

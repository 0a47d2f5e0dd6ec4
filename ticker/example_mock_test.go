package ticker_test

import (
	"fmt"
	"time"

	"github.com/steadfast-go/steadfast/ticker"
)

// The first round of ticks of a small NIFTY chain, for a fixed seed and a
// fixed clock.
func ExampleNewMockSource() {
	now := time.Date(2025, 12, 1, 10, 0, 0, 0, ticker.IST())
	nifty := []ticker.UnderlyingSpec{ticker.NIFTY()}
	ins, err := ticker.Universe(ticker.UniverseConfig{
		Seed: 1, Date: now, Underlyings: nifty, Expiries: 1, StrikesPerSide: 1,
	})
	if err != nil {
		panic(err)
	}
	src, err := ticker.NewMockSource(ticker.MockConfig{
		Seed: 1, Now: func() time.Time { return now }, Underlyings: nifty,
	})
	if err != nil {
		panic(err)
	}
	if err := src.Subscribe(ins, nil); err != nil {
		panic(err)
	}
	symbol := map[uint32]string{}
	for _, in := range ins {
		symbol[in.Token] = in.Symbol
	}
	src.Step(now, func(t ticker.Tick) {
		fmt.Printf("%-18s %8.2f", symbol[t.Token], t.LastPrice)
		if t.IV > 0 {
			fmt.Printf("  %6.2f/%-6.2f iv %.3f delta %+.3f oi %d", t.Bid, t.Ask, t.IV, t.Delta, t.OpenInterest)
		}
		fmt.Println()
	})
	// Output:
	// NIFTY 50           24000.00
	// NIFTY25D0223950CE    111.10  110.95/111.25 iv 0.146 delta +0.607 oi 6903600
	// NIFTY25D0223950PE     56.85   56.75/56.90  iv 0.146 delta -0.393 oi 7554150
	// NIFTY25D0224000CE     81.45   81.35/81.55  iv 0.143 delta +0.510 oi 7120425
	// NIFTY25D0224000PE     77.15   77.05/77.25  iv 0.143 delta -0.490 oi 7019625
	// NIFTY25D0224050CE     57.25   57.15/57.35  iv 0.140 delta +0.409 oi 7041525
	// NIFTY25D0224050PE    102.95  102.85/103.10 iv 0.140 delta -0.591 oi 5705325
}

// Replaying a trading day in simulated time: each Step moves the market by
// the simulated time elapsed since the previous one.
func ExampleMockSource_Step() {
	open := time.Date(2025, 12, 1, 9, 15, 0, 0, ticker.IST())
	src, err := ticker.NewMockSource(ticker.MockConfig{
		Seed: 42, Now: func() time.Time { return open },
	})
	if err != nil {
		panic(err)
	}
	index := ticker.Instrument{Token: ticker.NIFTY().Token, Underlying: "NIFTY", Kind: ticker.KindIndex}
	if err := src.Subscribe([]ticker.Instrument{index}, nil); err != nil {
		panic(err)
	}
	for h := range 7 {
		now := open.Add(time.Duration(h) * time.Hour)
		src.Step(now, func(t ticker.Tick) {
			fmt.Printf("%s %8.2f %+.2f%%\n", now.Format("15:04"), t.LastPrice, t.Change)
		})
	}
	// Output:
	// 09:15 24000.00 +0.00%
	// 10:15 23972.60 -0.11%
	// 11:15 23973.15 -0.11%
	// 12:15 24018.45 +0.08%
	// 13:15 24010.30 +0.04%
	// 14:15 24045.95 +0.19%
	// 15:15 24052.35 +0.22%
}

// An invalid configuration is refused with an error naming the field.
func ExampleMockConfig() {
	_, err := ticker.NewMockSource(ticker.MockConfig{Interval: -time.Second})
	fmt.Println(err)
	// Output:
	// ticker: MockConfig.Interval must not be negative, got -1s
}

// Rate and DividendYield are pointers so that zero can be set: nil means the
// defaults (6.5% and 1.2%). With no carry the future trades at the index.
func ExampleMockConfig_zeroRate() {
	now := time.Date(2025, 12, 1, 10, 0, 0, 0, ticker.IST())
	src, err := ticker.NewMockSource(ticker.MockConfig{
		Now:           func() time.Time { return now },
		Underlyings:   []ticker.UnderlyingSpec{ticker.NIFTY()},
		Rate:          new(0.0),
		DividendYield: new(0.0),
	})
	if err != nil {
		panic(err)
	}
	index := ticker.Instrument{Token: ticker.NIFTY().Token, Symbol: "NIFTY 50", Underlying: "NIFTY", Kind: ticker.KindIndex}
	future := ticker.Instrument{Token: 1, Symbol: "NIFTY25DECFUT", Underlying: "NIFTY", Kind: ticker.KindFuture,
		Expiry: time.Date(2025, 12, 30, 0, 0, 0, 0, ticker.IST())}
	if err := src.Subscribe([]ticker.Instrument{index, future}, nil); err != nil {
		panic(err)
	}
	src.Step(now, func(t ticker.Tick) { fmt.Printf("%d %.2f\n", t.Token, t.LastPrice) })
	// Output:
	// 256265 24000.00
	// 1 24000.00
}

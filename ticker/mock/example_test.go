package mock_test

import (
	"fmt"
	"time"

	"github.com/steadfast-go/steadfast/ticker"
	"github.com/steadfast-go/steadfast/ticker/market"
	"github.com/steadfast-go/steadfast/ticker/mock"
)

// The first round of ticks of a small NIFTY chain, for a fixed seed and a
// fixed clock: the index, the near-month future and three strikes of the
// weekly expiry. Quantities are in units, whole lots of 65.
func ExampleNew() {
	now := time.Date(2026, 12, 7, 10, 0, 0, 0, market.IST())
	nifty := []market.UnderlyingSpec{market.NIFTY()}
	ins, err := market.Universe(market.UniverseConfig{
		Seed: 1, Date: now, Underlyings: nifty, Expiries: 1, StrikesPerSide: 1, Futures: 1,
	})
	if err != nil {
		panic(err)
	}
	src, err := mock.New(mock.Config{
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
		if t.Ask > 0 {
			fmt.Printf("  %d@%.2f/%.2f@%d", t.BidQty, t.Bid, t.Ask, t.AskQty)
		}
		if t.IV > 0 {
			fmt.Printf(" iv %.3f delta %+.3f oi %d", t.IV, t.Delta, t.OpenInterest)
		}
		fmt.Println()
	})
	// Output:
	// NIFTY 50           26000.00
	// NIFTY26DECFUT      26084.10  195@26083.90/26084.10@2080
	// NIFTY26D0825950CE    152.15  520@152.05/152.15@2665 iv 0.144 delta +0.573 oi 6157190
	// NIFTY26D0825950PE     97.50  3250@97.45/97.55@130 iv 0.144 delta -0.427 oi 7481175
	// NIFTY26D0826000CE    123.55  650@123.50/123.60@2730 iv 0.142 delta +0.508 oi 6560515
	// NIFTY26D0826000PE    118.90  780@118.85/118.95@715 iv 0.142 delta -0.492 oi 7665645
	// NIFTY26D0826050CE     98.55  3120@98.50/98.60@1430 iv 0.140 delta +0.442 oi 6718920
	// NIFTY26D0826050PE    143.90  2600@143.85/143.90@455 iv 0.140 delta -0.558 oi 5126680
}

// Replaying a trading day in simulated time: each Step moves the market by
// the trading time elapsed since the previous one. Outside the session
// nothing ticks; the next open gaps, and Change is against the previous
// session's close.
func ExampleSource_Step() {
	open := time.Date(2026, 12, 7, 9, 15, 0, 0, market.IST())
	src, err := mock.New(mock.Config{
		Seed: 42, Now: func() time.Time { return open },
	})
	if err != nil {
		panic(err)
	}
	index := ticker.Instrument{Token: market.NIFTY().Token, Underlying: "NIFTY", Kind: ticker.KindIndex}
	if err := src.Subscribe([]ticker.Instrument{index}, nil); err != nil {
		panic(err)
	}
	for h := range 26 {
		now := open.Add(time.Duration(h) * time.Hour)
		src.Step(now, func(t ticker.Tick) {
			fmt.Printf("%s %8.2f %+.2f%%\n", now.Format("Mon 15:04"), t.LastPrice, t.Change)
		})
	}
	// Output:
	// Mon 09:15 26000.00 +0.00%
	// Mon 10:15 25937.80 -0.24%
	// Mon 11:15 25939.35 -0.23%
	// Mon 12:15 26043.05 +0.17%
	// Mon 13:15 26024.75 +0.10%
	// Mon 14:15 26106.60 +0.41%
	// Mon 15:15 26121.65 +0.47%
	// Tue 09:15 26125.50 +0.01%
	// Tue 10:15 26027.60 -0.36%
}

// An invalid configuration is refused with an error naming the field.
func ExampleConfig() {
	_, err := mock.New(mock.Config{Interval: -time.Second})
	fmt.Println(err)
	// Output:
	// mock: Config.Interval must not be negative, got -1s
}

// Rate and DividendYield are pointers so that zero can be set: nil means the
// defaults (6.5% and 1.2%). With no carry the future trades at the index.
func ExampleConfig_zeroRate() {
	now := time.Date(2026, 12, 7, 10, 0, 0, 0, market.IST())
	src, err := mock.New(mock.Config{
		Now:           func() time.Time { return now },
		Underlyings:   []market.UnderlyingSpec{market.NIFTY()},
		Rate:          new(0.0),
		DividendYield: new(0.0),
	})
	if err != nil {
		panic(err)
	}
	index := ticker.Instrument{Token: market.NIFTY().Token, Symbol: "NIFTY 50", Underlying: "NIFTY", Kind: ticker.KindIndex}
	future := ticker.Instrument{Token: 1, Symbol: "NIFTY26DECFUT", Underlying: "NIFTY", Kind: ticker.KindFuture,
		Expiry: time.Date(2026, 12, 29, 0, 0, 0, 0, market.IST())}
	if err := src.Subscribe([]ticker.Instrument{index, future}, nil); err != nil {
		panic(err)
	}
	src.Step(now, func(t ticker.Tick) { fmt.Printf("%d %.2f\n", t.Token, t.LastPrice) })
	// Output:
	// 256265 26000.00
	// 1 26000.00
}

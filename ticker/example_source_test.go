package ticker_test

import (
	"context"
	"fmt"
	"time"

	"github.com/steadfast-go/steadfast/ticker"
	"github.com/steadfast-go/steadfast/ticker/market"
	"github.com/steadfast-go/steadfast/ticker/mock"
)

// A Source streams ticks for its subscriptions until its context ends. The
// mock source is one; here the consumer stops it after the first round.
func ExampleSource() {
	now := time.Date(2025, 12, 1, 10, 0, 0, 0, market.IST())
	nifty := []market.UnderlyingSpec{market.NIFTY()}
	ins, err := market.Universe(market.UniverseConfig{
		Seed: 1, Date: now, Underlyings: nifty, Expiries: 1, StrikesPerSide: 2,
	})
	if err != nil {
		panic(err)
	}
	mock, err := mock.New(mock.Config{
		Seed: 1, Now: func() time.Time { return now }, Underlyings: nifty,
	})
	if err != nil {
		panic(err)
	}

	var src ticker.Source = mock
	if err := src.Subscribe(ins, nil); err != nil {
		panic(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ticks := 0
	err = src.Run(ctx, func(ticker.Tick) {
		ticks++
		if ticks == len(ins) {
			cancel() // one tick per instrument: the first round is complete
		}
	})
	fmt.Println(len(ins), "instruments,", ticks, "ticks, Run returned", err)
	// Output:
	// 14 instruments, 14 ticks, Run returned <nil>
}

// batchPrinter is a Publisher that prints each batch instead of sending it.
type batchPrinter struct{}

func (batchPrinter) Publish(ctx context.Context, ticks []ticker.Tick) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	for _, t := range ticks {
		fmt.Printf("token %d last %.2f bid %.2f ask %.2f\n", t.Token, t.LastPrice, t.Bid, t.Ask)
	}
	return nil
}

// A Publisher delivers batches of ticks downstream; it must honour its
// context's deadline so that a slow dependency never blocks the stream.
func ExamplePublisher() {
	var p ticker.Publisher = batchPrinter{}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	err := p.Publish(ctx, []ticker.Tick{
		{Token: 256265, LastPrice: 24012.35, Bid: 24012.30, Ask: 24012.40},
		{Token: 260105, LastPrice: 51980.10, Bid: 51980.05, Ask: 51980.20},
	})
	fmt.Println("err:", err)
	// Output:
	// token 256265 last 24012.35 bid 24012.30 ask 24012.40
	// token 260105 last 51980.10 bid 51980.05 ask 51980.20
	// err: <nil>
}

package ticker_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/steadfast-go/steadfast/ticker"
	"github.com/steadfast-go/steadfast/ticker/market"
)

// script is a Source that emits a fixed list of ticks, calls then (if set)
// while the engine is still running, and asks the engine to stop, as a
// host's shutdown signal would.
type script struct {
	ticks []ticker.Tick
	then  func()
	stop  context.CancelFunc
}

func (s script) Run(ctx context.Context, emit func(ticker.Tick)) error {
	for _, t := range s.ticks {
		emit(t)
	}
	if s.then != nil {
		s.then()
	}
	s.stop()
	<-ctx.Done()
	return nil
}

func (script) Subscribe(add, remove []ticker.Instrument) error { return nil }

// niftyPair is the index and one of its options, the subscriptions of the
// examples below.
func niftyPair(ctx context.Context) ([]ticker.Instrument, error) {
	return []ticker.Instrument{
		{Token: 101, Symbol: "NIFTY 50", Underlying: "NIFTY", Kind: ticker.KindIndex},
		{Token: 102, Symbol: "NIFTY26DEC24000CE", Underlying: "NIFTY", Kind: ticker.KindCall,
			Strike: 24000, Expiry: time.Date(2026, 12, 29, 0, 0, 0, 0, market.IST()), LotSize: 65, TickSize: 0.05},
	}, nil
}

// discard is a Publisher that accepts every batch.
var discard = ticker.PublisherFunc(func(context.Context, []ticker.Tick) error { return nil })

// Stats counts every tick the source produced by what became of it; once
// Run has returned, the counts add up exactly. Here no instrument ticks twice,
// so nothing is conflated and the split is the same on every run.
func ExampleStats() {
	ctx, stop := context.WithCancel(context.Background())
	now := time.Date(2026, 12, 3, 10, 0, 0, 0, market.IST())
	eng, err := ticker.New(ticker.Config{
		Source: script{stop: stop, ticks: []ticker.Tick{
			{Token: 101, LastPrice: 24010.5, Time: now},
			{Token: 102, LastPrice: 151.2, Bid: 151.1, Ask: 151.3, Time: now},
			{Token: 102, LastPrice: -1, Time: now}, // invalid: never stored
			{Token: 999, LastPrice: 1, Time: now},  // not subscribed: dropped
		}},
		Publisher:   discard,
		Instruments: niftyPair,
		Logger:      slog.New(slog.DiscardHandler),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := eng.Run(ctx); err != nil {
		fmt.Println(err)
		return
	}
	st := eng.Stats()
	fmt.Println("produced", st.Produced, "published", st.Published, "conflated", st.Conflated,
		"invalid", st.Invalid, "dropped", st.Dropped.Total(), "pending", st.Pending)
	fmt.Println("adds up:", st.Produced == st.Published+st.Conflated+st.Invalid+st.Dropped.Total()+st.Pending)
	// Output:
	// produced 4 published 2 conflated 0 invalid 1 dropped 1 pending 0
	// adds up: true
}

// Drops splits the dropped ticks by reason; Total is their sum, the term
// of the Stats identity.
func ExampleDrops_Total() {
	d := ticker.Drops{CircuitOpen: 120, PublishFailed: 8, Unsubscribed: 3}
	b, _ := json.Marshal(d)
	fmt.Println(string(b))
	fmt.Println("total", d.Total())
	// Output:
	// {"circuit_open":120,"publish_failed":8,"unsubscribed":3,"shutdown":0}
	// total 131
}

// Health is what a health endpoint serves. Taken while the engine runs it
// says "ok", how many instruments are subscribed (a duplicate token is
// refused and counted) and the exchange time of each underlying's newest
// tick; after Run has returned it says "stopped". The reload time and the
// counts are left out of the printed JSON: they depend on the clock and on
// when the publish loop ran (ExampleStats shows the counts).
func ExampleHealth() {
	ctx, stop := context.WithCancel(context.Background())
	now := time.Date(2026, 12, 3, 10, 0, 0, 0, market.IST())
	show := func(h ticker.Health) {
		b, _ := json.Marshal(h)
		var m map[string]any
		_ = json.Unmarshal(b, &m)
		delete(m, "last_reload")
		delete(m, "stats")
		b, _ = json.Marshal(m) // a map marshals with sorted keys
		fmt.Println(string(b))
	}
	var eng *ticker.Engine
	eng, err := ticker.New(ticker.Config{
		Source: script{stop: stop, then: func() { show(eng.Health()) }, ticks: []ticker.Tick{
			{Token: 101, LastPrice: 24010.5, Time: now},
			{Token: 102, LastPrice: 151.2, Time: now.Add(time.Second)},
		}},
		Publisher: discard,
		Instruments: func(ctx context.Context) ([]ticker.Instrument, error) {
			list, err := niftyPair(ctx)
			return append(list, list[0]), err // the duplicate is refused
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
	show(eng.Health())
	// Output:
	// {"breaker":"closed","instruments":2,"last_tick":{"NIFTY":"2026-12-03T10:00:01+05:30"},"refused_instruments":1,"reload_error":"","status":"ok"}
	// {"breaker":"closed","instruments":2,"last_tick":{"NIFTY":"2026-12-03T10:00:01+05:30"},"refused_instruments":1,"reload_error":"","status":"stopped"}
}

// PublisherFunc lets a plain function be the engine's Publisher, as in
// ExampleEngine; here it is called directly.
func ExamplePublisherFunc() {
	var count int
	var p ticker.Publisher = ticker.PublisherFunc(func(ctx context.Context, ticks []ticker.Tick) error {
		count += len(ticks)
		return ctx.Err()
	})
	err := p.Publish(context.Background(), []ticker.Tick{{Token: 101}, {Token: 102}})
	fmt.Println(count, err)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	fmt.Println(p.Publish(ctx, []ticker.Tick{{Token: 103}}))
	// Output:
	// 2 <nil>
	// context canceled
}

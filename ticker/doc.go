// Package ticker implements a streaming engine for market data. An Engine
// takes ticks from a Source, keeps the newest tick of every instrument and
// hands batches to a Publisher through a circuit breaker. It never blocks
// the source. The package also declares the shared vocabulary: Instrument,
// Tick and its validation, and the Source and Publisher interfaces.
// Sources and publishers live in sub-packages: ticker/mock (a simulated
// market), ticker/kite (Kite Connect) and ticker/redispub (Redis).
// ticker/market holds the exchange calendar, and ticker/chainpage serves a
// live option chain.
//
// A minimal use streams a Source into a Publisher until ctx ends:
//
//	eng, err := ticker.New(ticker.Config{
//		Source:      src, // a *mock.Source or a *kite.Source
//		Publisher:   pub, // a *redispub.Publisher, or a ticker.PublisherFunc
//		Instruments: func(ctx context.Context) ([]ticker.Instrument, error) {
//			return chain, nil // read again on every reload
//		},
//	})
//	if err != nil {
//		return err
//	}
//	err = eng.Run(ctx) // nil after a final flush once ctx ends
//
// Config documents each default on its field. An Engine is safe for
// concurrent use. Run starts the engine's goroutines (source, publish
// loop, reloader, expiry timer) under one task monitor. It returns only
// after all of them have ended. An engine runs once.
//
// # Data path
//
// Source.Run calls emit for each tick. emit validates the tick, stores it
// as the instrument's newest (Latest) and marks its pending slot. A newer
// tick replaces a pending one: latest wins, counted as Conflated. emit
// never waits for the publisher. The publish loop waits at most Linger for
// a batch to fill. It hands batches of up to BatchSize ticks, each with its
// Instrument, to the Publisher through the breaker.
//
// Drop instead of block. A batch the breaker refuses is dropped
// (circuit_open). So is a batch whose Publish fails, times out, panics or
// calls runtime.Goexit (publish_failed). While the breaker is open, the
// pending slots conflate. Once publishing works again, the newest tick of
// each instrument with a dropped tick is published once more (CatchUp). So
// after any outage every instrument's last published tick equals Latest.
// Whenever the engine is quiescent, and after Run returns,
//
//	Produced == Published + Conflated + Invalid + Dropped.Total() + Pending
//
// # Subscriptions
//
// Run calls Instruments at start and on every reload. Reload triggers one.
// The engine triggers one itself when a subscribed contract expires, at its
// Instrument.Expiry on the wall clock. The new list goes to the Source as a
// diff of what it has accepted. A failed Subscribe leaves the table as it
// was, and the next reload sends the same diff: Subscribe must be
// idempotent. An instrument with a zero or repeated token is refused and
// counted. A failing Instruments keeps the current subscriptions; Health
// reports it. A tick of an instrument not subscribed is dropped
// (unsubscribed).
//
// # Tasks and shutdown
//
// A Source whose Run fails, panics or returns early (ErrSourceReturned) is
// restarted as Config.SourceRestart says. Past a limit set there, Run
// returns an error wrapping ErrSourceGaveUp. If another loop ends early,
// Run returns an error wrapping ErrTaskEnded. When ctx ends, Run publishes
// what is pending within ShutdownTimeout and counts the rest as shutdown
// drops. A part that ignores its context holds Run until it returns.
//
// Health reports "ok", "degraded" or "stopped", with the reasons, the
// stats and the newest exchange time per underlying.
//
// Metrics (constant label "name"): steadfast_ticker_ticks_produced_total,
// steadfast_ticker_ticks_total{result} (one result per term of the
// identity), steadfast_ticker_pending, steadfast_ticker_catch_up_total,
// steadfast_ticker_publish_batch_size, steadfast_ticker_publish_duration_seconds,
// and the publisher names redis_publish_total, redis_publish_failures_total,
// redis_circuit_open_drops_total and redis_circuit_state. Tick.Validate
// documents what a valid tick is.
package ticker

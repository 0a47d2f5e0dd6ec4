// Package ticker implements a streaming engine for market data: an Engine
// takes ticks from a Source, keeps the newest tick of every instrument and
// hands batches to a Publisher through a circuit breaker, never blocking the
// source. It declares the vocabulary the engine and its parts share:
// Instrument, Tick and its validation, and the Source and Publisher
// interfaces. Sources and publishers live in sub-packages: ticker/mock (a
// simulated Indian index-options market), ticker/kite (Kite Connect),
// ticker/redispub (Redis); ticker/market holds the exchange calendar and
// the synthetic universe, and ticker/chainpage serves a live option chain.
//
// A minimal use streams a Source into a Publisher until ctx ends:
//
//	eng, err := ticker.New(ticker.Config{
//		Source:      src, // e.g. a *mock.Source or a *kite.Source
//		Publisher:   ticker.PublisherFunc(func(ctx context.Context, ticks []ticker.Tick) error {
//			return nil // e.g. a *redispub.Publisher
//		}),
//		Instruments: func(ctx context.Context) ([]ticker.Instrument, error) {
//			return chain, nil // the wanted subscriptions, read again on every reload
//		},
//	})
//	if err != nil {
//		return err
//	}
//	err = eng.Run(ctx) // nil after a final flush once ctx ends
//
// Defaults (Config documents each field): BatchSize 256 ticks, Linger 2ms,
// PublishTimeout 2s, ShutdownTimeout 5s; the breaker opens after 10
// consecutive failed publishes, first for 1s, then 1.2× longer after each
// failed probe up to 60s (Config.Breaker); reloads are debounced 1s,
// at least 5s apart, and retried with backoff from 1s to 1m; the source is
// restarted with backoff from 100ms to 30s, without limit. Name defaults to
// "ticker"; the breaker, the reloader and the monitor are named Name +
// "/publisher", "/subscriptions" and "/tasks". A nil Registerer means no
// metrics; a nil Logger means slog.Default().
//
// An Engine is safe for concurrent use. Run starts the engine's goroutines
// (source, publish loop, reloader, expiry timer) under one task monitor and
// returns only after all of them have ended.
//
// # Engine
//
// The data path: Source.Run calls emit for each tick; emit validates it
// (Tick.Validate its instrument's kind: an invalid tick is counted and
// never stored), stores it as
// the instrument's newest tick (Latest) and marks the instrument's pending
// slot (a newer tick replaces a pending one: latest wins, counted as
// Conflated). emit is safe for concurrent use, takes one of a fixed set of
// striped locks for the length of a copy, never waits for the publisher and,
// in the steady state, does not allocate. The publish loop wakes when a
// slot becomes pending, waits at most Linger for a batch to fill, and hands batches of up to BatchSize
// ticks to the Publisher through a circuit breaker (package breaker), each
// with a PublishTimeout deadline. The ticks it hands over carry their
// Instrument, so a publisher needs no lookup of its own.
//
// Drop instead of block: a batch the breaker refuses is dropped (reason
// circuit_open), as is a batch whose Publish fails, times out, panics or
// calls runtime.Goexit (publish_failed; the Publisher runs on a goroutine
// the publish loop owns, so a Goexit ends only that goroutine). After a refusal the loop tries the next batch only a
// probe interval later (an eighth of the breaker's current open period,
// within 10ms and 1s), so while the breaker is open the pending slots conflate instead
// of being taken only to be dropped. Every instrument with a dropped tick is remembered, and
// once publishing works again (after a successful publish, or as the
// half-open breaker's probe when no new tick arrives) the newest tick of
// each is republished once, unless a newer tick of it was published first
// (catch-up, counted in CatchUp, not in Published); a catch-up batch follows
// every published batch while any is owed, so a steady flow of new ticks
// never starves an instrument that ticks no more. So after any outage,
// once publishing works, every subscribed instrument's last published tick
// equals Latest.
//
// Accounting: whenever the engine is quiescent, and after Run returns,
//
//	Produced == Published + Conflated + Invalid + Dropped.Total() + Pending
//
// Subscriptions: Run calls Instruments once at start (before the source
// runs) and then on every reload; Reload triggers one, coalesced by a
// reloader (package reloader), and the engine triggers one itself when a
// subscribed contract expires (at its Instrument.Expiry, on the wall
// clock: the engine knows no exchange's hours), so an Instruments function that lists the nearest expiries rolls
// the chain. The new list is applied to the Source as a diff: Subscribe
// gets only the instruments added and removed (an instrument whose
// description changed is both; remove is applied first). The diff is taken
// against what the Source has accepted, which is what the engine's table
// holds: a Subscribe that fails leaves the table as it was and is sent again
// on the next reload, so a Source's Subscribe must be idempotent. A reload
// that changes only an instrument's description (a lot size revision) keeps
// its newest tick, its pending tick and any catch-up it is owed; the ticks
// go out with the new description. An instrument with a zero or repeated token
// is refused, counted and logged. A failing or panicking Instruments keeps
// the current subscriptions and is retried with the reloader's backoff;
// Health reports it meanwhile. A tick of an instrument not subscribed is
// dropped (unsubscribed), and so is a pending tick of an instrument a reload
// removes.
//
// Tasks: the source, the publish loop, the reloader and the expiry timer
// run under one task monitor (package taskmon). A Source whose Run fails,
// panics or returns before its context ends (ErrSourceReturned) is
// restarted with backoff (Config.SourceRestart), without limit by default;
// when it exceeds a limit set there, Run returns an error wrapping
// ErrSourceGaveUp. If another loop ends early, Run stops the engine and
// returns an error wrapping ErrTaskEnded that names it. When Run's context ends, the source and the
// reloader are stopped, what is pending is published, and what cannot be
// published within ShutdownTimeout (counting from the end of the context)
// is counted as a shutdown drop, as is a tick a source emits after that.
// ShutdownTimeout bounds the parts that honour their context: a Publisher,
// Instruments function or Source that ignores it holds Run until it
// returns, since Run leaves no goroutine behind; once ShutdownTimeout has
// passed, Run logs each part it still waits for. An engine runs once: a
// second Run returns ErrEngineRan.
//
// Health reports "ok", "degraded" (breaker not closed, the last Publish
// failed, no Publish succeeding for twice the PublishTimeout while ticks
// wait, a source failure in the last minute or a source given up, a loop
// that ended, the last reload failed) or "stopped", with the reasons, the
// stats and the newest exchange time per underlying; it marshals to JSON
// with snake_case keys.
//
// Metrics (constant label "name"): steadfast_ticker_ticks_produced_total
// (the left side of the identity), steadfast_ticker_ticks_total{result}
// for each right-side term but Pending (published, conflated, invalid,
// circuit_open, publish_failed, unsubscribed, shutdown: a sum over result
// plus steadfast_ticker_pending is the produced count),
// steadfast_ticker_catch_up_total, steadfast_ticker_publish_batch_size and
// steadfast_ticker_publish_duration_seconds (histograms), and the
// publisher-path names operators already use: redis_publish_total,
// redis_publish_failures_total, redis_circuit_open_drops_total (ticks) and
// redis_circuit_state (0 closed, 1 open, 2 half-open). The counters are read
// from the engine's own counts at scrape time. The breaker, the reloader
// and the monitor register their own metrics on the same Registerer.
//
// Latest takes no lock: each instrument keeps two tick buffers, emit writes
// the spare and swaps it in, and a reader registers in the buffer it copies,
// so a writer never overwrites a buffer being read (it takes a fresh one
// instead, which is rare and the only allocation on the emit path).
//
// # Instruments and expiry
//
// An Instrument's Expiry is the instant trading in the contract ends, not a
// date: the engine re-subscribes at that instant and applies no exchange
// rule. Whoever lists the instruments sets it: market.Universe and
// kite.ParseInstruments give NSE's and BSE's 15:30 IST on the expiry day.
//
// # Tick validation
//
// Tick.Validate rejects a tick with a zero token, a NaN or infinite price
// or analytic, a negative last price, bid, ask or implied volatility, a
// value beyond ±MaxTickValue or a time outside MinTickTime..MaxTickTime, or
// a bid above the ask when both are non-zero (zero means that side of the
// book is empty). A zero last price is accepted (no trade yet).
// Tick.Validate takes the instrument's kind: a future's price may be
// negative; the Engine validates with it. The error is a
// *TickError carrying the token and a TickReason whose String form is a
// stable label, and wraps ErrInvalidTick.
package ticker

// Package ticker implements the streaming engine for option-chain market
// data, and the market model it streams: instruments and ticks, tick validation, a parser for the
// broker's instrument dump, expiry calendars, a synthetic option universe,
// chain selection, exchange market hours and a realistic mock source that
// needs no data file and no credentials. It declares the Source and
// Publisher interfaces a streaming engine consumes; the mock source is a
// Source. Black–Scholes pricing lives in the sub-package ticker/bs.
//
// # Concurrency
//
// The market-model functions (Universe, Expiries, SelectChain,
// ParseInstruments, Tick.Validate) start no goroutines and keep no state
// between calls, so they may be called concurrently. Holidays and
// MarketHours are values that never change once made; copies may be shared
// between goroutines. ParseInstruments calls ParseConfig.Keep on the
// caller's goroutine, one row at a time. A MockSource is safe for
// concurrent use (Subscribe while Run streams); Run works in the caller's
// goroutine and starts no other, and returns when its context ends.
//
// # Dates and times
//
// Exchange dates are calendar dates in India Standard Time (IST, Asia/Kolkata,
// UTC+05:30, no daylight saving), so IST is a fixed zone and nothing needs
// the time zone database. An instant's date is its IST calendar date,
// whatever location it carries: 19:00 UTC on 1 December is 2 December. An
// Instrument's Expiry is midnight IST of its expiry date; the contract itself
// expires at the close that day. Holidays are given as dates
// (NewHolidays reads each value's year, month and day as written).
//
// # Market hours
//
// MarketHours has the regular NSE session only: open from 09:15:00 up to, not
// including, 15:30:00 IST on trading days, which are Mondays to Fridays not in
// the holiday list. Pre-open, closing and special sessions are not modelled.
// NextOpen and NextClose return the first opening or closing strictly after
// the given instant, so a loop that waits for them always moves forward.
//
// # Expiries and the synthetic universe
//
// An UnderlyingSpec says what an exchange lists for an index: strike step,
// lot size, tick size, expiry weekday, whether weekly and monthly series
// exist. NIFTY and BANKNIFTY return today's NSE values (Tuesday expiries;
// NIFTY weekly and monthly with step 50 and lot 75; BANKNIFTY monthly only,
// step 100, lot 35); exchanges change these, so they are parameters. Weekly
// expiries fall on every ExpiryWeekday, the monthly one on the last
// ExpiryWeekday of the month. An expiry that falls on a holiday or a weekend
// moves to the trading day before it, even into the previous month; an
// expiry so moved before the reference date is not listed.
//
// Universe lists, per underlying, the index itself and a call and a put at
// 2·StrikesPerSide+1 strikes around the spot rounded to the strike step for
// each of the nearest expiries (futures are not listed). Option tokens are
// derived from a hash of the seed and the contract (underlying, expiry date,
// strike, kind), so a contract keeps its token when the universe is rebuilt
// for a later date, and a different seed gives different tokens; a 32-bit
// collision, rare, is resolved by rehashing in listing order. Symbols follow
// the broker's convention: NIFTY25DEC24000CE for a monthly expiry and
// NIFTY25D0924000CE (year, month code 1–9 or O, N, D, day) for a weekly one.
//
// SelectChain picks, for each of the nearest expiries on or after a date,
// the strike listed nearest spot (the lower one on a tie) and the given number
// of listed strikes on each side; strikes are chosen per expiry, since
// expiries may list different strikes.
//
// # Instrument dump
//
// ParseInstruments reads the broker's CSV instrument dump as a stream with
// encoding/csv, reusing one record buffer. Columns are found by header name
// in any order; exchange_token and last_price are optional and are checked but
// not stored. EQ rows are equities, or indices when their segment is INDICES;
// FUT, CE and PE rows are futures, calls and puts and must have an expiry.
// Underlying is the name column as written (the index NIFTY 50 has the
// underlying "NIFTY 50" while its options have "NIFTY").
//
// No single row makes the call fail: a malformed row is skipped and reported
// in the ParseReport with its line number and a RowReason (counts by reason,
// and the first ParseConfig.MaxProblems rows in detail). A row repeating the
// token of a row already kept is reported as a duplicate and the first one
// stays; duplicates are looked for among kept rows only, so that memory grows
// with the kept rows, not with the dump. Only a bad header (ErrBadHeader) or
// a read error fails the call, which then still returns what it parsed. A
// quote left open swallows the lines up to the next quote; the CSV reader
// reports them as one syntax problem at the line where the quote opened.
//
// # Tick validation
//
// Tick.Validate rejects a tick with a zero token, a NaN or infinite price
// or analytic, a negative last price, bid, ask or implied volatility, or a
// bid above the ask when both are non-zero (zero means that side of the book
// is empty). A zero last price is accepted (no trade yet). The error is a
// *TickError carrying the token and a TickReason whose String form is a
// stable label, and wraps ErrInvalidTick.
//
// # Engine
//
// An Engine streams ticks from a Source to a Publisher and never blocks on
// either: a failing or slow publisher costs dropped (and later caught up)
// ticks, never a slower source or more memory.
//
//	eng, err := ticker.New(ticker.Config{
//		Source:      src,                 // e.g. a *MockSource
//		Publisher:   pub,                 // e.g. a *redispub.Publisher, or a PublisherFunc
//		Instruments: loadSubscriptions,   // the wanted subscriptions, called on every reload
//	})
//	...
//	err = eng.Run(ctx) // returns nil after a final flush once ctx ends
//
// Defaults: BatchSize 256 ticks, Linger 2ms, PublishTimeout 2s,
// ShutdownTimeout 5s; the breaker opens after 10 consecutive failed
// publishes and stays open 60s; reloads are debounced 1s, at least 5s
// apart, and retried with backoff from 1s to 1m; the source is restarted
// with backoff from 100ms to 30s, at most 10 times a minute.
//
// The data path: Source.Run calls emit for each tick; emit validates it
// (Tick.Validate: an invalid tick is counted and never stored), stores it as
// the instrument's newest tick (Latest) and marks the instrument's pending
// slot (a newer tick replaces a pending one: latest wins, counted as
// Conflated). emit is safe for concurrent use, takes one of a fixed set of
// striped locks for the length of a copy, never waits for the publisher and
// does not allocate. The publish loop wakes when a slot becomes pending,
// waits Linger for a batch to fill, and hands batches of up to BatchSize
// ticks to the Publisher through a circuit breaker (package breaker), each
// with a PublishTimeout deadline. The ticks it hands over carry their
// Instrument, so a publisher needs no lookup of its own.
//
// Drop instead of block: a batch the breaker refuses is dropped (reason
// circuit_open), as is a batch whose Publish fails, times out or panics
// (publish_failed). Every instrument with a dropped tick is remembered, and
// once publishing works again (after a successful publish, or as the
// half-open breaker's probe when no new tick arrives) the newest tick of
// each is republished once, unless a newer tick of it was published first
// (catch-up, counted in CatchUp, not in Published). So after any outage,
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
// subscribed contract expires (15:30 IST on its expiry date, on the wall
// clock), so an Instruments function that lists the nearest expiries rolls
// the chain. The new list is applied to the Source as a diff: Subscribe
// gets only the instruments added and removed (an instrument whose
// description changed is both). An instrument with a zero or repeated token
// is refused, counted and logged. A failing or panicking Instruments keeps
// the current subscriptions and is retried with the reloader's backoff;
// Health reports it meanwhile. A tick of an instrument not subscribed is
// dropped (unsubscribed), and so is a pending tick of an instrument a reload
// removes.
//
// Tasks: the source, the publish loop, the reloader and the expiry timer
// run under one task monitor (package taskmon). A Source whose Run fails or
// panics is restarted with backoff (Config.SourceRestart); when it exceeds
// its restart limit Run returns an error wrapping ErrSourceGaveUp. When
// Run's context ends, the source and the reloader are stopped, what is
// pending is published, and what cannot be published within
// ShutdownTimeout (counting from the end of the context) is counted as a
// shutdown drop, as is a tick a source emits after that. An engine runs
// once: a second Run returns ErrEngineRan.
//
// Health reports "ok", "degraded" (breaker not closed, a source failure in
// the last minute or a source given up, the last reload failed) or
// "stopped", with the reasons, the stats and the newest exchange time per
// underlying; it marshals to JSON with snake_case keys.
//
// Metrics (constant label "name"): steadfast_ticker_ticks_total{result} for
// every term of the identity (produced, published, conflated, invalid,
// circuit_open, publish_failed, unsubscribed, shutdown) and catch_up,
// steadfast_ticker_pending, steadfast_ticker_publish_batch_size and
// steadfast_ticker_publish_duration_seconds (histograms), and the
// publisher-path names operators already use: redis_publish_total,
// redis_publish_failures_total, redis_circuit_open_drops_total (ticks) and
// redis_circuit_state (0 closed, 1 open, 2 half-open). The counters are read
// from the engine's own counts at scrape time. The breaker, the reloader
// and the monitor register their own metrics on the same Registerer.
//
// Latest is not lock-free in the strict sense: it takes the instrument's
// stripe lock for the length of one copy. A lock-free read without an
// allocation per tick would need a sequence lock over the tick's words,
// which Go's race detector rejects unless every word is an atomic, and
// about twenty atomic stores per tick cost more on the emit path than the
// stripe lock does; the lock is never held across I/O or a call out of the
// engine, so Latest never waits for the publisher.
//
// # Mock source
//
// NewMockSource returns a simulated market implementing Source, for use
// outside market hours or without live credentials. Each underlying follows
// geometric Brownian motion; each option is priced with Black–Scholes
// (package ticker/bs) at a volatility read from a smile, so put–call parity
// holds and the ticks carry IV and the Greeks; quotes never cross, volume
// only grows within a day, open interest peaks at the money. Per-instrument
// state lives in a mockstate store bounded by MockConfig.MaxSize; expired
// contracts leave it at 15:30 IST on their expiry date and the next expiries
// are subscribed in their place. MockSource.Step produces one round for a
// given simulated time, so the output is a pure function of the Seed, the
// configuration, the subscriptions and the times stepped; Run calls it on
// every Interval with MockConfig.Now(), which may run faster than real time
// to replay a trading day. The MockSource and MockConfig documentation gives
// the details: pricing and quoting rules, determinism, rollover, and what
// Subscribe refuses.
package ticker

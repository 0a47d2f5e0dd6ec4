// Package ticker implements the streaming engine for option-chain market
// data (Engine, see "Engine" below), and the market model it streams:
// instruments and ticks, tick validation, a parser for the broker's
// instrument dump, the index derivatives' contract specifications,
// expiry calendars, a synthetic universe, chain selection, exchange market
// hours and a mock source that needs no data file and no credentials. It
// declares the Source and Publisher interfaces a streaming engine consumes;
// the mock source is a Source. Black–Scholes pricing lives in the
// sub-package ticker/bs.
//
// A minimal use lists a synthetic universe, picks a chain and streams it
// from the mock, replaying the latest session when the market is closed:
//
//	hours := ticker.MarketHours{Holidays: ticker.NSEHolidays2026()}
//	clock := ticker.SessionClock(time.Now(), hours, 1)
//	ins, _ := ticker.Universe(ticker.UniverseConfig{Date: clock(), Holidays: hours.Holidays})
//	chain := ticker.SelectChain(ins, "NIFTY", ticker.NIFTY().Spot, clock(), 2, 10)
//	src, _ := ticker.NewMockSource(ticker.MockConfig{Now: clock, Holidays: hours.Holidays})
//	_ = src.Subscribe(chain, nil)
//	_ = src.Run(ctx, func(t ticker.Tick) { ... })
//
// Defaults: Universe lists NIFTY and BANKNIFTY, 2 expiries, 10 strikes a
// side and 3 futures; the mock ticks every second with a 6.5% rate and 1.2%
// dividend yield, at most 5000 instruments, 10 strikes a side when it rolls,
// named "mock". The zero Holidays means no holidays.
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
// # Contract specifications
//
// An UnderlyingSpec says what an exchange lists for an index: exchange,
// strike step, lot size (and the lots of earlier series, PastLots), tick
// sizes, expiry weekday, whether weekly and monthly series exist. NIFTY,
// BANKNIFTY, FINNIFTY, MIDCPNIFTY and NIFTYNXT50 (NSE, exchange NFO) and
// SENSEX and BANKEX (BSE, exchange BFO) return the values in force in
// December 2026, each fact with its source in specs.go: NSE expiries on
// Tuesdays and BSE's on Thursdays; weekly series for NIFTY and SENSEX only;
// lots 65, 30, 60, 120, 25, 20 and 30 (NSE's from the January 2026 series);
// index futures ticks of ₹0.05, 0.10 or 0.20 by index level
// (IndexFuturesTickSize), options ₹0.05. Exchanges change these, so they are
// parameters. NSEHolidays2026 is NSE's trading-holiday list for 2026 (with
// the circulars it comes from); Holidays.With extends it, NewHolidays
// replaces it.
//
// Tokens follow the Kite instrument dump: an instrument token is the
// exchange token shifted left by 8 bits with the segment code in the low
// byte (SegmentCode: 1 NSE, 2 NFO, 3 CDS, 4 BSE, 5 BFO, 6 BCD, 7 MCX, 9
// indices). The index rows of a real dump are named "NIFTY 50", "NIFTY BANK"
// and so on while their derivatives say "NIFTY", "BANKNIFTY":
// IndexUnderlying maps one to the other.
//
// # Expiries and the synthetic universe
//
// Weekly
// expiries fall on every ExpiryWeekday, the monthly one on the last
// ExpiryWeekday of the month. An expiry that falls on a holiday or a weekend
// moves to the trading day before it, even into the previous month; an
// expiry so moved before the reference date is not listed.
//
// An expiry day's contracts expire at its 15:30 close: from then on
// Expiries, Universe and SelectChain no longer list that expiry.
//
// Universe lists, per underlying, the index itself, futures of the nearest
// three monthly expiries, and a call and a put at 2·StrikesPerSide+1 strikes
// around the spot rounded to the strike step for each of the nearest
// expiries, on the spec's exchange and with the lot of each expiry's series.
// Contract tokens are Kite-shaped, with a 24-bit exchange token derived from
// a hash of the seed and the contract (underlying, expiry date, strike,
// kind), so a contract keeps its token when the universe is rebuilt for a
// later date, and a different seed gives different tokens; a collision, rare,
// is resolved by rehashing in listing order. Their segment byte (2 or 5)
// keeps them apart from the index tokens (9). Symbols follow the broker's
// convention: NIFTY25DEC24000CE for a monthly expiry, NIFTY25D0924000CE
// (year, month code 1–9 or O, N, D, day) for a weekly one, NIFTY25DECFUT for
// a future.
//
// SelectChain picks, for each of the nearest expiries still open at an
// instant, the strike listed nearest spot (the lower one on a tie) and the
// given number of listed strikes on each side; strikes are chosen per expiry,
// since expiries may list different strikes.
//
// # Instrument dump
//
// ParseInstruments reads the broker's CSV instrument dump as a stream with
// encoding/csv, reusing one record buffer. Columns are found by header name
// in any order; exchange_token and last_price are optional and are checked;
// exchange_token is kept (Instrument.ExchangeToken) and must agree with the
// instrument token (token = exchange_token<<8 | segment code, for the
// segments SegmentCode knows). EQ rows are equities, or indices when their
// segment is INDICES; FUT, CE and PE rows are futures, calls and puts and
// must have an expiry. Underlying is the name column as written, except that
// an index with listed derivatives gets its derivatives' name
// (IndexUnderlying: "NIFTY 50" becomes "NIFTY"), so a chain's index is found
// by underlying on a real dump as on the synthetic universe.
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
// or analytic, a negative last price, bid, ask or implied volatility, a
// value beyond ±MaxTickValue or a time outside MinTickTime..MaxTickTime, or
// a bid above the ask when both are non-zero (zero means that side of the
// book is empty). A zero last price is accepted (no trade yet).
// Tick.ValidateFor takes the instrument's kind: a future's price may be
// negative; the Engine validates with it. The error is a
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
// with backoff from 100ms to 30s, without limit (SourceRestart.MaxRestarts
// sets one). The breaker, the reloader and the monitor are named Name +
// "/publisher", "/subscriptions" and "/tasks" (Name defaults to "ticker").
//
// The data path: Source.Run calls emit for each tick; emit validates it
// (Tick.Validate: an invalid tick is counted and never stored), stores it as
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
// circuit_open), as is a batch whose Publish fails, times out or panics
// (publish_failed). After a refusal the loop tries the next batch only a
// probe interval later (an eighth of the breaker's OpenTimeout, within 10ms
// and 1s), so while the breaker is open the pending slots conflate instead
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
// subscribed contract expires (15:30 IST on its expiry date, on the wall
// clock), so an Instruments function that lists the nearest expiries rolls
// the chain. The new list is applied to the Source as a diff: Subscribe
// gets only the instruments added and removed (an instrument whose
// description changed is both; remove is applied first). The diff is taken
// against what the Source has accepted: a Subscribe that fails is sent again
// on the next reload, so a Source's Subscribe must be idempotent. An instrument with a zero or repeated token
// is refused, counted and logged. A failing or panicking Instruments keeps
// the current subscriptions and is retried with the reloader's backoff;
// Health reports it meanwhile. A tick of an instrument not subscribed is
// dropped (unsubscribed), and so is a pending tick of an instrument a reload
// removes.
//
// Tasks: the source, the publish loop, the reloader and the expiry timer
// run under one task monitor (package taskmon). A Source whose Run fails or
// panics is restarted with backoff (Config.SourceRestart), without limit
// by default; when it exceeds a limit set there, Run returns an error
// wrapping ErrSourceGaveUp. When Run's context ends, the source and the
// reloader are stopped, what is pending is published, and what cannot be
// published within ShutdownTimeout (counting from the end of the context)
// is counted as a shutdown drop, as is a tick a source emits after that.
// ShutdownTimeout bounds the parts that honour their context: a Publisher,
// Instruments function or Source that ignores it holds Run until it
// returns, since Run leaves no goroutine behind. An engine runs
// once: a second Run returns ErrEngineRan.
//
// Health reports "ok", "degraded" (breaker not closed, a Publish running
// past twice its PublishTimeout, a source failure in the last minute or a
// source given up, the last reload failed) or
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
// Latest takes no lock: each instrument keeps two tick buffers, emit writes
// the spare and swaps it in, and a reader registers in the buffer it copies,
// so a writer never overwrites a buffer being read (it takes a fresh one
// instead, which is rare and the only allocation on the emit path).
//
// # Mock source
//
// NewMockSource returns a simulated market implementing Source, for use
// outside market hours or without live credentials. It trades only in the
// session (09:15–15:30 IST on trading days); SessionClock gives it a clock
// that replays the latest session from its open when the market is closed
// (ReplayStart says where), at any speed. Each underlying follows geometric
// Brownian motion on a trading-time variance clock (TradingYears: a trading
// day is 1/252 of a year, 0.8 of it spread over the session and 0.2 paid as
// a gap at the open); each option is priced with Black–Scholes (package
// ticker/bs) at a volatility read from a sticky-strike smile, so put–call
// parity holds and the ticks carry IV and the Greeks. Per-instrument state
// lives in a mockstate store (named "<Name>/state") bounded by
// MockConfig.MaxSize; expired contracts leave it at 15:30 IST on their
// expiry date and, for the synthetic universe's contracts, the next expiries
// are subscribed in their place. MockSource.Step produces one round for a
// given simulated time, so the output is a pure function of the Seed, the
// configuration, the subscriptions and the times stepped; Run calls it on
// every Interval with MockConfig.Now(). The MockSource and MockConfig
// documentation gives the details.
//
// # How realistic is the mock
//
// Modelled: the session and holidays (no ticks outside, volume and open
// interest frozen, an overnight gap at the open, Change against the previous
// session's close, volume restarting at the open); the exchanges' contract
// specifications as of December 2026 (lots by series, strike steps, expiry
// days, futures tick bands) and Kite-shaped tokens; a volatility skew and
// smile with a term structure, sticky to strikes within a session, whose
// at-the-money level moves against the index from one session to the next;
// Black–Scholes prices and Greeks that agree with how the mock's own prices
// move with the index (tested by repricing at S±ε); spreads of one or two
// ticks at the money, wider away from it and near expiry; quantities in
// whole lots; volume concentrated at the money with wings that still trade;
// open interest that walks with the trades of each contract.
//
// Not modelled: order books beyond the best level, trades and their sizes
// (volume is a rate), intraday volatility patterns (the open and close are
// as calm as midday), jumps and volatility clustering within a session,
// pre-open, closing and Muhurat sessions, circuit limits, the expiry-day
// settlement, dividends as cash amounts, early exercise, interest-rate
// curves (one flat rate), and any link between indices (each moves
// independently). Theta is the calendar-time Black–Scholes theta; the mock's
// prices decay on the trading-time clock, so over a weekend they lose one
// trading day's worth, not three calendar days'.
package ticker

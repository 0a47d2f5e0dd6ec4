// Package ticker implements the market model for streaming option-chain
// market data: instruments and ticks, tick validation, a parser for the
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

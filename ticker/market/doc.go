// Package market models the Indian equity-derivatives market for package
// ticker: the index derivatives' contract specifications and lots by date,
// the expiry calendar, NSE's holidays and trading hours, a session clock that
// replays the latest session, Kite-shaped tokens and segment codes, and a
// synthetic universe of instruments with chain selection. The engine in
// package ticker knows none of this; the mock source (ticker/mock) and the
// Kite parser (ticker/kite) use it.
//
// A minimal use lists a synthetic universe and picks a chain from it,
// replaying the latest session when the market is closed:
//
//	hours := market.Hours{Holidays: market.Holidays2026()}
//	clock := market.SessionClock(time.Now(), hours, 1)
//	ins, err := market.Universe(market.UniverseConfig{Date: clock(), Holidays: hours.Holidays})
//	if err != nil {
//		return err
//	}
//	chain := market.SelectChain(ins, "NIFTY", market.NIFTY().Spot, clock(), 2, 10)
//
// Defaults (UniverseConfig documents each field): Universe lists NIFTY and
// BANKNIFTY, 2 expiries, 10 strikes a side and 3 futures. The zero Holidays
// means no holidays; the zero Hours knows none.
//
// Nothing here starts a goroutine or keeps state between calls: the
// functions may be called concurrently, and Holidays and Hours are values
// that never change once made, so copies may be shared.
//
// # Dates and times
//
// Exchange dates are calendar dates in India Standard Time (IST, Asia/Kolkata,
// UTC+05:30, no daylight saving), so IST is a fixed zone and nothing needs
// the time zone database. An instant's date is its IST calendar date,
// whatever location it carries: 19:00 UTC on 1 December is 2 December. An
// Instrument's Expiry, as Universe, Expiries and kite.ParseInstruments give
// it, is the instant trading ends: 15:30 IST on the expiry date. Holidays are given as dates
// (NewHolidays reads each value's year, month and day as written).
//
// # Market hours
//
// Hours has the regular NSE session, open from 09:15:00 up to, not
// including, 15:30:00 IST on trading days, which are Mondays to Fridays not in
// the holiday list, and the special sessions the list declares
// (Holidays.WithSessions): a Budget day on a weekend, Muhurat trading on
// Diwali. A special session replaces the hours of its date, on a weekend or
// a holiday too. Contracts never expire in one that falls on a weekend or
// closes before 15:30: an expiry moves to the trading day before. Pre-open
// and closing sessions are not modelled. NextOpen and NextClose return the
// first opening or closing strictly after the given instant, so a loop that
// waits for them always moves forward.
//
// # Contract specifications
//
// An UnderlyingSpec says what an exchange lists for an index: exchange,
// strike step, lot size (and the lots of earlier series, PastLots: a
// contract keeps the lot it was listed with, so a revision reaches weekly
// contracts before monthly ones), tick
// sizes, expiry weekday, whether weekly and monthly series exist. NIFTY,
// BANKNIFTY, FINNIFTY, MIDCPNIFTY and NIFTYNXT50 (NSE, exchange NFO) and
// SENSEX and BANKEX (BSE, exchange BFO) return the values in force in
// December 2026, each fact with its source in specs.go: NSE expiries on
// Tuesdays and BSE's on Thursdays; weekly series for NIFTY and SENSEX only;
// lots 65, 30, 60, 120, 25, 20 and 30 (NSE's from the January 2026 series);
// index futures ticks of ₹0.05, 0.10 or 0.20 by index level
// (IndexFuturesTickSize), options ₹0.05. Exchanges change these, so they are
// parameters. Holidays2026 is NSE's trading calendar for 2026, its
// holidays and the Budget-day session of Sunday 1 February (with the
// circulars they come from); Holidays.With and WithSessions extend it,
// NewHolidays replaces it.
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
// An expiry day's contracts expire at its 15:30 close, the instant in their
// Expiry: from then on Expiries, Universe and SelectChain no longer list that
// expiry.
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
package market

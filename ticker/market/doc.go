// Package market models the Indian equity-derivatives market for package
// ticker. It holds the index derivatives' contract specifications and lots
// by date, the expiry calendar, NSE's holidays and trading hours, and a
// session clock that replays the latest session. It also holds Kite-shaped
// tokens and segment codes, and a synthetic universe of instruments with
// chain selection. The engine in package ticker knows none of this. The
// mock source (ticker/mock) and the Kite parser (ticker/kite) use it.
//
// A minimal use lists a synthetic universe and picks a chain from it. When
// the market is closed, the clock replays the latest session:
//
//	hours := market.Hours{Holidays: market.Holidays2026()}
//	clock := market.SessionClock(time.Now(), hours, 1)
//	ins, err := market.Universe(market.UniverseConfig{Date: clock(), Holidays: hours.Holidays})
//	if err != nil {
//		return err
//	}
//	chain := market.SelectChain(ins, "NIFTY", market.NIFTY().Spot, clock(), 2, 10)
//
// UniverseConfig documents each default on its field. The zero Holidays
// means no holidays.
//
// Nothing here starts a goroutine or keeps state between calls. The
// functions may be called concurrently. Holidays and Hours are values that
// never change once made, so copies may be shared.
//
// # Dates and times
//
// Exchange dates are calendar dates in India Standard Time (IST, UTC+05:30,
// no daylight saving), so nothing needs the time zone database. An
// instant's date is its IST calendar date, whatever location it carries.
// An Instrument's Expiry, as Universe, Expiries and kite.ParseInstruments
// give it, is the instant trading ends: 15:30 IST on the expiry date. From
// that instant Expiries, Universe and SelectChain no longer list it.
//
// # Market hours
//
// Hours has the regular NSE session, 09:15:00 up to (not including)
// 15:30:00 IST on trading days. Trading days are Mondays to Fridays not in
// the holiday list, plus the special sessions the list declares
// (Holidays.WithSessions), such as a Budget day on a weekend or Muhurat
// trading on Diwali. A special session replaces the hours of its date.
// Pre-open and closing sessions are not modelled. NextOpen and NextClose
// return the first opening or closing strictly after the given instant.
//
// # Contract specifications
//
// An UnderlyingSpec says what an exchange lists for an index. NIFTY,
// BANKNIFTY, FINNIFTY, MIDCPNIFTY, NIFTYNXT50, SENSEX and BANKEX return
// the values in force in December 2026, each fact with its source in
// specs.go. A contract keeps the lot it was listed with, so a revision
// reaches weekly contracts before monthly ones (PastLot). Exchanges change
// these facts, so they are parameters. Holidays2026 is NSE's calendar for
// 2026, with the circulars it comes from. Holidays.With and WithSessions
// extend it; NewHolidays replaces it.
//
// Weekly expiries fall on every ExpiryWeekday, the monthly one on the last
// ExpiryWeekday of the month. An expiry on a holiday or a weekend moves to
// the trading day before, even into the previous month. So does one on a
// special session that falls on a weekend or closes before 15:30.
//
// Tokens follow the Kite instrument dump: the exchange token shifted left
// by 8 bits, with the segment code (SegmentCode) in the low byte. A dump's
// index rows are named "NIFTY 50", "NIFTY BANK" and so on, while their
// derivatives say "NIFTY", "BANKNIFTY". IndexUnderlying maps one to the
// other.
package market

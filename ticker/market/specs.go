package market

import (
	"time"

	"github.com/steadfast-go/steadfast/ticker/internal/nse"
)

// This file holds the contract specifications of the index derivatives the
// synthetic universe lists, as the exchanges set them in December 2026, with
// the source of each fact next to it. Exchanges revise lot sizes every few
// months (SEBI reviews the contract value twice a year) and tick sizes every
// month, so each value is a field of UnderlyingSpec that a caller may change;
// PastLots keeps the lot sizes of earlier series, so that a universe listed
// for an older date gets the lot its contracts had.

// PastLot is the lot size of the contracts that expired before a revision
// reached them.
//
// Exchanges give a contract the lot in force when it was listed: a revision
// applies to contracts listed after it takes effect, and those already
// listed keep their lot until they expire. A weekly contract is listed a few
// weeks before it expires and a monthly one about three months before, so a
// revision reaches the weekly series weeks before the monthly one. Listing
// dates are not modelled; instead each PastLot says, per series, the first
// expiry date that has the next lot: Before for weekly contracts and
// MonthlyBefore for monthly contracts and futures.
//
// Quarterly and half-yearly contracts, listed long before they expire, are
// moved to the new lot on a date the exchange sets during their life. They
// are monthly contracts here, with the lot they expire with.
type PastLot struct {
	// Before is the first expiry date (its calendar date as written) whose
	// weekly contracts no longer have LotSize.
	Before time.Time
	// MonthlyBefore is the first expiry date whose monthly contracts and
	// futures no longer have LotSize. The zero value means Before.
	MonthlyBefore time.Time
	// LotSize is the lot of contracts expiring before Before (MonthlyBefore
	// for a monthly one), and on or after the same date of the previous
	// entry, if any.
	LotSize int
}

// before returns the first expiry day of the series (monthly or weekly) that
// no longer has p.LotSize.
func (p PastLot) before(monthly bool) nse.Day {
	if monthly && !p.MonthlyBefore.IsZero() {
		return nse.Civil(p.MonthlyBefore.Date())
	}
	return nse.Civil(p.Before.Date())
}

// ymdIST returns midnight IST of a calendar date.
func ymdIST(y int, m time.Month, d int) time.Time { return nse.Civil(y, m, d).At(0, IST()) }

// Lot-size history, newest first. Each date below is the day after the last
// expiry with the old lot, or the first of the month after it for a monthly
// series, so that the table holds whichever weekday the series expires on.
//   - NSE circular NSE/FAOP/70616 (3 October 2025, effective 28 October 2025
//     EOD): NIFTY 75→65, BANKNIFTY 35→30, FINNIFTY 65→60, MIDCPNIFTY
//     140→120, NIFTYNXT50 unchanged at 25. Weekly and monthly contracts
//     change from the January 2026 series: the last old weekly expired on
//     23 December 2025 and the last old monthly on 30 December 2025; the
//     first new ones expire on 6 and 27 January 2026. Quarterly and
//     half-yearly contracts were revised at the end of 30 December 2025. So
//     every contract expiring on or after 1 January 2026 has the new lot.
//   - NSE circular of 28 March 2025 (in effect from 25 April 2025, lot review
//     on the March 2025 average): BANKNIFTY 30→35 and MIDCPNIFTY 120→140.
//     Contracts listed from 25 April 2025 have the new lot: the monthlies of
//     April, May and June 2025 kept the old one, and the first monthly with
//     the new lot expired on 31 July 2025.
//   - SEBI circular SEBI/HO/MRD/TPD-1/P/CIR/2024/132 (1 October 2024), NSE's
//     circular of 18 October 2024 and BSE's notice applying it to contracts
//     listed from 20 November 2024: NIFTY 25→75, BANKNIFTY 15→30, FINNIFTY
//     25→65, MIDCPNIFTY 50→120, NIFTYNXT50 10→25, SENSEX 10→20, BANKEX
//     15→30. Weekly and monthly contracts already listed kept the old lot to
//     their expiry. The last with the old lot: NIFTY's weekly of 19 December
//     2024 and monthly of 30 January 2025 (the first new ones: 2 January and
//     27 February 2025); BANKNIFTY's monthly of 29 January 2025; SENSEX's
//     weekly of 3 January 2025 and monthly of 31 January 2025. The other
//     indices' January 2025 monthlies kept the old lot by the same rule, and
//     had no weekly contracts listed after 20 November 2024. Quarterly
//     contracts moved at the end of 24 December 2024 (BANKNIFTY) and 26
//     December 2024 (NIFTY).
func niftyPastLots() []PastLot {
	return []PastLot{
		{Before: ymdIST(2024, 12, 20), MonthlyBefore: ymdIST(2025, 2, 1), LotSize: 25},
		{Before: ymdIST(2026, 1, 1), LotSize: 75},
	}
}

func bankniftyPastLots() []PastLot {
	return []PastLot{
		{Before: ymdIST(2025, 2, 1), LotSize: 15},
		{Before: ymdIST(2025, 7, 1), LotSize: 30},
		{Before: ymdIST(2026, 1, 1), LotSize: 35},
	}
}

func finniftyPastLots() []PastLot {
	return []PastLot{
		{Before: ymdIST(2025, 2, 1), LotSize: 25},
		{Before: ymdIST(2026, 1, 1), LotSize: 65},
	}
}

func midcpniftyPastLots() []PastLot {
	return []PastLot{
		{Before: ymdIST(2025, 2, 1), LotSize: 50},
		{Before: ymdIST(2025, 7, 1), LotSize: 120},
		{Before: ymdIST(2026, 1, 1), LotSize: 140},
	}
}

func niftynxt50PastLots() []PastLot {
	return []PastLot{{Before: ymdIST(2025, 2, 1), LotSize: 10}}
}

func sensexPastLots() []PastLot {
	return []PastLot{{Before: ymdIST(2025, 1, 4), MonthlyBefore: ymdIST(2025, 2, 1), LotSize: 10}}
}

func bankexPastLots() []PastLot {
	return []PastLot{{Before: ymdIST(2025, 2, 1), LotSize: 15}}
}

// The tokens of the index rows in the Kite instrument dump (segment INDICES,
// so token&0xFF is 9 and token>>8 the exchange token): NIFTY 50 256265
// (exchange token 1001), NIFTY BANK 260105 (1016), NIFTY FIN SERVICE 257801
// (1007), NIFTY MID SELECT 288009 (1125), NIFTY NEXT 50 270857 (1058), as
// listed in the dump; SENSEX 265 (1) and BANKEX 274441 (1072) are the BSE
// index rows' tokens as commonly used with Kite. BANKEX's is not confirmed:
// no primary source (a dump or Kite's documentation) was found for it.
const (
	tokenNIFTY      = 256265
	tokenBANKNIFTY  = 260105
	tokenFINNIFTY   = 257801
	tokenMIDCPNIFTY = 288009
	tokenNIFTYNXT50 = 270857
	tokenSENSEX     = 265
	tokenBANKEX     = 274441
)

// Expiry days. NSE moved every equity derivative expiry to Tuesday and BSE to
// Thursday for contracts expiring on or after 1 September 2025 (SEBI circular
// SEBI/HO/MRD/MRD-TPD-1/P/CIR/2025/76 of 26 May 2025; NSE circular NSE/FAOP/68747
// and BSE's of 17 June 2025). Since 20 November 2024 each exchange lists
// weekly options on one index only (SEBI circular of 1 October 2024): NIFTY
// on NSE, SENSEX on BSE; the other indices have monthly series only (NSE
// contract specifications: "Nifty 50 Index will have 4 weekly expiration
// contracts ... and 3 monthly expiration contracts"; the other four indices
// "3 monthly expiration contracts"). Index options keep a tick of ₹0.05 (NSE
// contract specifications).
//
// Strike steps are the intervals listed near the money for each index's
// current level: NSE's contract specifications say only "depending on
// underlying price". NIFTY's 50, BANKNIFTY's 100 and NIFTYNXT50's 100 are
// confirmed. FINNIFTY's 50 and MIDCPNIFTY's 25 are not (their contracts
// were launched with 100 and 50), nor SENSEX's and BANKEX's 100: no circular
// stating them was found.
//
// Lots after December 2026 are not known: SEBI's semi-annual review due
// around October 2026 may revise them, which would change the January and
// February 2027 futures Universe lists for late 2026. No circular of that
// review was found; LotSize and PastLots are fields to change when it comes.
//
// Spot and Volatility are reference levels for the synthetic universe and the
// mock, of the order of the indices in late 2026; they are not quotes.

// NIFTY returns the NIFTY 50 index as NSE lists its derivatives in December
// 2026: weekly and monthly options expiring on Tuesdays, strike step 50, lot
// 65 (75 from the January 2025 weeklies and February 2025 monthlies to
// December 2025, 25 before).
func NIFTY() UnderlyingSpec {
	s := nseSpec("NIFTY", "NIFTY 50", tokenNIFTY, 26000, 50, 65, niftyPastLots(), 0.13)
	s.Weekly = true
	return s
}

// BANKNIFTY returns the NIFTY BANK index as NSE lists its derivatives in
// December 2026: monthly options only, on the last Tuesday, strike step 100,
// lot 30 (35 in the July to December 2025 series).
func BANKNIFTY() UnderlyingSpec {
	return nseSpec("BANKNIFTY", "NIFTY BANK", tokenBANKNIFTY, 59000, 100, 30, bankniftyPastLots(), 0.15)
}

// FINNIFTY returns the NIFTY FIN SERVICE index as NSE lists its derivatives
// in December 2026: monthly options on the last Tuesday, strike step 50, lot
// 60.
func FINNIFTY() UnderlyingSpec {
	return nseSpec("FINNIFTY", "NIFTY FIN SERVICE", tokenFINNIFTY, 27500, 50, 60, finniftyPastLots(), 0.14)
}

// MIDCPNIFTY returns the NIFTY MID SELECT index as NSE lists its derivatives
// in December 2026: monthly options on the last Tuesday, strike step 25, lot
// 120.
func MIDCPNIFTY() UnderlyingSpec {
	return nseSpec("MIDCPNIFTY", "NIFTY MID SELECT", tokenMIDCPNIFTY, 13500, 25, 120, midcpniftyPastLots(), 0.17)
}

// NIFTYNXT50 returns the NIFTY NEXT 50 index as NSE lists its derivatives in
// December 2026: monthly options on the last Tuesday, strike step 100, lot 25.
func NIFTYNXT50() UnderlyingSpec {
	return nseSpec("NIFTYNXT50", "NIFTY NEXT 50", tokenNIFTYNXT50, 70000, 100, 25, niftynxt50PastLots(), 0.16)
}

// SENSEX returns the BSE SENSEX index as BSE lists its derivatives (exchange
// BFO) in December 2026: weekly and monthly options expiring on Thursdays,
// strike step 100, lot 20.
func SENSEX() UnderlyingSpec {
	s := bseSpec("SENSEX", "SENSEX", tokenSENSEX, 85000, 100, 20, sensexPastLots(), 0.13)
	s.Weekly = true
	return s
}

// BANKEX returns the BSE BANKEX index as BSE lists its derivatives (exchange
// BFO) in December 2026: monthly options on the last Thursday, strike step
// 100, lot 30.
func BANKEX() UnderlyingSpec {
	return bseSpec("BANKEX", "BANKEX", tokenBANKEX, 66000, 100, 30, bankexPastLots(), 0.15)
}

// nseSpec returns an NSE index as listed on NFO: monthly options expiring
// on the last Tuesday, options tick ₹0.05.
func nseSpec(name, symbol string, token uint32, spot, step float64, lot int, past []PastLot, vol float64) UnderlyingSpec {
	return UnderlyingSpec{
		Name: name, Symbol: symbol, Token: token, Exchange: "NFO", IndexExchange: "NSE",
		Spot: spot, StrikeStep: step, LotSize: lot, PastLots: past,
		TickSize: 0.05, ExpiryWeekday: time.Tuesday, Monthly: true, Volatility: vol,
	}
}

// bseSpec returns a BSE index as listed on BFO: monthly options expiring on
// the last Thursday, options tick ₹0.05.
func bseSpec(name, symbol string, token uint32, spot, step float64, lot int, past []PastLot, vol float64) UnderlyingSpec {
	s := nseSpec(name, symbol, token, spot, step, lot, past, vol)
	s.Exchange, s.IndexExchange, s.ExpiryWeekday = "BFO", "BSE", time.Thursday
	return s
}

// IndexFuturesTickSize returns the tick size NSE sets for an index future
// whose underlying index closed at level: ₹0.05 up to 15,000, ₹0.10 above
// 15,000 up to 30,000 and ₹0.20 above 30,000. NSE introduced these bands for
// index futures from 15 April 2025 (its circulars of March 2025; first
// revision at the end of 11 April 2025 on the closing level of 28 March
// 2025) and reviews them monthly; index options keep ₹0.05. The synthetic universe applies
// the same bands to BSE index futures, which is not confirmed: no BSE notice
// on its index futures' tick sizes after 2016 was found.
func IndexFuturesTickSize(level float64) float64 {
	switch {
	case level > 30000:
		return 0.20
	case level > 15000:
		return 0.10
	}
	return 0.05
}

// Holidays2026 returns NSE's trading calendar for 2026 in the equity and
// equity-derivatives segments: the fifteen weekday holidays of NSE's circular
// of December 2025 (trading holidays for the calendar year 2026), the
// holiday of 15 January 2026 for the municipal elections in Maharashtra (NSE
// circular NSE/CMTR/72260 of 12 January 2026), and one special session: a
// full session, 09:15 to 15:30, on Sunday 1 February 2026, the day of the
// Union Budget (NSE circular of 16 January 2026, "live trading session on
// February 01, 2026"; BSE declared it a special trading day). Holidays that
// fall on a weekend (Mahashivratri 15 February, Id-ul-Fitr 21 March,
// Independence Day 15 August, Diwali Laxmi Pujan 8 November) are not listed,
// since weekends are closed anyway. The Muhurat session of Diwali (Sunday 8
// November 2026) is not listed: the exchanges announce its hour in the weeks
// before (13:45 to 14:45 in 2025, 18:00 to 19:00 in 2024); add it with
// WithSessions.
//
// Extend it with Holidays.With (a holiday announced later) or
// Holidays.WithSessions, or replace it with NewHolidays.
func Holidays2026() Holidays {
	h := newHolidays2026()
	h.special = map[nse.Day]span{
		nse.Civil(2026, 2, 1): {nse.SessionOpen, nse.SessionClose}, // Union Budget
	}
	return h
}

// newHolidays2026 returns the holidays of Holidays2026.
func newHolidays2026() Holidays {
	return NewHolidays(
		ymdIST(2026, 1, 15),  // Municipal Corporation elections in Maharashtra
		ymdIST(2026, 1, 26),  // Republic Day
		ymdIST(2026, 3, 3),   // Holi
		ymdIST(2026, 3, 26),  // Ram Navami
		ymdIST(2026, 3, 31),  // Mahavir Jayanti
		ymdIST(2026, 4, 3),   // Good Friday
		ymdIST(2026, 4, 14),  // Dr. Baba Saheb Ambedkar Jayanti
		ymdIST(2026, 5, 1),   // Maharashtra Day
		ymdIST(2026, 5, 28),  // Bakri Id
		ymdIST(2026, 6, 26),  // Muharram
		ymdIST(2026, 9, 14),  // Ganesh Chaturthi
		ymdIST(2026, 10, 2),  // Mahatma Gandhi Jayanti
		ymdIST(2026, 10, 20), // Dussehra
		ymdIST(2026, 11, 10), // Diwali Balipratipada
		ymdIST(2026, 11, 24), // Guru Nanak Jayanti
		ymdIST(2026, 12, 25), // Christmas
	)
}

// IndexUnderlying returns the underlying name that an index's derivatives
// carry, given the index's trading symbol in the Kite instrument dump:
//
//	NIFTY 50           NIFTY
//	NIFTY BANK         BANKNIFTY
//	NIFTY FIN SERVICE  FINNIFTY
//	NIFTY MID SELECT   MIDCPNIFTY
//	NIFTY NEXT 50      NIFTYNXT50
//	SENSEX             SENSEX
//	BANKEX             BANKEX
//
// The dump names an index row by its own name ("NIFTY 50") while its futures
// and options say "NIFTY"; kite.ParseInstruments uses this table to give an index
// row the Underlying of its derivatives, so that finding a chain's index by
// Underlying works on a real dump as on the synthetic universe. ok is false
// for an index that has no listed derivatives.
func IndexUnderlying(symbol string) (name string, ok bool) {
	switch symbol {
	case "NIFTY 50":
		return "NIFTY", true
	case "NIFTY BANK":
		return "BANKNIFTY", true
	case "NIFTY FIN SERVICE":
		return "FINNIFTY", true
	case "NIFTY MID SELECT":
		return "MIDCPNIFTY", true
	case "NIFTY NEXT 50":
		return "NIFTYNXT50", true
	case "SENSEX":
		return "SENSEX", true
	case "BANKEX":
		return "BANKEX", true
	}
	return "", false
}

// Kite's segment codes: an instrument token is the exchange token shifted
// left by 8 bits with the segment in the low byte (token & 0xFF). The values
// are those of the Kite Connect ticker clients' exchange map (pykiteconnect
// KiteTicker.EXCHANGE_MAP: nse 1, nfo 2, cds 3, bse 4, bfo 5, bcd 6, mcx 7,
// mcxsx 8, indices 9), which read the segment of a binary tick this way.
const (
	segNSE     = 1
	segNFO     = 2
	segCDS     = 3
	segBSE     = 4
	segBFO     = 5
	segBCD     = 6
	segMCX     = 7
	segMCXSX   = 8
	segIndices = 9
)

// SegmentCode returns Kite's segment code for an exchange ("NSE", "NFO",
// "CDS", "BSE", "BFO", "BCD", "MCX", "MCXSX") or, for the segment "INDICES",
// 9; zero for anything else. An instrument token is
// ExchangeToken<<8 | SegmentCode.
func SegmentCode(exchange, segment string) uint32 {
	if segment == "INDICES" {
		return segIndices
	}
	switch exchange {
	case "NSE":
		return segNSE
	case "NFO":
		return segNFO
	case "CDS":
		return segCDS
	case "BSE":
		return segBSE
	case "BFO":
		return segBFO
	case "BCD":
		return segBCD
	case "MCX":
		return segMCX
	case "MCXSX":
		return segMCXSX
	}
	return 0
}

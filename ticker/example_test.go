package ticker_test

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/steadfast-go/steadfast/ticker"
)

// A small synthetic universe for a fixed seed: the same seed always gives
// the same tokens.
func ExampleUniverse() {
	ins, err := ticker.Universe(ticker.UniverseConfig{
		Seed:           42,
		Date:           time.Date(2026, 12, 2, 0, 0, 0, 0, ticker.IST()),
		Underlyings:    []ticker.UnderlyingSpec{ticker.NIFTY()},
		Expiries:       1,
		StrikesPerSide: 1,
		Futures:        1,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, in := range ins {
		fmt.Printf("%-18s %-6s %10d = %8d<<8|%d  strike %5.0f  lot %2d  expiry %s\n",
			in.Symbol, in.Kind, in.Token, in.ExchangeToken, in.Token&0xFF, in.Strike, in.LotSize, expiry(in))
	}
	// Output:
	// NIFTY 50           index      256265 =     1001<<8|9  strike     0  lot  0  expiry -
	// NIFTY26DECFUT      future 1261677826 =  4928429<<8|2  strike     0  lot 65  expiry 2026-12-29
	// NIFTY26D0825950CE  call    903882242 =  3530790<<8|2  strike 25950  lot 65  expiry 2026-12-08
	// NIFTY26D0825950PE  put    1536301314 =  6001177<<8|2  strike 25950  lot 65  expiry 2026-12-08
	// NIFTY26D0826000CE  call    926641922 =  3619695<<8|2  strike 26000  lot 65  expiry 2026-12-08
	// NIFTY26D0826000PE  put     869725954 =  3397367<<8|2  strike 26000  lot 65  expiry 2026-12-08
	// NIFTY26D0826050CE  call   3648421634 = 14251647<<8|2  strike 26050  lot 65  expiry 2026-12-08
	// NIFTY26D0826050PE  put     412255490 =  1610373<<8|2  strike 26050  lot 65  expiry 2026-12-08
}

func expiry(in ticker.Instrument) string {
	if in.Expiry.IsZero() {
		return "-"
	}
	return in.Expiry.Format(time.DateOnly)
}

// The exchange holidays passed in UniverseConfig move an expiry to the
// trading day before it.
func ExampleUniverseConfig() {
	cfg := ticker.UniverseConfig{
		Date:           time.Date(2026, 3, 23, 0, 0, 0, 0, ticker.IST()),
		Underlyings:    []ticker.UnderlyingSpec{ticker.NIFTY()},
		Expiries:       2,
		StrikesPerSide: 0,  // the default, 10
		Futures:        -1, // none
		Holidays:       ticker.NSEHolidays2026(),
	}
	ins, err := ticker.Universe(cfg)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(len(ins), "instruments")
	fmt.Println(ins[1].Symbol, expiry(ins[1]), ins[1].Expiry.Weekday())
	fmt.Println(ins[len(ins)-1].Symbol, expiry(ins[len(ins)-1]))

	_, err = ticker.Universe(ticker.UniverseConfig{Date: cfg.Date, StrikesPerSide: -1})
	fmt.Println(err)
	// Output:
	// 85 instruments
	// NIFTY2632425500CE 2026-03-24 Tuesday
	// NIFTY26MAR26500PE 2026-03-30
	// ticker: UniverseConfig.StrikesPerSide must be in [0, 10000], got -1
}

// SelectChain picks the strikes around spot from a larger list.
func ExampleSelectChain() {
	asOf := time.Date(2026, 12, 3, 10, 0, 0, 0, ticker.IST())
	ins, err := ticker.Universe(ticker.UniverseConfig{Date: asOf, Expiries: 3})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, in := range ticker.SelectChain(ins, "BANKNIFTY", 59234.5, asOf, 1, 1) {
		fmt.Println(in.Symbol)
	}
	// Output:
	// BANKNIFTY26DEC59100CE
	// BANKNIFTY26DEC59100PE
	// BANKNIFTY26DEC59200CE
	// BANKNIFTY26DEC59200PE
	// BANKNIFTY26DEC59300CE
	// BANKNIFTY26DEC59300PE
}

func ExampleExpiries() {
	from := time.Date(2025, 12, 20, 0, 0, 0, 0, ticker.IST())
	holidays := ticker.NewHolidays(time.Date(2025, 12, 30, 0, 0, 0, 0, time.UTC))
	for _, e := range ticker.Expiries(ticker.NIFTY(), from, 3, holidays) {
		fmt.Println("NIFTY", e.Format("Mon 2006-01-02"))
	}
	for _, e := range ticker.Expiries(ticker.BANKNIFTY(), from, 3, holidays) {
		fmt.Println("BANKNIFTY", e.Format("Mon 2006-01-02"))
	}
	// Output:
	// NIFTY Tue 2025-12-23
	// NIFTY Mon 2025-12-29
	// NIFTY Tue 2026-01-06
	// BANKNIFTY Mon 2025-12-29
	// BANKNIFTY Tue 2026-01-27
	// BANKNIFTY Tue 2026-02-24
}

// Exchanges change lot sizes and expiry days; a spec says what is listed,
// and PastLots what earlier series had, so a universe listed for an older
// date gets that date's lots.
func ExampleUnderlyingSpec() {
	fin := ticker.FINNIFTY()
	for _, d := range []time.Time{
		time.Date(2025, 12, 1, 0, 0, 0, 0, ticker.IST()),
		time.Date(2026, 12, 1, 0, 0, 0, 0, ticker.IST()),
	} {
		ins, err := ticker.Universe(ticker.UniverseConfig{
			Date: d, Underlyings: []ticker.UnderlyingSpec{fin}, Expiries: 1, StrikesPerSide: 1, Futures: -1,
		})
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(ins[1].Symbol, ins[1].Exchange, ins[1].Segment, "lot", ins[1].LotSize)
	}
	sensex := ticker.SENSEX()
	fmt.Println(sensex.Name, sensex.Exchange, sensex.ExpiryWeekday, "lot", sensex.LotSize)

	fin.StrikeStep = 0
	_, err := ticker.Universe(ticker.UniverseConfig{Date: time.Date(2025, 12, 1, 0, 0, 0, 0, ticker.IST()), Underlyings: []ticker.UnderlyingSpec{fin}})
	fmt.Println(err)
	// Output:
	// FINNIFTY25DEC27450CE NFO NFO-OPT lot 65
	// FINNIFTY26DEC27450CE NFO NFO-OPT lot 60
	// SENSEX BFO Thursday lot 20
	// ticker: UniverseConfig.Underlyings[0].StrikeStep must be finite and at least 0.0001, got 0
}

func ExampleHolidays() {
	h := ticker.NewHolidays(
		time.Date(2025, 10, 21, 0, 0, 0, 0, time.UTC), // Diwali
		time.Date(2025, 12, 25, 0, 0, 0, 0, time.UTC), // Christmas
	)
	christmasEve := time.Date(2025, 12, 24, 20, 0, 0, 0, time.UTC) // 01:30 on the 25th in IST
	fmt.Println(h.Len(), h.Contains(christmasEve))
	fmt.Println(ticker.TradingDay(time.Date(2025, 12, 26, 12, 0, 0, 0, ticker.IST()), h))
	fmt.Println(ticker.TradingDay(time.Date(2025, 12, 27, 12, 0, 0, 0, ticker.IST()), h)) // a Saturday
	// Output:
	// 2 true
	// true
	// false
}

func ExampleMarketHours() {
	m := ticker.MarketHours{Holidays: ticker.NewHolidays(time.Date(2025, 12, 25, 0, 0, 0, 0, time.UTC))}
	ist := ticker.IST()
	for _, now := range []time.Time{
		time.Date(2025, 12, 24, 9, 14, 59, 0, ist),
		time.Date(2025, 12, 24, 9, 15, 0, 0, ist),
		time.Date(2025, 12, 24, 15, 30, 0, 0, ist),
	} {
		fmt.Printf("%s open=%-5v next open %s, next close %s\n", now.Format("Mon 15:04:05"), m.Open(now),
			m.NextOpen(now).Format("Mon Jan 2 15:04"), m.NextClose(now).Format("Mon Jan 2 15:04"))
	}
	// Output:
	// Wed 09:14:59 open=false next open Wed Dec 24 09:15, next close Wed Dec 24 15:30
	// Wed 09:15:00 open=true  next open Fri Dec 26 09:15, next close Wed Dec 24 15:30
	// Wed 15:30:00 open=false next open Fri Dec 26 09:15, next close Fri Dec 26 15:30
}

// Malformed rows are skipped and reported; the call fails only for a bad
// header or a read error.
func ExampleParseInstruments() {
	dump := `instrument_token,exchange_token,tradingsymbol,name,last_price,expiry,strike,tick_size,lot_size,instrument_type,segment,exchange
256265,1001,NIFTY 50,NIFTY 50,0,,0,0,0,EQ,INDICES,NSE
13240066,51719,NIFTY25DEC24000PE,"NIFTY",0,2025-12-30,24000,0.05,75,PE,NFO-OPT,NFO
13240322,51720,NIFTY25DEC24100CE,"NIFTY",0,2025-12-31x,24100,0.05,75,CE,NFO-OPT,NFO
13240066,51719,NIFTY25DEC24000PE,"NIFTY",0,2025-12-30,24000,0.05,75,PE,NFO-OPT,NFO
`
	ins, report, err := ticker.ParseInstruments(strings.NewReader(dump), ticker.ParseConfig{})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, in := range ins {
		fmt.Println(in.Token, in.Symbol, in.Kind, in.Underlying, expiry(in))
	}
	fmt.Println(report)
	for _, p := range report.Problems {
		fmt.Println(p)
	}
	// Output:
	// 256265 NIFTY 50 index NIFTY -
	// 13240066 NIFTY25DEC24000PE put NIFTY 2025-12-30
	// rows 4, kept 2, filtered 0, skipped 2 (bad_expiry 1, duplicate 1)
	// line 4: bad_expiry: expiry "2025-12-31x" is not a YYYY-MM-DD date
	// line 5: duplicate: token 13240066 already on line 3
}

// Keep selects rows while streaming, so memory follows the kept rows only.
func ExampleParseConfig() {
	dump := `instrument_token,tradingsymbol,name,expiry,strike,tick_size,lot_size,instrument_type,segment,exchange
738561,RELIANCE,RELIANCE INDUSTRIES,,0,0.05,1,EQ,NSE,NSE
13240066,NIFTY25DEC24000PE,NIFTY,2025-12-30,24000,0.05,75,PE,NFO-OPT,NFO
13240322,BANKNIFTY25DEC51000CE,BANKNIFTY,2025-12-30,51000,0.05,35,CE,NFO-OPT,NFO
`
	cfg := ticker.ParseConfig{
		Keep: func(in ticker.Instrument) bool { return in.Kind.IsOption() && in.Underlying == "NIFTY" },
	}
	ins, report, err := ticker.ParseInstruments(strings.NewReader(dump), cfg)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(ins[0].Symbol, ins[0].Strike, ins[0].LotSize)
	fmt.Println(report)
	// Output:
	// NIFTY25DEC24000PE 24000 75
	// rows 3, kept 1, filtered 2, skipped 0
}

func ExampleTick_Validate() {
	ticks := []ticker.Tick{
		{Token: 256265, LastPrice: 24012.35},
		{Token: 13240066, LastPrice: 101.5, Bid: 101.55, Ask: 101.45},
		{Token: 13240322, LastPrice: math.NaN()},
		{LastPrice: 10},
	}
	for _, t := range ticks {
		fmt.Println(t.Validate())
	}
	// Output:
	// <nil>
	// ticker: invalid tick for token 13240066: Bid 101.55 above Ask 101.45
	// ticker: invalid tick for token 13240322: LastPrice is NaN
	// ticker: invalid tick for token 0: zero token
}

// TickError carries the token and a reason suitable for counting.
func ExampleTickError() {
	err := ticker.Tick{Token: 256265, LastPrice: -1}.Validate()
	var te *ticker.TickError
	if errors.As(err, &te) {
		fmt.Println(te.Token, te.Reason, te.Field)
	}
	fmt.Println(errors.Is(err, ticker.ErrInvalidTick))
	// Output:
	// 256265 negative_price LastPrice
	// true
}

func ExampleKind() {
	for _, k := range []ticker.Kind{ticker.KindIndex, ticker.KindFuture, ticker.KindCall, ticker.KindPut} {
		fmt.Println(k, k.IsOption())
	}
	// Output:
	// index false
	// future false
	// call true
	// put true
}

// An Instrument is plain data; Universe and ParseInstruments make them, and
// a caller may build one by hand.
func ExampleInstrument() {
	in := ticker.Instrument{
		Token: 13240066, Symbol: "NIFTY25DEC24000PE", Exchange: "NFO", Segment: "NFO-OPT",
		Underlying: "NIFTY", Kind: ticker.KindPut, Strike: 24000,
		Expiry:  time.Date(2025, 12, 30, 0, 0, 0, 0, ticker.IST()),
		LotSize: 75, TickSize: 0.05,
	}
	asOf := time.Date(2025, 12, 1, 0, 0, 0, 0, ticker.IST())
	fmt.Println(in.Symbol, in.Kind, in.Kind.IsOption())
	fmt.Println("days to expiry:", int(in.Expiry.Sub(asOf).Hours()/24))
	fmt.Println("notional per lot at 24000:", in.Strike*float64(in.LotSize))
	// Output:
	// NIFTY25DEC24000PE put true
	// days to expiry: 29
	// notional per lot at 24000: 1.8e+06
}

// ParseReport accounts for every row; ByReason says what went wrong how often.
func ExampleParseReport() {
	dump := `instrument_token,tradingsymbol,name,expiry,strike,tick_size,lot_size,instrument_type,segment,exchange
738561,RELIANCE,RELIANCE INDUSTRIES,,0,0.05,1,EQ,NSE,NSE
0,INFY,INFOSYS,,0,0.05,1,EQ,NSE,NSE
408065,INFY,INFOSYS,,0,0.05,1,XX,NSE,NSE
408066,TCS,TCS,,0,0.05,1,XX,NSE,NSE
`
	_, report, err := ticker.ParseInstruments(strings.NewReader(dump), ticker.ParseConfig{MaxProblems: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(report.Rows == report.Kept+report.Filtered+report.Skipped)
	fmt.Println(report.ByReason[ticker.RowBadToken], report.ByReason[ticker.RowBadType])
	fmt.Println(len(report.Problems), "listed,", report.ProblemsOmitted, "omitted")
	// Output:
	// true
	// 1 2
	// 1 listed, 2 omitted
}

func ExampleRowProblem() {
	dump := "instrument_token,tradingsymbol,name,expiry,strike,tick_size,lot_size,instrument_type,segment,exchange\n" +
		"13240066,NIFTY25DEC24000PE,NIFTY,30-12-2025,24000,0.05,75,PE,NFO-OPT,NFO\n"
	_, report, _ := ticker.ParseInstruments(strings.NewReader(dump), ticker.ParseConfig{})
	p := report.Problems[0]
	fmt.Println(p.Line, p.Reason)
	fmt.Println(p.Detail)
	// Output:
	// 2 bad_expiry
	// expiry "30-12-2025" is not a YYYY-MM-DD date
}

func ExampleRowReason() {
	for r := ticker.RowFieldCount; r <= ticker.RowKeepPanic; r++ {
		fmt.Print(r, " ")
	}
	fmt.Println()
	// Output:
	// field_count syntax bad_token missing_symbol bad_type bad_expiry bad_strike bad_number duplicate keep_panic
}

// TickReason's String is a stable, bounded label: fit for counting invalid
// ticks by reason.
func ExampleTickReason() {
	ticks := []ticker.Tick{
		{Token: 1, Bid: 10, Ask: 9},
		{Token: 2, LastPrice: math.Inf(1)},
		{Token: 3, Bid: 5, Ask: 4},
		{Token: 4, LastPrice: 100},
	}
	counts := map[string]int{}
	for _, t := range ticks {
		var te *ticker.TickError
		if errors.As(t.Validate(), &te) {
			counts[te.Reason.String()]++
		}
	}
	fmt.Println(counts)
	// Output:
	// map[crossed:2 infinite:1]
}

func ExampleTick() {
	t := ticker.Tick{
		Token: 13240066, LastPrice: 152.35, Bid: 152.2, Ask: 152.5, BidQty: 750, AskQty: 1125,
		Volume: 1_234_500, OpenInterest: 8_100_000,
		IV: 0.142, Delta: -0.47, Gamma: 0.0009, Theta: -9.8, Vega: 21.3,
		Time: time.Date(2025, 12, 1, 10, 0, 0, 0, ticker.IST()),
	}
	fmt.Printf("%d %.2f/%.2f IV %.1f%% delta %.2f valid=%v\n", t.Token, t.Bid, t.Ask, t.IV*100, t.Delta, t.Validate() == nil)
	// Output:
	// 13240066 152.20/152.50 IV 14.2% delta -0.47 valid=true
}

// Outside market hours, a demo replays the latest session from its open:
// ReplayStart says where, and SessionClock(now, hours, speed) gives the
// MockConfig.Now that walks through session time from there.
func ExampleMarketHours_ReplayStart() {
	hours := ticker.MarketHours{Holidays: ticker.NSEHolidays2026()}
	for _, now := range []time.Time{
		time.Date(2026, 12, 3, 11, 0, 0, 0, ticker.IST()),  // open: now
		time.Date(2026, 12, 3, 20, 0, 0, 0, ticker.IST()),  // evening: today's session
		time.Date(2026, 12, 25, 12, 0, 0, 0, ticker.IST()), // Christmas: the day before
	} {
		fmt.Println(now.Format("Mon 02 Jan 15:04"), "->", hours.ReplayStart(now).Format("Mon 02 Jan 15:04"))
	}
	// Output:
	// Thu 03 Dec 11:00 -> Thu 03 Dec 11:00
	// Thu 03 Dec 20:00 -> Thu 03 Dec 09:15
	// Fri 25 Dec 12:00 -> Thu 24 Dec 09:15
}

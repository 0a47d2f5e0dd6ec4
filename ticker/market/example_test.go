package market_test

import (
	"fmt"
	"time"

	"github.com/steadfast-go/steadfast/ticker"
	"github.com/steadfast-go/steadfast/ticker/market"
)

// A small synthetic universe for a fixed seed: the same seed always gives
// the same tokens.
func ExampleUniverse() {
	ins, err := market.Universe(market.UniverseConfig{
		Seed:           42,
		Date:           time.Date(2026, 12, 2, 0, 0, 0, 0, market.IST()),
		Underlyings:    []market.UnderlyingSpec{market.NIFTY()},
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
	cfg := market.UniverseConfig{
		Date:           time.Date(2026, 3, 23, 0, 0, 0, 0, market.IST()),
		Underlyings:    []market.UnderlyingSpec{market.NIFTY()},
		Expiries:       2,
		StrikesPerSide: 0,  // the default, 10
		Futures:        -1, // none
		Holidays:       market.Holidays2026(),
	}
	ins, err := market.Universe(cfg)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(len(ins), "instruments")
	fmt.Println(ins[1].Symbol, expiry(ins[1]), ins[1].Expiry.Weekday())
	fmt.Println(ins[len(ins)-1].Symbol, expiry(ins[len(ins)-1]))

	_, err = market.Universe(market.UniverseConfig{Date: cfg.Date, StrikesPerSide: -1})
	fmt.Println(err)
	// Output:
	// 85 instruments
	// NIFTY2632425500CE 2026-03-24 Tuesday
	// NIFTY26MAR26500PE 2026-03-30
	// market: UniverseConfig.StrikesPerSide must be in [0, 10000], got -1
}

// SelectChain picks the strikes around spot from a larger list.
func ExampleSelectChain() {
	asOf := time.Date(2026, 12, 3, 10, 0, 0, 0, market.IST())
	ins, err := market.Universe(market.UniverseConfig{Date: asOf, Expiries: 3})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, in := range market.SelectChain(ins, "BANKNIFTY", 59234.5, asOf, 1, 1) {
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
	from := time.Date(2025, 12, 20, 0, 0, 0, 0, market.IST())
	holidays := market.NewHolidays(time.Date(2025, 12, 30, 0, 0, 0, 0, time.UTC))
	for _, e := range market.Expiries(market.NIFTY(), from, 3, holidays) {
		fmt.Println("NIFTY", e.Format("Mon 2006-01-02"))
	}
	for _, e := range market.Expiries(market.BANKNIFTY(), from, 3, holidays) {
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
	fin := market.FINNIFTY()
	for _, d := range []time.Time{
		time.Date(2025, 12, 1, 0, 0, 0, 0, market.IST()),
		time.Date(2026, 12, 1, 0, 0, 0, 0, market.IST()),
	} {
		ins, err := market.Universe(market.UniverseConfig{
			Date: d, Underlyings: []market.UnderlyingSpec{fin}, Expiries: 1, StrikesPerSide: 1, Futures: -1,
		})
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(ins[1].Symbol, ins[1].Exchange, ins[1].Segment, "lot", ins[1].LotSize)
	}
	sensex := market.SENSEX()
	fmt.Println(sensex.Name, sensex.Exchange, sensex.ExpiryWeekday, "lot", sensex.LotSize)

	fin.StrikeStep = 0
	_, err := market.Universe(market.UniverseConfig{Date: time.Date(2025, 12, 1, 0, 0, 0, 0, market.IST()), Underlyings: []market.UnderlyingSpec{fin}})
	fmt.Println(err)
	// Output:
	// FINNIFTY25DEC27450CE NFO NFO-OPT lot 65
	// FINNIFTY26DEC27450CE NFO NFO-OPT lot 60
	// SENSEX BFO Thursday lot 20
	// market: UniverseConfig.Underlyings[0].StrikeStep must be finite and at least 0.0001, got 0
}

func ExampleHolidays() {
	h := market.NewHolidays(
		time.Date(2025, 10, 21, 0, 0, 0, 0, time.UTC), // Diwali
		time.Date(2025, 12, 25, 0, 0, 0, 0, time.UTC), // Christmas
	)
	christmasEve := time.Date(2025, 12, 24, 20, 0, 0, 0, time.UTC) // 01:30 on the 25th in IST
	fmt.Println(h.Len(), h.Contains(christmasEve))
	fmt.Println(market.TradingDay(time.Date(2025, 12, 26, 12, 0, 0, 0, market.IST()), h))
	fmt.Println(market.TradingDay(time.Date(2025, 12, 27, 12, 0, 0, 0, market.IST()), h)) // a Saturday
	// Output:
	// 2 true
	// true
	// false
}

// Special sessions open the market on a date the regular week closes: a
// Union Budget on a Sunday, Muhurat trading on the Diwali holiday.
func ExampleSpecialSession() {
	diwali := time.Date(2025, 10, 21, 0, 0, 0, 0, time.UTC)
	h, err := market.NewHolidays(diwali).WithSessions(market.SpecialSession{
		Date: diwali, Open: 13*time.Hour + 45*time.Minute, Close: 14*time.Hour + 45*time.Minute,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	m := market.Hours{Holidays: h}
	monday := time.Date(2025, 10, 20, 16, 0, 0, 0, market.IST())
	fmt.Println("Muhurat:", m.NextOpen(monday).Format("Mon Jan 2 15:04"), "to", m.NextClose(monday).Format("15:04"))

	budget := time.Date(2026, 2, 1, 12, 0, 0, 0, market.IST())
	fmt.Println("Budget Sunday trades:", market.TradingDay(budget, market.Holidays2026()))
	for _, s := range market.Holidays2026().Sessions() {
		fmt.Println(s.Date.Format("Mon 2006-01-02"), s.Open, s.Close)
	}
	// Output:
	// Muhurat: Tue Oct 21 13:45 to 14:45
	// Budget Sunday trades: true
	// Sun 2026-02-01 9h15m0s 15h30m0s
}

func ExampleHours() {
	m := market.Hours{Holidays: market.NewHolidays(time.Date(2025, 12, 25, 0, 0, 0, 0, time.UTC))}
	ist := market.IST()
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

// Outside market hours, a demo replays the latest session from its open:
// ReplayStart says where, and SessionClock(now, hours, speed) gives the
// mock.Config.Now that walks through session time from there.
func ExampleHours_ReplayStart() {
	hours := market.Hours{Holidays: market.Holidays2026()}
	for _, now := range []time.Time{
		time.Date(2026, 12, 3, 11, 0, 0, 0, market.IST()),  // open: now
		time.Date(2026, 12, 3, 20, 0, 0, 0, market.IST()),  // evening: today's session
		time.Date(2026, 12, 25, 12, 0, 0, 0, market.IST()), // Christmas: the day before
	} {
		fmt.Println(now.Format("Mon 02 Jan 15:04"), "->", hours.ReplayStart(now).Format("Mon 02 Jan 15:04"))
	}
	// Output:
	// Thu 03 Dec 11:00 -> Thu 03 Dec 11:00
	// Thu 03 Dec 20:00 -> Thu 03 Dec 09:15
	// Fri 25 Dec 12:00 -> Thu 24 Dec 09:15
}

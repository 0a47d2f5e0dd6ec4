package ticker_test

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/steadfast-go/steadfast/ticker"
	"github.com/steadfast-go/steadfast/ticker/market"
)

func ExampleTick_Validate() {
	ticks := []ticker.Tick{
		{Token: 256265, LastPrice: 24012.35},
		{Token: 13240066, LastPrice: 101.5, Bid: 101.55, Ask: 101.45},
		{Token: 13240322, LastPrice: math.NaN()},
		{LastPrice: 10},
	}
	for _, t := range ticks {
		fmt.Println(t.Validate(ticker.KindCall))
	}
	// Output:
	// <nil>
	// ticker: invalid tick for token 13240066: Bid 101.55 above Ask 101.45
	// ticker: invalid tick for token 13240322: LastPrice is NaN
	// ticker: invalid tick for token 0: zero token
}

// TickError carries the token and a reason suitable for counting.
func ExampleTickError() {
	err := ticker.Tick{Token: 256265, LastPrice: -1}.Validate(ticker.KindIndex)
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

// An Instrument is plain data; market.Universe and kite.ParseInstruments make them, and
// a caller may build one by hand.
func ExampleInstrument() {
	in := ticker.Instrument{
		Token: 13240066, Symbol: "NIFTY25DEC24000PE", Exchange: "NFO", Segment: "NFO-OPT",
		Underlying: "NIFTY", Kind: ticker.KindPut, Strike: 24000,
		Expiry:  time.Date(2025, 12, 30, 0, 0, 0, 0, market.IST()),
		LotSize: 75, TickSize: 0.05,
	}
	asOf := time.Date(2025, 12, 1, 0, 0, 0, 0, market.IST())
	fmt.Println(in.Symbol, in.Kind, in.Kind.IsOption())
	fmt.Println("days to expiry:", int(in.Expiry.Sub(asOf).Hours()/24))
	fmt.Println("notional per lot at 24000:", in.Strike*float64(in.LotSize))
	// Output:
	// NIFTY25DEC24000PE put true
	// days to expiry: 29
	// notional per lot at 24000: 1.8e+06
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
		if errors.As(t.Validate(ticker.KindCall), &te) {
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
		Time: time.Date(2025, 12, 1, 10, 0, 0, 0, market.IST()),
	}
	fmt.Printf("%d %.2f/%.2f IV %.1f%% delta %.2f valid=%v\n", t.Token, t.Bid, t.Ask, t.IV*100, t.Delta, t.Validate(ticker.KindCall) == nil)
	// Output:
	// 13240066 152.20/152.50 IV 14.2% delta -0.47 valid=true
}

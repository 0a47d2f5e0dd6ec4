package ticker_test

import (
	"fmt"
	"time"

	"github.com/steadfast-go/steadfast/ticker"
)

// A tick from a source that carries the book (a Kite full-mode packet)
// points at a Depth: five levels a side, best first.
func ExampleDepth() {
	t := ticker.Tick{Token: 102, LastPrice: 151.2, Depth: &ticker.Depth{
		Buy:  [5]ticker.DepthLevel{{Price: 151.1, Qty: 650, Orders: 4}, {Price: 151.05, Qty: 1300, Orders: 9}},
		Sell: [5]ticker.DepthLevel{{Price: 151.3, Qty: 325, Orders: 2}},
	}}
	if d := t.Depth; d != nil {
		bid, ask := d.Buy[0], d.Sell[0]
		fmt.Printf("best %.2f x %.2f, spread %.2f\n", bid.Price, ask.Price, ask.Price-bid.Price)
		var bids uint64
		for _, l := range d.Buy {
			bids += uint64(l.Qty)
		}
		fmt.Println("bid quantity in the book", bids)
	}
	// Output:
	// best 151.10 x 151.30, spread 0.20
	// bid quantity in the book 1950
}

// An empty level of a Depth has a zero price and quantity.
func ExampleDepthLevel() {
	d := ticker.Depth{Sell: [5]ticker.DepthLevel{{Price: 151.3, Qty: 325, Orders: 2}}}
	for i, l := range d.Sell[:2] {
		if l == (ticker.DepthLevel{}) {
			fmt.Println(i, "empty")
			continue
		}
		fmt.Printf("%d %d @ %.2f in %d orders\n", i, l.Qty, l.Price, l.Orders)
	}
	// Output:
	// 0 325 @ 151.30 in 2 orders
	// 1 empty
}

// PastLots keeps the lot sizes of earlier series: a contract gets the lot
// of the first entry whose Before is after its expiry date, or LotSize when
// there is none.
func ExamplePastLot() {
	nifty := ticker.NIFTY()
	for _, p := range nifty.PastLots {
		fmt.Println("before", p.Before.Format(time.DateOnly), "lot", p.LotSize)
	}
	for _, d := range []time.Time{
		time.Date(2024, 12, 26, 0, 0, 0, 0, ticker.IST()),
		time.Date(2025, 12, 30, 0, 0, 0, 0, ticker.IST()),
		time.Date(2026, 1, 6, 0, 0, 0, 0, ticker.IST()),
	} {
		fmt.Println(d.Format(time.DateOnly), "lot", nifty.LotSizeAt(d))
	}
	// Output:
	// before 2024-12-27 lot 25
	// before 2026-01-01 lot 75
	// 2024-12-26 lot 25
	// 2025-12-30 lot 75
	// 2026-01-06 lot 65
}

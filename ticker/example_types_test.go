package ticker_test

import (
	"fmt"

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

package market_test

import (
	"fmt"
	"time"

	"github.com/steadfast-go/steadfast/ticker/market"
)

// PastLots keeps the lot sizes of earlier series: a contract gets the lot
// of the first entry whose Before is after its expiry date, or LotSize when
// there is none.
func ExamplePastLot() {
	nifty := market.NIFTY()
	for _, p := range nifty.PastLots {
		fmt.Println("before", p.Before.Format(time.DateOnly), "lot", p.LotSize)
	}
	for _, d := range []time.Time{
		time.Date(2024, 12, 26, 0, 0, 0, 0, market.IST()),
		time.Date(2025, 12, 30, 0, 0, 0, 0, market.IST()),
		time.Date(2026, 1, 6, 0, 0, 0, 0, market.IST()),
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

package market_test

import (
	"fmt"
	"time"

	"github.com/steadfast-go/steadfast/ticker/market"
)

// PastLots keeps the lot sizes of earlier series. A contract keeps the lot
// it was listed with, so a revision reaches the weekly series (listed weeks
// ahead) before the monthly one (listed months ahead): in January 2025
// NIFTY's weeklies had the new lot of 75 while its monthly kept 25.
func ExamplePastLot() {
	nifty := market.NIFTY()
	for _, p := range nifty.PastLots {
		monthly := p.MonthlyBefore
		if monthly.IsZero() {
			monthly = p.Before
		}
		fmt.Println("lot", p.LotSize, "weekly before", p.Before.Format(time.DateOnly), "monthly before", monthly.Format(time.DateOnly))
	}
	for _, c := range []struct {
		d       time.Time
		monthly bool
	}{
		{time.Date(2025, 1, 23, 0, 0, 0, 0, market.IST()), false},
		{time.Date(2025, 1, 30, 0, 0, 0, 0, market.IST()), true},
		{time.Date(2025, 12, 30, 0, 0, 0, 0, market.IST()), true},
		{time.Date(2026, 1, 6, 0, 0, 0, 0, market.IST()), false},
	} {
		fmt.Println(c.d.Format(time.DateOnly), "monthly", c.monthly, "lot", nifty.LotSizeAt(c.d, c.monthly))
	}
	// Output:
	// lot 25 weekly before 2024-12-20 monthly before 2025-02-01
	// lot 75 weekly before 2026-01-01 monthly before 2026-01-01
	// 2025-01-23 monthly false lot 75
	// 2025-01-30 monthly true lot 25
	// 2025-12-30 monthly true lot 75
	// 2026-01-06 monthly false lot 65
}

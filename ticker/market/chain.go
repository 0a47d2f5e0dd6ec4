package market

import (
	"cmp"
	"math"
	"slices"
	"time"

	"github.com/steadfast-go/steadfast/ticker"
	"github.com/steadfast-go/steadfast/ticker/internal/nse"
)

// SelectChain picks from ins the option chain of one underlying: the options
// whose Underlying is underlying, of the nearest expiries expiries that have
// not expired at asOf (on or after its IST calendar date, that date itself
// only before its 15:30 IST close), and for each of those expiries the
// strike listed nearest spot (the lower one on a tie) with strikesPerSide
// listed strikes on each side of it. Strikes are chosen per expiry, since
// different expiries may list different strikes. The result is a new slice
// sorted by expiry, strike, call before put; ins is not modified.
// SelectChain returns nil when expiries ≤ 0; a negative strikesPerSide is
// taken as zero (the ATM strike only).
func SelectChain(ins []ticker.Instrument, underlying string, spot float64, asOf time.Time, expiries, strikesPerSide int) []ticker.Instrument {
	if expiries <= 0 {
		return nil
	}
	strikesPerSide = max(strikesPerSide, 0)
	start := listingDay(asOf)

	var opts []ticker.Instrument
	for _, in := range ins {
		if in.Kind.IsOption() && in.Underlying == underlying && nse.DayOf(in.Expiry) >= start {
			opts = append(opts, in)
		}
	}
	if len(opts) == 0 {
		return nil
	}
	slices.SortStableFunc(opts, compareOptions)

	// Keep the nearest expiries.
	n, seen := 0, 0
	for i := range opts {
		if i == 0 || nse.DayOf(opts[i].Expiry) != nse.DayOf(opts[i-1].Expiry) {
			if seen == expiries {
				break
			}
			seen++
		}
		n = i + 1
	}
	opts = opts[:n]

	out := make([]ticker.Instrument, 0, len(opts))
	for len(opts) > 0 {
		// One expiry's options, sorted by strike.
		e := nse.DayOf(opts[0].Expiry)
		j := 1
		for j < len(opts) && nse.DayOf(opts[j].Expiry) == e {
			j++
		}
		out = appendStrikes(out, opts[:j], spot, strikesPerSide)
		opts = opts[j:]
	}
	return out
}

// appendStrikes appends to out the options of one expiry (sorted by strike)
// whose strike is the one nearest spot or among the side strikes on each
// side of it.
func appendStrikes(out, opts []ticker.Instrument, spot float64, side int) []ticker.Instrument {
	// Distinct strikes, in order.
	var strikes []float64
	for i := range opts {
		if len(strikes) == 0 || strikes[len(strikes)-1] != opts[i].Strike {
			strikes = append(strikes, opts[i].Strike)
		}
	}
	atm := 0
	for i := 1; i < len(strikes); i++ {
		if math.Abs(strikes[i]-spot) < math.Abs(strikes[atm]-spot) {
			atm = i
		}
	}
	side = min(side, len(strikes)) // no overflow below
	lo, hi := strikes[max(atm-side, 0)], strikes[min(atm+side, len(strikes)-1)]
	for _, in := range opts {
		if in.Strike >= lo && in.Strike <= hi {
			out = append(out, in)
		}
	}
	return out
}

// compareOptions orders options by expiry date, strike, then call before put.
func compareOptions(a, b ticker.Instrument) int {
	if c := cmp.Compare(nse.DayOf(a.Expiry), nse.DayOf(b.Expiry)); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Strike, b.Strike); c != 0 {
		return c
	}
	return cmp.Compare(a.Kind, b.Kind) // ticker.KindCall < ticker.KindPut
}

package ticker

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestTickValidate(t *testing.T) {
	good := Tick{Token: 256265, LastPrice: 24000, Bid: 23999.95, Ask: 24000.05, IV: 0.13, Delta: 0.5, Theta: -3, Change: -0.4,
		Open: 23950, High: 24010, Low: 23900, Close: 24096, AvgPrice: 23980}
	nan, inf := math.NaN(), math.Inf(1)
	tests := []struct {
		name   string
		mod    func(*Tick)
		reason TickReason
		field  string
		msg    string
	}{
		{"valid", func(*Tick) {}, 0, "", ""},
		{"zero last price is valid", func(t *Tick) { t.LastPrice = 0 }, 0, "", ""},
		{"empty book sides are valid", func(t *Tick) { t.Bid, t.Ask = 0, 0 }, 0, "", ""},
		{"bid without ask is valid", func(t *Tick) { t.Bid, t.Ask = 101, 0 }, 0, "", ""},
		{"bid equal to ask is valid", func(t *Tick) { t.Bid, t.Ask = 100, 100 }, 0, "", ""},
		{"negative greeks are valid", func(t *Tick) { t.Delta, t.Theta, t.Change = -0.4, -12, -3 }, 0, "", ""},
		{"zero token", func(t *Tick) { t.Token = 0 }, TickZeroToken, "", "ticker: invalid tick for token 0: zero token"},
		{"NaN last", func(t *Tick) { t.LastPrice = nan }, TickNotANumber, "LastPrice", "ticker: invalid tick for token 256265: LastPrice is NaN"},
		{"Inf bid", func(t *Tick) { t.Bid = inf }, TickInfinite, "Bid", "ticker: invalid tick for token 256265: Bid is +Inf"},
		{"-Inf ask", func(t *Tick) { t.Ask = math.Inf(-1) }, TickInfinite, "Ask", "Ask is -Inf"},
		{"negative last", func(t *Tick) { t.LastPrice = -1 }, TickNegativePrice, "LastPrice", "LastPrice is -1"},
		{"negative bid", func(t *Tick) { t.Bid = -0.05 }, TickNegativePrice, "Bid", "Bid is -0.05"},
		{"negative ask", func(t *Tick) { t.Ask = -2 }, TickNegativePrice, "Ask", "Ask is -2"},
		{"negative IV", func(t *Tick) { t.IV = -0.1 }, TickNegativePrice, "IV", "IV is -0.1"},
		{"NaN delta", func(t *Tick) { t.Delta = nan }, TickNotANumber, "Delta", "Delta is NaN"},
		{"Inf vega", func(t *Tick) { t.Vega = inf }, TickInfinite, "Vega", "Vega is +Inf"},
		{"NaN change", func(t *Tick) { t.Change = nan }, TickNotANumber, "Change", "Change is NaN"},
		{"negative open", func(t *Tick) { t.Open = -1 }, TickNegativePrice, "Open", "Open is -1"},
		{"negative high", func(t *Tick) { t.High = -1 }, TickNegativePrice, "High", "High is -1"},
		{"negative low", func(t *Tick) { t.Low = -0.05 }, TickNegativePrice, "Low", "Low is -0.05"},
		{"negative close", func(t *Tick) { t.Close = -3 }, TickNegativePrice, "Close", "Close is -3"},
		{"negative average", func(t *Tick) { t.AvgPrice = -3 }, TickNegativePrice, "AvgPrice", "AvgPrice is -3"},
		{"NaN close", func(t *Tick) { t.Close = nan }, TickNotANumber, "Close", "Close is NaN"},
		{"Inf high", func(t *Tick) { t.High = inf }, TickInfinite, "High", "High is +Inf"},
		{"crossed", func(t *Tick) { t.Bid, t.Ask = 101, 100 }, TickCrossed, "Bid", "ticker: invalid tick for token 256265: Bid 101 above Ask 100"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tick := good
			tt.mod(&tick)
			err := tick.Validate(KindUnknown)
			if tt.reason == 0 {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, ErrInvalidTick)
			var te *TickError
			require.True(t, errors.As(err, &te))
			require.Equal(t, tt.reason, te.Reason)
			require.Equal(t, tick.Token, te.Token)
			require.Equal(t, tt.field, te.Field)
			require.Contains(t, err.Error(), tt.msg)
		})
	}
}

func TestTickReasonString(t *testing.T) {
	require.Equal(t, "zero_token", TickZeroToken.String())
	require.Equal(t, "not_a_number", TickNotANumber.String())
	require.Equal(t, "infinite", TickInfinite.String())
	require.Equal(t, "negative_price", TickNegativePrice.String())
	require.Equal(t, "crossed", TickCrossed.String())
	require.Equal(t, "unknown", TickReason(0).String())
	require.Equal(t, "unknown", TickReason(200).String())
}

func TestTickValidateDoesNotAllocate(t *testing.T) {
	tick := Tick{Token: 1, LastPrice: 10, Bid: 9.95, Ask: 10.05}
	allocs := testing.AllocsPerRun(100, func() {
		if tick.Validate(KindUnknown) != nil {
			t.Fatal("invalid")
		}
	})
	require.Zero(t, allocs)
}

func BenchmarkTickValidate(b *testing.B) {
	tick := Tick{Token: 1, LastPrice: 10, Bid: 9.95, Ask: 10.05, IV: 0.2, Delta: 0.5}
	b.ReportAllocs()
	for b.Loop() {
		if tick.Validate(KindUnknown) != nil {
			b.Fatal("invalid")
		}
	}
}

// TestTickValidateFastPathAgrees checks that the fast path accepts exactly
// the ticks the detailed checks accept.
func TestTickValidateFastPathAgrees(t *testing.T) {
	vals := []float64{0, math.Copysign(0, -1), 1, 100, -1, -100, math.NaN(), math.Inf(1), math.Inf(-1), 1e300, MaxTickValue, -MaxTickValue, 2e9}
	rng := rand.New(rand.NewPCG(5, 6))
	pick := func() float64 { return vals[rng.IntN(len(vals))] }
	for range 20000 {
		tick := Tick{Token: uint32(rng.IntN(2)), LastPrice: pick(), Bid: pick(), Ask: pick(), Change: pick(),
			IV: pick(), Delta: pick(), Gamma: pick(), Theta: pick(), Vega: pick()}
		if rng.IntN(2) == 0 { // mostly clean ticks, to reach the crossed check
			tick.Token, tick.LastPrice, tick.Change, tick.IV, tick.Delta, tick.Gamma, tick.Theta, tick.Vega = 7, 1, 0, 0, 0, 0, 0, 0
		}
		if rng.IntN(2) == 0 {
			tick.Open, tick.High, tick.Low, tick.Close, tick.AvgPrice = pick(), pick(), pick(), pick(), pick()
		}
		times := []time.Time{{}, time.Unix(0, 0), time.Unix(1_765_000_000, 0), time.Unix(MinTickTime-1, 0), time.Unix(MaxTickTime+1, 0)}
		tick.Time, tick.LastTradeTime = times[rng.IntN(len(times))], times[rng.IntN(len(times))]
		k := Kind(rng.IntN(6))
		require.Equal(t, tick.invalid(k) == nil, tick.Validate(k) == nil, "%v %+v", k, tick)
	}
}

// TestTickValidateBounds: a price of 1e307 passed validation and became
// +Inf in a consumer's rounding (the chain page went blank for everyone);
// a Time in year 10000 made the engine's Health fail to marshal. Both are
// refused now, as is anything beyond what a market can carry.
func TestTickValidateBounds(t *testing.T) {
	good := Tick{Token: 256265, LastPrice: 24000, Bid: 23999.95, Ask: 24000.05, Time: time.Unix(1_765_000_000, 0)}
	require.NoError(t, good.Validate(KindUnknown))
	tests := []struct {
		name  string
		mod   func(*Tick)
		field string
	}{
		{"huge last", func(t *Tick) { t.LastPrice = 1e307 }, "LastPrice"},
		{"just above the bound", func(t *Tick) { t.Ask = MaxTickValue * (1 + 1e-15) }, "Ask"},
		{"huge change", func(t *Tick) { t.Change = -1e12 }, "Change"},
		{"huge IV", func(t *Tick) { t.IV = 1e300 }, "IV"},
		{"huge vega", func(t *Tick) { t.Vega = 2e9 }, "Vega"},
		{"year 10000", func(t *Tick) { t.Time = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) }, "Time"},
		{"year 2263", func(t *Tick) { t.Time = time.Unix(MaxTickTime+1, 0) }, "Time"},
		{"year 1600", func(t *Tick) { t.LastTradeTime = time.Date(1600, 1, 1, 0, 0, 0, 0, time.UTC) }, "LastTradeTime"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tick := good
			tt.mod(&tick)
			var te *TickError
			require.True(t, errors.As(tick.Validate(KindUnknown), &te), "refused")
			require.Equal(t, TickOutOfRange, te.Reason)
			require.Equal(t, tt.field, te.Field)
			require.Contains(t, te.Error(), tt.field+" is ")
		})
	}
	edge := good
	edge.LastPrice, edge.Bid, edge.Ask, edge.Change = MaxTickValue, MaxTickValue, MaxTickValue, -MaxTickValue
	edge.Time, edge.LastTradeTime = time.Unix(MaxTickTime, 0), time.Unix(MinTickTime, 0)
	require.NoError(t, edge.Validate(KindUnknown), "the bounds themselves are valid")
	require.Equal(t, "out_of_range", TickOutOfRange.String())
}

// TestTickValidateForKind: a negative price is valid for a future (MCX
// crude oil settled at -37.63 on 20 April 2020) and for no other kind;
// IV is never negative.
func TestTickValidateForKind(t *testing.T) {
	crude := Tick{Token: 58424839, LastPrice: -37.63, Bid: -38, Ask: -37.5, Open: 10.5, High: 12, Low: -40.32,
		Close: 18.27, AvgPrice: -20.1, Change: -305.97}
	require.NoError(t, crude.Validate(KindFuture))
	for _, k := range []Kind{KindUnknown, KindIndex, KindEquity, KindCall, KindPut} {
		var te *TickError
		require.True(t, errors.As(crude.Validate(k), &te), "%v", k)
		require.Equal(t, TickNegativePrice, te.Reason)
		require.Equal(t, "LastPrice", te.Field)
	}
	var te *TickError
	require.True(t, errors.As(crude.Validate(KindUnknown), &te), "Validate is for an unknown kind")

	crossed := crude
	crossed.Bid, crossed.Ask = -37, -38
	require.True(t, errors.As(crossed.Validate(KindFuture), &te))
	require.Equal(t, TickCrossed, te.Reason)

	negIV := Tick{Token: 1, LastPrice: -1, IV: -0.1}
	require.True(t, errors.As(negIV.Validate(KindFuture), &te))
	require.Equal(t, "IV", te.Field)

	require.Zero(t, testing.AllocsPerRun(100, func() {
		if crude.Validate(KindFuture) != nil {
			t.Fatal("invalid")
		}
	}), "the slow path of a valid future allocates nothing")
}

package bs_test

import (
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/steadfast-go/steadfast/ticker/bs"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// grid returns a spread of valid parameters: spots around the strike from
// deep out of to deep in the money, short to long expiries, zero and
// positive rates and dividend yields, low to high volatility.
func grid() []bs.Params {
	var ps []bs.Params
	for _, s := range []float64{50, 80, 95, 100, 105, 120, 200} {
		for _, t := range []float64{1.0 / 365, 0.05, 0.5, 2} {
			for _, r := range []float64{0, 0.05, 0.10} {
				for _, q := range []float64{0, 0.03} {
					for _, v := range []float64{0.05, 0.2, 0.8} {
						ps = append(ps, bs.Params{Spot: s, Strike: 100, T: t, Rate: r, Yield: q, Vol: v})
					}
				}
			}
		}
	}
	return ps
}

func TestHullExample(t *testing.T) {
	// Hull, Options, Futures, and Other Derivatives, Example 15.6:
	// S=42, K=40, r=10%, σ=20%, T=0.5 gives c=4.76 and p=0.81.
	p := bs.Params{Spot: 42, Strike: 40, T: 0.5, Rate: 0.10, Vol: 0.20}
	c, put := bs.Price(bs.Call, p), bs.Price(bs.Put, p)
	require.InDelta(t, 4.76, c, 0.005)
	require.InDelta(t, 0.81, put, 0.005)
	// More digits, from the closed form evaluated independently.
	require.InDelta(t, 4.759422, c, 1e-6)
	require.InDelta(t, 0.808600, put, 1e-6)
}

func TestPutCallParity(t *testing.T) {
	for _, p := range grid() {
		c, put := bs.Price(bs.Call, p), bs.Price(bs.Put, p)
		want := p.Spot*math.Exp(-p.Yield*p.T) - p.Strike*math.Exp(-p.Rate*p.T)
		tol := 1e-9 * max(c, put)
		require.InDelta(t, want, c-put, tol, "%+v: C=%v P=%v", p, c, put)
		require.True(t, c >= 0 && put >= 0, "%+v: negative price", p)
		lo, hi := bs.Bounds(bs.Call, p)
		require.True(t, c >= lo-1e-12*hi && c <= hi, "%+v: call %v outside [%v,%v]", p, c, lo, hi)
	}
}

func TestGreeksAgainstFiniteDifferences(t *testing.T) {
	for _, k := range []bs.Kind{bs.Call, bs.Put} {
		for _, p := range grid() {
			if p.T < 0.01 && p.Vol < 0.1 {
				continue // the value is a kink in S; finite differences are meaningless
			}
			g := bs.Compute(k, p)
			require.InDelta(t, bs.Price(k, p), g.Price, 1e-12*p.Spot)

			at := func(f func(*bs.Params)) float64 {
				q := p
				f(&q)
				return bs.Price(k, q)
			}
			hs := 1e-4 * p.Spot
			delta := (at(func(q *bs.Params) { q.Spot += hs }) - at(func(q *bs.Params) { q.Spot -= hs })) / (2 * hs)
			// Gamma: second difference with a step scaled to the width of the
			// distribution, Richardson-extrapolated (error O(h⁴)) because the
			// tails of short-dated options curve sharply.
			second := func(h float64) float64 {
				return (at(func(q *bs.Params) { q.Spot += h }) - 2*g.Price + at(func(q *bs.Params) { q.Spot -= h })) / (h * h)
			}
			hg := 1e-2 * p.Spot * p.Vol * math.Sqrt(p.T)
			gamma := (4*second(hg/2) - second(hg)) / 3
			ht := 1e-6
			theta := -(at(func(q *bs.Params) { q.T += ht }) - at(func(q *bs.Params) { q.T -= ht })) / (2 * ht)
			hv := 1e-5
			vega := (at(func(q *bs.Params) { q.Vol += hv }) - at(func(q *bs.Params) { q.Vol -= hv })) / (2 * hv)

			near := func(name string, want, got, scale float64) {
				t.Helper()
				require.InDelta(t, want, got, 1e-4*max(math.Abs(want), scale), "%v %s %+v", k, name, p)
			}
			near("delta", delta, g.Delta, 1e-3)
			near("gamma", gamma, g.Gamma, 1e-2/p.Spot)
			near("theta", theta, g.Theta, 1e-3*p.Spot)
			near("vega", vega, g.Vega, 1e-3*p.Spot)
		}
	}
}

func TestGreeksSigns(t *testing.T) {
	p := bs.Params{Spot: 100, Strike: 100, T: 0.25, Rate: 0.05, Yield: 0.01, Vol: 0.2}
	c, put := bs.Compute(bs.Call, p), bs.Compute(bs.Put, p)
	require.Greater(t, c.Delta, 0.0)
	require.Less(t, put.Delta, 0.0)
	// Delta parity: Δc − Δp = e^(−qT).
	require.InDelta(t, math.Exp(-p.Yield*p.T), c.Delta-put.Delta, 1e-12)
	require.InDelta(t, c.Gamma, put.Gamma, 1e-15)
	require.InDelta(t, c.Vega, put.Vega, 1e-12)
	require.Less(t, c.Theta, 0.0)
}

func TestDegenerateInputs(t *testing.T) {
	// At expiry: intrinsic value.
	p := bs.Params{Spot: 110, Strike: 100, Vol: 0.2, Rate: 0.05}
	require.Equal(t, 10.0, bs.Price(bs.Call, p))
	require.Equal(t, 0.0, bs.Price(bs.Put, p))
	g := bs.Compute(bs.Call, p)
	require.Equal(t, bs.Greeks{Price: 10, Delta: 1, Theta: -0.05 * 100}, g) // theta: the strike's discount accruing

	// Zero volatility: discounted forward intrinsic value.
	p = bs.Params{Spot: 100, Strike: 100, T: 1, Rate: 0.05}
	require.InDelta(t, 100-100*math.Exp(-0.05), bs.Price(bs.Call, p), 1e-12)
	require.Equal(t, 0.0, bs.Price(bs.Put, p))
	g = bs.Compute(bs.Call, p)
	require.Equal(t, 1.0, g.Delta)
	require.InDelta(t, -0.05*100*math.Exp(-0.05), g.Theta, 1e-12)

	// Invalid input: NaN out, and Validate names the field.
	for _, bad := range []bs.Params{
		{Spot: 0, Strike: 100, T: 1, Vol: 0.2},
		{Spot: 100, Strike: -1, T: 1, Vol: 0.2},
		{Spot: 100, Strike: 100, T: -1, Vol: 0.2},
		{Spot: 100, Strike: 100, T: 1, Vol: math.NaN()},
		{Spot: 100, Strike: 100, T: 1, Vol: 0.2, Rate: math.Inf(1)},
		{Spot: 100, Strike: 100, T: 1, Vol: 0.2, Yield: math.NaN()},
	} {
		require.True(t, math.IsNaN(bs.Price(bs.Call, bad)), "%+v", bad)
		require.True(t, math.IsNaN(bs.Compute(bs.Put, bad).Delta), "%+v", bad)
		require.ErrorIs(t, bad.Validate(), bs.ErrInvalidParams)
	}
	require.ErrorContains(t, bs.Params{Spot: 100, Strike: 0}.Validate(), "Strike")
	require.True(t, math.IsNaN(bs.Price(bs.Kind(9), bs.Params{Spot: 1, Strike: 1})))
	require.Equal(t, "call", bs.Call.String())
	require.Equal(t, "put", bs.Put.String())
	require.Equal(t, "Kind(9)", bs.Kind(9).String())
}

func TestImpliedVolRoundTrip(t *testing.T) {
	for _, k := range []bs.Kind{bs.Call, bs.Put} {
		for _, p := range grid() {
			price := bs.Price(k, p)
			iv, err := bs.ImpliedVol(k, p, price)
			require.NoError(t, err, "%v %+v price %v", k, p, price)
			q := p
			q.Vol = iv
			// The price always round-trips; the volatility does wherever the
			// price is sensitive to it (vega not vanishing next to rounding).
			require.InDelta(t, price, bs.Price(k, q), 1e-11*p.Spot, "%v %+v", k, p)
			if bs.Compute(k, p).Vega > 1e-6*p.Spot {
				require.InDelta(t, p.Vol, iv, 1e-8, "%v %+v", k, p)
			}
		}
	}
}

func TestImpliedVolErrors(t *testing.T) {
	p := bs.Params{Spot: 100, Strike: 100, T: 0.5, Rate: 0.05, Yield: 0.02}
	lo, hi := bs.Bounds(bs.Call, p)
	_, err := bs.ImpliedVol(bs.Call, p, hi+0.01)
	require.ErrorIs(t, err, bs.ErrOutOfBounds)
	_, err = bs.ImpliedVol(bs.Call, p, -0.01)
	require.ErrorIs(t, err, bs.ErrOutOfBounds)
	deep := bs.Params{Spot: 150, Strike: 100, T: 0.5, Rate: 0.05}
	dlo, _ := bs.Bounds(bs.Call, deep)
	_, err = bs.ImpliedVol(bs.Call, deep, dlo-0.5)
	require.ErrorIs(t, err, bs.ErrOutOfBounds)
	require.ErrorContains(t, err, "no-arbitrage")

	// Just under the upper bound: needs more than MaxVol.
	_, err = bs.ImpliedVol(bs.Call, p, hi-1e-9)
	require.ErrorIs(t, err, bs.ErrNoSolution)
	// At the lower bound: zero volatility.
	iv, err := bs.ImpliedVol(bs.Call, p, lo)
	require.NoError(t, err)
	require.Equal(t, 0.0, iv)
	// At expiry the price says nothing about volatility.
	_, err = bs.ImpliedVol(bs.Call, bs.Params{Spot: 100, Strike: 90}, 10)
	require.ErrorIs(t, err, bs.ErrNoSolution)

	for _, price := range []float64{math.NaN(), math.Inf(1)} {
		_, err = bs.ImpliedVol(bs.Put, p, price)
		require.ErrorIs(t, err, bs.ErrInvalidParams)
	}
	_, err = bs.ImpliedVol(bs.Put, bs.Params{Spot: -1, Strike: 100, T: 1}, 5)
	require.ErrorIs(t, err, bs.ErrInvalidParams)
	_, err = bs.ImpliedVol(bs.Kind(0), p, 5)
	require.ErrorIs(t, err, bs.ErrInvalidParams)
}

func TestImpliedVolNeverNaN(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	for range 20000 {
		p := bs.Params{
			Spot:   math.Exp(rng.NormFloat64() * 3),
			Strike: math.Exp(rng.NormFloat64() * 3),
			T:      rng.Float64() * 3,
			Rate:   rng.NormFloat64() * 0.1,
			Yield:  rng.NormFloat64() * 0.05,
		}
		k := bs.Call
		if rng.IntN(2) == 0 {
			k = bs.Put
		}
		_, hi := bs.Bounds(k, p)
		price := rng.Float64() * hi * 1.2
		iv, err := bs.ImpliedVol(k, p, price)
		require.False(t, math.IsNaN(iv), "%v %+v %v", k, p, price)
		if err == nil {
			require.True(t, iv >= 0 && iv <= bs.MaxVol)
			q := p
			q.Vol = iv
			require.InDelta(t, price, bs.Price(k, q), 1e-9*max(p.Spot, p.Strike), "%v %+v", k, p)
		} else {
			require.True(t, errors.Is(err, bs.ErrOutOfBounds) || errors.Is(err, bs.ErrNoSolution), "%v", err)
		}
	}
}

func TestSmile(t *testing.T) {
	s := bs.DefaultSmile(0.13)
	require.NoError(t, s.Validate())
	const f = 24000.0
	for _, days := range []float64{2, 7, 30, 90} {
		tt := days / 365
		atm := s.Vol(f, f, tt)
		// One-sigma-ish moves scale with √T; go three of them out.
		width := 3 * 0.13 * math.Sqrt(tt)
		put := s.Vol(f, f*math.Exp(-width), tt)
		call := s.Vol(f, f*math.Exp(width), tt)
		require.Greater(t, put, atm, "deep OTM put at %v days", days)
		require.Greater(t, call, atm, "deep OTM call at %v days", days)
		require.Greater(t, put, call, "skew at %v days", days)
	}
	// Short-dated at-the-money vol is above long-dated.
	require.Greater(t, s.Vol(f, f, 2.0/365), s.Vol(f, f, 1))
	// Clamped and finite at the edges.
	for _, v := range []float64{
		s.Vol(f, 1, 1e-9), s.Vol(f, 1e9, 0), s.Vol(0, f, 0.1), s.Vol(math.NaN(), f, math.NaN()),
	} {
		require.True(t, v >= s.MinVol && v <= s.MaxVol, "%v", v)
	}

	bad := s
	bad.TermDecay = 0
	require.ErrorIs(t, bad.Validate(), bs.ErrInvalidParams)
	bad = s
	bad.MaxVol = s.MinVol / 2
	require.ErrorContains(t, bad.Validate(), "MaxVol")
}

func TestGBMLogReturnMoments(t *testing.T) {
	const n = 100_000
	g := bs.GBM{Drift: 0.08, Vol: 0.25}
	dt := 1.0 / (252 * 375) // one trading minute
	rng := rand.New(rand.NewPCG(42, 1))
	s := 24000.0
	var sum, sumsq float64
	rets := make([]float64, n)
	for i := range n {
		next := g.Step(s, dt, rng)
		require.True(t, next > 0)
		rets[i] = math.Log(next / s)
		sum += rets[i]
		s = next
	}
	mean := sum / n
	for _, r := range rets {
		sumsq += (r - mean) * (r - mean)
	}
	variance := sumsq / (n - 1)

	wantMean := (g.Drift - g.Vol*g.Vol/2) * dt
	wantVar := g.Vol * g.Vol * dt
	seMean := math.Sqrt(wantVar / n)
	seVar := wantVar * math.Sqrt(2.0/(n-1))
	require.InDelta(t, wantMean, mean, 3*seMean)
	require.InDelta(t, wantVar, variance, 3*seVar)
}

func TestGBMDeterministic(t *testing.T) {
	path := func(seed uint64) []float64 {
		rng := rand.New(rand.NewPCG(seed, 0))
		g := bs.GBM{Drift: 0.05, Vol: 0.2}
		out := make([]float64, 100)
		s := 100.0
		for i := range out {
			s = g.Step(s, 1.0/252, rng)
			out[i] = s
		}
		return out
	}
	require.Equal(t, path(1), path(1))
	require.NotEqual(t, path(1), path(2))

	g := bs.GBM{Vol: 0.2}
	require.Equal(t, 100.0, g.Step(100, 0, nil), "dt 0 draws nothing")
	require.Equal(t, 100.0, g.StepZ(100, math.NaN(), 1))
	require.InDelta(t, 100*math.Exp(-0.02+0.2), g.StepZ(100, 1, 1), 1e-12)
	require.ErrorIs(t, bs.GBM{Vol: -1}.Validate(), bs.ErrInvalidParams)
	require.NoError(t, g.Validate())
}

func TestNoAllocations(t *testing.T) {
	p := bs.Params{Spot: 24000, Strike: 24500, T: 7.0 / 365, Rate: 0.065, Yield: 0.012, Vol: 0.14}
	price := bs.Price(bs.Call, p)
	s := bs.DefaultSmile(0.13)
	rng := rand.New(rand.NewPCG(1, 1))
	g := bs.GBM{Vol: 0.13}
	var sink float64
	allocs := testing.AllocsPerRun(100, func() {
		sink += bs.Price(bs.Put, p)
		sink += bs.Compute(bs.Call, p).Theta
		iv, _ := bs.ImpliedVol(bs.Call, p, price)
		sink += iv
		_, err := bs.ImpliedVol(bs.Call, p, -1) // the error path allocates; not measured below
		_ = err
	})
	_ = allocs
	allocs = testing.AllocsPerRun(100, func() {
		sink += bs.Price(bs.Put, p)
		sink += bs.Compute(bs.Call, p).Theta
		iv, _ := bs.ImpliedVol(bs.Call, p, price)
		sink += iv
		sink += s.Vol(p.Forward(), p.Strike, p.T)
		sink += g.Step(p.Spot, 1e-6, rng)
		sink += bs.NewTerm(p.Spot, p.T, p.Rate, p.Yield).Compute(bs.Put, p.Strike, p.Vol).Vega
	})
	require.Zero(t, allocs)
	require.False(t, math.IsNaN(sink))
}

func BenchmarkPrice(b *testing.B) {
	p := bs.Params{Spot: 24000, Strike: 24500, T: 7.0 / 365, Rate: 0.065, Yield: 0.012, Vol: 0.14}
	var sink float64
	for b.Loop() {
		sink += bs.Price(bs.Call, p)
	}
	_ = sink
}

func BenchmarkCompute(b *testing.B) {
	p := bs.Params{Spot: 24000, Strike: 24500, T: 7.0 / 365, Rate: 0.065, Yield: 0.012, Vol: 0.14}
	var sink float64
	for b.Loop() {
		sink += bs.Compute(bs.Call, p).Delta
	}
	_ = sink
}

func BenchmarkImpliedVol(b *testing.B) {
	p := bs.Params{Spot: 24000, Strike: 24500, T: 7.0 / 365, Rate: 0.065, Yield: 0.012, Vol: 0.14}
	price := bs.Price(bs.Call, p)
	var sink float64
	for b.Loop() {
		iv, _ := bs.ImpliedVol(bs.Call, p, price)
		sink += iv
	}
	_ = sink
}

func TestTermMatchesCompute(t *testing.T) {
	for _, k := range []bs.Kind{bs.Call, bs.Put} {
		for _, p := range grid() {
			tm := bs.NewTerm(p.Spot, p.T, p.Rate, p.Yield)
			require.Equal(t, bs.Compute(k, p), tm.Compute(k, p.Strike, p.Vol), "%v %+v", k, p)
			require.Equal(t, p.Forward(), tm.Forward())
		}
	}
	bad := bs.NewTerm(-1, 1, 0, 0)
	require.True(t, math.IsNaN(bad.Forward()))
	require.True(t, math.IsNaN(bad.Compute(bs.Call, 100, 0.2).Price))
	good := bs.NewTerm(100, 1, 0, 0)
	require.True(t, math.IsNaN(good.Compute(bs.Call, -5, 0.2).Delta))
	require.True(t, math.IsNaN(good.Compute(bs.Put, 100, math.NaN()).Vega))
	require.True(t, math.IsNaN(good.Compute(bs.Kind(7), 100, 0.2).Gamma))

	s := bs.DefaultSmile(0.15)
	for _, tt := range []float64{0, 1e-9, 0.01, 0.5, 3} {
		for _, k := range []float64{50, 90, 100, 110, 200} {
			require.Equal(t, s.Vol(100, k, tt), s.VolAround(s.ATMVol(tt), 100, k, tt))
		}
	}
}

// A Kind marshals as its word and parses it back; other values and words
// are errors.
func TestKindText(t *testing.T) {
	b, err := json.Marshal(map[string]bs.Kind{"a": bs.Call, "b": bs.Put})
	require.NoError(t, err)
	require.JSONEq(t, `{"a":"call","b":"put"}`, string(b))
	var back map[string]bs.Kind
	require.NoError(t, json.Unmarshal(b, &back))
	require.Equal(t, map[string]bs.Kind{"a": bs.Call, "b": bs.Put}, back)
	_, err = bs.Kind(0).MarshalText()
	require.ErrorContains(t, err, "bs: invalid Kind 0")
	var k bs.Kind
	require.ErrorContains(t, k.UnmarshalText([]byte("straddle")), `bs: unknown Kind "straddle"`)
	require.Zero(t, k)
}

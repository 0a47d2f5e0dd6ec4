package bs_test

import (
	"errors"
	"fmt"
	"math/rand/v2"

	"github.com/steadfast-go/steadfast/ticker/bs"
)

// Hull's worked example: a six-month option on a stock at 42 with strike 40,
// a 10% rate and 20% volatility.
func ExamplePrice() {
	p := bs.Params{Spot: 42, Strike: 40, T: 0.5, Rate: 0.10, Vol: 0.20}
	fmt.Printf("call %.2f\n", bs.Price(bs.Call, p))
	fmt.Printf("put  %.2f\n", bs.Price(bs.Put, p))
	// Output:
	// call 4.76
	// put  0.81
}

// The Greeks in the units traders quote: theta per calendar day, vega per
// percentage point of volatility.
func ExampleCompute() {
	p := bs.Params{Spot: 24000, Strike: 24000, T: 7.0 / 365, Rate: 0.065, Yield: 0.012, Vol: 0.13}
	g := bs.Compute(bs.Call, p)
	fmt.Printf("price %.2f delta %.3f gamma %.5f theta/day %.2f vega/pt %.2f\n",
		g.Price, g.Delta, g.Gamma, g.Theta/365, g.Vega/100)
	// Output:
	// price 184.71 delta 0.526 gamma 0.00092 theta/day -14.08 vega/pt 13.23
}

func ExampleImpliedVol() {
	p := bs.Params{Spot: 42, Strike: 40, T: 0.5, Rate: 0.10}
	iv, err := bs.ImpliedVol(bs.Call, p, 4.759422)
	fmt.Printf("%.4f %v\n", iv, err)

	_, err = bs.ImpliedVol(bs.Call, p, 45) // more than the stock itself
	fmt.Println(errors.Is(err, bs.ErrOutOfBounds))
	// Output:
	// 0.2000 <nil>
	// true
}

func ExampleSmile() {
	s := bs.DefaultSmile(0.13)
	const forward, t = 24000.0, 30.0 / 365
	for _, k := range []float64{21000, 22500, 24000, 25500, 27000} {
		fmt.Printf("%5.0f %.4f\n", k, s.Vol(forward, k, t))
	}
	// Output:
	// 21000 0.2525
	// 22500 0.1716
	// 24000 0.1348
	// 25500 0.1345
	// 27000 0.1645
}

func ExampleGBM() {
	g := bs.GBM{Drift: 0.05, Vol: 0.15}
	rng := rand.New(rand.NewPCG(1, 2)) // seeded: the path is reproducible
	spot := 24000.0
	for range 3 {
		spot = g.Step(spot, 1.0/252, rng) // one trading day
		fmt.Printf("%.2f\n", spot)
	}
	// Output:
	// 24089.91
	// 24110.63
	// 24159.97
}

func ExampleParams_Forward() {
	p := bs.Params{Spot: 100, T: 1, Rate: 0.07, Yield: 0.02}
	fmt.Printf("%.4f\n", p.Forward())
	// Output: 105.1271
}

func ExampleKind() {
	fmt.Println(bs.Call, bs.Put)
	// Output: call put
}

func ExampleGreeks() {
	p := bs.Params{Spot: 100, Strike: 100, T: 1, Vol: 0.2}
	c, put := bs.Compute(bs.Call, p), bs.Compute(bs.Put, p)
	// With no rate or yield, an at-the-money call and put share gamma and
	// vega, and their deltas are one apart.
	fmt.Printf("%.4f %.4f %.4f\n", c.Delta-put.Delta, c.Gamma-put.Gamma, c.Vega-put.Vega)
	// Output: 1.0000 0.0000 0.0000
}

// Pricing a chain: what every strike of one expiry shares is computed once.
func ExampleTerm() {
	s := bs.DefaultSmile(0.13)
	t := 7.0 / 365
	term := bs.NewTerm(24000, t, 0.065, 0.012)
	atm := s.ATMVol(t)
	for _, k := range []float64{23800, 24000, 24200} {
		vol := s.VolAround(atm, term.Forward(), k, t)
		c, p := term.Compute(bs.Call, k, vol), term.Compute(bs.Put, k, vol)
		fmt.Printf("%.0f call %7.2f put %7.2f iv %.4f\n", k, c.Price, p.Price, vol)
	}
	// Output:
	// 23800 call  326.69 put  102.56 iv 0.1474
	// 24000 call  199.13 put  174.75 iv 0.1409
	// 24200 call  107.94 put  283.32 iv 0.1371
}

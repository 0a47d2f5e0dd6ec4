package bs

import (
	"errors"
	"fmt"
	"math"
)

// Errors reported by this package. Errors returned by [Params.Validate] and
// [ImpliedVol] wrap one of these, so test for them with errors.Is.
var (
	// ErrInvalidParams reports parameters outside the model's domain: a NaN
	// or infinite value, a spot or strike that is not positive, a negative
	// time to expiry or volatility, or an unknown [Kind].
	ErrInvalidParams = errors.New("bs: invalid parameters")
	// ErrOutOfBounds reports an option price outside the no-arbitrage bounds,
	// for which no volatility exists: below the discounted intrinsic value or
	// above the discounted spot (call) or strike (put).
	ErrOutOfBounds = errors.New("bs: price outside no-arbitrage bounds")
	// ErrNoSolution reports a price inside the no-arbitrage bounds that
	// implies a volatility above [MaxVol], or an option at expiry whose price
	// carries no information about volatility.
	ErrNoSolution = errors.New("bs: no implied volatility")
)

// Kind is the right an option gives: to buy ([Call]) or to sell ([Put]).
type Kind uint8

// The two kinds of European option.
const (
	Call Kind = iota + 1
	Put
)

// String returns "call" or "put".
func (k Kind) String() string {
	switch k {
	case Call:
		return "call"
	case Put:
		return "put"
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// MarshalText returns "call" or "put", so that a Kind reads as a word in
// JSON; any other value is an error.
func (k Kind) MarshalText() ([]byte, error) {
	if k != Call && k != Put {
		return nil, fmt.Errorf("bs: invalid Kind %d", uint8(k))
	}
	return []byte(k.String()), nil
}

// UnmarshalText sets k from "call" or "put"; any other word is an error.
func (k *Kind) UnmarshalText(b []byte) error {
	switch string(b) {
	case "call":
		*k = Call
	case "put":
		*k = Put
	default:
		return fmt.Errorf("bs: unknown Kind %q", b)
	}
	return nil
}

// Params are the inputs of the model. Pass them by value; the zero value is
// not a valid option (the spot and strike must be positive).
type Params struct {
	Spot   float64 // price of the underlying, > 0
	Strike float64 // strike price, > 0
	T      float64 // time to expiry in years, >= 0
	Rate   float64 // risk-free rate, continuously compounded (0.10 = 10%)
	Yield  float64 // continuous dividend yield of the underlying
	Vol    float64 // volatility, annualised, >= 0 (ignored by ImpliedVol)
}

// Validate returns nil when p is inside the model's domain, or an error
// wrapping [ErrInvalidParams] that names the offending field.
func (p Params) Validate() error {
	switch {
	case !finite(p.Spot) || p.Spot <= 0:
		return fmt.Errorf("%w: Spot must be positive and finite, got %v", ErrInvalidParams, p.Spot)
	case !finite(p.Strike) || p.Strike <= 0:
		return fmt.Errorf("%w: Strike must be positive and finite, got %v", ErrInvalidParams, p.Strike)
	case !finite(p.T) || p.T < 0:
		return fmt.Errorf("%w: T must be non-negative and finite, got %v", ErrInvalidParams, p.T)
	case !finite(p.Rate):
		return fmt.Errorf("%w: Rate must be finite, got %v", ErrInvalidParams, p.Rate)
	case !finite(p.Yield):
		return fmt.Errorf("%w: Yield must be finite, got %v", ErrInvalidParams, p.Yield)
	case !finite(p.Vol) || p.Vol < 0:
		return fmt.Errorf("%w: Vol must be non-negative and finite, got %v", ErrInvalidParams, p.Vol)
	}
	return nil
}

func (p Params) valid() bool {
	return finite(p.Spot) && p.Spot > 0 && finite(p.Strike) && p.Strike > 0 &&
		finite(p.T) && p.T >= 0 && finite(p.Rate) && finite(p.Yield) &&
		finite(p.Vol) && p.Vol >= 0
}

// Forward returns the forward price of the underlying for delivery at
// expiry: Spot·e^((Rate−Yield)·T).
func (p Params) Forward() float64 { return p.Spot * math.Exp((p.Rate-p.Yield)*p.T) }

// Greeks is an option's value and its sensitivities. See the package
// documentation for the units.
type Greeks struct {
	Price float64 // option value
	Delta float64 // ∂V/∂S
	Gamma float64 // ∂²V/∂S²
	Theta float64 // ∂V/∂t: value change per year of calendar time passing
	Vega  float64 // ∂V/∂σ: value change per 1.0 of volatility
}

// Price returns the Black–Scholes–Merton value of a European option, or NaN
// when p is invalid (see [Params.Validate]) or k is neither Call nor Put.
func Price(k Kind, p Params) float64 {
	if !p.valid() || (k != Call && k != Put) {
		return math.NaN()
	}
	dq := math.Exp(-p.Yield * p.T)
	dr := math.Exp(-p.Rate * p.T)
	sq, kr := p.Spot*dq, p.Strike*dr // discounted spot and strike
	vt := p.Vol * math.Sqrt(p.T)
	if vt == 0 {
		if k == Call {
			return max(sq-kr, 0)
		}
		return max(kr-sq, 0)
	}
	d1 := (math.Log(sq/kr) + 0.5*vt*vt) / vt
	d2 := d1 - vt
	if k == Call {
		return sq*cdf(d1) - kr*cdf(d2)
	}
	return kr*cdf(-d2) - sq*cdf(-d1)
}

// Compute returns the value and Greeks of a European option. For invalid
// input every field is NaN.
func Compute(k Kind, p Params) Greeks {
	if !p.valid() || (k != Call && k != Put) {
		return nanGreeks()
	}
	return compute(k, p, math.Exp(-p.Yield*p.T), math.Exp(-p.Rate*p.T), math.Sqrt(p.T))
}

func nanGreeks() Greeks {
	nan := math.NaN()
	return Greeks{nan, nan, nan, nan, nan}
}

// compute evaluates the model for valid p given its discount factors
// dq = e^(−qT), dr = e^(−rT) and √T.
func compute(k Kind, p Params, dq, dr, sqrtT float64) Greeks {
	sq, kr := p.Spot*dq, p.Strike*dr // discounted spot and strike
	vt := p.Vol * sqrtT
	if vt == 0 {
		// Deterministic payoff: worth the discounted forward intrinsic value
		// (at the money it is worth zero and delta takes the mid value).
		var g Greeks
		sign := 1.0
		if k == Put {
			sign = -1
		}
		x := sign * (sq - kr)
		switch {
		case x > 0:
			g.Price = x
			g.Delta = sign * dq
			g.Theta = sign * (p.Yield*sq - p.Rate*kr)
		case x == 0:
			g.Delta = sign * dq / 2
		}
		return g
	}
	d1 := (math.Log(sq/kr) + 0.5*vt*vt) / vt
	d2 := d1 - vt
	pd1 := pdf(d1)
	g := Greeks{
		Gamma: dq * pd1 / (p.Spot * vt),
		Vega:  sq * pd1 * sqrtT,
	}
	decay := -sq * pd1 * p.Vol / (2 * sqrtT)
	if k == Call {
		n1, n2 := cdf(d1), cdf(d2)
		g.Price = sq*n1 - kr*n2
		g.Delta = dq * n1
		g.Theta = decay - p.Rate*kr*n2 + p.Yield*sq*n1
	} else {
		n1, n2 := cdf(-d1), cdf(-d2)
		g.Price = kr*n2 - sq*n1
		g.Delta = -dq * n1
		g.Theta = decay + p.Rate*kr*n2 - p.Yield*sq*n1
	}
	return g
}

// Term holds what every option on one underlying with one expiry shares:
// the spot, time, rate and yield, their discount factors and the forward.
// Pricing a chain strike by strike through one Term skips the exponentials
// each Compute call would redo, and gives bit for bit the results of
// Compute. A Term is a plain value, safe for concurrent use.
type Term struct {
	p             Params // Strike and Vol unused
	dq, dr, sqrtT float64
	forward       float64
	ok            bool
}

// NewTerm prepares the shared part of the model for options expiring in t
// years on an underlying at spot. Invalid values (see [Params.Validate]) make
// every result of the Term NaN.
func NewTerm(spot, t, rate, yield float64) Term {
	p := Params{Spot: spot, Strike: 1, T: t, Rate: rate, Yield: yield}
	if !p.valid() {
		return Term{p: p, forward: math.NaN()}
	}
	return Term{
		p:       p,
		dq:      math.Exp(-yield * t),
		dr:      math.Exp(-rate * t),
		sqrtT:   math.Sqrt(t),
		forward: p.Forward(),
		ok:      true,
	}
}

// Forward returns the forward price of the underlying for the Term's expiry,
// as [Params.Forward] does.
func (tm Term) Forward() float64 { return tm.forward }

// Compute returns the value and Greeks of the option with the given strike
// and volatility, equal to [Compute] with the Term's other parameters; NaN
// in every field for an invalid Term, strike or volatility.
func (tm Term) Compute(k Kind, strike, vol float64) Greeks {
	p := tm.p
	p.Strike, p.Vol = strike, vol
	if !tm.ok || !p.valid() || (k != Call && k != Put) {
		return nanGreeks()
	}
	return compute(k, p, tm.dq, tm.dr, tm.sqrtT)
}

// Bounds returns the no-arbitrage bounds of a European option's price: the
// discounted forward intrinsic value (lo, the value at zero volatility) and
// the discounted spot for a call or discounted strike for a put (hi, the
// limit as volatility grows without bound). For invalid input both are NaN.
func Bounds(k Kind, p Params) (lo, hi float64) {
	if !p.valid() || (k != Call && k != Put) {
		return math.NaN(), math.NaN()
	}
	sq := p.Spot * math.Exp(-p.Yield*p.T)
	kr := p.Strike * math.Exp(-p.Rate*p.T)
	if k == Call {
		return max(sq-kr, 0), sq
	}
	return max(kr-sq, 0), kr
}

// cdf is the standard normal distribution function. Computing it from erfc
// keeps full relative precision in the lower tail.
func cdf(x float64) float64 { return 0.5 * math.Erfc(-x/math.Sqrt2) }

// invSqrt2Pi is 1/√(2π).
const invSqrt2Pi = 0.3989422804014326779399460599343818684758586311649346576659258296

// pdf is the standard normal density.
func pdf(x float64) float64 { return invSqrt2Pi * math.Exp(-0.5*x*x) }

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

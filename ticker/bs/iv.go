package bs

import (
	"fmt"
	"math"
)

// MaxVol is the largest volatility [ImpliedVol] searches: 1000% a year.
const MaxVol = 10.0

// ivTol is the tolerance of the no-arbitrage bounds relative to the larger
// of spot and strike; ivRel is the price tolerance of the inversion relative
// to the out-of-the-money price; ivMaxIter caps its iterations (bisection
// alone halves the bracket [0, MaxVol] to below 1e-15 in about 55 steps).
const (
	ivTol     = 1e-14
	ivRel     = 1e-12
	ivMaxIter = 200
)

// ImpliedVol returns the volatility at which [Price] of the option described
// by p (whose Vol is ignored) equals price.
//
// It returns an error, and never NaN, when no such volatility exists: one
// wrapping [ErrInvalidParams] for bad parameters or a price that is NaN or
// infinite, [ErrOutOfBounds] for a price outside [Bounds], and
// [ErrNoSolution] for a price that implies more than [MaxVol] or an option at
// expiry (T = 0). A price within 1e-14·max(Spot, Strike) of the lower bound
// returns 0: such a price carries no usable information about volatility.
//
// The search inverts the out-of-the-money side of the strike: an
// in-the-money option's price is first turned into that of the other kind
// by put–call parity, which leaves the volatility unchanged and avoids
// dividing by a vanishing sensitivity deep in the money. It runs Newton steps
// kept inside a shrinking bisection bracket, so it converges for every price
// inside the bounds.
func ImpliedVol(k Kind, p Params, price float64) (float64, error) {
	p.Vol = 0
	if err := p.Validate(); err != nil {
		return 0, err
	}
	if k != Call && k != Put {
		return 0, fmt.Errorf("%w: unknown option kind %v", ErrInvalidParams, k)
	}
	if !finite(price) {
		return 0, fmt.Errorf("%w: price must be finite, got %v", ErrInvalidParams, price)
	}
	lo, hi := Bounds(k, p)
	scale := hi // discounted spot (call) or strike (put)
	tol := ivTol * max(scale, p.Spot, p.Strike)
	if price < lo-tol || price > hi+tol {
		return 0, fmt.Errorf("%w: %v price %v not in [%v, %v]", ErrOutOfBounds, k, price, lo, hi)
	}
	if p.T == 0 {
		return 0, fmt.Errorf("%w: option at expiry", ErrNoSolution)
	}
	if price <= lo+tol {
		return 0, nil
	}

	// Switch to the out-of-the-money side: C − P = S·e^(−qT) − K·e^(−rT).
	fwdDiff := p.Spot*math.Exp(-p.Yield*p.T) - p.Strike*math.Exp(-p.Rate*p.T)
	if k == Call && fwdDiff > 0 {
		k, price = Put, price-fwdDiff
	} else if k == Put && fwdDiff < 0 {
		k, price = Call, price+fwdDiff
	}
	if price <= 0 {
		return 0, nil
	}

	p.Vol = MaxVol
	if price > Price(k, p) {
		return 0, fmt.Errorf("%w: %v price %v implies volatility above %v", ErrNoSolution, k, price, MaxVol)
	}
	return solveVol(k, p, price), nil
}

// solveVol returns the volatility at which an out-of-the-money option of
// kind k priced by p has the given price, which lies strictly between its
// prices at volatility 0 and MaxVol.
//
// Newton inside a bracket [a, b] with f(a) < 0 < f(b), f(σ) = Price(σ) − price,
// which increases with σ. It stops when the price matches to ivRel of
// itself (far out of the money the price is tiny and its relative
// precision is what fixes σ) or the bracket has shrunk to rounding.
func solveVol(k Kind, p Params, price float64) float64 {
	ftol := max(ivRel*price, math.SmallestNonzeroFloat64)
	a, b := 0.0, MaxVol
	sigma := initialGuess(p, price)
	for range ivMaxIter {
		p.Vol = sigma
		g := Compute(k, p)
		f := g.Price - price
		if math.Abs(f) <= ftol {
			return sigma
		}
		if f < 0 {
			a = sigma
		} else {
			b = sigma
		}
		if b-a <= 1e-15*b {
			return sigma
		}
		next := sigma - f/g.Vega
		if g.Vega <= 0 || !(next > a && next < b) {
			next = 0.5 * (a + b)
		}
		sigma = next
	}
	return sigma
}

// initialGuess starts Newton near the answer: the Brenner–Subrahmanyam
// at-the-money approximation σ ≈ √(2π/T)·C/(S·e^(−qT)), widened by the
// Manaster–Koehler point √(2|ln(F/K)|/T) away from the money, clamped to a
// sensible range.
func initialGuess(p Params, price float64) float64 {
	sq := p.Spot * math.Exp(-p.Yield*p.T)
	atm := math.Sqrt(2*math.Pi/p.T) * price / sq
	mk := math.Sqrt(2 * math.Abs(math.Log(p.Forward()/p.Strike)) / p.T)
	return min(max(atm, mk, 0.01), 3)
}

package bs

import (
	"fmt"
	"math"
)

// Smile is a volatility surface in moneyness and time to expiry, of the
// shape quoted for equity-index options: a skew (out-of-the-money puts
// dearer than calls), a smile (both wings above the money) and short-dated
// at-the-money volatility above long-dated.
//
// With the standardised moneyness m = ln(K/F) / (ATM·√T), clamped to
// [−MaxMoneyness, MaxMoneyness], and the at-the-money level
// atm(T) = ATM·(1 + TermBump·e^(−T/TermDecay)), the volatility is
//
//	σ(K, T) = atm(T) · (1 + Skew·m + Curvature·m²)
//
// clamped to [MinVol, MaxVol]. Build one with [DefaultSmile] and adjust
// fields; a Smile is a plain value and safe for concurrent use.
type Smile struct {
	ATM          float64 // long-dated at-the-money volatility, > 0
	Skew         float64 // slope in m; negative makes out-of-the-money puts dearer
	Curvature    float64 // convexity in m, >= 0; lifts both wings
	TermBump     float64 // extra at-the-money vol near expiry, as a fraction of ATM, >= 0
	TermDecay    float64 // years over which TermBump fades (e-folding), > 0
	MaxMoneyness float64 // |m| beyond which the wings are flat, > 0
	MinVol       float64 // floor of the result, > 0
	MaxVol       float64 // cap of the result, >= MinVol
}

// DefaultSmile returns the surface the mock source (package ticker/mock) uses for an
// underlying whose at-the-money volatility is atm: Skew −0.08, Curvature
// 0.05, TermBump 0.10 fading over 30 days, flat beyond 4 standard deviations,
// and volatility kept within [atm/4, 4·atm].
func DefaultSmile(atm float64) Smile {
	return Smile{
		ATM:          atm,
		Skew:         -0.08,
		Curvature:    0.05,
		TermBump:     0.10,
		TermDecay:    30.0 / 365,
		MaxMoneyness: 4,
		MinVol:       atm / 4,
		MaxVol:       4 * atm,
	}
}

// Validate reports a field outside its range, wrapping [ErrInvalidParams].
func (s Smile) Validate() error {
	switch {
	case !finite(s.ATM) || s.ATM <= 0:
		return fmt.Errorf("%w: Smile.ATM must be positive, got %v", ErrInvalidParams, s.ATM)
	case !finite(s.Skew):
		return fmt.Errorf("%w: Smile.Skew must be finite, got %v", ErrInvalidParams, s.Skew)
	case !finite(s.Curvature) || s.Curvature < 0:
		return fmt.Errorf("%w: Smile.Curvature must be non-negative, got %v", ErrInvalidParams, s.Curvature)
	case !finite(s.TermBump) || s.TermBump < 0:
		return fmt.Errorf("%w: Smile.TermBump must be non-negative, got %v", ErrInvalidParams, s.TermBump)
	case !finite(s.TermDecay) || s.TermDecay <= 0:
		return fmt.Errorf("%w: Smile.TermDecay must be positive, got %v", ErrInvalidParams, s.TermDecay)
	case !finite(s.MaxMoneyness) || s.MaxMoneyness <= 0:
		return fmt.Errorf("%w: Smile.MaxMoneyness must be positive, got %v", ErrInvalidParams, s.MaxMoneyness)
	case !finite(s.MinVol) || s.MinVol <= 0:
		return fmt.Errorf("%w: Smile.MinVol must be positive, got %v", ErrInvalidParams, s.MinVol)
	case !finite(s.MaxVol) || s.MaxVol < s.MinVol:
		return fmt.Errorf("%w: Smile.MaxVol must be at least MinVol (%v), got %v", ErrInvalidParams, s.MinVol, s.MaxVol)
	}
	return nil
}

// minT is the shortest time to expiry the smile evaluates (about 30
// seconds), so that an option about to expire gets a finite volatility.
const minT = 1e-6

// Vol returns the volatility for a strike and a time to expiry t (years)
// given the forward price of the underlying for that expiry (see
// [Params.Forward]). A t below about 30 seconds is treated as 30 seconds.
// For a non-positive or NaN forward or strike it returns the clamped
// at-the-money level, never NaN, provided s is valid.
func (s Smile) Vol(forward, strike, t float64) float64 {
	return s.VolAround(s.ATMVol(t), forward, strike, t)
}

// ATMVol returns the at-the-money level for expiry t,
// ATM·(1 + TermBump·e^(−t/TermDecay)), before clamping. Compute it once per
// expiry and pass it to VolAround to price a chain.
func (s Smile) ATMVol(t float64) float64 {
	if !(t > minT) { // also catches NaN
		t = minT
	}
	return s.ATM * (1 + s.TermBump*math.Exp(-t/s.TermDecay))
}

// VolAround returns the volatility for a strike given the expiry's
// at-the-money level atm (from ATMVol), the forward and t; Vol(f, k, t) is
// VolAround(ATMVol(t), f, k, t).
func (s Smile) VolAround(atm, forward, strike, t float64) float64 {
	if !(t > minT) {
		t = minT
	}
	m := 0.0
	if forward > 0 && strike > 0 {
		m = math.Log(strike/forward) / (atm * math.Sqrt(t))
		m = min(max(m, -s.MaxMoneyness), s.MaxMoneyness)
	}
	v := atm * (1 + s.Skew*m + s.Curvature*m*m)
	return min(max(v, s.MinVol), s.MaxVol)
}

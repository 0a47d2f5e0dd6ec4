package bs

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// GBM is geometric Brownian motion dS = Drift·S·dt + Vol·S·dW: the log of
// the price moves by a normal step of mean (Drift − Vol²/2)·dt and variance
// Vol²·dt, so the price stays positive.
type GBM struct {
	Drift float64 // annualised drift μ
	Vol   float64 // annualised volatility σ, >= 0
}

// Validate reports a field outside its range, wrapping [ErrInvalidParams].
func (g GBM) Validate() error {
	if !finite(g.Drift) {
		return fmt.Errorf("%w: GBM.Drift must be finite, got %v", ErrInvalidParams, g.Drift)
	}
	if !finite(g.Vol) || g.Vol < 0 {
		return fmt.Errorf("%w: GBM.Vol must be non-negative and finite, got %v", ErrInvalidParams, g.Vol)
	}
	return nil
}

// Step advances spot by dt years using one standard normal draw from rng. It
// is deterministic for a seeded rng (rand.New(rand.NewPCG(seed, stream))).
// A dt that is not positive leaves spot unchanged and draws nothing.
func (g GBM) Step(spot, dt float64, rng *rand.Rand) float64 {
	if !(dt > 0) {
		return spot
	}
	return g.StepZ(spot, dt, rng.NormFloat64())
}

// StepZ advances spot by dt years given the standard normal draw z:
// spot·e^((Drift − Vol²/2)·dt + Vol·√dt·z). A dt that is not positive leaves
// spot unchanged.
func (g GBM) StepZ(spot, dt, z float64) float64 {
	if !(dt > 0) {
		return spot
	}
	return spot * math.Exp((g.Drift-0.5*g.Vol*g.Vol)*dt+g.Vol*math.Sqrt(dt)*z)
}

package breaker_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/steadfast-go/steadfast/breaker"
)

// model is a plain, slow reference for the closed state: it keeps every
// result of the generation in a slice and recomputes the window from it.
type model struct {
	threshold     int
	ratePct       int // FailureRate in percent; 0 = off
	minCalls      int
	per, buckets  int    // bucket size and full buckets kept: see the package doc
	results       []bool // true = failure
	succ, fails   int
	ignored       int
	streak, succs int // consecutive failures, successes
}

func newModel(threshold, ratePct, window, minCalls int) *model {
	per := max(window/10, 1)
	return &model{
		threshold: threshold, ratePct: ratePct, minCalls: minCalls,
		per: per, buckets: (window + per - 1) / per,
	}
}

// window returns the calls and failures the failure-rate window holds: the
// calls of the bucket being filled plus the newest full buckets.
func (m *model) window() (calls, fails int) {
	n := len(m.results)
	calls = n%m.per + min(n/m.per, m.buckets)*m.per
	for _, f := range m.results[n-calls:] {
		if f {
			fails++
		}
	}
	return calls, fails
}

func (m *model) rateReached() bool {
	calls, fails := m.window()
	// fails/calls >= ratePct/100, in exact integer arithmetic.
	return calls >= m.minCalls && fails > 0 && 100*fails >= m.ratePct*calls
}

// report records one result and says whether the breaker must open now.
// The rate is judged after every failure and after every success while the
// window held fewer than MinCalls calls; with one-call buckets (Window < 20)
// after every success as well, which must make no difference there.
func (m *model) report(r byte) (open bool) {
	switch r {
	case 'I':
		m.ignored++
		return false
	case 'S':
		before, _ := m.window()
		m.succ++
		m.streak = 0
		m.succs++
		m.results = append(m.results, false)
		return m.ratePct > 0 && (before < m.minCalls || m.per == 1) && m.rateReached()
	default:
		m.fails++
		m.streak++
		m.succs = 0
		m.results = append(m.results, true)
		if m.threshold > 0 && m.streak >= m.threshold {
			return true
		}
		return m.ratePct > 0 && m.rateReached()
	}
}

func (m *model) counts() breaker.Counts {
	c := breaker.Counts{
		Calls: uint64(m.succ + m.fails), Successes: uint64(m.succ), Failures: uint64(m.fails),
		Ignored: uint64(m.ignored), ConsecutiveSuccesses: uint64(m.succs), ConsecutiveFailures: uint64(m.streak),
	}
	calls, fails := m.window()
	c.WindowCalls = uint64(calls)
	if calls > 0 {
		c.FailureRate = float64(fails) / float64(calls)
	}
	return c
}

// TestAgainstModel drives breakers with random configurations and random
// serial call sequences (with long runs of successes, so that the lazy
// success accounting skips whole laps of the window) and requires the state
// and Counts to match the reference model after every call.
func TestAgainstModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	ctx := context.Background()
	errs := map[byte]error{'S': nil, 'F': errBoom, 'I': context.Canceled}
	for cfgN := range 200 {
		window := 1 + rng.IntN(60)
		if cfgN%4 == 0 {
			window = 100 + rng.IntN(200)
		}
		minCalls := 1 + rng.IntN(window)
		ratePct := 1 + rng.IntN(100)
		threshold := 0
		if rng.IntN(3) == 0 {
			threshold = 1 + rng.IntN(8)
		}
		cfg := breaker.Config{FailureThreshold: threshold, FailureRate: float64(ratePct) / 100, Window: window, MinCalls: minCalls}
		name := fmt.Sprintf("%+v", cfg)
		b := newBreaker(t, cfg)
		m := newModel(threshold, ratePct, window, minCalls)
		for step := 0; step < 1500; {
			// A run of calls with one failure probability; sometimes a long
			// run of successes.
			pFail := []float64{0, 0.02, 0.2, 0.5, 0.8, 1}[rng.IntN(6)]
			run := 1 + rng.IntN(3*window)
			for range run {
				step++
				r := byte('S')
				switch x := rng.Float64(); {
				case x < 0.05:
					r = 'I'
				case x < 0.05+pFail*0.95:
					r = 'F'
				}
				if rng.IntN(2) == 0 {
					_ = b.Do(ctx, func(context.Context) error { return errs[r] })
				} else {
					p, err := b.Allow()
					require.NoError(t, err, name)
					b.Done(p, errs[r])
				}
				if m.report(r) {
					require.Equal(t, breaker.Open, b.State(), "%s: step %d (%c) must open it", name, step, r)
					b.Reset()
					m = newModel(threshold, ratePct, window, minCalls)
					continue
				}
				require.Equal(t, breaker.Closed, b.State(), "%s: step %d (%c) must not open it", name, step, r)
				require.Equal(t, m.counts(), b.Counts(), "%s: step %d", name, step)
			}
		}
	}
}

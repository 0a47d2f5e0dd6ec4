package breaker_test

import (
	"context"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/steadfast-go/steadfast/breaker"
	"github.com/steadfast-go/steadfast/internal/metrictest"
)

const slowAfter = 100 * time.Millisecond // SlowCallDuration of these tests: a clock step of 5ms

// taking returns a protected call that takes d and then returns err.
func taking(d time.Duration, err error) func(context.Context) error {
	return func(context.Context) error { time.Sleep(d); return err }
}

var (
	fastOK   = taking(slowAfter*9/10, nil)  // two clock steps under: never slow
	slowOK   = taking(slowAfter*11/10, nil) // two clock steps over: always slow
	slowFail = taking(slowAfter*11/10, errBoom)
)

// TestSlowCallsOpenAtRate: slow calls, successes or failures, open the
// breaker once slow/calls reaches SlowCallRate with MinCalls calls in the
// window; Counts and the metric count them.
func TestSlowCallsOpenAtRate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		reg := prometheus.NewRegistry()
		b := newBreaker(t, breaker.Config{Name: "s", SlowCallDuration: slowAfter, SlowCallRate: 0.5, Window: 10, MinCalls: 6, FailureThreshold: 100, Registerer: reg})
		for range 4 {
			require.NoError(t, b.Do(t.Context(), fastOK))
		}
		require.NoError(t, b.Do(t.Context(), slowOK))
		require.ErrorIs(t, b.Do(t.Context(), slowFail), errBoom)
		c := b.Counts()
		require.Equal(t, breaker.Closed, b.State(), "2 of 6 slow")
		require.Equal(t, breaker.Counts{Calls: 6, Successes: 5, Failures: 1, ConsecutiveFailures: 1, Slow: 2, WindowCalls: 6, FailureRate: 1.0 / 6, SlowCallRate: 2.0 / 6}, c)
		require.NoError(t, b.Do(t.Context(), slowOK))
		require.Equal(t, breaker.Closed, b.State(), "3 of 7 slow")
		require.NoError(t, b.Do(t.Context(), slowOK))
		require.Equal(t, breaker.Open, b.State(), "4 of 8 slow")
		requireMetric(t, reg, "steadfast_breaker_slow_calls_total", metrictest.Labels{"name": "s"}, 4)
	})
}

// TestSlowCallsWaitForMinCalls: a slow rate reached with fewer than MinCalls
// calls opens the breaker at the call that brings the window to MinCalls,
// even a fast success; ignored calls are never slow.
func TestSlowCallsWaitForMinCalls(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBreaker(t, breaker.Config{SlowCallDuration: slowAfter, Window: 10, MinCalls: 4})
		require.ErrorIs(t, b.Do(t.Context(), taking(2*slowAfter, context.Canceled)), context.Canceled)
		for range 3 {
			require.NoError(t, b.Do(t.Context(), slowOK))
		}
		require.Equal(t, breaker.Closed, b.State(), "3 calls < MinCalls")
		require.Equal(t, uint64(3), b.Counts().Slow)
		require.NoError(t, b.Do(t.Context(), fastOK)) // 3 of 4 slow: below the default rate of 1
		require.Equal(t, breaker.Closed, b.State())

		b2 := newBreaker(t, breaker.Config{SlowCallDuration: slowAfter, SlowCallRate: 0.75, Window: 10, MinCalls: 4})
		for range 3 {
			require.NoError(t, b2.Do(t.Context(), slowOK))
		}
		require.Equal(t, breaker.Closed, b2.State())
		require.NoError(t, b2.Do(t.Context(), fastOK)) // 3 of 4 slow: 0.75
		require.Equal(t, breaker.Open, b2.State())
	})
}

// TestSlowCallAllowDone: the Permit carries the start, so Allow and Done
// measure the call between them.
func TestSlowCallAllowDone(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBreaker(t, breaker.Config{SlowCallDuration: slowAfter, Window: 2})
		p, err := b.Allow()
		require.NoError(t, err)
		q, err := b.Allow()
		require.NoError(t, err)
		time.Sleep(slowAfter * 9 / 10)
		b.Done(q, nil)
		require.Equal(t, uint64(0), b.Counts().Slow)
		time.Sleep(slowAfter * 2 / 10)
		b.Done(p, nil)
		require.Equal(t, uint64(1), b.Counts().Slow)
		require.Equal(t, breaker.Closed, b.State(), "1 of 2 slow: below the default rate of 1")
		p, err = b.Allow()
		require.NoError(t, err)
		time.Sleep(slowAfter * 11 / 10)
		b.Done(p, nil)
		require.Equal(t, breaker.Open, b.State(), "the window of 2 holds 2 slow calls")
	})
}

// TestSlowProbeReopens: a slow probe re-opens the breaker even though it
// succeeded.
func TestSlowProbeReopens(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBreaker(t, breaker.Config{SlowCallDuration: slowAfter, FailureThreshold: 1, OpenTimeout: time.Second})
		require.Error(t, b.Do(t.Context(), fail))
		time.Sleep(time.Second)
		require.NoError(t, b.Do(t.Context(), slowOK))
		require.Equal(t, breaker.Open, b.State())
		time.Sleep(time.Second)
		require.NoError(t, b.Do(t.Context(), fastOK))
		require.Equal(t, breaker.Closed, b.State())
	})
}

// TestSlowCallsConcurrent: 8 goroutines make overlapping calls of known
// durations; every slow call is counted exactly once, in Counts and in the
// metric, and a rate never reached never opens the breaker.
func TestSlowCallsConcurrent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		reg := prometheus.NewRegistry()
		b := newBreaker(t, breaker.Config{Name: "c", SlowCallDuration: slowAfter, SlowCallRate: 0.9, FailureRate: 0.9, MinCalls: 10, Registerer: reg})
		const workers, calls = 8, 60
		var wg sync.WaitGroup
		for g := range workers {
			wg.Go(func() {
				for i := range calls {
					switch (g + i) % 3 {
					case 0:
						_ = b.Do(context.Background(), slowOK)
					case 1:
						_ = b.Do(context.Background(), slowFail)
					default:
						p, err := b.Allow()
						require.NoError(t, err)
						time.Sleep(slowAfter / 2)
						b.Done(p, nil)
					}
				}
			})
		}
		wg.Wait()
		c := b.Counts()
		require.Equal(t, breaker.Closed, b.State())
		require.Equal(t, uint64(workers*calls), c.Calls)
		require.Equal(t, uint64(workers*calls/3), c.Failures)
		require.Equal(t, uint64(workers*calls*2/3), c.Slow)
		requireMetric(t, reg, "steadfast_breaker_slow_calls_total", metrictest.Labels{"name": "c"}, workers*calls*2/3)
	})
}

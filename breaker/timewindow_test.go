package breaker_test

import (
	"context"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/steadfast-go/steadfast/breaker"
)

// TestTimeWindowForgetsOldCalls: a call stays in a window of WindowDuration
// for at least WindowDuration and less than WindowDuration plus a bucket
// (WindowDuration/10); failures that aged out no longer count.
func TestTimeWindowForgetsOldCalls(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBreaker(t, breaker.Config{FailureRate: 0.5, WindowDuration: 10 * time.Second, MinCalls: 4})
		for range 3 {
			require.Error(t, b.Do(t.Context(), fail))
		}
		time.Sleep(10*time.Second - time.Millisecond)
		require.Equal(t, uint64(3), b.Counts().WindowCalls, "still within WindowDuration")
		time.Sleep(time.Second + 2*time.Millisecond)
		require.Equal(t, uint64(0), b.Counts().WindowCalls, "gone after WindowDuration + a bucket")

		// With a window of the last 4 calls, this success would open the
		// breaker at 3 failures of 4; here the window holds it alone.
		require.NoError(t, b.Do(t.Context(), succeed))
		require.Equal(t, breaker.Closed, b.State())
		require.Equal(t, breaker.Counts{Calls: 4, Successes: 1, Failures: 3, ConsecutiveSuccesses: 1, WindowCalls: 1}, b.Counts())
		require.Error(t, b.Do(t.Context(), fail))
		require.Error(t, b.Do(t.Context(), fail))
		require.Equal(t, breaker.Closed, b.State(), "2 of 3: fewer than MinCalls")
		require.NoError(t, b.Do(t.Context(), succeed))
		require.Equal(t, breaker.Open, b.State(), "2 of 4")
	})
}

// TestTimeWindowSuccessesAgeOut: successes counted without the lock are
// placed in the bucket of their time by the clock's ticks, so a burst of
// successes long ago does not dilute a failure now.
func TestTimeWindowSuccessesAgeOut(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBreaker(t, breaker.Config{FailureRate: 0.5, WindowDuration: 10 * time.Second, MinCalls: 1})
		for range 1000 {
			require.NoError(t, b.Do(t.Context(), succeed))
		}
		time.Sleep(5 * time.Second)
		require.Error(t, b.Do(t.Context(), fail))
		require.Equal(t, breaker.Closed, b.State(), "1 of 1001")
		time.Sleep(15 * time.Second)
		require.Error(t, b.Do(t.Context(), fail))
		require.Equal(t, breaker.Open, b.State(), "the successes aged out, and the first failure")

		// Successes that come long after the last judgement are still placed
		// in the bucket of their time, not in the one of that judgement.
		b2 := newBreaker(t, breaker.Config{FailureRate: 0.5, WindowDuration: 10 * time.Second, MinCalls: 3})
		require.Error(t, b2.Do(t.Context(), fail)) // t = 0
		time.Sleep(9 * time.Second)
		for range 10 {
			require.NoError(t, b2.Do(t.Context(), succeed)) // t = 9s
		}
		time.Sleep(6 * time.Second)
		require.Error(t, b2.Do(t.Context(), fail)) // t = 15s
		require.Equal(t, uint64(11), b2.Counts().WindowCalls, "the successes of 9s and the failure of 15s")
		require.Equal(t, breaker.Closed, b2.State())
	})
}

// TestTimeWindowSlowRate: the slow-call rate is judged over the time window
// too.
func TestTimeWindowSlowRate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBreaker(t, breaker.Config{SlowCallDuration: slowAfter, SlowCallRate: 0.5, WindowDuration: time.Second, MinCalls: 2})
		require.NoError(t, b.Do(t.Context(), slowOK))
		time.Sleep(2 * time.Second)
		require.NoError(t, b.Do(t.Context(), fastOK))
		require.NoError(t, b.Do(t.Context(), fastOK))
		require.Equal(t, breaker.Closed, b.State(), "the slow call aged out: 0 of 2")
		require.NoError(t, b.Do(t.Context(), slowOK))
		require.NoError(t, b.Do(t.Context(), slowOK))
		require.Equal(t, breaker.Open, b.State(), "2 of 4")
	})
}

// TestTimeWindowConcurrent: 8 goroutines call within one window; the window
// holds every call exactly once, then none.
func TestTimeWindowConcurrent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBreaker(t, breaker.Config{FailureRate: 0.9, WindowDuration: 10 * time.Second, MinCalls: 10})
		const workers, calls = 8, 500
		var wg sync.WaitGroup
		for g := range workers {
			wg.Go(func() {
				for i := range calls {
					var err error
					if (g+i)%5 == 0 {
						err = errBoom
					}
					_ = b.Do(context.Background(), func(context.Context) error { return err })
					if i%100 == 99 {
						time.Sleep(time.Second) // spread over five buckets
					}
				}
			})
		}
		wg.Wait()
		c := b.Counts()
		require.Equal(t, breaker.Closed, b.State())
		require.Equal(t, uint64(workers*calls), c.WindowCalls)
		require.Equal(t, 0.2, c.FailureRate)
		time.Sleep(11 * time.Second)
		require.Equal(t, uint64(0), b.Counts().WindowCalls)
		require.Equal(t, uint64(workers*calls), b.Counts().Calls, "Counts keep the generation")
	})
}

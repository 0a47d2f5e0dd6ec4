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

// requireOpenFor checks that b is open for period d from now: NextProbe says
// so, it is still open 1ns before, and half-open at the end.
func requireOpenFor(t *testing.T, b *breaker.Breaker, d time.Duration) {
	t.Helper()
	require.Equal(t, breaker.Open, b.State())
	require.Equal(t, d, b.Counts().OpenPeriod)
	require.Equal(t, time.Now().Add(d), b.NextProbe())
	time.Sleep(d - time.Nanosecond)
	require.Equal(t, breaker.Open, b.State())
	time.Sleep(time.Nanosecond)
	require.Equal(t, breaker.HalfOpen, b.State())
	require.True(t, b.NextProbe().IsZero(), "no next probe while half-open")
}

// TestOpenPeriodDoublesCapsAndResets: each failed probe doubles the open
// period within ±10%, up to MaxOpenTimeout; the first period is OpenTimeout
// exactly, and closing starts over from it.
func TestOpenPeriodDoublesCapsAndResets(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		reg := prometheus.NewRegistry()
		b := newBreaker(t, breaker.Config{Name: "g", FailureThreshold: 1, OpenTimeout: time.Second, MaxOpenTimeout: time.Minute, Registerer: reg})
		require.True(t, b.NextProbe().IsZero(), "no next probe while closed")
		requireMetric(t, reg, "steadfast_breaker_open_period_seconds", metrictest.Labels{"name": "g"}, 0)
		require.Error(t, b.Do(t.Context(), fail))
		requireMetric(t, reg, "steadfast_breaker_open_period_seconds", metrictest.Labels{"name": "g"}, 1)
		requireOpenFor(t, b, time.Second)

		for _, base := range []time.Duration{2, 4, 8, 16, 32, 60, 60, 60} {
			base *= time.Second
			require.Error(t, b.Do(t.Context(), fail), "the probe fails")
			d := b.Counts().OpenPeriod
			require.GreaterOrEqual(t, d, base*9/10, "base %v", base)
			require.LessOrEqual(t, d, min(base*11/10, time.Minute), "base %v", base)
			requireMetric(t, reg, "steadfast_breaker_open_period_seconds", metrictest.Labels{"name": "g"}, d.Seconds())
			requireOpenFor(t, b, d)
		}
		require.NoError(t, b.Do(t.Context(), succeed))
		require.Equal(t, breaker.Closed, b.State())
		require.Zero(t, b.Counts().OpenPeriod)
		requireMetric(t, reg, "steadfast_breaker_open_period_seconds", metrictest.Labels{"name": "g"}, 0)

		require.Error(t, b.Do(t.Context(), fail))
		requireOpenFor(t, b, time.Second) // reset on close
		require.Error(t, b.Do(t.Context(), fail))
		d := b.Counts().OpenPeriod
		require.InDelta(t, 2*time.Second, d, float64(200*time.Millisecond), "grows again from OpenTimeout")

		b.Reset() // Reset starts over too
		require.Error(t, b.Do(t.Context(), fail))
		requireOpenFor(t, b, time.Second)
	})
}

// TestOpenPeriodJitter: the grown periods spread over ±10% of their base,
// never outside it and never below OpenTimeout or above MaxOpenTimeout.
func TestOpenPeriodJitter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBreaker(t, breaker.Config{FailureThreshold: 1, OpenTimeout: time.Second, MaxOpenTimeout: 3 * time.Second})
		lo, hi := 2.0, 0.0
		var capped []time.Duration
		for range 300 {
			require.Error(t, b.Do(t.Context(), fail))
			time.Sleep(time.Second)
			require.Error(t, b.Do(t.Context(), fail)) // the probe fails: 2s ±10%
			r := float64(b.Counts().OpenPeriod) / float64(2*time.Second)
			lo, hi = min(lo, r), max(hi, r)
			time.Sleep(b.Counts().OpenPeriod)
			require.Error(t, b.Do(t.Context(), fail)) // 4s, capped at 3s, -10%
			capped = append(capped, b.Counts().OpenPeriod)
			b.Reset()
		}
		require.GreaterOrEqual(t, lo, 0.9)
		require.LessOrEqual(t, hi, 1.1)
		require.Less(t, lo, 0.92, "the jitter reaches down near -10%")
		require.Greater(t, hi, 1.08, "the jitter reaches up near +10%")
		// At the cap the jitter only shortens: a fleet of breakers at the
		// cap still spreads its probes.
		clo, chi := 3*time.Second, time.Duration(0)
		for _, d := range capped {
			clo, chi = min(clo, d), max(chi, d)
		}
		require.GreaterOrEqual(t, clo, 2700*time.Millisecond)
		require.LessOrEqual(t, chi, 3*time.Second)
		require.Less(t, clo, 2750*time.Millisecond)
		require.Greater(t, chi, 2950*time.Millisecond)
	})
}

// TestFixedOpenPeriodByDefault: without MaxOpenTimeout every open period is
// OpenTimeout exactly, as before.
func TestFixedOpenPeriodByDefault(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBreaker(t, breaker.Config{FailureThreshold: 1, OpenTimeout: 5 * time.Second})
		require.Error(t, b.Do(t.Context(), fail))
		for range 5 {
			requireOpenFor(t, b, 5*time.Second)
			require.Error(t, b.Do(t.Context(), fail))
		}
	})
}

// TestNextProbeZeroWhenForced: a breaker forced open by Trip has no next
// probe.
func TestNextProbeZeroWhenForced(t *testing.T) {
	b := newBreaker(t, breaker.Config{FailureThreshold: 1})
	require.Error(t, b.Do(t.Context(), fail))
	require.False(t, b.NextProbe().IsZero())
	b.Trip()
	require.True(t, b.NextProbe().IsZero())
	require.Zero(t, b.Counts().OpenPeriod)
}

// TestOpenPeriodConcurrentProbes: with several probes and callers racing, a
// failing probe re-opens the breaker once, for one grown period: the
// other probes' results are stale.
func TestOpenPeriodConcurrentProbes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &recorder{}
		b := newBreaker(t, breaker.Config{Name: "c", FailureThreshold: 1, OpenTimeout: time.Second, MaxOpenTimeout: time.Hour, HalfOpenMaxCalls: 4, OnStateChange: rec.on})
		require.Error(t, b.Do(t.Context(), fail))
		time.Sleep(time.Second)
		var wg sync.WaitGroup
		var mu sync.Mutex
		admitted := 0
		release := make(chan struct{})
		for i := range 16 {
			wg.Go(func() {
				p, err := b.Allow()
				if err != nil {
					return
				}
				mu.Lock()
				admitted++
				mu.Unlock()
				<-release // every caller has asked before any probe reports
				time.Sleep(time.Duration(i) * time.Millisecond)
				if i%2 == 0 {
					b.Done(p, errBoom)
				} else {
					b.Done(p, nil)
				}
			})
		}
		synctest.Wait()
		close(release)
		wg.Wait()
		require.Equal(t, 4, admitted, "HalfOpenMaxCalls probes, the rest rejected")
		require.Equal(t, breaker.Open, b.State())
		require.InDelta(t, 2*time.Second, b.Counts().OpenPeriod, float64(200*time.Millisecond))
		require.Equal(t, []string{"c:closed->open", "c:open->half-open", "c:half-open->open"}, rec.get())
	})
}

// TestOpenTimeoutMultiplier: the open period grows by OpenTimeoutMultiplier
// per failed probe, within ±10%, up to MaxOpenTimeout.
func TestOpenTimeoutMultiplier(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBreaker(t, breaker.Config{FailureThreshold: 1, OpenTimeout: time.Second, MaxOpenTimeout: 10 * time.Second, OpenTimeoutMultiplier: 1.5})
		require.Error(t, b.Do(t.Context(), fail))
		requireOpenFor(t, b, time.Second)
		for _, base := range []float64{1.5, 2.25, 3.375, 5.0625, 7.59375, 10, 10} {
			require.Error(t, b.Do(t.Context(), fail))
			d := b.Counts().OpenPeriod.Seconds()
			require.GreaterOrEqual(t, d, base*0.9-1e-9, "base %v", base)
			require.LessOrEqual(t, d, min(base*1.1, 10)+1e-9, "base %v", base)
			time.Sleep(b.Counts().OpenPeriod)
		}
	})
}

// TestRecoveryAfterAnOutage: a dependency down for 8s, called every 10ms
// through a breaker whose open period starts at 1s and grows to 60s. With
// the default doubling the probes come at about 1, 3, 7 and 15s, so calls
// resume 5.6-8.4s after the dependency is back; with a multiplier of 1.2
// they resume within 3s, whatever the jitter.
func TestRecoveryAfterAnOutage(t *testing.T) {
	const outage = 8 * time.Second
	resumeAfter := func(multiplier float64) time.Duration {
		var d time.Duration
		synctest.Test(t, func(t *testing.T) {
			b := newBreaker(t, breaker.Config{FailureThreshold: 1, OpenTimeout: time.Second, MaxOpenTimeout: time.Minute, OpenTimeoutMultiplier: multiplier})
			start := time.Now()
			dependency := func(context.Context) error {
				if time.Since(start) < outage {
					return errBoom
				}
				return nil
			}
			for b.Do(t.Context(), dependency) != nil {
				time.Sleep(10 * time.Millisecond)
			}
			d = time.Since(start) - outage
		})
		return d
	}
	lo, hi := [2]time.Duration{time.Hour, time.Hour}, [2]time.Duration{}
	for range 50 {
		for i, m := range []float64{0, 1.2} { // 0: the default, doubling
			d := resumeAfter(m)
			lo[i], hi[i] = min(lo[i], d), max(hi[i], d)
		}
	}
	t.Logf("calls resumed after the outage: doubling %v-%v, multiplier 1.2 %v-%v", lo[0], hi[0], lo[1], hi[1])
	require.GreaterOrEqual(t, lo[0], 5600*time.Millisecond)
	require.LessOrEqual(t, hi[0], 8400*time.Millisecond)
	require.LessOrEqual(t, hi[1], 3*time.Second)
}

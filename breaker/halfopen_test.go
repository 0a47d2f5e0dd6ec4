package breaker_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/steadfast-go/steadfast/breaker"
	"github.com/steadfast-go/steadfast/internal/logtest"
	"github.com/steadfast-go/steadfast/internal/metrictest"
)

// TestLostPermitDoesNotWedgeHalfOpen: a probe whose Permit is never passed
// to Done (a lost permit, a call that hangs) re-opens the breaker once it has
// run for HalfOpenMaxWait, which defaults to the current open period; the
// next probe is then admitted after a new open period.
func TestLostPermitDoesNotWedgeHalfOpen(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &recorder{}
		b := newBreaker(t, breaker.Config{Name: "w", FailureThreshold: 1, OpenTimeout: 10 * time.Second, OnStateChange: rec.on})
		require.Error(t, b.Do(t.Context(), fail))
		time.Sleep(10 * time.Second)
		lost, err := b.Allow() // the probe, never reported
		require.NoError(t, err)
		_ = lost

		time.Sleep(10*time.Second - time.Nanosecond)
		require.Equal(t, breaker.HalfOpen, b.State(), "the probe still has time")
		_, err = b.Allow()
		require.ErrorIs(t, err, breaker.ErrTooManyCalls)

		time.Sleep(time.Nanosecond)
		require.Equal(t, breaker.Open, b.State(), "a probe running for HalfOpenMaxWait re-opens it")
		time.Sleep(time.Minute)
		require.Equal(t, breaker.HalfOpen, b.State())
		require.NoError(t, b.Do(t.Context(), succeed))
		require.Equal(t, breaker.Closed, b.State())
		require.Equal(t, []string{"w:closed->open", "w:open->half-open", "w:half-open->open", "w:open->half-open", "w:half-open->closed"}, rec.get())
	})
}

// TestHalfOpenMaxWait: an explicit wait; it starts when a probe is admitted
// while none runs, so sequential probes each get the full wait; a probe
// that times out counts as a failed probe (the open period grows) and is
// logged as such; its late result is stale.
func TestHalfOpenMaxWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var buf logtest.Buffer
		b := newBreaker(t, breaker.Config{
			Name: "m", FailureThreshold: 1, OpenTimeout: 10 * time.Second, MaxOpenTimeout: time.Hour,
			HalfOpenMaxCalls: 2, HalfOpenMaxWait: 3 * time.Second, Logger: jsonLogger(&buf),
		})
		require.Error(t, b.Do(t.Context(), fail))
		time.Sleep(10 * time.Second)
		require.Equal(t, breaker.HalfOpen, b.State())
		time.Sleep(time.Hour)
		require.Equal(t, breaker.HalfOpen, b.State(), "no probe admitted: no wait runs")

		p1, err := b.Allow()
		require.NoError(t, err)
		time.Sleep(2 * time.Second)
		b.Done(p1, nil) // in time
		time.Sleep(2 * time.Second)
		p2, err := b.Allow() // admitted with none running: a fresh 3s
		require.NoError(t, err)
		time.Sleep(3*time.Second - time.Nanosecond)
		require.Equal(t, breaker.HalfOpen, b.State())
		time.Sleep(time.Nanosecond)
		require.Equal(t, breaker.Open, b.State(), "p2 ran for HalfOpenMaxWait")
		require.InDelta(t, 20*time.Second, b.Counts().OpenPeriod, float64(2*time.Second), "a timed-out probe is a failed probe")
		b.Done(p2, nil) // late: stale
		require.Equal(t, breaker.Open, b.State())
		require.Equal(t, breaker.Counts{OpenPeriod: b.Counts().OpenPeriod}, b.Counts())

		var timedOut []string
		for _, r := range records(t, &buf) {
			if r["probe_timed_out"] == true {
				timedOut = append(timedOut, fmt.Sprintf("%s %s->%s", r["level"], r["from"], r["to"]))
			}
		}
		require.Equal(t, []string{"WARN half-open->open"}, timedOut)
	})
}

// TestHungProbeUnderConcurrentCallers: while the probe hangs, concurrent
// callers are rejected with ErrTooManyCalls, after HalfOpenMaxWait with
// ErrOpen, and every rejection is counted exactly once.
func TestHungProbeUnderConcurrentCallers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		reg := prometheus.NewRegistry()
		b := newBreaker(t, breaker.Config{Name: "h", FailureThreshold: 1, OpenTimeout: 10 * time.Second, HalfOpenMaxWait: 5 * time.Second, Registerer: reg})
		require.Error(t, b.Do(t.Context(), fail))
		time.Sleep(10 * time.Second)
		hung := make(chan struct{})
		defer func() {
			select {
			case <-hung:
			default:
				close(hung)
			}
		}()
		go func() {
			_ = b.Do(context.Background(), func(context.Context) error { <-hung; return nil })
		}()
		synctest.Wait()

		const workers, calls = 8, 100
		var tooMany, open atomic.Int64
		var wg sync.WaitGroup
		for range workers {
			wg.Go(func() {
				for range calls {
					err := b.Do(context.Background(), succeed)
					switch {
					case errors.Is(err, breaker.ErrTooManyCalls):
						tooMany.Add(1)
					case errors.Is(err, breaker.ErrOpen):
						open.Add(1)
					default:
						t.Errorf("call admitted while the probe hangs: %v", err)
					}
					time.Sleep(100 * time.Millisecond) // 10s in all: past the wait, within the next period
				}
			})
		}
		wg.Wait()
		require.Equal(t, int64(workers*calls), tooMany.Load()+open.Load())
		require.Equal(t, int64(workers*50), tooMany.Load(), "rejected as too many for the 5s the probe may run")
		requireMetric(t, reg, "steadfast_breaker_calls_total", metrictest.Labels{"name": "h", "result": "rejected"}, workers*calls)
		close(hung)
		synctest.Wait()
		requireMetric(t, reg, "steadfast_breaker_calls_total", metrictest.Labels{"name": "h", "result": "success"}, 1)
		require.Equal(t, breaker.Open, b.State(), "the probe's late success is stale")
		time.Sleep(5 * time.Second) // re-opened at 5s for 10s
		require.Equal(t, breaker.HalfOpen, b.State())
	})
}

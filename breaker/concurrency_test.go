package breaker_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/steadfast-go/steadfast/breaker"
	"github.com/steadfast-go/steadfast/internal/metrictest"
)

// TestHammerModesSlowCallsTimeWindow: 8 goroutines make fast and slow calls
// through a breaker with slow-call detection, a time window and a growing
// open period, while another goroutine trips, resets and switches it to
// metrics-only. Every admitted call is counted exactly once by result in the
// cumulative metrics, and so is every admitted slow call.
func TestHammerModesSlowCallsTimeWindow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const workers, perWorker = 8, 300
		reg := prometheus.NewRegistry()
		b := newBreaker(t, breaker.Config{
			Name: "h2", FailureThreshold: 5, FailureRate: 0.5, MinCalls: 20, WindowDuration: 10 * time.Second,
			SlowCallDuration: slowAfter, SlowCallRate: 0.5, OpenTimeout: 50 * time.Millisecond, MaxOpenTimeout: time.Second,
			Registerer: reg,
		})
		stop := make(chan struct{})
		var flipper sync.WaitGroup
		flipper.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				case <-time.After(7 * time.Millisecond):
				}
				switch i % 4 {
				case 0:
					b.Trip()
				case 2:
					b.MetricsOnly()
				default:
					b.Reset()
				}
			}
		})
		var succ, fails, ign, rej, slow atomic.Int64
		var wg sync.WaitGroup
		for g := range workers {
			wg.Go(func() {
				for i := range perWorker {
					var want error
					switch (g + i) % 7 {
					case 0, 3:
						want = errBoom
					case 1:
						want = context.Canceled
					}
					isSlow := (g+i)%5 == 0
					err := b.Do(context.Background(), func(context.Context) error {
						if isSlow {
							time.Sleep(2 * slowAfter)
						}
						return want
					})
					switch {
					case breaker.IsRejected(err):
						rej.Add(1)
						time.Sleep(time.Millisecond)
						continue
					case err == nil:
						succ.Add(1)
					case errors.Is(err, context.Canceled):
						ign.Add(1)
						continue // an ignored call is never slow
					default:
						fails.Add(1)
					}
					if isSlow {
						slow.Add(1)
					}
				}
			})
		}
		wg.Wait()
		close(stop)
		flipper.Wait()
		require.Equal(t, int64(workers*perWorker), succ.Load()+fails.Load()+ign.Load()+rej.Load())
		require.NotZero(t, rej.Load(), "the breaker was open at times")
		require.NotZero(t, slow.Load())
		calls := func(result string) metrictest.Labels { return metrictest.Labels{"result": result} }
		requireMetric(t, reg, "steadfast_breaker_calls_total", calls("success"), float64(succ.Load()))
		requireMetric(t, reg, "steadfast_breaker_calls_total", calls("failure"), float64(fails.Load()))
		requireMetric(t, reg, "steadfast_breaker_calls_total", calls("ignored"), float64(ign.Load()))
		requireMetric(t, reg, "steadfast_breaker_calls_total", calls("rejected"), float64(rej.Load()))
		requireMetric(t, reg, "steadfast_breaker_slow_calls_total", metrictest.Labels{"name": "h2"}, float64(slow.Load()))
	})
}

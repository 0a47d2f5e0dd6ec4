package breaker_test

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/steadfast-go/steadfast/breaker"
	"github.com/steadfast-go/steadfast/internal/logtest"
	"github.com/steadfast-go/steadfast/internal/metrictest"
)

// callConcurrently makes workers*calls calls from workers goroutines, every
// fifth one failing, half through Do and half through Allow and Done.
func callConcurrently(b *breaker.Breaker, workers, calls int) {
	var wg sync.WaitGroup
	for g := range workers {
		wg.Go(func() {
			for i := range calls {
				var err error
				if i%5 == 0 {
					err = errBoom
				}
				if g%2 == 0 {
					_ = b.Do(context.Background(), func(context.Context) error { return err })
					continue
				}
				if p, aerr := b.Allow(); aerr == nil {
					b.Done(p, err)
				}
			}
		})
	}
	wg.Wait()
}

// TestDisable: a disabled breaker admits every call and counts nothing, in
// Counts or in the metrics, under concurrent callers; it says so in Mode and
// in its metrics; Reset returns it to normal.
func TestDisable(t *testing.T) {
	reg := prometheus.NewRegistry()
	rec := &recorder{}
	var buf logtest.Buffer
	b := newBreaker(t, breaker.Config{Name: "d", FailureThreshold: 1, SlowCallDuration: time.Hour, Registerer: reg, OnStateChange: rec.on, Logger: jsonLogger(&buf)})
	require.Error(t, b.Do(t.Context(), fail))
	require.Equal(t, breaker.Open, b.State())

	b.Disable()
	require.Equal(t, breaker.Disabled, b.Mode())
	require.Equal(t, breaker.Closed, b.State())
	requireMetric(t, reg, "steadfast_breaker_disabled", metrictest.Labels{"name": "d"}, 1)
	requireMetric(t, reg, "steadfast_breaker_state", metrictest.Labels{"name": "d"}, 0)
	callConcurrently(b, 8, 1000)
	require.Equal(t, breaker.Closed, b.State())
	require.Equal(t, breaker.Counts{}, b.Counts())
	requireMetric(t, reg, "steadfast_breaker_calls_total", metrictest.Labels{"name": "d", "result": "failure"}, 1)
	requireMetric(t, reg, "steadfast_breaker_calls_total", metrictest.Labels{"name": "d", "result": "success"}, 0)
	b.Disable() // again: nothing to see

	b.Reset()
	require.Equal(t, breaker.Normal, b.Mode())
	requireMetric(t, reg, "steadfast_breaker_disabled", metrictest.Labels{"name": "d"}, 0)
	require.Error(t, b.Do(t.Context(), fail))
	require.Equal(t, breaker.Open, b.State())
	require.Equal(t, []string{"d:closed->open", "d:open->closed", "d:closed->closed", "d:closed->open"}, rec.get())
	require.Equal(t, []string{"WARN closed->open", "INFO open->closed disabled", "INFO closed->closed", "WARN closed->open"}, modeChanges(t, &buf))
	requireMetric(t, reg, "steadfast_breaker_transitions_total", metrictest.Labels{"name": "d", "from": "closed", "to": "closed"}, 1)
}

// modeChanges returns "LEVEL from->to [mode]" for each "state changed" record.
func modeChanges(t *testing.T, buf *logtest.Buffer) []string {
	t.Helper()
	var out []string
	for _, r := range records(t, buf) {
		if r["msg"] == "state changed" {
			s := r["level"].(string) + " " + r["from"].(string) + "->" + r["to"].(string)
			if m, ok := r["mode"].(string); ok {
				s += " " + m
			}
			out = append(out, s)
		}
	}
	return out
}

// TestMetricsOnly: in metrics-only mode the breaker counts every call and
// keeps its rates exactly, under concurrent callers, but never opens, by
// either trigger; Reset lets it act again.
func TestMetricsOnly(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		reg := prometheus.NewRegistry()
		b := newBreaker(t, breaker.Config{Name: "m", FailureThreshold: 3, FailureRate: 0.1, MinCalls: 10, Registerer: reg})
		b.MetricsOnly()
		require.Equal(t, breaker.MetricsOnly, b.Mode())
		requireMetric(t, reg, "steadfast_breaker_metrics_only", metrictest.Labels{"name": "m"}, 1)
		for range 20 {
			require.ErrorIs(t, b.Do(t.Context(), fail), errBoom)
		}
		const workers, calls = 8, 1000
		callConcurrently(b, workers, calls)
		require.Equal(t, breaker.Closed, b.State())
		c := b.Counts()
		total := uint64(workers*calls) + 20
		require.Equal(t, total, c.Calls)
		require.Equal(t, uint64(workers*calls/5)+20, c.Failures)
		require.Equal(t, uint64(breaker.DefaultWindow), c.WindowCalls, "the last 100 calls (buckets of 10)")
		requireMetric(t, reg, "steadfast_breaker_calls_total", metrictest.Labels{"name": "m", "result": "failure"}, float64(c.Failures))
		requireMetric(t, reg, "steadfast_breaker_calls_total", metrictest.Labels{"name": "m", "result": "success"}, float64(c.Successes))

		b.Reset()
		require.Equal(t, breaker.Normal, b.Mode())
		requireMetric(t, reg, "steadfast_breaker_metrics_only", metrictest.Labels{"name": "m"}, 0)
		for range 3 {
			require.Error(t, b.Do(t.Context(), fail))
		}
		require.Equal(t, breaker.Open, b.State())

		b.MetricsOnly() // from open: closed, counting
		require.Equal(t, breaker.Closed, b.State())
		b.Trip()
		require.Equal(t, breaker.ForcedOpen, b.Mode())
		require.True(t, b.Forced())
		b.Disable()
		require.Equal(t, breaker.Disabled, b.Mode())
		require.False(t, b.Forced())
	})
}

// TestMetricsOnlySlowAndTimeWindow: metrics-only mode keeps the slow-call
// rate over a time window too.
func TestMetricsOnlySlowAndTimeWindow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBreaker(t, breaker.Config{SlowCallDuration: slowAfter, WindowDuration: time.Minute, MinCalls: 1})
		b.MetricsOnly()
		for range 4 {
			require.NoError(t, b.Do(t.Context(), slowOK))
		}
		require.NoError(t, b.Do(t.Context(), fastOK))
		c := b.Counts()
		require.Equal(t, breaker.Closed, b.State())
		require.Equal(t, uint64(4), c.Slow)
		require.Equal(t, 0.8, c.SlowCallRate)
		require.Equal(t, uint64(5), c.WindowCalls)
	})
}

func TestModeText(t *testing.T) {
	for m, want := range map[breaker.Mode]string{
		breaker.Normal: "normal", breaker.ForcedOpen: "forced-open", breaker.Disabled: "disabled", breaker.MetricsOnly: "metrics-only",
	} {
		require.Equal(t, want, m.String())
		out, err := json.Marshal(m)
		require.NoError(t, err)
		require.Equal(t, `"`+want+`"`, string(out))
		var back breaker.Mode
		require.NoError(t, json.Unmarshal(out, &back))
		require.Equal(t, m, back)
	}
	require.Equal(t, "Mode(9)", breaker.Mode(9).String())
	_, err := json.Marshal(breaker.Mode(9))
	require.ErrorContains(t, err, "breaker: invalid Mode 9")
	var m breaker.Mode
	require.ErrorContains(t, m.UnmarshalText([]byte("off")), `breaker: unknown Mode "off"`)
}

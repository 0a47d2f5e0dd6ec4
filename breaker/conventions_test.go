package breaker_test

// Tests of the conventions every package follows (log records, enums as
// words, one config rule) and of the defects fixed with them.

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
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

// stateChanges returns "LEVEL from->to" for each "state changed" record.
func stateChanges(t *testing.T, buf *logtest.Buffer, name string) []string {
	t.Helper()
	var out []string
	for _, r := range logtest.Records(t, buf.Bytes()) {
		if r["msg"] != "state changed" {
			continue
		}
		require.Equal(t, "breaker", r["component"])
		require.Equal(t, name, r["name"])
		s := fmt.Sprintf("%s %s->%s", r["level"], r["from"], r["to"])
		if r["forced"] == true {
			s += " forced"
		}
		out = append(out, s)
	}
	return out
}

// TestLogsStateChanges: every state change is logged, to open at Warn and
// the others at Info, with the keys every package uses.
func TestLogsStateChanges(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var buf logtest.Buffer
		b := newBreaker(t, breaker.Config{Name: "quotes", FailureThreshold: 1, OpenTimeout: time.Second, Logger: logtest.JSON(&buf)})
		require.Error(t, b.Do(t.Context(), fail))
		time.Sleep(time.Second)
		require.Equal(t, breaker.HalfOpen, b.State())
		require.NoError(t, b.Do(t.Context(), succeed))
		b.Trip()
		b.Reset()
		require.Equal(t, []string{
			"WARN closed->open", "INFO open->half-open", "INFO half-open->closed",
			"WARN closed->open forced", "INFO open->closed",
		}, stateChanges(t, &buf, "quotes"))
	})
}

// TestLoggerLookedUpWhenLogging: with no Logger, a slog.SetDefault made
// after New is honoured.
func TestLoggerLookedUpWhenLogging(t *testing.T) {
	b, err := breaker.New(breaker.Config{Name: "late", FailureThreshold: 1})
	require.NoError(t, err)
	var buf logtest.Buffer
	old := slog.Default()
	slog.SetDefault(logtest.JSON(&buf))
	defer slog.SetDefault(old)
	require.Error(t, b.Do(t.Context(), fail))
	require.Equal(t, []string{"WARN closed->open"}, stateChanges(t, &buf, "late"))
}

// TestTripWhileOpenIsVisible: Trip on a breaker open by its own failures is
// a change from open to open, delivered, logged and counted; the breaker
// says it is forced and never turns half-open.
func TestTripWhileOpenIsVisible(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		reg := prometheus.NewRegistry()
		rec := &recorder{}
		var buf logtest.Buffer
		b := newBreaker(t, breaker.Config{Name: "v", FailureThreshold: 1, OpenTimeout: time.Second, Registerer: reg, OnStateChange: rec.on, Logger: logtest.JSON(&buf)})
		require.Error(t, b.Do(t.Context(), fail))
		require.False(t, b.Forced())
		requireMetric(t, reg, "steadfast_breaker_forced", metrictest.Labels{"name": "v"}, 0)
		b.Trip()
		require.True(t, b.Forced())
		requireMetric(t, reg, "steadfast_breaker_forced", metrictest.Labels{"name": "v"}, 1)
		requireMetric(t, reg, "steadfast_breaker_transitions_total", metrictest.Labels{"name": "v", "from": "open", "to": "open"}, 1)
		require.Equal(t, []string{"v:closed->open", "v:open->open"}, rec.Get())
		require.Equal(t, []string{"WARN closed->open", "WARN open->open forced"}, stateChanges(t, &buf, "v"))

		time.Sleep(time.Hour)
		require.Equal(t, breaker.Open, b.State(), "forced: never half-open")
		_, err := b.Allow()
		require.ErrorIs(t, err, breaker.ErrOpen)
		b.Trip() // already forced: nothing to see
		require.Len(t, rec.Get(), 2)
		b.Reset()
		require.False(t, b.Forced())
		requireMetric(t, reg, "steadfast_breaker_forced", metrictest.Labels{"name": "v"}, 0)
	})
}

// TestNilFunc: a nil function is the caller's bug, not the dependency's: it
// is refused without touching the counts or taking the half-open probe.
func TestNilFunc(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBreaker(t, breaker.Config{FailureThreshold: 1, OpenTimeout: time.Second})
		require.ErrorIs(t, b.Do(t.Context(), nil), breaker.ErrNilFunc)
		v, err := breaker.Call[int](t.Context(), b, nil)
		require.ErrorIs(t, err, breaker.ErrNilFunc)
		require.Zero(t, v)
		require.Equal(t, breaker.Counts{}, b.Counts())
		require.Equal(t, breaker.Closed, b.State())

		require.Error(t, b.Do(t.Context(), fail))
		time.Sleep(time.Second)
		require.ErrorIs(t, b.Do(t.Context(), nil), breaker.ErrNilFunc)
		require.Equal(t, breaker.HalfOpen, b.State())
		require.NoError(t, b.Do(t.Context(), succeed), "the probe slot is still free")
		require.Equal(t, breaker.Closed, b.State())
	})
}

// TestForeignPermit: a Permit passed to another breaker's Done is ignored
// there, counted and logged once, and stays good for its own breaker.
func TestForeignPermit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		reg := prometheus.NewRegistry()
		var buf logtest.Buffer
		a := newBreaker(t, breaker.Config{Name: "a", FailureThreshold: 1})
		b := newBreaker(t, breaker.Config{Name: "b", FailureThreshold: 1, OpenTimeout: time.Second, Registerer: reg, Logger: logtest.JSON(&buf)})

		p, err := a.Allow()
		require.NoError(t, err)
		b.Done(p, errBoom) // would open b (threshold 1) if applied
		b.Done(p, nil)
		require.Equal(t, breaker.Closed, b.State())
		require.Equal(t, breaker.Counts{}, b.Counts())
		requireMetric(t, reg, "steadfast_breaker_foreign_permits_total", metrictest.Labels{"name": "b"}, 2)
		requireMetric(t, reg, "steadfast_breaker_calls_total", metrictest.Labels{"name": "b", "result": "failure"}, 0)
		n := 0
		for _, r := range logtest.Records(t, buf.Bytes()) {
			if strings.HasPrefix(r["msg"].(string), "permit of another breaker") {
				require.Equal(t, "b", r["name"])
				n++
			}
		}
		require.Equal(t, 1, n, "the first foreign permit is logged")
		a.Done(p, nil)
		require.Equal(t, uint64(1), a.Counts().Successes)

		// Nor can a foreign success close a half-open breaker.
		require.Error(t, b.Do(t.Context(), fail))
		time.Sleep(time.Second)
		probe, err := b.Allow()
		require.NoError(t, err)
		q, err := a.Allow()
		require.NoError(t, err)
		b.Done(q, nil)
		require.Equal(t, breaker.HalfOpen, b.State())
		b.Done(probe, nil)
		require.Equal(t, breaker.Closed, b.State())
	})
}

// TestStateChangeBacklogBounded: while a slow OnStateChange delivers one
// change, 2000 more are made. At most 16 wait; the rest are merged and
// counted as skipped; the callback still sees an unbroken chain ending in the
// current state.
func TestStateChangeBacklogBounded(t *testing.T) {
	reg := prometheus.NewRegistry()
	var (
		mu      sync.Mutex
		seen    []string
		entered = make(chan struct{})
		release = make(chan struct{})
	)
	b := newBreaker(t, breaker.Config{Name: "q", Registerer: reg, OnStateChange: func(_ string, from, to breaker.State) {
		mu.Lock()
		seen = append(seen, from.String()+"->"+to.String())
		first := len(seen) == 1
		mu.Unlock()
		if first {
			close(entered)
			<-release
		}
	}})
	done := make(chan struct{})
	go func() {
		defer close(done)
		b.Trip() // delivers, and blocks in the callback
	}()
	<-entered
	for range 1000 {
		b.Reset() // each returns at once: the first goroutine delivers
		b.Trip()
	}
	close(release)
	<-done

	mu.Lock()
	defer mu.Unlock()
	require.LessOrEqual(t, len(seen), 1+16)
	skipped, err := metrictest.Value(reg, "steadfast_breaker_state_changes_skipped_total", nil)
	require.NoError(t, err)
	require.Equal(t, float64(2001-len(seen)), skipped)
	for i := 1; i < len(seen); i++ {
		require.Equal(t, strings.Split(seen[i-1], "->")[1], strings.Split(seen[i], "->")[0], "chain broken at %d: %v", i, seen)
	}
	require.Equal(t, "open", strings.Split(seen[len(seen)-1], "->")[1])
	require.True(t, b.Forced())
}

func TestIsRejected(t *testing.T) {
	require.True(t, breaker.IsRejected(breaker.ErrOpen))
	require.True(t, breaker.IsRejected(fmt.Errorf("publish: %w", breaker.ErrTooManyCalls)))
	require.False(t, breaker.IsRejected(errBoom))
	require.False(t, breaker.IsRejected(breaker.ErrNilFunc))
	require.False(t, breaker.IsRejected(nil))
	b := newBreaker(t, breaker.Config{})
	b.Trip()
	require.True(t, breaker.IsRejected(b.Do(context.Background(), succeed)))
}

// TestStateText: a State marshals to JSON as its word and back.
func TestStateText(t *testing.T) {
	type health struct{ State breaker.State }
	for _, s := range []breaker.State{breaker.Closed, breaker.Open, breaker.HalfOpen} {
		out, err := json.Marshal(health{s})
		require.NoError(t, err)
		require.Equal(t, `{"State":"`+s.String()+`"}`, string(out))
		var back health
		require.NoError(t, json.Unmarshal(out, &back))
		require.Equal(t, s, back.State)
	}
	var s breaker.State
	require.ErrorContains(t, s.UnmarshalText([]byte("ajar")), `breaker: unknown State "ajar"`)
	_, err := json.Marshal(health{breaker.State(7)})
	require.ErrorContains(t, err, "breaker: invalid State 7")
}

// TestDerivedDefaultYields: a MinCalls above the default Window is valid; the
// window grows to it.
func TestDerivedDefaultYields(t *testing.T) {
	b := newBreaker(t, breaker.Config{FailureRate: 0.5, MinCalls: 150})
	for range 149 {
		require.Error(t, b.Do(t.Context(), fail))
	}
	require.Equal(t, breaker.Closed, b.State(), "149 calls < MinCalls")
	require.Error(t, b.Do(t.Context(), fail))
	require.Equal(t, breaker.Open, b.State())
}

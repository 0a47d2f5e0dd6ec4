package breaker_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/steadfast-go/steadfast/breaker"
	"github.com/steadfast-go/steadfast/internal/metrictest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

var errBoom = errors.New("boom")

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// recorder collects OnStateChange events.
type recorder struct {
	mu     sync.Mutex
	events []string
}

func (r *recorder) on(name string, from, to breaker.State) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, fmt.Sprintf("%s:%s->%s", name, from, to))
}

func (r *recorder) get() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.events...)
}

func newBreaker(t *testing.T, cfg breaker.Config) *breaker.Breaker {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = quiet()
	}
	b, err := breaker.New(cfg)
	require.NoError(t, err)
	return b
}

func fail(context.Context) error    { return errBoom }
func succeed(context.Context) error { return nil }

func TestStateString(t *testing.T) {
	require.Equal(t, "closed", breaker.Closed.String())
	require.Equal(t, "open", breaker.Open.String())
	require.Equal(t, "half-open", breaker.HalfOpen.String())
	require.Equal(t, "State(7)", breaker.State(7).String())
}

func TestNewRejectsInvalidConfig(t *testing.T) {
	cases := []struct {
		cfg   breaker.Config
		field string
	}{
		{breaker.Config{FailureThreshold: -1}, "FailureThreshold"},
		{breaker.Config{FailureThreshold: 1 << 32}, "FailureThreshold"},
		{breaker.Config{FailureRate: 1.5}, "FailureRate"},
		{breaker.Config{FailureRate: -0.1}, "FailureRate"},
		{breaker.Config{Window: -1}, "Window"},
		{breaker.Config{Window: 1 << 25}, "Window"},
		{breaker.Config{MinCalls: -1}, "MinCalls"},
		{breaker.Config{Window: 10, MinCalls: 11}, "MinCalls"},
		{breaker.Config{MinCalls: 1 << 25}, "MinCalls"},
		{breaker.Config{OpenTimeout: -time.Second}, "OpenTimeout"},
		{breaker.Config{HalfOpenMaxCalls: -1}, "HalfOpenMaxCalls"},
		{breaker.Config{MaxOpenTimeout: -1}, "MaxOpenTimeout"},
		{breaker.Config{OpenTimeout: 2 * time.Second, MaxOpenTimeout: time.Second}, "MaxOpenTimeout"},
		{breaker.Config{HalfOpenMaxWait: -1}, "HalfOpenMaxWait"},
		{breaker.Config{WindowDuration: -1}, "WindowDuration"},
		{breaker.Config{WindowDuration: 9 * time.Millisecond}, "WindowDuration"},
		{breaker.Config{WindowDuration: time.Second, Window: 10}, "Window"},
		{breaker.Config{SlowCallDuration: -1}, "SlowCallDuration"},
		{breaker.Config{SlowCallDuration: time.Second, SlowCallRate: 1.5}, "SlowCallRate"},
		{breaker.Config{SlowCallDuration: time.Second, SlowCallRate: -0.5}, "SlowCallRate"},
		{breaker.Config{SlowCallRate: 0.5}, "SlowCallRate"},
		{breaker.Config{OpenTimeoutMultiplier: 1}, "OpenTimeoutMultiplier"},
		{breaker.Config{OpenTimeoutMultiplier: 0.5}, "OpenTimeoutMultiplier"},
		{breaker.Config{OpenTimeoutMultiplier: -2}, "OpenTimeoutMultiplier"},
		{breaker.Config{OpenTimeoutMultiplier: 10.5}, "OpenTimeoutMultiplier"},
	}
	for _, c := range cases {
		b, err := breaker.New(c.cfg)
		require.Nil(t, b)
		require.ErrorContains(t, err, "breaker: Config."+c.field, "config %+v", c.cfg)
	}
	// NaN is not in (0,1].
	_, err := breaker.New(breaker.Config{FailureRate: nanRate()})
	require.ErrorContains(t, err, "breaker: Config.FailureRate")
	_, err = breaker.New(breaker.Config{SlowCallDuration: time.Second, SlowCallRate: nanRate()})
	require.ErrorContains(t, err, "breaker: Config.SlowCallRate")
	_, err = breaker.New(breaker.Config{OpenTimeoutMultiplier: nanRate()})
	require.ErrorContains(t, err, "breaker: Config.OpenTimeoutMultiplier")
	// The zero Config and the boundaries are valid.
	for _, cfg := range []breaker.Config{
		{}, {FailureRate: 1}, {FailureRate: 0.01, Window: 1, MinCalls: 1}, {Window: 1 << 24},
		{FailureThreshold: 1<<32 - 1}, {OpenTimeout: time.Duration(1<<63 - 1)},
		{MinCalls: 101},               // the default Window (100) yields to it
		{MaxOpenTimeout: time.Second}, // the default OpenTimeout (60s) yields to it
		{OpenTimeout: time.Second, MaxOpenTimeout: time.Second},
		{WindowDuration: 10 * time.Millisecond, MinCalls: 1 << 24},
		{SlowCallDuration: time.Nanosecond, SlowCallRate: 1},
		{OpenTimeoutMultiplier: 1.01}, {OpenTimeoutMultiplier: 10},
		{OpenTimeout: time.Duration(1<<63 - 1), MaxOpenTimeout: time.Duration(1<<63 - 1), HalfOpenMaxWait: time.Duration(1<<63 - 1)},
	} {
		_, err := breaker.New(cfg)
		require.NoError(t, err, "config %+v", cfg)
	}
}

func nanRate() float64 {
	zero := 0.0
	return zero / zero
}

func TestDefaults(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &recorder{}
		b := newBreaker(t, breaker.Config{Name: "d", OnStateChange: rec.on})
		require.Equal(t, "d", b.Name())
		// Default threshold: 10 consecutive failures.
		for range 9 {
			require.ErrorIs(t, b.Do(t.Context(), fail), errBoom)
		}
		require.Equal(t, breaker.Closed, b.State())
		require.ErrorIs(t, b.Do(t.Context(), fail), errBoom)
		require.Equal(t, breaker.Open, b.State())
		// Default open timeout: 60s.
		time.Sleep(60*time.Second - time.Nanosecond)
		require.Equal(t, breaker.Open, b.State())
		time.Sleep(time.Nanosecond)
		require.Equal(t, breaker.HalfOpen, b.State())
		// Default probes: 1.
		p, err := b.Allow()
		require.NoError(t, err)
		_, err = b.Allow()
		require.ErrorIs(t, err, breaker.ErrTooManyCalls)
		b.Done(p, nil)
		require.Equal(t, breaker.Closed, b.State())
		require.Equal(t, []string{"d:closed->open", "d:open->half-open", "d:half-open->closed"}, rec.get())
	})
}

func TestTransitions(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &recorder{}
		b := newBreaker(t, breaker.Config{Name: "t", FailureThreshold: 3, OpenTimeout: 10 * time.Second, OnStateChange: rec.on})

		// closed -> open after 3 consecutive failures.
		for range 3 {
			require.ErrorIs(t, b.Do(t.Context(), fail), errBoom)
		}
		require.Equal(t, breaker.Open, b.State())
		require.Equal(t, breaker.Counts{OpenPeriod: 10 * time.Second}, b.Counts(), "counts start over in the new state")
		called := false
		err := b.Do(t.Context(), func(context.Context) error { called = true; return nil })
		require.ErrorIs(t, err, breaker.ErrOpen)
		require.False(t, called)
		require.Equal(t, uint64(1), b.Counts().Rejected)

		// open -> half-open by time alone, observed without any call.
		time.Sleep(10 * time.Second)
		require.Equal(t, breaker.HalfOpen, b.State())

		// half-open -> open on a failed probe, for a fresh full timeout.
		time.Sleep(3 * time.Second) // time spent half-open must not shorten the next timeout
		require.ErrorIs(t, b.Do(t.Context(), fail), errBoom)
		require.Equal(t, breaker.Open, b.State())
		time.Sleep(10*time.Second - time.Nanosecond)
		require.Equal(t, breaker.Open, b.State())
		_, err = b.Allow()
		require.ErrorIs(t, err, breaker.ErrOpen)
		time.Sleep(time.Nanosecond)

		// A call arriving after the timeout is the probe; success closes it.
		require.NoError(t, b.Do(t.Context(), succeed))
		require.Equal(t, breaker.Closed, b.State())

		require.Equal(t, []string{
			"t:closed->open", "t:open->half-open", "t:half-open->open",
			"t:open->half-open", "t:half-open->closed",
		}, rec.get())
	})
}

func TestSuccessResetsStreak(t *testing.T) {
	b := newBreaker(t, breaker.Config{FailureThreshold: 3})
	for range 5 {
		require.Error(t, b.Do(t.Context(), fail))
		require.Error(t, b.Do(t.Context(), fail))
		require.Equal(t, uint64(2), b.Counts().ConsecutiveFailures)
		require.NoError(t, b.Do(t.Context(), succeed))
		require.NoError(t, b.Do(t.Context(), succeed))
	}
	c := b.Counts()
	require.Equal(t, breaker.Closed, b.State())
	require.Equal(t, breaker.Counts{Calls: 20, Successes: 10, Failures: 10, ConsecutiveSuccesses: 2, WindowCalls: 20, FailureRate: 0.5}, c)
	require.Error(t, b.Do(t.Context(), fail))
	require.Error(t, b.Do(t.Context(), fail))
	require.Error(t, b.Do(t.Context(), fail))
	require.Equal(t, breaker.Open, b.State())
}

func TestHalfOpenAdmission(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBreaker(t, breaker.Config{FailureThreshold: 1, OpenTimeout: time.Second, HalfOpenMaxCalls: 3})
		require.Error(t, b.Do(t.Context(), fail))
		time.Sleep(time.Second)

		var ps []breaker.Permit
		for range 3 {
			p, err := b.Allow()
			require.NoError(t, err)
			ps = append(ps, p)
		}
		_, err := b.Allow()
		require.ErrorIs(t, err, breaker.ErrTooManyCalls)
		require.Equal(t, uint64(1), b.Counts().Rejected)

		// The limit is in total, not concurrent: a finished probe does not free its slot.
		b.Done(ps[0], nil)
		_, err = b.Allow()
		require.ErrorIs(t, err, breaker.ErrTooManyCalls)

		// An ignored probe frees its slot.
		b.Done(ps[1], context.Canceled)
		p, err := b.Allow()
		require.NoError(t, err)
		ps[1] = p
		require.Equal(t, breaker.HalfOpen, b.State())

		b.Done(ps[1], nil)
		require.Equal(t, breaker.HalfOpen, b.State())
		c := b.Counts()
		require.Equal(t, uint64(2), c.Successes)
		require.Equal(t, uint64(1), c.Ignored)
		require.Equal(t, uint64(2), c.ConsecutiveSuccesses)
		b.Done(ps[2], nil) // third success: closes
		require.Equal(t, breaker.Closed, b.State())
	})
}

func TestHalfOpenProbeFailureReopens(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBreaker(t, breaker.Config{FailureThreshold: 1, OpenTimeout: time.Minute, HalfOpenMaxCalls: 2})
		require.Error(t, b.Do(t.Context(), fail))
		time.Sleep(time.Minute)
		p1, err := b.Allow()
		require.NoError(t, err)
		p2, err := b.Allow()
		require.NoError(t, err)
		b.Done(p1, nil)
		b.Done(p2, errBoom)
		require.Equal(t, breaker.Open, b.State())
		time.Sleep(time.Minute - 1)
		require.Equal(t, breaker.Open, b.State())
		time.Sleep(1)
		require.Equal(t, breaker.HalfOpen, b.State())
	})
}

func TestStalePermits(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		reg := prometheus.NewRegistry()
		b := newBreaker(t, breaker.Config{Name: "s", FailureThreshold: 1, OpenTimeout: time.Second, HalfOpenMaxCalls: 2, Registerer: reg})

		// A closed-state permit finishing after the breaker opened and closed again.
		old, err := b.Allow()
		require.NoError(t, err)
		require.Error(t, b.Do(t.Context(), fail))
		time.Sleep(time.Second)
		require.NoError(t, b.Do(t.Context(), succeed)) // first of two probes
		require.NoError(t, b.Do(t.Context(), succeed))
		require.Equal(t, breaker.Closed, b.State())
		b.Done(old, errBoom) // would open it (threshold 1) if it counted
		require.Equal(t, breaker.Closed, b.State())
		require.Equal(t, breaker.Counts{}, b.Counts())

		// A half-open permit finishing after the breaker moved on.
		require.Error(t, b.Do(t.Context(), fail))
		time.Sleep(time.Second)
		hp, err := b.Allow()
		require.NoError(t, err)
		b.Reset()
		b.Done(hp, errBoom)
		require.Equal(t, breaker.Closed, b.State())
		require.Equal(t, breaker.Counts{}, b.Counts())

		// Same generation's state but a Reset in between: still stale.
		cp, err := b.Allow()
		require.NoError(t, err)
		b.Reset()
		b.Done(cp, nil)
		require.Equal(t, breaker.Counts{}, b.Counts())

		// The zero Permit is ignored entirely.
		b.Done(breaker.Permit{}, errBoom)
		require.Equal(t, breaker.Counts{}, b.Counts())

		// Stale results are real calls: the cumulative metrics have them.
		requireMetric(t, reg, "steadfast_breaker_calls_total", metrictest.Labels{"name": "s", "result": "failure"}, 4)
		requireMetric(t, reg, "steadfast_breaker_calls_total", metrictest.Labels{"name": "s", "result": "success"}, 3)
	})
}

func TestIsFailureAndIsIgnored(t *testing.T) {
	errNotFound := errors.New("not found")
	errSkip := errors.New("skip")
	b := newBreaker(t, breaker.Config{
		FailureThreshold: 2,
		IsFailure:        func(err error) bool { return err != nil && !errors.Is(err, errNotFound) },
		IsIgnored:        func(err error) bool { return errors.Is(err, errSkip) },
	})
	for range 5 {
		require.ErrorIs(t, b.Do(t.Context(), func(context.Context) error { return errNotFound }), errNotFound)
		require.ErrorIs(t, b.Do(t.Context(), func(context.Context) error { return errSkip }), errSkip)
	}
	// With a custom IsIgnored, context.Canceled is no longer ignored.
	require.ErrorIs(t, b.Do(t.Context(), func(context.Context) error { return context.Canceled }), context.Canceled)
	c := b.Counts()
	require.Equal(t, breaker.Counts{Calls: 6, Successes: 5, Failures: 1, Ignored: 5, ConsecutiveFailures: 1, WindowCalls: 6, FailureRate: 1.0 / 6}, c)
	require.Equal(t, breaker.Closed, b.State())

	// IsIgnored is asked first, and an ignored call does not break a failure streak.
	b2 := newBreaker(t, breaker.Config{FailureThreshold: 2})
	require.Error(t, b2.Do(t.Context(), fail))
	require.ErrorIs(t, b2.Do(t.Context(), func(context.Context) error { return context.Canceled }), context.Canceled)
	require.Equal(t, uint64(1), b2.Counts().Ignored)
	require.Equal(t, uint64(1), b2.Counts().ConsecutiveFailures)
	require.Error(t, b2.Do(t.Context(), fail))
	require.Equal(t, breaker.Open, b2.State())
	// DeadlineExceeded is a failure by default.
	b3 := newBreaker(t, breaker.Config{FailureThreshold: 1})
	require.Error(t, b3.Do(t.Context(), func(context.Context) error { return context.DeadlineExceeded }))
	require.Equal(t, breaker.Open, b3.State())
}

func TestDoneContextAlreadyDone(t *testing.T) {
	b := newBreaker(t, breaker.Config{FailureThreshold: 1})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	called := false
	err := b.Do(ctx, func(context.Context) error { called = true; return nil })
	require.ErrorIs(t, err, context.Canceled)
	require.False(t, called)
	v, err := breaker.Call(ctx, b, func(context.Context) (int, error) { called = true; return 1, nil })
	require.ErrorIs(t, err, context.Canceled)
	require.Zero(t, v)
	require.False(t, called)

	dctx, dcancel := context.WithDeadline(t.Context(), time.Unix(0, 0))
	defer dcancel()
	require.ErrorIs(t, b.Do(dctx, succeed), context.DeadlineExceeded)
	require.Equal(t, breaker.Counts{}, b.Counts())
	require.Equal(t, breaker.Closed, b.State())

	// Cancellation during the call is ignored by default: counts neither way.
	ctx2, cancel2 := context.WithCancel(t.Context())
	err = b.Do(ctx2, func(ctx context.Context) error { cancel2(); return ctx.Err() })
	require.ErrorIs(t, err, context.Canceled)
	require.Equal(t, breaker.Counts{Ignored: 1}, b.Counts())
	require.Equal(t, breaker.Closed, b.State())
}

func TestPanicCountsAsFailureAndRepanics(t *testing.T) {
	b := newBreaker(t, breaker.Config{FailureThreshold: 2})
	func() {
		defer func() { require.Equal(t, "kaboom", recover()) }()
		_ = b.Do(t.Context(), func(context.Context) error { panic("kaboom") })
	}()
	require.Equal(t, uint64(1), b.Counts().Failures)
	func() {
		defer func() { require.Equal(t, errBoom, recover()) }()
		_, _ = breaker.Call(t.Context(), b, func(context.Context) (int, error) { panic(errBoom) })
	}()
	require.Equal(t, breaker.Open, b.State())

	// runtime.Goexit in fn counts as a failure too.
	b2 := newBreaker(t, breaker.Config{FailureThreshold: 5})
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = b2.Do(context.Background(), func(context.Context) error { runtime.Goexit(); return nil })
	}()
	<-done
	require.Equal(t, uint64(1), b2.Counts().Failures)
}

func TestCall(t *testing.T) {
	b := newBreaker(t, breaker.Config{FailureThreshold: 1})
	v, err := breaker.Call(t.Context(), b, func(context.Context) (string, error) { return "ok", nil })
	require.NoError(t, err)
	require.Equal(t, "ok", v)
	v, err = breaker.Call(t.Context(), b, func(context.Context) (string, error) { return "partial", errBoom })
	require.ErrorIs(t, err, errBoom)
	require.Equal(t, "partial", v, "fn's value is returned with its error")
	v, err = breaker.Call(t.Context(), b, func(context.Context) (string, error) { return "x", nil })
	require.ErrorIs(t, err, breaker.ErrOpen)
	require.Equal(t, "", v)
	require.Equal(t, breaker.Counts{Rejected: 1, OpenPeriod: breaker.DefaultOpenTimeout}, b.Counts())
}

func TestCallbackPanicsContained(t *testing.T) {
	var logs bytes.Buffer
	var mu sync.Mutex
	logger := slog.New(slog.NewTextHandler(&lockedWriter{w: &logs, mu: &mu}, nil))
	reg := prometheus.NewRegistry()
	calls := 0
	b := newBreaker(t, breaker.Config{
		Name:             "cb",
		FailureThreshold: 1,
		Logger:           logger,
		Registerer:       reg,
		OnStateChange: func(string, breaker.State, breaker.State) {
			calls++
			panic("callback bug")
		},
		IsFailure: func(err error) bool {
			if errors.Is(err, errPanicky) {
				panic("classifier bug")
			}
			return err != nil
		},
	})
	require.Error(t, b.Do(t.Context(), fail))
	require.Equal(t, breaker.Open, b.State())
	b.Reset()
	require.Equal(t, breaker.Closed, b.State())
	require.Equal(t, 2, calls, "a panicking callback is still called for later changes")

	// A panicking IsFailure counts the call as a failure.
	require.ErrorIs(t, b.Do(t.Context(), func(context.Context) error { return errPanicky }), errPanicky)
	require.Equal(t, breaker.Open, b.State())
	require.Equal(t, 3, calls)

	requireMetric(t, reg, "steadfast_breaker_callback_panics_total", metrictest.Labels{"name": "cb"}, 4)
	mu.Lock()
	defer mu.Unlock()
	require.Contains(t, logs.String(), "callback bug")
	require.Contains(t, logs.String(), "classifier bug")
	require.Contains(t, logs.String(), `msg="callback panicked" component=breaker name=cb callback=OnStateChange panic="callback bug" stack="goroutine`)
	require.Contains(t, logs.String(), `callback=IsFailure/IsIgnored panic="classifier bug" stack="goroutine`)
}

var errPanicky = errors.New("panicky")

type lockedWriter struct {
	w  io.Writer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func TestOnStateChangeOrderAndReentry(t *testing.T) {
	rec := &recorder{}
	var b *breaker.Breaker
	b = newBreaker(t, breaker.Config{
		Name:             "r",
		FailureThreshold: 1,
		OnStateChange: func(name string, from, to breaker.State) {
			rec.on(name, from, to)
			if to == breaker.Open {
				// A callback may use the breaker, even change its state;
				// that change is delivered after this one returns.
				require.Equal(t, breaker.Open, b.State())
				b.Reset()
				rec.on("after-reset", from, to)
			}
		},
	})
	require.Error(t, b.Do(t.Context(), fail))
	require.Equal(t, breaker.Closed, b.State())
	require.Equal(t, []string{"r:closed->open", "after-reset:closed->open", "r:open->closed"}, rec.get())
}

func TestTripAndReset(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &recorder{}
		b := newBreaker(t, breaker.Config{Name: "x", OpenTimeout: time.Second, OnStateChange: rec.on})
		require.NoError(t, b.Do(t.Context(), succeed))
		b.Trip()
		require.Equal(t, breaker.Open, b.State())
		time.Sleep(1000 * time.Hour)
		require.Equal(t, breaker.Open, b.State(), "a tripped breaker never times out")
		require.ErrorIs(t, b.Do(t.Context(), succeed), breaker.ErrOpen)
		require.True(t, b.Forced())
		b.Trip() // no-op
		b.Reset()
		require.False(t, b.Forced())
		require.Equal(t, breaker.Closed, b.State())
		require.Equal(t, breaker.Counts{}, b.Counts())

		// Trip while timed-open makes it forced; Reset while closed clears counts.
		for range 10 {
			require.Error(t, b.Do(t.Context(), fail))
		}
		require.Equal(t, breaker.Open, b.State())
		require.False(t, b.Forced())
		b.Trip() // visible: open -> open, now forced
		require.True(t, b.Forced())
		time.Sleep(time.Hour)
		require.Equal(t, breaker.Open, b.State())
		b.Reset()
		require.NoError(t, b.Do(t.Context(), succeed))
		b.Reset()
		require.Equal(t, breaker.Counts{}, b.Counts())
		require.Equal(t, []string{"x:closed->open", "x:open->closed", "x:closed->open", "x:open->open", "x:open->closed"}, rec.get())
	})
}

func TestFailureRateWindowSlides(t *testing.T) {
	b := newBreaker(t, breaker.Config{FailureRate: 0.5, Window: 10})
	run := func(pattern string) {
		t.Helper()
		for _, c := range pattern {
			if c == 'F' {
				require.Error(t, b.Do(t.Context(), fail))
			} else {
				require.NoError(t, b.Do(t.Context(), succeed))
			}
		}
	}
	run("FFFFSSSSSS") // 4/10
	require.Equal(t, breaker.Closed, b.State())
	run("SSSS") // the four failures slide out
	run("FFFF") // 4/10 again, not 8/18
	require.Equal(t, breaker.Closed, b.State())
	run("F") // 5/10
	require.Equal(t, breaker.Open, b.State())
}

func TestFailureRateMinCalls(t *testing.T) {
	b := newBreaker(t, breaker.Config{FailureRate: 0.5, Window: 10, MinCalls: 4})
	for range 3 {
		require.Error(t, b.Do(t.Context(), fail))
	}
	require.Equal(t, breaker.Closed, b.State(), "3 calls < MinCalls")
	// The rate (3/4) is above FailureRate, so the fourth call opens it even
	// though it succeeds.
	require.NoError(t, b.Do(t.Context(), succeed))
	require.Equal(t, breaker.Open, b.State())

	// Rate mode only: consecutive failures alone do not open it.
	b2 := newBreaker(t, breaker.Config{FailureRate: 1, Window: 20})
	for range 19 {
		require.Error(t, b2.Do(t.Context(), fail))
	}
	require.Equal(t, breaker.Closed, b2.State())
	require.Equal(t, uint64(19), b2.Counts().ConsecutiveFailures)
	require.Error(t, b2.Do(t.Context(), fail))
	require.Equal(t, breaker.Open, b2.State())
}

func TestFailureRateDefaultWindow(t *testing.T) {
	// Window 100 keeps successes in per-stripe batches; the rate still sees them.
	b := newBreaker(t, breaker.Config{FailureRate: 0.5})
	for range 50 {
		require.NoError(t, b.Do(t.Context(), succeed))
	}
	for range 49 {
		require.Error(t, b.Do(t.Context(), fail))
	}
	require.Equal(t, breaker.Closed, b.State(), "99 calls < MinCalls (default Window)")
	require.Error(t, b.Do(t.Context(), fail))
	require.Equal(t, breaker.Open, b.State())

	// Both triggers at once: whichever comes first.
	b2 := newBreaker(t, breaker.Config{FailureRate: 0.5, Window: 100, FailureThreshold: 3})
	for range 3 {
		require.Error(t, b2.Do(t.Context(), fail))
	}
	require.Equal(t, breaker.Open, b2.State())
}

// TestHammer runs 8 goroutines against one breaker under -race and checks
// that every call is counted exactly once.
func TestHammer(t *testing.T) {
	const workers, perWorker = 8, 5000
	for _, cfg := range []breaker.Config{
		{Name: "consecutive", FailureThreshold: perWorker * workers},
		// 10% failures never reach a 90% rate.
		{Name: "rate", FailureRate: 0.9, Window: 100, MinCalls: 10},
	} {
		t.Run(cfg.Name, func(t *testing.T) { hammer(t, cfg, workers, perWorker) })
	}
}

func hammer(t *testing.T, cfg breaker.Config, workers, perWorker int) {
	reg := prometheus.NewRegistry()
	cfg.Registerer = reg
	b := newBreaker(t, cfg)
	var wg sync.WaitGroup
	for g := range workers {
		wg.Go(func() {
			for i := range perWorker {
				switch {
				case i%10 == 0:
					_ = b.Do(context.Background(), fail)
				case i%10 == 1:
					_ = b.Do(context.Background(), func(context.Context) error { return context.Canceled })
				case g%2 == 0:
					_ = b.Do(context.Background(), succeed)
				default:
					p, err := b.Allow()
					if err == nil {
						b.Done(p, nil)
					}
				}
			}
		})
	}
	wg.Wait()
	c := b.Counts()
	total := uint64(workers * perWorker)
	want := breaker.Counts{
		Calls:     total * 9 / 10,
		Successes: total * 8 / 10,
		Failures:  total / 10,
		Ignored:   total / 10,
	}
	require.Equal(t, breaker.Closed, b.State())
	c.ConsecutiveFailures, c.ConsecutiveSuccesses = 0, 0 // depend on the interleaving
	// The window holds the last Window calls, whichever they were.
	require.GreaterOrEqual(t, c.WindowCalls, uint64(breaker.DefaultWindow)) // both configs keep 100
	c.WindowCalls, c.FailureRate = 0, 0
	require.Equal(t, want, c)
	requireMetric(t, reg, "steadfast_breaker_calls_total", metrictest.Labels{"result": "success"}, float64(want.Successes))
	requireMetric(t, reg, "steadfast_breaker_calls_total", metrictest.Labels{"result": "failure"}, float64(want.Failures))
	requireMetric(t, reg, "steadfast_breaker_calls_total", metrictest.Labels{"result": "ignored"}, float64(want.Ignored))
}

// TestHammerWithTransitions changes the state while 8 goroutines call: the
// cumulative metrics must still count every call exactly once, whichever
// generation it landed in.
func TestHammerWithTransitions(t *testing.T) {
	const workers, perWorker = 8, 3000
	for _, rate := range []float64{0, 0.5} {
		reg := prometheus.NewRegistry()
		b := newBreaker(t, breaker.Config{Name: "ht", FailureThreshold: 5, FailureRate: rate, Window: 50, Registerer: reg})
		var (
			wg                     sync.WaitGroup
			mu                     sync.Mutex
			succ, fails, ign, rej  float64
			stop                   = make(chan struct{})
			flipper                sync.WaitGroup
			localS, localF, localI [workers]float64
			localR                 [workers]float64
		)
		flipper.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				b.Trip()
				runtime.Gosched()
				b.Reset()
				runtime.Gosched()
			}
		})
		for g := range workers {
			wg.Go(func() {
				for i := range perWorker {
					var want error
					switch i % 7 {
					case 0:
						want = errBoom
					case 1:
						want = context.Canceled
					}
					err := b.Do(context.Background(), func(context.Context) error { return want })
					switch {
					case errors.Is(err, breaker.ErrOpen), errors.Is(err, breaker.ErrTooManyCalls):
						localR[g]++
					case err == nil:
						localS[g]++
					case errors.Is(err, context.Canceled):
						localI[g]++
					default:
						localF[g]++
					}
				}
			})
		}
		wg.Wait()
		close(stop)
		flipper.Wait()
		mu.Lock()
		for g := range workers {
			succ += localS[g]
			fails += localF[g]
			ign += localI[g]
			rej += localR[g]
		}
		mu.Unlock()
		require.Equal(t, float64(workers*perWorker), succ+fails+ign+rej)
		requireMetric(t, reg, "steadfast_breaker_calls_total", metrictest.Labels{"result": "success"}, succ)
		requireMetric(t, reg, "steadfast_breaker_calls_total", metrictest.Labels{"result": "failure"}, fails)
		requireMetric(t, reg, "steadfast_breaker_calls_total", metrictest.Labels{"result": "ignored"}, ign)
		requireMetric(t, reg, "steadfast_breaker_calls_total", metrictest.Labels{"result": "rejected"}, rej)
		// The counts of the current generation never exceed what happened.
		c := b.Counts()
		require.LessOrEqual(t, float64(c.Successes), succ)
		require.LessOrEqual(t, float64(c.Failures), fails)
	}
}

func TestMetrics(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		reg := prometheus.NewRegistry()
		a := newBreaker(t, breaker.Config{Name: "a", FailureThreshold: 2, OpenTimeout: time.Second, Registerer: reg})
		b := newBreaker(t, breaker.Config{Name: "b", Registerer: reg}) // shares the registry
		_, err := breaker.New(breaker.Config{Name: "a", Registerer: reg})
		require.ErrorContains(t, err, `breaker: metrics for name "a" are already registered`)

		require.NoError(t, a.Do(t.Context(), succeed))
		require.NoError(t, b.Do(t.Context(), succeed))
		require.Error(t, a.Do(t.Context(), fail))
		require.Error(t, a.Do(t.Context(), fail))
		require.ErrorIs(t, a.Do(t.Context(), succeed), breaker.ErrOpen)
		require.ErrorIs(t, a.Do(t.Context(), func(context.Context) error { return context.Canceled }), breaker.ErrOpen)

		calls := func(name, result string) metrictest.Labels {
			return metrictest.Labels{"name": name, "result": result}
		}
		requireMetric(t, reg, "steadfast_breaker_calls_total", calls("a", "success"), 1)
		requireMetric(t, reg, "steadfast_breaker_calls_total", calls("a", "failure"), 2)
		requireMetric(t, reg, "steadfast_breaker_calls_total", calls("a", "rejected"), 2)
		requireMetric(t, reg, "steadfast_breaker_calls_total", calls("a", "ignored"), 0)
		requireMetric(t, reg, "steadfast_breaker_calls_total", calls("b", "success"), 1)
		requireMetric(t, reg, "steadfast_breaker_state", metrictest.Labels{"name": "a"}, 1)
		requireMetric(t, reg, "steadfast_breaker_state", metrictest.Labels{"name": "b"}, 0)
		requireMetric(t, reg, "steadfast_breaker_transitions_total", metrictest.Labels{"name": "a", "from": "closed", "to": "open"}, 1)

		// A scrape after the timeout sees half-open, without any call.
		time.Sleep(time.Second)
		requireMetric(t, reg, "steadfast_breaker_state", metrictest.Labels{"name": "a"}, 2)
		requireMetric(t, reg, "steadfast_breaker_transitions_total", metrictest.Labels{"name": "a", "from": "open", "to": "half-open"}, 1)
		require.NoError(t, a.Do(t.Context(), succeed))
		requireMetric(t, reg, "steadfast_breaker_state", metrictest.Labels{"name": "a"}, 0)
		requireMetric(t, reg, "steadfast_breaker_transitions_total", metrictest.Labels{"name": "a", "from": "half-open", "to": "closed"}, 1)

		// Counters stay cumulative across Reset, which clears Counts.
		a.Reset()
		require.Equal(t, breaker.Counts{}, a.Counts())
		requireMetric(t, reg, "steadfast_breaker_calls_total", calls("a", "success"), 2)
		requireMetric(t, reg, "steadfast_breaker_calls_total", calls("a", "failure"), 2)

		names, err := metrictest.Names(reg)
		require.NoError(t, err)
		require.Equal(t, []string{
			"steadfast_breaker_callback_panics_total", "steadfast_breaker_calls_total",
			"steadfast_breaker_disabled", "steadfast_breaker_forced", "steadfast_breaker_foreign_permits_total",
			"steadfast_breaker_metrics_only", "steadfast_breaker_open_period_seconds",
			"steadfast_breaker_slow_calls_total", "steadfast_breaker_state",
			"steadfast_breaker_state_changes_skipped_total", "steadfast_breaker_transitions_total",
		}, names)
	})
}

func TestNoAllocations(t *testing.T) {
	b := newBreaker(t, breaker.Config{})
	rb := newBreaker(t, breaker.Config{FailureRate: 0.5})
	// Steps of minutes: no tick of the coarse clock (which allocates a
	// timer in its own goroutine) falls within the measurement.
	sb := newBreaker(t, breaker.Config{SlowCallDuration: time.Hour})
	tb := newBreaker(t, breaker.Config{FailureRate: 0.5, WindowDuration: time.Hour})
	db := newBreaker(t, breaker.Config{})
	db.Disable()
	ctx := context.Background()
	for name, fn := range map[string]func(){
		"Allow+Done": func() {
			p, _ := b.Allow()
			b.Done(p, nil)
		},
		"Do":        func() { _ = b.Do(ctx, succeed) },
		"Call":      func() { _, _ = breaker.Call(ctx, b, func(context.Context) (int, error) { return 1, nil }) },
		"rate mode": func() { _ = rb.Do(ctx, succeed) },
		"slow calls": func() {
			p, _ := sb.Allow()
			sb.Done(p, nil)
			_ = sb.Do(ctx, succeed)
		},
		"time window": func() { _ = tb.Do(ctx, succeed) },
		"disabled":    func() { _ = db.Do(ctx, fail) },
	} {
		require.Zero(t, testing.AllocsPerRun(1000, fn), name)
	}
}

func requireMetric(t *testing.T, g prometheus.Gatherer, name string, labels metrictest.Labels, want float64) {
	t.Helper()
	v, err := metrictest.Value(g, name, labels)
	require.NoError(t, err)
	require.Equal(t, want, v, "%s%v", name, labels)
}

func TestHugeOpenTimeoutDoesNotWrap(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBreaker(t, breaker.Config{FailureThreshold: 1, OpenTimeout: time.Duration(1<<63 - 1)})
		time.Sleep(time.Hour)
		require.Error(t, b.Do(t.Context(), fail))
		time.Sleep(100 * 365 * 24 * time.Hour)
		require.Equal(t, breaker.Open, b.State())
	})
}

// TestOnStateChangeOrderUnderConcurrency changes the state from many
// goroutines: the callback must see a chain (each change starts where the
// previous one ended), never run concurrently, and see every change, on its
// own or merged into the next one and counted as skipped.
func TestOnStateChangeOrderUnderConcurrency(t *testing.T) {
	reg := prometheus.NewRegistry()
	var (
		mu      sync.Mutex
		chain   []breaker.State
		running bool
		overlap bool
	)
	b := newBreaker(t, breaker.Config{
		Name:             "c",
		FailureThreshold: 1,
		Registerer:       reg,
		OnStateChange: func(_ string, from, to breaker.State) {
			mu.Lock()
			overlap = overlap || running
			running = true
			if len(chain) == 0 {
				chain = append(chain, from)
			}
			if chain[len(chain)-1] != from {
				chain = append(chain, 99) // broken chain
			}
			chain = append(chain, to)
			mu.Unlock()
			runtime.Gosched()
			mu.Lock()
			running = false
			mu.Unlock()
		},
	})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				switch (g + i) % 3 {
				case 0:
					b.Trip()
				case 1:
					b.Reset()
				default:
					_ = b.Do(context.Background(), fail)
				}
			}
		})
	}
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	require.False(t, overlap, "OnStateChange ran concurrently with itself")
	require.NotContains(t, chain, breaker.State(99), "changes delivered out of order")
	var total float64
	for _, tr := range [][2]string{{"closed", "open"}, {"open", "closed"}, {"open", "half-open"}, {"half-open", "open"}, {"half-open", "closed"}, {"open", "open"}} {
		v, err := metrictest.Value(reg, "steadfast_breaker_transitions_total", metrictest.Labels{"from": tr[0], "to": tr[1]})
		require.NoError(t, err)
		total += v
	}
	skipped, err := metrictest.Value(reg, "steadfast_breaker_state_changes_skipped_total", nil)
	require.NoError(t, err)
	require.Equal(t, total, float64(len(chain)-1)+skipped, "every change delivered once or counted as skipped")
	require.Equal(t, b.State(), chain[len(chain)-1], "the last delivered change is the current state")
}

func TestHalfOpenConcurrentAdmission(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBreaker(t, breaker.Config{FailureThreshold: 1, OpenTimeout: time.Second, HalfOpenMaxCalls: 3})
		require.Error(t, b.Do(t.Context(), fail))
		time.Sleep(time.Second)
		var (
			wg       sync.WaitGroup
			mu       sync.Mutex
			admitted []breaker.Permit
			tooMany  int
		)
		for range 8 {
			wg.Go(func() {
				p, err := b.Allow()
				mu.Lock()
				defer mu.Unlock()
				if err == nil {
					admitted = append(admitted, p)
				} else {
					require.ErrorIs(t, err, breaker.ErrTooManyCalls)
					tooMany++
				}
			})
		}
		wg.Wait()
		require.Len(t, admitted, 3)
		require.Equal(t, 5, tooMany)
		require.Equal(t, uint64(5), b.Counts().Rejected)
		for _, p := range admitted {
			b.Done(p, nil)
		}
		require.Equal(t, breaker.Closed, b.State())
	})
}

// TestFailureRateExactlyAtRate: a failure ratio exactly equal to the decimal
// FailureRate opens the breaker, for every rate in hundredths, and one
// failure fewer does not.
func TestFailureRateExactlyAtRate(t *testing.T) {
	for pct := 1; pct <= 100; pct++ {
		b := newBreaker(t, breaker.Config{FailureRate: float64(pct) / 100, Window: 100})
		for range 100 - pct {
			require.NoError(t, b.Do(t.Context(), succeed))
		}
		for range pct - 1 {
			require.Error(t, b.Do(t.Context(), fail))
		}
		require.Equal(t, breaker.Closed, b.State(), "%d/99 failures with rate %d%%", pct-1, pct)
		require.Error(t, b.Do(t.Context(), fail))
		require.Equal(t, breaker.Open, b.State(), "%d/100 failures with rate %d%%", pct, pct)
	}
}

// TestHalfOpenSlotsUnderConcurrency: 8 goroutines keep asking for probes
// while half-open. Admitted probes that report an ignored result free their
// slot, so more are admitted over time, but never more than HalfOpenMaxCalls
// at once; the breaker stays half-open until HalfOpenMaxCalls probes have
// succeeded, and then closes.
func TestHalfOpenSlotsUnderConcurrency(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const slots = 3
		b := newBreaker(t, breaker.Config{FailureThreshold: 1, OpenTimeout: time.Second, HalfOpenMaxCalls: slots})
		require.Error(t, b.Do(t.Context(), fail))
		time.Sleep(time.Second)
		require.Equal(t, breaker.HalfOpen, b.State())

		var (
			wg                 sync.WaitGroup
			inFlight, maxSeen  atomic.Int64
			admitted, rejected atomic.Int64
		)
		for range 8 {
			wg.Go(func() {
				for range 500 {
					p, err := b.Allow()
					if err != nil {
						require.ErrorIs(t, err, breaker.ErrTooManyCalls)
						rejected.Add(1)
						continue
					}
					admitted.Add(1)
					n := inFlight.Add(1)
					for m := maxSeen.Load(); n > m && !maxSeen.CompareAndSwap(m, n); m = maxSeen.Load() {
					}
					runtime.Gosched()
					inFlight.Add(-1)
					b.Done(p, context.Canceled) // ignored: frees the slot
				}
			})
		}
		wg.Wait()
		require.LessOrEqual(t, maxSeen.Load(), int64(slots))
		require.Equal(t, breaker.HalfOpen, b.State(), "ignored probes neither close nor re-open it")
		c := b.Counts()
		require.Equal(t, uint64(admitted.Load()), c.Ignored)
		require.Equal(t, uint64(rejected.Load()), c.Rejected)
		require.Equal(t, int64(8*500), admitted.Load()+rejected.Load())

		// Now the probes succeed, from 8 goroutines at once: exactly slots
		// half-open permits are admitted, and their successes close it.
		var probes []breaker.Permit
		var mu sync.Mutex
		for range 8 {
			wg.Go(func() {
				if p, err := b.Allow(); err == nil {
					mu.Lock()
					probes = append(probes, p)
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		require.Len(t, probes, slots)
		for i, p := range probes {
			require.Equal(t, breaker.HalfOpen, b.State(), "after %d successes", i)
			b.Done(p, nil)
		}
		require.Equal(t, breaker.Closed, b.State())
	})
}

// TestHalfOpenFailureWinsOverLaterSuccesses: one failing probe re-opens the
// breaker; the other probes' successes, reported later, are stale and do not
// close it.
func TestHalfOpenFailureWinsOverLaterSuccesses(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBreaker(t, breaker.Config{FailureThreshold: 1, OpenTimeout: time.Second, HalfOpenMaxCalls: 3})
		require.Error(t, b.Do(t.Context(), fail))
		time.Sleep(time.Second)
		var ps [3]breaker.Permit
		for i := range ps {
			var err error
			ps[i], err = b.Allow()
			require.NoError(t, err)
		}
		b.Done(ps[0], nil)
		b.Done(ps[1], errBoom)
		require.Equal(t, breaker.Open, b.State())
		b.Done(ps[2], nil)
		require.Equal(t, breaker.Open, b.State())
		require.Equal(t, breaker.Counts{OpenPeriod: time.Second}, b.Counts())
	})
}

// TestTripOutlastsOpenTimeout: a tripped breaker stays open past any
// OpenTimeout, whether it is observed by State, Counts, a scrape or a call,
// and also when it was tripped while half-open.
func TestTripOutlastsOpenTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		reg := prometheus.NewRegistry()
		rec := &recorder{}
		b := newBreaker(t, breaker.Config{Name: "tr", FailureThreshold: 1, OpenTimeout: time.Second, Registerer: reg, OnStateChange: rec.on})
		require.Error(t, b.Do(t.Context(), fail))
		time.Sleep(time.Second)
		require.Equal(t, breaker.HalfOpen, b.State())
		b.Trip()
		for range 5 {
			time.Sleep(time.Hour)
			requireMetric(t, reg, "steadfast_breaker_state", metrictest.Labels{"name": "tr"}, 1)
			require.Equal(t, uint64(0), b.Counts().Calls)
			_, err := b.Allow()
			require.ErrorIs(t, err, breaker.ErrOpen)
			require.Equal(t, breaker.Open, b.State())
		}
		require.Equal(t, uint64(5), b.Counts().Rejected)
		b.Reset()
		require.Equal(t, breaker.Closed, b.State())
		require.Equal(t, []string{"tr:closed->open", "tr:open->half-open", "tr:half-open->open", "tr:open->closed"}, rec.get())
	})
}

// TestHammerConsecutiveFailures: failures from 8 goroutines are all
// consecutive; one more success, reported after them, ends the streak.
func TestHammerConsecutiveFailures(t *testing.T) {
	const workers, perWorker = 8, 2000
	b := newBreaker(t, breaker.Config{FailureThreshold: workers*perWorker + 1})
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range perWorker {
				_ = b.Do(context.Background(), fail)
			}
		})
	}
	wg.Wait()
	require.Equal(t, uint64(workers*perWorker), b.Counts().ConsecutiveFailures)
	require.Error(t, b.Do(t.Context(), fail))
	require.Equal(t, breaker.Open, b.State(), "threshold reached exactly")
	b.Reset()
	for range workers {
		wg.Go(func() {
			for i := range perWorker {
				if i%2 == 0 {
					_ = b.Do(context.Background(), fail)
				} else {
					_ = b.Do(context.Background(), succeed)
				}
			}
		})
	}
	wg.Wait()
	require.NoError(t, b.Do(t.Context(), succeed))
	c := b.Counts()
	require.Zero(t, c.ConsecutiveFailures)
	require.Equal(t, uint64(workers*perWorker/2), c.Failures)
	require.Equal(t, uint64(workers*perWorker/2+1), c.Successes)
}

// TestPanicOpensWithPanickingCallback: fn's panic opens the breaker, the
// OnStateChange callback runs (and panics) while that panic unwinds, and the
// caller still sees fn's own panic value.
func TestPanicOpensWithPanickingCallback(t *testing.T) {
	called := false
	b := newBreaker(t, breaker.Config{FailureThreshold: 1, OnStateChange: func(string, breaker.State, breaker.State) {
		called = true
		panic("callback bug")
	}})
	func() {
		defer func() { require.Equal(t, "kaboom", recover()) }()
		_ = b.Do(t.Context(), func(context.Context) error { panic("kaboom") })
	}()
	require.True(t, called)
	require.Equal(t, breaker.Open, b.State())
}

// TestStackGrowthBetweenCalls: a goroutine's stripe is chosen from its stack
// address, which changes when the stack grows and is copied. Results
// reported at different depths, across stack copies, still count exactly.
func TestStackGrowthBetweenCalls(t *testing.T) {
	b := newBreaker(t, breaker.Config{FailureThreshold: 1000})
	var deep func(n int, p breaker.Permit, err error) int
	deep = func(n int, p breaker.Permit, err error) int {
		var pad [256]byte
		if n == 0 {
			b.Done(p, err)
			return int(pad[0])
		}
		return deep(n-1, p, err) + int(pad[n%256])
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 200 {
				p, err := b.Allow()
				require.NoError(t, err)
				var res error
				if i%4 == 0 {
					res = errBoom
				}
				deep((g*200+i)%97*8, p, res) // up to ~200 KiB of stack
			}
		})
	}
	wg.Wait()
	c := b.Counts()
	require.Equal(t, uint64(600), c.Successes)
	require.Equal(t, uint64(200), c.Failures)
}

// TestDoneContextWhileOpen: a done ctx wins over rejection: ctx.Err() is
// returned and nothing is counted, not even a rejection.
func TestDoneContextWhileOpen(t *testing.T) {
	b := newBreaker(t, breaker.Config{})
	b.Trip()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	require.ErrorIs(t, b.Do(ctx, succeed), context.Canceled)
	_, err := breaker.Call(ctx, b, func(context.Context) (int, error) { return 1, nil })
	require.ErrorIs(t, err, context.Canceled)
	require.Equal(t, breaker.Counts{}, b.Counts())
}

// TestMetricsNeverGoDown scrapes while 4 goroutines call and another keeps
// changing the state: every counter is monotonic from scrape to scrape.
func TestMetricsNeverGoDown(t *testing.T) {
	reg := prometheus.NewRegistry()
	b := newBreaker(t, breaker.Config{Name: "m", FailureThreshold: 3, Registerer: reg})
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				switch (g + i) % 5 {
				case 0:
					_ = b.Do(context.Background(), fail)
				case 1:
					_ = b.Do(context.Background(), func(context.Context) error { return context.Canceled })
				default:
					_ = b.Do(context.Background(), succeed)
				}
			}
		})
	}
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			b.Trip()
			runtime.Gosched()
			b.Reset()
		}
	})
	last := map[string]float64{}
	for range 100 {
		for _, r := range []string{"success", "failure", "ignored", "rejected"} {
			v, err := metrictest.Value(reg, "steadfast_breaker_calls_total", metrictest.Labels{"result": r})
			require.NoError(t, err)
			require.GreaterOrEqual(t, v, last[r], "%s went down", r)
			last[r] = v
		}
	}
	close(stop)
	wg.Wait()
}

// TestOnStateChangeGoexit: a callback that ends its goroutine with
// runtime.Goexit (t.FailNow does) does not stop later deliveries.
func TestOnStateChangeGoexit(t *testing.T) {
	rec := &recorder{}
	first := true
	reg := prometheus.NewRegistry()
	b := newBreaker(t, breaker.Config{Name: "g", FailureThreshold: 1, Registerer: reg, OnStateChange: func(name string, from, to breaker.State) {
		rec.on(name, from, to)
		if first {
			first = false
			runtime.Goexit()
		}
	}})
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = b.Do(context.Background(), fail)
	}()
	<-done
	require.Equal(t, breaker.Open, b.State())
	b.Reset()
	require.Equal(t, []string{"g:closed->open", "g:open->closed"}, rec.get())
	requireMetric(t, reg, "steadfast_breaker_callback_panics_total", metrictest.Labels{"name": "g"}, 1)
}

// TestClassifierGoexit: a classifier that ends its goroutine with
// runtime.Goexit still has the call counted, as a failure, so a half-open
// probe does not keep its slot forever.
func TestClassifierGoexit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBreaker(t, breaker.Config{FailureThreshold: 1, OpenTimeout: time.Second, IsFailure: func(err error) bool {
			if errors.Is(err, errPanicky) {
				runtime.Goexit()
			}
			return err != nil
		}})
		require.Error(t, b.Do(t.Context(), fail))
		time.Sleep(time.Second)
		done := make(chan struct{})
		go func() {
			defer close(done)
			_ = b.Do(context.Background(), func(context.Context) error { return errPanicky })
		}()
		<-done
		require.Equal(t, breaker.Open, b.State(), "the probe counted as a failure")
		time.Sleep(time.Second)
		require.NoError(t, b.Do(t.Context(), succeed))
		require.Equal(t, breaker.Closed, b.State())
	})
}

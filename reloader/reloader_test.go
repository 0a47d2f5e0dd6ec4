package reloader_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"runtime"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/steadfast-go/steadfast/internal/backoff"
	"github.com/steadfast-go/steadfast/internal/logtest"
	"github.com/steadfast-go/steadfast/internal/metrictest"
	"github.com/steadfast-go/steadfast/reloader"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

var discard = slog.New(slog.DiscardHandler)

// calls records when each reload started and ended, and can make reloads
// fail, block or take time.
type calls struct {
	mu     sync.Mutex
	starts []time.Time
	ends   []time.Time
	// body, if set, runs as reload number n (0-based).
	body func(ctx context.Context, n int) error
}

func (c *calls) fn(ctx context.Context) error {
	c.mu.Lock()
	n := len(c.starts)
	c.starts = append(c.starts, time.Now())
	body := c.body
	c.mu.Unlock()
	var err error
	defer func() {
		c.mu.Lock()
		c.ends = append(c.ends, time.Now())
		c.mu.Unlock()
	}()
	if body != nil {
		err = body(ctx, n)
	}
	return err
}

func (c *calls) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.starts)
}

// offsets returns the start times relative to t0.
func (c *calls) offsets(t0 time.Time) []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]time.Duration, len(c.starts))
	for i, s := range c.starts {
		out[i] = s.Sub(t0)
	}
	return out
}

// start runs r.Run on a new goroutine and returns a function that cancels it
// and returns Run's error once it has returned.
func start(t *testing.T, r *reloader.Reloader) (stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	synctest.Wait()
	var (
		once   sync.Once
		runErr error
	)
	stop = func() error {
		once.Do(func() {
			cancel()
			runErr = <-done
		})
		return runErr
	}
	// A failed assertion must not leave Run behind in the bubble.
	t.Cleanup(func() { _ = stop() })
	return stop
}

func newReloader(t *testing.T, fn func(context.Context) error, cfg reloader.Config) *reloader.Reloader {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = discard
	}
	r, err := reloader.New(fn, cfg)
	require.NoError(t, err)
	return r
}

// sleep advances the fake clock by d and lets every goroutine settle.
func sleep(d time.Duration) {
	time.Sleep(d)
	synctest.Wait()
}

func ms(n int) time.Duration { return time.Duration(n) * time.Millisecond }

func TestBurstCoalescesIntoOneReload(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var c calls
		r := newReloader(t, c.fn, reloader.Config{Debounce: time.Second})
		stop := start(t, r)
		t0 := time.Now()
		for range 10 {
			r.Trigger()
		}
		sleep(time.Minute)
		require.Equal(t, []time.Duration{time.Second}, c.offsets(t0))

		st := r.Stats()
		require.EqualValues(t, 10, st.Triggers)
		require.EqualValues(t, 9, st.Coalesced)
		require.EqualValues(t, 1, st.Reloads)
		require.EqualValues(t, 0, st.Failures)
		require.NoError(t, st.LastError)
		require.Equal(t, t0.Add(time.Second), st.LastSuccess)
		require.NoError(t, stop())
	})
}

func TestManyTriggersFromGoroutinesAreBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const (
			debounce    = 20 * time.Millisecond
			maxDelay    = 50 * time.Millisecond
			minInterval = 30 * time.Millisecond
			goroutines  = 8
			perG        = 1250
		)
		var c calls
		r := newReloader(t, c.fn, reloader.Config{Debounce: debounce, MaxDelay: maxDelay, MinInterval: minInterval})
		stop := start(t, r)

		var (
			mu          sync.Mutex
			first, last time.Time
			wg          sync.WaitGroup
		)
		note := func() {
			now := time.Now()
			mu.Lock()
			if first.IsZero() || now.Before(first) {
				first = now
			}
			if now.After(last) {
				last = now
			}
			mu.Unlock()
		}
		for g := range goroutines {
			wg.Go(func() {
				// Goroutine g triggers in bursts of g+1, pausing
				// (g+1)²·100µs after each: one per (g+1)·100µs on average.
				for i := 0; i < perG; i++ {
					note()
					r.Trigger()
					if i%(g+1) == g {
						time.Sleep(time.Duration(g+1) * 100 * time.Microsecond * time.Duration(g+1))
					}
				}
			})
		}
		wg.Wait()
		sleep(time.Second)

		starts := c.offsets(first)
		span := last.Sub(first)
		// No gap between triggers reaches Debounce (the longest is goroutine
		// 7's pause), so while they keep coming the debounce never fires and
		// each reload waits for MaxDelay from the first trigger after the
		// previous start. Hence:
		//   - every start is at least MinInterval after the one before it;
		//   - every start but the last is at least MaxDelay after the one
		//     before it (the last may come Debounce after the last trigger);
		//   - the first is not before the first trigger, the last at most
		//     max(Debounce, MinInterval) after the last trigger;
		// so (n-2)·MaxDelay + MinInterval ≤ span + max(Debounce, MinInterval).
		const maxGap = goroutines * 100 * time.Microsecond * goroutines
		require.Less(t, maxGap, debounce)
		upper := int((span+max(debounce, minInterval)-minInterval)/maxDelay) + 2
		// And MaxDelay forces a reload at least every MaxDelay plus one
		// trigger gap.
		lower := int(span / (maxDelay + maxGap))
		t.Logf("span %v: %d reloads, bounds [%d, %d]", span, len(starts), lower, upper)
		require.LessOrEqual(t, len(starts), upper)
		require.GreaterOrEqual(t, len(starts), lower)
		require.GreaterOrEqual(t, starts[0], time.Duration(0))
		require.LessOrEqual(t, starts[len(starts)-1], span+max(debounce, minInterval))
		for i := 1; i < len(starts); i++ {
			require.GreaterOrEqual(t, starts[i]-starts[i-1], minInterval, "reload %d", i)
			if i < len(starts)-1 {
				require.GreaterOrEqual(t, starts[i]-starts[i-1], maxDelay, "reload %d", i)
			}
		}

		st := r.Stats()
		require.EqualValues(t, goroutines*perG, st.Triggers)
		require.EqualValues(t, len(starts), st.Reloads)
		require.EqualValues(t, st.Triggers-st.Reloads, st.Coalesced)
		require.NoError(t, stop())
	})
}

func TestDebounceTimingIsExact(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var c calls
		r := newReloader(t, c.fn, reloader.Config{Debounce: time.Second, MaxDelay: time.Hour})
		stop := start(t, r)
		t0 := time.Now()
		r.Trigger()
		sleep(ms(300))
		r.Trigger()
		sleep(ms(400))
		r.Trigger() // at 700ms: the reload is due at 1.7s
		sleep(ms(999))
		require.Zero(t, c.count(), "reloaded before the debounce elapsed")
		sleep(ms(1))
		require.Equal(t, []time.Duration{ms(1700)}, c.offsets(t0))
		sleep(time.Hour)
		require.Equal(t, 1, c.count())
		require.NoError(t, stop())
	})
}

func TestMaxDelayBoundsAContinuousStream(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var c calls
		r := newReloader(t, c.fn, reloader.Config{
			Debounce:    time.Second,
			MaxDelay:    ms(1050),
			MinInterval: -1, // off
		})
		stop := start(t, r)
		t0 := time.Now()
		for i := range 50 { // a trigger every 100ms, at 0 … 4.9s
			if i > 0 {
				time.Sleep(ms(100))
			}
			r.Trigger()
		}
		sleep(time.Minute)
		// Each reload comes MaxDelay after the first trigger it serves: the
		// first at 0, then the first after each reload start.
		require.Equal(t, []time.Duration{ms(1050), ms(2150), ms(3250), ms(4350), ms(5450)}, c.offsets(t0))
		require.NoError(t, stop())
	})
}

// MaxDelay counts from the first unserved trigger even when that trigger
// arrives while a reload runs: once the slow reload ends, the follow-up starts
// at once instead of waiting out a fresh MaxDelay or Debounce.
func TestMaxDelayCountsFromATriggerDuringAReload(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := calls{body: func(ctx context.Context, n int) error {
			if n == 0 {
				time.Sleep(10 * time.Second)
			}
			return nil
		}}
		r := newReloader(t, c.fn, reloader.Config{Debounce: time.Second, MaxDelay: ms(3020), MinInterval: -1})
		stop := start(t, r)
		t0 := time.Now()
		r.Trigger() // served at 1s by a reload that runs until 11s
		sleep(ms(2050))
		for i := range 180 { // a trigger every 100ms, at 2.05s … 19.95s
			if i > 0 {
				time.Sleep(ms(100))
			}
			r.Trigger()
		}
		sleep(time.Minute)
		require.Equal(t, []time.Duration{
			time.Second,
			11 * time.Second, // MaxDelay after 2.05s has passed: at the end of reload 0
			ms(14070),        // 11.05s + MaxDelay
			ms(17170),        // 14.15s + MaxDelay
			ms(20270),        // 17.25s + MaxDelay, before the debounce after 19.95s
		}, c.offsets(t0))
		require.NoError(t, stop())
	})
}

func TestMinIntervalIsStartToStart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := calls{body: func(ctx context.Context, n int) error {
			time.Sleep(2 * time.Second)
			return nil
		}}
		r := newReloader(t, c.fn, reloader.Config{Debounce: -1, MinInterval: 5 * time.Second})
		stop := start(t, r)
		t0 := time.Now()
		r.Trigger() // served at once
		sleep(time.Second)
		r.Trigger() // during the first reload: 5s after its start, not after its end
		sleep(7 * time.Second)
		r.Trigger() // at 8s: 5s after the start at 5s
		sleep(12 * time.Second)
		r.Trigger() // at 20s: long after, served at once
		sleep(time.Minute)
		require.Equal(t, []time.Duration{0, 5 * time.Second, 10 * time.Second, 20 * time.Second}, c.offsets(t0))
		require.NoError(t, stop())
	})
}

func TestTriggerDuringReloadGivesExactlyOneFollowUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		c := calls{body: func(ctx context.Context, n int) error {
			if n == 0 {
				<-release
			}
			return nil
		}}
		r := newReloader(t, c.fn, reloader.Config{Debounce: ms(10), MinInterval: -1})
		stop := start(t, r)
		r.Trigger()
		sleep(ms(10))
		require.Equal(t, 1, c.count())
		for range 100 {
			r.Trigger()
			sleep(ms(1))
		}
		require.Equal(t, 1, c.count(), "a second reload started while the first ran")
		close(release)
		sleep(time.Minute)
		require.Equal(t, 2, c.count())
		c.mu.Lock()
		require.False(t, c.starts[1].Before(c.ends[0]), "the follow-up overlapped the first reload")
		c.mu.Unlock()
		st := r.Stats()
		require.EqualValues(t, 101, st.Triggers)
		require.EqualValues(t, 99, st.Coalesced)
		require.NoError(t, stop())
	})
}

func TestFailureIsRetriedWithJitteredBackoff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const fails = 6
		c := calls{body: func(ctx context.Context, n int) error {
			if n < fails {
				return fmt.Errorf("attempt %d", n)
			}
			return nil
		}}
		var (
			mu     sync.Mutex
			errs   []string
			logBuf logtest.Buffer
		)
		r := newReloader(t, c.fn, reloader.Config{
			Debounce:        -1,
			MinInterval:     -1,
			RetryBackoff:    time.Second,
			MaxRetryBackoff: 4 * time.Second,
			Logger:          slog.New(slog.NewTextHandler(&logBuf, nil)),
			OnError: func(err error) {
				mu.Lock()
				errs = append(errs, err.Error())
				mu.Unlock()
			},
		})
		stop := start(t, r)
		r.Trigger()
		sleep(time.Hour)

		require.Equal(t, fails+1, c.count())
		c.mu.Lock()
		for i := 0; i < fails; i++ {
			// Retry i comes within [0, RetryBackoff·2^i capped] after the
			// end of the failure before it.
			wait := c.starts[i+1].Sub(c.ends[i])
			ceiling := backoff.Ceiling(time.Second, 4*time.Second, i)
			require.GreaterOrEqual(t, wait, time.Duration(0), "retry %d", i)
			require.LessOrEqual(t, wait, ceiling, "retry %d", i)
		}
		c.mu.Unlock()

		mu.Lock()
		require.Equal(t, []string{"attempt 0", "attempt 1", "attempt 2", "attempt 3", "attempt 4", "attempt 5"}, errs)
		mu.Unlock()
		st := r.Stats()
		require.EqualValues(t, fails+1, st.Reloads)
		require.EqualValues(t, fails, st.Failures)
		require.EqualValues(t, fails, st.Retries)
		require.Zero(t, st.ConsecutiveFailures)
		require.NoError(t, st.LastError)
		require.Contains(t, logBuf.String(), "attempt 5")
		require.NoError(t, stop())
	})
}

func TestRetryDelaysAreJittered(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const attempts = 30
		done := make(chan struct{})
		c := calls{body: func(ctx context.Context, n int) error {
			if n == attempts {
				close(done)
				return nil
			}
			return errors.New("down")
		}}
		r := newReloader(t, c.fn, reloader.Config{Debounce: -1, MinInterval: -1, RetryBackoff: time.Second, MaxRetryBackoff: time.Second})
		stop := start(t, r)
		r.Trigger()
		<-done
		synctest.Wait()
		distinct := map[time.Duration]bool{}
		c.mu.Lock()
		for i := 0; i < attempts; i++ {
			wait := c.starts[i+1].Sub(c.ends[i])
			require.LessOrEqual(t, wait, time.Second)
			distinct[wait] = true
		}
		c.mu.Unlock()
		require.Greater(t, len(distinct), 1, "every retry delay was the same: no jitter")
		require.NoError(t, stop())
	})
}

func TestTriggerDuringBackoffIsServedByTheRetry(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := calls{body: func(ctx context.Context, n int) error {
			if n == 0 {
				return errors.New("down")
			}
			return nil
		}}
		r := newReloader(t, c.fn, reloader.Config{Debounce: -1, MinInterval: -1, RetryBackoff: 10 * time.Second, MaxRetryBackoff: 10 * time.Second})
		stop := start(t, r)
		t0 := time.Now()
		r.Trigger()
		synctest.Wait()
		require.Equal(t, 1, c.count())
		r.Trigger() // during the backoff
		r.Trigger()
		sleep(time.Minute)
		require.Equal(t, 2, c.count(), "the triggers during the backoff made their own reload")
		off := c.offsets(t0)
		require.LessOrEqual(t, off[1], 10*time.Second)
		st := r.Stats()
		require.EqualValues(t, 1, st.Retries)
		require.EqualValues(t, 2, st.Coalesced)
		require.EqualValues(t, st.Triggers, st.Reloads-st.Retries+st.Coalesced)
		require.NoError(t, stop())
	})
}

// The longest durations a Config can hold must not overflow the retry
// arithmetic: the failure is counted and the retry simply lies far ahead.
func TestLongestBackoffDoesNotPanic(t *testing.T) {
	for _, cfg := range []reloader.Config{
		{RetryBackoff: math.MaxInt64},
		{MaxRetryBackoff: math.MaxInt64},
		{RetryBackoff: time.Second, MaxRetryBackoff: math.MaxInt64},
	} {
		synctest.Test(t, func(t *testing.T) {
			var c calls
			c.body = func(context.Context, int) error { return errors.New("down") }
			cfg.Debounce, cfg.MinInterval = -1, -1
			r := newReloader(t, c.fn, cfg)
			stop := start(t, r)
			for range 3 {
				r.Trigger()
				sleep(time.Hour)
			}
			require.EqualValues(t, c.count(), r.Stats().Failures)
			require.NoError(t, stop())
		})
	}
}

func TestMinIntervalAppliesAfterFailure(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := calls{body: func(ctx context.Context, n int) error {
			if n == 0 {
				time.Sleep(time.Second)
				return errors.New("down")
			}
			return nil
		}}
		r := newReloader(t, c.fn, reloader.Config{Debounce: -1, MinInterval: 5 * time.Second, RetryBackoff: time.Second, MaxRetryBackoff: time.Second})
		stop := start(t, r)
		t0 := time.Now()
		r.Trigger()
		sleep(time.Minute)
		// The retry would be due within 1s of the failure's end (at 1s),
		// but MinInterval holds it to 5s after the failed reload's start.
		require.Equal(t, []time.Duration{0, 5 * time.Second}, c.offsets(t0))
		require.NoError(t, stop())
	})
}

func TestPanicIsContained(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := calls{body: func(ctx context.Context, n int) error {
			if n == 0 {
				panic("boom")
			}
			return nil
		}}
		var logBuf logtest.Buffer
		var got []error
		r := newReloader(t, c.fn, reloader.Config{
			Debounce: -1, MinInterval: -1, RetryBackoff: time.Second,
			Logger: slog.New(slog.NewTextHandler(&logBuf, nil)),
			OnError: func(err error) {
				got = append(got, err) // only ever called from one reload goroutine at a time
				panic("OnError boom")
			},
		})
		stop := start(t, r)
		err := r.TriggerWait(context.Background())
		var pe *reloader.PanicError
		require.ErrorAs(t, err, &pe)
		require.Equal(t, "boom", pe.Value)
		require.Contains(t, string(pe.Stack), "reloader_test")
		require.EqualError(t, err, "reloader: reload function panicked: boom")

		sleep(time.Minute) // the retry succeeds
		require.Equal(t, 2, c.count())
		require.Len(t, got, 1)
		require.Same(t, pe, got[0])
		st := r.Stats()
		require.EqualValues(t, 1, st.Failures)
		require.EqualValues(t, 1, st.Panics)
		require.EqualValues(t, 1, st.CallbackPanics)
		require.EqualValues(t, 2, st.Reloads)
		require.NoError(t, st.LastError)
		logs := logBuf.String()
		require.Contains(t, logs, `msg="reload panicked" component=reloader name="" result=panic`)
		require.Contains(t, logs, "panic=boom stack=")
		require.Contains(t, logs, `msg="OnError panicked" component=reloader name="" panic="OnError boom" stack=`)
		require.NotContains(t, logs, `msg="reloader:`, "messages carry no package prefix")
		require.NoError(t, stop())
	})
}

func TestPanicErrorUnwrapsAnErrorValue(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sentinel := errors.New("sentinel")
		r := newReloader(t, func(context.Context) error { panic(sentinel) }, reloader.Config{Debounce: -1, RetryBackoff: time.Hour})
		stop := start(t, r)
		err := r.TriggerWait(context.Background())
		require.ErrorIs(t, err, sentinel)
		require.NoError(t, stop())
	})
}

func TestGoexitIsContained(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var n int
		r := newReloader(t, func(context.Context) error {
			n++
			if n == 1 {
				runtime.Goexit()
			}
			return nil
		}, reloader.Config{
			Debounce: -1, MinInterval: -1, RetryBackoff: time.Second,
			OnError: func(error) { runtime.Goexit() },
		})
		stop := start(t, r)
		err := r.TriggerWait(context.Background())
		require.ErrorIs(t, err, reloader.ErrGoexit, "runtime.Goexit is a PanicError whose Value is the sentinel, as in taskmon")
		var pe *reloader.PanicError
		require.True(t, errors.As(err, &pe))
		require.Equal(t, reloader.ErrGoexit, pe.Value)
		require.NotEmpty(t, pe.Stack)
		sleep(time.Minute) // retried like a failure
		st := r.Stats()
		require.EqualValues(t, 2, st.Reloads)
		require.EqualValues(t, 1, st.Failures)
		require.Zero(t, st.Panics)
		require.EqualValues(t, 1, st.CallbackPanics)
		require.NoError(t, stop())
	})
}

func TestTriggerWaitReturnsTheResultOfTheNextReload(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		c := calls{body: func(ctx context.Context, n int) error {
			if n == 0 {
				<-release
			}
			return fmt.Errorf("reload %d", n)
		}}
		r := newReloader(t, c.fn, reloader.Config{Debounce: ms(100), MinInterval: -1, RetryBackoff: time.Hour, MaxRetryBackoff: time.Hour})
		stop := start(t, r)

		first := make(chan error, 1)
		go func() { first <- r.TriggerWait(context.Background()) }()
		sleep(ms(100))
		require.Equal(t, 1, c.count()) // reload 0 runs and blocks

		second := make(chan error, 1)
		go func() { second <- r.TriggerWait(context.Background()) }()
		synctest.Wait()
		close(release)
		require.EqualError(t, <-first, "reload 0")
		// The running reload never answers a later call, even though it
		// finished after it; the retry (a reload that started after the call)
		// does.
		sleep(2 * time.Hour)
		require.EqualError(t, <-second, "reload 1")
		require.NoError(t, stop())
	})
}

// Many concurrent TriggerWait calls are each answered, and never by a reload
// that had started before the call. Every reload fails with its own number,
// so each answer names the reload that gave it.
func TestConcurrentTriggerWaitsAreAnsweredByLaterReloads(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := calls{body: func(ctx context.Context, n int) error {
			time.Sleep(ms(3))
			return fmt.Errorf("%d", n)
		}}
		r := newReloader(t, c.fn, reloader.Config{Debounce: -1, MinInterval: -1, RetryBackoff: ms(2), MaxRetryBackoff: ms(2)})
		stop := start(t, r)
		const goroutines, perG = 8, 50
		var wg sync.WaitGroup
		for g := range goroutines {
			wg.Go(func() {
				for i := range perG {
					before := c.count() // reloads 0 … before-1 started before the call
					err := r.TriggerWait(context.Background())
					var n int
					if _, scanErr := fmt.Sscan(fmt.Sprint(err), &n); scanErr != nil {
						t.Errorf("goroutine %d call %d: TriggerWait returned %v", g, i, err)
						return
					}
					if n < before {
						t.Errorf("goroutine %d call %d answered by reload %d, which started before it", g, i, n)
						return
					}
					if i%7 == g {
						time.Sleep(ms(i % 5))
					}
				}
			})
		}
		wg.Wait()
		st := r.Stats()
		require.EqualValues(t, goroutines*perG, st.Triggers)
		require.NoError(t, stop())
	})
}

// A TriggerWait during the retry backoff is answered by the retry, which is
// the only reload it causes.
func TestTriggerWaitDuringBackoffGetsTheRetry(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := calls{body: func(ctx context.Context, n int) error { return fmt.Errorf("reload %d", n) }}
		r := newReloader(t, c.fn, reloader.Config{Debounce: -1, MinInterval: -1, RetryBackoff: time.Minute, MaxRetryBackoff: time.Minute})
		stop := start(t, r)
		require.EqualError(t, r.TriggerWait(context.Background()), "reload 0")
		t0 := time.Now()
		require.EqualError(t, r.TriggerWait(context.Background()), "reload 1")
		require.LessOrEqual(t, time.Since(t0), time.Minute, "the call did not wait for the retry")
		require.Equal(t, 2, c.count())
		require.NoError(t, stop())
	})
}

// When Run ends while the reload serving a TriggerWait runs, the call gets
// that reload's result once it has returned.
func TestTriggerWaitServedByACanceledReload(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := calls{body: func(ctx context.Context, n int) error {
			<-ctx.Done()
			return fmt.Errorf("reload %d: %w", n, ctx.Err())
		}}
		r := newReloader(t, c.fn, reloader.Config{Debounce: -1})
		stop := start(t, r)
		waited := make(chan error, 1)
		go func() { waited <- r.TriggerWait(context.Background()) }()
		synctest.Wait()
		require.Equal(t, 1, c.count())
		require.NoError(t, stop())
		err := <-waited
		require.EqualError(t, err, "reload 0: context canceled")
		require.EqualValues(t, 1, r.Stats().Canceled)
	})
}

func TestTriggerWaitEndings(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var c calls
		r := newReloader(t, c.fn, reloader.Config{Debounce: time.Hour})

		// Its own context ends first.
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		require.ErrorIs(t, r.TriggerWait(ctx), context.DeadlineExceeded)
		require.ErrorIs(t, r.TriggerWait(ctx), context.DeadlineExceeded) // already done

		// Run ends before the reload starts.
		stop := start(t, r)
		waited := make(chan error, 1)
		go func() { waited <- r.TriggerWait(context.Background()) }()
		sleep(time.Minute)
		require.NoError(t, stop())
		require.ErrorIs(t, <-waited, reloader.ErrStopped)

		// Called after Run returned: it waits for the next Run.
		go func() { waited <- r.TriggerWait(context.Background()) }()
		sleep(time.Hour)
		require.Zero(t, c.count())
		stop = start(t, r)
		sleep(time.Hour)
		require.NoError(t, <-waited)
		require.Equal(t, 1, c.count())
		require.NoError(t, stop())
		st := r.Stats()
		require.EqualValues(t, 3, st.Triggers, "the call with a done context does not trigger")
		require.EqualValues(t, 2, st.Coalesced, "one reload served every trigger")
	})
}

func TestTriggerWaitBeforeRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var c calls
		r := newReloader(t, c.fn, reloader.Config{Debounce: time.Second})
		waited := make(chan error, 1)
		go func() { waited <- r.TriggerWait(context.Background()) }()
		sleep(time.Hour)
		require.Zero(t, c.count())
		stop := start(t, r)
		require.NoError(t, <-waited)
		require.Equal(t, 1, c.count())
		require.NoError(t, stop())
	})
}

func TestSecondRunGetsErrRunning(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var c calls
		r := newReloader(t, c.fn, reloader.Config{})
		stop := start(t, r)
		require.ErrorIs(t, r.Run(context.Background()), reloader.ErrRunning)
		require.NoError(t, stop())
		stop = start(t, r) // restartable once returned
		require.ErrorIs(t, r.Run(context.Background()), reloader.ErrRunning)
		require.NoError(t, stop())
	})
}

// A Run that ends with its context returns nil; a later Run picks up what
// the earlier one left: triggers made in between, a pending retry, a
// canceled reload, and MinInterval from the last start.
func TestRunIsRestartable(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := calls{body: func(ctx context.Context, n int) error {
			switch n {
			case 0:
				return errors.New("down")
			case 2:
				<-ctx.Done() // canceled by the end of the second Run
				return ctx.Err()
			}
			return nil
		}}
		r := newReloader(t, c.fn, reloader.Config{Debounce: time.Second, MinInterval: 10 * time.Second, RetryBackoff: time.Hour, MaxRetryBackoff: time.Hour})
		t0 := time.Now()
		stop := start(t, r)
		r.Trigger()
		sleep(2 * time.Second) // reload 0 at 1s fails; its retry is due within the hour
		require.Equal(t, 1, c.count())
		require.NoError(t, stop())

		// Triggers while stopped are kept (not ignored); the retry is made
		// by the next Run, which serves them.
		for range 3 {
			r.Trigger()
		}
		sleep(2 * time.Hour)
		require.Equal(t, 1, c.count())
		stop = start(t, r)
		synctest.Wait()
		require.Equal(t, 2, c.count(), "the overdue retry runs as soon as Run starts")
		st := r.Stats()
		require.EqualValues(t, 1, st.Retries)
		require.EqualValues(t, 3, st.Coalesced, "the retry served the triggers made in between")
		require.Zero(t, st.ConsecutiveFailures)

		// MinInterval counts across Runs; a reload canceled by the end of a
		// Run is made again by the next.
		r.Trigger()
		sleep(11 * time.Second) // held by MinInterval to 10s after the retry
		require.Equal(t, 3, c.count())
		require.NoError(t, stop())
		require.EqualValues(t, 1, r.Stats().Canceled)
		stop = start(t, r)
		t1 := time.Now()
		sleep(time.Minute)
		off := c.offsets(t0)
		require.Len(t, off, 4)
		require.Equal(t, off[2]+10*time.Second, off[3], "MinInterval after the canceled start")
		require.Less(t, t1.Sub(t0), off[3])
		require.Zero(t, r.Stats().ConsecutiveFailures)
		require.NoError(t, stop())
	})
}

func TestRunReturnsPromptlyAndWaitsForTheReload(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var onError int
		c := calls{body: func(ctx context.Context, n int) error {
			<-ctx.Done()
			time.Sleep(2 * time.Second) // cleanup that outlives the cancel
			return ctx.Err()
		}}
		r := newReloader(t, c.fn, reloader.Config{Debounce: -1, OnError: func(error) { onError++ }})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- r.Run(ctx) }()
		r.Trigger()
		sleep(time.Second)
		require.Equal(t, 1, c.count())

		t0 := time.Now()
		cancel()
		synctest.Wait()
		select {
		case <-done:
			t.Fatal("Run returned before the running reload did")
		default:
		}
		err := <-done
		require.NoError(t, err, "Run returns nil when its context ends")
		require.Equal(t, 2*time.Second, time.Since(t0), "Run did not wait exactly for the reload")
		st := r.Stats()
		require.EqualValues(t, 1, st.Canceled)
		require.Zero(t, st.Failures)
		require.Zero(t, onError)

		// With nothing running, Run returns at once.
		r2 := newReloader(t, c.fn, reloader.Config{})
		stop := start(t, r2)
		t1 := time.Now()
		require.NoError(t, stop())
		require.Zero(t, time.Since(t1))
	})
}

func TestTriggerBeforeRunIsRemembered(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var c calls
		r := newReloader(t, c.fn, reloader.Config{Debounce: time.Second})
		r.Trigger()
		r.Trigger()
		r.Trigger()
		sleep(time.Hour)
		stop := start(t, r)
		t0 := time.Now()
		sleep(time.Minute)
		// Triggers before Run count as arriving when Run starts.
		require.Equal(t, []time.Duration{time.Second}, c.offsets(t0))
		st := r.Stats()
		require.EqualValues(t, 3, st.Triggers)
		require.EqualValues(t, 2, st.Coalesced)
		require.NoError(t, stop())
	})
}

func TestTriggersBetweenRunsWaitForTheNextRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var c calls
		r := newReloader(t, c.fn, reloader.Config{Debounce: time.Second})
		stop := start(t, r)
		r.Trigger()
		sleep(time.Minute)
		r.Trigger() // pending when Run returns
		require.NoError(t, stop())
		for range 5 {
			r.Trigger()
		}
		sleep(time.Hour)
		require.Equal(t, 1, c.count())
		stop = start(t, r)
		sleep(time.Minute)
		require.Equal(t, 2, c.count())
		st := r.Stats()
		require.EqualValues(t, 7, st.Triggers)
		require.EqualValues(t, 5, st.Coalesced)
		require.NoError(t, stop())
	})
}

func TestTimeoutBoundsAReload(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := calls{body: func(ctx context.Context, n int) error {
			if n == 0 {
				<-ctx.Done()
				return ctx.Err()
			}
			return nil
		}}
		r := newReloader(t, c.fn, reloader.Config{Debounce: -1, Timeout: 2 * time.Second, RetryBackoff: time.Hour})
		stop := start(t, r)
		t0 := time.Now()
		err := r.TriggerWait(context.Background())
		require.ErrorIs(t, err, context.DeadlineExceeded)
		require.Equal(t, 2*time.Second, time.Since(t0))
		st := r.Stats()
		require.EqualValues(t, 1, st.Failures)
		require.EqualValues(t, 1, st.ConsecutiveFailures)
		require.ErrorIs(t, st.LastError, context.DeadlineExceeded)
		require.Equal(t, 2*time.Second, st.LastDuration)
		require.NoError(t, stop())
	})
}

// Timeout cancels the reload's context; it does not turn a late success into
// a failure.
func TestTimeoutIgnoredByASucceedingReload(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newReloader(t, func(context.Context) error {
			time.Sleep(3 * time.Second)
			return nil
		}, reloader.Config{Debounce: -1, Timeout: time.Second})
		stop := start(t, r)
		require.NoError(t, r.TriggerWait(context.Background()))
		st := r.Stats()
		require.Zero(t, st.Failures)
		require.Equal(t, 3*time.Second, st.LastDuration)
		require.NoError(t, stop())
	})
}

func TestNewRejectsBadInput(t *testing.T) {
	fn := func(context.Context) error { return nil }
	_, err := reloader.New(nil, reloader.Config{})
	require.EqualError(t, err, "reloader: fn must not be nil")

	for _, tc := range []struct {
		cfg  reloader.Config
		want string
	}{
		{reloader.Config{MaxDelay: -1}, "reloader: Config.MaxDelay must not be negative, got -1ns"},
		{reloader.Config{Timeout: -time.Second}, "reloader: Config.Timeout must not be negative, got -1s"},
		{reloader.Config{RetryBackoff: -1}, "reloader: Config.RetryBackoff must not be negative, got -1ns"},
		{reloader.Config{MaxRetryBackoff: -1}, "reloader: Config.MaxRetryBackoff must not be negative, got -1ns"},
		{reloader.Config{Debounce: 5 * time.Second, MaxDelay: time.Second}, "reloader: Config.MaxDelay (1s) must not be shorter than Config.Debounce (5s)"},
		{reloader.Config{RetryBackoff: time.Minute, MaxRetryBackoff: time.Second}, "reloader: Config.MaxRetryBackoff (1s) must not be shorter than Config.RetryBackoff (1m0s)"},
	} {
		_, err := reloader.New(fn, tc.cfg)
		require.EqualError(t, err, tc.want)
	}

	// Defaults yield to the value set: longer or shorter.
	for _, cfg := range []reloader.Config{
		{Debounce: time.Minute, RetryBackoff: time.Hour},
		{MaxDelay: ms(500)},
		{MaxRetryBackoff: ms(500)},
		{MaxDelay: ms(500), Debounce: -1},
	} {
		_, err = reloader.New(fn, cfg)
		require.NoError(t, err, "%+v", cfg)
	}
}

// A derived default yields to the field set: MaxDelay 500ms alone makes the
// debounce 500ms (not an error against the 1s default), and MaxRetryBackoff
// 500ms alone caps the first retry at 500ms too.
func TestDerivedDefaultsYield(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := calls{body: func(ctx context.Context, n int) error {
			if n < 3 {
				return errors.New("down")
			}
			return nil
		}}
		r := newReloader(t, c.fn, reloader.Config{MaxDelay: ms(500), MinInterval: -1, MaxRetryBackoff: ms(500)})
		stop := start(t, r)
		t0 := time.Now()
		r.Trigger()
		sleep(time.Minute)
		off := c.offsets(t0)
		require.Len(t, off, 4)
		require.Equal(t, ms(500), off[0], "debounce shrank to MaxDelay")
		for i := 1; i < 4; i++ {
			require.LessOrEqual(t, off[i]-off[i-1], ms(500), "retry ceiling capped at MaxRetryBackoff")
		}
		require.NoError(t, stop())
	})
}

func TestDefaults(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := calls{body: func(ctx context.Context, n int) error {
			if n == 1 {
				return errors.New("down")
			}
			return nil
		}}
		r := newReloader(t, c.fn, reloader.Config{})
		stop := start(t, r)
		t0 := time.Now()
		r.Trigger() // served after the 1s debounce
		sleep(2 * time.Second)
		r.Trigger() // due at 3s, held to 6s by the 5s MinInterval; fails
		sleep(time.Hour)
		off := c.offsets(t0)
		require.Len(t, off, 3)
		require.Equal(t, []time.Duration{time.Second, 6 * time.Second}, off[:2])
		// The retry: within 1s of the failure, but not before 5s after it.
		require.Equal(t, 11*time.Second, off[2])
		require.NoError(t, stop())
	})
}

func TestMetrics(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		reg := prometheus.NewPedanticRegistry()
		c := calls{body: func(ctx context.Context, n int) error {
			if n == 0 {
				return errors.New("down")
			}
			time.Sleep(ms(250))
			return nil
		}}
		r := newReloader(t, c.fn, reloader.Config{Name: "subs", Registerer: reg, Debounce: ms(100), MinInterval: time.Second, RetryBackoff: time.Second, MaxRetryBackoff: time.Second})
		other := newReloader(t, c.fn, reloader.Config{Name: "other", Registerer: reg})
		_, err := reloader.New(c.fn, reloader.Config{Name: "subs", Registerer: reg})
		require.ErrorContains(t, err, `reloader: metrics for name "subs" are already registered`)
		var are prometheus.AlreadyRegisteredError
		require.ErrorAs(t, err, &are)

		value := func(name string, l metrictest.Labels) float64 {
			t.Helper()
			if l == nil {
				l = metrictest.Labels{}
			}
			l["name"] = "subs"
			v, err := metrictest.Value(reg, name, l)
			require.NoError(t, err)
			return v
		}
		stop := start(t, r)
		for range 5 {
			r.Trigger()
		}
		synctest.Wait()
		require.Equal(t, 5.0, value("steadfast_reloader_triggers_total", nil))
		require.Equal(t, 1.0, value("steadfast_reloader_pending", nil))
		require.Equal(t, 0.0, value("steadfast_reloader_in_flight", nil))

		sleep(ms(100)) // reload 0 fails at once
		require.Equal(t, 1.0, value("steadfast_reloader_reloads_total", metrictest.Labels{"result": "failure"}))
		require.Equal(t, 1.0, value("steadfast_reloader_consecutive_failures", nil))
		require.Equal(t, 1.0, value("steadfast_reloader_pending", nil))
		require.Equal(t, 4.0, value("steadfast_reloader_coalesced_total", nil))

		sleep(time.Second) // the retry has started by now and runs for 250ms
		require.Equal(t, 1.0, value("steadfast_reloader_in_flight", nil))
		require.Equal(t, 0.0, value("steadfast_reloader_pending", nil))
		sleep(ms(250))
		require.Equal(t, 1.0, value("steadfast_reloader_reloads_total", metrictest.Labels{"result": "success"}))
		require.Equal(t, 0.0, value("steadfast_reloader_consecutive_failures", nil))
		require.Equal(t, 0.0, value("steadfast_reloader_in_flight", nil))
		require.Equal(t, 2.0, value("steadfast_reloader_reload_duration_seconds", nil))
		require.Equal(t, 1.0, value("steadfast_reloader_trigger_latency_seconds", nil), "a retry without triggers has no trigger latency")
		st := r.Stats()
		require.Equal(t, float64(st.LastSuccess.UnixNano())/1e9, value("steadfast_reloader_last_success_timestamp_seconds", nil))

		require.NoError(t, stop())
		require.Equal(t, 0.0, value("steadfast_reloader_reloads_total", metrictest.Labels{"result": "panic"}))

		names, err := metrictest.Names(reg)
		require.NoError(t, err)
		require.Equal(t, []string{
			"steadfast_reloader_callback_panics_total",
			"steadfast_reloader_coalesced_total",
			"steadfast_reloader_consecutive_failures",
			"steadfast_reloader_in_flight",
			"steadfast_reloader_last_success_timestamp_seconds",
			"steadfast_reloader_pending",
			"steadfast_reloader_reload_duration_seconds",
			"steadfast_reloader_reloads_total",
			"steadfast_reloader_trigger_latency_seconds",
			"steadfast_reloader_triggers_total",
		}, names)
		mfs, err := reg.Gather()
		require.NoError(t, err)
		problems, err := promlint.NewWithMetricFamilies(mfs).Lint()
		require.NoError(t, err)
		require.Empty(t, problems)

		v, err := metrictest.Value(reg, "steadfast_reloader_triggers_total", metrictest.Labels{"name": "other"})
		require.NoError(t, err)
		require.Zero(t, v)
		_ = other
	})
}

func TestTriggerDoesNotAllocate(t *testing.T) {
	r, err := reloader.New(func(context.Context) error { return nil }, reloader.Config{Logger: discard})
	require.NoError(t, err)
	require.Zero(t, testing.AllocsPerRun(1000, r.Trigger))
}

// overlap counts the reloads running at once and records the most seen.
type overlap struct {
	mu        sync.Mutex
	now, most int
}

func (o *overlap) enter() {
	o.mu.Lock()
	o.now++
	o.most = max(o.most, o.now)
	o.mu.Unlock()
}

func (o *overlap) exit() {
	o.mu.Lock()
	o.now--
	o.mu.Unlock()
}

func TestLoadWithoutRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var onError []error
		c := calls{body: func(ctx context.Context, n int) error {
			time.Sleep(time.Second)
			if n == 0 {
				return errors.New("down")
			}
			return nil
		}}
		r := newReloader(t, c.fn, reloader.Config{RetryBackoff: time.Minute, OnError: func(err error) { onError = append(onError, err) }})
		r.Trigger()
		r.Trigger()
		waited := make(chan error, 1)
		go func() { waited <- r.TriggerWait(context.Background()) }()
		synctest.Wait()

		t0 := time.Now()
		err := r.Load(context.Background())
		require.EqualError(t, err, "down")
		require.Equal(t, time.Second, time.Since(t0), "Load runs at once, without Run")
		require.EqualError(t, <-waited, "down", "the TriggerWait made before the Load is answered by it")
		require.Len(t, onError, 1, "a failed Load is reported like any reload")
		st := r.Stats()
		require.EqualValues(t, 1, st.Reloads)
		require.EqualValues(t, 1, st.Loads)
		require.EqualValues(t, 1, st.Failures)
		require.EqualValues(t, 3, st.Coalesced, "the Load served the pending triggers")
		require.EqualValues(t, 1, st.ConsecutiveFailures)

		// The next Run retries the failed Load.
		stop := start(t, r)
		sleep(2 * time.Minute)
		require.Equal(t, 2, c.count())
		st = r.Stats()
		require.EqualValues(t, 1, st.Retries)
		require.Zero(t, st.ConsecutiveFailures)
		require.NoError(t, stop())
		require.EqualValues(t, 3, st.Triggers)
		require.EqualValues(t, st.Triggers, st.Reloads-st.Retries-st.Loads+st.Coalesced, "the Stats identity holds")
	})
}

func TestLoadRunsOneAtATime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var o overlap
		c := calls{body: func(ctx context.Context, n int) error {
			o.enter()
			defer o.exit()
			time.Sleep(time.Second)
			return nil
		}}
		r := newReloader(t, c.fn, reloader.Config{Debounce: -1})

		// Three Loads at once without Run.
		t0 := time.Now()
		var wg sync.WaitGroup
		for range 3 {
			wg.Go(func() { require.NoError(t, r.Load(context.Background())) })
		}
		wg.Wait()
		require.Equal(t, 3*time.Second, time.Since(t0), "the Loads ran one after another")
		require.Equal(t, 3, c.count())

		// A Run started during a Load's reload waits for it.
		wg.Go(func() { require.NoError(t, r.Load(context.Background())) })
		synctest.Wait()
		r.Trigger()
		stop := start(t, r)
		wg.Wait()
		sleep(time.Minute)
		require.Equal(t, 5, c.count())

		// With Run active: a Load waits for the running reload, then starts
		// at once, whatever MinInterval says.
		r.Trigger()
		sleep(5 * time.Second) // MinInterval
		require.Equal(t, 6, c.count())
		t1 := time.Now()
		require.NoError(t, r.Load(context.Background()))
		require.Equal(t, time.Second, time.Since(t1), "the end of the running reload, then the Load's own")
		require.Equal(t, 7, c.count())
		require.Equal(t, 1, o.most, "two reloads overlapped")
		require.EqualValues(t, 5, r.Stats().Loads)
		require.NoError(t, stop())
	})
}

func TestLoadWithRunActive(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := calls{body: func(ctx context.Context, n int) error {
			if n == 1 {
				return errors.New("down")
			}
			return nil
		}}
		r := newReloader(t, c.fn, reloader.Config{Debounce: time.Hour, RetryBackoff: time.Second, MaxRetryBackoff: time.Second, MinInterval: -1})
		stop := start(t, r)
		r.Trigger()
		r.Trigger()
		synctest.Wait()
		require.NoError(t, r.Load(context.Background()), "served at once, not after the debounce")
		require.Equal(t, 1, c.count())
		require.EqualError(t, r.Load(context.Background()), "down")
		sleep(time.Minute) // Run retries the failed Load
		require.Equal(t, 3, c.count())
		st := r.Stats()
		require.EqualValues(t, 2, st.Loads)
		require.EqualValues(t, 1, st.Retries)
		require.EqualValues(t, 2, st.Coalesced, "the first Load served both triggers")
		require.Zero(t, st.ConsecutiveFailures)

		// A Load whose context ends while it waits leaves nothing behind.
		block := make(chan struct{})
		c.mu.Lock()
		c.body = func(ctx context.Context, n int) error { <-block; return nil }
		c.mu.Unlock()
		go func() { _ = r.Load(context.Background()) }()
		synctest.Wait()
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		require.ErrorIs(t, r.Load(ctx), context.DeadlineExceeded)
		close(block)
		sleep(time.Hour)
		require.Equal(t, 4, c.count(), "no reload for a Load that gave up")
		require.NoError(t, stop())
	})
}

// A Load queued for a Run that returns before serving it runs the reload
// itself.
func TestLoadOutlivesItsRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		block := make(chan struct{})
		c := calls{body: func(ctx context.Context, n int) error {
			if n == 0 {
				<-ctx.Done()
				<-block
				return ctx.Err()
			}
			return nil
		}}
		r := newReloader(t, c.fn, reloader.Config{Debounce: -1})
		stop := start(t, r)
		r.Trigger()
		synctest.Wait()
		loaded := make(chan error, 1)
		go func() { loaded <- r.Load(context.Background()) }()
		synctest.Wait()
		stopped := make(chan error, 1)
		go func() { stopped <- stop() }()
		synctest.Wait()
		close(block)
		require.NoError(t, <-stopped)
		require.NoError(t, <-loaded)
		require.Equal(t, 2, c.count())
		st := r.Stats()
		require.EqualValues(t, 1, st.Canceled)
		require.EqualValues(t, 1, st.Loads)
	})
}

func TestLoadContainsPanicAndGoexit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := 0
		r := newReloader(t, func(context.Context) error {
			n++
			if n == 1 {
				panic("boom")
			}
			runtime.Goexit()
			return nil
		}, reloader.Config{})
		err := r.Load(context.Background())
		var pe *reloader.PanicError
		require.ErrorAs(t, err, &pe)
		require.Equal(t, "boom", pe.Value)
		require.ErrorIs(t, r.Load(context.Background()), reloader.ErrGoexit)
		st := r.Stats()
		require.EqualValues(t, 2, st.Failures)
		require.EqualValues(t, 1, st.Panics)
	})
}

// The logger is looked up when a record is written: a slog.SetDefault after
// New is honoured, with its handler's level.
func TestDefaultLoggerLookedUpWhenLogging(t *testing.T) {
	prev := slog.Default()
	t.Cleanup(func() { slog.SetDefault(prev) })
	synctest.Test(t, func(t *testing.T) {
		c := calls{body: func(ctx context.Context, n int) error {
			if n == 0 {
				return errors.New("down")
			}
			<-ctx.Done()
			return ctx.Err()
		}}
		r, err := reloader.New(c.fn, reloader.Config{Name: "subs", Debounce: -1, MinInterval: -1, RetryBackoff: time.Second})
		require.NoError(t, err)
		var buf logtest.Buffer
		slog.SetDefault(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo})))
		stop := start(t, r)
		require.EqualError(t, r.TriggerWait(context.Background()), "down")
		sleep(time.Minute) // the retry blocks until Run ends: canceled, at debug level
		require.NoError(t, stop())
		require.EqualValues(t, 1, r.Stats().Canceled)
		logs := buf.String()
		require.Contains(t, logs, `level=ERROR msg="reload failed" component=reloader name=subs result=failure error=down`)
		require.NotContains(t, logs, "reload canceled", "the handler's level filters debug records")
		require.NotContains(t, logs, "error=<nil>")
	})
}

// A *PanicError marshals to its value's text and its stack, not {}.
func TestPanicErrorMarshalJSON(t *testing.T) {
	r, err := reloader.New(func(context.Context) error { panic(errors.New("bad config")) },
		reloader.Config{Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	var pe *reloader.PanicError
	require.ErrorAs(t, r.Load(context.Background()), &pe)
	b, err := json.Marshal(pe)
	require.NoError(t, err)
	var m map[string]string
	require.NoError(t, json.Unmarshal(b, &m))
	require.Equal(t, "bad config", m["value"])
	require.Contains(t, m["stack"], "goroutine")
	require.Len(t, m, 2)
}

func TestStatsMarshalJSON(t *testing.T) {
	b, err := json.Marshal(reloader.Stats{Failures: 2, LastError: errors.New("upstream unavailable")})
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m))
	require.Equal(t, "upstream unavailable", m["last_error"])
	require.EqualValues(t, 2, m["failures"])
	require.Contains(t, m, "consecutive_failures")
	require.NotContains(t, m, "LastError")
	b, err = json.Marshal(reloader.Stats{})
	require.NoError(t, err)
	require.Contains(t, string(b), `"last_error":null`)
}

// The figures the Stats doc gives: a Load, then 1,000 triggers served by
// one reload, read Loads 1, Reloads 2, Triggers 1000, Coalesced 999; and the
// doc's identity holds while triggers wait and after they are served.
func TestStatsCountAsDocumented(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r, err := reloader.New(func(context.Context) error { return nil },
			reloader.Config{Debounce: time.Second, Logger: slog.New(slog.DiscardHandler)})
		require.NoError(t, err)
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		require.NoError(t, r.Load(ctx))
		done := make(chan error, 1)
		go func() { done <- r.Run(ctx) }()
		for range 1000 {
			r.Trigger()
		}
		synctest.Wait()
		identity := func(pending uint64) {
			t.Helper()
			s := r.Stats()
			require.Equal(t, s.Reloads, s.Loads+s.Retries+(s.Triggers-s.Coalesced-pending), "%+v", s)
		}
		identity(1000) // all waiting: MinInterval (5s) since the Load's start
		time.Sleep(6 * time.Second)
		synctest.Wait()
		s := r.Stats()
		require.Equal(t, [4]uint64{1, 2, 1000, 999}, [4]uint64{s.Loads, s.Reloads, s.Triggers, s.Coalesced}, "%+v", s)
		require.Zero(t, s.Retries)
		identity(0)
		cancel()
		require.NoError(t, <-done)
	})
}

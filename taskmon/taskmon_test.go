package taskmon

import (
	"bytes"
	"context"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/steadfast-go/steadfast/internal/backoff"
	"github.com/steadfast-go/steadfast/internal/logtest"
	"github.com/steadfast-go/steadfast/internal/metrictest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

var errBoom = errors.New("boom")

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

// newMon returns a monitor that logs nowhere unless cfg says otherwise.
func newMon(cfg Config) *Monitor {
	if cfg.Logger == nil {
		cfg.Logger = quiet()
	}
	return New(cfg)
}

// recorder collects the TaskErrors a callback receives.
type recorder struct {
	mu   sync.Mutex
	errs []TaskError
}

func (r *recorder) add(te TaskError) {
	r.mu.Lock()
	r.errs = append(r.errs, te)
	r.mu.Unlock()
}

func (r *recorder) get() []TaskError {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]TaskError(nil), r.errs...)
}

// logRecords decodes the JSON lines a JSON handler wrote.
func logRecords(t *testing.T, buf []byte) []map[string]any {
	t.Helper()
	var recs []map[string]any
	for _, line := range bytes.Split(bytes.TrimSpace(buf), []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		var rec map[string]any
		require.NoError(t, json.Unmarshal(line, &rec))
		recs = append(recs, rec)
	}
	return recs
}

func TestGoSuccess(t *testing.T) {
	var rec recorder
	m := newMon(Config{OnError: rec.add})
	ran := false
	task := m.Go(context.Background(), "ok", func(context.Context) error {
		ran = true
		return nil
	})
	<-task.Done()
	require.True(t, ran)
	require.NoError(t, task.Err())
	require.Equal(t, "ok", task.Name())
	require.Empty(t, rec.get())
	require.Equal(t, Stats{Succeeded: 1}, m.Stats())
}

func TestGoCapturesError(t *testing.T) {
	var rec recorder
	m := newMon(Config{OnError: rec.add})
	task := m.Go(context.Background(), "db", func(context.Context) error { return errBoom })
	<-task.Done()
	require.ErrorIs(t, task.Err(), errBoom)
	require.Equal(t, []TaskError{{Name: "db", Err: errBoom, Outcome: OutcomeFailure}}, rec.get())
	require.Equal(t, Stats{Failed: 1}, m.Stats())
	require.EqualError(t, rec.get()[0], `taskmon: task "db" failed: boom`)
	require.ErrorIs(t, rec.get()[0], errBoom)
}

//go:noinline
func panickyHelper(v any) { panic(v) }

func TestGoCapturesPanicWithStack(t *testing.T) {
	var rec recorder
	var logs logtest.Buffer
	m := New(Config{OnError: rec.add, Logger: slog.New(slog.NewJSONHandler(&logs, nil))})

	task := m.Go(context.Background(), "p", func(context.Context) error {
		panickyHelper(io.ErrUnexpectedEOF)
		return nil
	})
	<-task.Done()
	var pe *PanicError
	require.ErrorAs(t, task.Err(), &pe)
	require.Equal(t, "p", pe.Task)
	require.Equal(t, io.ErrUnexpectedEOF, pe.Value)
	require.ErrorIs(t, task.Err(), io.ErrUnexpectedEOF, "a panic(err) unwraps to err")
	require.Contains(t, string(pe.Stack), "panickyHelper", "the stack shows where it panicked")
	require.EqualError(t, pe, `taskmon: task "p" panicked: unexpected EOF`)

	got := rec.get()
	require.Len(t, got, 1)
	require.Equal(t, OutcomePanic, got[0].Outcome)
	require.Same(t, pe, got[0].Err)
	require.EqualError(t, got[0], pe.Error())

	// A non-error panic value does not unwrap.
	task = m.Go(context.Background(), "p2", func(context.Context) error { panic("plain") })
	<-task.Done()
	require.ErrorAs(t, task.Err(), &pe)
	require.Equal(t, "plain", pe.Value)
	require.Nil(t, errors.Unwrap(pe))

	// panic(nil) is a panic too, not a success.
	task = m.Go(context.Background(), "p3", func(context.Context) error { panic(nil) })
	<-task.Done()
	require.ErrorAs(t, task.Err(), &pe)
	var pne *runtime.PanicNilError
	require.ErrorAs(t, task.Err(), &pne)

	require.Equal(t, Stats{Panicked: 3}, m.Stats())

	recs := logRecords(t, logs.Bytes())
	require.Len(t, recs, 3)
	r := recs[0]
	require.Equal(t, "ERROR", r["level"])
	require.Equal(t, "p", r["task"])
	require.Equal(t, "panic", r["result"])
	require.Equal(t, "unexpected EOF", r["panic"])
	require.Contains(t, r["stack"], "panickyHelper")
}

func TestGoexitIsAFailure(t *testing.T) {
	var rec recorder
	m := newMon(Config{OnError: rec.add})
	task := m.Go(context.Background(), "quitter", func(context.Context) error {
		runtime.Goexit()
		return nil
	})
	<-task.Done()
	// runtime.Goexit is a *PanicError whose Value is ErrGoexit, with the
	// stack of the call.
	require.ErrorIs(t, task.Err(), ErrGoexit)
	var pe *PanicError
	require.ErrorAs(t, task.Err(), &pe)
	require.Equal(t, ErrGoexit, pe.Value)
	require.Equal(t, "quitter", pe.Task)
	require.Contains(t, string(pe.Stack), "TestGoexitIsAFailure")
	require.EqualError(t, pe, `taskmon: task "quitter" called runtime.Goexit`)
	require.Equal(t, []TaskError{{Name: "quitter", Err: pe, Outcome: OutcomeExited}}, rec.get())
	require.Equal(t, Stats{Failed: 1}, m.Stats())

	// A supervised task survives a Goexit of one run.
	runs := 0
	task, err := m.Supervise(context.Background(), Spec{Name: "sup", Backoff: time.Nanosecond, Run: func(context.Context) error {
		runs++
		if runs == 1 {
			runtime.Goexit()
		}
		return nil
	}})
	require.NoError(t, err)
	<-task.Done()
	require.NoError(t, task.Err())
	require.Equal(t, 2, runs)
	require.Equal(t, Stats{Failed: 2, Succeeded: 1, Restarts: 1}, m.Stats())
}

func TestCanceledVersusFailed(t *testing.T) {
	var rec recorder
	m := newMon(Config{OnError: rec.add})
	ctx := context.Background()

	// Its own context canceled: canceled, not reported.
	started := make(chan struct{})
	own := m.Go(ctx, "own", func(ctx context.Context) error {
		close(started)
		<-ctx.Done()
		return fmt.Errorf("stopping: %w", ctx.Err())
	})
	<-started
	own.Cancel()
	<-own.Done()
	require.NoError(t, own.Err())

	// The parent context canceled: canceled too.
	parent, cancel := context.WithCancel(ctx)
	fromParent := m.Go(parent, "parent", func(ctx context.Context) error {
		<-ctx.Done()
		return errBoom // any error counts as the cancellation
	})
	cancel()
	<-fromParent.Done()
	require.NoError(t, fromParent.Err())

	// A context.Canceled from some other context: a failure.
	other, cancelOther := context.WithCancel(ctx)
	cancelOther()
	foreign := m.Go(ctx, "foreign", func(context.Context) error { return other.Err() })
	<-foreign.Done()
	require.ErrorIs(t, foreign.Err(), context.Canceled)

	// nil after cancellation: ok.
	started = make(chan struct{})
	clean := m.Go(ctx, "clean", func(ctx context.Context) error {
		close(started)
		<-ctx.Done()
		return nil
	})
	<-started
	clean.Cancel()
	<-clean.Done()
	require.NoError(t, clean.Err())

	// A panic after cancellation is still a panic.
	started = make(chan struct{})
	late := m.Go(ctx, "late", func(ctx context.Context) error {
		close(started)
		<-ctx.Done()
		panic("on the way out")
	})
	<-started
	late.Cancel()
	<-late.Done()
	var pe *PanicError
	require.ErrorAs(t, late.Err(), &pe)

	require.Equal(t, Stats{Canceled: 2, Failed: 1, Succeeded: 1, Panicked: 1}, m.Stats())
	got := rec.get()
	require.Len(t, got, 2)
	require.Equal(t, "foreign", got[0].Name)
	require.Equal(t, OutcomeFailure, got[0].Outcome)
	require.Equal(t, "late", got[1].Name)
}

func TestTaskContextCanceledWhenTaskEnds(t *testing.T) {
	m := newMon(Config{})
	var taskCtx context.Context
	task := m.Go(context.Background(), "x", func(ctx context.Context) error {
		taskCtx = ctx
		return nil
	})
	<-task.Done()
	require.Error(t, taskCtx.Err(), "resources tied to the task's context are released when it ends")
}

func TestCallbacks(t *testing.T) {
	t.Run("order and both called", func(t *testing.T) {
		var mu sync.Mutex
		var order []string
		note := func(s string) func(TaskError) {
			return func(te TaskError) {
				mu.Lock()
				order = append(order, s+":"+te.Name)
				mu.Unlock()
			}
		}
		m := newMon(Config{OnError: note("monitor")})
		task, err := m.Supervise(context.Background(), Spec{Name: "s", Restart: Never, OnError: note("spec"),
			Run: func(context.Context) error { return errBoom }})
		require.NoError(t, err)
		<-task.Done()
		<-m.Go(context.Background(), "g", func(context.Context) error { return errBoom }).Done()
		mu.Lock()
		defer mu.Unlock()
		require.Equal(t, []string{"spec:s", "monitor:s", "monitor:g"}, order)
	})

	t.Run("panicking callback is contained", func(t *testing.T) {
		var logs logtest.Buffer
		var rec recorder
		m := New(Config{
			Logger: slog.New(slog.NewJSONHandler(&logs, nil)),
			OnError: func(te TaskError) {
				if te.Name == "bad" {
					panic("callback bug")
				}
				rec.add(te)
			},
		})
		task, err := m.Supervise(context.Background(), Spec{Name: "bad", Restart: Never,
			OnError: func(TaskError) { runtime.Goexit() },
			Run:     func(context.Context) error { return errBoom }})
		require.NoError(t, err)
		<-task.Done()
		require.ErrorIs(t, task.Err(), errBoom)

		// The monitor and the other tasks carry on.
		other := m.Go(context.Background(), "good", func(context.Context) error { return errBoom })
		<-other.Done()
		require.Len(t, rec.get(), 1)
		st := m.Stats()
		require.Equal(t, uint64(2), st.CallbackPanics, "the panic and the Goexit")
		require.Equal(t, uint64(2), st.Failed)

		var found bool
		for _, r := range logRecords(t, logs.Bytes()) {
			if r["msg"] == "callback panicked" && r["callback"] == "Config.OnError" {
				found = true
				require.Equal(t, "bad", r["task"])
				require.Equal(t, "callback bug", r["panic"])
				require.Contains(t, r["stack"], "TestCallbacks")
			}
		}
		require.True(t, found, "callback panic logged")
	})

	t.Run("blocking callback delays only its own task", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			release := make(chan struct{})
			m := newMon(Config{OnError: func(te TaskError) {
				if te.Name == "slow" {
					<-release
				}
			}})
			slow := m.Go(context.Background(), "slow", func(context.Context) error { return errBoom })
			supervised, err := m.Supervise(context.Background(), Spec{Name: "sup", Backoff: time.Second,
				MaxRestarts: -1, Run: failTimes(2)})
			require.NoError(t, err)
			fast := m.Go(context.Background(), "fast", func(context.Context) error { return errBoom })

			<-fast.Done()
			<-supervised.Done() // restarted twice meanwhile
			synctest.Wait()
			select {
			case <-slow.Done():
				t.Fatal("the task finished before its callback returned")
			default:
			}
			require.Equal(t, 1, m.Stats().Running)
			require.Len(t, m.Tasks(), 1)
			err = m.Shutdown(canceledCtx()) // returns at once, naming the stuck task
			require.ErrorIs(t, err, ErrNotStopped)
			require.Contains(t, err.Error(), `"slow"`)
			close(release)
			<-slow.Done()
			require.ErrorIs(t, slow.Err(), errBoom)
		})
	})

	t.Run("done closes after the callbacks", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			var returned atomic.Bool
			m := newMon(Config{OnError: func(TaskError) {
				time.Sleep(time.Second) // a slow callback (fake clock)
				returned.Store(true)
			}})
			task := m.Go(context.Background(), "x", func(context.Context) error { return errBoom })
			<-task.Done()
			require.True(t, returned.Load())
			require.Equal(t, uint64(1), m.Stats().Failed)
		})
	})

	t.Run("not called for cancellations", func(t *testing.T) {
		called := false
		m := newMon(Config{OnError: func(TaskError) { called = true }})
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		task := m.Go(ctx, "x", func(ctx context.Context) error { return ctx.Err() })
		<-task.Done()
		require.False(t, called)
		require.Equal(t, Stats{Canceled: 1}, m.Stats())
	})
}

// canceledCtx returns a context that is already done.
func canceledCtx() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}

// failTimes returns a Run function that fails n times and then succeeds.
func failTimes(n int) func(context.Context) error {
	var calls atomic.Int32
	return func(context.Context) error {
		if int(calls.Add(1)) <= n {
			return errBoom
		}
		return nil
	}
}

func TestManyTasks(t *testing.T) {
	var rec recorder
	m := newMon(Config{OnError: rec.add})
	const perKind = 250
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Go(func() {
			for i := 0; i < perKind; i++ {
				switch g {
				case 0:
					m.Go(context.Background(), "ok", func(context.Context) error { return nil })
				case 1:
					m.Go(context.Background(), "fail", func(context.Context) error { return errBoom })
				case 2:
					m.Go(context.Background(), "panic", func(context.Context) error { panic(errBoom) })
				case 3:
					_, err := m.Supervise(context.Background(), Spec{Name: "sup", Backoff: time.Nanosecond,
						Run: failTimes(1)})
					if err != nil {
						panic(err)
					}
				}
				if i%50 == 0 {
					_ = m.Tasks()
					_ = m.Stats()
				}
			}
		})
	}
	wg.Wait()
	m.Wait()
	require.Equal(t, Stats{
		Succeeded: 2 * perKind,
		Failed:    2 * perKind,
		Panicked:  perKind,
		Restarts:  perKind,
	}, m.Stats())
	require.Len(t, rec.get(), 3*perKind)
	require.Empty(t, m.Tasks())
}

// ceilingJitter makes restarts wait the longest delay allowed, so that
// tests can check the schedule exactly.
func ceilingJitter(base, max time.Duration, attempt int) time.Duration {
	return backoff.Ceiling(base, max, attempt)
}

func TestRestartBackoffWithinJitterWindow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := newMon(Config{})
		const fails = 8
		var starts []time.Time
		task, err := m.Supervise(context.Background(), Spec{
			Name: "flaky", Backoff: time.Second, MaxBackoff: 16 * time.Second, MaxRestarts: -1,
			Run: func(context.Context) error {
				starts = append(starts, time.Now())
				if len(starts) <= fails {
					return errBoom
				}
				return nil
			},
		})
		require.NoError(t, err)
		<-task.Done()
		require.NoError(t, task.Err())
		require.Len(t, starts, fails+1)
		var total time.Duration
		for i := 1; i < len(starts); i++ {
			gap := starts[i].Sub(starts[i-1]) // runs take no fake time
			ceiling := backoff.Ceiling(time.Second, 16*time.Second, i-1)
			require.GreaterOrEqual(t, gap, time.Duration(0))
			require.LessOrEqual(t, gap, ceiling, "restart %d waited %v, above its ceiling %v", i, gap, ceiling)
			total += gap
		}
		require.Positive(t, total, "the delays are drawn, not zero")
		require.Equal(t, Stats{Failed: fails, Succeeded: 1, Restarts: fails}, m.Stats())
	})
}

func TestRestartBackoffSchedule(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := newMon(Config{})
		m.jitter = ceilingJitter
		t0 := time.Now()
		var offsets []time.Duration
		run := 0
		task, err := m.Supervise(context.Background(), Spec{
			Name: "flaky", Backoff: time.Second, MaxBackoff: 5 * time.Second, Healthy: 30 * time.Second,
			MaxRestarts: -1,
			Run: func(ctx context.Context) error {
				run++
				offsets = append(offsets, time.Since(t0))
				switch run {
				case 5:
					time.Sleep(30 * time.Second) // a healthy run
					return errBoom
				case 7:
					return nil
				}
				return errBoom
			},
		})
		require.NoError(t, err)
		<-task.Done()
		s := time.Second
		// Delays 1s, 2s, 4s, 5s (capped); run 5 is healthy (30s), so the next
		// delay starts over at 1s, then 2s.
		require.Equal(t, []time.Duration{0, 1 * s, 3 * s, 7 * s, 12 * s, 43 * s, 45 * s}, offsets)
	})
}

func TestRestartIntensityGivesUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		reg := prometheus.NewRegistry()
		var rec recorder
		var logs logtest.Buffer
		m := New(Config{Name: "im", Registerer: reg, OnError: rec.add,
			Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
		runs := 0
		task, err := m.Supervise(context.Background(), Spec{
			Name: "doomed", Backoff: time.Second, MaxRestarts: 3, Period: time.Minute,
			Run: func(context.Context) error { runs++; return errBoom },
		})
		require.NoError(t, err)
		<-task.Done()
		require.Equal(t, 4, runs, "the first run and 3 restarts")
		require.ErrorIs(t, task.Err(), ErrGaveUp)
		require.ErrorIs(t, task.Err(), errBoom)
		require.Equal(t, Stats{Failed: 4, Restarts: 3, GaveUp: 1}, m.Stats())

		got := rec.get()
		require.Len(t, got, 4)
		for _, te := range got[:3] {
			require.NotErrorIs(t, te.Err, ErrGaveUp)
		}
		require.ErrorIs(t, got[3].Err, ErrGaveUp)
		require.Equal(t, OutcomeFailure, got[3].Outcome)

		v, err := metrictest.Value(reg, "steadfast_taskmon_give_ups_total", metrictest.Labels{"name": "im"})
		require.NoError(t, err)
		require.Equal(t, 1.0, v)

		var gaveUp bool
		for _, r := range logRecords(t, logs.Bytes()) {
			if r["msg"] == "gave up on task" {
				gaveUp = true
				require.Equal(t, "doomed", r["task"])
			}
		}
		require.True(t, gaveUp)
	})
}

func TestGiveUpAfterSuccessfulRuns(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var rec recorder
		m := newMon(Config{OnError: rec.add})
		task, err := m.Supervise(context.Background(), Spec{Name: "eager", Restart: Always, MaxRestarts: 1,
			Run: func(context.Context) error { return nil }})
		require.NoError(t, err)
		<-task.Done()
		require.ErrorIs(t, task.Err(), ErrGaveUp)
		got := rec.get()
		require.Len(t, got, 1, "only the give-up is reported")
		require.Equal(t, OutcomeSuccess, got[0].Outcome)
		require.EqualError(t, got[0], `taskmon: gave up restarting: task "eager" restarted 1 times within 1m0s; last run succeeded`)
		require.Equal(t, Stats{Succeeded: 2, Restarts: 1, GaveUp: 1}, m.Stats())
	})
}

func TestRestartIntensityWindowSlides(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := newMon(Config{})
		runs := 0
		// Each run lasts 6s: at most 2 restarts ever fall within 10s, so
		// MaxRestarts 2 is never exceeded.
		task, err := m.Supervise(context.Background(), Spec{
			Name: "slow-flaky", Backoff: time.Millisecond, MaxRestarts: 2, Period: 10 * time.Second,
			Run: func(context.Context) error {
				runs++
				time.Sleep(6 * time.Second)
				if runs < 8 {
					return errBoom
				}
				return nil
			},
		})
		require.NoError(t, err)
		<-task.Done()
		require.NoError(t, task.Err())
		require.Equal(t, 8, runs)
		require.Zero(t, m.Stats().GaveUp)

		// The same spec with runs of 1s gives up.
		runs = 0
		task, err = m.Supervise(context.Background(), Spec{
			Name: "fast-flaky", Backoff: time.Millisecond, MaxRestarts: 2, Period: 10 * time.Second,
			Run: func(context.Context) error { runs++; time.Sleep(time.Second); return errBoom },
		})
		require.NoError(t, err)
		<-task.Done()
		require.ErrorIs(t, task.Err(), ErrGaveUp)
		require.Equal(t, 3, runs)
	})
}

func TestFlappingTaskDoesNotDelaySibling(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := newMon(Config{})
		release := make(chan struct{})
		var flaps atomic.Int32
		flapper, err := m.Supervise(context.Background(), Spec{
			Name: "flapper", Backoff: time.Millisecond, MaxBackoff: time.Millisecond, MaxRestarts: -1,
			Run: func(context.Context) error { flaps.Add(1); return errBoom },
			OnError: func(TaskError) {
				if flaps.Load() >= 20 {
					<-release // stuck in its callback from then on
				}
			},
		})
		require.NoError(t, err)

		time.Sleep(50 * time.Millisecond) // the flapper is stuck by now
		synctest.Wait()
		require.EqualValues(t, 20, flaps.Load())

		var starts []time.Time
		sibling, err := m.Supervise(context.Background(), Spec{
			Name: "sibling", Backoff: 100 * time.Millisecond, MaxBackoff: 100 * time.Millisecond,
			Run: func(context.Context) error {
				starts = append(starts, time.Now())
				if len(starts) == 1 {
					return errBoom
				}
				return nil
			},
		})
		require.NoError(t, err)
		<-sibling.Done()
		require.Len(t, starts, 2)
		require.LessOrEqual(t, starts[1].Sub(starts[0]), 100*time.Millisecond)

		flapper.Cancel()
		close(release)
		<-flapper.Done()
		require.NoError(t, flapper.Err(), "canceled")
	})
}

func TestRestartPolicies(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := newMon(Config{})
		ctx := context.Background()

		// Never: one run, failure kept.
		runs := 0
		task, err := m.Supervise(ctx, Spec{Name: "never", Restart: Never,
			Run: func(context.Context) error { runs++; return errBoom }})
		require.NoError(t, err)
		<-task.Done()
		require.Equal(t, 1, runs)
		require.ErrorIs(t, task.Err(), errBoom)

		// OnFailure (the default): restarted until it succeeds.
		task, err = m.Supervise(ctx, Spec{Name: "onfailure", Run: failTimes(3)})
		require.NoError(t, err)
		<-task.Done()
		require.NoError(t, task.Err())

		// Always: restarted after successes too, until canceled.
		runs = 0
		done3 := make(chan struct{})
		task, err = m.Supervise(ctx, Spec{Name: "always", Restart: Always, MaxRestarts: -1,
			Run: func(ctx context.Context) error {
				runs++
				if runs == 3 {
					close(done3)
					<-ctx.Done()
					return ctx.Err()
				}
				return nil
			}})
		require.NoError(t, err)
		<-done3
		require.Len(t, m.Tasks(), 1)
		require.Equal(t, 2, m.Tasks()[0].Restarts)
		task.Cancel()
		<-task.Done()
		require.NoError(t, task.Err())
		require.Equal(t, 3, runs)

		require.Equal(t, Stats{Failed: 4, Succeeded: 3, Canceled: 1, Restarts: 5}, m.Stats())
	})
}

func TestCanceledWhileWaitingToRestart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := newMon(Config{})
		task, err := m.Supervise(context.Background(), Spec{Name: "x", Backoff: time.Hour,
			Run: func(context.Context) error { return errBoom }})
		require.NoError(t, err)
		synctest.Wait() // failed once, now waiting up to an hour
		require.Equal(t, []TaskInfo{{ID: 1, Name: "x", Supervised: true, Started: time.Now(), LastErr: errBoom}},
			normalize(t, m.Tasks(), time.Now()))
		start := time.Now()
		task.Cancel()
		<-task.Done()
		require.Zero(t, time.Since(start))
		require.NoError(t, task.Err())
		require.Equal(t, Stats{Failed: 1}, m.Stats())
	})
}

func TestShutdown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var rec recorder
		m := newMon(Config{OnError: rec.add})
		ctx := context.Background()

		var causes sync.Map
		cooperative := func(name string) func(context.Context) error {
			return func(ctx context.Context) error {
				<-ctx.Done()
				causes.Store(name, context.Cause(ctx))
				return ctx.Err()
			}
		}
		m.Go(ctx, "worker", cooperative("worker"))
		_, err := m.Supervise(ctx, Spec{Name: "loop", Restart: Always, Run: cooperative("loop")})
		require.NoError(t, err)
		m.Go(ctx, "messy", func(ctx context.Context) error {
			<-ctx.Done()
			panic("cleanup failed")
		})
		release := make(chan struct{})
		m.Go(ctx, "stubborn", func(context.Context) error {
			<-release // ignores its context
			return nil
		})
		<-m.Go(ctx, "finished-before", func(context.Context) error { return errBoom }).Done()
		synctest.Wait()

		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		start := time.Now()
		err = m.Shutdown(sctx)
		require.Equal(t, 5*time.Second, time.Since(start), "Shutdown returns at its deadline")
		require.ErrorIs(t, err, ErrNotStopped)
		require.ErrorIs(t, err, context.DeadlineExceeded)
		require.Contains(t, err.Error(), `"stubborn"`)
		require.Contains(t, err.Error(), `task "messy" panicked: cleanup failed`)
		require.NotContains(t, err.Error(), "worker")
		require.NotContains(t, err.Error(), "finished-before", "it ended before Shutdown")
		var pe *PanicError
		require.ErrorAs(t, err, &pe)

		for _, name := range []string{"worker", "loop"} {
			cause, _ := causes.Load(name)
			require.Equal(t, ErrShutdown, cause, name)
		}

		// Go and Supervise after Shutdown.
		late := m.Go(ctx, "late", func(context.Context) error { t.Error("ran after Shutdown"); return nil })
		<-late.Done()
		require.ErrorIs(t, late.Err(), ErrClosed)
		lateSup, err := m.Supervise(ctx, Spec{Name: "late-sup", Run: func(context.Context) error { return nil }})
		require.NoError(t, err)
		<-lateSup.Done()
		require.ErrorIs(t, lateSup.Err(), ErrClosed)
		require.Equal(t, uint64(2), m.Stats().Rejected)

		// Idempotent: the stubborn task has stopped now; the panic is still
		// reported, by every call.
		close(release)
		for range 2 {
			err = m.Shutdown(ctx)
			require.ErrorAs(t, err, &pe)
			require.NotErrorIs(t, err, ErrNotStopped)
		}
		require.Equal(t, Stats{Succeeded: 1, Failed: 1, Panicked: 1, Canceled: 2, Rejected: 2}, m.Stats())
		require.Len(t, rec.get(), 2, "finished-before and messy")
	})
}

func TestShutdownConcurrentWithGo(t *testing.T) {
	m := newMon(Config{})
	var ran, closed atomic.Int32
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 200 {
				task := m.Go(context.Background(), "x", func(ctx context.Context) error {
					ran.Add(1)
					<-ctx.Done()
					return ctx.Err()
				})
				if errors.Is(task.Err(), ErrClosed) {
					closed.Add(1)
				}
			}
		})
	}
	require.NoError(t, m.Shutdown(context.Background()))
	wg.Wait()
	m.Wait()
	st := m.Stats()
	require.Equal(t, 800, int(ran.Load()+closed.Load()))
	require.Equal(t, uint64(ran.Load()), st.Canceled)
	require.Equal(t, uint64(closed.Load()), st.Rejected)
	require.Zero(t, st.Running)
}

func TestWaitOnlyTasksStartedSoFar(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := newMon(Config{})
		first := make(chan struct{})
		m.Go(context.Background(), "first", func(context.Context) error { <-first; return nil })
		waited := make(chan struct{})
		go func() {
			m.Wait()
			close(waited)
		}()
		synctest.Wait()
		second := make(chan struct{})
		later := m.Go(context.Background(), "second", func(context.Context) error { <-second; return nil })
		close(first)
		<-waited // returns although "second" still runs
		require.Equal(t, 1, m.Stats().Running)
		close(second)
		<-later.Done()
	})
}

func TestTasks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := newMon(Config{})
		block := make(chan struct{})
		t0 := time.Now()
		m.Go(context.Background(), "a", func(context.Context) error { <-block; return nil })
		time.Sleep(time.Second)
		m.Go(context.Background(), "a", func(context.Context) error { <-block; return nil })
		_, err := m.Supervise(context.Background(), Spec{Name: "s", Backoff: time.Second,
			Run: func(context.Context) error { return errBoom }})
		require.NoError(t, err)
		time.Sleep(2500 * time.Millisecond) // first run and at least one restart
		synctest.Wait()
		infos := normalize(t, m.Tasks(), t0, t0.Add(time.Second), t0.Add(time.Second))
		require.Len(t, infos, 3)
		require.Equal(t, TaskInfo{ID: 1, Name: "a", Started: t0}, infos[0])
		require.Equal(t, TaskInfo{ID: 2, Name: "a", Started: t0}, infos[1])
		require.Equal(t, uint64(3), infos[2].ID)
		require.True(t, infos[2].Supervised)
		require.Positive(t, infos[2].Restarts)
		require.ErrorIs(t, infos[2].LastErr, errBoom)
		require.Equal(t, 3, m.Stats().Running)

		close(block)
		require.NoError(t, m.Shutdown(context.Background()), "the supervised task is canceled while waiting or running")
		require.Empty(t, m.Tasks())
	})
}

// normalize checks that infos[i].Started equals started[i] and replaces it
// with started[0], so that whole TaskInfos compare with require.Equal.
func normalize(t *testing.T, infos []TaskInfo, started ...time.Time) []TaskInfo {
	t.Helper()
	require.Len(t, infos, len(started))
	for i := range infos {
		require.True(t, infos[i].Started.Equal(started[i]), "task %d started %v, want %v", i, infos[i].Started, started[i])
		infos[i].Started = started[0]
	}
	return infos
}

func TestSpecValidation(t *testing.T) {
	m := newMon(Config{})
	run := func(context.Context) error { return nil }
	cases := []struct {
		spec  Spec
		field string
	}{
		{Spec{}, "Spec.Run"},
		{Spec{Run: run, Restart: Never + 1}, "Spec.Restart"},
		{Spec{Run: run, Backoff: -1}, "Spec.Backoff"},
		{Spec{Run: run, MaxBackoff: -1}, "Spec.MaxBackoff"},
		{Spec{Run: run, Backoff: time.Second, MaxBackoff: time.Millisecond}, "Spec.MaxBackoff"},
		{Spec{Run: run, Healthy: -1}, "Spec.Healthy"},
		{Spec{Run: run, Period: -1}, "Spec.Period"},
	}
	for _, c := range cases {
		task, err := m.Supervise(context.Background(), c.spec)
		require.Nil(t, task)
		require.ErrorContains(t, err, c.field)
		require.True(t, strings.HasPrefix(err.Error(), "taskmon: "), err.Error())
		require.Equal(t, err, c.spec.Validate(), "Validate says what Supervise says")
	}
	require.NoError(t, Spec{Run: run}.Validate())
	var nilCtx context.Context
	_, err := m.Supervise(nilCtx, Spec{Run: run})
	require.ErrorContains(t, err, "nil Context")
	require.Equal(t, Stats{}, m.Stats())

	// Defaults.
	s, err := Spec{Run: run}.validate()
	require.NoError(t, err)
	require.Equal(t, OnFailure, s.Restart)
	require.Equal(t, DefaultBackoff, s.Backoff)
	require.Equal(t, DefaultMaxBackoff, s.MaxBackoff)
	require.Equal(t, DefaultHealthy, s.Healthy)
	require.Equal(t, DefaultMaxRestarts, s.MaxRestarts)
	require.Equal(t, DefaultPeriod, s.Period)
	// A default yields to the field the user set.
	s, err = Spec{Run: run, Backoff: time.Hour}.validate()
	require.NoError(t, err)
	require.Equal(t, time.Hour, s.MaxBackoff)
	s, err = Spec{Run: run, MaxBackoff: 50 * time.Millisecond}.validate()
	require.NoError(t, err)
	require.Equal(t, 50*time.Millisecond, s.Backoff, "the default Backoff shrinks to MaxBackoff")
	require.Equal(t, 50*time.Millisecond, s.MaxBackoff)
	s, err = Spec{Run: run, MaxBackoff: time.Hour}.validate()
	require.NoError(t, err)
	require.Equal(t, DefaultBackoff, s.Backoff)
	// A negative MaxRestarts means no limit.
	s, err = Spec{Run: run, MaxRestarts: -1}.validate()
	require.NoError(t, err)
	require.Equal(t, -1, s.MaxRestarts)
}

func TestGoBadArguments(t *testing.T) {
	m := newMon(Config{})
	var nilCtx context.Context
	task := m.Go(nilCtx, "x", func(context.Context) error { return nil })
	<-task.Done()
	require.ErrorContains(t, task.Err(), "nil Context")
	task = m.Go(context.Background(), "y", nil)
	<-task.Done()
	require.ErrorContains(t, task.Err(), "nil function")
	task.Cancel() // harmless
	require.Equal(t, Stats{Rejected: 2}, m.Stats())
	require.ErrorContains(t, m.Shutdown(nilCtx), "nil Context")
}

func TestMetrics(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		reg := prometheus.NewRegistry()
		m := New(Config{Name: "met", Registerer: reg, Logger: quiet(),
			OnError: func(te TaskError) {
				if te.Outcome == OutcomePanic {
					panic("callback")
				}
			}})
		ctx := context.Background()
		<-m.Go(ctx, "ok", func(context.Context) error { time.Sleep(2 * time.Second); return nil }).Done()
		<-m.Go(ctx, "fail", func(context.Context) error { return errBoom }).Done()
		<-m.Go(ctx, "panic", func(context.Context) error { panic(1) }).Done()
		<-m.Go(ctx, "exit", func(context.Context) error { runtime.Goexit(); return nil }).Done()
		<-m.Go(canceledCtx(), "cancel", func(ctx context.Context) error { return ctx.Err() }).Done()
		sup, err := m.Supervise(ctx, Spec{Name: "sup", Backoff: time.Millisecond, MaxRestarts: 2,
			Run: func(context.Context) error { return errBoom }})
		require.NoError(t, err)
		<-sup.Done()
		block := make(chan struct{})
		running := m.Go(ctx, "running", func(context.Context) error { <-block; return nil })

		val := func(name string, ls metrictest.Labels) float64 {
			t.Helper()
			if ls == nil {
				ls = metrictest.Labels{}
			}
			ls["name"] = "met"
			v, err := metrictest.Value(reg, "steadfast_taskmon_"+name, ls)
			require.NoError(t, err)
			return v
		}
		require.Equal(t, 1.0, val("tasks_running", nil))
		require.Equal(t, 1.0, val("task_exits_total", metrictest.Labels{"result": "success"}))
		require.Equal(t, 4.0, val("task_exits_total", metrictest.Labels{"result": "failure"}))
		require.Equal(t, 1.0, val("task_exits_total", metrictest.Labels{"result": "panic"}))
		require.Equal(t, 1.0, val("task_exits_total", metrictest.Labels{"result": "exited"}))
		require.Equal(t, 1.0, val("task_exits_total", metrictest.Labels{"result": "canceled"}))
		require.Equal(t, 2.0, val("restarts_total", nil))
		require.Equal(t, 1.0, val("give_ups_total", nil))
		require.Equal(t, 1.0, val("callback_panics_total", nil))
		require.Equal(t, 4.0, val("task_run_duration_seconds", metrictest.Labels{"result": "failure"}), "histogram sample count")
		<-m.Go(ctx, "rejected", nil).Done()
		require.Equal(t, 1.0, val("rejected_total", nil))

		mfs, err := reg.Gather()
		require.NoError(t, err)
		for _, mf := range mfs {
			if mf.GetName() == "steadfast_taskmon_task_run_duration_seconds" {
				for _, mm := range mf.GetMetric() {
					for _, lp := range mm.GetLabel() {
						if lp.GetValue() == "success" {
							require.Equal(t, 2.0, mm.GetHistogram().GetSampleSum(), "fake-clock duration of the ok run")
						}
					}
				}
			}
			for _, mm := range mf.GetMetric() {
				for _, lp := range mm.GetLabel() {
					require.NotEqual(t, "task", lp.GetName(), "no per-task labels by default")
				}
			}
		}

		// A second monitor with the same Name shares the series; another
		// Name gets its own.
		m2 := New(Config{Name: "met", Registerer: reg, Logger: quiet()})
		<-m2.Go(ctx, "ok", func(context.Context) error { return nil }).Done()
		require.Equal(t, 2.0, val("task_exits_total", metrictest.Labels{"result": "success"}))
		m3 := New(Config{Name: "other", Registerer: reg, Logger: quiet()})
		<-m3.Go(ctx, "ok", func(context.Context) error { return nil }).Done()
		v, err := metrictest.Value(reg, "steadfast_taskmon_task_exits_total", metrictest.Labels{"name": "other", "result": "success"})
		require.NoError(t, err)
		require.Equal(t, 1.0, v)

		close(block)
		<-running.Done()
		require.Equal(t, 0.0, val("tasks_running", nil))
	})
}

func TestMetricsTaskLabel(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := New(Config{Name: "tl", Registerer: reg, Logger: quiet(), TaskLabel: true})
	<-m.Go(context.Background(), "alpha", func(context.Context) error { return errBoom }).Done()
	<-m.Go(context.Background(), "beta", func(context.Context) error { return nil }).Done()
	sup, err := m.Supervise(context.Background(), Spec{Name: "gamma", Backoff: time.Nanosecond, Run: failTimes(1)})
	require.NoError(t, err)
	<-sup.Done()
	for _, c := range []struct {
		metric string
		labels metrictest.Labels
		want   float64
	}{
		{"task_exits_total", metrictest.Labels{"task": "alpha", "result": "failure"}, 1},
		{"task_exits_total", metrictest.Labels{"task": "beta", "result": "success"}, 1},
		{"task_exits_total", metrictest.Labels{"task": "gamma", "result": "success"}, 1},
		{"restarts_total", metrictest.Labels{"task": "gamma"}, 1},
		{"tasks_running", metrictest.Labels{"task": "alpha"}, 0},
		{"task_run_duration_seconds", metrictest.Labels{"task": "gamma", "result": "failure"}, 1},
	} {
		c.labels["name"] = "tl"
		v, err := metrictest.Value(reg, "steadfast_taskmon_"+c.metric, c.labels)
		require.NoError(t, err, c.metric)
		require.Equal(t, c.want, v, "%s%v", c.metric, c.labels)
	}
}

func TestMetricsRegistrationConflictIsLogged(t *testing.T) {
	reg := prometheus.NewRegistry()
	// Same fully-qualified name, different label names: a conflict.
	reg.MustRegister(prometheus.NewCounter(prometheus.CounterOpts{Name: "steadfast_taskmon_restarts_total",
		ConstLabels: prometheus.Labels{"name": "c"}}))
	var logs logtest.Buffer
	m := New(Config{Name: "c", Registerer: reg, Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	<-m.Go(context.Background(), "x", func(context.Context) error { return nil }).Done()
	require.Contains(t, logs.String(), `taskmon: cannot register metrics for name \"c\"`, "promreg.Register's words")
	require.Contains(t, logs.String(), `"msg":"metric not exported"`)
	require.Equal(t, uint64(1), m.Stats().Succeeded, "the monitor works without that metric")
}

func TestLogging(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var logs logtest.Buffer
		m := New(Config{Name: "lg", Logger: slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
		<-m.Go(context.Background(), "good", func(context.Context) error { return nil }).Done()
		<-m.Go(context.Background(), "bad", func(context.Context) error { return errBoom }).Done()
		sup, err := m.Supervise(context.Background(), Spec{Name: "sup", Backoff: time.Second, Run: failTimes(1)})
		require.NoError(t, err)
		<-sup.Done()
		require.NoError(t, m.Shutdown(context.Background()))
		<-m.Go(context.Background(), "late", func(context.Context) error { return nil }).Done()

		type line struct{ level, msg, task, result, err string }
		var got []line
		for _, r := range logRecords(t, logs.Bytes()) {
			require.Equal(t, "lg", r["name"])
			require.Equal(t, "taskmon", r["component"])
			result, _ := r["result"].(string)
			errMsg, _ := r["error"].(string)
			got = append(got, line{r["level"].(string), r["msg"].(string), r["task"].(string), result, errMsg})
		}
		require.Equal(t, []line{
			{"DEBUG", "task ended", "good", "success", ""}, // no error=<nil>
			{"ERROR", "task failed", "bad", "failure", "boom"},
			{"ERROR", "task failed", "sup", "failure", "boom"},
			{"INFO", "restarting task", "sup", "failure", ""},
			{"DEBUG", "task ended", "sup", "success", ""},
			{"WARN", "task refused", "late", "", "taskmon: monitor closed"},
		}, got)
		for _, r := range logRecords(t, logs.Bytes()) {
			if r["result"] == "success" {
				require.NotContains(t, r, "error", "a successful run is logged without an error")
			}
		}
	})
}

// With no Config.Logger, the monitor looks slog.Default() up when it logs,
// so a slog.SetDefault after New is honoured, with its level.
func TestLoggerLookedUpWhenLogging(t *testing.T) {
	m := New(Config{Name: "late"})
	var logs logtest.Buffer
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn})))
	defer slog.SetDefault(old)
	require.NoError(t, m.Go(context.Background(), "ok", func(context.Context) error { return nil }).Wait())
	require.Error(t, m.Go(context.Background(), "bad", func(context.Context) error { return errBoom }).Wait())
	recs := logRecords(t, logs.Bytes())
	require.Len(t, recs, 1, "the Debug record of the ok run is below the level")
	require.Equal(t, "task failed", recs[0]["msg"])
	require.Equal(t, "late", recs[0]["name"])
}

func TestZeroMonitor(t *testing.T) {
	var m Monitor
	before := time.Now()
	block := make(chan struct{})
	m.Go(context.Background(), "blocked", func(context.Context) error { <-block; return nil })
	infos := m.Tasks()
	require.Len(t, infos, 1)
	require.WithinRange(t, infos[0].Started, before.Add(-time.Millisecond), time.Now().Add(time.Millisecond))
	close(block)
	sup, err := m.Supervise(context.Background(), Spec{Name: "sup", Backoff: time.Nanosecond, Run: failTimes(1),
		OnError: func(TaskError) {}})
	require.NoError(t, err)
	<-sup.Done()
	require.NoError(t, sup.Err())
	require.NoError(t, m.Shutdown(context.Background()))
	late := m.Go(context.Background(), "late", func(context.Context) error { return nil })
	<-late.Done()
	require.ErrorIs(t, late.Err(), ErrClosed)
	require.Equal(t, Stats{Succeeded: 2, Failed: 1, Restarts: 1, Rejected: 1}, m.Stats())
}

func TestOutcomeAndPolicyStrings(t *testing.T) {
	require.Equal(t, "success canceled failure panic exited Outcome(9)",
		fmt.Sprint(OutcomeSuccess, OutcomeCanceled, OutcomeFailure, OutcomePanic, OutcomeExited, Outcome(9)))
	require.Equal(t, "on-failure always never Policy(7)", fmt.Sprint(OnFailure, Always, Never, Policy(7)))
}

// Outcome and Policy marshal as their words and parse them back; unknown
// values and words are errors.
func TestOutcomeAndPolicyText(t *testing.T) {
	textRoundTrip(t, OutcomeSuccess, OutcomeCanceled, OutcomeFailure, OutcomePanic, OutcomeExited)
	textRoundTrip(t, OnFailure, Always, Never)
	_, err := Outcome(9).MarshalText()
	require.Error(t, err)
	_, err = Policy(7).MarshalText()
	require.Error(t, err)
	var o Outcome
	require.ErrorContains(t, o.UnmarshalText([]byte("cancelled")), `taskmon: unknown Outcome "cancelled"`)
	var p Policy
	require.ErrorContains(t, p.UnmarshalText([]byte("sometimes")), `taskmon: unknown Policy "sometimes"`)

	var spec struct{ Restart Policy }
	require.NoError(t, json.Unmarshal([]byte(`{"Restart":"always"}`), &spec))
	require.Equal(t, Always, spec.Restart)
}

// textRoundTrip checks that each value marshals as its String and parses
// back to itself.
func textRoundTrip[T interface {
	comparable
	fmt.Stringer
	encoding.TextMarshaler
}, P interface {
	*T
	encoding.TextUnmarshaler
}](t *testing.T, vals ...T) {
	for _, v := range vals {
		b, err := v.MarshalText()
		require.NoError(t, err)
		require.Equal(t, v.String(), string(b))
		var back T
		require.NoError(t, P(&back).UnmarshalText(b))
		require.Equal(t, v, back)
	}
}

// Stats, TaskInfo, TaskError and PanicError marshal to JSON with words for
// enums and messages for errors, never {}.
func TestJSON(t *testing.T) {
	marshal := func(v any) string {
		b, err := json.Marshal(v)
		require.NoError(t, err)
		return string(b)
	}
	require.JSONEq(t, `{"name":"db","error":"boom","outcome":"failure"}`,
		marshal(TaskError{Name: "db", Err: errBoom, Outcome: OutcomeFailure}))
	require.JSONEq(t, `{"name":"db","error":null,"outcome":"canceled"}`,
		marshal(TaskError{Name: "db", Outcome: OutcomeCanceled}))
	require.JSONEq(t, `{"task":"p","value":"unexpected EOF","stack":"main.f()"}`,
		marshal(&PanicError{Task: "p", Value: io.ErrUnexpectedEOF, Stack: []byte("main.f()")}))
	started := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	require.JSONEq(t, `{"id":3,"name":"feed","supervised":true,"started":"2026-01-02T03:04:05Z","restarts":2,"last_error":"boom"}`,
		marshal(TaskInfo{ID: 3, Name: "feed", Supervised: true, Started: started, Restarts: 2, LastErr: errBoom}))
	require.Contains(t, marshal(TaskInfo{}), `"last_error":null`)
	require.JSONEq(t, `{"running":1,"succeeded":2,"failed":3,"panicked":4,"canceled":5,"restarts":6,"gave_up":7,"rejected":8,"callback_panics":9}`,
		marshal(Stats{1, 2, 3, 4, 5, 6, 7, 8, 9}))

	// A task's error, as the callbacks see it, with a panic inside.
	var rec recorder
	m := newMon(Config{OnError: rec.add})
	require.Error(t, m.Go(context.Background(), "p", func(context.Context) error { panic("bug") }).Wait())
	require.Contains(t, marshal(rec.get()[0]), `"error":"taskmon: task \"p\" panicked: bug"`)
}

// Task.Err reports the error only once Done is closed, as a context's Err
// does: a caller that sees the error may rely on Done being closed.
func TestTaskErrOnlyOnceDone(t *testing.T) {
	m := newMon(Config{})
	early := 0
	for range 2000 {
		task := m.Go(context.Background(), "fails", func(context.Context) error { return errBoom })
		done := task.Done() // made before the task ends, closed when it does
		for task.Err() == nil {
			runtime.Gosched()
		}
		select {
		case <-done:
		default:
			early++
		}
		<-done
	}
	require.Zero(t, early, "Err returned the error while Done was still open")
}

package ticker_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/steadfast-go/steadfast/breaker"
	"github.com/steadfast-go/steadfast/internal/logtest"
	"github.com/steadfast-go/steadfast/internal/metrictest"
	"github.com/steadfast-go/steadfast/reloader"
	"github.com/steadfast-go/steadfast/taskmon"
	"github.com/steadfast-go/steadfast/ticker"
)

// Regression tests, one per defect a review reproduced in the engine. Each
// failed before its fix.

// returned reports whether Run has returned, and its error.
func (h *harness) returned() (error, bool) {
	select {
	case err := <-h.done:
		h.done <- err // keep it for finish
		return err, true
	default:
		return nil, false
	}
}

// TestEngineRunWaitsForASourceThatIgnoresItsContext: Run returns only once
// the Source has returned, however late, and says meanwhile which part did
// not stop.
func TestEngineRunWaitsForASourceThatIgnoresItsContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var logs logtest.Buffer
		release := make(chan struct{})
		h := newHarness(t, instruments(1), func(c *ticker.Config) {
			c.ShutdownTimeout = time.Second
			c.Logger = slog.New(slog.NewTextHandler(&logs, nil))
		})
		h.src.fail = func(int32) error {
			<-release // ignores its context
			return nil
		}
		h.start()
		h.src.send(tk(1000, 1))
		h.stop()
		time.Sleep(time.Minute)
		synctest.Wait()
		_, ok := h.returned()
		require.False(t, ok, "Run returned while the source still runs")
		require.Contains(t, logs.String(), `task=source`, "the record names what did not stop")
		require.Contains(t, logs.String(), "did not stop")
		h.src.send(tk(1000, 2)) // after the final flush: a shutdown drop
		close(release)
		require.NoError(t, <-h.done)
		s := h.eng.Stats()
		require.Equal(t, uint64(1), s.Published)
		require.Equal(t, uint64(1), s.Dropped.Shutdown)
		h.checkIdentity()
	})
}

// TestEngineDescriptionChangeKeepsTicksAndCatchUp: a reload that changes
// only the description of a subscribed instrument (a lot size revision)
// keeps its newest tick, its pending tick and the catch-up it is owed.
func TestEngineDescriptionChangeKeepsTicksAndCatchUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		list := instruments(2)
		h := newHarness(t, list, func(c *ticker.Config) {
			c.Breaker = breaker.Config{FailureThreshold: 1, OpenTimeout: 10 * time.Second}
			c.Reload = reloader.Config{Debounce: -1, MinInterval: -1}
		})
		h.start()
		h.pub.failing.Store(true)
		h.src.send(tk(1000, 1)) // fails: the breaker opens, 1000 is owed a catch-up
		settle()
		h.src.send(tk(1001, 1)) // refused: 1001 is owed one too
		settle()
		h.src.send(tk(1000, 2)) // waits in its slot: the loop waits a probe interval
		synctest.Wait()
		s := h.eng.Stats()
		require.Equal(t, uint64(1), s.Dropped.PublishFailed)
		require.Equal(t, uint64(1), s.Dropped.CircuitOpen)
		require.Equal(t, uint64(1), s.Pending)

		revised := instruments(2)
		for i := range revised {
			revised[i].LotSize = 65
		}
		h.list.Store(&revised)
		h.eng.Reload()
		synctest.Wait()
		in, ok := h.eng.Instrument(1000)
		require.True(t, ok)
		require.Equal(t, 65, in.LotSize, "the reload applied")
		s = h.eng.Stats()
		require.Zero(t, s.Dropped.Unsubscribed, "nothing counted unsubscribed")
		require.Equal(t, uint64(1), s.Pending, "the pending tick is kept")
		for tok, price := range map[uint32]float64{1000: 2, 1001: 1} {
			lt, ok := h.eng.Latest(tok)
			require.True(t, ok, "Latest of %d kept", tok)
			require.Equal(t, price, lt.LastPrice)
			require.Equal(t, 65, lt.Instrument.LotSize, "with the new description")
		}

		h.pub.failing.Store(false)
		time.Sleep(11 * time.Second) // the breaker half-opens
		settle()
		require.Equal(t, "closed", h.eng.Health().Breaker)
		for tok, price := range map[uint32]float64{1000: 2, 1001: 1} {
			got, ok := h.pub.lastOf(tok)
			require.True(t, ok, "%d published", tok)
			require.Equal(t, price, got.LastPrice, "%d converged", tok)
			require.Equal(t, 65, got.Instrument.LotSize)
		}
		// 1001 ticked once, before the reload: only its catch-up can have
		// published it.
		require.NotZero(t, h.eng.Stats().CatchUp, "1001's catch-up was not forgotten")
		require.NoError(t, h.finish())
	})
}

// TestEngineSourceReturningNilIsAFailure: a Source whose Run returns nil
// before its context ends is a failure: restarted, logged, passed to the
// callbacks and shown in Health.
func TestEngineSourceReturningNilIsAFailure(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var failures atomic.Int32
		h := newHarness(t, instruments(1), func(c *ticker.Config) {
			c.SourceRestart = taskmon.Spec{Backoff: time.Second, MaxBackoff: time.Second,
				OnError: func(te taskmon.TaskError) {
					if errors.Is(te.Err, ticker.ErrSourceReturned) {
						failures.Add(1)
					}
				}}
		})
		h.src.early.Store(2)
		h.start()
		hl := h.eng.Health()
		require.Equal(t, "degraded", hl.Status)
		require.Contains(t, hl.Reasons, "source failed")
		require.Contains(t, hl.SourceError, "returned before its context ended")
		time.Sleep(5 * time.Second)
		synctest.Wait()
		require.Equal(t, int32(3), h.src.runs.Load(), "restarted until it streams")
		require.Equal(t, int32(2), failures.Load())
		require.Equal(t, 2.0, metric(t, h.reg, "steadfast_taskmon_task_exits_total",
			metrictest.Labels{"name": "ticker/tasks", "result": "failure"}))
		h.src.send(tk(1000, 1))
		settle()
		require.Equal(t, uint64(1), h.eng.Stats().Published)
		require.NoError(t, h.finish())
	})
}

// TestEnginePublisherGoexitIsAFailedBatch: a Publisher that calls
// runtime.Goexit fails its batch, like a panic: the permit is completed,
// the ticks are counted and caught up, and publishing goes on.
func TestEnginePublisherGoexitIsAFailedBatch(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var calls atomic.Int32
		rec := newRecorder()
		h := newHarness(t, instruments(3), func(c *ticker.Config) {
			c.Publisher = ticker.PublisherFunc(func(ctx context.Context, ticks []ticker.Tick) error {
				if calls.Add(1) == 1 {
					runtime.Goexit()
				}
				return rec.Publish(ctx, ticks)
			})
		})
		h.start()
		h.src.send(tk(1000, 1))
		h.src.send(tk(1001, 1))
		settle()
		s := h.eng.Stats()
		require.Equal(t, uint64(2), s.Dropped.PublishFailed, "the batch is a failed one")
		h.checkIdentity()
		require.Equal(t, 1.0, metric(t, h.reg, "steadfast_breaker_calls_total",
			metrictest.Labels{"name": "ticker/publisher", "result": "failure"}), "the permit was completed")
		h.src.send(tk(1002, 1))
		settle()
		s = h.eng.Stats()
		require.Equal(t, uint64(1), s.Published, "publishing goes on")
		require.Equal(t, uint64(2), s.CatchUp, "and catches up the lost batch")
		require.Equal(t, "ok", h.eng.Health().Status)
		require.NoError(t, h.finish())
	})
}

// panicOn is a slog.Handler that panics on records whose message starts
// with prefix: a fault in the engine's own goroutine (a logging handler is
// the one piece of user code the engine does not contain).
type panicOn struct {
	slog.Handler
	prefix string
}

func (p panicOn) Handle(ctx context.Context, r slog.Record) error {
	if strings.HasPrefix(r.Message, p.prefix) {
		panic("handler bug")
	}
	return p.Handler.Handle(ctx, r)
}

// TestEngineReportsADeadTask: when a loop of the engine dies, Health says
// so and Run returns an error naming it, with the identity exact.
func TestEngineReportsADeadTask(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, instruments(2), func(c *ticker.Config) {
			c.Logger = slog.New(panicOn{slog.NewTextHandler(io.Discard, nil), "publish failed"})
		})
		h.start()
		h.pub.failing.Store(true)
		h.src.send(tk(1000, 1))
		h.src.send(tk(1001, 1))
		settle()
		select {
		case err := <-h.done:
			require.ErrorIs(t, err, ticker.ErrTaskEnded)
			require.ErrorContains(t, err, `"publish"`)
		case <-time.After(time.Minute):
			t.Fatal("Run goes on without its publish loop")
		}
		hl := h.eng.Health()
		require.Equal(t, "stopped", hl.Status)
		require.Contains(t, strings.Join(hl.Reasons, ";"), `task "publish" ended`)
		h.checkIdentity()
		require.Equal(t, uint64(2), h.eng.Stats().Dropped.PublishFailed)
		h.stop()
	})
}

// TestEngineExpiryAfter2262DoesNotReload: an expiry of 9999-12-31, a common
// "never", is far in the future, not a reload every few seconds.
func TestEngineExpiryAfter2262DoesNotReload(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		never := opt(1000, "NIFTY", 20000)
		never.Expiry = time.Date(9999, 12, 31, 10, 0, 0, 0, time.UTC)
		var calls atomic.Int32
		h := newHarness(t, nil, func(c *ticker.Config) {
			c.Reload = reloader.Config{Debounce: 10 * time.Millisecond, MinInterval: 100 * time.Millisecond}
		})
		h.insts = func(context.Context) ([]ticker.Instrument, error) {
			calls.Add(1)
			return []ticker.Instrument{never}, nil
		}
		h.start()
		time.Sleep(time.Minute)
		synctest.Wait()
		require.Equal(t, int32(1), calls.Load(), "Instruments called once, at start")
		require.NoError(t, h.finish())
	})
}

// TestEngineHealthDegradedFromTheFirstFailedPublish: a Redis that accepts
// connections and never answers shows in Health at its first timed-out
// Publish, long before the breaker opens.
func TestEngineHealthDegradedFromTheFirstFailedPublish(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, instruments(1), func(c *ticker.Config) {
			c.Breaker = breaker.Config{FailureThreshold: 10, OpenTimeout: 8 * time.Second} // a probe a second
		})
		h.start()
		h.pub.hang.Store(true)
		h.src.send(tk(1000, 1))
		time.Sleep(2500 * time.Millisecond) // one PublishTimeout
		synctest.Wait()
		hl := h.eng.Health()
		require.Equal(t, "closed", hl.Breaker)
		require.Equal(t, "degraded", hl.Status)
		require.Contains(t, hl.Reasons, "last Publish failed")
		require.Contains(t, hl.PublishError, "deadline exceeded")
		h.pub.hang.Store(false)
		h.src.send(tk(1000, 2))
		settle()
		require.Equal(t, "ok", h.eng.Health().Status, "%+v", h.eng.Health())
		require.NoError(t, h.finish())
	})
}

// TestEngineHealthDegradedWhileNothingIsPublished: no Publish succeeding
// for twice the PublishTimeout while ticks wait is degraded, even before
// any Publish has returned.
func TestEngineHealthDegradedWhileNothingIsPublished(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		h := newHarness(t, instruments(2), func(c *ticker.Config) {
			c.PublishTimeout = 100 * time.Millisecond
			c.Publisher = ticker.PublisherFunc(func(context.Context, []ticker.Tick) error {
				<-release // ignores its context
				return nil
			})
		})
		h.start()
		h.src.send(tk(1000, 1))
		time.Sleep(150 * time.Millisecond)
		synctest.Wait()
		require.Equal(t, "ok", h.eng.Health().Status, "within twice the timeout")
		h.src.send(tk(1001, 1))
		time.Sleep(100 * time.Millisecond)
		synctest.Wait()
		hl := h.eng.Health()
		require.Equal(t, "degraded", hl.Status)
		require.Contains(t, strings.Join(hl.Reasons, ";"), "no Publish has succeeded for")
		close(release)
		settle()
		require.Equal(t, "ok", h.eng.Health().Status)
		require.NoError(t, h.finish())
	})
}

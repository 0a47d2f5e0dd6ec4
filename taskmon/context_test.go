package taskmon

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

type ctxKey struct{}

// parents are the kinds of context a task may be started with: one that can
// never be canceled and one that can; the task's context must behave the
// same with both.
func parents() map[string]func() (context.Context, context.CancelFunc) {
	return map[string]func() (context.Context, context.CancelFunc){
		"never-canceled": func() (context.Context, context.CancelFunc) {
			return context.WithValue(context.Background(), ctxKey{}, "v"), func() {}
		},
		"cancellable": func() (context.Context, context.CancelFunc) {
			return context.WithCancel(context.WithValue(context.Background(), ctxKey{}, "v"))
		},
	}
}

// startBlocked starts a task that hands out its context and returns when
// it is canceled (or released).
func startBlocked(m *Monitor, parent context.Context) (*Task, context.Context, chan struct{}) {
	got := make(chan context.Context, 1)
	release := make(chan struct{})
	task := m.Go(parent, "blocked", func(ctx context.Context) error {
		got <- ctx
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-release:
			return nil
		}
	})
	return task, <-got, release
}

// startIdle starts a task that never looks at its context: it hands the
// context out and returns once released.
func startIdle(m *Monitor, parent context.Context) (*Task, context.Context, chan struct{}) {
	got := make(chan context.Context, 1)
	release := make(chan struct{})
	task := m.Go(parent, "idle", func(ctx context.Context) error {
		got <- ctx
		<-release
		return nil
	})
	return task, <-got, release
}

// forEachParent runs f as a subtest for each kind of parent context.
func forEachParent(t *testing.T, f func(t *testing.T, parent context.Context, cancelParent context.CancelFunc)) {
	for kind, mk := range parents() {
		t.Run(kind, func(t *testing.T) {
			parent, cancelParent := mk()
			defer cancelParent()
			f(t, parent, cancelParent)
		})
	}
}

func TestTaskContextCause(t *testing.T) {
	forEachParent(t, func(t *testing.T, parent context.Context, cancelParent context.CancelFunc) {
		// Task.Cancel: cause context.Canceled, seen by derived contexts too.
		m := newMon(Config{})
		task, ctx, _ := startBlocked(m, parent)
		require.NoError(t, ctx.Err())
		require.NoError(t, context.Cause(ctx))
		require.Equal(t, "v", ctx.Value(ctxKey{}))
		_, hasDeadline := ctx.Deadline()
		require.False(t, hasDeadline)
		child, cancelChild := context.WithCancelCause(ctx)
		defer cancelChild(nil)
		task.Cancel()
		require.Error(t, child.Err(), "derived contexts are canceled before Cancel returns")
		<-task.Done()
		require.Equal(t, context.Canceled, ctx.Err())
		require.Equal(t, context.Canceled, context.Cause(ctx))
		require.Equal(t, context.Canceled, context.Cause(child))
		require.Equal(t, "v", ctx.Value(ctxKey{}), "values outlive the cancellation")
		require.Equal(t, "v", child.Value(ctxKey{}))

		// Shutdown: cause ErrShutdown, for the task's context and its
		// descendants; a later cancellation of the parent changes nothing.
		task, ctx, _ = startBlocked(m, parent)
		child, cancelChild = context.WithCancelCause(ctx)
		defer cancelChild(nil)
		timeout, cancelTimeout := context.WithTimeout(ctx, time.Hour)
		defer cancelTimeout()
		require.NoError(t, m.Shutdown(context.Background()))
		require.Error(t, child.Err())
		require.Error(t, timeout.Err())
		cancelParent()
		require.Equal(t, context.Canceled, ctx.Err())
		require.Equal(t, ErrShutdown, context.Cause(ctx))
		require.Equal(t, ErrShutdown, context.Cause(child))
		require.Equal(t, ErrShutdown, context.Cause(timeout))
		require.Equal(t, context.Canceled, timeout.Err())
		require.NoError(t, task.Err())
	})
}

func TestTaskContextAfterFunc(t *testing.T) {
	forEachParent(t, func(t *testing.T, parent context.Context, cancelParent context.CancelFunc) {
		m := newMon(Config{})
		task, ctx, _ := startBlocked(m, parent)

		var wg sync.WaitGroup
		wg.Add(1)
		called := make(chan error, 1)
		context.AfterFunc(ctx, func() {
			defer wg.Done()
			called <- context.Cause(ctx)
		})
		stopped := context.AfterFunc(ctx, func() { t.Error("unregistered function called") })
		require.True(t, stopped())
		require.False(t, stopped(), "stop reports only the first success")

		require.NoError(t, m.Shutdown(context.Background()))
		wg.Wait()
		require.Equal(t, ErrShutdown, <-called)

		// Registered after the cancellation: called at once.
		wg.Add(1)
		stop := context.AfterFunc(ctx, wg.Done)
		wg.Wait()
		require.False(t, stop())
		<-task.Done()
	})
}

func TestTaskContextEndsWithTask(t *testing.T) {
	forEachParent(t, func(t *testing.T, parent context.Context, cancelParent context.CancelFunc) {
		m := newMon(Config{})
		task, ctx, release := startBlocked(m, parent)
		child, cancelChild := context.WithCancel(ctx)
		defer cancelChild()
		close(release)
		<-task.Done()
		require.Error(t, child.Err(), "canceled when the task ended")
		// Done asked for only now: born closed.
		select {
		case <-ctx.Done():
		default:
			t.Fatal("the task's context is not done after the task ended")
		}
		require.Equal(t, context.Canceled, context.Cause(ctx))
		require.NoError(t, task.Err(), "the run returned nil: ok")
		require.Equal(t, uint64(1), m.Stats().Succeeded)
	})
}

// Err never changes once it is non-nil, even when the task's context and
// its parent are canceled at the same time, before anything asked for
// Done: the first cancellation wins, and every reader sees the same one.
func TestTaskContextErrStable(t *testing.T) {
	m := newMon(Config{})
	for range 300 {
		parent, cancelParent := context.WithTimeout(context.Background(), time.Hour)
		task, ctx, release := startIdle(m, parent)
		var wg sync.WaitGroup
		seen := make([]error, 2)
		for i := range seen {
			wg.Go(func() {
				for seen[i] = ctx.Err(); seen[i] == nil; seen[i] = ctx.Err() {
				}
			})
		}
		wg.Go(task.Cancel)
		wg.Go(cancelParent)
		wg.Wait()
		final := ctx.Err()
		require.Equal(t, final, seen[0])
		require.Equal(t, final, seen[1])
		require.Equal(t, final, context.Cause(ctx))
		close(release)
		<-task.Done()
	}
}

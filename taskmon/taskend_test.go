package taskmon

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
)

// The task's context, and the contexts derived from it, are canceled before
// the task's Done channel closes.
func TestTaskContextCanceledBeforeDoneCloses(t *testing.T) {
	m := newMon(Config{})
	for i := range 1000 {
		task, ctx, release := startIdle(m, context.Background())
		child, cancelChild := context.WithCancel(ctx)
		close(release)
		<-task.Done()
		require.Error(t, ctx.Err(), "iteration %d: Done closed before the task's context was canceled", i)
		require.Error(t, child.Err(), "iteration %d: Done closed before the derived context was canceled", i)
		cancelChild()
	}
}

// Wait waits for every task started before the call to be done, and
// Shutdown for every task not done at its first call, also for one that is
// finishing then: when they return, its Done is closed and its context
// canceled.
func TestWaitAndShutdownWaitForFinishingTask(t *testing.T) {
	for name, wait := range map[string]func(*Monitor) error{
		"Wait":     func(m *Monitor) error { m.Wait(); return nil },
		"Shutdown": func(m *Monitor) error { return m.Shutdown(context.Background()) },
	} {
		t.Run(name, func(t *testing.T) {
			for i := range 1000 {
				m := newMon(Config{})
				task, ctx, release := startIdle(m, context.Background())
				done := task.Done()
				child, cancelChild := context.WithCancel(ctx)
				close(release) // the task finishes while wait runs
				require.NoError(t, wait(m))
				select {
				case <-done:
				default:
					t.Fatalf("iteration %d: %s returned before the task's Done closed", i, name)
				}
				require.Error(t, child.Err(), "iteration %d", i)
				cancelChild()
			}
		})
	}
}

// lockProbe is a parent context that records whether the monitor's lock is
// held when its methods are called: a parent whose methods use the monitor
// (Stats, Tasks, Go) would deadlock then.
type lockProbe struct {
	context.Context
	m     *Monitor
	calls atomic.Int32
	held  atomic.Int32
}

func (p *lockProbe) probe() {
	p.calls.Add(1)
	if !p.m.mu.TryLock() {
		p.held.Add(1)
		return
	}
	p.m.mu.Unlock()
}

func (p *lockProbe) Err() error            { p.probe(); return p.Context.Err() }
func (p *lockProbe) Done() <-chan struct{} { p.probe(); return p.Context.Done() }
func (p *lockProbe) Value(key any) any     { p.probe(); return p.Context.Value(key) }

// The start and the end of a task call its parent's methods (to derive and
// cancel the task's context) with the monitor's lock not held.
func TestTaskEndCallsParentOutsideLocks(t *testing.T) {
	m := newMon(Config{})
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	for _, probeCanceled := range []bool{false, true} {
		var inner context.Context = context.Background()
		if probeCanceled {
			inner = canceled
		}
		p := &lockProbe{Context: inner, m: m}
		task := m.Go(p, "x", func(context.Context) error { return nil })
		require.NoError(t, task.Wait())
		require.NotZero(t, p.calls.Load(), "the task's context looks at the parent")
		require.Zero(t, p.held.Load(), "parent called with the monitor's lock held (parent canceled: %v)", probeCanceled)
	}
}

// The monitor holds no task after it is done: a burst that ended leaves
// nothing behind.
func TestDoneTasksAreLetGo(t *testing.T) {
	m := newMon(Config{})
	release := make(chan struct{})
	const n = 2000
	for range n {
		m.Go(context.Background(), "burst", func(context.Context) error { <-release; return nil })
	}
	require.Equal(t, n, m.Stats().Running)
	require.Len(t, m.Tasks(), n)
	close(release)
	m.Wait()
	m.mu.Lock()
	first, last := m.first, m.last
	m.mu.Unlock()
	require.Nil(t, first)
	require.Nil(t, last)
	require.Equal(t, Stats{Succeeded: n}, m.Stats())
}

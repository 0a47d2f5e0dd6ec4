package taskmon

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// taskCtx is the context of a task whose parent context can never be
// cancelled (its Done returns nil, as for context.Background). It lives
// inside the Task, so that such a task costs one allocation for both; a
// task whose parent can be cancelled gets a context.WithCancelCause child
// instead, which the parent cancels synchronously.
//
// It behaves like a context.WithCancelCause child of parent:
//   - Done's channel is made on first use (closed at once if already
//     cancelled) and closed by cancel.
//   - Err is context.Canceled once cancelled: the parent never ends, so
//     nothing else can end it.
//   - context.Cause returns the cause given to cancel. context.Cause asks
//     Err, then Value for the standard library's private key; once
//     cancelled, Value answers from a standard cancelled context that
//     carries the same cause (made on first use), so Cause finds it there.
//   - AfterFunc lets contexts derived from it (context.WithCancel,
//     context.AfterFunc) register with it instead of starting a goroutine
//     each to watch Done.
type taskCtx struct {
	parent    context.Context // nil for a refused task
	cancelled atomic.Bool     // set, under mu, after cause

	mu     sync.Mutex
	done   chan struct{}   // made by Done; closed by cancel
	hasCh  atomic.Bool     // done is set (for Done's lock-free path)
	cause  error           // set once by cancel
	inner  context.Context // once cancelled: a cancelled context with cause
	afters map[*afterFunc]struct{}
}

// afterFunc is one registration made through taskCtx.AfterFunc.
type afterFunc struct{ f func() }

func (c *taskCtx) Deadline() (time.Time, bool) { return c.parent.Deadline() }

func (c *taskCtx) Done() <-chan struct{} {
	if c.hasCh.Load() {
		return c.done
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done == nil {
		c.done = make(chan struct{})
		if c.cancelled.Load() {
			close(c.done)
		}
		c.hasCh.Store(true)
	}
	return c.done
}

func (c *taskCtx) Err() error {
	if c.cancelled.Load() {
		return context.Canceled
	}
	return nil
}

func (c *taskCtx) Value(key any) any {
	if !c.cancelled.Load() {
		return c.parent.Value(key)
	}
	c.mu.Lock()
	if c.inner == nil {
		inner, cancel := context.WithCancelCause(c.parent) // the parent never ends: nothing to register
		cancel(c.cause)
		c.inner = inner
	}
	inner := c.inner
	c.mu.Unlock()
	return inner.Value(key)
}

func (c *taskCtx) String() string { return "taskmon task context" }

// AfterFunc arranges for f to be called once c is cancelled and returns a
// function that unregisters f, reporting whether it did so before f was
// called. The context package uses it for contexts derived from c. f runs
// on the goroutine that cancels c, after c is cancelled and outside c's
// lock; if c is cancelled already, f runs at once on a goroutine of its own,
// since the caller may hold a lock that f needs.
func (c *taskCtx) AfterFunc(f func()) func() bool {
	a := &afterFunc{f: f}
	c.mu.Lock()
	if c.cancelled.Load() {
		c.mu.Unlock()
		go f()
		return func() bool { return false }
	}
	if c.afters == nil {
		c.afters = make(map[*afterFunc]struct{})
	}
	c.afters[a] = struct{}{}
	c.mu.Unlock()
	return func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		if _, ok := c.afters[a]; !ok {
			return false
		}
		delete(c.afters, a)
		return true
	}
}

// cancel cancels c with cause (nil: context.Canceled); only the first call
// has an effect.
func (c *taskCtx) cancel(cause error) {
	if cause == nil {
		cause = context.Canceled
	}
	c.mu.Lock()
	if c.cancelled.Load() {
		c.mu.Unlock()
		return
	}
	c.cause = cause
	c.cancelled.Store(true)
	done, afters := c.done, c.afters
	c.afters = nil
	c.mu.Unlock()
	if done != nil {
		close(done)
	}
	for a := range afters {
		a.f()
	}
}

package taskmon

import (
	"context"
	"time"
)

// taskCtx is the context of a task whose parent context can never be
// cancelled (its Done returns nil, as for context.Background): it is the
// Task itself, seen through a type with the context methods, so that one
// allocation serves both. A task whose parent can be cancelled gets a
// context.WithCancelCause child instead, which the parent cancels
// synchronously.
//
// It behaves like a context.WithCancelCause child of Task.parent:
//   - Done's channel is made on first use (closed at once if already
//     cancelled) and closed by cancel.
//   - Err is context.Canceled once cancelled: the parent never ends, so
//     nothing else can end it.
//   - context.Cause returns ErrShutdown or context.Canceled, as given to
//     cancel. context.Cause asks Err, then Value for the standard library's
//     private key; once cancelled, Value answers from a standard context
//     cancelled with the same cause (made on first use), so Cause finds it.
//   - AfterFunc lets contexts derived from it (context.WithCancel,
//     context.AfterFunc) register with it instead of starting a goroutine
//     each to watch Done.
type taskCtx Task

// ctxExtra holds what few task contexts need; guarded by Task.mu.
type ctxExtra struct {
	cancelled context.Context // once cancelled: a cancelled context with the cause
	afters    map[*afterFunc]struct{}
}

// afterFunc is one registration made through taskCtx.AfterFunc.
type afterFunc struct{ f func() }

func (c *taskCtx) Deadline() (time.Time, bool) { return c.parent.Deadline() }

func (c *taskCtx) Done() <-chan struct{} {
	if c.flags.Load()&flagCtxDone != 0 {
		return c.ctxDone
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ctxDone == nil {
		c.ctxDone = make(chan struct{})
		if c.flags.Load()&flagCancelled != 0 {
			close(c.ctxDone)
		}
		c.flags.Or(flagCtxDone)
	}
	return c.ctxDone
}

func (c *taskCtx) Err() error {
	if c.flags.Load()&flagCancelled != 0 {
		return context.Canceled
	}
	return nil
}

func (c *taskCtx) Value(key any) any {
	if c.flags.Load()&flagCancelled == 0 {
		return c.parent.Value(key)
	}
	c.mu.Lock()
	x := c.ext()
	if x.cancelled == nil {
		// The parent never ends: the new context registers with nothing.
		ctx, cancel := context.WithCancelCause(c.parent)
		if c.shutdown {
			cancel(ErrShutdown)
		} else {
			cancel(nil)
		}
		x.cancelled = ctx
	}
	ctx := x.cancelled
	c.mu.Unlock()
	return ctx.Value(key)
}

func (c *taskCtx) String() string { return "taskmon task " + c.name + " context" }

// ext returns c's ctxExtra, making it if needed; c.mu is held.
func (c *taskCtx) ext() *ctxExtra {
	if c.ctxExt == nil {
		c.ctxExt = new(ctxExtra)
	}
	return c.ctxExt
}

// AfterFunc arranges for f to be called once c is cancelled and returns a
// function that unregisters f, reporting whether it did so before f was
// called. The context package uses it for contexts derived from c. f runs
// on the goroutine that cancels c, after c is cancelled and outside c's
// lock; if c is cancelled already, f runs at once on a goroutine of its own,
// since the caller may hold a lock that f needs.
func (c *taskCtx) AfterFunc(f func()) func() bool {
	a := &afterFunc{f: f}
	c.mu.Lock()
	if c.flags.Load()&flagCancelled != 0 {
		c.mu.Unlock()
		go f()
		return func() bool { return false }
	}
	x := c.ext()
	if x.afters == nil {
		x.afters = make(map[*afterFunc]struct{})
	}
	x.afters[a] = struct{}{}
	c.mu.Unlock()
	return func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		if _, ok := x.afters[a]; !ok {
			return false
		}
		delete(x.afters, a)
		return true
	}
}

// cancel cancels c, with cause ErrShutdown when shutdown is true and
// context.Canceled otherwise; only the first call has an effect.
func (c *taskCtx) cancel(shutdown bool) {
	c.mu.Lock()
	if c.flags.Load()&flagCancelled != 0 {
		c.mu.Unlock()
		return
	}
	c.shutdown = shutdown
	c.flags.Or(flagCancelled)
	done := c.ctxDone
	var afters map[*afterFunc]struct{}
	if c.ctxExt != nil {
		afters = c.ctxExt.afters
		c.ctxExt.afters = nil
	}
	c.mu.Unlock()
	if done != nil {
		close(done)
	}
	for a := range afters {
		a.f()
	}
}

package taskmon

import (
	"context"
	"reflect"
	"time"
)

// The task's context.
//
// Every task gets a context of its own, which Task.Cancel, Shutdown and the
// end of the task cancel. It behaves exactly as a context.WithCancelCause
// child of the context given to Go or Supervise would (parity_test.go runs
// the same scenarios against both), but the standard child is made only when
// something needs it: the first call of Done or Value. Everything that
// depends on the context's cancellation goes through one of them first:
// deriving a cancellable context (context.WithCancel, WithTimeout, ...,
// also through a WithValue context in between, which forwards Done and
// Value), context.AfterFunc and context.Cause. Until then the context is a
// view of fields of the Task, so a task that never looks at its context
// costs no allocation for it, and Err answers from the task's flags and the
// parent.
//
// Once made, the standard child does everything: Done, Err and Value are
// its, context.Cause finds its cause through Value, and contexts derived
// from the task's context register with it as they would with any
// cancelCtx. When the task was cancelled before the child was made, the
// child is made from context.WithoutCancel(parent) and cancelled at once
// with the task's cause, so that a later cancellation of the parent cannot
// take its place; Deadline is still the parent's.

// taskContext is a Task seen as its task's context.Context: the same
// memory, with the context's methods instead of the task's.
type taskContext Task

// initContext makes t's context a child of parent.
func (t *Task) initContext(parent context.Context) context.Context {
	t.parent = parent
	return (*taskContext)(t)
}

// cancel cancels the task's context, with cause ErrShutdown when shutdown
// is true and context.Canceled otherwise. The first cancellation's cause
// stays, as for context.WithCancelCause. Until the standard child is made,
// cancelling is setting flagCanceled; after, it is cancelling the child.
func (t *Task) cancel(shutdown bool) {
	if t.parent == nil { // a refused task has no context
		return
	}
	for {
		f := t.flags.Load()
		switch {
		case f&flagStd != 0:
			t.ext.cancelStd(cause(shutdown)) // a no-op if the child is cancelled already
			return
		case f&flagCanceled != 0: // the first cause stays
			return
		case t.parent.Err() != nil:
			// The parent was cancelled first: that is the context's
			// cancellation, as it would be for the standard child. Make the
			// child, which records it, and go round again.
			(*taskContext)(t).standard()
			continue
		}
		nf := f | flagCanceled
		if shutdown {
			nf |= flagShutdown
		}
		if t.flags.CompareAndSwap(f, nf) {
			return
		}
	}
}

// cause is the cause a cancellation gives to WithCancelCause's function.
func cause(shutdown bool) error {
	if shutdown {
		return ErrShutdown
	}
	return nil // context.Canceled
}

// makeStd makes t.ext.std, the standard child, and sets flagStd; t.mu is
// held, so only one goroutine makes it. The child is complete (cancelled if
// the task's context is) before flagStd makes it visible, so that Err never
// goes back from non-nil to nil. Should the context be cancelled while the
// child is made from a parent that can be cancelled, the child is made
// again, from context.WithoutCancel(parent) (see the comment at the top).
func (t *Task) makeStd() {
	x := t.extLocked()
	f := t.flags.Load()
	for {
		parent := t.parent
		canceled := f&flagCanceled != 0
		if canceled && parent.Done() != nil {
			parent = context.WithoutCancel(parent)
		}
		std, cancelStd := context.WithCancelCause(parent)
		if canceled {
			cancelStd(cause(f&flagShutdown != 0))
		}
		x.std, x.cancelStd = std, cancelStd
		for !t.flags.CompareAndSwap(f, f|flagStd) {
			f = t.flags.Load() // another bit was set meanwhile
			if !canceled && f&flagCanceled != 0 {
				break
			}
		}
		if canceled || f&flagCanceled == 0 {
			return
		}
		cancelStd(nil) // never seen; cancelling it unregisters it from parent
	}
}

// standard returns the standard child, making it if need be.
func (c *taskContext) standard() context.Context {
	t := (*Task)(c)
	if t.flags.Load()&flagStd != 0 {
		return t.ext.std
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.flags.Load()&flagStd == 0 {
		t.makeStd()
	}
	return t.ext.std
}

// Deadline returns the parent's deadline.
func (c *taskContext) Deadline() (time.Time, bool) { return c.parent.Deadline() }

// Done returns the standard child's Done.
func (c *taskContext) Done() <-chan struct{} { return c.standard().Done() }

// Err returns context.Canceled once the task's context is cancelled, or the
// parent's Err once the parent is done (first come, first served), and nil
// before.
func (c *taskContext) Err() error {
	t := (*Task)(c)
	f := t.flags.Load()
	switch {
	case f&flagStd != 0:
		return t.ext.std.Err()
	case f&flagCanceled != 0:
		return context.Canceled
	case c.parent.Err() == nil:
		return nil
	}
	// The parent is done. Unless the task's context was cancelled just
	// before, that is its cancellation: make the child, which records it,
	// so that Err cannot change from the parent's error to
	// context.Canceled.
	return c.standard().Err()
}

// Value returns the standard child's Value for key: the parent's values,
// and the standard child itself to the context package, which finds the
// cancellation's cause and registers derived contexts that way.
func (c *taskContext) Value(key any) any { return c.standard().Value(key) }

// String names the context as the standard child's String does.
func (c *taskContext) String() string {
	if s, ok := c.parent.(interface{ String() string }); ok {
		return s.String() + ".WithCancel"
	}
	return reflect.TypeOf(c.parent).String() + ".WithCancel"
}

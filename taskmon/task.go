package taskmon

import (
	"context"
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"
)

// Task is a handle on a task started by Go or Supervise. Its methods are
// safe for concurrent use.
type Task struct {
	// A task costs two allocations: this struct and the goroutine's
	// closure (three once Done is called). The
	// task's context is this struct too (see context.go) until something
	// needs a standard one. What only some tasks need (an error, the
	// standard context, the state of a supervised task) is in ext, so that
	// the struct fits the 96-byte size class: the fewer bytes a task
	// allocates, the less often the garbage collector runs.
	name    string
	started time.Duration // since the monitor's epoch
	id      uint64        // set before the task is started

	// mu guards the making of ext (for a task started by Go), of the
	// standard context and of doneCh. Flags change without it, each
	// change one atomic operation (Or, or CompareAndSwap where the new
	// bits depend on the old).
	mu sync.Mutex
	// Flag bits, and the final run's Outcome in the bits from outcomeShift
	// on, set with flagDone.
	flags atomic.Uint32

	// wait counts 1 from Go or Supervise until the task is done, after Done's
	// channel closes: Wait and Err wait on it, so they need no channel.
	wait sync.WaitGroup

	// Done's channel: made under mu by its first call (then flagDoneCh is
	// set), closed when the task is done.
	doneCh chan struct{}

	// The task's context (context.go); nil for a refused task.
	parent context.Context

	// Set before the task is started for a supervised task (with
	// flagSupervised), else under mu by the first who needs it; never
	// changed after. It is read without mu only after a flag that says it
	// is set (flagSupervised, flagErr, flagStd).
	ext *taskExt
}

// Bits of Task.flags. Once set, a bit stays set.
const (
	flagDone       = 1 << iota // the task is done: ext.err and the outcome are final
	flagEnded                  // ... and Done is closed and Wait released: its shard may drop it
	flagDoneCh                 // doneCh is set
	flagStd                    // ext.std is made: it answers everything
	flagCanceled               // the context was cancelled before ext.std was made
	flagShutdown               // ... with cause ErrShutdown
	flagSupervised             // started by Supervise
	flagErr                    // ext.err is set (with flagDone)

	outcomeShift = 8
)

// taskExt is what only some tasks need.
type taskExt struct {
	// The task's error, if it has one; written before flagDone is set.
	err error

	// The state of a supervised task that Tasks reports; guarded by the
	// mu of the task's shard.
	restarts int
	lastErr  error

	// The standard context (context.go): written under the task's mu
	// while it is made, and published by flagStd; read without mu only
	// after flagStd is seen.
	std       context.Context
	cancelStd context.CancelCauseFunc
}

// extLocked returns t.ext, making it if need be; t.mu is held.
func (t *Task) extLocked() *taskExt {
	if t.ext == nil {
		t.ext = new(taskExt)
	}
	return t.ext
}

// supervised reports whether t was started by Supervise; then t.ext is set.
func (t *Task) supervised() bool { return t.flags.Load()&flagSupervised != 0 }

// newTask returns a task named name, not yet done, and its context, a
// child of parent.
func newTask(parent context.Context, name string) (*Task, context.Context) {
	t := &Task{name: name}
	t.wait.Add(1)
	return t, t.initContext(parent)
}

// Name returns the task's name.
func (t *Task) Name() string { return t.name }

// Done returns a channel that is closed when the task is done: its function
// has returned (for a supervised task: it will not be restarted again), its
// outcome is counted in Stats, the OnError callbacks have returned, and its
// context is cancelled.
func (t *Task) Done() <-chan struct{} {
	if t.flags.Load()&flagDoneCh != 0 {
		return t.doneCh
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.doneCh == nil {
		ch := make(chan struct{})
		t.doneCh = ch
		// Whichever of this and end sets its flag second closes the
		// channel.
		if t.flags.Or(flagDoneCh)&flagDone != 0 {
			close(ch)
		}
	}
	return t.doneCh
}

// markDone makes a refused task, which has no context, is in no shard and
// was never counted in wait, done with err before anyone else sees it.
func (t *Task) markDone(err error) {
	t.extLocked().err = err
	t.flags.Or(flagDone | flagEnded | flagErr | uint32(OutcomeFailed)<<outcomeShift)
}

// end cancels t's context if it is not cancelled yet, then marks t done
// with outcome o and error err and closes Done's channel if it was made.
// Nothing else of the monitor is touched. The common case, a context
// nobody looked at, is one atomic operation: the cancellation and the
// outcome are set together, so that whoever sees the task done sees its
// context cancelled.
func (t *Task) end(o Outcome, err error) {
	done := flagDone | uint32(o)<<outcomeShift
	if err != nil {
		t.mu.Lock()
		t.extLocked().err = err
		t.mu.Unlock()
		done |= flagErr
	}
	var old uint32
	for {
		f := t.flags.Load()
		if f&flagStd != 0 || f&flagCanceled == 0 && t.parent.Err() != nil {
			// The standard child answers (or must be made to record the
			// parent's cancellation): cancel it, then mark t done.
			t.cancel(false)
			old = t.flags.Or(done)
			break
		}
		if t.flags.CompareAndSwap(f, f|flagCanceled|done) {
			old = f
			break
		}
	}
	if old&flagDoneCh != 0 {
		close(t.doneCh)
	}
}

// outcome returns the outcome of t's final run; t is done.
func (t *Task) outcome() Outcome { return outcomeOf(t.flags.Load()) }

// outcomeOf returns the outcome in a task's flags.
func outcomeOf(f uint32) Outcome { return Outcome(f >> outcomeShift) }

// error returns t's error; t is done.
func (t *Task) error() error {
	if t.flags.Load()&flagErr == 0 {
		return nil
	}
	return t.ext.err
}

// isDone reports whether t is done (flagDone).
func (t *Task) isDone() bool { return t.flags.Load()&flagDone != 0 }

// Err returns nil until the task is done; then its error: nil when the
// final run succeeded or was cancelled, the function's error, a *PanicError,
// ErrGoexit, an error wrapping ErrGaveUp for a supervised task given up, or
// ErrClosed for a task started after Shutdown. As for a context, a
// non-nil Err means that Done is closed.
func (t *Task) Err() error {
	if t.isDone() {
		t.wait.Wait() // Done closes just after the done flag is set
		return t.error()
	}
	return nil
}

// Wait blocks until the task is done, as Done does, and returns its Err.
// It is the cheaper way to wait for one task: it needs no channel.
func (t *Task) Wait() error {
	t.wait.Wait()
	return t.error()
}

// since returns the time elapsed since t started.
func (m *Monitor) since(t *Task) time.Duration {
	return max(0, m.now()-t.started)
}

// Cancel cancels the task's context (cause context.Canceled) and returns
// without waiting; wait on Done, or call Wait, for the task to end. A
// supervised task is not restarted after Cancel. Cancel is idempotent.
func (t *Task) Cancel() { t.cancel(false) }

// run is the result of one run of a task's function.
type run struct {
	outcome Outcome
	err     error // as returned for cancelled runs, nil for ok runs
}

// taskErr is the error a run leaves on its task: nil unless it failed.
func (r run) taskErr() error {
	if r.outcome.failure() {
		return r.err
	}
	return nil
}

// result classifies a run. It is called from the deferred function of the
// goroutine that ran fn: normal is false when fn did not return, and v is
// what recover returned then (nil for runtime.Goexit, since panic(nil)
// recovers as a *runtime.PanicNilError). The stack is taken here, while the
// panicking frames are still on it.
func result(ctx context.Context, name string, normal bool, err error, v any) run {
	switch {
	case !normal && v != nil:
		return run{OutcomePanicked, &PanicError{Task: name, Value: v, Stack: debug.Stack()}}
	case !normal:
		return run{OutcomeExited, ErrGoexit}
	case err == nil:
		return run{OutcomeOK, nil}
	case ctx.Err() != nil:
		return run{OutcomeCancelled, err}
	default:
		return run{OutcomeFailed, err}
	}
}

// runTask is the goroutine of a task started by Go. The path of an ok run
// is kept short and its frames small; everything else is in noinline
// functions, so that a no-op task fits in a goroutine's initial stack.
func (m *Monitor) runTask(t *Task, fn func(context.Context) error) {
	var (
		ctx    = (*taskContext)(t)
		err    error
		normal bool
	)
	defer func() {
		if normal && err == nil {
			if m.met != nil {
				m.met.exit(t.name, OutcomeOK, m.since(t))
			}
			// Logged with the parent, which has the same values: a handler
			// that looks one up need not make the task's standard context.
			if l := m.logger(); l.Enabled(t.parent, slog.LevelDebug) {
				m.logEnd(t.parent, l, t.name, run{OutcomeOK, nil})
			}
			m.finish(t, OutcomeOK, nil)
			return
		}
		var v any
		if !normal {
			v = recover()
		}
		m.endTask(ctx, t, result(ctx, t.name, normal, err, v))
	}()
	err = fn(ctx)
	normal = true
}

// endTask finishes a task started by Go whose run r was not ok.
//
//go:noinline
func (m *Monitor) endTask(ctx context.Context, t *Task, r run) {
	var d time.Duration
	if m.met != nil {
		d = m.since(t)
	}
	m.report(ctx, t.name, r, d)
	if r.outcome.failure() {
		m.notify(ctx, nil, TaskError{Name: t.name, Err: r.err, Outcome: r.outcome})
	}
	m.finish(t, r.outcome, r.taskErr())
}

// report logs a finished run and records it in the metrics.
func (m *Monitor) report(ctx context.Context, name string, r run, d time.Duration) {
	if m.met != nil {
		m.met.exit(name, r.outcome, d)
	}
	l := m.logger()
	if r.outcome.failure() {
		m.logFailure(ctx, l, name, r)
	} else if l.Enabled(ctx, slog.LevelDebug) {
		m.logEnd(ctx, l, name, r)
	}
}

//go:noinline
func (m *Monitor) logEnd(ctx context.Context, l *slog.Logger, name string, r run) {
	l.LogAttrs(ctx, slog.LevelDebug, "taskmon: task ended",
		slog.String("monitor", m.name), slog.String("task", name),
		slog.String("outcome", r.outcome.String()), slog.Any("error", r.err))
}

//go:noinline
func (m *Monitor) logFailure(ctx context.Context, l *slog.Logger, name string, r run) {
	if pe, ok := r.err.(*PanicError); ok {
		l.LogAttrs(ctx, slog.LevelError, "taskmon: task panicked",
			slog.String("monitor", m.name), slog.String("task", name),
			slog.String("outcome", r.outcome.String()), slog.Any("error", r.err),
			slog.String("stack", string(pe.Stack)))
		return
	}
	l.LogAttrs(ctx, slog.LevelError, "taskmon: task failed",
		slog.String("monitor", m.name), slog.String("task", name),
		slog.String("outcome", r.outcome.String()), slog.Any("error", r.err))
}

// notify passes te to the task's own callback, then to the monitor's.
func (m *Monitor) notify(ctx context.Context, own func(TaskError), te TaskError) {
	if own != nil {
		m.callback(ctx, "Spec.OnError", own, te)
	}
	if m.onError != nil {
		m.callback(ctx, "Config.OnError", m.onError, te)
	}
}

// callback runs fn(te) on a goroutine of its own and waits for it, so that
// neither a panic nor runtime.Goexit in fn can reach the task's goroutine.
func (m *Monitor) callback(ctx context.Context, which string, fn func(TaskError), te TaskError) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		normal := false
		defer func() {
			if normal {
				return
			}
			v := recover()
			var stack []byte
			if v != nil {
				stack = debug.Stack()
			} else {
				v = "runtime.Goexit called"
			}
			m.mu.Lock()
			m.stats.CallbackPanics++
			m.mu.Unlock()
			if m.met != nil {
				m.met.callbackPanics.Inc()
			}
			m.logger().LogAttrs(ctx, slog.LevelError, "taskmon: callback panicked",
				slog.String("monitor", m.name), slog.String("task", te.Name),
				slog.String("callback", which), slog.Any("panic", v),
				slog.String("stack", string(stack)))
		}()
		fn(te)
		normal = true
	}()
	<-done
}

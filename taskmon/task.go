package taskmon

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/steadfast-go/steadfast/internal/contain"
	"github.com/steadfast-go/steadfast/internal/logs"
)

// Task is a handle on a task started by Go or Supervise. Its methods are
// safe for concurrent use.
type Task struct {
	m          *Monitor
	name       string
	id         uint64 // set under m.mu when the task is added
	started    time.Time
	cancel     context.CancelCauseFunc // cancels the task's context; nil for a refused task
	wait       sync.WaitGroup          // 1 until the task is done: what Wait waits on
	supervised bool

	// Guarded by m.mu.
	ended      bool          // the task is done: outcome and err are final
	outcome    Outcome       // of the final run
	done       chan struct{} // made by the first call of Done, closed once ended
	err        error
	prev, next *Task // links of m's list of tasks not done
	restarts   int   // what Tasks reports of a supervised task
	lastErr    error
}

// Name returns the task's name.
func (t *Task) Name() string { return t.name }

// Done returns a channel that is closed when the task is done: its function
// has returned (for a supervised task: it will not be restarted again), its
// outcome is counted in Stats, the OnError callbacks have returned, and its
// context is canceled.
func (t *Task) Done() <-chan struct{} {
	t.m.mu.Lock()
	defer t.m.mu.Unlock()
	if t.done == nil { // made on demand: waiting with Wait needs no channel
		t.done = make(chan struct{})
		if t.ended {
			close(t.done)
		}
	}
	return t.done
}

// Err returns nil until the task is done; then its error: nil when the
// final run succeeded or was canceled, the function's error, a *PanicError
// (for a panic or runtime.Goexit), an error wrapping ErrGaveUp for a
// supervised task given up, or ErrClosed for a task started after
// Shutdown. As for a context, a non-nil Err means that Done is closed.
func (t *Task) Err() error {
	t.m.mu.Lock()
	defer t.m.mu.Unlock()
	return t.err // nil until ended
}

// Wait blocks until the task is done, as Done does, and returns its Err.
// It needs no channel.
func (t *Task) Wait() error {
	t.wait.Wait()
	return t.err
}

// Cancel cancels the task's context (cause context.Canceled) and returns
// without waiting; wait on Done, or call Wait, for the task to end. A
// supervised task is not restarted after Cancel. Cancel is idempotent.
func (t *Task) Cancel() {
	if t.cancel != nil {
		t.cancel(nil)
	}
}

// run is the result of one run of a task's function.
type run struct {
	outcome Outcome
	err     error // as returned for canceled runs, nil for successful runs
}

// taskErr is the error a run leaves on its task: nil unless it failed.
func (r run) taskErr() error {
	if r.outcome.failure() {
		return r.err
	}
	return nil
}

// run runs fn once, on the goroutine of a task started by Go (results nil:
// it then finishes the task) or of one run of a supervised task (it then
// sends the run to results). A panic or runtime.Goexit in fn is contained
// and classified like a return.
func (t *Task) run(ctx context.Context, fn func(context.Context) error, results chan<- run) {
	var err error
	if contain.Call(func() { err = fn(ctx) }, func(v any, stack []byte) {
		t.ran(ctx, results, panicked(t.name, v, stack))
	}) {
		t.ran(ctx, results, classify(ctx, err))
	}
}

// ran hands r on: to results, or to the end of the task.
func (t *Task) ran(ctx context.Context, results chan<- run, r run) {
	if results != nil {
		results <- r
		return
	}
	// Canceled here (finish would do it too), high on the stack:
	// canceling a child of a cancelable parent goes deep into the
	// context package, and the goroutine's stack is still the small
	// one it started with.
	t.cancel(nil)
	t.m.end(ctx, t, r)
}

// classify returns the run of a function that returned err.
func classify(ctx context.Context, err error) run {
	switch {
	case err == nil:
		return run{OutcomeSuccess, nil}
	case ctx.Err() != nil:
		return run{OutcomeCanceled, err}
	default:
		return run{OutcomeFailure, err}
	}
}

// panicked returns the run of a function that panicked with v, or called
// runtime.Goexit (v is contain.Goexit), with the stack where it was
// recovered.
func panicked(name string, v any, stack []byte) run {
	if v == contain.Goexit {
		return run{OutcomeExited, &PanicError{Task: name, Value: ErrGoexit, Stack: stack}}
	}
	return run{OutcomePanic, &PanicError{Task: name, Value: v, Stack: stack}}
}

// end finishes a task started by Go after its run r.
func (m *Monitor) end(ctx context.Context, t *Task, r run) {
	var d time.Duration
	if m.met != nil {
		d = time.Since(t.started)
	}
	m.report(ctx, t.name, r, d)
	if r.outcome.failure() {
		m.notify(ctx, nil, TaskError{Name: t.name, Err: r.err, Outcome: r.outcome})
	}
	m.finish(t, r.outcome, r.taskErr())
}

// runMessages are the log messages of runs, by outcome.
var runMessages = [...]string{
	OutcomeSuccess:  "task ended",
	OutcomeCanceled: "task ended",
	OutcomeFailure:  "task failed",
	OutcomePanic:    "task panicked",
	OutcomeExited:   "task exited",
}

// report logs a finished run (failures at Error, the rest at Debug) and
// records it in the metrics.
func (m *Monitor) report(ctx context.Context, name string, r run, d time.Duration) {
	if m.met != nil {
		m.met.exit(name, r.outcome, d)
	}
	level := slog.LevelDebug
	if r.outcome.failure() {
		level = slog.LevelError
	}
	if l := m.logger(); l.Enabled(ctx, level) {
		m.logRun(ctx, l, level, name, r)
	}
}

// logRun writes the record of a run. It is a function of its own, not
// inlined, so that the goroutine of a task whose run is not logged keeps
// the small stack it starts with.
//
//go:noinline
func (m *Monitor) logRun(ctx context.Context, l *slog.Logger, level slog.Level, name string, r run) {
	attrs := m.attrs(name, slog.String(logs.Result, r.outcome.String()))
	if r.err != nil {
		attrs = append(attrs, logs.Err(r.err))
	}
	if pe, ok := r.err.(*PanicError); ok {
		attrs = append(attrs, logs.PanicValue(pe.Value), logs.StackTrace(pe.Stack))
	}
	l.LogAttrs(ctx, level, runMessages[r.outcome], attrs...)
}

// logger returns the logger to write a record to now.
func (m *Monitor) logger() *slog.Logger { return logs.Logger(m.log) }

// sink returns where the monitor's records go.
func (m *Monitor) sink() logs.Sink {
	return logs.Sink{Logger: m.log, Component: "taskmon", Name: m.name}
}

// attrs returns the attributes of a record about the task named task: the
// monitor's, the task's, then more.
func (m *Monitor) attrs(task string, more ...slog.Attr) []slog.Attr {
	return append(m.sink().Attrs(slog.String("task", task)), more...)
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
		contain.Call(func() { fn(te) }, func(v any, stack []byte) {
			m.mu.Lock()
			m.stats.CallbackPanics++
			m.mu.Unlock()
			if m.met != nil {
				m.met.callbackPanics.Inc()
			}
			m.logger().LogAttrs(ctx, slog.LevelError, "callback panicked",
				m.attrs(te.Name, slog.String("callback", which), logs.PanicValue(v), logs.StackTrace(stack))...)
		})
	}()
	<-done
}

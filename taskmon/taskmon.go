package taskmon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/steadfast-go/steadfast/internal/logattr"

	"github.com/steadfast-go/steadfast/internal/errjson"
)

// Config configures a Monitor. The zero value is valid: every field has a
// default, and no value of any field is invalid.
type Config struct {
	// Name identifies the monitor: it is the constant label "name" on its
	// metrics and the "name" attribute of its log records, so several
	// monitors with different names can share one registry. Monitors given
	// the same Name and Registerer share (and add to) the same series: New
	// returns no error, so it cannot refuse the second one as the other
	// packages' constructors do. Default "".
	Name string

	// Logger receives a record for every failed, panicked or exited run
	// (level Error), every give-up (Error), every panic in a callback
	// (Error), every restart (Info), every refused task (Warn), and every
	// successful or canceled run (Debug). Default nil: slog.Default(), looked
	// up at each record. Pass slog.New(slog.DiscardHandler) to silence it.
	// Records carry component, name, task, result (the Outcome), error when
	// there is one, and panic and stack for a panic or Goexit.
	Logger *slog.Logger

	// Registerer receives the monitor's metrics (namespace "steadfast",
	// subsystem "taskmon", constant label name=Name): tasks_running (gauge),
	// task_exits_total{result}, restarts_total, give_ups_total,
	// rejected_total, callback_panics_total and
	// task_run_duration_seconds{result} (histogram). A monitor whose
	// collectors are already registered with the same Name shares them; any
	// other registration error is logged and that metric is not exported.
	// Counters are cumulative. Default nil: no metrics.
	Registerer prometheus.Registerer

	// TaskLabel, when true, adds a "task" label holding the task name to
	// tasks_running, task_exits_total, restarts_total, give_ups_total and
	// task_run_duration_seconds. Every distinct name creates series that are
	// never deleted, so set it only when task names come from a small fixed
	// set. Default false: no per-task labels.
	TaskLabel bool

	// OnError is called once for every failed, panicked or exited run of
	// every task of this monitor, after that task's own Spec.OnError; for the
	// run after which a supervised task is given up, TaskError.Err wraps
	// ErrGaveUp and that run's error. It is not called for successful or
	// canceled runs, nor for refused tasks. It runs on a goroutine of its own,
	// outside the monitor's locks, and the task waits for it: while it blocks,
	// that task is not done (and not restarted), but no other task and no
	// method of the monitor waits for it. A panic or runtime.Goexit in it is
	// recovered, logged and counted (Stats.CallbackPanics). Default nil.
	OnError func(TaskError)
}

// Stats counts what a Monitor has done since New. Every count is exact once
// the tasks concerned are done: a task's counts are updated before its Done
// channel closes.
type Stats struct {
	// Running is the number of tasks started and not yet done. A supervised
	// task counts once from Supervise until it will not be restarted again,
	// including while it waits to restart.
	Running int `json:"running"`

	// Succeeded, Failed, Panicked and Canceled count runs by outcome: a
	// supervised task adds one per run, a task started by Go adds one. Failed
	// includes runs that called runtime.Goexit (OutcomeExited).
	Succeeded uint64 `json:"succeeded"`
	Failed    uint64 `json:"failed"`
	Panicked  uint64 `json:"panicked"`
	Canceled  uint64 `json:"canceled"`

	// Restarts counts runs of supervised tasks after their first one. A
	// task canceled while it waits to restart adds no run.
	Restarts uint64 `json:"restarts"`

	// GaveUp counts supervised tasks that ended because they exceeded
	// Spec.MaxRestarts within Spec.Period.
	GaveUp uint64 `json:"gave_up"`

	// Rejected counts tasks refused without running: started after
	// Shutdown (ErrClosed) or given a nil context or function.
	Rejected uint64 `json:"rejected"`

	// CallbackPanics counts panics and runtime.Goexit calls recovered from
	// OnError callbacks.
	CallbackPanics uint64 `json:"callback_panics"`
}

// count adds one run with outcome o.
func (st *Stats) count(o Outcome) {
	switch o {
	case OutcomeSuccess:
		st.Succeeded++
	case OutcomeCanceled:
		st.Canceled++
	case OutcomePanic:
		st.Panicked++
	default:
		st.Failed++
	}
}

// TaskInfo describes a task that is not yet done.
type TaskInfo struct {
	// ID is unique among the tasks of one monitor (names may repeat); IDs
	// increase in start order.
	ID uint64 `json:"id"`
	// Name is the name given to Go or in Spec.Name.
	Name string `json:"name"`
	// Supervised is true for a task started by Supervise.
	Supervised bool `json:"supervised"`
	// Started is when Go or Supervise started the task.
	Started time.Time `json:"started"`
	// Restarts is how many times a supervised task has been restarted.
	Restarts int `json:"restarts"`
	// LastErr is the error of the task's most recent failed, panicked or
	// exited run, or nil.
	LastErr error `json:"last_error"`
}

// MarshalJSON writes the fields under their snake_case keys, LastErr as its
// message under "last_error" (null when nil).
func (i TaskInfo) MarshalJSON() ([]byte, error) {
	type plain TaskInfo // without this method
	return json.Marshal(struct {
		plain
		LastErr any `json:"last_error"`
	}{plain(i), errjson.Message(i.LastErr)})
}

// Monitor runs named background tasks, reports each failure (log, metrics,
// callbacks), restarts supervised tasks, and shuts them all down. Create one
// with New; a zero Monitor is also ready to use, with the defaults of
// Config{}. It is safe for concurrent use.
type Monitor struct {
	mu     sync.Mutex
	nextID uint64
	// first and last hold the tasks not yet done, in start order, linked by
	// Task.prev and next. A task joins when it starts and leaves as its Done
	// closes, so one mutex serves both. A task started by Go costs four
	// allocations: the Task, its context, its cancel function and its
	// goroutine. Done makes its channel on first call; Wait needs none.
	first, last *Task
	closed      bool    // Shutdown was called
	stopping    []*Task // tasks not done when Shutdown was first called
	stats       Stats   // Running counts the linked tasks

	// Set by New, then only read.
	name    string
	log     *slog.Logger // nil: slog.Default(), looked up at each record
	onError func(TaskError)
	met     *metrics                                                 // nil: no metrics
	jitter  func(base, max time.Duration, attempt int) time.Duration // nil: backoff.Full
}

// New returns a Monitor configured by cfg. It starts no goroutine; each task
// it runs is one goroutine (two while a supervised task runs, plus one while
// an OnError callback runs).
func New(cfg Config) *Monitor {
	m := &Monitor{name: cfg.Name, log: cfg.Logger, onError: cfg.OnError}
	if cfg.Registerer != nil {
		m.met = newMetrics(m, cfg.Registerer, cfg.TaskLabel)
	}
	return m
}

// Go starts fn(ctx') on a new goroutine as a task named name and returns it
// at once. ctx' is a child of ctx (made by context.WithCancelCause) that
// Task.Cancel and Shutdown cancel. fn runs once; its outcome is counted,
// logged, and (for a failure, panic or runtime.Goexit) passed to
// Config.OnError before the task's Done channel closes. Names need not be
// unique.
//
// Go never blocks and never panics: after Shutdown, or with a nil ctx or fn,
// it returns a task that is already done, whose Err is ErrClosed or an error
// describing the bad argument.
func (m *Monitor) Go(ctx context.Context, name string, fn func(context.Context) error) *Task {
	switch {
	case ctx == nil:
		return m.reject(name, fmt.Errorf("taskmon: Go %q: nil Context", name))
	case fn == nil:
		return m.reject(name, fmt.Errorf("taskmon: Go %q: nil function", name))
	}
	t, ctx := m.start(ctx, name, false)
	if t == nil {
		return m.reject(name, ErrClosed)
	}
	go t.run(ctx, fn, nil)
	return t
}

// start makes a task and its context, a child of parent, and adds it to the
// live tasks; it returns a nil task after Shutdown. The context is made
// outside the lock: it calls parent's methods.
func (m *Monitor) start(parent context.Context, name string, supervised bool) (*Task, context.Context) {
	ctx, cancel := context.WithCancelCause(parent)
	t := &Task{m: m, name: name, supervised: supervised, started: time.Now(), cancel: cancel}
	t.wait.Add(1)
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		cancel(nil)
		return nil, nil
	}
	m.nextID++
	t.id = m.nextID
	t.prev = m.last
	if m.last != nil {
		m.last.next = t
	} else {
		m.first = t
	}
	m.last = t
	m.stats.Running++
	m.mu.Unlock()
	if m.met != nil {
		m.met.start(name)
	}
	return t, ctx
}

// reject returns a task that is already done with err.
func (m *Monitor) reject(name string, err error) *Task {
	t := &Task{m: m, name: name, started: time.Now(), ended: true, err: err, outcome: OutcomeFailure}
	m.mu.Lock()
	m.stats.Rejected++
	m.mu.Unlock()
	if m.met != nil {
		m.met.rejected.Inc()
	}
	m.logger().LogAttrs(context.Background(), slog.LevelWarn, "task refused",
		m.attrs(name, logattr.Err(err))...)
	return t
}

// finish records t's end: it cancels t's context, counts the final run
// (unless t is supervised: then every run was counted as it ended), and
// marks t done. Callers run the callbacks before it. A task leaves the list
// of tasks not done and closes Done under one lock, so that whoever no
// longer finds it there finds it done.
func (m *Monitor) finish(t *Task, o Outcome, err error) {
	t.cancel(nil)
	if m.met != nil {
		m.met.stop(t.name) // before Done closes, like the rest of the bookkeeping
	}
	m.mu.Lock()
	if t.prev != nil {
		t.prev.next = t.next
	} else {
		m.first = t.next
	}
	if t.next != nil {
		t.next.prev = t.prev
	} else {
		m.last = t.prev
	}
	t.prev, t.next = nil, nil
	m.stats.Running--
	if !t.supervised {
		m.stats.count(o)
	}
	t.outcome, t.err, t.ended = o, err, true
	if t.done != nil {
		close(t.done)
	}
	m.mu.Unlock()
	t.wait.Done()
}

// liveTasks returns the tasks not yet done, in start order; mu is held.
func (m *Monitor) liveTasks() []*Task {
	ts := make([]*Task, 0, m.stats.Running)
	for t := m.first; t != nil; t = t.next {
		ts = append(ts, t)
	}
	return ts
}

// Wait blocks until every task started before the call is done. A
// supervised task is done only when it will not be restarted again, so Wait
// also waits through its restarts (and, for Always, until its context is
// canceled). Tasks started during the call are not waited for. After Wait,
// Stats includes the outcomes of all those tasks.
func (m *Monitor) Wait() {
	m.mu.Lock()
	ts := m.liveTasks()
	m.mu.Unlock()
	for _, t := range ts {
		t.wait.Wait()
	}
}

// Shutdown stops the monitor: from then on Go and Supervise return tasks that
// failed with ErrClosed. It cancels the context of every task not yet done
// with cause ErrShutdown (no supervised task is restarted after that) and
// waits until they have all ended or ctx is done, whichever comes first.
//
// It returns errors.Join of a TaskError for each of those tasks that ended
// with an error (a failure, a panic, runtime.Goexit or a give-up; tasks that
// return after their cancellation are canceled, not failed), and, for each
// that has not ended, an error wrapping ErrNotStopped and ctx's cause that
// names it. Nil means every task stopped cleanly.
//
// Shutdown is idempotent and safe to call concurrently: every call concerns
// the same tasks (those not done at the first call), waits again for those
// still running, and reports on all of them. With a nil ctx it returns an
// error and does nothing.
func (m *Monitor) Shutdown(ctx context.Context) error {
	if ctx == nil {
		return errors.New("taskmon: Shutdown: nil Context")
	}
	m.mu.Lock()
	if !m.closed {
		m.closed = true
		m.stopping = m.liveTasks()
	}
	stopping := m.stopping
	m.mu.Unlock()

	for _, t := range stopping {
		t.cancel(ErrShutdown)
	}
wait:
	for _, t := range stopping {
		select {
		case <-t.Done():
		case <-ctx.Done():
			break wait
		}
	}

	var errs []error
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, t := range stopping {
		switch {
		case !t.ended:
			errs = append(errs, fmt.Errorf("%w: %q (id %d): %w", ErrNotStopped, t.name, t.id, context.Cause(ctx)))
		case t.err != nil:
			errs = append(errs, TaskError{Name: t.name, Err: t.err, Outcome: t.outcome})
		}
	}
	return errors.Join(errs...)
}

// Tasks returns the tasks not yet done, in start order.
func (m *Monitor) Tasks() []TaskInfo {
	m.mu.Lock()
	defer m.mu.Unlock()
	var infos []TaskInfo
	for t := m.first; t != nil; t = t.next {
		infos = append(infos, TaskInfo{ID: t.id, Name: t.name, Supervised: t.supervised,
			Started: t.started, Restarts: t.restarts, LastErr: t.lastErr})
	}
	return infos
}

// Stats returns the monitor's counts.
func (m *Monitor) Stats() Stats {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.stats
}

package taskmon

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/steadfast-go/steadfast/internal/backoff"
)

// Config configures a Monitor. The zero value is valid: every field has a
// default, and no value of any field is invalid.
type Config struct {
	// Name identifies the monitor: it is the constant label "name" on its
	// metrics and the "monitor" attribute of its log records, so several
	// monitors with different names can share one registry. Monitors given
	// the same Name and Registerer share (and add to) the same series: New
	// returns no error, so it cannot refuse the second one as the other
	// packages' constructors do. Default "".
	Name string

	// Logger receives a record for every failed, panicked or exited run
	// (level Error, with the attributes monitor, task, outcome, error, and
	// stack for panics), every give-up (Error), every panic in a callback
	// (Error), every restart (Info), every refused task (Warn), and every
	// successful or cancelled run (Debug). Default nil: slog.Default(), looked
	// up at each record. Pass slog.New(slog.DiscardHandler) to silence it.
	Logger *slog.Logger

	// Registerer receives the monitor's metrics (namespace "steadfast",
	// subsystem "taskmon", constant label name=Name): tasks_running (gauge),
	// task_exits_total{outcome}, restarts_total, give_ups_total,
	// rejected_total, callback_panics_total and
	// task_run_duration_seconds{outcome} (histogram). A monitor whose
	// collectors are already registered with the same Name shares them.
	// Default nil: no metrics.
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
	// cancelled runs, nor for refused tasks. It runs on a goroutine of its own,
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
	Running int

	// Succeeded, Failed, Panicked and Cancelled count runs by outcome: a
	// supervised task adds one per run, a task started by Go adds one. Failed
	// includes runs that called runtime.Goexit (OutcomeExited).
	Succeeded uint64
	Failed    uint64
	Panicked  uint64
	Cancelled uint64

	// Restarts counts runs of supervised tasks after their first one.
	Restarts uint64

	// GaveUp counts supervised tasks that ended because they exceeded
	// Spec.MaxRestarts within Spec.Period.
	GaveUp uint64

	// Rejected counts tasks refused without running: started after
	// Shutdown (ErrClosed) or given a nil context or function.
	Rejected uint64

	// CallbackPanics counts panics and runtime.Goexit calls recovered from
	// OnError callbacks.
	CallbackPanics uint64
}

// TaskInfo describes a task that is not yet done.
type TaskInfo struct {
	// ID is unique among the tasks of one monitor (names may repeat); IDs
	// increase in start order.
	ID uint64
	// Name is the name given to Go or in Spec.Name.
	Name string
	// Supervised is true for a task started by Supervise.
	Supervised bool
	// Started is when Go or Supervise started the task.
	Started time.Time
	// Restarts is how many times a supervised task has been restarted.
	Restarts int
	// LastErr is the error of the task's most recent failed, panicked or
	// exited run, or nil.
	LastErr error
}

// Monitor runs named background tasks, reports each failure (log, metrics,
// callbacks), restarts supervised tasks, and shuts them all down. Create one
// with New; a zero Monitor is also ready to use, with the defaults of
// Config{}. It is safe for concurrent use.
type Monitor struct {
	name    string
	log     *slog.Logger
	onError func(TaskError)
	met     *metrics // nil: no metrics
	jitter  func(base, max time.Duration, attempt int) time.Duration
	epoch   time.Time // task start times are kept relative to it

	nextID atomic.Uint64
	closed atomic.Bool // set under mu; read by add under a shard's mu

	mu       sync.Mutex
	stopping []*Task // tasks not done when Shutdown was first called
	ending   []*Task // tasks done then but not yet ended
	stats    Stats   // Rejected, GaveUp and CallbackPanics; the rest is in shards

	shards [nShards]shard // the tasks not yet swept, and per-run counts (live.go)
}

// New returns a Monitor configured by cfg. It starts no goroutine; each task
// it runs is one goroutine (two while a supervised task runs, plus one while
// an OnError callback runs).
func New(cfg Config) *Monitor {
	m := &Monitor{
		name:    cfg.Name,
		log:     cfg.Logger,
		onError: cfg.OnError,
		jitter:  backoff.Full,
		epoch:   time.Now(),
	}
	if cfg.Registerer != nil {
		m.met = newMetrics(m, cfg.Registerer, cfg.Name, cfg.TaskLabel)
	}
	return m
}

// now returns the monotonic time since New: cheaper than time.Now, whose
// wall-clock reading the hot path does not need. A zero Monitor has no
// epoch and uses Unix time.
func (m *Monitor) now() time.Duration {
	if m.epoch.IsZero() {
		return time.Duration(time.Now().UnixNano())
	}
	return time.Since(m.epoch)
}

// at returns the time that now returned d.
func (m *Monitor) at(d time.Duration) time.Time {
	if m.epoch.IsZero() {
		return time.Unix(0, int64(d))
	}
	return m.epoch.Add(d)
}

func (m *Monitor) logger() *slog.Logger {
	if m.log != nil {
		return m.log
	}
	return slog.Default()
}

// Go starts fn(ctx') on a new goroutine as a task named name and returns it
// at once. ctx' is a child of ctx that Task.Cancel and Shutdown cancel. fn
// runs once; its outcome is counted, logged, and (for a failure, panic or
// runtime.Goexit) passed to Config.OnError before the task's Done channel
// closes. Names need not be unique.
//
// Go never blocks and never panics: after Shutdown, or with a nil ctx or fn,
// it returns a task that is already done, whose Err is ErrClosed or an error
// describing the bad argument.
func (m *Monitor) Go(ctx context.Context, name string, fn func(context.Context) error) *Task {
	switch {
	case ctx == nil:
		return m.reject(name, false, fmt.Errorf("taskmon: Go %q: nil Context", name))
	case fn == nil:
		return m.reject(name, false, fmt.Errorf("taskmon: Go %q: nil function", name))
	}
	t, _ := newTask(ctx, name)
	t.started = m.now()
	if !m.add(t) {
		return m.reject(name, false, ErrClosed)
	}
	go m.runTask(t, fn) // the task's context is t: see context.go
	return t
}

// add gives t its ID and adds it to its shard's tasks; false after
// Shutdown.
func (m *Monitor) add(t *Task) bool {
	t.id = m.nextID.Add(1)
	s := m.shardOf(t.id)
	s.mu.Lock()
	if m.closed.Load() {
		s.mu.Unlock()
		return false
	}
	s.add(t)
	s.mu.Unlock()
	if m.met != nil {
		m.met.start(t.name)
	}
	return true
}

// reject returns a task that is already done with err.
func (m *Monitor) reject(name string, supervised bool, err error) *Task {
	t := &Task{name: name, started: m.now()}
	if supervised {
		t.ext = new(taskExt)
		t.flags.Or(flagSupervised)
	}
	t.markDone(err)
	m.mu.Lock()
	m.stats.Rejected++
	m.mu.Unlock()
	if m.met != nil {
		m.met.rejected.Inc()
	}
	m.logger().LogAttrs(context.Background(), slog.LevelWarn, "taskmon: task refused",
		slog.String("monitor", m.name), slog.String("task", name), slog.Any("error", err))
	return t
}

// finish records t's end: it cancels t's context, marks t done with its
// final run's outcome (which the shard counts when it sweeps t, unless t
// is supervised: then every run was counted as it ended) and closes Done.
// Callers run the callbacks before it.
func (m *Monitor) finish(t *Task, o Outcome, err error) {
	if m.met != nil {
		m.met.stop(t.name) // before Done closes, like the rest of the bookkeeping
	}
	t.end(o, err)
	t.wait.Done()         // Task.Wait and Err, which wait on it, find Done closed
	t.flags.Or(flagEnded) // Wait and Shutdown, which wait on it too, need t no longer
}

// Wait blocks until every task started before the call is done. A
// supervised task is done only when it will not be restarted again, so Wait
// also waits through its restarts (and, for Always, until its context is
// cancelled). Tasks started during the call are not waited for. After Wait,
// Stats includes the outcomes of all those tasks, and the monitor no longer
// holds them.
func (m *Monitor) Wait() {
	ts := m.live()
	for _, t := range ts {
		t.wait.Wait()
	}
	if len(ts) > 0 {
		m.sweep() // the tasks waited for have ended: let them go
	}
}

// Shutdown stops the monitor: from then on Go and Supervise return tasks that
// failed with ErrClosed. It cancels the context of every task not yet done
// with cause ErrShutdown (no supervised task is restarted after that) and
// waits until they have all ended or ctx is done, whichever comes first.
//
// It returns errors.Join of a TaskError for each of those tasks that ended
// with an error (a failure, a panic, runtime.Goexit or a give-up; tasks that
// return after their cancellation are cancelled, not failed), and, for each
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
	if !m.closed.Load() {
		// Closed before the tasks are listed: a task that add links after
		// the listing of its shard is refused.
		m.closed.Store(true)
		for _, t := range m.live() {
			if t.isDone() {
				m.ending = append(m.ending, t)
			} else {
				m.stopping = append(m.stopping, t)
			}
		}
	}
	stopping, ending := m.stopping, m.ending
	m.mu.Unlock()

	for _, t := range stopping {
		t.cancel(true)
	}
	// Tasks done before the first call are not Shutdown's concern, but
	// those that were still closing their Done are waited for, so that
	// none is still closing it when Shutdown returns. They run none of the
	// user's code any more: this takes a moment at most, so ctx is not
	// consulted.
	for _, t := range ending {
		t.wait.Wait()
	}
wait:
	for _, t := range stopping {
		select {
		case <-t.Done():
		case <-ctx.Done():
			break wait
		}
	}

	// A task's err and outcome are final once it is done (isDone).
	var errs []error
	for _, t := range stopping {
		switch {
		case !t.isDone():
			errs = append(errs, fmt.Errorf("%w: %q (id %d): %w", ErrNotStopped, t.name, t.id, context.Cause(ctx)))
		case t.error() != nil:
			errs = append(errs, TaskError{Name: t.name, Err: t.error(), Outcome: t.outcome()})
		}
	}
	return errors.Join(errs...)
}

// Tasks returns the tasks not yet done, in start order.
func (m *Monitor) Tasks() []TaskInfo {
	var infos []TaskInfo
	for i := range m.shards {
		s := &m.shards[i]
		s.mu.Lock()
		s.sweep()
		for _, t := range s.tasks {
			if t.isDone() {
				continue
			}
			info := TaskInfo{
				ID:         t.id,
				Name:       t.name,
				Supervised: t.supervised(),
				Started:    m.at(t.started),
			}
			if info.Supervised {
				info.Restarts = t.ext.restarts
				info.LastErr = t.ext.lastErr
			}
			infos = append(infos, info)
		}
		s.mu.Unlock()
	}
	slices.SortFunc(infos, func(a, b TaskInfo) int { return cmp.Compare(a.ID, b.ID) })
	return infos
}

// Stats returns the monitor's counts. The shards are read in turn: counts
// are exact once the tasks concerned are done. Like Tasks, it looks at
// every task the monitor holds, so its cost grows with the number of
// running tasks; the metrics (Config.Registerer) cost nothing to read.
func (m *Monitor) Stats() Stats {
	m.mu.Lock()
	st := m.stats
	m.mu.Unlock()
	for i := range m.shards {
		m.shards[i].addStats(&st)
	}
	return st
}

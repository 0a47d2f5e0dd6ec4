// Package taskmon implements a task monitor: it runs the named background
// tasks of a long-lived service, restarts the ones that must keep running,
// shuts them all down, and never lets a failure pass silently (each one is
// logged, counted and passed to a callback).
//
//	m := taskmon.New(taskmon.Config{Name: "feed", Registerer: reg})
//	m.Go(ctx, "warm-cache", warmCache) // runs once
//	m.Supervise(ctx, taskmon.Spec{Name: "stream", Run: stream, Restart: taskmon.Always})
//	...
//	err := m.Shutdown(shutdownCtx) // cancels every task and waits for them
//
// Defaults. Config{} is valid, and so is a zero Monitor: Name "", Logger
// slog.Default() (looked up at each record), Registerer nil (no metrics),
// TaskLabel false, OnError nil. A Spec needs only Run; Restart OnFailure,
// Backoff 100ms (or MaxBackoff when that is set and smaller), MaxBackoff 30s
// (or Backoff when that is larger), Healthy 10s, MaxRestarts 10 (negative:
// no limit), Period 1m. Any other negative duration is refused by Supervise
// with an error naming the field.
//
// Every run of a task ends with one Outcome: success, canceled, failure,
// panic or exited (runtime.Goexit, counted as a failure). A panic becomes a
// *PanicError with the stack; runtime.Goexit becomes a *PanicError whose
// Value is ErrGoexit, so errors.Is(err, ErrGoexit) tells it apart.
//
// Supervising a one-shot Run: Supervise calls Spec.Run again for each
// restart, so Run must be able to run again after it returned. The module's
// own Run methods can (a reloader.Reloader, a mockstate.Store and the mock
// source may be run again once their Run has returned). A value whose Run
// works only once is supervised with Restart: Never, so that its failure is
// reported and never retried against a stopped value:
//
//	m.Supervise(ctx, taskmon.Spec{Name: "once", Run: v.Run, Restart: taskmon.Never})
//
// To restart such a value, let Spec.Run make a new one for each run (mind
// its metrics: a second value with the same Name is refused by a Registerer
// that still holds the first one's).
//
// # Contexts and cancellation
//
// Each task runs with its own context.WithCancelCause child of the context
// given to Go or Supervise (all runs of a supervised task share it).
// Task.Cancel cancels it with cause context.Canceled, Shutdown with cause
// ErrShutdown, and the monitor cancels it when the task ends, before Done
// closes, so that anything tied to it is released; context.Cause(ctx) tells
// these apart.
//
// A run is canceled only when its function returns a non-nil error while
// the task's own context is done (Task.Cancel, Shutdown, or the context
// given to Go or Supervise); whatever that error is, it is not reported. A
// context.Canceled returned while the task's own context is not done came
// from some other context: it is a failure. A function that returns nil is
// a success, even after its context was canceled. A panic or a runtime.Goexit is
// never a cancellation.
//
// # Callbacks
//
// Spec.OnError and Config.OnError are called for failed, panicked and exited
// runs, not for successful or canceled ones. They run outside the monitor's lock, on
// a goroutine of their own that the task waits for: a panic (or
// runtime.Goexit) in one is recovered, logged with its stack, counted in
// Stats.CallbackPanics and callback_panics_total, and the task carries on; a
// callback that blocks delays only its own task, which is not done (nor
// restarted) until the callback returns. A task's counts (Stats, Tasks) are
// updated and its callbacks have returned before its Done channel closes, so
// Wait followed by Stats is exact.
//
// # Restarts
//
// Spec.Restart is OnFailure (the default: restart after a failed, panicked
// or exited run), Always (also after a successful run) or Never. No run is
// restarted once the task's context is done. Before restart number n since
// the last healthy run (n = 0, 1, ...), the task's supervisor waits a delay
// drawn uniformly from [0, min(Spec.MaxBackoff, Spec.Backoff·2ⁿ)] ("full
// jitter": many tasks failing together restart spread out). A run is healthy
// when it lasted at least Spec.Healthy, whatever its outcome; a restart after
// a healthy run starts again at n = 0. The delay starts when the run's
// callbacks have returned.
//
// Restart intensity: when a run ends and Spec.MaxRestarts restarts already
// happened within the Spec.Period before that moment (each restart counts
// at the moment the new run starts), the task is given up instead of being
// restarted (Erlang/OTP's MaxR within MaxT): it ends with an error wrapping
// ErrGaveUp and the last run's error, which is logged, counted
// (Stats.GaveUp, give_ups_total) and passed to the callbacks in place of the
// last run's own error. Every restart counts, after successful runs too
// (Always).
// Each supervised task has its own goroutine and timer: one task's failures,
// backoff, give-up or blocking callback never delay another task's restart.
//
// # Stats, Wait and Shutdown
//
// For supervised tasks, Succeeded, Failed, Panicked and Canceled count runs,
// so a supervised task adds one for each of its runs; Restarts counts the
// runs after the first; Running counts tasks, so a supervised task counts
// once, from Supervise until its final run, including while it waits to
// restart. A supervised task canceled while it waits to restart adds no run.
// Task.Err and Shutdown report the final run's error (nil when that run
// succeeded or was canceled, and when the task was canceled while waiting to
// restart).
//
// Wait waits for the tasks started before the call, and for a supervised task
// that means through all its restarts, until it ends for good. Tasks started
// while Wait is blocked are not waited for.
//
// Shutdown: the first call closes the monitor (Go and Supervise then return
// a task already done with ErrClosed) and cancels every task with cause
// ErrShutdown; every call waits for the tasks that were running at the
// first call, until they end or its context is done, and returns
// errors.Join of a TaskError for each that ended with an error and an
// error wrapping ErrNotStopped that names each one still running.
//
// Refused tasks: Go and Supervise never panic. After Shutdown, or given a
// nil context or function, Go returns a task that is already done with an
// error (ErrClosed, or one that names the bad argument); such a task is
// logged at level Warn and counted in Stats.Rejected and rejected_total; it
// is not passed to the callbacks, which concern runs. Supervise returns an
// error for an invalid Spec.
//
// # Observability
//
// Logging goes to Config.Logger (nil: slog.Default(), looked up at each
// record). Failures, panics, Goexits, give-ups and callback panics are logged
// at level Error, restarts at Info, refused tasks at Warn, successful and
// canceled runs at Debug. Records carry component=taskmon, name=Config.Name,
// task, result (the outcome: success, canceled, failure, panic or exited),
// error when there is one, and, for a panic or Goexit, panic and stack.
//
// Metrics go to Config.Registerer (nil: none), with namespace "steadfast",
// subsystem "taskmon" and the constant label name=Config.Name:
// tasks_running (gauge), task_exits_total{result}, restarts_total,
// give_ups_total, rejected_total, callback_panics_total and
// task_run_duration_seconds{result} (histogram). Counters are cumulative.
// Task names are not labels, since they can be unbounded, unless
// Config.TaskLabel opts in.
//
// # Concurrency and cost
//
// Monitor and Task are safe for concurrent use. New starts no goroutine. Go
// starts one goroutine, which runs the function and ends when it returns.
// Supervise starts one goroutine that owns the task for its whole life, plus
// one goroutine per run, which ends when the run's function returns; the
// owner ends when the task will not be restarted again. Each call of an
// OnError callback runs on a goroutine of its own, which the task's
// goroutine waits for and which ends when the callback returns.
//
// The monitor keeps the tasks not yet done in a list under one mutex, which
// a task takes when it starts and when it ends; a task leaves the list as
// its Done channel closes. A task started by Go costs four allocations (the
// Task, its context and cancel function, and its goroutine); Done makes a
// channel on its first call, Wait needs none. bench/taskmon.md in the
// repository compares the cost of a task with a bare goroutine, errgroup,
// conc and suture.
package taskmon

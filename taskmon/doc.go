// Package taskmon implements a task monitor: it runs named background tasks
// of a long-lived service, supervises and restarts the ones that must keep
// running, shuts them all down, and never lets a failure pass silently.
//
// A Monitor starts one-shot tasks with Go and restarting ones with
// Supervise. Every run of a task ends with one Outcome: ok, canceled,
// failed, panicked (the panic becomes a *PanicError carrying the stack), or
// exited (the function called runtime.Goexit, which is counted as a
// failure, never mistaken for success). Each failed, panicked or exited run
// is logged with the task name, the outcome and (for panics) the stack,
// counted in Stats and in the metrics, and passed to the task's Spec.OnError
// and to the monitor-wide Config.OnError.
//
//	m := taskmon.New(taskmon.Config{Name: "feed", Registerer: reg})
//	m.Go(ctx, "warm-cache", warmCache)
//	m.Supervise(ctx, taskmon.Spec{Name: "stream", Run: stream, Restart: taskmon.Always})
//	...
//	err := m.Shutdown(shutdownCtx)
//
// # Concurrency and goroutines
//
// Monitor and Task are safe for concurrent use. A zero Monitor is ready to
// use, like New(Config{}). New starts no goroutine. Go starts one goroutine,
// which runs the function and ends when it returns. Supervise starts one
// goroutine that owns the task for its whole life, plus one goroutine per
// run, which ends when the run's function returns; the owner ends when the
// task will not be restarted again. Each call of an OnError callback runs on
// a goroutine of its own, which the task's goroutine waits for and which ends
// when the callback returns. So every goroutine of a task ends once its
// functions and callbacks have returned; Shutdown cancels every task and
// waits for them, within the limit of its context.
//
// # Semantic choices
//
// Contexts: each task runs with its own child of the context given to Go or
// Supervise (all runs of a supervised task share it). Task.Cancel cancels it
// with cause context.Canceled, Shutdown with cause ErrShutdown, and the
// monitor cancels it when the task ends (before Done closes), so that
// anything the task tied to it is released and the parent context keeps no
// reference to it; context.Cause(ctx) tells these causes apart. The task's
// context behaves as a context.WithCancelCause child of the parent, whatever
// the parent, and from the first call of its Done or Value method on it is
// one: that is when the standard child is made, and it then answers
// everything, so contexts derived from the task's context (whose
// cancellation goes through Done or Value), context.AfterFunc and
// context.Cause work exactly as with any such child. Before that, Err and
// Deadline are answered from the task and the parent, so a task that never
// looks at its context pays no allocation for it. TestTaskContextParity runs the same scenarios against
// a task's context, looked at from the start or only after its
// cancellation, and against a context.WithCancelCause child made directly;
// the package relies on nothing inside the context package.
//
// Canceled: a run is canceled only when its function returns a non-nil
// error while the task's own context is done (Task.Cancel, Shutdown, or the
// context given to Go or Supervise); whatever that error is, it is not
// reported. A context.Canceled returned while the task's own context is not
// done came from some other context: it is a failure. A function that
// returns nil is ok, even after its context was canceled. A panic or a
// runtime.Goexit is never a cancellation.
//
// Callbacks: they are not called for ok or canceled runs. They run outside
// the monitor's locks, on a goroutine of their own that the task waits for:
// a panic (or runtime.Goexit) in one is recovered, logged, counted in
// Stats.CallbackPanics and the callback_panics_total metric, and the task
// carries on; a callback that blocks delays only its own task, which is not
// done (nor restarted) until the callback returns. A task's counts (Stats,
// Tasks) are updated and its callbacks have returned before its Done
// channel closes, so Wait followed by Stats is exact.
//
// Restarts: Spec.Restart is OnFailure (the default: restart after a failed,
// panicked or exited run), Always (also after an ok run) or Never. No run is
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
// last run's own error. Every restart counts, after ok runs too (Always).
//
// Isolation: each supervised task has its own goroutine and timer; one
// task's failures, backoff, give-up or blocking callback never delay another
// task's restart.
//
// Stats for supervised tasks: Succeeded, Failed, Panicked and Canceled count
// runs, so a supervised task adds one for each of its runs; Restarts counts
// the runs after the first; Running counts tasks, so a supervised task
// counts once, from Supervise until its final run, including while it
// waits to restart. A supervised task canceled while it waits to restart
// adds no run. Task.Err and Shutdown report the final run's error (nil when
// that run succeeded or was canceled, and when the task was canceled while
// waiting to restart).
//
// Wait: Wait waits for the tasks started before the call, and for a
// supervised task that means through all its restarts, until it ends for
// good. Tasks started while Wait is blocked are not waited for.
//
// Cost: a task started by Go costs two allocations, the Task (96 bytes)
// and its goroutine's closure, and a clock read for TaskInfo.Started; its
// context costs two more only once something calls its Done or Value.
// Task.Wait waits without a channel; Done makes one on its first call.
// Starting a task takes a lock of one of the monitor's eight shards; ending
// a task started by Go takes none and touches only its Task, so tasks that
// end on other cores do not slow the goroutine that starts them. In exchange, the monitor
// keeps a task's handle for a while after it ends, until the shard is next
// swept: by a later Go that finds the shard's slice full, by the next
// Tasks, Shutdown or Stats, or by Wait once it has waited. The handles it keeps are bounded by a
// small multiple of the most tasks that were running at once.
// bench/taskmon.md in the repository compares the cost of a task with a
// bare goroutine, errgroup, conc and suture.
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
// Logging goes to Config.Logger (nil: slog.Default()). Failures, panics,
// give-ups and callback panics are logged at level Error, restarts at Info,
// refused tasks at Warn, ok and canceled runs at Debug; records carry the
// attributes monitor, task, outcome, error and, for panics, stack.
//
// Metrics go to Config.Registerer (nil: none), with namespace "steadfast",
// subsystem "taskmon" and the constant label name=Config.Name:
// tasks_running (gauge), task_exits_total{outcome}, restarts_total,
// give_ups_total, rejected_total, callback_panics_total and
// task_run_duration_seconds{outcome} (histogram). Counters are cumulative.
// Task names are not labels, since they can be unbounded, unless
// Config.TaskLabel opts in.
package taskmon

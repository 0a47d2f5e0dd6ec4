// Package taskmon implements a task monitor. It runs the named background
// tasks of a long-lived service and restarts the ones that must keep
// running. It shuts them all down on request. It never lets a failure pass
// silently: each one is logged, counted and passed to a callback.
//
//	m := taskmon.New(taskmon.Config{Name: "feed", Registerer: reg})
//	m.Go(ctx, "warm-cache", warmCache) // runs once
//	m.Supervise(ctx, taskmon.Spec{Name: "stream", Run: stream, Restart: taskmon.Always})
//	...
//	err := m.Shutdown(shutdownCtx) // cancels every task and waits for them
//
// Config{} is valid, and so is a zero Monitor. A Spec needs only Run. The
// field docs of Config and Spec give each default. Supervise refuses an
// invalid Spec with an error naming the field.
//
// Every run of a task ends with one Outcome: success, canceled, failure,
// panic or exited. Exited is runtime.Goexit, counted as a failure. A panic
// becomes a *PanicError with its stack. A Goexit becomes a *PanicError
// whose Value is ErrGoexit.
//
// # Cancellation
//
// Each task runs with its own child of the context given to Go or
// Supervise. Task.Cancel cancels it with cause context.Canceled, Shutdown
// with cause ErrShutdown. The monitor also cancels it when the task ends,
// before Done closes. A run is canceled only when it returns an error while
// the task's own context is done; that error is not reported. A
// context.Canceled returned while that context is live came from elsewhere,
// so it is a failure. A run that returns nil is a success, even after
// cancellation.
//
// # Callbacks
//
// Spec.OnError and then Config.OnError are called for failed, panicked and
// exited runs. Each runs outside the monitor's lock, on a goroutine of its
// own that the task waits for. A panic or Goexit in one is recovered,
// logged and counted, and the task carries on. A blocking callback delays
// only its own task. A task's counts are updated and its callbacks have
// returned before its Done channel closes, so Wait followed by Stats is
// exact.
//
// # Restarts
//
// Spec.Restart says which runs are followed by another; no run is restarted
// once the task's context is done. The delay before a restart has full
// jitter and grows exponentially, as Spec.Backoff describes. When a run ends
// and MaxRestarts restarts already happened within Period, the task is
// given up, as in Erlang/OTP. Its error then wraps ErrGaveUp and the last
// run's error. Spec.Run is called again for each restart, so it must be able
// to run again. The module's own Run methods can. Supervise a value whose
// Run works only once with Restart Never, or let Spec.Run make a new value
// each time.
//
// # Stats, Wait and Shutdown
//
// For a supervised task Stats counts each run, and Restarts the runs after
// the first. Running counts tasks, including one waiting to restart.
// Task.Err and Shutdown report the final run's error, or nil when it
// succeeded or was canceled. Wait waits for the tasks started before the
// call, through all their restarts.
//
// The first Shutdown closes the monitor and cancels every task with cause
// ErrShutdown. Every Shutdown waits for those tasks until they end or its
// context is done. It returns errors.Join of a TaskError for each task that
// failed and an error wrapping ErrNotStopped for each still running.
//
// Go and Supervise never panic. After Shutdown, or given a nil context or
// function, Go returns a task already done with an error: ErrClosed, or one
// naming the bad argument. Such a task is logged at Warn and counted in
// Stats.Rejected, but not passed to the callbacks.
//
// # Goroutines
//
// Monitor and Task are safe for concurrent use. New starts no goroutine. Go
// starts one, which ends when the function returns. Supervise starts one
// that owns the task for its life, plus one per run. Each callback call
// has a goroutine of its own. A task costs about 1.7 times an errgroup.Go
// (bench/taskmon.md).
package taskmon

package taskmon

import (
	"errors"
	"fmt"
)

// Sentinel errors. Compare with errors.Is: the errors the monitor returns
// wrap them with the task's name and details.
var (
	// ErrShutdown is the cause with which Shutdown cancels the context of
	// every task: inside a task, context.Cause(ctx) returns ErrShutdown.
	ErrShutdown = errors.New("taskmon: monitor shut down")

	// ErrClosed is the error of a task that Go or Supervise was asked to
	// start after Shutdown: the task never runs and is done at once.
	ErrClosed = errors.New("taskmon: monitor closed")

	// ErrGoexit is the error of a run whose function called
	// runtime.Goexit (outcome OutcomeExited), for example through
	// testing.T.FailNow. It is counted as a failure, never as a success.
	ErrGoexit = errors.New("taskmon: task called runtime.Goexit")

	// ErrGaveUp is wrapped by the error of a supervised task that needed
	// more than Spec.MaxRestarts restarts within Spec.Period. The same error
	// also wraps the error of the last run, when it had one.
	ErrGaveUp = errors.New("taskmon: gave up restarting")

	// ErrNotStopped is wrapped by the error Shutdown returns for each task
	// that had not ended when Shutdown's context was done; that error names
	// the task and also wraps the context's cause.
	ErrNotStopped = errors.New("taskmon: task did not stop")
)

// Outcome says how one run of a task ended.
type Outcome uint8

// The outcomes of a run. The zero value is OutcomeOK.
const (
	// OutcomeOK: the function returned nil.
	OutcomeOK Outcome = iota
	// OutcomeCancelled: the function returned an error after the task's own
	// context was done (Task.Cancel, Shutdown, or the context given to Go
	// or Supervise). Its error is not reported: Task.Err is nil and the
	// OnError callbacks are not called.
	OutcomeCancelled
	// OutcomeFailed: the function returned an error while the task's own
	// context was not done. A context.Canceled that comes from some other
	// context is a failure.
	OutcomeFailed
	// OutcomePanicked: the function panicked; its error is a *PanicError.
	OutcomePanicked
	// OutcomeExited: the function called runtime.Goexit; its error is
	// ErrGoexit. Stats counts it under Failed.
	OutcomeExited
)

// String returns "ok", "cancelled", "failed", "panicked" or "exited"; these
// are also the values of the outcome label on the monitor's metrics.
func (o Outcome) String() string {
	switch o {
	case OutcomeOK:
		return "ok"
	case OutcomeCancelled:
		return "cancelled"
	case OutcomeFailed:
		return "failed"
	case OutcomePanicked:
		return "panicked"
	case OutcomeExited:
		return "exited"
	}
	return fmt.Sprintf("Outcome(%d)", uint8(o))
}

// failure reports whether the outcome is one the callbacks hear about.
func (o Outcome) failure() bool { return o >= OutcomeFailed }

// TaskError describes one failed run of a task; it is what the OnError
// callbacks receive and what Shutdown joins. Err is the run's error: the
// function's own error, a *PanicError, ErrGoexit, or an error wrapping
// ErrGaveUp when the monitor gave up on a supervised task (in that last case
// Outcome is the outcome of the final run).
type TaskError struct {
	Name    string
	Err     error
	Outcome Outcome
}

// Error returns a message with the task name, the outcome and the error.
func (e TaskError) Error() string {
	if pe, ok := e.Err.(*PanicError); ok && pe.Task == e.Name {
		return pe.Error() // it names the task already
	}
	if errors.Is(e.Err, ErrGaveUp) {
		return e.Err.Error() // so does the give-up error
	}
	return fmt.Sprintf("taskmon: task %q %s: %v", e.Name, e.Outcome, e.Err)
}

// Unwrap returns Err.
func (e TaskError) Unwrap() error { return e.Err }

// PanicError is the error of a run that panicked.
type PanicError struct {
	// Task is the name of the task that panicked.
	Task string
	// Value is the value passed to panic (a *runtime.PanicNilError for
	// panic(nil)).
	Value any
	// Stack is the goroutine's stack trace at the time of the panic, as
	// formatted by runtime/debug.Stack.
	Stack []byte
}

// Error returns the task name and the panic value; the stack is left out.
func (e *PanicError) Error() string {
	return fmt.Sprintf("taskmon: task %q panicked: %v", e.Task, e.Value)
}

// Unwrap returns Value when it is an error, so that errors.Is and errors.As
// see through a panic(err); otherwise nil.
func (e *PanicError) Unwrap() error {
	err, _ := e.Value.(error)
	return err
}

package taskmon

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/steadfast-go/steadfast/internal/errjson"
	"github.com/steadfast-go/steadfast/internal/logs"
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

	// ErrGoexit is the Value of the *PanicError of a run whose function
	// called runtime.Goexit (outcome OutcomeExited), for example through
	// testing.T.FailNow: errors.Is(err, ErrGoexit) tells it from a panic.
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

// The outcomes of a run. The zero value is OutcomeSuccess.
const (
	// OutcomeSuccess: the function returned nil.
	OutcomeSuccess Outcome = iota
	// OutcomeCanceled: the function returned an error after the task's own
	// context was done (Task.Cancel, Shutdown, or the context given to Go
	// or Supervise). Its error is not reported: Task.Err is nil and the
	// OnError callbacks are not called.
	OutcomeCanceled
	// OutcomeFailure: the function returned an error while the task's own
	// context was not done. A context.Canceled that comes from some other
	// context is a failure.
	OutcomeFailure
	// OutcomePanic: the function panicked; its error is a *PanicError.
	OutcomePanic
	// OutcomeExited: the function called runtime.Goexit; its error is a
	// *PanicError whose Value is ErrGoexit. Stats counts it under Failed.
	OutcomeExited
)

var outcomeNames = enum{"Outcome", []string{
	logs.ResultSuccess, logs.ResultCanceled, logs.ResultFailure, logs.ResultPanic, logs.ResultExited,
}}

// String returns "success", "canceled", "failure", "panic" or "exited"; these
// are also the values of the result label on the monitor's metrics and of
// the result attribute of its log records.
func (o Outcome) String() string { return outcomeNames.String(uint8(o)) }

// MarshalText returns the outcome's String; an unknown outcome is an error.
func (o Outcome) MarshalText() ([]byte, error) { return outcomeNames.MarshalText(uint8(o)) }

// UnmarshalText parses what MarshalText returns.
func (o *Outcome) UnmarshalText(b []byte) error { return outcomeNames.UnmarshalText((*uint8)(o), b) }

// enum holds the words of an enum type's values, for its methods.
type enum struct {
	kind  string   // the type's name
	words []string // value i is words[i]
}

func (e enum) String(v uint8) string {
	if int(v) < len(e.words) {
		return e.words[v]
	}
	return fmt.Sprintf("%s(%d)", e.kind, v)
}

func (e enum) MarshalText(v uint8) ([]byte, error) {
	if int(v) >= len(e.words) {
		return nil, fmt.Errorf("taskmon: invalid %s %d", e.kind, v)
	}
	return []byte(e.words[v]), nil
}

func (e enum) UnmarshalText(v *uint8, b []byte) error {
	for i, w := range e.words {
		if w == string(b) {
			*v = uint8(i)
			return nil
		}
	}
	return fmt.Errorf("taskmon: unknown %s %q", e.kind, b)
}

// verb says in an error message how a run with this outcome ended.
func (o Outcome) verb() string {
	switch o {
	case OutcomeSuccess:
		return "succeeded"
	case OutcomeCanceled:
		return "was canceled"
	case OutcomeFailure:
		return "failed"
	case OutcomePanic:
		return "panicked"
	case OutcomeExited:
		return "called runtime.Goexit"
	}
	return o.String()
}

// failure reports whether the outcome is one the callbacks hear about.
func (o Outcome) failure() bool { return o >= OutcomeFailure }

// TaskError describes one failed run of a task; it is what the OnError
// callbacks receive and what Shutdown joins. Err is the run's error: the
// function's own error, a *PanicError, or an error wrapping ErrGaveUp when
// the monitor gave up on a supervised task (in that last case Outcome is
// the outcome of the final run).
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
	return fmt.Sprintf("taskmon: task %q %s: %v", e.Name, e.Outcome.verb(), e.Err)
}

// Unwrap returns Err.
func (e TaskError) Unwrap() error { return e.Err }

// MarshalJSON writes {"name", "error", "outcome"}: Err as its message
// (null when nil) and Outcome as its word.
func (e TaskError) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Name    string  `json:"name"`
		Err     any     `json:"error"`
		Outcome Outcome `json:"outcome"`
	}{e.Name, errjson.Message(e.Err), e.Outcome})
}

// PanicError is the error of a run that panicked or called runtime.Goexit.
type PanicError struct {
	// Task is the name of the task that panicked.
	Task string
	// Value is the value passed to panic (a *runtime.PanicNilError for
	// panic(nil)), or ErrGoexit when the function called runtime.Goexit.
	Value any
	// Stack is the goroutine's stack trace at the time of the panic (or of
	// runtime.Goexit), as formatted by runtime/debug.Stack.
	Stack []byte
}

// Error returns the task name and the panic value; the stack is left out.
func (e *PanicError) Error() string {
	if e.Value == ErrGoexit {
		return fmt.Sprintf("taskmon: task %q called runtime.Goexit", e.Task)
	}
	return fmt.Sprintf("taskmon: task %q panicked: %v", e.Task, e.Value)
}

// Unwrap returns Value when it is an error, so that errors.Is and errors.As
// see through a panic(err) (and find ErrGoexit); otherwise nil.
func (e *PanicError) Unwrap() error {
	err, _ := e.Value.(error)
	return err
}

// MarshalJSON writes {"task", "value", "stack"}: Value as fmt.Sprint prints
// it (an error's message) and Stack as text.
func (e *PanicError) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Task string `json:"task"`
		errjson.Panic
	}{e.Task, errjson.PanicOf(e.Value, e.Stack)})
}

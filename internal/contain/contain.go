// Package contain runs a user's function so that neither a panic nor a
// runtime.Goexit in it escapes unreported. Every site of the module that
// calls user code goes through Call.
package contain

import "runtime/debug"

// exit is the type of Goexit, so that no value a user panics with equals it.
type exit string

// Goexit is the value Call reports for a function that called
// runtime.Goexit rather than panicking. It prints as "runtime.Goexit".
const Goexit exit = "runtime.Goexit"

// Call calls fn and reports whether it returned. A panic in fn is
// recovered: report gets its value and the stack where it was recovered,
// and Call returns false. A runtime.Goexit is reported with the value
// Goexit; it cannot be stopped, so once report returns the calling
// goroutine goes on ending and Call does not return.
func Call(fn func(), report func(v any, stack []byte)) (returned bool) {
	defer func() {
		if returned {
			return
		}
		v := recover()
		if v == nil { // panic(nil) recovers as a *runtime.PanicNilError
			v = Goexit
		}
		report(v, debug.Stack())
	}()
	fn()
	return true
}

// Package errjson is how errors and recovered panics marshal to JSON in
// every package of the module: an error as its message (null when nil), a
// panic's value as fmt.Sprint prints it and its stack as text, under
// snake_case keys. Without it an error field marshals as {}.
package errjson

import "fmt"

// Message returns err's message, or nil (JSON null) when err is nil.
func Message(err error) any {
	if err == nil {
		return nil
	}
	return err.Error()
}

// Panic is the JSON form of a recovered panic. Embed it in the anonymous
// struct a PanicError's MarshalJSON writes, next to the fields of its own.
type Panic struct {
	Value string `json:"value"` // fmt.Sprint of the value: an error's message, a string as is
	Stack string `json:"stack"` // as runtime/debug.Stack formatted it
}

// PanicOf returns the JSON form of the panic value v and its stack.
func PanicOf(v any, stack []byte) Panic {
	return Panic{Value: fmt.Sprint(v), Stack: string(stack)}
}

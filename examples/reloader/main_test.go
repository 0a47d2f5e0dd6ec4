package main

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/steadfast-go/steadfast/internal/progtest"
)

func TestMain(m *testing.M) {
	progtest.RunMain(main)
	goleak.VerifyTestMain(m)
}

// -h says what the example shows and lists its flags; a flag out of range
// or a stray argument stops it with status 2 and a message naming it; and
// it runs.
func TestFlags(t *testing.T) {
	progtest.CheckFlags(t, progtest.Flags{
		Name:    "reloader",
		Bad:     []string{"-debounce", "1s"},
		BadSays: "-debounce must be in [10ms, 400ms], got 1s",
		Run:     []string{"-triggers", "10"},
		RunSays: "triggers ",
	})
}

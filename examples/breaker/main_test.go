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
		Name:    "breaker",
		Bad:     []string{"-threshold", "0"},
		BadSays: "-threshold must be in [1, 100], got 0",
		Run:     []string{"-open-timeout", "50ms"},
		RunSays: "probes that succeed close it",
	})
}

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
		Name:    "mockstate",
		Bad:     []string{"-readers", "0"},
		BadSays: "-readers must be in [1, 64], got 0",
		Run:     []string{"-duration", "200ms"},
		RunSays: "lock-free reads:",
	})
}

package main

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/steadfast-go/steadfast/internal/progtest"
	"github.com/steadfast-go/steadfast/internal/redistest"
)

// TestMain runs the program when a test started the binary as it
// (progtest.Run); otherwise the tests, with go-redis's log lines kept in
// the logs of the tests they concern and a check for leaked goroutines.
func TestMain(m *testing.M) {
	progtest.RunMain(main)
	goleak.VerifyTestMain(redistest.Logged(m))
}

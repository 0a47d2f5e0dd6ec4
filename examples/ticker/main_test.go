package main

import (
	"os"
	"testing"

	"go.uber.org/goleak"

	"github.com/steadfast-go/steadfast/internal/redistest"
)

// envRunMain makes the test binary run the program itself (main, with the
// arguments after the binary's name), so that tests can check its output
// and exit status without building it.
const envRunMain = "STEADFAST_EXAMPLE_TICKER_MAIN"

// TestMain runs main when envRunMain is "1"; otherwise the tests, with
// go-redis's log lines kept in the logs of the tests they concern and a
// check for leaked goroutines.
func TestMain(m *testing.M) {
	if os.Getenv(envRunMain) == "1" {
		main()
		os.Exit(0)
	}
	goleak.VerifyTestMain(redistest.Logged(m))
}

package faults_test

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/steadfast-go/steadfast/internal/redistest"
)

// TestMain keeps go-redis's log lines in the logs of the tests they
// concern (shown when one fails) and checks for leaked goroutines.
func TestMain(m *testing.M) { goleak.VerifyTestMain(redistest.Logged(m)) }

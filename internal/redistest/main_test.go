package redistest

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain keeps go-redis's log lines in the logs of the tests they
// concern (shown when one fails) and checks for leaked goroutines.
func TestMain(m *testing.M) { goleak.VerifyTestMain(Logged(m)) }

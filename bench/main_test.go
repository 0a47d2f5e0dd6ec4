package bench

import (
	"testing"

	"go.uber.org/goleak"
)

// The adapters' tests start goroutines (suture's supervisor, reloaders,
// monitors): none may outlive the tests, except the expiry goroutine of
// golang-lru's expirable LRU, which that version never stops (it has no
// Close; see expirable_lru.go in hashicorp/golang-lru v2.0.7).
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		goleak.IgnoreTopFunction("github.com/hashicorp/golang-lru/v2/expirable.NewLRU[...].func1"))
}

package bench

import (
	"testing"

	"go.uber.org/goleak"
)

// The adapters' tests start goroutines (suture's supervisor, reloaders,
// monitors): none may outlive the tests, except the expiry goroutine of
// golang-lru's expirable LRU, which that version never stops (it has no
// Close; see expirable_lru.go in hashicorp/golang-lru v2.0.7), and go-redis's
// redial loop after a refused dial (engine_test.go's Redis-down cases),
// which sleeps a second between attempts and only then sees that its
// client was closed (pool.go in redis/go-redis v9.23.0).
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		goleak.IgnoreTopFunction("github.com/hashicorp/golang-lru/v2/expirable.NewLRU[...].func1"),
		goleak.IgnoreAnyFunction("github.com/redis/go-redis/v9/internal/pool.(*ConnPool).tryDial"))
}

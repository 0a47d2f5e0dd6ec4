package breaker

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestWindowBulkEqualsOneByOne: adding successes in bulk, as the lazy
// success accounting does, leaves the window exactly as adding them one at a
// time would, including where the bucket boundaries fall.
func TestWindowBulkEqualsOneByOne(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		size := 1 + rng.IntN(60)
		var bulk, single window
		bulk.init(size)
		single.init(size)
		total := uint64(len(bulk.buckets)) * bulk.size
		for range 30 {
			var succ uint64
			switch rng.IntN(3) {
			case 0:
				succ = rng.Uint64N(total * 3) // often more than a lap
			case 1:
				succ = total + rng.Uint64N(bulk.size*2)
			default:
				succ = rng.Uint64N(bulk.size + 1)
			}
			fails := rng.Uint64N(3)
			bulk.add(succ, fails)
			for range succ {
				single.add(1, 0)
			}
			for range fails {
				single.add(0, 1)
			}
			require.Equal(t, single.ordered(), bulk.ordered(), "size %d after %d successes and %d failures", size, succ, fails)
			require.Equal(t, [2]uint64{single.calls, single.fails}, [2]uint64{bulk.calls, bulk.fails})
		}
	}
}

// ordered returns the buckets from the oldest to the one being filled.
func (w *window) ordered() []bucket {
	n := len(w.buckets)
	out := make([]bucket, 0, n)
	for i := 1; i <= n; i++ {
		out = append(out, w.buckets[(w.cur+i)%n])
	}
	return out
}

// add records succ successes, then fails failures, as the newest calls, as
// the breaker's judgement of a failure does.
func (w *window) add(succ, fails uint64) {
	w.addSuccesses(succ)
	for range fails {
		w.addCall(true, false)
	}
}

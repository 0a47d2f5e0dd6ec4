package breaker

import "time"

// timeBuckets is the number of buckets a time window of WindowDuration is
// kept in, each WindowDuration/timeBuckets wide.
const timeBuckets = 10

// window is the rate window: a ring of buckets of calls, guarded by the
// breaker's mutex.
//
// A count window (size > 0) holds size calls per bucket; the ring keeps n
// full buckets (n*size >= Window) plus the bucket being filled, so once warm
// it covers between n*size and (n+1)*size of the most recent calls.
//
// A time window (width > 0) holds the calls reported during width
// nanoseconds per bucket; the ring keeps timeBuckets past buckets plus the
// current one, so a call stays in it for at least WindowDuration and less
// than WindowDuration + width.
type window struct {
	buckets            []bucket
	size               uint64 // calls per bucket of a count window; 0 for a time window
	width              int64  // nanoseconds per bucket of a time window; 0 for a count window
	start              int64  // when the current bucket of a time window began
	cur                int
	calls, fails, slow uint64
}

type bucket struct{ calls, fails, slow uint64 }

// init makes w a count window of size calls.
func (w *window) init(size int) {
	per := max(size/10, 1)
	n := (size + per - 1) / per
	*w = window{size: uint64(per), buckets: make([]bucket, n+1)}
}

// initTime makes w a time window of d, starting at time 0.
func (w *window) initTime(d time.Duration) {
	*w = window{width: int64(d) / timeBuckets, buckets: make([]bucket, timeBuckets+1)}
}

// reset empties w; a time window's current bucket starts at now.
func (w *window) reset(now int64) {
	w.clear()
	if w.width > 0 {
		w.start = now
	}
}

func (w *window) clear() {
	clear(w.buckets)
	w.cur = 0
	w.calls, w.fails, w.slow = 0, 0, 0
}

// addSuccesses records n successes that were not slow as the newest calls.
func (w *window) addSuccesses(n uint64) {
	if w.width > 0 {
		w.buckets[w.cur].calls += n
		w.calls += n
		return
	}
	if total := uint64(len(w.buckets)) * w.size; n >= total {
		// Only successes remain in the window: skip the laps, keeping the
		// bucket boundaries where adding them one by one would put them.
		fill := (w.buckets[w.cur].calls + n) % w.size
		w.clear()
		n = total - w.size + fill
	}
	for n > 0 {
		b := &w.buckets[w.cur]
		s := min(n, w.size-b.calls)
		b.calls += s
		w.calls += s
		n -= s
		w.nextIfFull()
	}
}

// addCall records one call, failed or slow or both, as the newest.
func (w *window) addCall(fail, slow bool) {
	b := &w.buckets[w.cur]
	b.calls++
	w.calls++
	if fail {
		b.fails++
		w.fails++
	}
	if slow {
		b.slow++
		w.slow++
	}
	if w.size > 0 {
		w.nextIfFull()
	}
}

// nextIfFull moves a count window on to the next bucket once the current
// one holds size calls.
func (w *window) nextIfFull() {
	if w.buckets[w.cur].calls >= w.size {
		w.next()
	}
}

// next makes the oldest bucket, emptied, the current one.
func (w *window) next() {
	w.cur = (w.cur + 1) % len(w.buckets)
	old := &w.buckets[w.cur]
	w.calls -= old.calls
	w.fails -= old.fails
	w.slow -= old.slow
	*old = bucket{}
}

// advance moves a time window on to the bucket of time now, dropping the
// buckets that aged out.
func (w *window) advance(now int64) {
	n := (now - w.start) / w.width
	if n <= 0 {
		return
	}
	if n >= int64(len(w.buckets)) {
		w.clear()
	} else {
		for range n {
			w.next()
		}
	}
	w.start += n * w.width
}

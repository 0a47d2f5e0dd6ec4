package breaker

// window is the failure-rate window: a ring of buckets of calls, guarded by
// the breaker's mutex. Each bucket holds size calls; the ring keeps n full
// buckets (n*size >= Window) plus the bucket being filled, so once warm it
// covers between n*size and (n+1)*size of the most recent published calls.
type window struct {
	buckets      []bucket
	size         uint64
	cur          int
	calls, fails uint64
}

type bucket struct{ calls, fails uint64 }

func (w *window) init(size int) {
	per := max(size/10, 1)
	n := (size + per - 1) / per
	*w = window{size: uint64(per), buckets: make([]bucket, n+1)}
}

func (w *window) reset() {
	clear(w.buckets)
	w.cur = 0
	w.calls, w.fails = 0, 0
}

// add records succ successes, then fails failures, as the newest calls.
func (w *window) add(succ, fails uint64) {
	if total := uint64(len(w.buckets)) * w.size; succ >= total {
		// Only successes remain in the window: skip the laps, keeping the
		// bucket boundaries where adding them one by one would put them.
		fill := (w.buckets[w.cur].calls + succ) % w.size
		w.reset()
		succ = total - w.size + fill
	}
	w.addSlow(succ, 0)
	w.addSlow(0, fails)
}

func (w *window) addSlow(succ, fails uint64) {
	for succ+fails > 0 {
		b := &w.buckets[w.cur]
		room := w.size - b.calls
		f := min(fails, room)
		s := min(succ, room-f)
		b.calls += s + f
		b.fails += f
		w.calls += s + f
		w.fails += f
		succ -= s
		fails -= f
		if b.calls >= w.size {
			w.cur = (w.cur + 1) % len(w.buckets)
			old := &w.buckets[w.cur]
			w.calls -= old.calls
			w.fails -= old.fails
			*old = bucket{}
		}
	}
}

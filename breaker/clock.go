package breaker

import (
	"math"
	"time"
)

// The coarse clock. Slow-call detection needs the duration of every call
// and the time window the time of every result; reading the monotonic clock
// twice per call would cost several times the rest of the closed-state path
// (see bench/breaker.md). So a breaker with SlowCallDuration or
// WindowDuration set keeps its own clock in one word, clk, that calls only
// load: a timer (time.AfterFunc) stores the time in it every step while
// calls arrive, and stops one step after the last call, so an idle breaker
// holds no timer and needs no Close.
//
// clk is the time in nanoseconds since New (never negative) while the clock
// runs and a call has read it since the last tick. Otherwise it is negative:
// the bitwise complement of the time of the last tick shifted left by one,
// with the low bit set when the clock stopped. A call that finds it negative
// takes the slow path: it stores the time back (marking it read), or, if the
// clock stopped, stores the real time and starts the timer. Only the call
// that swaps a stopped word for a running one starts a timer, and each tick
// starts at most one successor, so one timer at most is pending.
//
// A duration measured on this clock is off by at most one step plus how
// late the timer fires, either way: a clock that lags at the start of a
// call and not at its end lengthens it, and the other way round shortens
// it.
// (A clock started inside a testing/synctest bubble stops ticking when the
// bubble ends; do not share such a breaker with code outside the bubble.)
const (
	clkStopped = 1

	// minClockStep bounds the tick rate: at most a thousand ticks per
	// second per breaker, and only while calls arrive.
	minClockStep = time.Millisecond
)

// clockStep returns the step of the coarse clock for cfg: a twentieth of
// SlowCallDuration and a bucket of the time window, whichever is shorter,
// at least 1ms; 0 when neither is set (no clock).
func clockStep(cfg Config) time.Duration {
	if cfg.SlowCallDuration == 0 && cfg.WindowDuration == 0 {
		return 0
	}
	step := time.Duration(math.MaxInt64)
	if cfg.SlowCallDuration > 0 {
		step = cfg.SlowCallDuration / 20
	}
	if cfg.WindowDuration > 0 {
		step = min(step, cfg.WindowDuration/timeBuckets)
	}
	return max(step, minClockStep)
}

// coarseNow returns the coarse time in nanoseconds since New.
func (b *Breaker) coarseNow() int64 {
	if v := b.clk.Load(); v >= 0 {
		return v
	}
	return b.clockSlow()
}

// clockSlow marks the clock read, starting it if it stopped, and returns
// its time.
func (b *Breaker) clockSlow() int64 {
	v := b.clk.Load()
	for v < 0 {
		if x := ^v; x&clkStopped != 0 {
			// The window did not move while the clock stood still: bring it
			// to now before this call's result can land in it.
			b.syncWindow()
			now := b.now()
			if b.clk.CompareAndSwap(v, now) {
				time.AfterFunc(b.tickEvery, b.tick)
				return now
			}
		} else if b.clk.CompareAndSwap(v, x>>1) {
			return x >> 1
		}
		v = b.clk.Load()
	}
	return v
}

// tick stores the time in the clock, brings a time window up to date, and
// schedules the next tick, or stops the clock if no call read it since the
// last tick.
func (b *Breaker) tick() {
	now := b.now()
	b.syncWindow()
	for {
		v := b.clk.Load()
		if v < 0 {
			if b.clk.CompareAndSwap(v, ^(now<<1 | clkStopped)) {
				return // not read since the last tick: stopped until the next call
			}
			continue
		}
		if b.clk.CompareAndSwap(v, ^(now << 1)) {
			break
		}
	}
	time.AfterFunc(b.tickEvery, b.tick)
}

// syncWindow brings a time window up to date: the successes counted since
// the last catch-up go into the current bucket, then the window moves on to
// the bucket of now. Between ticks, successes are counted without the lock,
// so each tick places them in the bucket of their time (within a step).
func (b *Breaker) syncWindow() {
	if b.win.width == 0 {
		return
	}
	b.lock()
	if w := b.word.Load(); w&(stateMask|disabledBit) == 0 {
		b.catchUp(b.counted(w, success))
	}
	b.unlock()
}

package breaker

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/steadfast-go/steadfast/internal/logattr"
)

// State is the state of a Breaker.
type State uint8

// The three states of a Breaker.
const (
	// Closed lets every call through and counts the results.
	Closed State = iota
	// Open rejects every call with ErrOpen until OpenTimeout has passed (or,
	// after Trip, until Reset).
	Open
	// HalfOpen admits HalfOpenMaxCalls probe calls to decide whether to
	// close again or re-open.
	HalfOpen
)

var stateNames = [...]string{Closed: "closed", Open: "open", HalfOpen: "half-open"}

// String returns "closed", "open" or "half-open".
func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return fmt.Sprintf("State(%d)", uint8(s))
}

// MarshalText returns the state's String, so that a State marshals to JSON
// as a word. A value outside the three states is an error.
func (s State) MarshalText() ([]byte, error) {
	if int(s) >= len(stateNames) {
		return nil, fmt.Errorf("breaker: invalid State %d", uint8(s))
	}
	return []byte(s.String()), nil
}

// UnmarshalText parses "closed", "open" or "half-open".
func (s *State) UnmarshalText(text []byte) error {
	for i, name := range stateNames {
		if string(text) == name {
			*s = State(i)
			return nil
		}
	}
	return fmt.Errorf("breaker: unknown State %q", text)
}

// Mode says what decides a Breaker's state: its own counts (Normal), or an
// operator who forced it open (Trip), disabled it (Disable) or made it only
// measure (MetricsOnly). Reset returns it to Normal. Each change of mode
// starts a new generation. A change of mode alone is delivered like a state
// change, from a state to itself, with the attribute mode in its log record.
type Mode uint8

// The modes of a Breaker.
const (
	// Normal: the breaker opens and closes by its counts.
	Normal Mode = iota
	// ForcedOpen: Trip forced it open; it rejects every call until Reset.
	ForcedOpen
	// Disabled: it admits every call and counts nothing; State is Closed.
	Disabled
	// MetricsOnly: it admits every call, counts the results and keeps its
	// rates, but never opens; State is Closed.
	MetricsOnly
)

var modeNames = [...]string{Normal: "normal", ForcedOpen: "forced-open", Disabled: "disabled", MetricsOnly: "metrics-only"}

// String returns "normal", "forced-open", "disabled" or "metrics-only".
func (m Mode) String() string {
	if int(m) < len(modeNames) {
		return modeNames[m]
	}
	return fmt.Sprintf("Mode(%d)", uint8(m))
}

// MarshalText returns the mode's String, so that a Mode marshals to JSON as
// a word. A value outside the four modes is an error.
func (m Mode) MarshalText() ([]byte, error) {
	if int(m) >= len(modeNames) {
		return nil, fmt.Errorf("breaker: invalid Mode %d", uint8(m))
	}
	return []byte(m.String()), nil
}

// UnmarshalText parses "normal", "forced-open", "disabled" or "metrics-only".
func (m *Mode) UnmarshalText(text []byte) error {
	for i, name := range modeNames {
		if string(text) == name {
			*m = Mode(i)
			return nil
		}
	}
	return fmt.Errorf("breaker: unknown Mode %q", text)
}

// The state machine. Every change of state or mode happens in setState,
// under mu; every section under mu starts with lock, which first applies the
// changes that time alone makes (an open breaker whose period has passed
// turns half-open, a probe that outlasted HalfOpenMaxWait re-opens it), and
// ends with unlock, which delivers the changes queued meanwhile (events.go).
// Calls enter through Allow (allowSlow when not closed) and end in finish,
// which classifies the result, counts it without the lock when it can and
// otherwise hands it to settle.

// The state word: bits 0-1 the State, bits 2-4 the Mode (one bit each for
// ForcedOpen, Disabled and MetricsOnly; none for Normal), the rest the
// generation, which grows by one on every change of state or mode and on
// Reset.
const (
	stateMask      = 3
	forcedBit      = 4
	disabledBit    = 8
	metricsOnlyBit = 16
	modeMask       = forcedBit | disabledBit | metricsOnlyBit
	genShift       = 5
)

func stateOf(w uint64) State { return State(w & stateMask) }

func modeOf(w uint64) Mode {
	switch {
	case w&forcedBit != 0:
		return ForcedOpen
	case w&disabledBit != 0:
		return Disabled
	case w&metricsOnlyBit != 0:
		return MetricsOnly
	}
	return Normal
}

func modeBits(m Mode) uint64 {
	return [...]uint64{Normal: 0, ForcedOpen: forcedBit, Disabled: disabledBit, MetricsOnly: metricsOnlyBit}[m]
}

// result kinds; also the index of the per-kind counters.
type result uint8

const (
	success result = iota
	failure
	ignored
	rejected
	numResults
)

var resultNames = [numResults]string{logattr.ResultSuccess, logattr.ResultFailure, logattr.ResultIgnored, logattr.ResultRejected}

func (r result) String() string { return resultNames[r] }

// now returns the monotonic time since New in nanoseconds.
func (b *Breaker) now() int64 { return int64(time.Since(b.epoch)) }

// timedOut reports whether w is a state word of a timed (not forced) open
// state whose open period has passed.
func (b *Breaker) timedOut(w uint64) bool {
	return w&(stateMask|forcedBit) == uint64(Open) && b.now() >= b.openUntil.Load()
}

// overdue reports whether w is a half-open state word and a probe has been
// running for HalfOpenMaxWait.
func (b *Breaker) overdue(w uint64) bool {
	if stateOf(w) != HalfOpen {
		return false
	}
	d := b.probeDeadline.Load()
	return d != 0 && b.now() >= d
}

// lock takes mu and applies the changes that time alone makes: the one place
// where an open breaker turns half-open and an overdue probe re-opens it.
func (b *Breaker) lock() {
	b.mu.Lock()
	switch w := b.word.Load(); {
	case b.timedOut(w):
		b.setState(HalfOpen, Normal)
	case b.overdue(w):
		b.setState(Open, Normal)
		b.events.last().probeTimedOut = true
	}
}

// unlock releases mu and delivers the state changes queued under it, unless
// another goroutine is already delivering them.
func (b *Breaker) unlock() {
	deliver := b.events.waiting()
	b.mu.Unlock()
	if deliver {
		b.deliver()
	}
}

// allowSlow admits or rejects a call when the breaker is not closed in
// Normal or MetricsOnly mode.
func (b *Breaker) allowSlow() (Permit, error) {
	w := b.word.Load()
	if w&disabledBit != 0 {
		return Permit{b: b, w: w}, nil // admitted, and never counted
	}
	if stateOf(w) == Open && !b.timedOut(w) { // rejected without the lock
		b.reject(w)
		return Permit{}, ErrOpen
	}
	b.lock()
	w = b.word.Load()
	var err error
	switch {
	case stateOf(w) == Open:
		err = ErrOpen
	case stateOf(w) == HalfOpen && b.admitted >= b.cfg.HalfOpenMaxCalls:
		err = ErrTooManyCalls
	case stateOf(w) == HalfOpen:
		b.admitProbe()
	}
	b.unlock()
	if err != nil {
		b.reject(w)
		return Permit{}, err
	}
	p := Permit{b: b, w: w}
	if b.clocked {
		p.start = b.coarseNow()
	}
	return p, nil
}

// admitProbe takes a half-open slot. A probe admitted while no other is
// running starts the HalfOpenMaxWait clock. Under mu.
func (b *Breaker) admitProbe() {
	if b.admitted == b.probesOK { // none running
		wait := int64(b.cfg.HalfOpenMaxWait)
		if wait == 0 {
			wait = b.period
		}
		now := b.now()
		b.probeDeadline.Store(now + min(wait, math.MaxInt64-now))
	}
	b.admitted++
}

// probeEnded notes that a probe stopped running without deciding the
// state: the HalfOpenMaxWait clock stops when none is left. Under mu.
func (b *Breaker) probeEnded() {
	if b.admitted == b.probesOK {
		b.probeDeadline.Store(0)
	}
}

// finish is the one completion path, of Done, Do and Call: it records the
// result of the call admitted by p: a failure if the call did not return (it
// panicked or called runtime.Goexit), else as its error classifies; and slow
// if it took longer than SlowCallDuration. It is also the one place that
// decides whether a custom IsFailure or IsIgnored is set.
//
// A closed-state fast success or ignored result is counted on the caller's
// stripe without the lock; a success takes the lock only when failures came
// before it (to end their streak) or when a rate trigger waits for MinCalls
// (armed). The rest goes through settle, under the lock.
func (b *Breaker) finish(p Permit, err error, returned bool) {
	if p.b != b {
		if p.b != nil {
			b.foreignPermit()
		}
		return
	}
	if p.w&disabledBit != 0 {
		return // admitted while disabled: counts nothing
	}
	r := success
	switch {
	case !returned:
		r = failure
	case b.custom:
		r = b.classifyCustom(p.w, err)
	case err != nil && errors.Is(err, context.Canceled):
		r = ignored
	case err != nil:
		r = failure
	}
	slow := b.slowAfter > 0 && r != ignored && b.coarseNow()-p.start > b.slowAfter
	if r == failure || slow || stateOf(p.w) != Closed || b.word.Load() != p.w {
		b.settle(p.w, r, 0, slow)
		return
	}
	n, ok := b.stripe().c[r].add(p.w)
	switch {
	case !ok:
		b.cum[r].Add(1) // the state changed since the check: an earlier generation's call
	case n >= foldAt || r == success && (b.streak.Load() != 0 || b.armed.Load()):
		b.settle(p.w, r, n, false)
	}
}

// reject counts a call that was not admitted, like finish counts a
// closed-state success, without the lock.
func (b *Breaker) reject(w uint64) {
	n, ok := b.stripe().c[rejected].add(w)
	switch {
	case !ok:
		b.cum[rejected].Add(1)
	case n >= foldAt:
		b.settle(w, rejected, n, false)
	}
}

// classifyCustom runs the user's IsIgnored and IsFailure. A panic in either
// counts the call as a failure; so does runtime.Goexit, which ends the
// goroutine, so the call is recorded before it ends.
func (b *Breaker) classifyCustom(w uint64, err error) result {
	r := failure
	b.contain("IsFailure/IsIgnored", func() {
		switch {
		case b.cfg.IsIgnored != nil && b.cfg.IsIgnored(err),
			b.cfg.IsIgnored == nil && errors.Is(err, context.Canceled):
			r = ignored
		case b.cfg.IsFailure != nil && b.cfg.IsFailure(err),
			b.cfg.IsFailure == nil && err != nil:
			r = failure
		default:
			r = success
		}
	}, func() { b.settle(w, failure, 0, false) })
	return r
}

// settle records a result under the lock and steps the state machine. n is
// the stripe count after the result was added without the lock, or 0 if it
// has not been added yet. A result of an earlier generation counts only in
// the cumulative metrics.
func (b *Breaker) settle(w uint64, r result, n uint64, slow bool) {
	b.lock()
	defer b.unlock()
	if slow {
		b.slowTotal.Add(1)
	}
	if b.word.Load() != w {
		if n == 0 {
			b.cum[r].Add(1)
		}
		return
	}
	if n == 0 {
		n, _ = b.stripe().c[r].add(w) // cannot fail under mu with the current word
	}
	if n >= foldAt {
		b.fold(w, r)
	}
	if slow {
		b.slow++
	}
	b.step(w, r, slow)
}

// step applies one result of the current generation to the state machine.
// Under mu.
func (b *Breaker) step(w uint64, r result, slow bool) {
	switch s := stateOf(w); {
	case s == Closed && r != rejected:
		b.stepClosed(w, r, slow)
	case s == HalfOpen && r == success && !slow:
		b.probesOK++
		if b.probesOK >= b.cfg.HalfOpenMaxCalls {
			b.setState(Closed, Normal)
		} else {
			b.probeEnded()
		}
	case s == HalfOpen && r == ignored:
		b.admitted-- // an ignored probe frees its slot
		b.probeEnded()
	case s == HalfOpen && r != rejected: // a failing or slow probe
		b.setState(Open, Normal)
	}
}

// stepClosed applies a closed-state result: it ends or extends the failure
// streak, puts failed and slow calls into the window and opens the breaker
// when a trigger fires (never in MetricsOnly mode). Under mu.
func (b *Breaker) stepClosed(w uint64, r result, slow bool) {
	if r == ignored {
		return // settled only to fold its counter
	}
	trip := false
	succ := b.counted(w, success)
	if r == failure {
		streak := b.streak.Add(1)
		b.lastFailSucc = succ
		trip = b.threshold > 0 && streak >= b.threshold
	} else {
		b.streak.Store(0)
		if !slow && !b.armed.Load() {
			return // settled to end a streak or to fold its counter
		}
		if slow {
			succ-- // this success enters the window as a slow call
		}
	}
	b.catchUp(succ)
	if r == failure || slow {
		b.win.addCall(r == failure, slow)
		if r == success {
			b.succSeen++
		}
	}
	if b.rateTripped(w) || trip {
		if w&metricsOnlyBit == 0 {
			b.setState(Open, Normal)
		}
	}
}

// catchUp brings the window up to date: it moves the successes reported
// since the last catch-up into it, given succ, the successes of this
// generation so far, and then, for a time window, drops the buckets that
// have aged out. Successes are moved lazily, here, because they can only
// lower the rates; all of them came after the calls already in the window,
// so the window keeps the order in which results were reported. Under mu.
func (b *Breaker) catchUp(succ uint64) {
	b.win.addSuccesses(succ - b.succSeen)
	b.succSeen = succ
	if b.win.width > 0 {
		b.win.advance(b.now())
	}
}

// rateTripped reports whether a rate trigger fires on the window. It arms
// the success path when a rate is reached but MinCalls is not (never in
// MetricsOnly mode). Under mu.
func (b *Breaker) rateTripped(w uint64) bool {
	// Divide rather than multiply: the rounded quotient of fails/calls equals
	// the rate when the exact ratio equals the decimal the user wrote (7/100
	// against 0.07), while rate*calls can round above fails.
	calls := float64(b.win.calls)
	reached := b.cfg.FailureRate > 0 && b.win.fails > 0 && float64(b.win.fails)/calls >= b.cfg.FailureRate ||
		b.slowAfter > 0 && b.win.slow > 0 && float64(b.win.slow)/calls >= b.cfg.SlowCallRate
	full := b.win.calls >= uint64(b.cfg.MinCalls)
	b.armed.Store(reached && !full && w&metricsOnlyBit == 0)
	return reached && full
}

// setState starts a new generation in state to and mode m, clearing the
// counts, and queues the change for delivery if the state or the mode
// changed. Under mu; unlock delivers.
func (b *Breaker) setState(to State, m Mode) {
	old := b.word.Load()
	w := (old>>genShift+1)<<genShift | uint64(to) | modeBits(m)
	// Re-tag the stripes before publishing the word, so that a permit of
	// the old generation can no longer count in the new one.
	b.retag(old, w)
	b.genBase = [numResults]uint64{}
	b.succSeen, b.lastFailSucc, b.slow = 0, 0, 0
	b.admitted, b.probesOK = 0, 0
	b.probeDeadline.Store(0)
	b.armed.Store(false)
	b.streak.Store(0)
	var now int64
	if to == Open || b.win.width > 0 {
		now = b.now()
	}
	b.win.reset(now)
	b.setPeriod(old, to, m, now)
	b.word.Store(w)
	if from := stateOf(old); from != to || modeOf(old) != m {
		b.transitions[from][to]++
		b.events.push(event{from: from, to: to, mode: m})
	}
}

// setPeriod sets the open period for a change from the state word old to
// state to in mode m at time now: OpenTimeout when it opens from closed,
// the next, grown period when a probe failed, none when it closes or is
// forced open. Under mu.
func (b *Breaker) setPeriod(old uint64, to State, m Mode, now int64) {
	switch {
	case to == HalfOpen:
		return // keeps the period that just passed, for HalfOpenMaxWait
	case to != Open || m != Normal:
		b.level, b.period = 0, 0
		return
	case stateOf(old) == HalfOpen:
		b.level++
		b.period = b.openPeriod(b.level)
	default:
		b.level = 0
		b.period = int64(b.cfg.OpenTimeout)
	}
	b.openUntil.Store(now + min(b.period, math.MaxInt64-now))
}

// openPeriod returns the open period after level failed probes in a row:
// OpenTimeout multiplied level times by OpenTimeoutMultiplier, at most
// MaxOpenTimeout, with ±10% jitter, kept within [OpenTimeout,
// MaxOpenTimeout]. With MaxOpenTimeout equal to OpenTimeout it is
// OpenTimeout exactly.
func (b *Breaker) openPeriod(level int) int64 {
	lo, hi := b.cfg.OpenTimeout, b.cfg.MaxOpenTimeout
	if hi <= lo {
		return int64(lo)
	}
	// Pow overflows to +Inf, never wraps; doubling is exact in float64.
	d := float64(lo) * math.Pow(b.cfg.OpenTimeoutMultiplier, float64(level))
	d = min(d, float64(hi)) * (0.9 + 0.2*rand.Float64())
	if d >= float64(hi) {
		return int64(hi)
	}
	return max(int64(lo), int64(d))
}

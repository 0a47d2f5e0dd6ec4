package breaker

import (
	"context"
	"errors"
	"fmt"
	"math"
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

// The state machine. Every change of state happens in setState, under mu;
// every section under mu starts with lock, which first turns an open breaker
// whose timeout has passed half-open, and ends with unlock, which delivers
// the state changes queued meanwhile (events.go). Calls enter through Allow
// (allowSlow when not closed) and end in finish, which classifies the result,
// counts it without the lock when it can and otherwise hands it to settle.

// The state word: bits 0-1 the State, bit 2 "forced open" (Trip), the rest
// the generation, which grows by one on every state change and Reset.
const (
	stateMask = 3
	forcedBit = 4
	genShift  = 3
)

func stateOf(w uint64) State { return State(w & stateMask) }

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
// state whose OpenTimeout has passed.
func (b *Breaker) timedOut(w uint64) bool {
	return w&(stateMask|forcedBit) == uint64(Open) && b.now() >= b.openUntil.Load()
}

// lock takes mu and moves an open breaker whose timeout has passed to
// half-open: the one place where that happens.
func (b *Breaker) lock() {
	b.mu.Lock()
	if b.timedOut(b.word.Load()) {
		b.setState(HalfOpen, false)
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

// allowSlow admits or rejects a call when the breaker is not closed.
func (b *Breaker) allowSlow() (Permit, error) {
	w := b.word.Load()
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
		b.admitted++
	}
	b.unlock()
	if err != nil {
		b.reject(w)
		return Permit{}, err
	}
	return Permit{b, w}, nil
}

// finish is the one completion path, of Done, Do and Call: it records the
// result of the call admitted by p: a failure if the call did not return (it
// panicked or called runtime.Goexit), else as its error classifies. It is
// also the one place that decides whether a custom IsFailure or IsIgnored is
// set.
//
// A closed-state success or ignored result is counted on the caller's stripe
// without the lock; a success takes the lock only when failures came before
// it (to end their streak) or when the failure-rate trigger waits for
// MinCalls (armed). The rest goes through settle, under the lock.
func (b *Breaker) finish(p Permit, err error, returned bool) {
	r := success
	switch {
	case p.b != b:
		if p.b != nil {
			b.foreignPermit()
		}
		return
	case !returned:
		r = failure
	case b.custom:
		r = b.classifyCustom(p.w, err)
	case err != nil && errors.Is(err, context.Canceled):
		r = ignored
	case err != nil:
		r = failure
	}
	if r == failure || stateOf(p.w) != Closed || b.word.Load() != p.w {
		b.settle(p.w, r, 0)
		return
	}
	n, ok := b.stripe().c[r].add(p.w)
	switch {
	case !ok:
		b.cum[r].Add(1) // the state changed since the check: an earlier generation's call
	case n >= foldAt || r == success && (b.streak.Load() != 0 || b.armed.Load()):
		b.settle(p.w, r, n)
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
		b.settle(w, rejected, n)
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
	}, func() { b.settle(w, failure, 0) })
	return r
}

// settle records a result under the lock and steps the state machine. n is
// the stripe count after the result was added without the lock, or 0 if it has not
// been added yet. A result of
// an earlier generation counts only in the cumulative metrics.
func (b *Breaker) settle(w uint64, r result, n uint64) {
	b.lock()
	defer b.unlock()
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
	b.step(stateOf(w), r)
}

// step applies one result of the current generation to the state machine.
// Under mu.
func (b *Breaker) step(s State, r result) {
	switch {
	case s == Closed && r == failure:
		streak := b.streak.Add(1)
		b.lastFailSucc = b.counted(b.word.Load(), success)
		if b.threshold > 0 && streak >= b.threshold || b.rateMode && b.rateTripped(b.lastFailSucc, 1) {
			b.setState(Open, false)
		}
	case s == Closed && r == success:
		b.streak.Store(0)
		if b.armed.Load() && b.rateTripped(b.counted(b.word.Load(), success), 0) {
			b.setState(Open, false)
		}
	case s == HalfOpen && r == success:
		b.probesOK++
		if b.probesOK >= b.cfg.HalfOpenMaxCalls {
			b.setState(Closed, false)
		}
	case s == HalfOpen && r == failure:
		b.setState(Open, false)
	case s == HalfOpen && r == ignored:
		b.admitted-- // an ignored probe frees its slot
	}
}

// rateTripped moves the successes reported since its last call into the
// window, given succ, the successes of this generation so far, then adds
// fails failures, and reports whether the failure-rate trigger fires.
// Successes are moved lazily, here, because they can only lower the rate;
// all of them came after the failures already in the window, so the window
// keeps the order in which results were reported. It arms the success path
// when the rate is reached but MinCalls is not. Under mu.
func (b *Breaker) rateTripped(succ, fails uint64) bool {
	b.win.add(succ-b.succSeen, fails)
	b.succSeen = succ
	// Divide rather than multiply: the rounded quotient of fails/calls equals
	// FailureRate when the exact ratio equals the decimal the user wrote
	// (7/100 against 0.07), while FailureRate*calls can round above fails.
	reached := b.win.fails > 0 && float64(b.win.fails)/float64(b.win.calls) >= b.cfg.FailureRate
	if reached && b.win.calls >= uint64(b.cfg.MinCalls) {
		return true
	}
	b.armed.Store(reached)
	return false
}

// setState starts a new generation in state to (forced: by Trip), clearing
// the counts, and queues the change for delivery if the state changed or a
// timed open became forced. Under mu; unlock delivers.
func (b *Breaker) setState(to State, forced bool) {
	old := b.word.Load()
	w := (old>>genShift+1)<<genShift | uint64(to)
	if forced {
		w |= forcedBit
	}
	// Re-tag the stripes before publishing the word, so that a permit of
	// the old generation can no longer count in the new one.
	b.retag(old, w)
	b.genBase = [numResults]uint64{}
	b.succSeen, b.lastFailSucc = 0, 0
	b.admitted, b.probesOK = 0, 0
	b.armed.Store(false)
	b.win.reset()
	b.streak.Store(0)
	if to == Open && !forced {
		now := b.now()
		b.openUntil.Store(now + min(int64(b.cfg.OpenTimeout), math.MaxInt64-now))
	}
	b.word.Store(w)
	if from := stateOf(old); from != to || forced && old&forcedBit == 0 {
		b.transitions[from][to]++
		b.events.push(event{from: from, to: to, forced: forced})
	}
}

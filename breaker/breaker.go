package breaker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
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

// String returns "closed", "open" or "half-open".
func (s State) String() string {
	switch s {
	case Closed:
		return "closed"
	case Open:
		return "open"
	case HalfOpen:
		return "half-open"
	default:
		return fmt.Sprintf("State(%d)", uint8(s))
	}
}

// Errors returned by Allow, Do and Call when a call is not admitted.
var (
	// ErrOpen means the breaker is open and the call was not made.
	ErrOpen = errors.New("breaker: circuit open")
	// ErrTooManyCalls means the breaker is half-open and all of its
	// HalfOpenMaxCalls probe slots are taken.
	ErrTooManyCalls = errors.New("breaker: too many calls while half-open")
)

// Defaults for the zero fields of Config.
const (
	DefaultFailureThreshold = 10
	DefaultWindow           = 100
	DefaultOpenTimeout      = 60 * time.Second
	DefaultHalfOpenMaxCalls = 1

	maxWindow = 1 << 24
)

// Config configures a Breaker. The zero value is valid and means all
// defaults: open after 10 consecutive failures, probe after 60s, one probe.
type Config struct {
	// Name identifies the breaker in OnStateChange, in log records and as the
	// constant label "name" on its metrics. Default "".
	Name string

	// FailureThreshold is the number of consecutive failures that opens the
	// breaker. Default 10 when FailureRate is zero; when FailureRate is set,
	// zero means the consecutive trigger is off. Negative is an error.
	FailureThreshold int

	// FailureRate turns on the failure-rate trigger: the breaker opens when
	// failures/calls over the last Window calls is at least FailureRate and
	// the window holds at least MinCalls calls. Zero means off; otherwise it
	// must be in (0,1]. Both triggers may be on at once; either opens it.
	FailureRate float64

	// Window is the number of most recent calls the failure rate is computed
	// over. Default 100. It is kept in buckets; see the package doc for the
	// granularity. Used only when FailureRate is set. Negative is an error,
	// as is more than 16777216.
	Window int

	// MinCalls is the number of calls the window must hold before the
	// failure rate can open the breaker. Default Window. Must not exceed
	// Window.
	MinCalls int

	// OpenTimeout is how long the breaker stays open before it turns
	// half-open and admits probes. Default 60s. Negative is an error.
	OpenTimeout time.Duration

	// HalfOpenMaxCalls is the number of probe calls admitted while half-open,
	// in total. When that many have succeeded the breaker closes; any failing
	// probe re-opens it for a fresh OpenTimeout. Default 1. Negative is an
	// error.
	HalfOpenMaxCalls int

	// IsFailure reports whether a call's error is a failure. Default
	// err != nil. A call whose error IsFailure rejects counts as a success.
	// IsIgnored is asked first. Both are called for nil errors too; a panic
	// in either is contained and counts the call as a failure.
	IsFailure func(err error) bool

	// IsIgnored reports whether a call's error should count neither as a
	// success nor as a failure; an ignored probe frees its half-open slot.
	// Default errors.Is(err, context.Canceled); a custom IsIgnored replaces
	// that default, so include the check if you still want it.
	IsIgnored func(err error) bool

	// OnStateChange, if set, is called after each state change, in
	// transition order, never concurrently with itself and never under the
	// breaker's lock. See the package doc for which goroutine calls it.
	OnStateChange func(name string, from, to State)

	// Registerer, if set, receives the breaker's metrics (see the package
	// doc). Default nil: no metrics.
	Registerer prometheus.Registerer

	// Logger receives contained panics from callbacks. Default
	// slog.Default().
	Logger *slog.Logger
}

// Counts are the counts of the current generation: they start from zero on
// every state change and on Reset. Calls counts the calls that finished and
// counted either way (Successes + Failures); ignored calls, rejected calls and
// calls still running are not in Calls.
type Counts struct {
	Calls                uint64
	Successes            uint64
	Failures             uint64
	Ignored              uint64
	Rejected             uint64
	ConsecutiveSuccesses uint64
	ConsecutiveFailures  uint64
}

// Permit is an admission returned by Allow. Pass it to Done exactly once.
// The zero Permit is never admitted; Done ignores it.
type Permit struct {
	w uint64 // the state word at admission: state, forced bit, generation
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

func (r result) String() string {
	switch r {
	case success:
		return "success"
	case failure:
		return "failure"
	case ignored:
		return "ignored"
	default:
		return "rejected"
	}
}

// The state word: bits 0-1 the State, bit 2 "forced open" (Trip), the rest
// the generation, which grows by one on every state change and Reset.
const (
	stateMask = 3
	forcedBit = 4
	genShift  = 3
)

func stateOf(w uint64) State { return State(w & stateMask) }

// The streak word: the low 32 bits of the generation in its top half, the
// consecutive failure count (saturating) in its low half.
const streakCountMask = 1<<32 - 1

func streakTag(w uint64) uint64 { return (w >> genShift) << 32 }

// Breaker is a three-state circuit breaker. It is safe for concurrent use.
// Create one with New.
type Breaker struct {
	_ cacheLinePad
	// Read on every call; written only on state changes (word), on the
	// first success after a failure (streak), or while the failure-rate
	// trigger waits for MinCalls (armed).
	word      atomic.Uint64
	streak    atomic.Uint64
	armed     atomic.Bool
	openUntil atomic.Int64 // ns since epoch at which Open turns HalfOpen
	stripes   []stripe
	shift     uint8 // 64 - log2(len(stripes))
	rateMode  bool
	plain     bool   // no IsFailure or IsIgnored: a nil error is a success
	threshold uint64 // consecutive failures that open it; 0 = off
	isFailure func(error) bool
	isIgnored func(error) bool
	_         cacheLinePad

	cfg   Config
	epoch time.Time

	// Stale results and folded counts; atomic because stale results are
	// added without the lock. Cumulative: they never go down.
	cum            [numResults]atomic.Uint64
	callbackPanics atomic.Uint64

	mu           sync.Mutex
	genBase      [numResults]uint64 // counts folded out of the stripes in this generation
	succSeen     uint64             // successes of this generation already moved into the window
	lastFailSucc uint64             // successes of this generation at the latest failure
	admitted     int                // half-open probes admitted (and not ignored)
	probesOK     int                // half-open probes that succeeded
	win          window
	transitions  [3][3]uint64
	events       []event
	delivering   bool
}

type cacheLinePad [128]byte

type event struct{ from, to State }

// New returns a closed Breaker configured by cfg, or an error naming the
// first invalid field. When cfg.Registerer is set it registers the breaker's
// metrics there and returns the registration error, if any.
func New(cfg Config) (*Breaker, error) {
	if err := cfg.normalize(); err != nil {
		return nil, err
	}
	b := &Breaker{
		cfg:       cfg,
		epoch:     time.Now(),
		threshold: uint64(cfg.FailureThreshold),
		isFailure: cfg.IsFailure,
		isIgnored: cfg.IsIgnored,
		rateMode:  cfg.FailureRate > 0,
		plain:     cfg.IsFailure == nil && cfg.IsIgnored == nil,
	}
	n := stripeCount(runtime.GOMAXPROCS(0))
	b.stripes = make([]stripe, n)
	b.shift = uint8(64 - log2(n))
	if b.rateMode {
		b.win.init(cfg.Window)
	}
	w := uint64(1)<<genShift | uint64(Closed)
	b.stampStripes(w)
	b.streak.Store(streakTag(w))
	b.word.Store(w)
	if cfg.Registerer != nil {
		if err := cfg.Registerer.Register(newCollector(b)); err != nil {
			return nil, fmt.Errorf("breaker: registering metrics for %q: %w", cfg.Name, err)
		}
	}
	return b, nil
}

func (c *Config) normalize() error {
	switch {
	case c.FailureThreshold < 0 || uint64(c.FailureThreshold) > streakCountMask:
		return fmt.Errorf("breaker: FailureThreshold must be in [0,%d], got %d", uint64(streakCountMask), c.FailureThreshold)
	case math.IsNaN(c.FailureRate) || c.FailureRate < 0 || c.FailureRate > 1:
		return fmt.Errorf("breaker: FailureRate must be in (0,1] (or 0 for off), got %v", c.FailureRate)
	case c.Window < 0 || c.Window > maxWindow:
		return fmt.Errorf("breaker: Window must be in [1,%d] (or 0 for the default %d), got %d", maxWindow, DefaultWindow, c.Window)
	case c.MinCalls < 0:
		return fmt.Errorf("breaker: MinCalls must not be negative, got %d", c.MinCalls)
	case c.OpenTimeout < 0:
		return fmt.Errorf("breaker: OpenTimeout must not be negative, got %v", c.OpenTimeout)
	case c.HalfOpenMaxCalls < 0:
		return fmt.Errorf("breaker: HalfOpenMaxCalls must not be negative, got %d", c.HalfOpenMaxCalls)
	}
	if c.Window == 0 {
		c.Window = DefaultWindow
	}
	if c.MinCalls == 0 {
		c.MinCalls = c.Window
	}
	if c.MinCalls > c.Window {
		return fmt.Errorf("breaker: MinCalls must not exceed Window (%d), got %d", c.Window, c.MinCalls)
	}
	if c.FailureThreshold == 0 && c.FailureRate == 0 {
		c.FailureThreshold = DefaultFailureThreshold
	}
	if c.OpenTimeout == 0 {
		c.OpenTimeout = DefaultOpenTimeout
	}
	if c.HalfOpenMaxCalls == 0 {
		c.HalfOpenMaxCalls = DefaultHalfOpenMaxCalls
	}
	return nil
}

// Name returns Config.Name.
func (b *Breaker) Name() string { return b.cfg.Name }

// Allow asks to make one call. If the call is admitted it returns a Permit,
// which must be passed to Done exactly once with the call's error. Otherwise
// it returns ErrOpen or ErrTooManyCalls, and the rejection is counted.
// In the closed state Allow takes no lock, does not allocate and does not
// read the clock.
func (b *Breaker) Allow() (Permit, error) {
	if w := b.word.Load(); w&stateMask == uint64(Closed) {
		return Permit{w}, nil
	}
	return b.allowSlow()
}

func (b *Breaker) allowSlow() (Permit, error) {
	w := b.word.Load()
	if stateOf(w) == Open && (w&forcedBit != 0 || b.now() < b.openUntil.Load()) {
		if n, ok := b.stripe().c[rejected].add(w); !ok {
			b.cum[rejected].Add(1) // the state changed meanwhile
		} else if n >= foldAt {
			b.foldLocked(w, rejected)
		}
		return Permit{}, ErrOpen
	}
	b.mu.Lock()
	changed := b.maybeHalfOpen()
	w = b.word.Load()
	var err error
	switch stateOf(w) {
	case Closed:
	case Open:
		err = ErrOpen
	case HalfOpen:
		if b.admitted < b.cfg.HalfOpenMaxCalls {
			b.admitted++
		} else {
			err = ErrTooManyCalls
		}
	}
	if err != nil {
		// Cannot fail: the word changes only under mu.
		if n, _ := b.stripe().c[rejected].add(w); n >= foldAt {
			b.fold(w, rejected)
		}
		w = 0
	}
	b.mu.Unlock()
	if changed {
		b.deliver()
	}
	return Permit{w}, err
}

// Done reports the result of the call admitted by p. Each Permit must be
// passed to Done exactly once. A Permit from an earlier generation (the state
// changed or Reset was called since Allow) counts in the cumulative metrics
// but never in the current Counts and never changes the state; the zero
// Permit is ignored. In the closed state a success or an ignored result takes
// no lock and does not allocate.
func (b *Breaker) Done(p Permit, err error) {
	if err == nil && b.plain {
		b.succeed(p)
		return
	}
	b.done(p, err)
}

func (b *Breaker) done(p Permit, err error) {
	if b.isFailure == nil && b.isIgnored == nil {
		b.record(p, b.classify(err))
		return
	}
	classified := false
	defer func() {
		if !classified {
			// runtime.Goexit in a classifier (a panic is recovered inside):
			// count the call as a failure, as for a panic, so that a
			// half-open probe does not keep its slot forever.
			b.contained("IsFailure/IsIgnored", "runtime.Goexit")
			b.record(p, failure)
		}
	}()
	r := b.classifyCustom(err)
	classified = true
	b.record(p, r)
}

// succeed is the closed-state success path: a load of the state word, one
// compare-and-swap on the caller's stripe, loads of the streak word and the
// armed flag, and rarely a call to onSuccessSlow.
func (b *Breaker) succeed(p Permit) {
	// The state word is never zero, so this also refuses the zero Permit.
	if p.w&stateMask == uint64(Closed) && b.word.Load() == p.w {
		if n, ok := b.stripe().c[success].add(p.w); ok {
			if st := b.streak.Load(); st&streakCountMask != 0 {
				b.resetStreak(st, p.w)
			}
			if n >= foldAt || b.armed.Load() {
				b.onSuccessSlow(p, n)
			}
			return
		}
	}
	b.recordSlow(p, success)
}

func (b *Breaker) classify(err error) result {
	if b.isFailure == nil && b.isIgnored == nil {
		switch {
		case err == nil:
			return success
		case errors.Is(err, context.Canceled):
			return ignored
		default:
			return failure
		}
	}
	return b.classifyCustom(err)
}

// classifyCustom runs the user's IsIgnored / IsFailure. A panic in either is
// contained: logged, counted, and the call counts as a failure.
func (b *Breaker) classifyCustom(err error) (r result) {
	defer func() {
		if v := recover(); v != nil {
			b.contained("IsFailure/IsIgnored", v)
			r = failure
		}
	}()
	if b.isIgnored != nil {
		if b.isIgnored(err) {
			return ignored
		}
	} else if errors.Is(err, context.Canceled) {
		return ignored
	}
	if b.isFailure != nil {
		if b.isFailure(err) {
			return failure
		}
		return success
	}
	if err != nil {
		return failure
	}
	return success
}

func (b *Breaker) record(p Permit, r result) {
	switch r {
	case success:
		b.succeed(p)
		return
	case ignored:
		if p.w&stateMask == uint64(Closed) && b.word.Load() == p.w {
			if n, ok := b.stripe().c[ignored].add(p.w); ok {
				if n >= foldAt {
					b.foldLocked(p.w, ignored)
				}
				return
			}
		}
	}
	b.recordSlow(p, r)
}

// resetStreak ends a run of consecutive failures after a success, unless the
// generation changed or a failure got in after this success's load.
func (b *Breaker) resetStreak(st, w uint64) {
	tag := streakTag(w)
	for st&^streakCountMask == tag && st&streakCountMask != 0 {
		if b.streak.CompareAndSwap(st, tag) {
			return
		}
		st = b.streak.Load()
	}
}

// onSuccessSlow handles the rare work after a closed-state success:
// re-checking the failure rate while it waits for MinCalls, and folding a
// stripe counter before it overflows.
func (b *Breaker) onSuccessSlow(p Permit, n uint64) {
	b.mu.Lock()
	if b.word.Load() != p.w {
		b.mu.Unlock()
		return // counted already; the window belongs to another generation
	}
	if n >= foldAt {
		b.fold(p.w, success)
	}
	// Successes only lower the rate: they can open the breaker only when
	// the rate is reached and MinCalls is not (armed).
	opened := b.armed.Load() && b.rateTripped(b.successes(b.word.Load()), 0) && b.setState(Open, false)
	b.mu.Unlock()
	if opened {
		b.deliver()
	}
}

// recordSlow takes the lock: closed-state failures, every half-open result,
// and stale permits.
func (b *Breaker) recordSlow(p Permit, r result) {
	if p.w == 0 {
		return
	}
	b.mu.Lock()
	w := b.word.Load()
	if w != p.w {
		b.mu.Unlock()
		b.cum[r].Add(1) // a real call, but not of this generation
		return
	}
	changed := false
	n, _ := b.stripe().c[r].add(w) // cannot fail under mu with the current word
	if n >= foldAt {
		b.fold(w, r)
	}
	switch stateOf(w) {
	case Closed:
		switch r {
		case failure:
			streak := b.bumpStreak(w)
			b.lastFailSucc = b.successes(w)
			tripped := b.threshold > 0 && streak >= b.threshold
			if b.rateMode && !tripped {
				tripped = b.rateTripped(b.lastFailSucc, 1)
			}
			if tripped {
				changed = b.setState(Open, false)
			}
		case success:
			if st := b.streak.Load(); st&streakCountMask != 0 {
				b.resetStreak(st, w)
			}
			if b.armed.Load() && b.rateTripped(b.successes(b.word.Load()), 0) {
				changed = b.setState(Open, false)
			}
		}
	case HalfOpen:
		switch r {
		case success:
			b.probesOK++
			if b.probesOK >= b.cfg.HalfOpenMaxCalls {
				changed = b.setState(Closed, false)
			}
		case failure:
			changed = b.setState(Open, false)
		case ignored:
			b.admitted--
		}
	}
	b.mu.Unlock()
	if changed {
		b.deliver()
	}
}

// bumpStreak adds one consecutive failure (saturating) and returns the new
// streak. Called under mu; successes may reset the streak concurrently.
func (b *Breaker) bumpStreak(w uint64) uint64 {
	tag := streakTag(w)
	for {
		st := b.streak.Load()
		n := st&streakCountMask + 1
		if st&^streakCountMask != tag {
			n = 1 // cannot happen: the streak is re-tagged under mu
		}
		if n > streakCountMask {
			return streakCountMask
		}
		if b.streak.CompareAndSwap(st, tag|n) {
			return n
		}
	}
}

// rateTripped moves the successes reported since its last call into the
// window, given succ, the successes of this generation so far, then adds
// fails failures, and reports whether the failure-rate trigger fires. Successes are moved lazily, here, because they can only
// lower the rate; all of them came after the failures already in the window,
// so the window keeps the order in which results were reported. It arms the
// success path when the rate is reached but MinCalls is not. Under mu.
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

// Do calls fn if the breaker admits the call and records its result. It
// returns ctx.Err() without calling fn or counting anything when ctx is
// already done, ErrOpen or ErrTooManyCalls when the call is rejected, and
// fn's error otherwise. A panic in fn (or runtime.Goexit) counts as a failure
// and continues unchanged, with its original stack.
func (b *Breaker) Do(ctx context.Context, fn func(context.Context) error) (err error) {
	if err = ctx.Err(); err != nil {
		return err
	}
	p := Permit{b.word.Load()} // Allow, inlined by hand
	if p.w&stateMask != uint64(Closed) {
		if p, err = b.allowSlow(); err != nil {
			return err
		}
	}
	returned := false
	defer b.finish(p, &err, &returned) // runs on return, panic and Goexit
	err = fn(ctx)
	returned = true
	return err
}

// finish records the result of a call made by Do or Call: a failure if fn
// did not return (it panicked or called runtime.Goexit), else its error.
// It repeats the success path of succeed: calling succeed instead costs
// about 1 ns more per call (measured), a tenth of the whole path.
func (b *Breaker) finish(p Permit, err *error, returned *bool) {
	if *returned && *err == nil && b.plain && p.w&stateMask == uint64(Closed) && b.word.Load() == p.w {
		if n, ok := b.stripe().c[success].add(p.w); ok {
			if st := b.streak.Load(); st&streakCountMask != 0 {
				b.resetStreak(st, p.w)
			}
			if n >= foldAt || b.armed.Load() {
				b.onSuccessSlow(p, n)
			}
			return
		}
	}
	b.finishSlow(p, *err, *returned)
}

func (b *Breaker) finishSlow(p Permit, err error, returned bool) {
	if !returned {
		b.record(p, failure)
		return
	}
	b.Done(p, err)
}

// Call is Do for a function that returns a value. On rejection or a done ctx
// it returns the zero T.
func Call[T any](ctx context.Context, b *Breaker, fn func(context.Context) (T, error)) (v T, err error) {
	if err = ctx.Err(); err != nil {
		return v, err
	}
	p := Permit{b.word.Load()}
	if p.w&stateMask != uint64(Closed) {
		if p, err = b.allowSlow(); err != nil {
			return v, err
		}
	}
	returned := false
	defer b.finish(p, &err, &returned)
	v, err = fn(ctx)
	returned = true
	return v, err
}

// State returns the current state. An open breaker whose OpenTimeout has
// passed turns half-open here, even if no call has arrived.
func (b *Breaker) State() State {
	w := b.word.Load()
	if stateOf(w) == Open && w&forcedBit == 0 && b.now() >= b.openUntil.Load() {
		b.mu.Lock()
		changed := b.maybeHalfOpen()
		w = b.word.Load()
		b.mu.Unlock()
		if changed {
			b.deliver()
		}
	}
	return stateOf(w)
}

// Counts returns the counts of the current generation. In the closed state
// Successes, Failures, Ignored and ConsecutiveFailures are exact;
// ConsecutiveSuccesses is the number of successes recorded since the latest
// failure, exact when calls do not overlap.
func (b *Breaker) Counts() Counts {
	b.mu.Lock()
	changed := b.maybeHalfOpen()
	w := b.word.Load()
	var c Counts
	c.Successes = b.genBase[success] + b.sum(w, success)
	c.Failures = b.genBase[failure] + b.sum(w, failure)
	c.Ignored = b.genBase[ignored] + b.sum(w, ignored)
	c.Rejected = b.genBase[rejected] + b.sum(w, rejected)
	c.Calls = c.Successes + c.Failures
	if st := b.streak.Load(); st&^streakCountMask == streakTag(w) {
		c.ConsecutiveFailures = st & streakCountMask
	}
	if c.ConsecutiveFailures == 0 && c.Successes >= b.lastFailSucc {
		c.ConsecutiveSuccesses = c.Successes - b.lastFailSucc
	}
	b.mu.Unlock()
	if changed {
		b.deliver()
	}
	return c
}

// Reset closes the breaker and clears its counts (metrics stay cumulative).
// It also ends a Trip.
func (b *Breaker) Reset() {
	b.mu.Lock()
	changed := b.setState(Closed, false)
	b.mu.Unlock()
	if changed {
		b.deliver()
	}
}

// Trip forces the breaker open: it rejects every call with ErrOpen and never
// turns half-open by itself, until Reset.
func (b *Breaker) Trip() {
	b.mu.Lock()
	changed := false
	if w := b.word.Load(); w&forcedBit == 0 {
		changed = b.setState(Open, true)
	}
	b.mu.Unlock()
	if changed {
		b.deliver()
	}
}

// now returns the monotonic time since New in nanoseconds.
func (b *Breaker) now() int64 { return int64(time.Since(b.epoch)) }

// maybeHalfOpen turns an open breaker whose timeout passed half-open and
// reports whether it did. Under mu.
func (b *Breaker) maybeHalfOpen() bool {
	w := b.word.Load()
	if stateOf(w) == Open && w&forcedBit == 0 && b.now() >= b.openUntil.Load() {
		return b.setState(HalfOpen, false)
	}
	return false
}

// setState starts a new generation in state to, clearing the counts, and
// queues an OnStateChange event if the state changed, which it reports. The
// caller must hold mu and call deliver after unlocking when it returns true.
func (b *Breaker) setState(to State, forced bool) bool {
	old := b.word.Load()
	from := stateOf(old)
	w := (old>>genShift+1)<<genShift | uint64(to)
	if forced {
		w |= forcedBit
	}
	// Re-tag the stripes before publishing the word, so that a permit of
	// the old generation can no longer count in the new one.
	for i := range b.stripes {
		s := &b.stripes[i]
		for r := range s.c {
			if v := s.c[r].Swap(tagOf(w)); sameGen(v, old) {
				b.cum[r].Add(v & countMask)
			}
		}
	}
	b.genBase = [numResults]uint64{}
	b.succSeen, b.lastFailSucc = 0, 0
	b.admitted, b.probesOK = 0, 0
	b.armed.Store(false)
	if b.rateMode {
		b.win.reset()
	}
	b.streak.Store(streakTag(w))
	if to == Open && !forced {
		now := b.now()
		b.openUntil.Store(now + min(int64(b.cfg.OpenTimeout), math.MaxInt64-now))
	}
	b.word.Store(w)
	if from == to {
		return false
	}
	b.transitions[from][to]++
	if b.cfg.OnStateChange != nil {
		b.events = append(b.events, event{from, to})
	}
	return true
}

// stampStripes tags every stripe counter with the generation of w. Used by
// New before the breaker is shared.
func (b *Breaker) stampStripes(w uint64) {
	for i := range b.stripes {
		for r := range b.stripes[i].c {
			b.stripes[i].c[r].Store(tagOf(w))
		}
	}
}

// fold moves the counts for r of every stripe that reached foldAt into
// genBase and cum before they can overflow. Under mu.
func (b *Breaker) fold(w uint64, r result) {
	for i := range b.stripes {
		c := &b.stripes[i].c[r]
		v := c.Load()
		if !sameGen(v, w) || v&countMask < foldAt {
			continue
		}
		v = c.Swap(tagOf(w))
		n := v & countMask
		b.genBase[r] += n
		b.cum[r].Add(n)
	}
}

// foldLocked is fold for a caller that does not hold mu.
func (b *Breaker) foldLocked(w uint64, r result) {
	b.mu.Lock()
	b.fold(w, r)
	b.mu.Unlock()
}

// successes returns the successes of the generation of w. Under mu.
func (b *Breaker) successes(w uint64) uint64 {
	return b.genBase[success] + b.sum(w, success)
}

// sum adds up the stripes' counts of r for the generation of w.
func (b *Breaker) sum(w uint64, r result) uint64 {
	var n uint64
	for i := range b.stripes {
		if v := b.stripes[i].c[r].Load(); sameGen(v, w) {
			n += v & countMask
		}
	}
	return n
}

// deliver calls OnStateChange for the queued events in order. Whoever finds
// no delivery in progress delivers, including events queued meanwhile by
// other goroutines or by the callback itself.
func (b *Breaker) deliver() {
	if b.cfg.OnStateChange == nil {
		return
	}
	b.mu.Lock()
	if b.delivering {
		b.mu.Unlock()
		return
	}
	b.delivering = true
	for len(b.events) > 0 {
		ev := b.events[0]
		b.events = b.events[1:]
		if len(b.events) == 0 {
			b.events = b.events[:0:0]
		}
		b.mu.Unlock()
		b.callOnStateChange(ev)
		b.mu.Lock()
	}
	b.delivering = false
	b.mu.Unlock()
}

func (b *Breaker) callOnStateChange(ev event) {
	returned := false
	defer func() {
		if v := recover(); v != nil {
			b.contained("OnStateChange", v)
		} else if !returned {
			// runtime.Goexit: this goroutine ends once its deferred calls
			// have run. Give up delivering and hand the rest of the queue
			// on, or no later change would ever be delivered.
			b.contained("OnStateChange", "runtime.Goexit")
			b.mu.Lock()
			b.delivering = false
			b.mu.Unlock()
			b.deliver()
		}
	}()
	b.cfg.OnStateChange(b.cfg.Name, ev.from, ev.to)
	returned = true
}

// contained logs and counts a panic recovered from a user callback.
func (b *Breaker) contained(callback string, v any) {
	b.callbackPanics.Add(1)
	l := b.cfg.Logger
	if l == nil {
		l = slog.Default()
	}
	l.Error("breaker: callback panicked", "breaker", b.cfg.Name, "callback", callback, "panic", fmt.Sprint(v))
}

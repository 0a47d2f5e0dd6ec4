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

	"github.com/steadfast-go/steadfast/internal/backoff"
	"github.com/steadfast-go/steadfast/internal/promreg"
)

// Errors returned by Allow, Do and Call.
var (
	// ErrOpen means the breaker is open and the call was not made.
	ErrOpen = errors.New("breaker: circuit open")
	// ErrTooManyCalls means the breaker is half-open and all of its
	// HalfOpenMaxCalls probe slots are taken.
	ErrTooManyCalls = errors.New("breaker: too many calls while half-open")
	// ErrNilFunc is returned by Do and Call for a nil function, which is
	// neither called nor counted.
	ErrNilFunc = errors.New("breaker: nil function")
)

// IsRejected reports whether err says that a breaker did not admit a call:
// whether it is (or wraps) ErrOpen or ErrTooManyCalls.
func IsRejected(err error) bool {
	return errors.Is(err, ErrOpen) || errors.Is(err, ErrTooManyCalls)
}

// Defaults for the zero fields of Config.
const (
	DefaultFailureThreshold = 10
	DefaultWindow           = 100
	DefaultOpenTimeout      = 60 * time.Second
	DefaultHalfOpenMaxCalls = 1

	DefaultOpenTimeoutMultiplier = 2.0
	maxMultiplier                = 10

	maxThreshold = 1<<32 - 1
	maxWindow    = 1 << 24
	// minWindowDuration keeps a bucket of the time window (a tenth of it)
	// at least one clock step (1ms) wide.
	minWindowDuration = 10 * time.Millisecond
)

// Config configures a Breaker. The zero value is valid: each zero field
// means the default its doc gives. A negative number is an error in every
// field.
type Config struct {
	// Name identifies the breaker in OnStateChange, as the key "name" of its
	// log records and as the constant label "name" on its metrics.
	Name string

	// FailureThreshold is the number of consecutive failures that opens the
	// breaker, at most 4294967295. Default 10 when FailureRate is zero; when
	// FailureRate is set, zero means the consecutive trigger is off.
	FailureThreshold int

	// FailureRate turns on the failure-rate trigger: the breaker opens when
	// failures/calls over the last Window calls is at least FailureRate and
	// the window holds at least MinCalls calls. Zero means off; otherwise it
	// must be in (0,1]. Both triggers may be on at once; either opens it.
	// The rate is a float64 quotient, so 7 failures in 100 calls reach 0.07.
	// It is judged when a failed or slow call is reported. It is also judged
	// on a success while the window holds fewer than MinCalls calls.
	FailureRate float64

	// Window is the number of most recent calls the failure rate is computed
	// over, at most 16777216. Default 100, or MinCalls if that is larger.
	// It is kept in a ring of buckets of max(1, Window/10) calls, and the
	// oldest bucket leaves as a whole. So a full window covers between
	// Window and Window + Window/10 calls; below 20 it is exact. Both rate
	// triggers use it, and Counts reports it.
	Window int

	// MinCalls is the number of calls the window must hold before the
	// failure rate or the slow-call rate can open the breaker. Default
	// Window, or Window's default when WindowDuration is set. Must not
	// exceed a Window that is set.
	MinCalls int

	// WindowDuration, when set, makes the window of FailureRate and
	// SlowCallRate the calls reported in the last WindowDuration instead of
	// the last Window calls (Window must then be 0). It is kept in 10
	// buckets of WindowDuration/10 plus the current one, so a call stays in
	// it for at least WindowDuration and less than 1.1 times it. Zero means
	// a window of Window calls; otherwise at least 10ms.
	WindowDuration time.Duration

	// SlowCallDuration turns on slow-call detection: a call that takes
	// longer is slow, whether it succeeds or fails. Zero means off. Slow
	// calls count in Counts.Slow. Durations come from a coarse clock that
	// ticks at least every SlowCallDuration/20 (and at most every 1ms) while calls arrive. A
	// duration is thus exact to one tick, plus how late the timer runs.
	SlowCallDuration time.Duration

	// SlowCallRate opens the breaker when slow/calls over the window is at
	// least SlowCallRate and the window holds at least MinCalls calls, as
	// FailureRate does for failures. In (0,1]; default 1 when
	// SlowCallDuration is set. Setting it without SlowCallDuration is an
	// error.
	SlowCallRate float64

	// OpenTimeout is how long the breaker stays open before it turns
	// half-open and admits probes, the first time it opens. Default 60s, or
	// MaxOpenTimeout if that is set and shorter.
	OpenTimeout time.Duration

	// MaxOpenTimeout caps the open period. Each probe that fails (or
	// outlasts HalfOpenMaxWait) multiplies the open period by
	// OpenTimeoutMultiplier, with ±10% jitter, up
	// to MaxOpenTimeout; closing resets it to OpenTimeout. Default
	// OpenTimeout: a fixed open period. Must not be below OpenTimeout.
	// OpenTimeout 1s with MaxOpenTimeout 60s probes after 1s, 2s, 4s, ...
	// then about every minute.
	MaxOpenTimeout time.Duration

	// OpenTimeoutMultiplier is the factor by which each failed probe grows
	// the open period, up to MaxOpenTimeout. Default 2. In (1,10]. A
	// smaller factor probes a short outage more often: after an outage of
	// T the next probe comes within about (factor-1)·T.
	OpenTimeoutMultiplier float64

	// HalfOpenMaxCalls is the number of probe calls admitted while half-open,
	// in total. When that many have succeeded the breaker closes; any failing
	// or slow probe re-opens it. A finished probe keeps its slot; an ignored
	// one frees it. Default 1.
	HalfOpenMaxCalls int

	// HalfOpenMaxWait bounds how long probes may run: when one has been
	// running for HalfOpenMaxWait the breaker re-opens, as if it had failed,
	// so a hung probe or a Permit never passed to Done cannot keep it
	// half-open. The wait starts when a probe is admitted while no other is
	// running. Default: the current open period.
	HalfOpenMaxWait time.Duration

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
	// breaker's lock. The package doc says which goroutine calls it and how
	// a backlog is bounded.
	OnStateChange func(name string, from, to State)

	// Registerer, if set, receives the breaker's metrics. Default nil: no
	// metrics. They are read from the breaker's own counters at scrape
	// time, so calls pay nothing for them. Each carries the constant label
	// name=Name, so breakers with distinct names may share a registry:
	//
	//	steadfast_breaker_calls_total{result}          success, failure, ignored, rejected
	//	steadfast_breaker_slow_calls_total             calls slower than SlowCallDuration
	//	steadfast_breaker_state                        0 closed, 1 open, 2 half-open
	//	steadfast_breaker_open_period_seconds          the current open period; 0 while closed
	//	steadfast_breaker_forced                       1 while forced open by Trip
	//	steadfast_breaker_disabled                     1 while disabled
	//	steadfast_breaker_metrics_only                 1 while in metrics-only mode
	//	steadfast_breaker_transitions_total{from,to}   state changes, a change of mode included
	//	steadfast_breaker_state_changes_skipped_total  changes merged into the next one
	//	steadfast_breaker_callback_panics_total        contained panics in callbacks
	//	steadfast_breaker_foreign_permits_total        permits of another breaker passed to Done
	Registerer prometheus.Registerer

	// Logger receives state changes and contained panics from callbacks.
	// Default slog.Default(), looked up each time a record is written. A
	// state change is logged as "state changed" with component, name, from
	// and to. It adds forced, mode, probe_timed_out or skipped when they
	// apply. A contained panic is logged as "callback panicked" with panic
	// and stack.
	Logger *slog.Logger
}

func (c *Config) normalize() error {
	if err := c.checkCounts(); err != nil {
		return err
	}
	if err := c.checkTimes(); err != nil {
		return err
	}
	if c.Window == 0 {
		c.Window = max(DefaultWindow, c.MinCalls) // the default yields to MinCalls
	}
	if c.MinCalls == 0 {
		c.MinCalls = c.Window
	}
	if c.FailureThreshold == 0 && c.FailureRate == 0 {
		c.FailureThreshold = DefaultFailureThreshold
	}
	if c.SlowCallDuration > 0 && c.SlowCallRate == 0 {
		c.SlowCallRate = 1
	}
	c.OpenTimeout, c.MaxOpenTimeout, _ = backoff.Bounds(c.OpenTimeout, DefaultOpenTimeout, c.MaxOpenTimeout, 0)
	if c.OpenTimeoutMultiplier == 0 {
		c.OpenTimeoutMultiplier = DefaultOpenTimeoutMultiplier
	}
	if c.HalfOpenMaxCalls == 0 {
		c.HalfOpenMaxCalls = DefaultHalfOpenMaxCalls
	}
	return nil
}

// checkCounts checks the fields that count calls and the rates.
func (c *Config) checkCounts() error {
	switch {
	case c.FailureThreshold < 0 || c.FailureThreshold > maxThreshold:
		return fmt.Errorf("breaker: Config.FailureThreshold must be in [0,%d], got %d", maxThreshold, c.FailureThreshold)
	case badRate(c.FailureRate):
		return fmt.Errorf("breaker: Config.FailureRate must be in (0,1] (or 0 for off), got %v", c.FailureRate)
	case c.Window < 0 || c.Window > maxWindow:
		return fmt.Errorf("breaker: Config.Window must be in [1,%d] (or 0 for the default), got %d", maxWindow, c.Window)
	case c.WindowDuration > 0 && c.Window > 0:
		return fmt.Errorf("breaker: Config.Window must be 0 when Config.WindowDuration is set, got %d", c.Window)
	case c.MinCalls < 0 || c.MinCalls > maxWindow:
		return fmt.Errorf("breaker: Config.MinCalls must be in [1,%d] (or 0 for Window), got %d", maxWindow, c.MinCalls)
	case c.Window > 0 && c.MinCalls > c.Window:
		return fmt.Errorf("breaker: Config.MinCalls must not exceed Config.Window (%d), got %d", c.Window, c.MinCalls)
	case badRate(c.SlowCallRate):
		return fmt.Errorf("breaker: Config.SlowCallRate must be in (0,1] (or 0 for the default), got %v", c.SlowCallRate)
	case c.HalfOpenMaxCalls < 0:
		return fmt.Errorf("breaker: Config.HalfOpenMaxCalls must not be negative, got %d", c.HalfOpenMaxCalls)
	}
	return nil
}

// checkTimes checks the durations.
func (c *Config) checkTimes() error {
	switch {
	case c.WindowDuration < 0 || c.WindowDuration > 0 && c.WindowDuration < minWindowDuration:
		return fmt.Errorf("breaker: Config.WindowDuration must be at least %v (or 0 for a window of Window calls), got %v", minWindowDuration, c.WindowDuration)
	case c.SlowCallDuration < 0:
		return fmt.Errorf("breaker: Config.SlowCallDuration must not be negative, got %v", c.SlowCallDuration)
	case c.SlowCallRate > 0 && c.SlowCallDuration == 0:
		return fmt.Errorf("breaker: Config.SlowCallRate needs Config.SlowCallDuration, got a rate of %v and no duration", c.SlowCallRate)
	case c.OpenTimeout < 0:
		return fmt.Errorf("breaker: Config.OpenTimeout must not be negative, got %v", c.OpenTimeout)
	case c.MaxOpenTimeout < 0:
		return fmt.Errorf("breaker: Config.MaxOpenTimeout must not be negative, got %v", c.MaxOpenTimeout)
	case c.MaxOpenTimeout > 0 && c.MaxOpenTimeout < c.OpenTimeout:
		return fmt.Errorf("breaker: Config.MaxOpenTimeout must not be below Config.OpenTimeout (%v), got %v", c.OpenTimeout, c.MaxOpenTimeout)
	case c.HalfOpenMaxWait < 0:
		return fmt.Errorf("breaker: Config.HalfOpenMaxWait must not be negative, got %v", c.HalfOpenMaxWait)
	case math.IsNaN(c.OpenTimeoutMultiplier) || c.OpenTimeoutMultiplier != 0 && (c.OpenTimeoutMultiplier <= 1 || c.OpenTimeoutMultiplier > maxMultiplier):
		return fmt.Errorf("breaker: Config.OpenTimeoutMultiplier must be in (1,%v] (or 0 for the default), got %v", maxMultiplier, c.OpenTimeoutMultiplier)
	}
	return nil
}

// badRate reports whether r is outside (0,1] and not 0 (off or default).
func badRate(r float64) bool { return math.IsNaN(r) || r < 0 || r > 1 }

// Counts are the counts of the current generation: they start from zero on
// every change of state or mode and on Reset. Calls counts the calls that
// finished and counted either way (Successes + Failures); ignored calls,
// rejected calls and calls still running are not in Calls.
type Counts struct {
	Calls                uint64 `json:"calls"`
	Successes            uint64 `json:"successes"`
	Failures             uint64 `json:"failures"`
	Ignored              uint64 `json:"ignored"`
	Rejected             uint64 `json:"rejected"`
	ConsecutiveSuccesses uint64 `json:"consecutive_successes"`
	ConsecutiveFailures  uint64 `json:"consecutive_failures"`
	// Slow counts the calls in Calls that took longer than
	// SlowCallDuration; always 0 when it is not set.
	Slow uint64 `json:"slow"`

	// WindowCalls is the number of calls in the rate window (the last
	// Window calls or the last WindowDuration) while closed, and
	// FailureRate and SlowCallRate are the shares of failed and of slow
	// calls among them (0 for an empty window). They are kept whether or
	// not a rate trigger is on, and in MetricsOnly mode. A rate trigger
	// fires only once WindowCalls reaches MinCalls.
	WindowCalls  uint64  `json:"window_calls"`
	FailureRate  float64 `json:"failure_rate"`
	SlowCallRate float64 `json:"slow_call_rate"`

	// OpenPeriod is the length of the current open period while open (or,
	// while half-open, of the one that just passed); 0 while closed or
	// forced open. It starts at OpenTimeout and grows up to MaxOpenTimeout.
	OpenPeriod time.Duration `json:"open_period"`
}

// Permit is an admission returned by Allow. Pass it to Done, of the breaker
// that issued it, exactly once. The zero Permit is never admitted; Done
// ignores it.
type Permit struct {
	b     *Breaker // the breaker that issued it
	w     uint64   // the state word at admission: state, mode, generation
	start int64    // the coarse clock at admission, when the clock is on
}

// Breaker is a three-state circuit breaker. It is safe for concurrent use.
// Create one with New.
type Breaker struct {
	_ cacheLinePad
	// Read on every call. word changes only on state changes; streak and
	// armed only when calls fail (see finish); clk once per clock step.
	word      atomic.Uint64 // see state.go
	streak    atomic.Uint64 // consecutive failures; written under mu
	armed     atomic.Bool   // a rate is reached, MinCalls not yet
	clocked   bool          // the coarse clock is on (clock.go)
	custom    bool          // IsFailure or IsIgnored is set
	slowAfter int64         // SlowCallDuration in ns; 0 = off
	clk       atomic.Int64  // the coarse clock (clock.go)
	stripes   []stripe
	shift     uint8 // 64 - log2(len(stripes))
	_         cacheLinePad

	openUntil     atomic.Int64 // ns since epoch at which Open turns HalfOpen
	probeDeadline atomic.Int64 // ns since epoch at which running probes are overdue; 0 = none
	cfg           Config
	epoch         time.Time
	tickEvery     time.Duration // the step of the coarse clock
	threshold     uint64        // consecutive failures that open it; 0 = off

	// Cumulative (never reset) counts for the metrics: results folded out of
	// the stripes, and results of earlier generations.
	cum            [numResults]atomic.Uint64
	slowTotal      atomic.Uint64
	callbackPanics atomic.Uint64
	foreign        atomic.Uint64 // permits of another breaker passed to Done

	mu           sync.Mutex
	genBase      [numResults]uint64 // counts folded out of the stripes in this generation
	slow         uint64             // slow calls of this generation
	win          window
	succSeen     uint64 // successes of this generation moved into win
	lastFailSucc uint64 // successes of this generation at its latest failure
	admitted     int    // half-open probes admitted
	probesOK     int    // half-open probes that succeeded
	level        int    // probes that failed in a row: the open period doubled that often
	period       int64  // the current open period in ns; 0 while closed or forced open
	transitions  [3][3]uint64
	events       events // state changes waiting to be logged and passed to OnStateChange
}

type cacheLinePad [128]byte

// New returns a closed Breaker configured by cfg, or an error naming the
// first invalid field. When cfg.Registerer is set it registers the breaker's
// metrics there and returns the registration error, if any.
func New(cfg Config) (*Breaker, error) {
	if err := cfg.normalize(); err != nil {
		return nil, err
	}
	n := stripeCount(runtime.GOMAXPROCS(0))
	b := &Breaker{
		cfg:       cfg,
		epoch:     time.Now(),
		threshold: uint64(cfg.FailureThreshold),
		custom:    cfg.IsFailure != nil || cfg.IsIgnored != nil,
		slowAfter: int64(cfg.SlowCallDuration),
		stripes:   make([]stripe, n),
		shift:     uint8(64 - log2(n)),
	}
	b.tickEvery = clockStep(cfg)
	b.clocked = b.tickEvery > 0
	b.clk.Store(^clkStopped)
	if cfg.WindowDuration > 0 {
		b.win.initTime(cfg.WindowDuration)
	} else {
		b.win.init(cfg.Window)
	}
	w := uint64(1)<<genShift | uint64(Closed)
	b.retag(0, w)
	b.word.Store(w)
	if cfg.Registerer != nil {
		if err := promreg.Register(cfg.Registerer, "breaker", cfg.Name, newCollector(b)); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// Name returns Config.Name.
func (b *Breaker) Name() string { return b.cfg.Name }

// Allow asks to make one call. If the call is admitted it returns a Permit,
// which must be passed to Done exactly once with the call's error. Otherwise
// it returns ErrOpen or ErrTooManyCalls, and the rejection is counted.
// In the closed state Allow takes no lock and does not allocate; it reads
// the coarse clock only when SlowCallDuration or WindowDuration is set.
//
// Allow, Do and Call admit a call the same way: closedPermit, which is
// inlined, and allowSlow when the breaker is not closed.
func (b *Breaker) Allow() (Permit, error) {
	if p := b.closedPermit(); p.b != nil {
		if b.clocked {
			p.start = b.coarseNow()
		}
		return p, nil
	}
	return b.allowSlow()
}

// closedPermit returns a Permit if the breaker is closed and counting
// (Normal or MetricsOnly mode), else the zero Permit: the lock-free
// admission. Its callers add the time when the coarse clock is on
// (b.clocked); here it would keep closedPermit from being inlined.
func (b *Breaker) closedPermit() Permit {
	if w := b.word.Load(); w&(stateMask|disabledBit) == 0 {
		return Permit{b: b, w: w}
	}
	return Permit{}
}

// Done reports the result of the call admitted by p. Each Permit must be
// passed to Done exactly once. A Permit from an earlier generation (the state
// changed or Reset was called since Allow) counts in the cumulative metrics
// but never in the current Counts and never changes the state; a Permit of
// another breaker is ignored and counted in the foreign_permits metric; the
// zero Permit is ignored. In the closed state a success or an ignored result
// takes no lock and does not allocate, unless the call was slow.
func (b *Breaker) Done(p Permit, err error) { b.finish(p, err, true) }

// Do calls fn if the breaker admits the call and records its result. It
// returns ErrNilFunc for a nil fn and ctx.Err() when ctx is already done,
// without calling fn or counting anything; ErrOpen or ErrTooManyCalls when
// the call is rejected; and fn's error otherwise. A panic in fn (or
// runtime.Goexit) counts as a failure and continues unchanged, with its
// original stack. Do admits the call as Allow does and reports it as Done does.
func (b *Breaker) Do(ctx context.Context, fn func(context.Context) error) (err error) {
	if fn == nil {
		return ErrNilFunc
	}
	if err = ctx.Err(); err != nil {
		return err
	}
	p := b.closedPermit()
	if p.b == nil {
		if p, err = b.allowSlow(); err != nil {
			return err
		}
	} else if b.clocked {
		p.start = b.coarseNow()
	}
	returned := false
	defer b.finishCall(p, &err, &returned) // on return, panic and Goexit
	err = fn(ctx)
	returned = true
	return err
}

// Call is Do for a function that returns a value. On rejection, a nil fn or
// a done ctx it returns the zero T.
func Call[T any](ctx context.Context, b *Breaker, fn func(context.Context) (T, error)) (v T, err error) {
	if fn == nil {
		return v, ErrNilFunc
	}
	if err = ctx.Err(); err != nil {
		return v, err
	}
	p := b.closedPermit()
	if p.b == nil {
		if p, err = b.allowSlow(); err != nil {
			return v, err
		}
	} else if b.clocked {
		p.start = b.coarseNow()
	}
	returned := false
	defer b.finishCall(p, &err, &returned) // on return, panic and Goexit
	v, err = fn(ctx)
	returned = true
	return v, err
}

// finishCall is finish for Do and Call, deferred: fn's error and whether
// it returned are read when the call ends.
func (b *Breaker) finishCall(p Permit, err *error, returned *bool) { b.finish(p, *err, *returned) }

// State returns the current state. An open breaker whose open period has
// passed turns half-open here, even if no call has arrived, and a half-open
// one whose probe has run for HalfOpenMaxWait re-opens. In Disabled and
// MetricsOnly mode it is Closed.
func (b *Breaker) State() State {
	w := b.word.Load()
	if b.timedOut(w) || b.overdue(w) {
		b.lock()
		w = b.word.Load()
		b.unlock()
	}
	return stateOf(w)
}

// Mode returns the current mode: Normal, or ForcedOpen after Trip, Disabled
// after Disable, MetricsOnly after MetricsOnly, until Reset.
func (b *Breaker) Mode() Mode { return modeOf(b.word.Load()) }

// Forced reports whether the breaker is open because Trip forced it, and
// stays open until Reset: whether Mode is ForcedOpen.
func (b *Breaker) Forced() bool { return b.word.Load()&forcedBit != 0 }

// NextProbe returns when the open breaker will admit its next probe: the
// end of its current open period. It returns the zero Time unless the
// breaker is open by its own counts (closed, half-open, forced open).
func (b *Breaker) NextProbe() time.Time {
	b.lock()
	defer b.unlock()
	if w := b.word.Load(); w&(stateMask|modeMask) != uint64(Open) {
		return time.Time{}
	}
	return b.epoch.Add(time.Duration(b.openUntil.Load()))
}

// Counts returns the counts of the current generation. Successes, Failures,
// Ignored, Rejected, Slow and ConsecutiveFailures are exact;
// ConsecutiveSuccesses is the number of successes recorded since the latest
// failure, exact when calls do not overlap.
func (b *Breaker) Counts() Counts {
	b.lock()
	defer b.unlock()
	w := b.word.Load()
	c := Counts{
		Successes:           b.counted(w, success),
		Failures:            b.counted(w, failure),
		Ignored:             b.counted(w, ignored),
		Rejected:            b.counted(w, rejected),
		ConsecutiveFailures: b.streak.Load(),
		Slow:                b.slow,
		OpenPeriod:          time.Duration(b.period),
	}
	c.Calls = c.Successes + c.Failures
	if c.ConsecutiveFailures == 0 && c.Successes >= b.lastFailSucc {
		c.ConsecutiveSuccesses = c.Successes - b.lastFailSucc
	}
	if stateOf(w) == Closed {
		b.catchUp(c.Successes)
		c.WindowCalls = b.win.calls
		if b.win.calls > 0 {
			c.FailureRate = float64(b.win.fails) / float64(b.win.calls)
			c.SlowCallRate = float64(b.win.slow) / float64(b.win.calls)
		}
	}
	return c
}

// Reset closes the breaker, clears its counts (metrics stay cumulative) and
// returns it to Normal mode: it ends a Trip, Disable or MetricsOnly.
func (b *Breaker) Reset() {
	b.lock()
	b.setState(Closed, Normal)
	b.unlock()
}

// Trip forces the breaker open: it rejects every call with ErrOpen and never
// turns half-open by itself, until Reset. Tripping a breaker that is already
// open by its own failures is a state change from Open to Open: it is
// logged, counted and passed to OnStateChange, and Forced turns true.
// Tripping a forced breaker again does nothing.
func (b *Breaker) Trip() { b.setMode(ForcedOpen, Open) }

// Disable makes the breaker admit every call and count nothing, as if it
// were not there, until Reset (or Trip or MetricsOnly). State reports
// Closed, Mode Disabled, and the disabled metric is 1.
func (b *Breaker) Disable() { b.setMode(Disabled, Closed) }

// MetricsOnly makes the breaker admit every call while it counts the
// results and keeps its rates as in Normal mode, but never opens, until
// Reset (or Trip or Disable): to watch what a configuration would do before
// letting it act. State reports Closed, Mode MetricsOnly.
func (b *Breaker) MetricsOnly() { b.setMode(MetricsOnly, Closed) }

// setMode moves the breaker into mode m, in state s, with fresh counts,
// unless it is in m already.
func (b *Breaker) setMode(m Mode, s State) {
	b.lock()
	if modeOf(b.word.Load()) != m {
		b.setState(s, m)
	}
	b.unlock()
}

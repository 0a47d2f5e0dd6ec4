package reloader

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Errors returned by Run and TriggerWait.
var (
	// ErrRunning is returned by Run when another call to Run on the same
	// Reloader has not returned yet.
	ErrRunning = errors.New("reloader: already running")

	// ErrStopped is returned by Run when an earlier Run has already
	// returned, and by TriggerWait when Run ended (or had ended) before a
	// reload serving the call started.
	ErrStopped = errors.New("reloader: stopped")
)

// Default values of the Config fields left at zero.
const (
	DefaultDebounce        = time.Second
	DefaultMaxDelay        = 10 * time.Second
	DefaultMinInterval     = 5 * time.Second
	DefaultRetryBackoff    = time.Second
	DefaultMaxRetryBackoff = time.Minute
)

// Config configures a Reloader. The zero value is valid and means "all
// defaults". Durations must not be negative unless the field says what a
// negative value means.
type Config struct {
	// Debounce is how long the reloader waits after the latest trigger
	// before it reloads (a trailing debounce): a burst of triggers closer
	// together than Debounce leads to one reload. Zero means 1s. A negative
	// value turns the debounce off: a trigger is served as soon as
	// MinInterval allows.
	Debounce time.Duration

	// MaxDelay bounds how long a continuous stream of triggers can postpone
	// a reload, counted from the first trigger not yet served. Zero means
	// 10s, or Debounce if that is longer. When set, it must not be shorter
	// than Debounce.
	MaxDelay time.Duration

	// MinInterval is the shortest time between the starts of two reloads,
	// whatever their results: it also spaces a retry after a failure. It
	// wins over MaxDelay. Zero means 5s; a negative value means no minimum.
	MinInterval time.Duration

	// Timeout bounds each reload: the context passed to the reload function
	// is cancelled after it, and an error returned then counts as a failure.
	// Zero means no timeout.
	Timeout time.Duration

	// RetryBackoff is the ceiling of the delay before the first retry after a
	// failed reload; the ceiling doubles after each further consecutive
	// failure, up to MaxRetryBackoff, and the actual delay is drawn
	// uniformly between zero and the ceiling (full jitter). It is measured
	// from the end of the failed reload. Zero means 1s.
	RetryBackoff time.Duration

	// MaxRetryBackoff caps the retry ceiling. Zero means 1m, or RetryBackoff
	// if that is longer. When set, it must not be shorter than RetryBackoff.
	MaxRetryBackoff time.Duration

	// OnError, if not nil, is called with the error of every failed reload
	// (a *PanicError for a panic), on the goroutine that ran the reload,
	// after the failure has been counted and logged and before the next
	// reload can start. A cancellation caused by the end of Run is not
	// reported. A panic in OnError is recovered, logged and counted.
	OnError func(error)

	// Name identifies the reloader in logs and is the constant label
	// "name" on its metrics.
	Name string

	// Logger receives failures, panics and contained callback panics.
	// Nil means slog.Default().
	Logger *slog.Logger

	// Registerer, if not nil, receives the reloader's metrics (see the
	// package documentation). Several reloaders may share one registry when
	// their Names differ.
	Registerer prometheus.Registerer
}

// withDefaults validates c and returns it with every default filled in.
// Negative Debounce and MinInterval become zero (off).
func (c Config) withDefaults() (Config, error) {
	switch {
	case c.MaxDelay < 0:
		return c, fmt.Errorf("reloader: MaxDelay must not be negative, got %v", c.MaxDelay)
	case c.Timeout < 0:
		return c, fmt.Errorf("reloader: Timeout must not be negative, got %v", c.Timeout)
	case c.RetryBackoff < 0:
		return c, fmt.Errorf("reloader: RetryBackoff must not be negative, got %v", c.RetryBackoff)
	case c.MaxRetryBackoff < 0:
		return c, fmt.Errorf("reloader: MaxRetryBackoff must not be negative, got %v", c.MaxRetryBackoff)
	}
	switch {
	case c.Debounce == 0:
		c.Debounce = DefaultDebounce
	case c.Debounce < 0:
		c.Debounce = 0
	}
	switch {
	case c.MaxDelay == 0:
		c.MaxDelay = max(DefaultMaxDelay, c.Debounce)
	case c.MaxDelay < c.Debounce:
		return c, fmt.Errorf("reloader: MaxDelay (%v) must not be shorter than Debounce (%v)", c.MaxDelay, c.Debounce)
	}
	switch {
	case c.MinInterval == 0:
		c.MinInterval = DefaultMinInterval
	case c.MinInterval < 0:
		c.MinInterval = 0
	}
	if c.RetryBackoff == 0 {
		c.RetryBackoff = DefaultRetryBackoff
	}
	switch {
	case c.MaxRetryBackoff == 0:
		c.MaxRetryBackoff = max(DefaultMaxRetryBackoff, c.RetryBackoff)
	case c.MaxRetryBackoff < c.RetryBackoff:
		return c, fmt.Errorf("reloader: MaxRetryBackoff (%v) must not be shorter than RetryBackoff (%v)", c.MaxRetryBackoff, c.RetryBackoff)
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c, nil
}

// PanicError is the error recorded for a reload function that panicked or
// called runtime.Goexit.
type PanicError struct {
	// Value is the value passed to panic; nil when the function called
	// runtime.Goexit.
	Value any
	// Stack is the stack of the panicking goroutine.
	Stack []byte
}

func (e *PanicError) Error() string {
	if e.Value == nil {
		return "reloader: reload function called runtime.Goexit"
	}
	return fmt.Sprintf("reloader: reload function panicked: %v", e.Value)
}

// Unwrap returns Value when it is an error, so that errors.Is and errors.As
// see through the panic.
func (e *PanicError) Unwrap() error {
	err, _ := e.Value.(error)
	return err
}

// Stats is a snapshot of a Reloader's counters, returned by Reloader.Stats.
//
// At any moment when no reload is running,
// Triggers = Reloads - Retries + Coalesced + Ignored + pending, where pending
// is the number of triggers waiting for the next reload (zero once it has
// run).
type Stats struct {
	// Triggers counts calls to Trigger and TriggerWait.
	Triggers uint64
	// Coalesced counts triggers served by a reload that an earlier trigger or
	// a pending retry had already asked for.
	Coalesced uint64
	// Ignored counts triggers that no reload will serve because Run has
	// returned: those still waiting when it returned and every later one.
	Ignored uint64
	// Reloads counts finished reloads, whatever their result.
	Reloads uint64
	// Retries counts the reloads started because the previous one failed
	// rather than because of a trigger.
	Retries uint64
	// Failures counts reloads that returned an error or panicked; Panics
	// counts the panics among them. A reload cancelled because Run ended
	// counts as Canceled instead.
	Failures uint64
	Panics   uint64
	Canceled uint64
	// CallbackPanics counts panics recovered from OnError.
	CallbackPanics uint64
	// ConsecutiveFailures is the number of failures since the latest
	// successful reload.
	ConsecutiveFailures int
	// LastError is the error of the latest finished reload; nil when it
	// succeeded or none has finished. A reload cancelled by the end of Run
	// leaves it unchanged.
	LastError error
	// LastSuccess is when the latest successful reload finished; zero if
	// none has.
	LastSuccess time.Time
	// LastDuration is how long the latest finished reload ran.
	LastDuration time.Duration
}

// Run states.
const (
	stateIdle uint32 = iota
	stateRunning
	stateStopped
)

// Reloader calls a reload function when triggered, coalescing, debouncing and
// rate-limiting the triggers. Create one with New; it does nothing until Run
// is called. Its methods are safe for concurrent use.
type Reloader struct {
	// The hot fields, written by every Trigger, live on their own cache
	// line, away from the fields the Run goroutine writes.
	_    [64]byte
	seq  atomic.Uint64 // number of triggers so far
	wake chan struct{} // capacity 1: "there may be a new trigger"
	_    [64 - 16]byte

	fn    func(context.Context) error
	cfg   Config
	log   *slog.Logger
	met   *metrics // nil without a Registerer
	state atomic.Uint32

	// served is the value of seq when the latest reload started: every
	// trigger up to it has been served (or is being served).
	served    atomic.Uint64
	coalesced atomic.Uint64

	mu      sync.Mutex
	waiters []*waiter // TriggerWait calls not yet taken by a reload
	stats   Stats     // all but Triggers, Coalesced and Ignored
}

// waiter is one TriggerWait call.
type waiter struct {
	ch chan error // capacity 1
}

// New returns a Reloader that calls fn to reload. fn receives a context that
// is cancelled when Run's context ends or Config.Timeout passes. New returns
// an error when fn is nil, when cfg is invalid, or when the metrics cannot be
// registered.
func New(fn func(context.Context) error, cfg Config) (*Reloader, error) {
	if fn == nil {
		return nil, errors.New("reloader: fn must not be nil")
	}
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	r := &Reloader{
		wake: make(chan struct{}, 1),
		fn:   fn,
		cfg:  cfg,
		log:  cfg.Logger.With(slog.String("reloader", cfg.Name)),
	}
	if cfg.Registerer != nil {
		m, err := newMetrics(r, cfg.Registerer, cfg.Name)
		if err != nil {
			return nil, err
		}
		r.met = m
	}
	return r, nil
}

// Trigger asks for a reload. It never blocks, never allocates and costs the
// same however many triggers are pending: triggers are counted, not queued.
// A trigger before Run is remembered and served once Run starts; a trigger
// after Run has returned is ignored (and counted in Stats.Ignored).
func (r *Reloader) Trigger() {
	r.seq.Add(1)
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// TriggerWait triggers a reload and waits for the first reload that starts
// after the call; it returns that reload's error (a *PanicError if it
// panicked). A reload already running when TriggerWait is called never
// answers it. It returns ctx's error if ctx ends first (without triggering
// if ctx is already done), and ErrStopped if Run has returned, or returns,
// before such a reload starts. Called before Run, it waits for Run.
func (r *Reloader) TriggerWait(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	w := &waiter{ch: make(chan error, 1)}
	r.mu.Lock()
	r.seq.Add(1)
	if r.state.Load() == stateStopped {
		r.mu.Unlock()
		return ErrStopped
	}
	r.waiters = append(r.waiters, w)
	r.mu.Unlock()
	select {
	case r.wake <- struct{}{}:
	default:
	}

	select {
	case err := <-w.ch:
		return err
	case <-ctx.Done():
		r.mu.Lock()
		for i, x := range r.waiters {
			if x == w {
				r.waiters = append(r.waiters[:i], r.waiters[i+1:]...)
				break
			}
		}
		r.mu.Unlock()
		return ctx.Err()
	}
}

// Stats returns a snapshot of the reloader's counters.
func (r *Reloader) Stats() Stats {
	r.mu.Lock()
	s := r.stats
	r.mu.Unlock()
	s.Triggers, s.Coalesced, s.Ignored = r.triggerCounts()
	return s
}

// triggerCounts returns the trigger, coalesced and ignored counts without
// locking.
func (r *Reloader) triggerCounts() (triggers, coalesced, ignored uint64) {
	// Read state before seq: a stopped reloader's served is final, and
	// every trigger counted in seq after it is ignored.
	stopped := r.state.Load() == stateStopped
	served := r.served.Load()
	triggers = r.seq.Load()
	if stopped {
		ignored = triggers - served
	}
	return triggers, r.coalesced.Load(), ignored
}

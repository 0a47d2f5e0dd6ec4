package reloader

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/steadfast-go/steadfast/internal/backoff"
	"github.com/steadfast-go/steadfast/internal/errjson"
	"github.com/steadfast-go/steadfast/internal/logs"
)

// Errors returned by the Reloader.
var (
	// ErrRunning is returned by Run when another call to Run on the same
	// Reloader has not returned yet.
	ErrRunning = errors.New("reloader: already running")

	// ErrStopped is returned by TriggerWait and Load when the Run that was
	// to serve them returned before their reload started.
	ErrStopped = errors.New("reloader: stopped")

	// ErrGoexit is the Value of the *PanicError of a reload whose function
	// called runtime.Goexit (for example through testing.T.FailNow), as in
	// taskmon: errors.Is(err, ErrGoexit) tells it from a panic. It is a
	// failure, counted and retried like an error (result "failure").
	ErrGoexit = errors.New("reloader: reload function called runtime.Goexit")
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
// defaults". A zero field means its default; a negative duration is an
// error except where the field says it turns something off. A default never
// conflicts with a value you set: it yields to it (MaxDelay: 500ms alone
// makes the default Debounce 500ms).
type Config struct {
	// Debounce is how long the reloader waits after the latest trigger
	// before it reloads (a trailing debounce): a burst of triggers closer
	// together than Debounce leads to one reload. Zero means 1s, or
	// MaxDelay if that is set and shorter. A negative value turns the
	// debounce off: a trigger is served as soon as MinInterval allows.
	Debounce time.Duration

	// MaxDelay bounds how long a continuous stream of triggers can postpone
	// a reload, counted from the first trigger not yet served. Zero means
	// 10s, or Debounce if that is set and longer. When both are set,
	// MaxDelay must not be shorter than Debounce.
	MaxDelay time.Duration

	// MinInterval is the shortest time between the starts of two reloads,
	// whatever their results: it also spaces a retry after a failure. It
	// wins over MaxDelay (Load does not wait for it). Zero means 5s; a
	// negative value means no minimum.
	MinInterval time.Duration

	// Timeout bounds each reload: the context passed to the reload function
	// is canceled after it, and an error returned then counts as a failure.
	// Zero means no timeout.
	Timeout time.Duration

	// RetryBackoff is the ceiling of the delay before the first retry after a
	// failed reload; the ceiling doubles after each further consecutive
	// failure, up to MaxRetryBackoff, and the actual delay is drawn
	// uniformly between zero and the ceiling (full jitter). It is measured
	// from the end of the failed reload. Zero means 1s, or MaxRetryBackoff
	// if that is set and shorter.
	RetryBackoff time.Duration

	// MaxRetryBackoff caps the retry ceiling. Zero means 1m, or
	// RetryBackoff if that is set and longer. When both are set,
	// MaxRetryBackoff must not be shorter than RetryBackoff.
	MaxRetryBackoff time.Duration

	// OnError, if not nil, is called with the error of every failed reload
	// (a *PanicError for a panic or a runtime.Goexit, whose Value is then ErrGoexit), on the
	// goroutine that ran the reload, after the failure has been counted and
	// logged and before the next reload can start. A reload canceled because
	// its Run (or Load) context ended is not reported. A panic in OnError is
	// recovered, logged and counted.
	OnError func(error)

	// Name identifies the reloader: it is the "name" attribute of its log
	// records and the constant label "name" on its metrics.
	Name string

	// Logger receives failures, panics and contained callback panics. Nil
	// means slog.Default(), looked up each time a record is written.
	// Records carry component=reloader and name=Name. A failure is logged
	// at Error as "reload failed", or "reload panicked" with the panic and
	// its stack. A panic in OnError is logged at Error too. A canceled
	// reload is logged at Debug; a successful one is not logged.
	Logger *slog.Logger

	// Registerer, if not nil, receives the reloader's metrics, each with the
	// constant label name=Name. Several reloaders may share one registry
	// when their Names differ. The trigger counters are read from the
	// reloader's own counters at scrape time, so Trigger pays nothing.
	//
	//	steadfast_reloader_triggers_total                  counter
	//	steadfast_reloader_coalesced_total                 counter
	//	steadfast_reloader_reloads_total{result}           counter; success, failure, panic, canceled
	//	steadfast_reloader_callback_panics_total           counter
	//	steadfast_reloader_reload_duration_seconds         histogram
	//	steadfast_reloader_trigger_latency_seconds         histogram; first served trigger to reload start
	//	steadfast_reloader_pending                         gauge; 1 while a reload is wanted but not started
	//	steadfast_reloader_in_flight                       gauge; 1 while a reload runs
	//	steadfast_reloader_consecutive_failures            gauge
	//	steadfast_reloader_last_success_timestamp_seconds  gauge
	//
	// A runtime.Goexit counts as result "failure", a panic as "panic".
	Registerer prometheus.Registerer
}

// withDefaults validates c and returns it with every default filled in.
// Negative Debounce and MinInterval become zero (off).
func (c Config) withDefaults() (Config, error) {
	for _, f := range []struct {
		name string
		d    time.Duration
	}{{"MaxDelay", c.MaxDelay}, {"Timeout", c.Timeout}, {"RetryBackoff", c.RetryBackoff}, {"MaxRetryBackoff", c.MaxRetryBackoff}} {
		if f.d < 0 {
			return c, fmt.Errorf("reloader: Config.%s must not be negative, got %v", f.name, f.d)
		}
	}
	var err error
	if c.Debounce < 0 {
		c.Debounce = 0
	} else if c.Debounce, c.MaxDelay, err = pair("Debounce", c.Debounce, DefaultDebounce, "MaxDelay", c.MaxDelay, DefaultMaxDelay); err != nil {
		return c, err
	}
	if c.MaxDelay == 0 {
		c.MaxDelay = DefaultMaxDelay // Debounce is off
	}
	switch {
	case c.MinInterval == 0:
		c.MinInterval = DefaultMinInterval
	case c.MinInterval < 0:
		c.MinInterval = 0
	}
	c.RetryBackoff, c.MaxRetryBackoff, err = pair("RetryBackoff", c.RetryBackoff, DefaultRetryBackoff,
		"MaxRetryBackoff", c.MaxRetryBackoff, DefaultMaxRetryBackoff)
	return c, err
}

// pair fills in the defaults of a lower and an upper bound (each zero when
// unset): a default yields to the other bound when the user set it, and two
// values the user set must be in order.
func pair(loName string, lo, loDef time.Duration, hiName string, hi, hiDef time.Duration) (time.Duration, time.Duration, error) {
	lo, hi, ok := backoff.Bounds(lo, loDef, hi, hiDef)
	if !ok {
		return 0, 0, fmt.Errorf("reloader: Config.%s (%v) must not be shorter than Config.%s (%v)", hiName, hi, loName, lo)
	}
	return lo, hi, nil
}

// PanicError is the error recorded for a reload function that panicked.
type PanicError struct {
	// Value is the value passed to panic (a *runtime.PanicNilError for
	// panic(nil)), or ErrGoexit when the function called runtime.Goexit
	// (as in taskmon's PanicError).
	Value any
	// Stack is the stack of the panicking goroutine, as formatted by
	// runtime/debug.Stack.
	Stack []byte
}

func (e *PanicError) Error() string {
	if e.Value == ErrGoexit {
		return ErrGoexit.Error()
	}
	return fmt.Sprintf("reloader: reload function panicked: %v", e.Value)
}

// Unwrap returns Value when it is an error, so that errors.Is and errors.As
// see through the panic.
func (e *PanicError) Unwrap() error {
	err, _ := e.Value.(error)
	return err
}

// MarshalJSON writes {"value": ..., "stack": ...}: Value as fmt.Sprint
// prints it (an error's message) and Stack as text.
func (e *PanicError) MarshalJSON() ([]byte, error) {
	return json.Marshal(errjson.PanicOf(e.Value, e.Stack))
}

// Stats is a snapshot of a Reloader's counters, returned by Reloader.Stats.
// It marshals to JSON with snake_case keys and LastError as its message
// (null when nil).
//
// A reload is one run of the reload function. Reloads counts them all, and
// each was asked for in one of three ways: by Load (Loads), as the retry of
// a failed one (Retries), or by triggers (the rest). A trigger either asks
// for a reload or is coalesced into one already asked for (Coalesced). So
// after a Load and then a burst of 1,000 Trigger calls served together:
// Loads 1, Reloads 2, Triggers 1000, Coalesced 999. At any moment when no
// reload is running:
//
//	Reloads = Loads + Retries + (Triggers - Coalesced - pending)
//
// where pending is the number of triggers not yet served (zero once the
// reload that serves them has started).
type Stats struct {
	// Triggers counts calls to Trigger and TriggerWait, whether or not
	// they caused a reload of their own.
	Triggers uint64 `json:"triggers"`
	// Coalesced counts the triggers that caused no reload of their own:
	// served by a reload that an earlier trigger, a pending retry or a
	// Load had already asked for.
	Coalesced uint64 `json:"coalesced"`
	// Reloads counts finished runs of the reload function, whatever their
	// result and whoever asked for them: Loads and Retries included.
	Reloads uint64 `json:"reloads"`
	// Retries counts the reloads started because the previous one failed
	// (or was canceled by the end of Run or Load), not because of a
	// trigger or a Load.
	Retries uint64 `json:"retries"`
	// Loads counts the reloads started by Load; one reload may answer
	// several Load calls made while the previous reload ran.
	Loads uint64 `json:"loads"`
	// Failures counts reloads that returned an error, panicked or called
	// runtime.Goexit; Panics counts the panics among them. A reload
	// canceled because its Run or Load context ended counts as Canceled
	// instead.
	Failures uint64 `json:"failures"`
	Panics   uint64 `json:"panics"`
	Canceled uint64 `json:"canceled"`
	// CallbackPanics counts panics recovered from OnError.
	CallbackPanics uint64 `json:"callback_panics"`
	// ConsecutiveFailures is the number of failures since the latest
	// successful reload.
	ConsecutiveFailures int `json:"consecutive_failures"`
	// LastError is the error of the latest finished reload; nil when it
	// succeeded or none has finished. A canceled reload leaves it unchanged.
	LastError error `json:"last_error"`
	// LastSuccess is when the latest successful reload finished; zero if
	// none has.
	LastSuccess time.Time `json:"last_success"`
	// LastDuration is how long the latest finished reload ran.
	LastDuration time.Duration `json:"last_duration"`
}

// MarshalJSON encodes s under snake_case keys, with LastError as its
// message (null when nil) under "last_error".
func (s Stats) MarshalJSON() ([]byte, error) {
	type plain Stats // without this method
	return json.Marshal(struct {
		plain
		LastError any `json:"last_error"`
	}{plain(s), errjson.Message(s.LastError)})
}

// Modes of a Reloader, guarded by Reloader.mu.
const (
	modeIdle    = iota // neither Run nor a Load of its own is active
	modeRunning        // a Run is active; Load asks it for a reload
	modeLoading        // a Load runs a reload itself (no Run is active)
)

// Reloader calls a reload function when triggered, coalescing, debouncing and
// rate-limiting the triggers. Create one with New; it reloads only while Run
// is active or when Load is called. Its methods are safe for concurrent use.
type Reloader struct {
	// The hot fields, written by every Trigger, live on their own cache
	// line, away from the fields the Run goroutine writes.
	_    [64]byte
	seq  atomic.Uint64 // number of triggers so far
	wake chan struct{} // capacity 1: "there may be a new trigger or Load"
	_    [64 - 16]byte

	fn  func(context.Context) error
	cfg Config
	met *metrics // nil without a Registerer

	// served is the value of seq when the latest reload started: every
	// trigger up to it has been served (or is being served).
	served    atomic.Uint64
	coalesced atomic.Uint64

	mu      sync.Mutex
	mode    int
	idle    chan struct{} // closed when a Load of its own ends (modeLoading)
	waiters []*waiter     // TriggerWait calls not yet taken by a reload
	loads   []*waiter     // Load calls waiting for Run to start their reload
	stats   Stats         // all but Triggers and Coalesced

	// sched is owned by whoever holds the mode (Run, or a Load of its
	// own); it carries the retry and rate-limit state from one Run to the
	// next.
	sched scheduler
}

// waiter is one TriggerWait or Load call.
type waiter struct {
	ch chan error // capacity 1
}

// errRetry answers a Load whose Run returned before its reload started: the
// Load then runs the reload itself.
var errRetry = errors.New("reloader: retry the load")

// New returns a Reloader that calls fn to reload. fn receives a context that
// is canceled when Run's (or Load's) context ends or Config.Timeout passes.
// New returns an error when fn is nil, when cfg is invalid, or when the
// metrics cannot be registered.
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
	}
	r.sched.r = r
	r.sched.done = make(chan result, 1)
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
// A trigger made while no Run is active is remembered and served by the
// next Run (or Load).
func (r *Reloader) Trigger() {
	r.seq.Add(1)
	r.poke()
}

// poke tells Run's goroutine to look at the triggers and Load requests.
func (r *Reloader) poke() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// TriggerWait triggers a reload and waits for the first reload that starts
// after the call; it returns that reload's error (a *PanicError if it
// panicked). A reload already running when TriggerWait is called never
// answers it. It returns ctx's error if ctx ends first (without triggering
// if ctx is already done), and ErrStopped if the active Run returns before
// such a reload starts. Called while no Run is active, it waits for the next
// Run or Load.
func (r *Reloader) TriggerWait(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	w := &waiter{ch: make(chan error, 1)}
	r.mu.Lock()
	r.seq.Add(1)
	r.waiters = append(r.waiters, w)
	r.mu.Unlock()
	r.poke()
	return r.wait(ctx, w, &r.waiters)
}

// wait waits for w's answer or the end of ctx; in the latter case it takes
// w off list, which r.mu guards.
func (r *Reloader) wait(ctx context.Context, w *waiter, list *[]*waiter) error {
	select {
	case err := <-w.ch:
		return err
	case <-ctx.Done():
		r.mu.Lock()
		for i, x := range *list {
			if x == w {
				*list = append((*list)[:i], (*list)[i+1:]...)
				break
			}
		}
		r.mu.Unlock()
		return ctx.Err()
	}
}

// Load runs a reload now and returns its error (a *PanicError if it
// panicked or called runtime.Goexit, with Value ErrGoexit for the latter): the way to load once
// before serving. It is counted, logged and reported to OnError like any
// other reload, serves the triggers pending when it starts, and answers the
// TriggerWait calls made before it.
//
// At most one reload runs at a time. While Run is active, Load asks it for a
// reload that starts as soon as the running one (if any) has ended, without
// waiting for Debounce or MinInterval; the reload gets Run's context, and a
// failure is retried by Run as usual. While no Run is active, Load runs the
// reload itself with ctx (a Run started meanwhile waits for it), and a
// failure is retried by the next Run. Load returns ctx's error if ctx ends
// before its reload has finished.
func (r *Reloader) Load(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	for {
		if !r.lockUnlessLoading(ctx) {
			return ctx.Err()
		}
		if r.mode == modeRunning {
			w := &waiter{ch: make(chan error, 1)}
			r.loads = append(r.loads, w)
			r.mu.Unlock()
			r.poke()
			if err := r.wait(ctx, w, &r.loads); err != errRetry {
				return err
			}
			continue // Run returned first: run the reload here
		}
		r.mode = modeLoading
		r.idle = make(chan struct{})
		r.mu.Unlock()
		err := r.sched.loadNow(ctx)
		r.mu.Lock()
		r.mode = modeIdle
		close(r.idle)
		r.mu.Unlock()
		return err
	}
}

// lockUnlessLoading locks r.mu once no Load runs a reload of its own, and
// reports true; it reports false, without the lock, if ctx ends first.
func (r *Reloader) lockUnlessLoading(ctx context.Context) bool {
	for {
		r.mu.Lock()
		if r.mode != modeLoading {
			return true
		}
		idle := r.idle
		r.mu.Unlock()
		select {
		case <-idle:
		case <-ctx.Done():
			return false
		}
	}
}

// Stats returns a snapshot of the reloader's counters.
func (r *Reloader) Stats() Stats {
	r.mu.Lock()
	s := r.stats
	r.mu.Unlock()
	s.Triggers, s.Coalesced = r.seq.Load(), r.coalesced.Load()
	return s
}

// log writes a record naming the reloader to the configured logger, or to
// slog.Default() as it is now.
func (r *Reloader) log(level slog.Level, msg string, attrs ...slog.Attr) {
	logs.Sink{Logger: r.cfg.Logger, Component: "reloader", Name: r.cfg.Name}.Log(level, msg, attrs...)
}

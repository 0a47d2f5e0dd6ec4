package ticker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/steadfast-go/steadfast/breaker"
	"github.com/steadfast-go/steadfast/internal/logattr"
	"github.com/steadfast-go/steadfast/internal/promreg"
	"github.com/steadfast-go/steadfast/reloader"
	"github.com/steadfast-go/steadfast/taskmon"
)

// Defaults of the engine's Config.
const (
	DefaultBatchSize       = 256
	DefaultLinger          = 2 * time.Millisecond
	DefaultPublishTimeout  = 2 * time.Second
	DefaultShutdownTimeout = 5 * time.Second
	DefaultEngineName      = "ticker"
)

// The engine's errors.
var (
	// ErrEngineRan is returned by Engine.Run when Run has been called before
	// on the same engine: an engine runs once.
	ErrEngineRan = errors.New("ticker: engine has already been run")
	// ErrSourceGaveUp is wrapped by the error Engine.Run returns when the
	// Source failed more often than its restart limit allows.
	ErrSourceGaveUp = errors.New("ticker: source gave up")
)

// PublisherFunc adapts a function to the Publisher interface.
type PublisherFunc func(ctx context.Context, ticks []Tick) error

// Publish calls f(ctx, ticks).
func (f PublisherFunc) Publish(ctx context.Context, ticks []Tick) error { return f(ctx, ticks) }

// Config configures New. Source, Publisher and Instruments are required;
// every other zero field means the default documented on it.
type Config struct {
	// Source streams the ticks. Required. Its Run is supervised: restarted
	// with backoff when it returns an error or panics (see SourceRestart).
	Source Source
	// Publisher receives the batches. Required; PublisherFunc adapts a func.
	Publisher Publisher
	// Instruments returns the wanted subscriptions. Required. It is called
	// when Run starts and on every reload; its result is applied to the
	// Source as a diff.
	Instruments func(ctx context.Context) ([]Instrument, error)

	// BatchSize is the largest number of ticks in one Publish. Default 256.
	// Negative is an error.
	BatchSize int
	// Linger is how long the publish loop waits for a batch to fill once a
	// tick is pending. Default 2ms; negative means publish at once.
	Linger time.Duration
	// PublishTimeout is the deadline of each Publish call. Default 2s.
	// Negative is an error.
	PublishTimeout time.Duration
	// ShutdownTimeout bounds the final flush after Run's context ends.
	// Default 5s. Negative is an error.
	ShutdownTimeout time.Duration

	// Breaker configures the circuit breaker that guards the Publisher.
	// Its zero value means 10 consecutive failures open it for 60s. An
	// empty Name means Name + "/publisher"; empty Logger and Registerer are
	// taken from this Config. The breaker logs its own state changes.
	Breaker breaker.Config
	// Reload configures the reloader that serves Reload. Its zero value
	// means a 1s debounce, at least 5s between reloads and retries with
	// backoff from 1s up to 1m after a failure. An empty Name means
	// Name + "/subscriptions"; empty Logger and Registerer are taken from
	// this Config.
	Reload reloader.Config
	// SourceRestart configures the supervision of Source.Run: its Name and
	// Run are set by the engine; Restart defaults to taskmon.Always (a
	// Source's Run returning before its context ends is restarted too).
	// A zero MaxRestarts means no limit: a feed outage of any length is
	// retried (and reported in Health); set a limit to give the source up
	// after so many restarts within Period, and Run then returns an error
	// wrapping ErrSourceGaveUp. The other zero fields are taskmon's
	// defaults (100ms backoff up to 30s, healthy after 10s). The engine's
	// tasks run under a monitor named Name + "/tasks".
	SourceRestart taskmon.Spec

	// Name labels the engine's metrics (constant label "name") and its log
	// records. Default "ticker".
	Name string
	// Logger receives what the engine contains: failed reloads, refused
	// instruments, invalid ticks (at most one record a second), publish
	// failures (once per change of the breaker's state), source failures.
	// Nil means slog.Default(), looked up at each record.
	Logger *slog.Logger
	// Registerer receives the engine's metrics (see the package doc), the
	// breaker's, the reloader's and the monitor's. Nil means no metrics.
	Registerer prometheus.Registerer
}

// Engine streams ticks from a Source to a Publisher. It keeps the newest
// tick of every subscribed instrument (Latest) and a pending slot per
// instrument that a newer tick replaces (latest wins), so its memory is
// bounded by the number of subscribed instruments, whatever the tick rate
// or the length of a publisher outage. See the package documentation,
// section "Engine".
type Engine struct {
	cfg  Config
	name string

	br  *breaker.Breaker
	rel *reloader.Reloader
	mon *taskmon.Monitor
	met *engineMetrics

	stripes []stripe
	mask    uint32
	table   atomic.Pointer[subTable]
	emitFn  func(Tick) // e.emit, made once so Run hands the same func to every source run

	// Publish loop state.
	sleeping atomic.Bool
	wake     chan struct{}
	owed     atomic.Int64 // slots owed a catch-up tick
	inflight atomic.Int64 // ticks taken from their slots and not yet accounted

	published     atomic.Uint64
	circuitOpen   atomic.Uint64
	publishFailed atomic.Uint64
	shutdownDrops atomic.Uint64
	catchUp       atomic.Uint64
	batches       atomic.Uint64

	lastInvalidLog atomic.Int64 // unix nanos of the last invalid-tick record
	lastPubErr     atomic.Pointer[errBox]
	publishing     atomic.Int64 // unix nanos when the Publish in flight started; 0 if none
	pubFailing     atomic.Bool

	started atomic.Bool
	state   atomic.Int32 // engineIdle, engineRunning, engineStopped

	applied map[uint32]*Instrument // what the Source has accepted; reloads only

	reloadMu     sync.Mutex // guards the reload results below
	lastReload   time.Time
	reloadErr    error
	refused      uint64       // instruments refused by reloads (token 0, duplicate)
	nextExpiry   atomic.Int64 // unix nanos of the earliest subscribed expiry, 0 if none
	expiryChange chan struct{}

	srcMu       sync.Mutex
	srcFailedAt time.Time
	srcErr      error
	srcGaveUp   bool
}

const (
	engineIdle int32 = iota
	engineRunning
	engineStopped
)

// New returns an engine for cfg, or an error naming the first field that
// is missing or invalid.
func New(cfg Config) (*Engine, error) {
	switch {
	case cfg.Source == nil:
		return nil, errors.New("ticker: Config.Source is required")
	case cfg.Publisher == nil:
		return nil, errors.New("ticker: Config.Publisher is required")
	case cfg.Instruments == nil:
		return nil, errors.New("ticker: Config.Instruments is required")
	case cfg.BatchSize < 0:
		return nil, fmt.Errorf("ticker: Config.BatchSize must not be negative, got %d", cfg.BatchSize)
	case cfg.PublishTimeout < 0:
		return nil, fmt.Errorf("ticker: Config.PublishTimeout must not be negative, got %v", cfg.PublishTimeout)
	case cfg.ShutdownTimeout < 0:
		return nil, fmt.Errorf("ticker: Config.ShutdownTimeout must not be negative, got %v", cfg.ShutdownTimeout)
	}
	if cfg.BatchSize == 0 {
		cfg.BatchSize = DefaultBatchSize
	}
	if cfg.Linger == 0 {
		cfg.Linger = DefaultLinger
	}
	if cfg.PublishTimeout == 0 {
		cfg.PublishTimeout = DefaultPublishTimeout
	}
	if cfg.ShutdownTimeout == 0 {
		cfg.ShutdownTimeout = DefaultShutdownTimeout
	}
	if cfg.Name == "" {
		cfg.Name = DefaultEngineName
	}
	if cfg.SourceRestart.MaxRestarts == 0 {
		cfg.SourceRestart.MaxRestarts = -1 // a feed outage of any length is retried
	}
	e := &Engine{
		cfg:          cfg,
		name:         cfg.Name,
		wake:         make(chan struct{}, 1),
		expiryChange: make(chan struct{}, 1),
		applied:      map[uint32]*Instrument{},
	}
	e.emitFn = e.emit
	n := stripeCount()
	e.stripes = make([]stripe, n)
	e.mask = uint32(n - 1)
	e.table.Store(newSubTable(nil))

	// The parts are named after the engine, so that their series and log
	// records say whose they are and do not clash with a user's own
	// breaker, reloader or monitor of the same Name on the same registry.
	bc := cfg.Breaker
	if bc.Name == "" {
		bc.Name = cfg.Name + "/publisher"
	}
	if bc.Logger == nil {
		bc.Logger = cfg.Logger
	}
	userChange := bc.OnStateChange
	if userChange != nil {
		// The breaker logs its state changes itself; a user's callback
		// still gets them.
		bc.OnStateChange = func(name string, from, to breaker.State) { userChange(name, from, to) }
	}
	rc := cfg.Reload
	if rc.Name == "" {
		rc.Name = cfg.Name + "/subscriptions"
	}
	if rc.Logger == nil {
		rc.Logger = cfg.Logger
	}
	// Check every part before registering any metrics, and take back what
	// was registered if a later part fails (a name already taken), so that
	// a refused Config leaves the Registerer as it was.
	if _, err := breaker.New(noMetrics(bc)); err != nil {
		return nil, fmt.Errorf("ticker: Config.Breaker: %w", err)
	}
	if _, err := reloader.New(e.reload, noMetricsR(rc)); err != nil {
		return nil, fmt.Errorf("ticker: Config.Reload: %w", err)
	}
	if err := validSpec(cfg.SourceRestart); err != nil {
		return nil, err
	}
	track := promreg.Track(cfg.Registerer)
	var reg prometheus.Registerer
	if track != nil {
		reg = track
	}
	if bc.Registerer == nil {
		bc.Registerer = reg
	}
	if rc.Registerer == nil {
		rc.Registerer = reg
	}
	br, err := breaker.New(bc)
	if err != nil {
		track.Rollback()
		return nil, fmt.Errorf("ticker: Config.Breaker: %w", err)
	}
	e.br = br
	rel, err := reloader.New(e.reload, rc)
	if err != nil {
		track.Rollback()
		return nil, fmt.Errorf("ticker: Config.Reload: %w", err)
	}
	e.rel = rel
	e.mon = taskmon.New(taskmon.Config{Name: cfg.Name + "/tasks", Logger: cfg.Logger, Registerer: reg})
	met, err := newEngineMetrics(e, reg)
	if err != nil {
		track.Rollback()
		return nil, err
	}
	e.met = met
	return e, nil
}

// validSpec checks SourceRestart by asking taskmon, without running it.
func validSpec(s taskmon.Spec) error {
	m := taskmon.New(taskmon.Config{Logger: slog.New(slog.DiscardHandler)})
	s.Name = "check"
	s.Run = func(context.Context) error { return nil }
	if s.Restart == 0 {
		s.Restart = taskmon.Always
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // nothing runs: the task ends as canceled at once
	_, err := m.Supervise(ctx, s)
	_ = m.Shutdown(context.Background())
	if err != nil {
		return fmt.Errorf("ticker: Config.SourceRestart: %w", err)
	}
	return nil
}

// noMetrics returns c without a Registerer, to check it without registering.
func noMetrics(c breaker.Config) breaker.Config { c.Registerer = nil; return c }

// noMetricsR returns c without a Registerer, to check it without registering.
func noMetricsR(c reloader.Config) reloader.Config { c.Registerer = nil; return c }

func (e *Engine) logger() *slog.Logger { return logattr.Logger(e.cfg.Logger) }

func (e *Engine) log(level slog.Level, msg string, attrs ...slog.Attr) {
	l := e.logger()
	if !l.Enabled(context.Background(), level) {
		return
	}
	attrs = append(attrs, slog.String(logattr.Component, "ticker"), slog.String(logattr.Name, e.name))
	l.LogAttrs(context.Background(), level, msg, attrs...)
}

// Run subscribes to the instruments, streams ticks from the Source and
// publishes them until ctx ends; then it stops the source and the reloader,
// flushes what is pending (within ShutdownTimeout) and returns nil once
// every loop has ended. ShutdownTimeout bounds what honours a context: a
// Publisher, Instruments function or Source that ignores the end of its
// context holds Run until it returns (Run never leaves a goroutine behind). It returns an error wrapping ErrSourceGaveUp, after
// the same flush, when the Source failed more often than
// Config.SourceRestart allows, and ErrEngineRan when called a second time.
func (e *Engine) Run(ctx context.Context) error {
	if ctx == nil {
		return errors.New("ticker: Engine.Run: nil context")
	}
	if !e.started.CompareAndSwap(false, true) {
		return ErrEngineRan
	}
	e.state.Store(engineRunning)
	defer e.state.Store(engineStopped)

	// The first subscription, before the source starts, so that its first
	// ticks find their slots. A failure is counted and logged by the
	// reloader, and retried by its Run with backoff.
	_ = e.rel.Load(ctx)

	pubCtx, stopPub := context.WithCancel(context.WithoutCancel(ctx))
	defer stopPub()
	flush := make(chan struct{})
	pubDone := e.mon.Go(pubCtx, "publish", func(ctx context.Context) error {
		e.publishLoop(ctx, flush)
		return nil
	})
	relDone := e.mon.Go(ctx, "reload", e.runReloader)
	expDone := e.mon.Go(ctx, "expiry", e.expiryLoop)

	spec := e.cfg.SourceRestart
	spec.Name = "source"
	if spec.Restart == 0 {
		spec.Restart = taskmon.Always
	}
	userOnError := spec.OnError
	spec.OnError = func(te taskmon.TaskError) {
		e.onSourceError(te)
		if userOnError != nil {
			userOnError(te)
		}
	}
	spec.Run = func(ctx context.Context) error { return e.cfg.Source.Run(ctx, e.emitFn) }
	srcDone, err := e.mon.Supervise(ctx, spec)
	if err != nil { // validated in New; only a closed monitor gets here
		return fmt.Errorf("ticker: cannot start the source: %w", err)
	}

	var runErr error
	select {
	case <-ctx.Done():
	case <-srcDone.Done():
		if err := srcDone.Err(); err != nil {
			runErr = fmt.Errorf("%w: %w", ErrSourceGaveUp, err)
		}
	}
	// Stop everything that feeds the slots, then flush them. The whole
	// shutdown shares one ShutdownTimeout: at its end the publish loop's
	// context is canceled, which ends a Publish still in flight.
	deadline := time.AfterFunc(e.cfg.ShutdownTimeout, stopPub)
	defer deadline.Stop()
	srcDone.Cancel()
	relDone.Cancel()
	expDone.Cancel()
	select {
	case <-srcDone.Done():
	case <-pubCtx.Done():
		e.log(slog.LevelError, "source did not stop within the shutdown timeout; its later ticks are counted as shutdown drops",
			slog.Duration("timeout", e.cfg.ShutdownTimeout))
	}
	close(flush)
	<-pubDone.Done()
	<-relDone.Done()
	<-expDone.Done()
	if err := e.mon.Shutdown(pubCtx); err != nil && runErr == nil && pubCtx.Err() == nil {
		runErr = err
	}
	return runErr
}

// runReloader runs the reloader until ctx ends.
func (e *Engine) runReloader(ctx context.Context) error {
	err := e.rel.Run(ctx)
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// Reload asks for the subscriptions to be reloaded: Instruments is called
// again and the difference applied to the Source. It is O(1), never blocks,
// and any number of calls coalesce (see Config.Reload).
func (e *Engine) Reload() { e.rel.Trigger() }

// Latest returns the newest valid tick of a subscribed instrument, with its
// Instrument set, and false when the token is not subscribed or has not
// ticked yet. It takes no lock and does not allocate.
func (e *Engine) Latest(token uint32) (Tick, bool) {
	s := e.table.Load().get(token)
	if s == nil {
		return Tick{}, false
	}
	t, ok := s.latest()
	if ok {
		t.Instrument = s.ins
	}
	return t, ok
}

// Instrument returns the description of a subscribed instrument.
func (e *Engine) Instrument(token uint32) (Instrument, bool) {
	s := e.table.Load().get(token)
	if s == nil {
		return Instrument{}, false
	}
	return *s.ins, true
}

// Instruments returns the current subscriptions, in the order Instruments
// listed them.
func (e *Engine) Instruments() []Instrument {
	t := e.table.Load()
	out := make([]Instrument, len(t.list))
	for i, s := range t.list {
		out[i] = *s.ins
	}
	return out
}

func (e *Engine) onSourceError(te taskmon.TaskError) {
	e.srcMu.Lock()
	e.srcFailedAt = time.Now()
	e.srcErr = te.Err
	if errors.Is(te.Err, taskmon.ErrGaveUp) {
		e.srcGaveUp = true
	}
	e.srcMu.Unlock()
}

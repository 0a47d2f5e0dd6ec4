package ticker

import (
	"cmp"
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
	// ErrSourceReturned is the error of a Source's run that returned nil
	// before its context ended: a failure, restarted like any other.
	ErrSourceReturned = errors.New("ticker: source returned before its context ended")
	// ErrTaskEnded is wrapped by the error Engine.Run returns when one of
	// its loops (publish, reload, expiry) ended before Run's context did.
	ErrTaskEnded = errors.New("ticker: a task of the engine ended")
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
	// If it has a method LatestError() error (redispub's Publisher does,
	// for its latest-value hash), Health shows its error as CacheError.
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
	// PublishConcurrency is how many batches may be in Publish at once.
	// Default 1: the Publisher is never called concurrently. With K > 1
	// the publish loop takes up to K batches (a round) and publishes them
	// at once, so the Publisher must be safe for concurrent use; the next
	// round starts when all K have returned. A round holds at most one
	// tick of an instrument, so each instrument's ticks stay in order;
	// batches of one round may arrive in any order. Each batch passes the
	// breaker on its own. A Publisher to a remote or busy Redis gains most
	// (redispub.Publisher is safe for concurrent use); see bench/engine.md.
	// Negative, or above 64, is an error.
	PublishConcurrency int
	// ShutdownTimeout bounds the final flush after Run's context ends.
	// Default 5s. Negative is an error.
	ShutdownTimeout time.Duration

	// Breaker configures the circuit breaker that guards the Publisher.
	// Its zero value means 10 consecutive failures open it, first for 1s;
	// each failed probe then grows the open period by 1.2× (±10% jitter)
	// up to 60s. So a short outage costs seconds of drops, and an hour-long
	// one about one probe a minute. These engine defaults apply while
	// OpenTimeout, MaxOpenTimeout and OpenTimeoutMultiplier are all zero;
	// breaker.Config{OpenTimeout: time.Minute} gives a fixed 60s open
	// period. An empty Name means Name + "/publisher"; empty Logger and
	// Registerer are taken from this Config. The breaker logs its own
	// state changes.
	Breaker breaker.Config
	// Reload configures the reloader that serves Reload. Its zero value
	// means a 1s debounce, at least 5s between reloads and retries with
	// backoff from 1s up to 1m after a failure. An empty Name means
	// Name + "/subscriptions"; empty Logger and Registerer are taken from
	// this Config.
	Reload reloader.Config
	// SourceRestart configures the supervision of Source.Run: its Name and
	// Run are set by the engine; Restart defaults to taskmon.Always. A run
	// that returns nil before its context ends is a failure
	// (ErrSourceReturned): logged, passed to OnError, shown in Health and
	// restarted like an error. A zero MaxRestarts means no limit: a feed
	// outage of any length is retried (and reported in Health); set a
	// limit to give the source up after so many restarts within Period,
	// and Run then returns an error wrapping ErrSourceGaveUp. The other
	// zero fields are taskmon's
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

	br *breaker.Breaker
	// openTimeout is the breaker's first open period.
	openTimeout time.Duration
	rel         *reloader.Reloader
	mon         *taskmon.Monitor
	met         *engineMetrics
	srcSpec     taskmon.Spec // the supervision of Source.Run, checked by New

	stripes []stripe
	mask    uint32
	table   atomic.Pointer[subTable] // what the Source has accepted
	emitFn  func(Tick)               // e.emit, made once so Run hands the same func to every source run

	// The publish loop's shared state.
	hot      hotLine
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
	pubFailing     atomic.Bool  // the last Publish failed
	lastOK         atomic.Int64 // unix nanos of the last accepted Publish
	lastIdle       atomic.Int64 // unix nanos when the publish loop last found nothing pending

	started atomic.Bool
	state   atomic.Int32 // engineIdle, engineRunning, engineStopped

	reloadMu     sync.Mutex // guards the reload results below
	lastReload   time.Time
	reloadErr    error
	refused      uint64                    // instruments refused by reloads (token 0, duplicate)
	nextExpiry   atomic.Pointer[time.Time] // the earliest subscribed expiry to come; nil if none
	expiryChange chan struct{}

	taskMu      sync.Mutex // guards the task failures below
	srcFailedAt time.Time
	srcErr      error
	srcGaveUp   bool
	ended       []string // loops that ended before Run's context, with their errors
}

const (
	engineIdle int32 = iota
	engineRunning
	engineStopped
)

// New returns an engine for cfg, or an error naming the first field that
// is missing or invalid. A refused Config leaves the Registerer as it was.
func New(cfg Config) (*Engine, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	e := &Engine{
		cfg:          cfg,
		name:         cfg.Name,
		wake:         make(chan struct{}, 1),
		expiryChange: make(chan struct{}, 1),
	}
	e.emitFn = e.emit
	n := stripeCount()
	e.stripes = make([]stripe, n)
	e.mask = uint32(n - 1)
	e.table.Store(newSubTable(nil))

	e.srcSpec = cfg.SourceRestart
	e.srcSpec.Name = "source"
	if e.srcSpec.Restart == 0 {
		e.srcSpec.Restart = taskmon.Always
	}
	e.srcSpec.Run = e.runSource
	if err := e.srcSpec.Validate(); err != nil {
		return nil, fmt.Errorf("ticker: Config.SourceRestart: %w", err)
	}

	// Each part is built once. Its metrics go through a tracker, so that
	// when a later part is refused (an invalid Config, a name already
	// taken) what the earlier ones registered is taken back.
	track := promreg.Track(cfg.Registerer)
	var reg prometheus.Registerer
	if track != nil {
		reg = track
	}
	bc := e.breakerConfig(reg)
	e.openTimeout = cmp.Or(bc.OpenTimeout, breaker.DefaultOpenTimeout)
	if e.br, err = breaker.New(bc); err != nil {
		track.Rollback()
		return nil, fmt.Errorf("ticker: Config.Breaker: %w", err)
	}
	if e.rel, err = reloader.New(e.reload, e.reloaderConfig(reg)); err != nil {
		track.Rollback()
		return nil, fmt.Errorf("ticker: Config.Reload: %w", err)
	}
	e.mon = taskmon.New(taskmon.Config{Name: cfg.Name + "/tasks", Logger: cfg.Logger, Registerer: reg,
		OnError: e.onTaskError})
	if e.met, err = newEngineMetrics(e, reg); err != nil {
		track.Rollback()
		return nil, err
	}
	return e, nil
}

// maxPublishConcurrency bounds Config.PublishConcurrency: each batch in
// flight holds BatchSize ticks and a goroutine.
const maxPublishConcurrency = 64

// withDefaults checks c and fills in its defaults.
func (c Config) withDefaults() (Config, error) {
	switch {
	case c.Source == nil:
		return c, errors.New("ticker: Config.Source is required")
	case c.Publisher == nil:
		return c, errors.New("ticker: Config.Publisher is required")
	case c.Instruments == nil:
		return c, errors.New("ticker: Config.Instruments is required")
	case c.BatchSize < 0:
		return c, fmt.Errorf("ticker: Config.BatchSize must not be negative, got %d", c.BatchSize)
	case c.PublishTimeout < 0:
		return c, fmt.Errorf("ticker: Config.PublishTimeout must not be negative, got %v", c.PublishTimeout)
	case c.PublishConcurrency < 0 || c.PublishConcurrency > maxPublishConcurrency:
		return c, fmt.Errorf("ticker: Config.PublishConcurrency must be in [0, %d], got %d", maxPublishConcurrency, c.PublishConcurrency)
	case c.ShutdownTimeout < 0:
		return c, fmt.Errorf("ticker: Config.ShutdownTimeout must not be negative, got %v", c.ShutdownTimeout)
	}
	if c.BatchSize == 0 {
		c.BatchSize = DefaultBatchSize
	}
	if c.Linger == 0 {
		c.Linger = DefaultLinger
	}
	if c.PublishTimeout == 0 {
		c.PublishTimeout = DefaultPublishTimeout
	}
	if c.PublishConcurrency == 0 {
		c.PublishConcurrency = 1
	}
	if c.ShutdownTimeout == 0 {
		c.ShutdownTimeout = DefaultShutdownTimeout
	}
	if c.Name == "" {
		c.Name = DefaultEngineName
	}
	if c.SourceRestart.MaxRestarts == 0 {
		c.SourceRestart.MaxRestarts = -1 // a feed outage of any length is retried
	}
	return c, nil
}

// The engine's breaker defaults (see Config.Breaker). A multiplier of 1.2
// rather than the breaker's 2 keeps the next probe within about a fifth of
// an outage's length after it ends: with doubling from 1s, an 8s Redis
// outage resumed 6-8s after the restart (probes at 1, 3, 7, 15s); with 1.2,
// within 2.4s (breaker's TestRecoveryAfterAnOutage).
const (
	defaultOpenTimeout           = time.Second
	defaultMaxOpenTimeout        = time.Minute
	defaultOpenTimeoutMultiplier = 1.2
)

// breakerConfig returns the Breaker Config with the engine's defaults: the
// parts are named after the engine, so that their series and log records
// say whose they are and do not clash with a user's own breaker, reloader
// or monitor of the same Name on the same registry.
func (e *Engine) breakerConfig(reg prometheus.Registerer) breaker.Config {
	bc := e.cfg.Breaker
	if bc.OpenTimeout == 0 && bc.MaxOpenTimeout == 0 && bc.OpenTimeoutMultiplier == 0 {
		bc.OpenTimeout = defaultOpenTimeout
		bc.MaxOpenTimeout = defaultMaxOpenTimeout
		bc.OpenTimeoutMultiplier = defaultOpenTimeoutMultiplier
	}
	if bc.Name == "" {
		bc.Name = e.cfg.Name + "/publisher"
	}
	if bc.Logger == nil {
		bc.Logger = e.cfg.Logger
	}
	if bc.Registerer == nil {
		bc.Registerer = reg
	}
	return bc
}

// reloaderConfig returns the Reload Config with the engine's defaults (see
// breakerConfig).
func (e *Engine) reloaderConfig(reg prometheus.Registerer) reloader.Config {
	rc := e.cfg.Reload
	if rc.Name == "" {
		rc.Name = e.cfg.Name + "/subscriptions"
	}
	if rc.Logger == nil {
		rc.Logger = e.cfg.Logger
	}
	if rc.Registerer == nil {
		rc.Registerer = reg
	}
	return rc
}

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
// flushes what is pending (within ShutdownTimeout) and returns once every
// loop has ended: nil, or an error wrapping ErrSourceGaveUp when the Source
// failed more often than Config.SourceRestart allows, or ErrTaskEnded when
// another loop ended early. ShutdownTimeout bounds what honours a context:
// a Source, Publisher or Instruments function that ignores the end of its
// context holds Run until it returns, and Run logs which of them it waits
// for. It returns ErrEngineRan when called a second time.
func (e *Engine) Run(ctx context.Context) error {
	if ctx == nil {
		return errors.New("ticker: Engine.Run: nil context")
	}
	if !e.started.CompareAndSwap(false, true) {
		return ErrEngineRan
	}
	e.state.Store(engineRunning)
	defer e.state.Store(engineStopped)
	e.lastIdle.Store(time.Now().UnixNano())

	// The first subscription, before the source starts, so that its first
	// ticks find their slots. A failure is counted and logged by the
	// reloader, and retried by its Run with backoff.
	_ = e.rel.Load(ctx)

	// The publish loop outlives ctx by the final flush: Run cancels its
	// context when ShutdownTimeout has passed since ctx ended.
	pubCtx, stopPub := context.WithCancel(context.WithoutCancel(ctx))
	defer stopPub()
	flush := make(chan struct{})
	pub := e.mon.Go(pubCtx, "publish", func(ctx context.Context) error {
		e.publishLoop(ctx, flush)
		return nil
	})
	rel := e.mon.Go(ctx, "reload", e.runReloader)
	exp := e.mon.Go(ctx, "expiry", e.expiryLoop)
	src, err := e.mon.Supervise(ctx, e.srcSpec)
	if err != nil { // checked in New: not reached
		src = e.mon.Go(ctx, "source", func(context.Context) error { return err })
	}
	tasks := []*taskmon.Task{src, pub, rel, exp}

	var runErr error
	select {
	case <-ctx.Done():
	case <-src.Done():
	case <-pub.Done():
	case <-rel.Done():
	case <-exp.Done():
	}
	if ctx.Err() == nil {
		runErr = e.endedEarly(tasks)
	}

	// Stop everything that feeds the slots, then flush them. The whole
	// shutdown shares one ShutdownTimeout: at its end the publish loop's
	// context is canceled, which ends a Publish still in flight.
	deadline := time.AfterFunc(e.cfg.ShutdownTimeout, stopPub)
	defer deadline.Stop()
	src.Cancel()
	rel.Cancel()
	exp.Cancel()
	select {
	case <-src.Done():
	case <-pubCtx.Done():
	}
	close(flush)
	e.waitFor(pubCtx, tasks)
	e.closeStripes() // the publish loop has done it, unless it died
	if err := e.mon.Shutdown(context.Background()); err != nil && runErr == nil {
		runErr = err // a loop that failed during the shutdown
	}
	return runErr
}

// endedEarly returns the error of the first task that ended before Run's
// context did, and logs it.
func (e *Engine) endedEarly(tasks []*taskmon.Task) error {
	for _, t := range tasks {
		select {
		case <-t.Done():
		default:
			continue
		}
		err := t.Err()
		if t == tasks[0] {
			if err == nil { // not reached: only a canceled source ends without an error
				return nil
			}
			return fmt.Errorf("%w: %w", ErrSourceGaveUp, err)
		}
		if err == nil {
			err = errors.New("returned")
		}
		e.log(slog.LevelError, "a loop of the engine ended; stopping", slog.String("task", t.Name()), logattr.Err(err))
		return fmt.Errorf("%w: %q: %w", ErrTaskEnded, t.Name(), err)
	}
	return nil
}

// waitFor waits until every task has ended. When ctx ends first (the
// shutdown timeout), it logs each task still running, then waits on:
// Run never leaves a goroutine behind.
func (e *Engine) waitFor(ctx context.Context, tasks []*taskmon.Task) {
	for _, t := range tasks {
		select {
		case <-t.Done():
			continue
		case <-ctx.Done():
		}
		for _, late := range tasks {
			select {
			case <-late.Done():
			default:
				e.log(slog.LevelError, "did not stop within the shutdown timeout; Run waits for it",
					slog.String("task", late.Name()), slog.Duration("timeout", e.cfg.ShutdownTimeout))
			}
		}
		break
	}
	for _, t := range tasks {
		<-t.Done()
	}
}

// runSource runs the Source once. A run that returns nil before its
// context ends is a failure (ErrSourceReturned): a feed that stops is never
// silent.
func (e *Engine) runSource(ctx context.Context) error {
	err := e.cfg.Source.Run(ctx, e.emitFn)
	if err == nil && ctx.Err() == nil {
		return ErrSourceReturned
	}
	return err
}

// onTaskError records the failure of a task of the engine's monitor, for
// Health: the source's last failure, and any other loop's end.
func (e *Engine) onTaskError(te taskmon.TaskError) {
	e.taskMu.Lock()
	defer e.taskMu.Unlock()
	if te.Name == "source" {
		e.srcFailedAt = time.Now()
		e.srcErr = te.Err
		if errors.Is(te.Err, taskmon.ErrGaveUp) {
			e.srcGaveUp = true
		}
		return
	}
	e.ended = append(e.ended, fmt.Sprintf("task %q ended: %v", te.Name, te.Err))
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
		t.Instrument = s.ins.Load()
	}
	return t, ok
}

// Instrument returns the description of a subscribed instrument.
func (e *Engine) Instrument(token uint32) (Instrument, bool) {
	s := e.table.Load().get(token)
	if s == nil {
		return Instrument{}, false
	}
	return *s.ins.Load(), true
}

// Instruments returns the current subscriptions, in the order Instruments
// listed them.
func (e *Engine) Instruments() []Instrument {
	t := e.table.Load()
	out := make([]Instrument, len(t.list))
	for i, s := range t.list {
		out[i] = *s.ins.Load()
	}
	return out
}

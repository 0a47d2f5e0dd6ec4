package replica

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/steadfast-go/steadfast/internal/logattr"
	"github.com/steadfast-go/steadfast/ticker"
)

// Defaults of Config.
const (
	DefaultPartitions = 64
	DefaultLeaseTTL   = 5 * time.Second
	DefaultGroup      = "ticker"
	DefaultName       = "replica"
)

// Limits on Config that keep a mistaken value from overloading Redis or the
// assignment, which sorts partitions × members pairs when members change.
const (
	MaxPartitions = 4096
	MinLeaseTTL   = 30 * time.Millisecond
	MaxLeaseTTL   = 10 * time.Minute
	maxMembers    = 256 // members read from the set; more are reported in Health
	maxIDLen      = 128
)

// Errors of this package. Match them with errors.Is.
var (
	// ErrRan is returned by Run when Run has been called before: a
	// Replica runs once.
	ErrRan = errors.New("replica: Run has been called before")
	// ErrIDInUse is what a replica meets (in Health) while another live
	// process of its group has its ID: it waits, holding nothing, until
	// that member's entry lapses, as a restarted replica does for its
	// former self.
	ErrIDInUse = errors.New("replica: another live replica of the group has this ID")
)

// Config configures New. Client and Engine's Source, Publisher and
// Instruments are required; every other zero field means the default
// documented on it.
type Config struct {
	// Client is the Redis that coordinates the group (required): a
	// *redis.Client, a Sentinel failover client or a *redis.ClusterClient
	// (a group's keys share one hash tag, so one slot). A go-redis client
	// must be made with ContextTimeoutEnabled, so that a call honours its
	// deadline; New refuses one without it. It may be the Redis the ticks
	// are published to. The Replica never closes it.
	Client redis.UniversalClient

	// Engine configures the engine the Replica runs. Its Instruments
	// returns the whole universe, the same on every replica; the Replica
	// hands the engine only the instruments of the partitions it holds.
	// Its Publisher receives only ticks of held partitions, stamped with
	// their Epoch. An empty Name, Logger or Registerer is taken from this
	// Config. A zero Reload.Debounce means none and a zero
	// Reload.MinInterval means no minimum, so that a change of ownership
	// reaches the Source at once; the Replica reloads at most once a
	// round.
	Engine ticker.Config

	// Group names the set of replicas that share the universe: their keys
	// are "steadfast:replica:{Group}:…". Default "ticker". At most 128
	// bytes, without braces.
	Group string
	// ID names this replica in the group; it decides, with the others'
	// IDs, which partitions it gets, so keep it across restarts. Default:
	// the host name. Two live replicas with one ID do not share leases: the
	// later one waits (ErrIDInUse in Health). At most 128 printable bytes,
	// without '|' or '/'.
	ID string
	// Capacity is the most partitions this replica holds, e.g. what its
	// broker key can stream divided by the largest partition. Default
	// Partitions (no bound). Negative is an error.
	Capacity int
	// Standby makes this replica take only the partitions that the active
	// (non-standby) members cannot hold: none while they cover the
	// universe. With one active replica whose Capacity covers the universe,
	// the group is active/standby.
	Standby bool
	// Partitions is how many parts the universe is split into, by a hash
	// of underlying and expiry (PartitionOf). Every replica of a group must
	// use the same value (Health reports a mismatch). Default 64; at most
	// MaxPartitions.
	Partitions int
	// LeaseTTL is the life of a lease and of a membership entry without
	// renewal: the longest a crashed replica's partitions go unpublished
	// before another replica takes them over. Leases are renewed every
	// LeaseTTL/3. Default 5s; from MinLeaseTTL to MaxLeaseTTL.
	LeaseTTL time.Duration
	// FenceMargin is how long before its lease can lapse a replica stops
	// publishing a partition that it could not renew: the lease lives
	// LeaseTTL from when Redis ran the renewal, and the replica counts
	// LeaseTTL − FenceMargin from when it sent it. The margin covers a
	// publish in flight (Publish gets that deadline too), a stop of the
	// process (GC, a descheduled VM) between the check and the write, and
	// the difference of clock rates (parts per million). Default
	// LeaseTTL/5, which tolerates two failed renewals in a row before the
	// replica stops. Must be below 2·LeaseTTL/3, or a replica would stop
	// between healthy renewals.
	FenceMargin time.Duration

	// Name labels the Replica's metrics (constant label "name") and its
	// log records (component "replica"). Default "replica".
	Name string
	// Logger receives changes of ownership, lost leases and Redis
	// failures (one record per change between reachable and not). Nil
	// means slog.Default(), looked up at each record.
	Logger *slog.Logger
	// Registerer receives the metrics (see the package documentation);
	// nil means none.
	Registerer prometheus.Registerer
}

// Replica runs a ticker.Engine on the partitions it holds leases on. Its
// methods are safe for concurrent use.
type Replica struct {
	cfg    Config
	client redis.UniversalClient
	eng    *ticker.Engine
	keys   keys
	id     string
	nonce  string
	holder string // id/nonce
	renewI time.Duration
	met    *metrics

	// owned is the fence: owned[p] is the lease held on partition p, or nil.
	// The round writes it; the Publisher wrapper and Instruments read it.
	owned []atomic.Pointer[holding]
	// parts maps the universe's tokens to their partitions; replaced by
	// every Instruments call.
	parts atomic.Pointer[map[uint32]placed]

	stats counters
	rs    roundState // the loop goroutine's
	ran   atomic.Bool
	state atomic.Int32 // stateIdle, stateRunning, stateStopped

	mu  sync.Mutex // guards st
	st  status
	pub fenceBuf // the Publisher wrapper's buffer
}

// holding is a held lease, immutable once published in owned.
type holding struct {
	epoch      uint64
	value      string    // the lease key's value: holder/epoch
	validUntil time.Time // publishing stops here: sent + LeaseTTL − FenceMargin
}

const (
	stateIdle int32 = iota
	stateRunning
	stateStopped
)

// New returns a Replica for cfg, or an error naming the first field that is
// missing or invalid. It makes the engine (ticker.New) and registers the
// metrics; it does not talk to Redis.
func New(cfg Config) (*Replica, error) {
	cfg, err := withDefaults(cfg)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, 8)
	_, _ = rand.Read(nonce) // never fails (crypto/rand)
	r := &Replica{
		cfg:    cfg,
		client: cfg.Client,
		keys:   newKeys(cfg.Group),
		id:     cfg.ID,
		nonce:  hex.EncodeToString(nonce),
		renewI: cfg.LeaseTTL / 3,
		owned:  make([]atomic.Pointer[holding], cfg.Partitions),
	}
	r.holder = r.id + "/" + r.nonce
	universe := cfg.Engine.Instruments
	ecfg := cfg.Engine
	ecfg.Instruments = func(ctx context.Context) ([]ticker.Instrument, error) { return r.instruments(ctx, universe) }
	ecfg.Publisher = &fencedPublisher{r: r, next: cfg.Engine.Publisher}
	if ecfg.Name == "" {
		ecfg.Name = cfg.Name
	}
	if ecfg.Logger == nil {
		ecfg.Logger = cfg.Logger
	}
	if ecfg.Registerer == nil {
		ecfg.Registerer = cfg.Registerer
	}
	if ecfg.Reload.Debounce == 0 {
		ecfg.Reload.Debounce = -1
	}
	if ecfg.Reload.MinInterval == 0 {
		ecfg.Reload.MinInterval = -1
	}
	if r.met, err = newMetrics(r); err != nil {
		return nil, err
	}
	if r.eng, err = ticker.New(ecfg); err != nil {
		r.met.unregister()
		return nil, fmt.Errorf("replica: Config.Engine: %w", err)
	}
	return r, nil
}

// withDefaults validates cfg and fills in its defaults.
func withDefaults(cfg Config) (Config, error) {
	if cfg.Partitions == 0 {
		cfg.Partitions = DefaultPartitions
	}
	if cfg.LeaseTTL == 0 {
		cfg.LeaseTTL = DefaultLeaseTTL
	}
	if cfg.FenceMargin == 0 {
		cfg.FenceMargin = cfg.LeaseTTL / 5
	}
	if cfg.Capacity == 0 {
		cfg.Capacity = cfg.Partitions
	}
	if cfg.Group == "" {
		cfg.Group = DefaultGroup
	}
	if cfg.Name == "" {
		cfg.Name = DefaultName
	}
	if cfg.ID == "" {
		host, err := os.Hostname()
		if err != nil || host == "" {
			return cfg, fmt.Errorf("replica: Config.ID is empty and the host name is unknown (%v); set an ID", err)
		}
		cfg.ID = host
	}
	switch {
	case cfg.Client == nil:
		return cfg, errors.New("replica: Config.Client is nil; give a redis.UniversalClient")
	case !contextTimeoutEnabled(cfg.Client):
		return cfg, errors.New("replica: Config.Client was created without ContextTimeoutEnabled, so it would ignore a call's deadline; set ContextTimeoutEnabled: true in its options")
	case cfg.Engine.Instruments == nil:
		return cfg, errors.New("replica: Config.Engine.Instruments is required: the whole universe")
	case cfg.Engine.Publisher == nil:
		return cfg, errors.New("replica: Config.Engine.Publisher is required")
	case cfg.Partitions < 1 || cfg.Partitions > MaxPartitions:
		return cfg, fmt.Errorf("replica: Config.Partitions is %d; want 1 to %d", cfg.Partitions, MaxPartitions)
	case cfg.Capacity < 0:
		return cfg, fmt.Errorf("replica: Config.Capacity is %d; want a positive number of partitions, or zero for all", cfg.Capacity)
	case cfg.LeaseTTL < MinLeaseTTL || cfg.LeaseTTL > MaxLeaseTTL:
		return cfg, fmt.Errorf("replica: Config.LeaseTTL is %v; want %v to %v", cfg.LeaseTTL, MinLeaseTTL, MaxLeaseTTL)
	case cfg.FenceMargin < 0 || cfg.FenceMargin >= 2*cfg.LeaseTTL/3:
		return cfg, fmt.Errorf("replica: Config.FenceMargin is %v; want at least 0 and below 2·LeaseTTL/3 (%v)", cfg.FenceMargin, 2*cfg.LeaseTTL/3)
	}
	if err := checkName("Group", cfg.Group, "{}"); err != nil {
		return cfg, err
	}
	if err := checkName("ID", cfg.ID, "|/"); err != nil {
		return cfg, err
	}
	return cfg, nil
}

// checkName refuses a Group or ID that is too long, not printable, or has
// one of the bytes in bad.
func checkName(field, s, bad string) error {
	if len(s) > maxIDLen {
		return fmt.Errorf("replica: Config.%s is %d bytes; at most %d", field, len(s), maxIDLen)
	}
	for _, c := range s {
		if !unicode.IsPrint(c) || c == ' ' || strings.ContainsRune(bad, c) {
			return fmt.Errorf("replica: Config.%s %q has %q; want printable characters without spaces or %q", field, s, c, bad)
		}
	}
	return nil
}

// contextTimeoutEnabled reports whether a go-redis client honours context
// deadlines; any other UniversalClient is trusted to.
func contextTimeoutEnabled(c redis.UniversalClient) bool {
	switch c := c.(type) {
	case interface{ Options() *redis.Options }:
		return c.Options().ContextTimeoutEnabled
	case interface{ Options() *redis.ClusterOptions }:
		return c.Options().ContextTimeoutEnabled
	case interface{ Options() *redis.RingOptions }:
		return c.Options().ContextTimeoutEnabled
	}
	return true
}

// Engine returns the engine the Replica runs, for Latest, Stats, Health and
// the like. Do not Run it: Run does.
func (r *Replica) Engine() *ticker.Engine { return r.eng }

// ID returns the replica's ID in its group.
func (r *Replica) ID() string { return r.id }

// Owned returns the partitions this replica holds a lease on now, in
// increasing order.
func (r *Replica) Owned() []int {
	var ps []int
	for p := range r.owned {
		if r.owned[p].Load() != nil {
			ps = append(ps, p)
		}
	}
	return ps
}

// Run joins the group and runs the engine until ctx ends, then stops the
// engine (its final flush still fenced), releases every lease and leaves
// the group, so that the others take over at their next round rather than
// after LeaseTTL. It returns nil when ctx ends, an error wrapping the
// engine's when the engine fails, and ErrRan when called a second time.
// Redis being unreachable is no error: Run keeps trying, and Health says
// so.
func (r *Replica) Run(ctx context.Context) error {
	if !r.ran.CompareAndSwap(false, true) {
		return ErrRan
	}
	r.state.Store(stateRunning)
	defer r.state.Store(stateStopped)

	engCtx, stopEngine := context.WithCancel(context.WithoutCancel(ctx))
	defer stopEngine()
	engDone := make(chan error, 1)
	go func() { engDone <- r.eng.Run(engCtx) }()

	loopCtx, stopLoop := context.WithCancel(ctx)
	loopDone := make(chan struct{})
	go func() {
		defer close(loopDone)
		r.loop(loopCtx)
	}()

	var err error
	select {
	case <-ctx.Done():
		stopLoop()
		<-loopDone
		stopEngine()
		err = <-engDone
	case err = <-engDone:
		stopLoop()
		<-loopDone
		if err == nil {
			err = errors.New("engine stopped")
		}
	}
	r.shutdown()
	if err != nil {
		return fmt.Errorf("replica: engine: %w", err)
	}
	return nil
}

// loop runs rounds until ctx ends.
func (r *Replica) loop(ctx context.Context) {
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		t.Reset(r.round(ctx))
	}
}

// shutdown releases every lease and leaves the group, within one renew
// interval; what it cannot release lapses after LeaseTTL.
func (r *Replica) shutdown() {
	var ps []int
	var values []string
	for p := range r.owned {
		if h := r.owned[p].Swap(nil); h != nil {
			ps = append(ps, p)
			values = append(values, h.value)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), max(r.renewI, 100*time.Millisecond))
	defer cancel()
	if len(ps) > 0 {
		if err := r.release(ctx, ps, values); err != nil {
			r.log(slog.LevelWarn, "leases not released at shutdown; they lapse after LeaseTTL",
				slog.Int("partitions", len(ps)), logattr.Err(err))
		} else {
			r.stats.released.Add(uint64(len(ps)))
		}
	}
	if err := r.leave(ctx); err != nil {
		r.log(slog.LevelDebug, "membership not removed at shutdown; it lapses after LeaseTTL", logattr.Err(err))
	}
}

// log writes a record with the replica's attributes.
func (r *Replica) log(level slog.Level, msg string, attrs ...slog.Attr) {
	inst := logattr.Instance("replica", r.cfg.Name)
	attrs = append(attrs, inst[0], inst[1], slog.String("id", r.id))
	logattr.Logger(r.cfg.Logger).LogAttrs(context.Background(), level, msg, attrs...)
}

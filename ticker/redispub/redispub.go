package redispub

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/steadfast-go/steadfast/internal/errjson"
	"github.com/steadfast-go/steadfast/internal/logattr"
	"github.com/steadfast-go/steadfast/ticker"
)

// Defaults of Config's zero fields.
const (
	// DefaultPrefix is the channel (and stream) name prefix: ticks of
	// NIFTY's instruments go to "ticks:NIFTY".
	DefaultPrefix = "ticks:"
	// DefaultStreamMaxLen is the approximate number of entries a stream
	// keeps (XADD … MAXLEN ~ N).
	DefaultStreamMaxLen = 10_000
	// Fallback is the underlying name used for a tick whose Instrument is
	// nil (or has no Underlying): such ticks go to Prefix + Fallback,
	// "ticks:unknown" by default.
	Fallback = "unknown"
)

// component names the package in log records.
const component = "redispub"

// maxNames bounds the cache of channel and stream names; names beyond it
// still work, at the cost of an allocation each.
const maxNames = 4096

// Config configures a Publisher. Only Client is required.
type Config struct {
	// Client is the Redis client (required): a *redis.Client, a Sentinel
	// failover client or a *redis.ClusterClient, as made by
	// redis.NewUniversalClient. A client from go-redis must be created
	// with ContextTimeoutEnabled set, or Publish could not honour its
	// context's deadline (go-redis would wait for its own read and write
	// timeouts instead); New refuses one without it. The Publisher never
	// closes the client.
	Client redis.UniversalClient

	// Prefix starts every default channel (and stream) name, which is
	// Prefix + the instrument's underlying, e.g. "ticks:NIFTY". Zero means
	// DefaultPrefix.
	Prefix string

	// Channel, when set, names the channel (or stream) of each tick,
	// replacing the default. It is called on the Publish caller's
	// goroutine, once per tick, with a tick whose Instrument may be nil; it
	// must not keep the pointer. An empty result, or a panic (recovered,
	// logged and counted), sends the tick to its default channel.
	Channel func(t *ticker.Tick) string

	// Sharded publishes with SPUBLISH (Redis 7 sharded pub/sub) instead
	// of PUBLISH. On a Cluster, a sharded message travels only within the
	// shard that owns its channel's slot, so it scales with the shards;
	// subscribers use SSUBSCRIBE. It cannot be combined with Stream.
	Sharded bool

	// Stream writes each tick to a Redis stream with XADD instead of
	// publishing it: the stream is named as the channel would be, and
	// each entry has one field, "data", holding the payload. A stream
	// keeps recent ticks for a consumer that joins late or must replay
	// (pub/sub delivers at most once, to whoever listens at that moment).
	// To publish and stream both, combine two Publishers in one
	// ticker.Publisher.
	Stream bool

	// StreamMaxLen caps each stream at about this many entries (XADD
	// MAXLEN ~ N, which trims whole macro nodes, so a stream may briefly
	// hold somewhat more). Zero means DefaultStreamMaxLen; negative is an
	// error. Used only with Stream.
	StreamMaxLen int64

	// LatestKey, when set, names a hash that holds the latest payload of
	// every instrument: one HSET per batch, field = the token in decimal,
	// value = the payload. A consumer that starts late reads current state
	// with HGETALL and then follows the channels. Empty means no hash.
	// The hash is a cache beside the feed: a refused HSET (OOM under
	// maxmemory-policy noeviction, a key of another type) does not fail
	// the batch; it is counted, logged when a run of failures starts and
	// ends, and reported by LatestError.
	LatestKey string

	// Direct writes each batch's commands in Redis's wire protocol (RESP)
	// into one reused buffer and sends it in one write on a connection of
	// the Publisher's own, instead of a go-redis pipeline, which spends
	// more client CPU on each command than it takes to write it (see
	// bench/engine.md). The commands, the replies they get and the errors
	// Publish returns are the same; what the Publisher skips is go-redis's
	// own work per command: its hooks (tracing, its metrics), its retries
	// (MaxRetries) and its pool. The connections are dialed with the
	// client's Options (Network, Addr, Dialer, TLSConfig, Username,
	// Password, DB); at most 4 are kept idle, and Close closes them. It
	// needs a single-node *redis.Client: New refuses it for a Cluster or
	// Ring client (which route each command), a Sentinel failover client,
	// and a client with a credentials provider or an OnConnect function.
	Direct bool

	// Name identifies this Publisher in logs and as the constant "name"
	// label of its metrics.
	Name string
	// Logger receives the records of contained failures (a panicking
	// Channel function, a refused HSET). Nil means slog.Default() at the
	// time of logging.
	Logger *slog.Logger
	// Registerer, when set, receives the Publisher's metrics:
	// steadfast_redispub_payload_bytes_total,
	// steadfast_redispub_command_failures_total,
	// steadfast_redispub_latest_failures_total and
	// steadfast_redispub_callback_panics_total. Nil means no metrics.
	Registerer prometheus.Registerer
}

// Publisher publishes batches of ticks to Redis, one pipeline per batch. It
// implements ticker.Publisher and is safe for concurrent use; it starts no
// goroutines.
type Publisher struct {
	client    redis.UniversalClient
	channel   func(*ticker.Tick) string
	prefix    string
	name      string
	logger    *slog.Logger
	latestKey any      // boxed once; nil when no hash
	verb      any      // "publish", "spublish" or "xadd"
	maxLen    any      // boxed int64 for XADD
	perTick   int      // arguments per tick command
	metrics   *metrics // nil without a Registerer
	direct    *direct  // nil unless Config.Direct

	batches sync.Pool // of *batch
	latest  latestState

	// names caches boxed channel names, so that passing one to the client
	// does not allocate. Copy on write: readers load it without a lock.
	names   atomic.Pointer[map[nameKey]any]
	namesMu sync.Mutex // serializes writers of names
}

// nameKey keys the names cache: an underlying (for the default name) or a
// name the Channel function returned.
type nameKey struct {
	hooked bool
	s      string
}

// New returns a Publisher for cfg, or an error naming the first invalid
// field.
func New(cfg Config) (*Publisher, error) {
	if cfg.Client == nil {
		return nil, errors.New("redispub: Config.Client is nil; give a redis.UniversalClient")
	}
	if !contextTimeoutEnabled(cfg.Client) {
		return nil, errors.New("redispub: Config.Client was created without ContextTimeoutEnabled, so it would ignore a batch's deadline; set ContextTimeoutEnabled: true in its options")
	}
	if cfg.StreamMaxLen < 0 {
		return nil, fmt.Errorf("redispub: Config.StreamMaxLen is %d; want a positive length, or zero for the default %d", cfg.StreamMaxLen, DefaultStreamMaxLen)
	}
	if cfg.Sharded && cfg.Stream {
		return nil, errors.New("redispub: Config.Sharded and Config.Stream are both set; a stream is written with XADD, not published")
	}
	p := &Publisher{
		client:  cfg.Client,
		channel: cfg.Channel,
		prefix:  cfg.Prefix,
		name:    cfg.Name,
		logger:  cfg.Logger,
		verb:    "publish",
		perTick: 3,
	}
	if p.prefix == "" {
		p.prefix = DefaultPrefix
	}
	switch {
	case cfg.Sharded:
		p.verb = "spublish"
	case cfg.Stream:
		maxLen := cfg.StreamMaxLen
		if maxLen == 0 {
			maxLen = DefaultStreamMaxLen
		}
		p.verb, p.maxLen, p.perTick = "xadd", maxLen, 8
	}
	if cfg.LatestKey != "" {
		p.latestKey = cfg.LatestKey
	}
	if cfg.Direct {
		d, err := newDirect(cfg.Client)
		if err != nil {
			return nil, err
		}
		p.direct = d
	}
	if cfg.Registerer != nil {
		m, err := newMetrics(cfg.Registerer, cfg.Name)
		if err != nil {
			return nil, err
		}
		p.metrics = m
	}
	p.batches.New = func() any { return new(batch) }
	p.names.Store(&map[nameKey]any{})
	return p, nil
}

// contextTimeoutEnabled reports whether a go-redis client honours context
// deadlines; a client of another make is trusted to.
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

// Publish sends ticks to Redis in one pipeline: a PUBLISH (SPUBLISH, or
// XADD) per tick, then one HSET of the latest-value hash if configured. It
// returns when Redis has answered every command, or when ctx's deadline
// passes. A tick is published as it is (Publish does not validate it; the
// Engine has).
//
// The per-tick commands alone decide the result. On failure the error is a
// *PublishError naming how many commands failed and wrapping the first
// failure's cause (a Redis error such as NOAUTH, a network error), or, when
// ctx ended first, saying that the pipeline timed out (or was canceled) and
// wrapping ctx's error. A refused HSET does not fail the batch: LatestError
// reports it. Commands of a failed pipeline may still have taken effect:
// Redis has no rollback for a pipeline.
func (p *Publisher) Publish(ctx context.Context, ticks []ticker.Tick) error {
	if len(ticks) == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return &PublishError{Failed: -1, Commands: -1, Ticks: len(ticks), Err: err}
	}
	b := p.batches.Get().(*batch)
	defer p.batches.Put(b)
	panics := b.build(p, ticks)
	if panics > 0 {
		p.notePanics(panics, b.panicValue, b.panicStack)
	}
	if p.direct != nil {
		err := p.publishDirect(ctx, b)
		b.release()
		return err
	}
	pipe := p.client.Pipeline()
	for _, args := range b.cmds {
		pipe.Do(ctx, args...)
	}
	cmds, err := pipe.Exec(ctx)
	b.release()
	if err == nil {
		p.succeeded(b)
		return nil
	}
	return p.failed(ctx, cmds, b, err)
}

// failed sorts out a pipeline that returned err (see judge).
func (p *Publisher) failed(ctx context.Context, cmds []redis.Cmder, b *batch, err error) error {
	b.errs = grow(b.errs, len(cmds))
	for i, c := range cmds {
		b.errs[i] = c.Err()
	}
	return p.judge(ctx, b, err)
}

// judge sorts out a batch whose commands' errors are in b.errs (pipeErr
// being the pipeline's): the batch failed when ctx ended or a per-tick
// command failed; a failed HSET alone is noted in p.latest and the batch
// is published.
func (p *Publisher) judge(ctx context.Context, b *batch, pipeErr error) error {
	pe := &PublishError{Commands: len(b.errs), Ticks: b.ticks, Err: pipeErr}
	perTick := b.errs
	var hsetErr error
	if p.latestKey != nil && len(b.errs) > 0 {
		perTick, hsetErr = b.errs[:len(b.errs)-1], b.errs[len(b.errs)-1]
	}
	for i, cerr := range perTick {
		if cerr != nil {
			if pe.Failed == 0 {
				pe.Command, pe.Err = describe(b.cmds[i]), cerr
			}
			pe.Failed++
		}
	}
	if hsetErr != nil {
		pe.Failed++
	}
	if p.metrics != nil {
		p.metrics.commandsFailed.Add(float64(pe.Failed))
	}
	if pe.Command == "" && hsetErr != nil { // every tick was published
		p.countBytes(b.payloadBytes)
		p.latest.failed(p, hsetErr)
		return nil
	}
	if cerr := ended(ctx); cerr != nil {
		// The context ended first: its deadline, not a command, failed
		// the batch, whatever the commands' own errors (an i/o timeout).
		pe.Command, pe.Err = "", cerr
	}
	return pe
}

// ended returns ctx's error, or DeadlineExceeded once its deadline has
// passed: go-redis sets a connection's deadline to ctx's, so a read may
// time out a moment before ctx's own timer marks it done.
func ended(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if d, ok := ctx.Deadline(); ok && !time.Now().Before(d) {
		return context.DeadlineExceeded
	}
	return nil
}

// succeeded counts a batch whose every command succeeded.
func (p *Publisher) succeeded(b *batch) {
	p.countBytes(b.payloadBytes + b.hashBytes)
	if p.latestKey != nil {
		p.latest.written(p)
	}
}

// Close closes the connections of Config.Direct; a Publish after Close
// dials a connection for its batch and closes it afterwards. Without
// Direct it does nothing. It never closes Config.Client.
func (p *Publisher) Close() error {
	if p.direct == nil {
		return nil
	}
	return p.direct.close()
}

// countBytes adds n to the payload bytes Redis accepted.
func (p *Publisher) countBytes(n int) {
	if p.metrics != nil {
		p.metrics.payloadBytes.Add(float64(n))
	}
}

// LatestError reports why the latest-value hash (Config.LatestKey) was not
// written: the error of the HSET of the last batch whose per-tick commands
// succeeded, naming the key and wrapping Redis's reply (OOM, WRONGTYPE, ...).
// It is nil when that HSET succeeded, before any batch, and without
// LatestKey. A host shows it in its health report: the feed runs, but a late
// consumer reads stale state.
func (p *Publisher) LatestError() error {
	p.latest.mu.Lock()
	defer p.latest.mu.Unlock()
	return p.latest.err
}

// latestState tracks the HSETs of the latest-value hash, so that a run of
// failures is logged once, when it starts, and once when it ends.
type latestState struct {
	mu       sync.Mutex
	err      error // of the last HSET; nil when it succeeded
	failures int   // HSETs failed in the current run
}

// failed records a refused HSET.
func (l *latestState) failed(p *Publisher, cause error) {
	if p.metrics != nil {
		p.metrics.latestFailures.Inc()
	}
	err := fmt.Errorf("redispub: latest-value hash %s not written: %w", p.latestKey, cause)
	l.mu.Lock()
	first := l.err == nil
	l.err = err
	l.failures++
	l.mu.Unlock()
	if first {
		inst := logattr.Instance(component, p.name)
		logattr.Logger(p.logger).LogAttrs(context.Background(), slog.LevelWarn,
			"latest-value hash not written; the ticks were published",
			inst[0], inst[1], slog.Any("key", p.latestKey), logattr.Err(cause))
	}
}

// written records a successful HSET.
func (l *latestState) written(p *Publisher) {
	l.mu.Lock()
	failures := l.failures
	l.err, l.failures = nil, 0
	l.mu.Unlock()
	if failures > 0 {
		inst := logattr.Instance(component, p.name)
		logattr.Logger(p.logger).LogAttrs(context.Background(), slog.LevelInfo,
			"latest-value hash written again",
			inst[0], inst[1], slog.Any("key", p.latestKey), slog.Int("failed_batches", failures))
	}
}

// describe names a command by its verb and key, "publish ticks:NIFTY".
func describe(args []any) string {
	if len(args) < 2 {
		return fmt.Sprint(args...)
	}
	return fmt.Sprintf("%v %v", args[0], args[1])
}

// PublishError is the error of a failed Publish.
type PublishError struct {
	Ticks    int    // ticks in the batch
	Commands int    // commands in the pipeline; -1 when none was sent
	Failed   int    // commands that returned an error; -1 when none was sent
	Command  string // the first failed command and its key, "publish ticks:NIFTY"; empty when ctx ended
	Err      error  // the first failed command's error, or ctx's error
}

// Error describes the failure: the count and the first cause, or that the
// pipeline timed out.
func (e *PublishError) Error() string {
	if e.Commands < 0 {
		return fmt.Sprintf("redispub: batch of %d ticks not sent: %v", e.Ticks, e.Err)
	}
	if e.Command == "" {
		what := "failed"
		switch {
		case errors.Is(e.Err, context.DeadlineExceeded):
			what = "timed out"
		case errors.Is(e.Err, context.Canceled):
			what = "canceled"
		}
		return fmt.Sprintf("redispub: pipeline of %d commands (%d ticks) %s: %v", e.Commands, e.Ticks, what, e.Err)
	}
	return fmt.Sprintf("redispub: %d of %d commands failed, the first (%s): %v", e.Failed, e.Commands, e.Command, e.Err)
}

// Unwrap returns the cause.
func (e *PublishError) Unwrap() error { return e.Err }

// MarshalJSON writes the fields under snake_case keys, Err as its message
// under "error" (null when nil).
func (e *PublishError) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Ticks    int    `json:"ticks"`
		Commands int    `json:"commands"`
		Failed   int    `json:"failed"`
		Command  string `json:"command"`
		Err      any    `json:"error"`
	}{e.Ticks, e.Commands, e.Failed, e.Command, errjson.Message(e.Err)})
}

// notePanics logs and counts panics of the Channel function in one batch.
func (p *Publisher) notePanics(n int, v any, stack []byte) {
	if p.metrics != nil {
		p.metrics.callbackPanics.Add(float64(n))
	}
	inst, pa := logattr.Instance(component, p.name), logattr.PanicAttrs(v, stack)
	logattr.Logger(p.logger).LogAttrs(context.Background(), slog.LevelError,
		"channel function panicked; ticks sent to their default channel",
		inst[0], inst[1], slog.Int("count", n), pa[0], pa[1])
}

// target returns the boxed channel (or stream) name of t. It reports a
// recovered panic of the Channel function through b.
func (p *Publisher) target(b *batch, t *ticker.Tick) any {
	if p.channel != nil {
		if name := p.callChannel(b, t); name != "" {
			return p.boxed(nameKey{hooked: true, s: name})
		}
	}
	u := Fallback
	if t.Instrument != nil && t.Instrument.Underlying != "" {
		u = t.Instrument.Underlying
	}
	return p.boxed(nameKey{s: u})
}

// callChannel calls the Channel function, containing a panic.
func (p *Publisher) callChannel(b *batch, t *ticker.Tick) (name string) {
	defer func() {
		if v := recover(); v != nil {
			if b.panics == 0 {
				b.panicValue, b.panicStack = v, debug.Stack()
			}
			b.panics++
			name = ""
		}
	}()
	return p.channel(t)
}

// boxed returns k's name as an interface value, cached so that it is
// boxed once.
func (p *Publisher) boxed(k nameKey) any {
	if v, ok := (*p.names.Load())[k]; ok {
		return v
	}
	name := k.s
	if !k.hooked {
		name = p.prefix + k.s
	}
	p.namesMu.Lock()
	defer p.namesMu.Unlock()
	old := *p.names.Load()
	if v, ok := old[k]; ok {
		return v
	}
	var v any = name
	if len(old) >= maxNames {
		return v
	}
	m := make(map[nameKey]any, len(old)+1)
	for k2, v2 := range old {
		m[k2] = v2
	}
	m[k] = v
	p.names.Store(&m)
	return v
}

// batch holds the memory one Publish reuses: the payloads, one buffer for
// all, and the commands' arguments. It goes back to the Publisher's pool
// when the pipeline has run, so a steady stream of batches allocates
// nothing for them.
type batch struct {
	buf          []byte
	ends         []int     // end offsets in buf: payloads, then token fields
	vals         []byteArg // the byte arguments, pointing into buf
	args         []any     // every command's arguments, back to back
	cmds         [][]any   // one slice of args per command
	errs         []error   // each command's error, when the batch failed
	wire         []byte    // the commands in RESP (Config.Direct)
	ticks        int
	payloadBytes int // of the per-tick commands
	hashBytes    int // of the HSET

	panics     int
	panicValue any
	panicStack []byte
}

// byteArg is a byte-string argument given to go-redis by pointer, which
// writes it through MarshalBinary: an interface holding a pointer needs no
// allocation, one holding a []byte does.
type byteArg struct{ b []byte }

// MarshalBinary returns the bytes; go-redis writes them as the argument.
func (a *byteArg) MarshalBinary() ([]byte, error) { return a.b, nil }

// String returns the bytes as text, for hooks that print commands.
func (a *byteArg) String() string { return string(a.b) }

// build encodes ticks and lays out the commands. It returns the number of
// panics of the Channel function.
func (b *batch) build(p *Publisher, ticks []ticker.Tick) int {
	b.panics, b.panicValue, b.panicStack = 0, nil, nil
	b.buf, b.ends = b.buf[:0], b.ends[:0]
	for i := range ticks {
		b.buf = AppendPayload(b.buf, &ticks[i])
		b.ends = append(b.ends, len(b.buf))
	}
	b.ticks, b.payloadBytes, b.hashBytes = len(ticks), len(b.buf), 0
	latest := p.latestKey != nil
	if latest {
		for i := range ticks {
			b.buf = strconv.AppendUint(b.buf, uint64(ticks[i].Token), 10)
			b.ends = append(b.ends, len(b.buf))
		}
		b.hashBytes = b.payloadBytes
	}
	b.vals = grow(b.vals, len(b.ends))
	start := 0
	for i, end := range b.ends {
		b.vals[i].b = b.buf[start:end:end]
		start = end
	}

	n := len(ticks)
	total := n * p.perTick
	if latest {
		total += 2 + 2*n
	}
	b.args = grow(b.args, total)
	b.cmds = b.cmds[:0]
	a := b.args
	for i := range ticks {
		cmd := a[:p.perTick:p.perTick]
		a = a[p.perTick:]
		cmd[0], cmd[1] = p.verb, p.target(b, &ticks[i])
		if p.maxLen != nil {
			cmd[2], cmd[3], cmd[4], cmd[5], cmd[6] = "maxlen", "~", p.maxLen, "*", "data"
		}
		cmd[p.perTick-1] = &b.vals[i]
		b.cmds = append(b.cmds, cmd)
	}
	if latest {
		cmd := a[: 2+2*n : 2+2*n]
		cmd[0], cmd[1] = "hset", p.latestKey
		for i := range n {
			cmd[2+2*i], cmd[3+2*i] = &b.vals[n+i], &b.vals[i]
		}
		b.cmds = append(b.cmds, cmd)
	}
	return b.panics
}

// release drops the batch's references to the caller's data (a panic
// value) so that a pooled batch keeps nothing alive but its own memory.
func (b *batch) release() {
	b.panicValue, b.panicStack = nil, nil
}

// grow returns s with length n, reusing its array when it is large enough.
func grow[T any](s []T, n int) []T {
	if cap(s) >= n {
		return s[:n]
	}
	return make([]T, n, n+n/4)
}

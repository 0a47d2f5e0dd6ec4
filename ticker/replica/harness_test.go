package replica_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/steadfast-go/steadfast/breaker"
	"github.com/steadfast-go/steadfast/internal/redistest"
	"github.com/steadfast-go/steadfast/ticker"
	"github.com/steadfast-go/steadfast/ticker/redispub"
	"github.com/steadfast-go/steadfast/ticker/replica"
)

// The timings of the replicas under test: short leases, so that a test
// takes seconds; long enough that a loaded two-core machine running the
// race detector keeps its rounds on time.
const (
	leaseTTL = 1500 * time.Millisecond
	renewI   = leaseTTL / 3
	interval = 200 * time.Millisecond // the test source's round: a tick per instrument
	parts    = 64
	// pipelineSlack bounds, on a loaded machine, the engine's part of a
	// hand-over: from the lease acquired to the first tick published
	// (reload, subscribe, emit, publish).
	pipelineSlack = time.Second
	// waitLong bounds every poll.
	waitLong = 20 * time.Second
)

var ist = time.FixedZone("IST", 5*3600+1800)

// universe lists n instruments: options of 25 underlyings with 4 expiries
// each, so the partitions are well populated. Tokens are 1..n.
func universe(n int) []ticker.Instrument {
	out := make([]ticker.Instrument, 0, n)
	expiry := time.Date(2026, 12, 3, 15, 30, 0, 0, ist)
	for i := range n {
		u := i % 25
		e := (i / 25) % 4
		strike := 1000 + 50*float64(i/100)
		kind := ticker.KindCall
		if (i/25/4)%2 == 1 {
			kind = ticker.KindPut
		}
		out = append(out, ticker.Instrument{
			Token: uint32(i + 1), Symbol: fmt.Sprintf("U%02dE%d%s%d", u, e, kind, i), Exchange: "NFO",
			Segment: "NFO-OPT", Underlying: fmt.Sprintf("U%02d", u), Kind: kind, Strike: strike,
			Expiry: expiry.AddDate(0, 0, 7*e), LotSize: 50, TickSize: 0.05,
		})
	}
	return out
}

// source emits a tick for each subscribed instrument every interval, and
// one at once for each instrument it is newly subscribed to (as a broker
// sends a snapshot on subscription).
type source struct {
	mu    sync.Mutex
	subs  map[uint32]bool
	fresh []uint32
	poke  chan struct{}
}

func newSource() *source { return &source{subs: map[uint32]bool{}, poke: make(chan struct{}, 1)} }

func (s *source) Subscribe(add, remove []ticker.Instrument) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, in := range remove {
		delete(s.subs, in.Token)
	}
	for _, in := range add {
		s.subs[in.Token] = true
		s.fresh = append(s.fresh, in.Token)
	}
	select {
	case s.poke <- struct{}{}:
	default:
	}
	return nil
}

func (s *source) Run(ctx context.Context, emit func(ticker.Tick)) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	var toks []uint32
	for n := 1; ; n++ {
		all := false
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			all = true
		case <-s.poke:
		}
		s.mu.Lock()
		toks = toks[:0]
		if all {
			for tok := range s.subs {
				toks = append(toks, tok)
			}
		} else {
			for _, tok := range s.fresh {
				if s.subs[tok] {
					toks = append(toks, tok)
				}
			}
		}
		s.fresh = s.fresh[:0]
		s.mu.Unlock()
		now := time.Now()
		for _, tok := range toks {
			emit(ticker.Tick{Token: tok, LastPrice: 100 + float64(n%100), Time: now})
		}
	}
}

// arrival is a tick as the subscriber received it.
type arrival struct {
	epoch uint64
	at    time.Time
}

// subscriber records, per token, every tick received on "ticks:*", in the
// order Redis delivered them (which is the order it ran the PUBLISHes).
type subscriber struct {
	cancel context.CancelFunc
	done   chan struct{}

	mu  sync.Mutex
	got map[uint32][]arrival
	bad int
}

func startSubscriber(t *testing.T, addr string) *subscriber {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, DialerRetries: 1})
	ps := c.PSubscribe(context.Background(), "ticks:*")
	_, err := ps.Receive(context.Background()) // the confirmation
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	s := &subscriber{cancel: cancel, done: make(chan struct{}), got: map[uint32][]arrival{}}
	go func() {
		defer close(s.done)
		for ctx.Err() == nil {
			msg, err := ps.ReceiveTimeout(ctx, 200*time.Millisecond)
			if err != nil {
				continue // a timeout, the server restarting (go-redis resubscribes), or the end
			}
			if m, ok := msg.(*redis.Message); ok {
				s.record([]byte(m.Payload), time.Now())
			}
		}
	}()
	t.Cleanup(func() {
		s.stop()
		ps.Close()
		c.Close()
	})
	return s
}

// record reads the token and epoch of a payload without a full decode (the
// subscriber must keep up with thousands of ticks a second under -race).
func (s *subscriber) record(p []byte, at time.Time) {
	tok, ok1 := field(p, `"token":`)
	ep, _ := field(p, `"epoch":`)
	s.mu.Lock()
	defer s.mu.Unlock()
	if !ok1 || tok == 0 || ep == 0 {
		s.bad++
		return
	}
	s.got[uint32(tok)] = append(s.got[uint32(tok)], arrival{ep, at})

}

// field reads the unsigned integer after key in p.
func field(p []byte, key string) (uint64, bool) {
	i := bytes.Index(p, []byte(key))
	if i < 0 {
		return 0, false
	}
	p = p[i+len(key):]
	j := 0
	for j < len(p) && p[j] >= '0' && p[j] <= '9' {
		j++
	}
	v, err := strconv.ParseUint(string(p[:j]), 10, 64)
	return v, err == nil
}

func (s *subscriber) stop() {
	s.cancel()
	<-s.done
}

// arrivals returns a copy of what token received.
func (s *subscriber) arrivals(tok uint32) []arrival {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.got[tok])
}

// regressions counts, over every token, the ticks received after a tick
// of a higher epoch: what a consumer that drops older epochs drops.
func (s *subscriber) regressions() (n int, first string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for tok, as := range s.got {
		var top uint64
		for _, a := range as {
			if a.epoch < top {
				if n == 0 {
					first = fmt.Sprintf("token %d: epoch %d at %s after epoch %d", tok, a.epoch, a.at.Format("15:04:05.000"), top)
				}
				n++
			}
			top = max(top, a.epoch)
		}
	}
	return n, first
}

// recorder wraps a replica's publisher: it remembers, per token and epoch,
// when this replica first and last published it (Publish returned nil).
type recorder struct {
	next ticker.Publisher
	mu   sync.Mutex
	runs map[uint32][]run
}

// run is a stretch of publishing of one token with one epoch.
type run struct {
	epoch       uint64
	first, last time.Time
}

func (r *recorder) Publish(ctx context.Context, ticks []ticker.Tick) error {
	err := r.next.Publish(ctx, ticks)
	if err == nil {
		now := time.Now()
		r.mu.Lock()
		for i := range ticks {
			rs := r.runs[ticks[i].Token]
			if n := len(rs); n > 0 && rs[n-1].epoch == ticks[i].Epoch {
				rs[n-1].last = now
				continue
			}
			r.runs[ticks[i].Token] = append(rs, run{ticks[i].Epoch, now, now})
		}
		r.mu.Unlock()
	}
	return err
}

// since returns the tokens published since t.
func (r *recorder) since(t time.Time) map[uint32]bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[uint32]bool{}
	for tok, rs := range r.runs {
		if !rs[len(rs)-1].last.Before(t) {
			out[tok] = true
		}
	}
	return out
}

// firstAfter returns when this replica first published tok with an epoch
// above epoch.
func (r *recorder) firstAfter(tok uint32, epoch uint64) (time.Time, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, x := range r.runs[tok] {
		if x.epoch > epoch {
			return x.first, true
		}
	}
	return time.Time{}, false
}

// lastOf returns the epoch and time of this replica's last publish of tok.
func (r *recorder) lastOf(tok uint32) (run, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	rs := r.runs[tok]
	if len(rs) == 0 {
		return run{}, false
	}
	return rs[len(rs)-1], true
}

// node is one replica under test, with its own client and source.
type node struct {
	*replica.Replica
	client *redis.Client
	rec    *recorder
	cancel context.CancelFunc
	done   chan error
	err    error
	ended  bool // Run has returned
	hook   *pauseHook
}

// group starts replicas on one Redis for one universe.
type group struct {
	t       *testing.T
	addr    string
	pubAddr string // where the ticks go; addr unless set
	ins     []ticker.Instrument
	nodes   map[string]*node
	log     *slog.Logger
	reg     *prometheus.Registry // every replica's metrics
}

func newGroup(t *testing.T, srv *redistest.Server, ins []ticker.Instrument) *group {
	return &group{t: t, addr: srv.Addr(), ins: ins, nodes: map[string]*node{},
		log: slog.New(slog.NewTextHandler(io.Discard, nil)), reg: prometheus.NewRegistry()}
}

// start starts a replica named id (and with that ID unless cfg has one);
// cfg's zero fields get the test's values.
func (g *group) start(id string, cfg replica.Config) *node {
	t := g.t
	t.Helper()
	h := &pauseHook{}
	c := redis.NewClient(&redis.Options{Addr: g.addr, ContextTimeoutEnabled: true, MaxRetries: -1, DialerRetries: 1})
	c.AddHook(h)
	pc := c
	if g.pubAddr != "" {
		pc = redis.NewClient(&redis.Options{Addr: g.pubAddr, ContextTimeoutEnabled: true, MaxRetries: -1, DialerRetries: 1})
		t.Cleanup(func() { pc.Close() })
	}
	pub, err := redispub.New(redispub.Config{Client: pc, Name: id, Logger: g.log})
	require.NoError(t, err)
	rec := &recorder{next: pub, runs: map[uint32][]run{}}
	cfg.Client = c
	if cfg.ID == "" {
		cfg.ID = id
	}
	cfg.Name = id
	cfg.Registerer = g.reg
	if cfg.Logger == nil {
		cfg.Logger = g.log
	}
	if cfg.LeaseTTL == 0 {
		cfg.LeaseTTL = leaseTTL
	}
	cfg.Engine = ticker.Config{
		Source:      newSource(),
		Publisher:   rec,
		Instruments: func(context.Context) ([]ticker.Instrument, error) { return g.ins, nil },
		Linger:      -1,
		// Redis restarts in these tests: probe again soon.
		Breaker: breaker.Config{FailureThreshold: 5, OpenTimeout: 100 * time.Millisecond},
	}
	r, err := replica.New(cfg)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	n := &node{Replica: r, client: c, rec: rec, cancel: cancel, done: make(chan error, 1), hook: h}
	go func() { n.done <- r.Run(ctx) }()
	g.nodes[id] = n
	t.Cleanup(func() { n.stop(t) })
	return n
}

// wait waits for Run to return.
func (n *node) wait(t *testing.T) {
	t.Helper()
	if n.ended {
		return
	}
	select {
	case n.err = <-n.done:
		n.ended = true
	case <-time.After(waitLong):
		t.Fatalf("replica %s: Run did not return within %v", n.ID(), waitLong)
	}
}

// stop ends the replica, if it runs, as its user would, and closes its
// client.
func (n *node) stop(t *testing.T) {
	t.Helper()
	n.hook.resume()
	if !n.ended {
		n.cancel()
		n.wait(t)
		if n.err != nil {
			t.Errorf("replica %s: Run: %v", n.ID(), n.err)
		}
	}
	n.client.Close()
}

// kill ends the replica the way a crash would: its client is closed first,
// so it neither publishes nor releases its leases.
func (n *node) kill(t *testing.T) {
	t.Helper()
	n.client.Close()
	n.cancel()
	n.wait(t)
}

// pauseHook blocks the replica's scripts (its rounds), not its publishing
// (pipelines), while paused: a renew loop stopped as by SIGSTOP while the
// engine goes on.
type pauseHook struct {
	mu     sync.Mutex
	paused chan struct{} // closed on resume; nil when not paused
	calls  atomic.Int64
}

func (h *pauseHook) pause() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.paused == nil {
		h.paused = make(chan struct{})
	}
}

func (h *pauseHook) resume() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.paused != nil {
		close(h.paused)
		h.paused = nil
	}
}

func (h *pauseHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *pauseHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if name := cmd.Name(); name == "evalsha" || name == "eval" {
			h.calls.Add(1)
			h.mu.Lock()
			p := h.paused
			h.mu.Unlock()
			if p != nil {
				<-p // ignores ctx, as a stopped process would
			}
		}
		return next(ctx, cmd)
	}
}

func (h *pauseHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

// owners returns, per partition, the IDs of the running replicas that hold
// it.
func (g *group) owners() [][]string {
	out := make([][]string, parts)
	for _, n := range g.nodes {
		if n.ended {
			continue
		}
		for _, p := range n.Owned() {
			out[p] = append(out[p], n.ID())
		}
	}
	return out
}

// settled reports whether every partition has exactly one holder among the
// running replicas and each of them publishes exactly the instruments of
// its partitions.
func (g *group) settled() bool {
	var ms []replica.Member
	for _, n := range g.nodes {
		if !n.ended {
			ms = append(ms, replica.Member{ID: n.ID(), Capacity: n.Health().Capacity, Standby: n.Health().Standby})
		}
	}
	want := replica.Assign(ms, parts)
	for p, o := range g.owners() {
		if len(o) != 1 || o[0] != want[p] {
			return false
		}
	}
	for _, n := range g.nodes {
		if n.ended {
			continue
		}
		want := 0
		for _, p := range n.Owned() {
			want += g.perPartition()[p]
		}
		if len(n.Engine().Instruments()) != want {
			return false
		}
	}
	return true
}

// perPartition counts the universe's instruments per partition.
func (g *group) perPartition() []int {
	c := make([]int, parts)
	for i := range g.ins {
		c[replica.PartitionOf(&g.ins[i], parts)]++
	}
	return c
}

// waitSettled waits until the group is settled and returns how long it
// took.
func (g *group) waitSettled(what string) time.Duration {
	g.t.Helper()
	start := time.Now()
	require.Eventually(g.t, g.settled, waitLong, 10*time.Millisecond, "%s: the group did not settle", what)
	return time.Since(start)
}

// tokensOf returns the tokens of the universe in partitions ps.
func (g *group) tokensOf(ps []int) []uint32 {
	in := map[int]bool{}
	for _, p := range ps {
		in[p] = true
	}
	var out []uint32
	for i := range g.ins {
		if in[replica.PartitionOf(&g.ins[i], parts)] {
			out = append(out, g.ins[i].Token)
		}
	}
	return out
}

// percentile returns the p-th percentile (0 < p ≤ 100) of ds, nearest rank.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(float64(len(s))*p/100+0.999999) - 1
	return s[max(0, min(i, len(s)-1))]
}

// firstAfter returns when a replica first published tok with an epoch above
// epoch.
func (g *group) firstAfter(tok uint32, epoch uint64) (time.Time, bool) {
	var first time.Time
	for _, n := range g.nodes {
		if at, ok := n.rec.firstAfter(tok, epoch); ok && (first.IsZero() || at.Before(first)) {
			first = at
		}
	}
	return first, !first.IsZero()
}

// overlaps returns, over every token, how many times two replicas'
// publishing of it overlapped after from, and the longest overlap.
func (g *group) overlaps(from time.Time) (n int, longest time.Duration, first string) {
	type span struct {
		id          string
		first, last time.Time
	}
	by := map[uint32][]span{}
	for id, nd := range g.nodes {
		nd.rec.mu.Lock()
		for tok, rs := range nd.rec.runs {
			for _, r := range rs {
				if r.last.After(from) {
					by[tok] = append(by[tok], span{id, maxTime(r.first, from), r.last})
				}
			}
		}
		nd.rec.mu.Unlock()
	}
	for tok, ss := range by {
		slices.SortFunc(ss, func(a, b span) int { return a.first.Compare(b.first) })
		for i := 1; i < len(ss); i++ {
			for j := 0; j < i; j++ {
				if ss[j].id != ss[i].id && ss[j].last.After(ss[i].first) {
					o := minTime(ss[j].last, ss[i].last).Sub(ss[i].first)
					if n == 0 {
						first = fmt.Sprintf("token %d: %s and %s for %v", tok, ss[j].id, ss[i].id, o)
					}
					n++
					longest = max(longest, o)
				}
			}
		}
	}
	return n, longest, first
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// leasesInRedis counts the lease keys Redis has, and how many of them the
// replica they name holds by its own account too.
func (g *group) leasesInRedis(t *testing.T, c *redis.Client) (keys, agreed int) {
	t.Helper()
	for p := range parts {
		v, err := c.Get(context.Background(), fmt.Sprintf("steadfast:replica:{%s}:lease:%d", replica.DefaultGroup, p)).Result()
		if err == redis.Nil {
			continue
		}
		if err != nil {
			return keys, agreed
		}
		keys++
		id, _, _ := strings.Cut(v, "/")
		if n := g.nodes[id]; n != nil && !n.ended && slices.Contains(n.Owned(), p) {
			agreed++
		}
	}
	return keys, agreed
}

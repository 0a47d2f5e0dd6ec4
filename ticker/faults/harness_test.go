package faults_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/steadfast-go/steadfast/breaker"
	"github.com/steadfast-go/steadfast/internal/logtest"
	"github.com/steadfast-go/steadfast/ticker"
	"github.com/steadfast-go/steadfast/ticker/market"
	"github.com/steadfast-go/steadfast/ticker/mock"
	"github.com/steadfast-go/steadfast/ticker/redispub"
)

// The timings of the engine under test. They must hold on a loaded
// two-core machine under the race detector, where one batch of 256 ticks
// took up to 350 ms to publish (p50 90 ms, p90 210 ms, measured with two
// busy loops beside the suite): each deadline is several times that, and
// each bound on a measured duration adds slack, an order of magnitude above
// the scheduling delays seen there.
const (
	interval       = 500 * time.Millisecond // the mock's round: one tick per instrument
	publishTimeout = time.Second
	openTimeout    = time.Second
	threshold      = 3 // consecutive failures that open the breaker
	// probeEvery is the engine's catch-up probe interval: OpenTimeout/8.
	probeEvery = openTimeout / 8
	// slack absorbs scheduling on a loaded two-core machine (and the race
	// detector) in the upper bounds on durations below.
	slack = 2 * time.Second
	// publishBound is the longest a Publish may take: a hang, not a
	// deadline honoured late, fails it. (A publish took 6 s once, with the
	// whole suite and two busy loops on two cores.) Whether Publish honours
	// its deadline is shown by the stalls instead: the breaker opens on
	// timed-out publishes well before a stall ends.
	publishBound = publishTimeout + 4*slack
	// emitBound is the longest a single emit may take: far below every
	// fault's duration (seconds), so a blocking emit cannot pass.
	emitBound = time.Second
	// waitLong bounds every poll: an order of magnitude above the longest
	// wait (a stall of 8 s).
	waitLong = time.Minute
)

// day is a Wednesday, 10:00 IST: in session, and no expiry of NIFTY or
// BANKNIFTY falls that day, so closing the session rolls nothing.
var day = time.Date(2026, 12, 2, 10, 0, 0, 0, market.IST())

// clock is the mock's clock: it runs at wall speed from day until close is
// called, then stands after the session's close, where the mock emits
// nothing, so what a subscriber receives afterwards is the engine's flush
// and catch-up only.
type clock struct {
	wall   time.Time
	closed atomic.Bool
}

func newClock() *clock { return &clock{wall: time.Now()} }

func (c *clock) Now() time.Time {
	if c.closed.Load() {
		return time.Date(2026, 12, 2, 15, 45, 0, 0, market.IST())
	}
	return day.Add(time.Since(c.wall))
}

func (c *clock) close() { c.closed.Store(true) }

// universe lists NIFTY and BANKNIFTY with 3 expiries of 50 strikes a side:
// 1,220 instruments.
func universe(t testing.TB) []ticker.Instrument {
	t.Helper()
	ins, err := market.Universe(market.UniverseConfig{Date: day, Expiries: 3, StrikesPerSide: 50})
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(ins), 1000)
	return ins
}

// meteredSource wraps the mock: it counts the ticks it emits and records the
// longest emit call.
type meteredSource struct {
	ticker.Source
	ticks   atomic.Int64
	longest atomic.Int64 // nanoseconds
}

func (s *meteredSource) Run(ctx context.Context, emit func(ticker.Tick)) error {
	return s.Source.Run(ctx, func(t ticker.Tick) {
		start := time.Now()
		emit(t)
		d := int64(time.Since(start))
		s.ticks.Add(1)
		for {
			old := s.longest.Load()
			if d <= old || s.longest.CompareAndSwap(old, d) {
				break
			}
		}
	})
}

// meteredPublisher wraps the redispub Publisher: it counts calls and
// failures and records the longest call.
type meteredPublisher struct {
	pub      *redispub.Publisher
	calls    atomic.Int64
	failures atomic.Int64
	longest  atomic.Int64 // nanoseconds
}

func (p *meteredPublisher) Publish(ctx context.Context, ticks []ticker.Tick) error {
	start := time.Now()
	err := p.pub.Publish(ctx, ticks)
	d := int64(time.Since(start))
	p.calls.Add(1)
	if err != nil {
		p.failures.Add(1)
	}
	for {
		old := p.longest.Load()
		if d <= old || p.longest.CompareAndSwap(old, d) {
			break
		}
	}
	return err
}

// subscriber is a plain go-redis subscriber of the engine's channels: it
// keeps the last payload received per token and reconnects (go-redis does,
// on the next Receive) after the server goes away. It may listen on several
// PubSubs (one per shard channel on a Cluster).
type subscriber struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu       sync.Mutex
	last     map[uint32]string // token → payload
	received int
	resubs   int            // subscription confirmations received
	byChan   map[string]int // messages per channel
	badMsgs  []string
}

// startSubscriber subscribes a new client of opt to channels.
func startSubscriber(t testing.TB, opt *redis.Options, channels ...string) *subscriber {
	t.Helper()
	o := *opt
	o.MaxRetries, o.DialerRetries = -1, 1
	c := redis.NewClient(&o)
	t.Cleanup(func() { c.Close() }) // after the PubSubs (cleanups run last first)
	return listen(t, c.Subscribe(context.Background(), channels...))
}

// listen receives on every ps until the test ends.
func listen(t testing.TB, pss ...*redis.PubSub) *subscriber {
	ctx, cancel := context.WithCancel(context.Background())
	s := &subscriber{cancel: cancel, last: map[uint32]string{}, byChan: map[string]int{}}
	for _, ps := range pss {
		s.wg.Add(1)
		go s.loop(ctx, ps)
	}
	t.Cleanup(func() {
		// Closing a PubSub ends a Receive blocked on its socket, which the
		// context alone does not.
		s.cancel()
		for _, ps := range pss {
			ps.Close()
		}
		s.wg.Wait()
	})
	return s
}

func (s *subscriber) loop(ctx context.Context, ps *redis.PubSub) {
	defer s.wg.Done()
	for ctx.Err() == nil {
		v, err := ps.Receive(ctx)
		if err != nil {
			// The server is away: go-redis redials on the next Receive.
			// Real time, since sockets are not durable in synctest.
			select {
			case <-ctx.Done():
			case <-time.After(5 * time.Millisecond):
			}
			continue
		}
		switch m := v.(type) {
		case *redis.Subscription:
			s.mu.Lock()
			s.resubs++
			s.mu.Unlock()
		case *redis.Message:
			msg, err := redispub.Decode([]byte(m.Payload))
			s.mu.Lock()
			if err != nil {
				s.badMsgs = append(s.badMsgs, fmt.Sprintf("%s: %v", m.Payload, err))
			} else {
				s.last[msg.Tick.Token] = m.Payload
			}
			s.received++
			s.byChan[m.Channel]++
			s.mu.Unlock()
		}
	}
}

// perChannel returns a copy of the message counts per channel.
func (s *subscriber) perChannel() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.byChan)
}

func (s *subscriber) counts() (received, resubs int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.received, s.resubs
}

// mismatches counts the instruments whose last received payload is not the
// payload of the engine's Latest tick.
func (s *subscriber) mismatches(eng *ticker.Engine) (n int, first string) {
	want := map[uint32]string{}
	for _, in := range eng.Instruments() {
		if tk, ok := eng.Latest(in.Token); ok {
			want[in.Token] = string(redispub.AppendPayload(nil, &tk))
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for token, w := range want {
		if got := s.last[token]; got != w {
			if n == 0 {
				first = fmt.Sprintf("token %d: got %s, want %s", token, got, w)
			}
			n++
		}
	}
	return n, first
}

// poll calls cond until it is true or waitLong has passed, and returns how
// long that took. Real time: the servers and sockets are real.
func poll(t testing.TB, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	deadline := start.Add(waitLong)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", waitLong, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return time.Since(start)
}

// rig is one engine streaming the mock through redispub to a Redis, with a
// subscriber listening.
type rig struct {
	t     testing.TB
	ins   []ticker.Instrument
	clock *clock
	src   *meteredSource
	pub   *meteredPublisher
	eng   *ticker.Engine
	sub   *subscriber
	logs  *logtest.Buffer
	pre   string

	openedAt  atomic.Int64 // unix nanos of the last change to open
	failsOpen atomic.Int64 // publisher failures counted when it last opened
	closedAt  atomic.Int64 // unix nanos of the last change to closed

	// At the fault (see mark): the publisher's failures and the failure
	// and recovery records so far, which the checks after it leave out.
	failsAtFault             int64
	failedLogs, recoveryLogs int

	stop func()
	done chan error
}

// rigConfig says how to connect.
type rigConfig struct {
	// client, when set, is the engine's client (a ClusterClient), and
	// listen makes the subscriber; otherwise they are made for addr.
	client  redis.UniversalClient
	listen  func(pre string) *subscriber
	sharded bool
	channel func(*ticker.Tick) string

	addr      string
	password  string // the engine client's
	subPass   string // the subscriber's and admin's
	latestKey bool   // keep the latest-value hash
}

func newRig(t testing.TB, rc rigConfig) *rig {
	t.Helper()
	r := &rig{t: t, ins: universe(t), clock: newClock(), logs: &logtest.Buffer{},
		pre: fmt.Sprintf("ticks:%s:", t.Name())}
	mock, err := mock.New(mock.Config{Now: r.clock.Now, Interval: interval, Logger: r.logger()})
	require.NoError(t, err)
	r.src = &meteredSource{Source: mock}

	client := rc.client
	if client == nil {
		c := redis.NewClient(&redis.Options{
			Addr: rc.addr, Password: rc.password,
			ContextTimeoutEnabled: true, MaxRetries: -1, DialerRetries: 1,
		})
		t.Cleanup(func() { c.Close() })
		client = c
	}
	pc := redispub.Config{Client: client, Prefix: r.pre, Logger: r.logger(), Sharded: rc.sharded, Channel: rc.channel}
	if rc.latestKey {
		pc.LatestKey = r.pre + "latest"
	}
	p, err := redispub.New(pc)
	require.NoError(t, err)
	r.pub = &meteredPublisher{pub: p}

	if rc.listen != nil {
		r.sub = rc.listen(r.pre)
	} else {
		r.sub = startSubscriber(t, &redis.Options{Addr: rc.addr, Password: rc.subPass}, r.pre+"NIFTY", r.pre+"BANKNIFTY")
	}

	eng, err := ticker.New(ticker.Config{
		Source:    r.src,
		Publisher: r.pub,
		Instruments: func(context.Context) ([]ticker.Instrument, error) {
			return r.ins, nil
		},
		PublishTimeout:  publishTimeout,
		ShutdownTimeout: 2 * time.Second,
		Breaker: breaker.Config{
			FailureThreshold: threshold,
			OpenTimeout:      openTimeout,
			OnStateChange: func(_ string, _, to breaker.State) {
				now := time.Now().UnixNano()
				switch to {
				case breaker.Open:
					r.failsOpen.Store(r.pub.failures.Load())
					r.openedAt.Store(now)
				case breaker.Closed:
					r.closedAt.Store(now)
				}
			},
		},
		Logger: r.logger(),
	})
	require.NoError(t, err)
	r.eng = eng
	return r
}

func (r *rig) logger() *slog.Logger {
	return slog.New(slog.NewJSONHandler(r.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func (r *rig) start() {
	ctx, cancel := context.WithCancel(context.Background())
	r.stop, r.done = cancel, make(chan error, 1)
	go func() { r.done <- r.eng.Run(ctx) }()
	r.t.Cleanup(func() { // a failed test still stops the engine
		cancel()
		<-r.done
	})
}

// finish stops the engine, checks that Run returned nil and that the
// identity holds exactly, and returns the final stats.
func (r *rig) finish() ticker.Stats {
	r.t.Helper()
	r.stop()
	select {
	case err := <-r.done:
		require.NoError(r.t, err)
		r.done <- nil // for the cleanup
	case <-time.After(waitLong):
		r.t.Fatal("Run did not return")
	}
	s := r.eng.Stats()
	require.Zero(r.t, s.Pending)
	require.Equal(r.t, s.Produced, s.Published+s.Conflated+s.Invalid+s.Dropped.Total()+s.Pending,
		"identity: %+v", s)
	require.Zero(r.t, s.Invalid)
	require.Zero(r.t, s.Dropped.Unsubscribed)
	return s
}

// streaming waits until the subscriber has heard from every instrument.
func (r *rig) streaming() {
	r.t.Helper()
	poll(r.t, "every instrument to reach the subscriber", func() bool {
		r.sub.mu.Lock()
		defer r.sub.mu.Unlock()
		return len(r.sub.last) == len(r.ins)
	})
}

// state returns the breaker's state as Health reports it.
func (r *rig) state() string { return r.eng.Health().Breaker }

// logRecords returns the engine's log records with message msg.
func (r *rig) logRecords(msg string) []map[string]any {
	var out []map[string]any
	for line := range strings.SplitSeq(strings.TrimSpace(r.logs.String()), "\n") {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) == nil && rec["msg"] == msg {
			out = append(out, rec)
		}
	}
	return out
}

// The engine's records of a change between working and failing.
const (
	failedMsg    = "publish failed; ticks are dropped and caught up once publishing works"
	recoveredMsg = "publishing recovered"
)

// mark is the instant of a fault: it waits until publishing works (every
// failure record has its recovery: a loaded machine may time out a batch
// before the fault), notes the failures and records so far, which the
// checks of the fault leave out, and returns the time.
func (r *rig) mark() time.Time {
	r.t.Helper()
	poll(r.t, "publishing to work before the fault", func() bool {
		return len(r.logRecords(failedMsg)) == len(r.logRecords(recoveredMsg))
	})
	r.failsAtFault = r.pub.failures.Load()
	r.failedLogs, r.recoveryLogs = len(r.logRecords(failedMsg)), len(r.logRecords(recoveredMsg))
	return time.Now()
}

// faultRecords returns the engine's records with message msg (failedMsg or
// recoveredMsg) since the fault's mark.
func (r *rig) faultRecords(msg string) []map[string]any {
	recs := r.logRecords(msg)
	if msg == failedMsg {
		return recs[r.failedLogs:]
	}
	return recs[r.recoveryLogs:]
}

// figures is what a fault test measured, logged for RELIABILITY.md.
type figures struct {
	fault           string
	toOpen          time.Duration // from the fault to the breaker's opening
	failsToOpen     int64         // publisher failures counted when it opened
	sourceRate      float64       // rounds per interval during the fault (1 = full rate)
	toClose         time.Duration // from the fault clearing to the breaker closing
	toConverge      time.Duration // from the fault clearing to the subscriber matching Latest
	longestPublish  time.Duration
	longestEmit     time.Duration
	failureLogs     int
	cause           string
	stats           ticker.Stats
	instrumentCount int
}

func (f figures) log(t testing.TB) {
	d := f.stats.Dropped
	t.Logf("FIGURES | %s | %d instruments | open after %v and %d failures | source at %.0f%% of its rate, longest emit %v | longest publish %v | closed %v after the fault cleared | converged after %v | produced %d published %d conflated %d circuit_open %d publish_failed %d shutdown %d catch_up %d | %d failure log(s): %s",
		f.fault, f.instrumentCount, f.toOpen.Round(time.Millisecond), f.failsToOpen, 100*f.sourceRate,
		f.longestEmit.Round(time.Microsecond), f.longestPublish.Round(time.Millisecond),
		f.toClose.Round(time.Millisecond), f.toConverge.Round(time.Millisecond),
		f.stats.Produced, f.stats.Published, f.stats.Conflated, d.CircuitOpen, d.PublishFailed, d.Shutdown,
		f.stats.CatchUp, f.failureLogs, f.cause)
}

// waitOpen waits for the breaker to open after faultAt and checks that it
// took at most its configured failures; it returns how long it took and
// the failures counted.
func (r *rig) waitOpen(faultAt time.Time) (time.Duration, int64) {
	r.t.Helper()
	poll(r.t, "the breaker to open", func() bool { return r.openedAt.Load() > faultAt.UnixNano() })
	fails := r.failsOpen.Load() - r.failsAtFault
	require.Positive(r.t, fails)
	require.LessOrEqual(r.t, fails, int64(threshold))
	return time.Unix(0, r.openedAt.Load()).Sub(faultAt), fails
}

// sourceRate waits for five rounds of the source and returns its rate
// relative to one round per interval; it fails the test below a quarter:
// emit does not block while publishing fails. (A loaded machine slows the
// mock itself: 54% of its rate was seen with two busy loops beside the
// suite, when a round took 100 ms; an emit that waited for the publisher
// would take the rate near zero.)
func (r *rig) sourceRate() float64 {
	r.t.Helper()
	const rounds = 5
	n0, t0 := r.src.ticks.Load(), time.Now()
	poll(r.t, "the source to stream during the fault", func() bool {
		return r.src.ticks.Load()-n0 >= rounds*int64(len(r.ins))
	})
	rate := rounds / (float64(time.Since(t0)) / float64(interval))
	require.Greater(r.t, rate, 0.25, "the source slowed down during the fault")
	return rate
}

// waitClosed waits for the breaker to close after clearAt, checks that it
// took at most OpenTimeout plus one probe, and returns how long it took.
func (r *rig) waitClosed(clearAt time.Time) time.Duration {
	r.t.Helper()
	poll(r.t, "the breaker to close", func() bool {
		return r.closedAt.Load() > clearAt.UnixNano() && r.state() == "closed"
	})
	d := time.Unix(0, r.closedAt.Load()).Sub(clearAt)
	require.LessOrEqual(r.t, d, openTimeout+publishTimeout+probeEvery+slack)
	return d
}

// rehearThenClose waits, after a fault that dropped the subscriber's
// connection, for it to resubscribe (more confirmations than resubs0) and
// hear two more rounds, then closes the session.
func (r *rig) rehearThenClose(resubs0 int) {
	r.t.Helper()
	poll(r.t, "the subscriber to resubscribe", func() bool {
		_, resubs := r.sub.counts()
		return resubs > resubs0
	})
	recv0, _ := r.sub.counts()
	poll(r.t, "two rounds to reach the subscriber", func() bool {
		recv, _ := r.sub.counts()
		return recv-recv0 >= 2*len(r.ins)
	})
	r.clock.close()
}

// converge waits for the subscriber to hold every instrument's Latest and
// returns the time since clearAt.
func (r *rig) converge(clearAt time.Time) time.Duration {
	r.t.Helper()
	poll(r.t, "the subscriber to converge", func() bool {
		n, _ := r.sub.mismatches(r.eng)
		return n == 0
	})
	return time.Since(clearAt)
}

// finishConverged stops the engine (see finish), checks that the
// subscriber still holds every Latest and decoded every message, that no
// publish waited past PublishTimeout (plus go-redis's return) and no emit
// blocked, and returns the stats and those two longest durations.
func (r *rig) finishConverged() (s ticker.Stats, longestPublish, longestEmit time.Duration) {
	r.t.Helper()
	s = r.finish()
	n, first := r.sub.mismatches(r.eng)
	require.Zero(r.t, n, "after Run returned: %s", first)
	require.Empty(r.t, r.sub.badMsgs)
	longestPublish = time.Duration(r.pub.longest.Load())
	longestEmit = time.Duration(r.src.longest.Load())
	require.LessOrEqual(r.t, longestPublish, publishBound)
	require.LessOrEqual(r.t, longestEmit, emitBound)
	return s, longestPublish, longestEmit
}

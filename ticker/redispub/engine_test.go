package redispub_test

// The engine streaming into a real Redis through the publisher, watched by
// a plain go-redis subscriber. These tests use real time: sockets are not
// durably blocking inside a testing/synctest bubble. Every wait polls a
// condition with a deadline; none sleeps and hopes.

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/steadfast-go/steadfast/breaker"
	"github.com/steadfast-go/steadfast/internal/redistest"
	"github.com/steadfast-go/steadfast/ticker"
	"github.com/steadfast-go/steadfast/ticker/market"
	"github.com/steadfast-go/steadfast/ticker/redispub"
)

// pacedSource emits one tick for every instrument each round while it is
// not paused, and records the longest emit call.
type pacedSource struct {
	ins     []ticker.Instrument
	every   time.Duration
	paused  atomic.Bool
	rounds  atomic.Int64
	longest atomic.Int64 // nanoseconds
}

func (s *pacedSource) Run(ctx context.Context, emit func(ticker.Tick)) error {
	tk := time.NewTicker(s.every)
	defer tk.Stop()
	for n := 1; ; n++ {
		select {
		case <-ctx.Done():
			return nil
		case <-tk.C:
		}
		if s.paused.Load() {
			continue
		}
		for i, in := range s.ins {
			p := 100 + float64(n) + 0.05*float64(i) // on the tick grid, with float noise
			start := time.Now()
			emit(ticker.Tick{Token: in.Token, LastPrice: p, Bid: p - 0.05, Ask: p + 0.05,
				Volume: uint64(n), Time: time.Now(), Mock: true})
			if d := int64(time.Since(start)); d > s.longest.Load() {
				s.longest.Store(d)
			}
		}
		s.rounds.Add(1)
	}
}

func (*pacedSource) Subscribe(add, remove []ticker.Instrument) error { return nil }

// universe lists n options of each of two underlyings.
func universe(n int) []ticker.Instrument {
	var out []ticker.Instrument
	for u, name := range []string{"NIFTY", "BANKNIFTY"} {
		for i := range n {
			out = append(out, ticker.Instrument{
				Token: uint32(100_000*(u+1) + i + 1), Symbol: fmt.Sprintf("%s%dCE", name, i),
				Exchange: "NFO", Segment: "NFO-OPT", Underlying: name, Kind: ticker.KindCall,
				Strike: float64(20000 + 50*i), Expiry: time.Date(2099, 1, 1, 0, 0, 0, 0, market.IST()),
				LotSize: 65, TickSize: 0.05,
			})
		}
	}
	return out
}

// listener is a plain go-redis subscriber to the test's channels that
// counts messages per channel and keeps the last price per token.
type listener struct {
	mu     sync.Mutex
	count  map[string]int
	last   map[uint32]float64
	errors int
}

func listen(t *testing.T, c *redis.Client, pattern string) *listener {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ps := c.PSubscribe(ctx, pattern)
	if _, err := ps.Receive(ctx); err != nil { // the subscription's confirmation
		t.Fatal(err)
	}
	l := &listener{count: map[string]int{}, last: map[uint32]float64{}}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for msg := range ps.Channel() {
			m, err := redispub.Decode([]byte(msg.Payload))
			l.mu.Lock()
			if err != nil {
				l.errors++
			} else {
				l.count[msg.Channel]++
				l.last[m.Tick.Token] = m.Tick.LastPrice
			}
			l.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		cancel()
		ps.Close()
		<-done
	})
	return l
}

func (l *listener) total() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, c := range l.count {
		n += c
	}
	return n
}

// eventually polls cond every 10ms until it holds or d passes.
func eventually(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", d, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// paise returns a price in paise, as a payload carries it.
func paise(f float64) int64 { return int64(math.Round(f * 100)) }

// fastClient is a client for the engine: no retries of its own, so that a
// dead server fails a batch at once and the breaker decides.
func fastClient(t *testing.T, addr string) *redis.Client {
	return newClient(t, addr, func(o *redis.Options) {
		o.MaxRetries = -1
		o.DialerRetries = 1
		o.DialTimeout = 100 * time.Millisecond
	})
}

func TestEngineSubscriberReceivesExactlyThePublishedTicks(t *testing.T) {
	addr := redistest.Addr(t)
	pfx := prefix(t)
	l := listen(t, newClient(t, addr), pfx+"*")
	pub := newPublisher(t, fastClient(t, addr), redispub.Config{Prefix: pfx})
	perUnderlying := map[string]int{}
	var mu sync.Mutex
	counting := ticker.PublisherFunc(func(ctx context.Context, ticks []ticker.Tick) error {
		if err := pub.Publish(ctx, ticks); err != nil {
			return err
		}
		mu.Lock()
		for _, tk := range ticks {
			perUnderlying[tk.Instrument.Underlying]++
		}
		mu.Unlock()
		return nil
	})
	ins := universe(100)
	src := &pacedSource{ins: ins, every: 5 * time.Millisecond}
	eng, err := ticker.New(ticker.Config{
		Source: src, Publisher: counting,
		Instruments: func(context.Context) ([]ticker.Instrument, error) { return ins, nil },
		Logger:      slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- eng.Run(ctx) }()
	eventually(t, 10*time.Second, "20 rounds streamed", func() bool { return src.rounds.Load() >= 20 })
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	s := eng.Stats()
	if s.Produced != s.Published+s.Conflated+s.Invalid+s.Dropped.Total()+s.Pending || s.Dropped.Total() != 0 {
		t.Fatalf("stats %+v", s)
	}
	eventually(t, 5*time.Second, "the subscriber received every published tick", func() bool {
		return uint64(l.total()) >= s.Published
	})
	received := l.total()
	l.mu.Lock()
	defer l.mu.Unlock()
	if uint64(received) != s.Published || l.errors != 0 {
		t.Fatalf("received %d (%d undecodable), published %d", received, l.errors, s.Published)
	}
	for u, n := range perUnderlying {
		if got := l.count[pfx+u]; got != n {
			t.Errorf("channel %s: received %d, engine published %d", pfx+u, got, n)
		}
	}
	for _, in := range ins {
		want, _ := eng.Latest(in.Token)
		if got := l.last[in.Token]; paise(got) != paise(want.LastPrice) {
			t.Errorf("token %d: last received %v, Latest %v", in.Token, got, want.LastPrice)
		}
	}
}

func TestEngineRedisKilledMidStream(t *testing.T) {
	srv := redistest.Start(t)
	pfx := prefix(t)
	l := listen(t, newClient(t, srv.Addr()), pfx+"*")
	pub := newPublisher(t, fastClient(t, srv.Addr()), redispub.Config{Prefix: pfx})
	ins := universe(250)
	src := &pacedSource{ins: ins, every: 10 * time.Millisecond}
	const openTimeout = 1500 * time.Millisecond
	eng, err := ticker.New(ticker.Config{
		Source: src, Publisher: pub,
		Instruments:    func(context.Context) ([]ticker.Instrument, error) { return ins, nil },
		PublishTimeout: 200 * time.Millisecond,
		Breaker:        breaker.Config{FailureThreshold: 3, OpenTimeout: openTimeout},
		Logger:         slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- eng.Run(ctx) }()
	defer func() {
		stop()
		if err := <-done; err != nil {
			t.Error(err)
		}
		s := eng.Stats()
		if s.Produced != s.Published+s.Conflated+s.Invalid+s.Dropped.Total()+s.Pending {
			t.Errorf("identity broken: %+v", s)
		}
	}()
	eventually(t, 10*time.Second, "streaming", func() bool { return eng.Stats().Published > uint64(len(ins)) })

	srv.Kill()
	killed := time.Now()
	eventually(t, 5*time.Second, "the breaker opened", func() bool { return eng.Health().Breaker == "open" })
	openedAfter := time.Since(killed)
	r0 := src.rounds.Load()
	eventually(t, 5*time.Second, "the source kept its pace during the outage", func() bool { return src.rounds.Load() >= r0+20 })
	if l := time.Duration(src.longest.Load()); l > 50*time.Millisecond {
		t.Errorf("an emit took %v: it waited", l)
	}
	dropped := eng.Stats().Dropped
	if dropped.CircuitOpen == 0 || dropped.PublishFailed == 0 {
		t.Errorf("drops %+v: want both reasons", dropped)
	}
	if h := eng.Health(); h.Status != "degraded" || h.Breaker != "open" {
		t.Errorf("health during the outage: %+v", h)
	}

	// The instruments stop ticking, then Redis comes back: only the
	// catch-up can bring the subscriber to the latest prices.
	src.paused.Store(true)
	srv.Restart()
	restarted := time.Now()
	check := newClient(t, srv.Addr())
	eventually(t, 5*time.Second, "the subscriber is back", func() bool {
		n, err := check.PubSubNumPat(context.Background()).Result()
		return err == nil && n > 0
	})
	eventually(t, openTimeout+5*time.Second, "the breaker closed", func() bool {
		return eng.Health().Breaker == "closed"
	})
	closedAfter := time.Since(restarted)
	eventually(t, 5*time.Second, "the subscriber converged to Latest", func() bool {
		l.mu.Lock()
		defer l.mu.Unlock()
		for _, in := range ins {
			want, _ := eng.Latest(in.Token)
			if paise(l.last[in.Token]) != paise(want.LastPrice) {
				return false
			}
		}
		return true
	})
	s := eng.Stats()
	if s.CatchUp == 0 {
		t.Errorf("no catch-up: %+v", s)
	}
	t.Logf("opened %v after the kill; closed %v after the restart (open timeout %v); drops %+v; catch-up %d",
		openedAfter.Round(time.Millisecond), closedAfter.Round(time.Millisecond), openTimeout, s.Dropped, s.CatchUp)
	if !strings.Contains(eng.Health().Status, "ok") {
		t.Errorf("health after recovery: %+v", eng.Health())
	}
}

// TestEngineDefaultBreakerResumesSoonAfterAnOutage: with the engine's
// default breaker (1s, growing by 1.2× up to 60s), a Redis killed for 8s
// and restarted is published to again within 3s of the restart, where a
// fixed 60s open period made it wait out the minute. The 8s outage is real
// time: the server is a real process.
func TestEngineDefaultBreakerResumesSoonAfterAnOutage(t *testing.T) {
	srv := redistest.Start(t)
	pub := newPublisher(t, fastClient(t, srv.Addr()), redispub.Config{Prefix: prefix(t)})
	ins := universe(50)
	src := &pacedSource{ins: ins, every: 10 * time.Millisecond}
	eng, err := ticker.New(ticker.Config{
		Source: src, Publisher: pub,
		Instruments:    func(context.Context) ([]ticker.Instrument, error) { return ins, nil },
		PublishTimeout: 200 * time.Millisecond,
		Logger:         slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- eng.Run(ctx) }()
	defer func() {
		stop()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	eventually(t, 10*time.Second, "streaming", func() bool { return eng.Stats().Published > uint64(len(ins)) })

	srv.Kill()
	eventually(t, 10*time.Second, "the breaker opened", func() bool { return eng.Health().Breaker == "open" })
	<-time.After(8 * time.Second) // the outage
	srv.Restart()
	restarted := time.Now()
	next := eng.Health().NextProbe
	if next.IsZero() {
		next = restarted // half-open already: the probe is due now
	}
	published := eng.Stats().Published
	eventually(t, 20*time.Second, "publishing resumed", func() bool { return eng.Stats().Published > published })
	resumed := time.Since(restarted)
	t.Logf("next probe %v after the restart; publishing resumed %v after it",
		next.Sub(restarted).Round(time.Millisecond), resumed.Round(time.Millisecond))
	// The breaker's schedule is the engine's promise; the resume itself
	// also waits for the machine, so it gets a loaded machine's margin.
	if d := next.Sub(restarted); d > 3*time.Second {
		t.Errorf("the next probe was due %v after the restart, want ≤ 3s", d)
	}
	if resumed > 10*time.Second {
		t.Errorf("publishing resumed %v after the restart", resumed)
	}
}

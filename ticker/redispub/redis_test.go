package redispub_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/steadfast-go/steadfast/internal/logtest"
	"github.com/steadfast-go/steadfast/internal/metrictest"
	"github.com/steadfast-go/steadfast/internal/redistest"
	"github.com/steadfast-go/steadfast/ticker"
	"github.com/steadfast-go/steadfast/ticker/redispub"
)

// wait bounds every wait for Redis in these tests.
const wait = 5 * time.Second

// newClient returns a go-redis client for addr, closed when the test ends.
func newClient(t testing.TB, addr string, mod ...func(*redis.Options)) *redis.Client {
	t.Helper()
	o := &redis.Options{Addr: addr, ContextTimeoutEnabled: true}
	for _, f := range mod {
		f(o)
	}
	c := redis.NewClient(o)
	t.Cleanup(func() { c.Close() })
	return c
}

// newPublisher returns a Publisher over c for cfg, failing the test on error.
func newPublisher(t testing.TB, c redis.UniversalClient, cfg redispub.Config) *redispub.Publisher {
	t.Helper()
	cfg.Client = c
	p, err := redispub.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// prefix returns a channel and key prefix no other test (or other run on the
// shared Redis) uses.
func prefix(t testing.TB) string {
	return fmt.Sprintf("test:%s:%d:", t.Name(), time.Now().UnixNano())
}

// chain returns an index, a future, a call and a put of underlying u, with
// tokens from base.
func chain(u string, base uint32) []*ticker.Instrument {
	return []*ticker.Instrument{
		{Token: base, Symbol: u + " 50", Exchange: "NSE", Underlying: u, Kind: ticker.KindIndex},
		{Token: base + 1, Symbol: u + "25DECFUT", Exchange: "NFO", Underlying: u, Kind: ticker.KindFuture, Expiry: expiry},
		{Token: base + 2, Symbol: u + "25D3024000CE", Exchange: "NFO", Underlying: u, Kind: ticker.KindCall, Strike: 24000, Expiry: expiry},
		{Token: base + 3, Symbol: u + "25D3024000PE", Exchange: "NFO", Underlying: u, Kind: ticker.KindPut, Strike: 24000, Expiry: expiry},
	}
}

// tickOf returns the n-th tick of in; its prices grow with n.
func tickOf(in *ticker.Instrument, n int) ticker.Tick {
	f := float64(n)
	tk := ticker.Tick{
		Token: in.Token, LastPrice: 100 + f, Volume: uint64(1000 + n), OpenInterest: uint64(n),
		Bid: 99.95 + f, Ask: 100.05 + f, BidQty: 75, AskQty: 150, Change: 0.01 * f,
		Time: tickAt.Add(time.Duration(n) * time.Millisecond), Mock: true, Instrument: in,
	}
	if in.Kind.IsOption() {
		tk.IV, tk.Delta, tk.Gamma, tk.Theta, tk.Vega = 0.15, 0.5, 0.0004, -12, 8
	}
	return tk
}

// subscribe subscribes to channels (SSUBSCRIBE when sharded) and waits for
// every confirmation. The subscription is closed when the test ends.
func subscribe(t testing.TB, c *redis.Client, sharded bool, channels ...string) *redis.PubSub {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	var ps *redis.PubSub
	if sharded {
		ps = c.SSubscribe(ctx, channels...)
	} else {
		ps = c.Subscribe(ctx, channels...)
	}
	t.Cleanup(func() { ps.Close() })
	for range channels {
		msg, err := ps.Receive(ctx)
		if err != nil {
			t.Fatalf("subscribe: %v", err)
		}
		if _, ok := msg.(*redis.Subscription); !ok {
			t.Fatalf("subscribe: got %T before the confirmations", msg)
		}
	}
	return ps
}

// receive returns the next n messages, decoded, grouped by channel.
func receive(t testing.TB, ps *redis.PubSub, n int) map[string][]redispub.Message {
	t.Helper()
	got := map[string][]redispub.Message{}
	for range n {
		v, err := ps.ReceiveTimeout(context.Background(), wait)
		if err != nil {
			t.Fatalf("receive: %v (after %v)", err, got)
		}
		msg, ok := v.(*redis.Message)
		if !ok {
			t.Fatalf("receive: got %T", v)
		}
		m, err := redispub.Decode([]byte(msg.Payload))
		if err != nil {
			t.Fatalf("receive on %s: %v", msg.Channel, err)
		}
		got[msg.Channel] = append(got[msg.Channel], m)
	}
	return got
}

// checkMessages asserts that got holds exactly want's ticks, per channel, in
// order.
func checkMessages(t testing.TB, got map[string][]redispub.Message, want map[string][]ticker.Tick) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("messages on %d channels, want %d", len(got), len(want))
	}
	for ch, ticks := range want {
		ms := got[ch]
		if len(ms) != len(ticks) {
			t.Errorf("%s: %d messages, want %d", ch, len(ms), len(ticks))
			continue
		}
		for i, tk := range ticks {
			if w := wantMessage(tk); !sameMessage(ms[i], w) {
				t.Errorf("%s[%d]:\n got %+v\nwant %+v", ch, i, ms[i], w)
			}
		}
	}
}

// publish calls p.Publish with a bounded context.
func publish(p *redispub.Publisher, ticks []ticker.Tick) error {
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	return p.Publish(ctx, ticks)
}

func TestPublishOneChannelPerUnderlying(t *testing.T) {
	c := newClient(t, redistest.Addr(t))
	pre := prefix(t)
	p := newPublisher(t, c, redispub.Config{Prefix: pre})
	ps := subscribe(t, c, false, pre+"NIFTY", pre+"BANKNIFTY", pre+redispub.Fallback)

	nifty, bank := chain("NIFTY", 100), chain("BANKNIFTY", 200)
	want := map[string][]ticker.Tick{}
	var batches [][]ticker.Tick
	for b := range 3 {
		var batch []ticker.Tick
		for i, in := range append(append([]*ticker.Instrument{}, nifty...), bank...) {
			tk := tickOf(in, b*10+i)
			batch = append(batch, tk)
			want[pre+in.Underlying] = append(want[pre+in.Underlying], tk)
		}
		bare := ticker.Tick{Token: 999, LastPrice: float64(b + 1)} // no Instrument
		batch = append(batch, bare)
		want[pre+redispub.Fallback] = append(want[pre+redispub.Fallback], bare)
		batches = append(batches, batch)
	}
	n := 0
	for _, batch := range batches {
		if err := publish(p, batch); err != nil {
			t.Fatal(err)
		}
		n += len(batch)
	}
	checkMessages(t, receive(t, ps, n), want)
}

func TestPublishShardedReachesSSubscribe(t *testing.T) {
	c := newClient(t, redistest.Addr(t))
	pre := prefix(t)
	p := newPublisher(t, c, redispub.Config{Prefix: pre, Sharded: true})
	ps := subscribe(t, c, true, pre+"NIFTY")
	plain := subscribe(t, c, false, pre+"NIFTY") // PUBLISH would reach this one

	var batch []ticker.Tick
	for i, in := range chain("NIFTY", 100) {
		batch = append(batch, tickOf(in, i))
	}
	if err := publish(p, batch); err != nil {
		t.Fatal(err)
	}
	checkMessages(t, receive(t, ps, len(batch)), map[string][]ticker.Tick{pre + "NIFTY": batch})

	// The plain subscriber got nothing: a marker PUBLISHed now is the first
	// message it sees.
	if err := c.Publish(context.Background(), pre+"NIFTY", "marker").Err(); err != nil {
		t.Fatal(err)
	}
	v, err := plain.ReceiveTimeout(context.Background(), wait)
	if msg, ok := v.(*redis.Message); err != nil || !ok || msg.Payload != "marker" {
		t.Errorf("plain subscriber received %v, %v; want only the marker", v, err)
	}
}

func TestPublishLatestHash(t *testing.T) {
	c := newClient(t, redistest.Addr(t))
	pre := prefix(t)
	key := pre + "latest"
	t.Cleanup(func() { c.Del(context.Background(), key) })
	p := newPublisher(t, c, redispub.Config{Prefix: pre, LatestKey: key})

	ins := append(chain("NIFTY", 100), chain("BANKNIFTY", 200)...)
	latest := map[uint32]ticker.Tick{}
	for round := range 4 {
		var batch []ticker.Tick
		for i, in := range ins {
			if round > 0 && i%round != 0 { // later rounds update some instruments only
				continue
			}
			tk := tickOf(in, round*100+i)
			batch = append(batch, tk)
			latest[in.Token] = tk
		}
		if err := publish(p, batch); err != nil {
			t.Fatal(err)
		}
	}
	h, err := c.HGetAll(context.Background(), key).Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(h) != len(latest) {
		t.Errorf("hash has %d fields, want %d", len(h), len(latest))
	}
	for token, tk := range latest {
		field := strconv.FormatUint(uint64(token), 10)
		m, err := redispub.Decode([]byte(h[field]))
		if err != nil {
			t.Errorf("field %s: %v", field, err)
			continue
		}
		if w := wantMessage(tk); !sameMessage(m, w) {
			t.Errorf("field %s:\n got %+v\nwant %+v", field, m, w)
		}
	}
}

func TestPublishStreamTrims(t *testing.T) {
	c := newClient(t, redistest.Addr(t))
	pre := prefix(t)
	stream := pre + "NIFTY"
	t.Cleanup(func() { c.Del(context.Background(), stream) })
	const maxLen = 100
	p := newPublisher(t, c, redispub.Config{Prefix: pre, Stream: true, StreamMaxLen: maxLen})

	in := chain("NIFTY", 100)[2]
	var last ticker.Tick
	const batches, size = 10, 256
	for b := range batches {
		batch := make([]ticker.Tick, size)
		for i := range batch {
			batch[i] = tickOf(in, b*size+i)
		}
		if err := publish(p, batch); err != nil {
			t.Fatal(err)
		}
		last = batch[size-1]
	}
	ctx := context.Background()
	n, err := c.XLen(ctx, stream).Result()
	if err != nil {
		t.Fatal(err)
	}
	// "~" trims whole nodes (stream-node-max-entries, 100 by default), so up
	// to one node more than asked may stay.
	if n < maxLen || n > 2*maxLen {
		t.Errorf("stream holds %d entries after %d XADDs with MAXLEN ~ %d", n, batches*size, maxLen)
	}
	xs, err := c.XRevRangeN(ctx, stream, "+", "-", 1).Result()
	if err != nil || len(xs) != 1 {
		t.Fatalf("XREVRANGE: %v, %v", xs, err)
	}
	if len(xs[0].Values) != 1 {
		t.Errorf("entry has fields %v, want only data", xs[0].Values)
	}
	data, _ := xs[0].Values["data"].(string)
	m, err := redispub.Decode([]byte(data))
	if err != nil {
		t.Fatal(err)
	}
	if w := wantMessage(last); !sameMessage(m, w) {
		t.Errorf("last entry:\n got %+v\nwant %+v", m, w)
	}
}

func TestPublishChannelFunc(t *testing.T) {
	c := newClient(t, redistest.Addr(t))
	pre := prefix(t)
	var logs logtest.Buffer
	reg := prometheus.NewRegistry()
	ins := chain("NIFTY", 100)
	p := newPublisher(t, c, redispub.Config{
		Prefix: pre, Name: "feed", Registerer: reg,
		Logger: slog.New(slog.NewJSONHandler(&logs, nil)),
		Channel: func(tk *ticker.Tick) string {
			switch {
			case tk.Instrument == nil:
				return pre + "bare"
			case tk.Instrument.Kind.IsOption():
				return pre + "options"
			case tk.Instrument.Kind == ticker.KindFuture:
				panic("no channel for futures")
			}
			return "" // the default
		},
	})
	ps := subscribe(t, c, false, pre+"bare", pre+"options", pre+"NIFTY")
	var batch []ticker.Tick
	for i, in := range ins {
		batch = append(batch, tickOf(in, i))
	}
	bare := ticker.Tick{Token: 5, LastPrice: 1}
	batch = append(batch, bare)
	if err := publish(p, batch); err != nil {
		t.Fatal(err)
	}
	checkMessages(t, receive(t, ps, len(batch)), map[string][]ticker.Tick{
		pre + "bare":    {bare},
		pre + "options": {batch[2], batch[3]},
		pre + "NIFTY":   {batch[0], batch[1]}, // the index by default, the future after the panic
	})
	out := logs.String()
	for _, s := range []string{`"component":"redispub"`, `"name":"feed"`, `"panic":"no channel for futures"`, `"stack":"goroutine`} {
		if !strings.Contains(out, s) {
			t.Errorf("log lacks %s:\n%s", s, out)
		}
	}
	if v, err := metrictest.Value(reg, "steadfast_redispub_callback_panics_total", metrictest.Labels{"name": "feed"}); err != nil || v != 1 {
		t.Errorf("callback_panics_total = %v, %v; want 1", v, err)
	}
	if v, err := metrictest.Value(reg, "steadfast_redispub_payload_bytes_total", nil); err != nil || v < 100*float64(len(batch)) {
		t.Errorf("payload_bytes_total = %v, %v; want the payloads' size", v, err)
	}
}

func TestPublishExpiredContext(t *testing.T) {
	c := newClient(t, redistest.Addr(t))
	pre := prefix(t)
	p := newPublisher(t, c, redispub.Config{Prefix: pre})
	ps := subscribe(t, c, false, pre+"NIFTY")
	tk := tickOf(chain("NIFTY", 100)[0], 1)

	ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	err := p.Publish(ctx, []ticker.Tick{tk})
	var pe *redispub.PublishError
	if !errors.Is(err, context.DeadlineExceeded) || !errors.As(err, &pe) || pe.Ticks != 1 {
		t.Fatalf("Publish with an expired context = %v, want a PublishError wrapping DeadlineExceeded", err)
	}
	// Nothing was sent: the next message is the one published next.
	next := tickOf(chain("NIFTY", 100)[0], 2)
	if err := publish(p, []ticker.Tick{next}); err != nil {
		t.Fatal(err)
	}
	checkMessages(t, receive(t, ps, 1), map[string][]ticker.Tick{pre + "NIFTY": {next}})
}

// A server that stops answering (SIGSTOP) holds a batch only until its
// deadline: the client's own 3 s read timeout does not apply.
func TestPublishHonoursDeadlineOnHungServer(t *testing.T) {
	s := redistest.Start(t)
	c := newClient(t, s.Addr(), failFast)
	p := newPublisher(t, c, redispub.Config{})
	batch := []ticker.Tick{tickOf(chain("NIFTY", 100)[0], 1)}
	if err := publish(p, batch); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(s.Pid(), syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Kill(s.Pid(), syscall.SIGCONT) })

	const deadline = 200 * time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	start := time.Now()
	err := p.Publish(ctx, batch)
	took := time.Since(start)
	if err == nil {
		t.Fatal("Publish to a stopped server succeeded")
	}
	if took > 2*time.Second { // far below the client's 3 s read timeout
		t.Errorf("Publish took %v with a %v deadline: %v", took, deadline, err)
	}
	t.Logf("stopped server: %v after %v", err, took)
}

// failFast is the client setting the package documentation recommends
// under an engine: no retries of its own, one dial attempt.
func failFast(o *redis.Options) { o.MaxRetries, o.DialerRetries = -1, 1 }

func TestPublishKilledServerThenRestart(t *testing.T) {
	s := redistest.Start(t)
	c := newClient(t, s.Addr(), failFast)
	sc := newClient(t, s.Addr()) // the subscriber's
	pre := prefix(t)
	p := newPublisher(t, c, redispub.Config{Prefix: pre})
	ins := chain("NIFTY", 100)
	batch := func(n int) []ticker.Tick {
		var b []ticker.Tick
		for i, in := range ins {
			b = append(b, tickOf(in, n+i))
		}
		return b
	}
	if err := publish(p, batch(0)); err != nil {
		t.Fatal(err)
	}

	s.Kill()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	start := time.Now()
	err := p.Publish(ctx, batch(10))
	t.Logf("killed server: %v after %v", err, time.Since(start))
	var pe *redispub.PublishError
	if !errors.As(err, &pe) {
		t.Fatalf("Publish to a killed server = %v, want a *PublishError", err)
	}
	if ctx.Err() != nil {
		t.Errorf("Publish to a killed server ran out its 1s deadline: %v", err)
	}
	if pe.Failed != len(ins) || pe.Commands != len(ins) {
		t.Errorf("Failed %d of %d commands, want %d of %d", pe.Failed, pe.Commands, len(ins), len(ins))
	}
	if !errors.Is(err, syscall.ECONNREFUSED) || !strings.Contains(err.Error(), "connection refused") ||
		!strings.Contains(err.Error(), fmt.Sprintf("%d of %d commands failed", len(ins), len(ins))) {
		t.Errorf("error %q does not name the cause and the count", err)
	}

	s.Restart()
	ps := subscribe(t, sc, false, pre+"NIFTY")
	want := batch(20)
	if err := publish(p, want); err != nil {
		t.Fatalf("Publish after Restart: %v", err)
	}
	checkMessages(t, receive(t, ps, len(want)), map[string][]ticker.Tick{pre + "NIFTY": want})
}

// A Redis error reply fails only its own command; the error names it, the
// cause and the count.
func TestPublishRedisErrors(t *testing.T) {
	t.Run("NOAUTH", func(t *testing.T) {
		s := redistest.Start(t, "--requirepass", "secret")
		p := newPublisher(t, newClient(t, s.Addr()), redispub.Config{})
		err := publish(p, []ticker.Tick{tickOf(chain("NIFTY", 100)[0], 1)})
		if err == nil || !strings.Contains(err.Error(), "NOAUTH") {
			t.Errorf("Publish without the password = %v, want NOAUTH", err)
		}
		var pe *redispub.PublishError
		if !errors.As(err, &pe) || pe.Failed != 1 {
			t.Errorf("Publish without the password = %#v, want a PublishError with 1 failure", err)
		}
	})
}

func TestNewRefusesBadConfig(t *testing.T) {
	ctxOff := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	defer ctxOff.Close()
	ok := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", ContextTimeoutEnabled: true})
	defer ok.Close()
	cluster := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{"127.0.0.1:1"}})
	defer cluster.Close()
	for _, c := range []struct {
		cfg  redispub.Config
		says string
	}{
		{redispub.Config{}, "Config.Client is nil"},
		{redispub.Config{Client: ctxOff}, "ContextTimeoutEnabled"},
		{redispub.Config{Client: cluster}, "ContextTimeoutEnabled"},
		{redispub.Config{Client: ok, Stream: true, StreamMaxLen: -1}, "Config.StreamMaxLen is -1"},
		{redispub.Config{Client: ok, Stream: true, Sharded: true}, "Config.Sharded and Config.Stream"},
	} {
		p, err := redispub.New(c.cfg)
		if err == nil || !strings.Contains(err.Error(), c.says) {
			t.Errorf("New(%+v) = %v, %v; want an error saying %q", c.cfg, p, err, c.says)
		}
	}
	reg := prometheus.NewRegistry()
	if _, err := redispub.New(redispub.Config{Client: ok, Name: "a", Registerer: reg}); err != nil {
		t.Fatal(err)
	}
	_, err := redispub.New(redispub.Config{Client: ok, Name: "a", Registerer: reg})
	var are prometheus.AlreadyRegisteredError
	if !errors.As(err, &are) || !strings.Contains(err.Error(), `redispub: metrics for name "a" are already registered`) {
		t.Errorf("second New with the same name = %v", err)
	}
	if _, err := redispub.New(redispub.Config{Client: ok, Name: "b", Registerer: reg}); err != nil {
		t.Errorf("New with another name: %v", err)
	}
}

func TestPublishEmptyBatch(t *testing.T) {
	// No Redis needed: an empty batch sends nothing.
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", ContextTimeoutEnabled: true})
	defer c.Close()
	p, err := redispub.New(redispub.Config{Client: c})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Publish(context.Background(), nil); err != nil {
		t.Errorf("Publish(nil) = %v", err)
	}
}

// Publish may be called from several goroutines at once; each batch
// arrives whole and uncorrupted.
func TestPublishConcurrent(t *testing.T) {
	c := newClient(t, redistest.Addr(t))
	pre := prefix(t)
	p := newPublisher(t, c, redispub.Config{Prefix: pre, LatestKey: pre + "latest"})
	t.Cleanup(func() { c.Del(context.Background(), pre+"latest") })
	ps := subscribe(t, c, false, pre+"NIFTY", pre+"BANKNIFTY")
	const writers, batches = 4, 20
	errs := make(chan error, writers)
	for w := range writers {
		go func() {
			ins := chain([]string{"NIFTY", "BANKNIFTY"}[w%2], uint32(1000*(w+1)))
			for n := range batches {
				var b []ticker.Tick
				for i, in := range ins {
					b = append(b, tickOf(in, n*10+i))
				}
				if err := publish(p, b); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range writers {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	got := receive(t, ps, writers*batches*4)
	// Per token, the ticks arrive in the order their writer sent them.
	// tickOf(in, n) has LastPrice 100+n, and batch k sends n = 10k + index.
	next := map[uint32]int{}
	for _, ms := range got {
		for _, m := range ms {
			tk := m.Tick
			n := int(tk.LastPrice) - 100
			want, seen := next[tk.Token]
			if !seen {
				want = n % 10 // the first batch's
			}
			if n != want {
				t.Fatalf("token %d: tick %d arrived, want %d", tk.Token, n, want)
			}
			next[tk.Token] = n + 10
		}
	}
	if len(next) != writers*4 {
		t.Errorf("ticks of %d tokens arrived, want %d", len(next), writers*4)
	}
	for token, n := range next {
		if n/10 != batches {
			t.Errorf("token %d: %d ticks arrived, want %d", token, n/10, batches)
		}
	}
}

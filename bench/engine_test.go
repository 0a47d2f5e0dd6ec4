package bench

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/redis/go-redis/v9"

	"github.com/steadfast-go/steadfast/ticker"
	"github.com/steadfast-go/steadfast/ticker/market"
	"github.com/steadfast-go/steadfast/ticker/redispub"
)

// The engine's emit path against the two designs a Go engineer would write
// by hand: (a) a buffered channel of 65,536 ticks drained into batches of
// 256 by one goroutine, and (b) one mutex over a latest-value map that a
// flusher swaps out every 2 ms. Every contender publishes to a publisher
// that accepts at once, over 5,000 instruments.
//
// Then the engine with ticker/redispub into the local Redis, against a
// plain go-redis pipelined PUBLISH loop of the same payloads; the source's
// tick rate with Redis up and down; and the latency from emit to Publish
// and to a subscriber at the real feed's load. engine.md has the commands
// and the results.

const emitInstruments = 5000

// captureSource is a Source that hands its emit function to the benchmark.
type captureSource struct{ emit chan func(ticker.Tick) }

func (c *captureSource) Run(ctx context.Context, emit func(ticker.Tick)) error {
	select {
	case c.emit <- emit:
	default:
	}
	<-ctx.Done()
	return nil
}

func (*captureSource) Subscribe(add, remove []ticker.Instrument) error { return nil }

// universe returns n option instruments on two underlyings, with the
// trading symbols a real chain has (they are in every payload).
func universe(n int) []ticker.Instrument {
	ins := make([]ticker.Instrument, n)
	expiry := time.Date(2099, 1, 1, 0, 0, 0, 0, market.IST())
	for i := range ins {
		u, kind, code := "NIFTY", ticker.KindCall, "CE"
		if i%2 == 1 {
			u = "BANKNIFTY"
		}
		if i%4 >= 2 {
			kind, code = ticker.KindPut, "PE"
		}
		strike := float64(20000 + 50*(i/4))
		ins[i] = ticker.Instrument{Token: uint32(i + 1), Symbol: fmt.Sprintf("%s99JAN%.0f%s", u, strike, code),
			Exchange: "NFO", Segment: "NFO-OPT", Underlying: u, Kind: kind, Strike: strike,
			Expiry: expiry, LotSize: 75, TickSize: 0.05}
	}
	return ins
}

func emitUniverse() []ticker.Instrument { return universe(emitInstruments) }

func benchTick(i int) ticker.Tick {
	p := 100 + float64(i%97)
	return ticker.Tick{Token: uint32(i%emitInstruments + 1), LastPrice: p, Bid: p - 0.05, Ask: p + 0.05,
		Volume: uint64(i), IV: 0.15, Delta: 0.5}
}

// tickTime is the exchange time of richTick's ticks.
var tickTime = time.Date(2026, 12, 3, 10, 15, 0, 0, market.IST())

// richTick is the r-th tick of the j-th of n instruments, shaped like the
// mock's: prices in paise, analytics at full float64 precision, an
// exchange time. Its payload is about 420 bytes.
func richTick(j, r, n int) ticker.Tick {
	p := 100 + float64((j*7+r)%997)*0.05
	x := float64(j%101) + float64(r%13)/17
	return ticker.Tick{Token: uint32(j + 1), LastPrice: p, Bid: p - 0.05, Ask: p + 0.05, BidQty: 75, AskQty: 150,
		Volume: uint64(r*n + j + 1), OpenInterest: 123450, Change: -1.234 + x/100,
		Time: tickTime.Add(time.Duration(r) * time.Second),
		IV:   0.1432198 + x/1e4, Delta: 0.52134567 - x/1e3, Gamma: 0.000412345 + x/1e7,
		Theta: -12.8712345 + x/100, Vega: 8.93123456 + x/1000}
}

// engineConfig is the engine's Config for the benchmarks: the defaults,
// over a capture source and n instruments of universe.
func engineConfig(src ticker.Source, pub ticker.Publisher, ins []ticker.Instrument) ticker.Config {
	return ticker.Config{
		Source: src, Publisher: pub,
		Instruments: func(context.Context) ([]ticker.Instrument, error) { return ins, nil },
		Logger:      slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
}

// runEngine runs an engine for cfg (its Source replaced by a capture
// source) and returns its emit function and a stop function that ends Run
// and waits for it.
func runEngine(tb testing.TB, cfg ticker.Config) (emit func(ticker.Tick), eng *ticker.Engine, stop func()) {
	tb.Helper()
	src := &captureSource{emit: make(chan func(ticker.Tick), 1)}
	cfg.Source = src
	eng, err := ticker.New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- eng.Run(ctx) }()
	emit = <-src.emit
	return emit, eng, func() {
		cancel()
		if err := <-done; err != nil {
			tb.Error(err)
		}
	}
}

// startEngine runs an engine over emitUniverse and returns its emit.
func startEngine(tb testing.TB, pub ticker.Publisher) (emit func(ticker.Tick), eng *ticker.Engine, stop func()) {
	tb.Helper()
	return runEngine(tb, engineConfig(nil, pub, emitUniverse()))
}

// counting is a publisher that accepts at once and counts the ticks.
type counting struct{ n atomic.Int64 }

func (c *counting) Publish(_ context.Context, ts []ticker.Tick) error {
	c.n.Add(int64(len(ts)))
	return nil
}

// chanEmitter is design (a): a buffered channel drained by one goroutine
// into batches of 256. Its emit blocks while the channel is full; blocked
// counts the emits that found it full (each then waits for room).
type chanEmitter struct {
	ch      chan ticker.Tick
	done    chan struct{}
	blocked atomic.Int64
}

func newChanEmitter(pub ticker.Publisher) *chanEmitter {
	c := &chanEmitter{ch: make(chan ticker.Tick, 65536), done: make(chan struct{})}
	go func() {
		defer close(c.done)
		batch := make([]ticker.Tick, 0, 256)
		for t := range c.ch {
			batch = append(batch, t)
		fill:
			for len(batch) < 256 {
				select {
				case t, ok := <-c.ch:
					if !ok {
						break fill
					}
					batch = append(batch, t)
				default:
					break fill
				}
			}
			_ = pub.Publish(context.Background(), batch)
			batch = batch[:0]
		}
	}()
	return c
}

func (c *chanEmitter) emit(t ticker.Tick) {
	select {
	case c.ch <- t:
	default: // full: count it, then block as the plain design does
		c.blocked.Add(1)
		c.ch <- t
	}
}

func (c *chanEmitter) stop() { close(c.ch); <-c.done }

// mapEmitter is design (b): one mutex over a latest-value map, swapped out
// by a flusher every 2 ms.
type mapEmitter struct {
	mu      sync.Mutex
	m       map[uint32]ticker.Tick
	spare   map[uint32]ticker.Tick
	quit    chan struct{}
	done    chan struct{}
	flushes atomic.Int64
}

func newMapEmitter(pub ticker.Publisher) *mapEmitter {
	e := &mapEmitter{m: make(map[uint32]ticker.Tick, emitInstruments), spare: make(map[uint32]ticker.Tick, emitInstruments),
		quit: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(e.done)
		tk := time.NewTicker(2 * time.Millisecond)
		defer tk.Stop()
		batch := make([]ticker.Tick, 0, 256)
		for {
			select {
			case <-e.quit:
				return
			case <-tk.C:
			}
			e.mu.Lock()
			full := e.m
			e.m, e.spare = e.spare, nil
			e.mu.Unlock()
			for _, t := range full {
				batch = append(batch, t)
				if len(batch) == 256 {
					_ = pub.Publish(context.Background(), batch)
					batch = batch[:0]
				}
			}
			if len(batch) > 0 {
				_ = pub.Publish(context.Background(), batch)
				batch = batch[:0]
			}
			clear(full)
			e.mu.Lock()
			e.spare = full
			e.mu.Unlock()
			e.flushes.Add(1)
		}
	}()
	return e
}

func (e *mapEmitter) emit(t ticker.Tick) {
	e.mu.Lock()
	e.m[t.Token] = t
	e.mu.Unlock()
}

func (e *mapEmitter) stop() { close(e.quit); <-e.done }

// TestEmitContenders checks that every contender delivers ticks.
func TestEmitContenders(t *testing.T) {
	var n counting
	emit, eng, stop := startEngine(t, &n)
	for i := range 1000 {
		emit(benchTick(i))
	}
	stop()
	if s := eng.Stats(); s.Produced != 1000 || s.Published+s.Conflated != 1000 || n.n.Load() != int64(s.Published) {
		t.Fatalf("engine: %+v, publisher saw %d", s, n.n.Load())
	}
	n.n.Store(0)
	c := newChanEmitter(&n)
	for i := range 1000 {
		c.emit(benchTick(i))
	}
	c.stop()
	if n.n.Load() != 1000 {
		t.Fatalf("channel: publisher saw %d", n.n.Load())
	}
	n.n.Store(0)
	m := newMapEmitter(&n)
	for i := range 1000 {
		m.emit(benchTick(i))
	}
	// Real time: the design under test flushes on a time.Ticker in its own
	// goroutine, as the hand-written original would; poll with a deadline.
	deadline := time.Now().Add(5 * time.Second)
	for n.n.Load() != 1000 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	m.stop()
	if n.n.Load() != 1000 {
		t.Fatalf("map: publisher saw %d", n.n.Load())
	}
}

// TestTickSize pins the size engine.md reports: every contender copies a
// Tick by value on emit.
func TestTickSize(t *testing.T) {
	if got := unsafe.Sizeof(ticker.Tick{}); got != 256 {
		t.Errorf("ticker.Tick is %d bytes; update engine.md, which says 256", got)
	}
}

// runEmit times emit from b.RunParallel's goroutines and reports, beside
// ns/op, the allocations per tick to three decimals (allocs/op rounds
// them to an integer) and the share of ticks the publisher received.
func runEmit(b *testing.B, emit func(ticker.Tick), published func() int64) {
	b.ReportAllocs()
	var seq atomic.Int64
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	pub0 := published()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := int(seq.Add(1) * 7919)
		for pb.Next() {
			emit(benchTick(i))
			i++
		}
	})
	b.StopTimer()
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/float64(b.N), "mallocs/tick")
	b.ReportMetric(float64(published()-pub0)/float64(b.N), "published/tick")
}

// BenchmarkEmit runs the three designs in one invocation (compare with
// -cpu 1,2).
func BenchmarkEmit(b *testing.B) {
	b.Run("impl=engine", func(b *testing.B) {
		var n counting
		emit, _, stop := startEngine(b, &n)
		defer stop()
		runEmit(b, emit, n.n.Load)
	})
	b.Run("impl=chan65536", func(b *testing.B) {
		var n counting
		c := newChanEmitter(&n)
		defer c.stop()
		runEmit(b, c.emit, n.n.Load)
		b.ReportMetric(float64(c.blocked.Load())/float64(b.N), "blocked/tick")
	})
	b.Run("impl=mutexmap", func(b *testing.B) {
		var n counting
		m := newMapEmitter(&n)
		defer m.stop()
		start := time.Now()
		runEmit(b, m.emit, n.n.Load)
		b.ReportMetric(float64(m.flushes.Load())/time.Since(start).Seconds(), "flushes/s")
	})
}

// ---- Redis ----

// redisAddr returns the address of the local Redis (STEADFAST_REDIS_ADDR,
// default 127.0.0.1:6379). When none answers PING, the test is skipped
// with a message saying how to start one, or fails when CI is "true": the
// rule of the main module's internal/redistest, which this module cannot
// import.
func redisAddr(tb testing.TB) string {
	tb.Helper()
	addr := os.Getenv("STEADFAST_REDIS_ADDR")
	if addr == "" {
		addr = "127.0.0.1:6379"
	}
	if err := ping(addr); err != nil {
		msg := fmt.Sprintf("no Redis answers at %s (%v); start one with `redis-server --save '' --appendonly no --daemonize yes`, or set STEADFAST_REDIS_ADDR", addr, err)
		if os.Getenv("CI") == "true" {
			tb.Fatalf("%s (CI=true: integration tests must not skip)", msg)
		}
		tb.Skip(msg)
	}
	return addr
}

// ping sends PING to addr on a new connection and wants +PONG within a
// second.
func ping(addr string) error {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.SetDeadline(time.Now().Add(time.Second)); err != nil {
		return err
	}
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err == nil && line != "+PONG\r\n" {
		err = fmt.Errorf("PING answered %q", line)
	}
	return err
}

// newRedisClient returns a go-redis client for addr as redispub requires
// it (ContextTimeoutEnabled), closed when the test ends.
func newRedisClient(tb testing.TB, addr string, mod ...func(*redis.Options)) *redis.Client {
	o := &redis.Options{Addr: addr, ContextTimeoutEnabled: true}
	for _, f := range mod {
		f(o)
	}
	c := redis.NewClient(o)
	tb.Cleanup(func() { c.Close() })
	return c
}

// closedAddr returns a loopback address on which nothing listens: a
// connection to it is refused at once, as to a Redis that is down.
func closedAddr(tb testing.TB) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// quietRedis silences go-redis's process-wide logger, which otherwise
// prints every refused dial of a client whose Redis is down.
func quietRedis() { redis.SetLogger(quiet{}) }

type quiet struct{}

func (quiet) Printf(context.Context, string, ...any) {}

// channelPrefix returns a channel prefix that no other run uses, so that a
// subscriber of another test on the shared Redis sees none of these.
func channelPrefix(tb testing.TB) string {
	return fmt.Sprintf("bench:%d:%d:", os.Getpid(), time.Now().UnixNano())
}

func newRedisPub(tb testing.TB, c redis.UniversalClient, prefix string) *redispub.Publisher {
	return newRedisPubCfg(tb, redispub.Config{Client: c, Prefix: prefix})
}

// newRedisPubCfg returns a Publisher for cfg, closed when the benchmark
// ends.
func newRedisPubCfg(tb testing.TB, cfg redispub.Config) *redispub.Publisher {
	tb.Helper()
	p, err := redispub.New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { p.Close() })
	return p
}

// usage returns the user and system CPU time of this process (who ==
// syscall.RUSAGE_SELF) or of its waited-for children (RUSAGE_CHILDREN).
func usage(who int) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(who, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU reports the process's CPU time since start per tick, as
// cpu-ns/tick: the client's cost, whatever else shares the machine.
func reportTickCPU(b *testing.B, start time.Duration, ticks float64) {
	b.ReportMetric(float64(usage(syscall.RUSAGE_SELF)-start)/ticks, "cpu-ns/tick")
}

// subscribeTicks subscribes to the two underlyings' channels under prefix
// and waits for both confirmations; the subscription is closed when the
// test ends.
func subscribeTicks(ctx context.Context, tb testing.TB, c *redis.Client, prefix string) *redis.PubSub {
	tb.Helper()
	ps := c.Subscribe(ctx, prefix+"NIFTY", prefix+"BANKNIFTY")
	tb.Cleanup(func() { ps.Close() })
	for range 2 {
		if _, err := ps.Receive(ctx); err != nil {
			tb.Fatal(err)
		}
	}
	return ps
}

// pipelineLoop is the plain contender: the same ticks, encoded per batch of
// 256 with redispub.AppendPayload, each batch sent as one go-redis
// pipeline of PUBLISH to prefix+underlying. It publishes the first n ticks
// of the workload (round r, instrument j = i/len(ins), i%len(ins)).
type pipelineLoop struct {
	c        *redis.Client
	ins      []ticker.Instrument
	channels map[string]string
	batch    []ticker.Tick
	buf      []byte
	ends     []int
}

func newPipelineLoop(c *redis.Client, ins []ticker.Instrument, prefix string) *pipelineLoop {
	p := &pipelineLoop{c: c, ins: ins, channels: map[string]string{}, batch: make([]ticker.Tick, 0, 256)}
	for _, in := range ins {
		p.channels[in.Underlying] = prefix + in.Underlying
	}
	return p
}

func (p *pipelineLoop) run(ctx context.Context, n int) error {
	for i := 0; i < n; {
		i = p.fill(i, n)
		if err := p.publish(ctx); err != nil {
			return err
		}
	}
	return nil
}

// fill makes the batch of ticks i, i+1, ... of n, and returns the next i.
func (p *pipelineLoop) fill(i, n int) int {
	p.batch = p.batch[:0]
	for ; len(p.batch) < 256 && i < n; i++ {
		j := i % len(p.ins)
		t := richTick(j, i/len(p.ins), len(p.ins))
		t.Instrument = &p.ins[j]
		p.batch = append(p.batch, t)
	}
	return i
}

// publish encodes the batch and sends it in one pipeline.
func (p *pipelineLoop) publish(ctx context.Context) error {
	{
		p.buf, p.ends = p.buf[:0], p.ends[:0]
		for k := range p.batch {
			p.buf = redispub.AppendPayload(p.buf, &p.batch[k])
			p.ends = append(p.ends, len(p.buf))
		}
		pipe := p.c.Pipeline()
		start := 0
		for k, end := range p.ends {
			pipe.Publish(ctx, p.channels[p.batch[k].Instrument.Underlying], p.buf[start:end])
			start = end
		}
		_, err := pipe.Exec(ctx)
		return err
	}
}

// signaling wraps a Publisher: after each Publish it wakes the workload's
// source (without blocking), which waits for room before its next round.
type signaling struct {
	ticker.Publisher
	done chan struct{}
}

func (s *signaling) Publish(ctx context.Context, ts []ticker.Tick) error {
	err := s.Publisher.Publish(ctx, ts)
	select {
	case s.done <- struct{}{}:
	default:
	}
	return err
}

// engineWorkload emits n ticks, round by round over the instruments, into
// a running engine: before each round it waits until at most low ticks are
// pending, so that the publish loop always has a full batch and the source
// costs no more than its emits. It returns when nothing is pending.
func engineWorkload(tb testing.TB, emit func(ticker.Tick), eng *ticker.Engine, sig *signaling, nIns, n, low int) {
	deadline := time.Now().Add(2 * time.Minute)
	waitPending := func(max uint64) {
		for eng.Stats().Pending > max {
			select {
			case <-sig.done:
			case <-time.After(100 * time.Millisecond): // a Publish that ended before the check
			}
			if time.Now().After(deadline) {
				tb.Fatalf("engine workload: still %d pending after 2 minutes: %+v", eng.Stats().Pending, eng.Stats())
			}
		}
	}
	for i := 0; i < n; {
		waitPending(uint64(low))
		for j := 0; j < nIns && i < n; j, i = j+1, i+1 {
			emit(richTick(j, i/nIns, nIns))
		}
	}
	waitPending(0)
}

// TestRedisContenders checks the end-to-end contenders against the local
// Redis: a subscriber receives every tick the pipeline loop sends and every
// tick the engine counts as published, decodable; an engine whose Redis is
// down drops and never blocks.
func TestRedisContenders(t *testing.T) {
	addr := redisAddr(t)
	c := newRedisClient(t, addr)
	ins := universe(1000)
	prefix := channelPrefix(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ps := subscribeTicks(ctx, t, c, prefix)
	receive := func(n int) {
		t.Helper()
		for k := range n {
			m, err := ps.ReceiveMessage(ctx)
			if err != nil {
				t.Fatalf("after %d of %d messages: %v", k, n, err)
			}
			if _, err := redispub.Decode([]byte(m.Payload)); err != nil {
				t.Fatal(err)
			}
		}
	}

	if err := newPipelineLoop(c, ins, prefix).run(ctx, 3000); err != nil {
		t.Fatal(err)
	}
	receive(3000)

	sig := &signaling{Publisher: newRedisPub(t, c, prefix), done: make(chan struct{}, 1)}
	emit, eng, stop := runEngine(t, engineConfig(nil, sig, ins))
	engineWorkload(t, emit, eng, sig, len(ins), 3000, 256)
	stop()
	s := eng.Stats()
	if s.Produced != 3000 || s.Published+s.Conflated != 3000 || s.Published < 1000 {
		t.Fatalf("engine: %+v", s)
	}
	receive(int(s.Published))

	// The same through Direct, two batches in flight.
	sig = &signaling{Publisher: newRedisPubCfg(t, redispub.Config{Client: c, Prefix: prefix, Direct: true}), done: make(chan struct{}, 1)}
	cfg := engineConfig(nil, sig, ins)
	cfg.PublishConcurrency = 2
	emit, eng, stop = runEngine(t, cfg)
	engineWorkload(t, emit, eng, sig, len(ins), 3000, 512)
	stop()
	s = eng.Stats()
	if s.Produced != 3000 || s.Published+s.Conflated != 3000 || s.Published < 1000 {
		t.Fatalf("engine, Direct, PublishConcurrency 2: %+v", s)
	}
	receive(int(s.Published))

	quietRedis()
	down := newRedisClient(t, closedAddr(t))
	cfg = engineConfig(nil, newRedisPub(t, down, prefix), ins)
	cfg.ShutdownTimeout = 100 * time.Millisecond // the final flush cannot succeed
	emit, eng, stop = runEngine(t, cfg)
	for i := range 3000 {
		emit(richTick(i%len(ins), i/len(ins), len(ins)))
	}
	stop()
	if s := eng.Stats(); s.Produced != 3000 || s.Published != 0 || s.Dropped.Total()+s.Conflated != 3000 {
		t.Fatalf("engine, Redis down: %+v", s)
	}
}

// BenchmarkRedisPublish publishes the same workload, b.N ticks round by
// round over 5,000 instruments, through the engine with redispub and
// through the plain pipeline loop, into the local Redis, and runs
// redis-benchmark in the same round as the physical reference. ns/op is
// the time per tick published (the engine conflates some ticks: they are
// not counted, and conflated/tick says how many).
func BenchmarkRedisPublish(b *testing.B) {
	addr := redisAddr(b)
	ins := universe(emitInstruments)
	for _, ec := range []struct {
		name   string
		direct bool
		k      int
	}{{"impl=engine", false, 1}, {"impl=engine-direct", true, 1}, {"impl=engine-direct-k2", true, 2}, {"impl=engine-direct-k4", true, 4}} {
		b.Run(ec.name, func(b *testing.B) {
			c := newRedisClient(b, addr)
			rp := newRedisPubCfg(b, redispub.Config{Client: c, Prefix: channelPrefix(b), Direct: ec.direct})
			sig := &signaling{Publisher: rp, done: make(chan struct{}, 1)}
			cfg := engineConfig(nil, sig, ins)
			cfg.PublishConcurrency = ec.k
			emit, eng, stop := runEngine(b, cfg)
			defer stop()
			engineWorkload(b, emit, eng, sig, len(ins), len(ins), 0) // warm the client's connections
			s0 := eng.Stats()
			cpu0 := usage(syscall.RUSAGE_SELF)
			b.ResetTimer()
			engineWorkload(b, emit, eng, sig, len(ins), b.N, 512*ec.k) // a round of K full batches always waiting
			b.StopTimer()
			s := eng.Stats()
			published := float64(s.Published - s0.Published)
			reportTickCPU(b, cpu0, published)
			b.ReportMetric(b.Elapsed().Seconds()*1e9/published, "ns/op")
			b.ReportMetric(published/b.Elapsed().Seconds(), "ticks/s")
			b.ReportMetric(float64(s.Conflated-s0.Conflated)/float64(b.N), "conflated/tick")
			b.ReportMetric(published/float64(s.Batches-s0.Batches), "ticks/batch")
		})
	}
	b.Run("impl=pipeline", func(b *testing.B) {
		c := newRedisClient(b, addr)
		p := newPipelineLoop(c, ins, channelPrefix(b))
		ctx := context.Background()
		if err := p.run(ctx, 256); err != nil {
			b.Fatal(err)
		}
		cpu0 := usage(syscall.RUSAGE_SELF)
		b.ResetTimer()
		if err := p.run(ctx, b.N); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		reportTickCPU(b, cpu0, float64(b.N))
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ticks/s")
	})
	for _, direct := range []bool{false, true} {
		name := "impl=redispub"
		if direct {
			name += "-direct"
		}
		b.Run(name, func(b *testing.B) {
			c := newRedisClient(b, addr)
			p := newPipelineLoop(c, ins, "")
			rp := newRedisPubCfg(b, redispub.Config{Client: c, Prefix: channelPrefix(b), Direct: direct})
			ctx := context.Background()
			run := func(n int) {
				for i := 0; i < n; {
					i = p.fill(i, n)
					if err := rp.Publish(ctx, p.batch); err != nil {
						b.Fatal(err)
					}
				}
			}
			run(256)
			cpu0 := usage(syscall.RUSAGE_SELF)
			b.ResetTimer()
			run(b.N)
			b.StopTimer()
			reportTickCPU(b, cpu0, float64(b.N))
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ticks/s")
		})
	}
	host, port, _ := net.SplitHostPort(addr)
	sample := richTick(0, 0, len(ins))
	sample.Instrument = &ins[0]
	payload := string(redispub.AppendPayload(nil, &sample))
	for _, rb := range []struct{ name, payload string }{
		{"impl=redis-benchmark", "xxx"},
		{"impl=redis-benchmark-" + strconv.Itoa(len(payload)) + "B", payload},
	} {
		b.Run(rb.name, func(b *testing.B) { redisBenchmark(b, host, port, channelPrefix(b)+"NIFTY", rb.payload) })
	}
}

var rpsLine = regexp.MustCompile(`: ([0-9.]+) requests per second`)

// redisBenchmark runs `redis-benchmark -P 64 -q -n N PUBLISH channel
// payload` for b.N requests (at least 100,000, its default) and reports its
// rate as ns/op and ticks/s. (`-t publish` prints nothing: PUBLISH is not
// one of redis-benchmark's built-in tests, so the command is given; its
// default 50 connections are kept.)
func redisBenchmark(b *testing.B, host, port, channel, payload string) {
	bin, err := exec.LookPath("redis-benchmark")
	if err != nil {
		b.Skipf("redis-benchmark not found (%v); it comes with the redis-tools package", err)
	}
	n := max(b.N, 100000)
	cpu0 := usage(syscall.RUSAGE_CHILDREN)
	out, err := exec.Command(bin, "-h", host, "-p", port, "-P", "64", "-q", "-n", strconv.Itoa(n),
		"publish", channel, payload).CombinedOutput()
	if err != nil {
		b.Fatalf("redis-benchmark: %v: %s", err, out)
	}
	// -q prints progress lines ending in \r, then the result.
	last := out[bytes.LastIndexByte(bytes.TrimRight(out, "\r\n "), '\r')+1:]
	m := rpsLine.FindSubmatch(last)
	if m == nil {
		b.Fatalf("redis-benchmark: no rate in %q", out)
	}
	rps, err := strconv.ParseFloat(string(m[1]), 64)
	if err != nil || rps <= 0 {
		b.Fatalf("redis-benchmark: rate %q", m[1])
	}
	b.ReportMetric(1e9/rps, "ns/op")
	b.ReportMetric(rps, "ticks/s")
	b.ReportMetric(float64(usage(syscall.RUSAGE_CHILDREN)-cpu0)/float64(n), "cpu-ns/tick") // redis-benchmark's own
}

// BenchmarkSourceRate times one source goroutine emitting ticks round by
// round over 5,000 instruments into an engine that publishes with
// redispub to the local Redis (impl=up) and to a closed loopback port
// (impl=down: every dial is refused; the breaker is open before timing
// starts, as it is a few seconds into an outage).
func BenchmarkSourceRate(b *testing.B) {
	addr := redisAddr(b)
	ins := universe(emitInstruments)
	for _, bc := range []struct {
		name string
		addr string
	}{{"impl=up", addr}, {"impl=down", closedAddr(b)}} {
		b.Run(bc.name, func(b *testing.B) {
			var mod []func(*redis.Options)
			if bc.name == "impl=down" {
				// With go-redis's default retries a refused Publish takes
				// about its whole 2 s timeout, so the breaker opens some
				// 20 s into the outage; fail at once to get there sooner.
				quietRedis()
				mod = append(mod, func(o *redis.Options) { o.MaxRetries, o.DialerRetries = -1, 1 })
			}
			c := newRedisClient(b, bc.addr, mod...)
			emit, eng, stop := runEngine(b, engineConfig(nil, newRedisPub(b, c, channelPrefix(b)), ins))
			defer stop()
			i := 0
			warm := time.Now().Add(30 * time.Second)
			for n := 0; n < 4 || bc.name == "impl=down" && eng.Health().Breaker != "open"; n++ {
				for range len(ins) {
					emit(richTick(i%len(ins), i/len(ins), len(ins)))
					i++
				}
				time.Sleep(5 * time.Millisecond) // let a Publish end
				if time.Now().After(warm) {
					b.Fatalf("warm-up: breaker %v after 30s", eng.Health().Breaker)
				}
			}
			s0 := eng.Stats()
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				emit(richTick(i%len(ins), i/len(ins), len(ins)))
				i++
			}
			b.StopTimer()
			s := eng.Stats()
			n := float64(b.N)
			b.ReportMetric(n/b.Elapsed().Seconds(), "ticks/s")
			b.ReportMetric(float64(s.Published-s0.Published)/n, "published/tick")
			b.ReportMetric(float64(s.Dropped.Total()-s0.Dropped.Total())/n, "dropped/tick")
		})
	}
}

// latencyDuration returns the length of BenchmarkLatency's run: 25 s, or
// the duration in STEADFAST_BENCH_LATENCY (whole seconds; the real feed's
// load is steady, so a longer run adds rounds, not information).
func latencyDuration(tb testing.TB) time.Duration {
	d := 25 * time.Second
	if v := os.Getenv("STEADFAST_BENCH_LATENCY"); v != "" {
		var err error
		if d, err = time.ParseDuration(v); err != nil || d < time.Second {
			tb.Fatalf("STEADFAST_BENCH_LATENCY=%q: want a duration of at least 1s", v)
		}
	}
	return d.Truncate(time.Second)
}

// BenchmarkLatency runs the real feed's load for 25 s (latencyDuration): 9,000
// instruments, each ticking once a second at its own phase, into an
// engine that publishes with redispub to the local Redis, with a
// subscriber on the channels. Tick.Time is set when the tick is emitted;
// the benchmark reports the latency from there to the Publish call
// (enter), to Publish's return, when Redis has answered (acked), and to
// the subscriber's receipt of the decoded message (received): p50, p99
// and max of each, in microseconds. Run it with -benchtime 1x.
func BenchmarkLatency(b *testing.B) {
	addr := redisAddr(b)
	const nIns = 9000
	ins := universe(nIns)
	dur := latencyDuration(b)
	for _, lc := range []struct {
		linger time.Duration
		direct bool
	}{{ticker.DefaultLinger, false}, {-1, false}, {ticker.DefaultLinger, true}, {-1, true}} {
		linger := lc.linger
		name := "linger=" + linger.String()
		if linger < 0 {
			name = "linger=off"
		}
		if lc.direct {
			name += "-direct"
		}
		b.Run(name, func(b *testing.B) {
			c := newRedisClient(b, addr)
			prefix := channelPrefix(b)
			sub := newRedisClient(b, addr)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			ps := subscribeTicks(ctx, b, sub, prefix)
			want := int(dur/time.Second+2) * nIns
			enter, acked, received := make([]time.Duration, 0, want), make([]time.Duration, 0, want), make([]time.Duration, 0, want)
			var got atomic.Int64
			subDone := make(chan struct{})
			go func() {
				defer close(subDone)
				for {
					m, err := ps.ReceiveMessage(ctx)
					if err != nil {
						return
					}
					msg, err := redispub.Decode([]byte(m.Payload))
					if err != nil {
						b.Error(err)
						return
					}
					received = append(received, time.Since(msg.Tick.Time))
					got.Add(1)
				}
			}()
			rp := newRedisPubCfg(b, redispub.Config{Client: c, Prefix: prefix, Direct: lc.direct})
			pub := ticker.PublisherFunc(func(ctx context.Context, ts []ticker.Tick) error {
				now := time.Now()
				for k := range ts {
					enter = append(enter, now.Sub(ts[k].Time))
				}
				err := rp.Publish(ctx, ts)
				now = time.Now()
				for k := range ts {
					acked = append(acked, now.Sub(ts[k].Time))
				}
				return err
			})
			cfg := engineConfig(nil, pub, ins)
			cfg.Linger = linger
			emit, eng, stop := runEngine(b, cfg)
			for range b.N {
				feed(emit, nIns, dur)
			}
			stop()
			s := eng.Stats()
			for wait := time.Now().Add(5 * time.Second); got.Load() < int64(s.Published) && time.Now().Before(wait); {
				time.Sleep(10 * time.Millisecond)
			}
			cancel()
			ps.Close()
			<-subDone
			if s.Produced != s.Published+s.Conflated || len(received) != int(s.Published) {
				b.Errorf("stats %+v, subscriber received %d", s, len(received))
			}
			for _, m := range []struct {
				name string
				d    []time.Duration
			}{{"enter", enter}, {"acked", acked}, {"received", received}} {
				slices.Sort(m.d)
				q := func(p float64) float64 { return float64(m.d[int(p*float64(len(m.d)-1))]) / 1e3 }
				b.ReportMetric(q(0.5), m.name+"-p50-µs")
				b.ReportMetric(q(0.99), m.name+"-p99-µs")
				b.ReportMetric(q(1), m.name+"-max-µs")
			}
			b.ReportMetric(float64(s.Published)/dur.Seconds()/float64(b.N), "ticks/s")
			b.ReportMetric(float64(s.Conflated), "conflated")
		})
	}
}

// feed emits, for d, one tick a second of each of n instruments, instrument
// j at j/n of each second, with Tick.Time set to the time of emit. It
// wakes every millisecond and emits the ticks that have come due.
func feed(emit func(ticker.Tick), n int, d time.Duration) {
	start := time.Now()
	tk := time.NewTicker(time.Millisecond)
	defer tk.Stop()
	sent := 0 // ticks emitted; tick k is instrument k%n in second k/n
	total := int(d/time.Second) * n
	for sent < total {
		<-tk.C
		due := min(int(time.Since(start)*time.Duration(n)/time.Second), total)
		for ; sent < due; sent++ {
			t := richTick(sent%n, sent/n, n)
			t.Time = time.Now()
			emit(t)
		}
	}
}

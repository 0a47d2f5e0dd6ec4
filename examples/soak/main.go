// Command soak runs the streaming engine for a while on a fast simulated
// clock and shows that it holds steady:
//
//	go run ./examples/soak -duration 2m
//
// It streams about 5,000 mock instruments (NIFTY, BANKNIFTY and SENSEX, 4
// expiries of 103 strikes a side) through ticker/redispub to a Redis it
// starts itself on a free loopback port (or the one -redis names: host:port
// or a redis:// URL), with the
// session replayed -speed times faster than real time, so that several
// weekly expiries pass and roll. Every simulated few minutes it asks the
// engine to reload, which lists the universe for the simulated date:
// expired contracts go, the next expiries come in. Halfway through it kills
// its redis-server with SIGKILL and restarts it on the same port a few
// seconds later (not with -redis).
//
// Every -every while the engine runs (never during its shutdown, which
// begins once -duration has passed) it pauses the source until nothing is
// pending, samples the
// heap (after a GC), the goroutines, the mock's store size, the
// subscriptions and the engine's counts, checks the accounting identity
// (Produced == Published + Conflated + Invalid + Dropped + Pending), and
// prints a row. At the end it checks the goals and exits non-zero when one
// fails: heap after warm-up flat (last ≤ 1.2× first), goroutines flat,
// store ≤ MaxSize, no expired contract subscribed, at least two rollovers,
// the identity exact at every sample.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"math"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/steadfast-go/steadfast/breaker"
	"github.com/steadfast-go/steadfast/reloader"
	"github.com/steadfast-go/steadfast/ticker"
	"github.com/steadfast-go/steadfast/ticker/market"
	"github.com/steadfast-go/steadfast/ticker/mock"
	"github.com/steadfast-go/steadfast/ticker/redispub"
)

func main() {
	fs := flag.NewFlagSet("soak", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: go run ./examples/soak [flags]

Runs the streaming engine on a fast simulated clock for -duration, through a
Redis (its own redis-server on a free port, killed and restarted halfway, or
the one -redis names), samples heap, goroutines and the accounting every
-every, and exits non-zero when a goal fails.

Flags:
`)
		fs.PrintDefaults()
	}
	duration := fs.Duration("duration", 2*time.Minute, "how long to run, in [10s, 24h]")
	every := fs.Duration("every", 5*time.Second, "sampling period, in [1s, -duration/4]")
	speed := fs.Float64("speed", 3000, "simulated seconds per real second, in [1, 100000]")
	at := fs.String("at", "2026-11-30T09:15:00+05:30", "simulated start (RFC 3339)")
	addr := fs.String("redis", "", "a Redis to use instead of starting one: host:port or a redis:// URL (it is not restarted)")
	switch err := fs.Parse(os.Args[1:]); {
	case errors.Is(err, flag.ErrHelp):
		return
	case err != nil:
		os.Exit(2)
	case fs.NArg() > 0:
		fmt.Fprintf(os.Stderr, "soak: unexpected argument %q (-h lists the flags)\n", fs.Arg(0))
		os.Exit(2)
	}
	if err := checkFlags(*duration, *every, *speed); err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(2)
	}
	if err := run(*duration, *every, *speed, *at, *addr); err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(1)
	}
}

// checkFlags checks the numeric flags, naming the one at fault.
func checkFlags(duration, every time.Duration, speed float64) error {
	switch {
	case duration < 10*time.Second || duration > 24*time.Hour:
		return fmt.Errorf("-duration must be in [10s, 24h], got %v", duration)
	case every < time.Second || every > duration/4:
		return fmt.Errorf("-every must be in [1s, %v] (a quarter of -duration), got %v", duration/4, every)
	case !(speed >= 1 && speed <= 100_000):
		return fmt.Errorf("-speed must be in [1, 100000], got %v", speed)
	}
	return nil
}

const (
	maxSize = 6000 // the mock's store bound: the universe plus room for its own rolls
	warmUp  = 2    // samples before the heap baseline
)

func run(duration, every time.Duration, speed float64, atText, addr string) error {
	start, err := time.Parse(time.RFC3339, atText)
	if err != nil {
		return fmt.Errorf("-at: %w", err)
	}
	// The engine runs until the sampling is over (or Ctrl-C): every sample
	// is taken while it runs, none during its shutdown.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sigCtx, stopSignals := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stopSignals()
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))

	var srv *server
	if addr == "" {
		if srv, err = startRedis(); err != nil {
			return err
		}
		defer srv.stop()
		addr = srv.addr
	}
	opts := &redis.Options{Addr: addr}
	if strings.Contains(addr, "://") {
		if opts, err = redis.ParseURL(addr); err != nil {
			return errors.New("-redis: not a valid redis:// URL (value not shown: it may hold a password)")
		}
	}
	opts.ContextTimeoutEnabled, opts.MaxRetries, opts.DialerRetries = true, -1, 1
	client := redis.NewClient(opts)
	defer client.Close()
	pub, err := redispub.New(redispub.Config{Client: client, Prefix: "soak:", LatestKey: "soak:latest", Logger: logger})
	if err != nil {
		return err
	}

	hours := market.Hours{Holidays: market.Holidays2026()}
	clock := market.SessionClock(start, hours, speed)
	unders := []market.UnderlyingSpec{market.NIFTY(), market.BANKNIFTY(), market.SENSEX()}
	mock, err := mock.New(mock.Config{Now: clock, Interval: 100 * time.Millisecond,
		Underlyings: unders, Holidays: hours.Holidays, MaxSize: maxSize, Logger: logger})
	if err != nil {
		return err
	}
	src := &pausable{mock: mock, now: clock, interval: 100 * time.Millisecond}
	list := func(context.Context) ([]ticker.Instrument, error) {
		return market.Universe(market.UniverseConfig{Date: clock(), Underlyings: unders, Expiries: 4,
			StrikesPerSide: 103, Holidays: hours.Holidays})
	}
	eng, err := ticker.New(ticker.Config{
		Source: src, Publisher: pub, Instruments: list,
		PublishTimeout: 200 * time.Millisecond,
		Breaker:        breaker.Config{FailureThreshold: 5, OpenTimeout: 500 * time.Millisecond},
		Reload:         reloader.Config{Debounce: time.Millisecond, MinInterval: 50 * time.Millisecond},
		Name:           "soak", Logger: logger,
	})
	if err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- eng.Run(ctx) }()

	// Reload every 200ms (about 10 simulated minutes at the default speed),
	// and restart Redis halfway.
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				eng.Reload()
			}
		}
	})
	began := time.Now()
	restartNote := "not restarted (-redis given)"
	if srv != nil {
		restartNote = ""
		wg.Go(func() {
			select {
			case <-ctx.Done():
				return
			case <-time.After(duration / 2):
			}
			srv.kill()
			killedAt := time.Now()
			select {
			case <-ctx.Done():
			case <-time.After(3 * time.Second):
			}
			if err := srv.start(); err != nil {
				logger.Error("redis restart failed", "error", err)
				return
			}
			restartNote = fmt.Sprintf("killed (SIGKILL) at %v, restarted on the same port %v later",
				killedAt.Sub(began).Round(time.Second), time.Since(killedAt).Round(time.Millisecond))
		})
	}

	fmt.Printf("%6s  %-16s %8s %5s %6s %6s %-22s %10s %10s %9s %8s %8s %8s %8s %-9s %s\n",
		"t", "simulated", "heap MB", "gor", "subs", "store", "expiries (first..last)", "produced", "published",
		"conflated", "circuit", "failed", "unsub", "catchup", "breaker", "identity")
	var (
		heaps, gors []float64
		maxStore    int
		allExact    = true
		expiredSeen int
		firsts      = map[string]bool{}
	)
	tick := time.NewTicker(every)
	defer tick.Stop()
	end := time.NewTimer(duration)
	defer end.Stop()
	sample := func() {
		s, ok := src.quiesce(eng)
		heap := liveHeap()
		now := clock()
		ins := eng.Instruments()
		first, last, expired := expirySpan(ins, now)
		expiredSeen += expired
		if !first.IsZero() {
			firsts[first.Format("01-02")] = true
		}
		exact := ok && s.Produced == s.Published+s.Conflated+s.Invalid+s.Dropped.Total()+s.Pending
		allExact = allExact && exact
		heaps = append(heaps, heap)
		gors = append(gors, float64(runtime.NumGoroutine()))
		maxStore = max(maxStore, mock.Len())
		id := "exact"
		if !exact {
			id = fmt.Sprintf("OFF (pending %d)", s.Pending)
		}
		fmt.Printf("%6s  %-16s %8.1f %5d %6d %6d %-22s %10d %10d %9d %8d %8d %8d %8d %-9s %s\n",
			time.Since(began).Round(time.Second), now.In(market.IST()).Format("Mon 01-02 15:04"), heaps[len(heaps)-1],
			runtime.NumGoroutine(), len(ins), mock.Len(),
			fmt.Sprintf("%s..%s", first.Format("01-02"), last.Format("01-02")),
			s.Produced, s.Published, s.Conflated, s.Dropped.CircuitOpen, s.Dropped.PublishFailed,
			s.Dropped.Unsubscribed, s.CatchUp, eng.Health().Breaker, id)
		src.resume()
	}
loop:
	for {
		select {
		case <-end.C:
			break loop
		case <-sigCtx.Done():
			break loop
		case <-tick.C:
		}
		select { // the end wins over a sample due at the same instant
		case <-end.C:
			break loop
		default:
			sample()
		}
	}
	cancel()
	wg.Wait()
	if err := <-done; err != nil {
		return fmt.Errorf("engine: %w", err)
	}
	s := eng.Stats()
	fmt.Printf("final: produced %d published %d conflated %d invalid %d dropped %+v pending %d catch_up %d\n",
		s.Produced, s.Published, s.Conflated, s.Invalid, s.Dropped, s.Pending, s.CatchUp)
	if s.Produced != s.Published+s.Conflated+s.Invalid+s.Dropped.Total()+s.Pending {
		allExact = false
	}
	fmt.Println("redis:", restartNote)

	// The goals.
	var fails []error
	check := func(ok bool, format string, a ...any) {
		mark := "ok  "
		if !ok {
			mark = "FAIL"
			fails = append(fails, fmt.Errorf(format, a...))
		}
		fmt.Printf("%s "+format+"\n", append([]any{mark}, a...)...)
	}
	if len(heaps) > warmUp {
		base, lastHeap := heaps[warmUp], heaps[len(heaps)-1]
		check(lastHeap <= 1.2*base, "heap after warm-up: first %.1f MB, last %.1f MB (%.2fx, goal <= 1.2x)", base, lastHeap, lastHeap/base)
		lo, hi := minMax(gors[warmUp:])
		check(hi-lo <= 4, "goroutines after warm-up: %v..%v", lo, hi)
	}
	check(maxStore <= maxSize, "mock store at most %d entries (MaxSize %d)", maxStore, maxSize)
	check(expiredSeen == 0, "expired contracts subscribed at a sample: %d", expiredSeen)
	check(len(firsts) >= 3, "nearest expiries seen: %d (at least 2 rollovers)", len(firsts))
	check(allExact, "identity exact at every sample and at the end")
	return errors.Join(fails...)
}

// expirySpan returns the first and last expiry dates of the subscribed
// contracts and how many of them had expired (at their Expiry, the instant
// trading ends) at now.
func expirySpan(ins []ticker.Instrument, now time.Time) (first, last time.Time, expired int) {
	for _, in := range ins {
		if in.Expiry.IsZero() {
			continue
		}
		if first.IsZero() || in.Expiry.Before(first) {
			first = in.Expiry
		}
		if in.Expiry.After(last) {
			last = in.Expiry
		}
		if now.After(in.Expiry.Add(15 * time.Minute)) {
			expired++ // still subscribed a quarter of an hour (simulated) after its close
		}
	}
	return first, last, expired
}

// liveHeap returns the heap in use after a collection, in MiB: the least of
// three readings 20ms apart, so that a reload building its list at the
// moment of one reading does not count as growth.
func liveHeap() float64 {
	least := math.MaxFloat64
	for i := range 3 {
		if i > 0 {
			time.Sleep(20 * time.Millisecond)
		}
		runtime.GC()
		runtime.GC() // the second empties the pools' victim caches
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		least = min(least, float64(ms.HeapAlloc)/(1<<20))
	}
	return least
}

func minMax(xs []float64) (lo, hi float64) {
	lo, hi = xs[0], xs[0]
	for _, x := range xs {
		lo, hi = min(lo, x), max(hi, x)
	}
	return lo, hi
}

// pausable is the engine's Source: it steps the mock on every interval,
// except while a sample is being taken, so that the engine can be brought
// to quiescence and its identity checked exactly.
type pausable struct {
	mock     *mock.Source
	now      func() time.Time
	interval time.Duration
	paused   atomic.Bool
	step     sync.Mutex // held for the length of a Step
}

func (p *pausable) Subscribe(add, remove []ticker.Instrument) error {
	return p.mock.Subscribe(add, remove)
}

func (p *pausable) Run(ctx context.Context, emit func(ticker.Tick)) error {
	t := time.NewTicker(p.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			if p.paused.Load() {
				continue
			}
			p.step.Lock()
			p.mock.Step(p.now(), emit)
			p.step.Unlock()
		}
	}
}

// quiesce pauses the source, waits for the Step in progress and then until
// nothing is pending (at most 5s), and returns the engine's stats.
func (p *pausable) quiesce(eng *ticker.Engine) (ticker.Stats, bool) {
	p.paused.Store(true)
	p.step.Lock()
	p.step.Unlock() //nolint:staticcheck // an empty critical section: waits for the Step in progress
	deadline := time.Now().Add(5 * time.Second)
	for {
		s := eng.Stats()
		if s.Pending == 0 {
			return s, true
		}
		if time.Now().After(deadline) {
			return s, false
		}
		time.Sleep(time.Millisecond)
	}
}

func (p *pausable) resume() { p.paused.Store(false) }

// server is a redis-server child process on a loopback port.
type server struct {
	bin  string
	addr string
	dir  string
	mu   sync.Mutex
	cmd  *exec.Cmd
}

func startRedis() (*server, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, fmt.Errorf("redis-server not found (%w); install it, or give -redis", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	dir, err := os.MkdirTemp("", "soak-redis")
	if err != nil {
		return nil, err
	}
	s := &server{bin: bin, addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), dir: dir}
	return s, s.start()
}

func (s *server) start() error {
	_, port, _ := net.SplitHostPort(s.addr)
	cmd := exec.Command(s.bin, "--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", s.dir, "--daemonize", "no")
	logf, err := os.Create(filepath.Join(s.dir, "redis.log"))
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return err
	}
	s.mu.Lock()
	s.cmd = cmd
	s.mu.Unlock()
	c := redis.NewClient(&redis.Options{Addr: s.addr, MaxRetries: -1, DialerRetries: 1})
	defer c.Close()
	for range 200 {
		if c.Ping(context.Background()).Err() == nil {
			return nil
		}
		time.Sleep(25 * time.Millisecond)
	}
	s.kill()
	return fmt.Errorf("redis-server on %s did not answer PING", s.addr)
}

// kill ends the server with SIGKILL and waits for it.
func (s *server) kill() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		_ = s.cmd.Process.Kill()
		_ = s.cmd.Wait()
		s.cmd = nil
	}
}

func (s *server) stop() {
	s.kill()
	os.RemoveAll(s.dir)
}

// Command ticker streams the mock NIFTY and BANKNIFTY option chains through
// the streaming engine, with no infrastructure:
//
//	go run ./examples/ticker
//
// Every second it prints one line of accounting (ticks per second,
// published, conflated, dropped, the breaker's state, pending), and every
// few seconds a compact at-the-money view of each chain (strike, call and
// put price, IV, delta). Without -redis the ticks go to an in-process
// publisher that keeps the latest tick of every instrument; with -redis
// they go to Redis through ticker/redispub. -http serves the live
// option-chain page at /, and /metrics and /healthz. It stops on Ctrl-C, or
// after -duration, with a final accounting line.
//
// The mock trades only in the NSE session (09:15-15:30 IST on trading
// days). Outside it, the example replays the latest session from its open on
// a simulated clock, and says so on its first line; -at picks another start
// time and -speed runs the clock faster.
//
// With -source kite, -api-key and the access token in the environment
// variable KITE_ACCESS_TOKEN (never a flag: flags show in the process list),
// and -instruments naming the broker's instrument dump (CSV), it streams live
// ticks from Kite Connect during market hours; without credentials, or
// outside market hours, it uses the mock.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/steadfast-go/steadfast/reloader"
	"github.com/steadfast-go/steadfast/ticker"
	"github.com/steadfast-go/steadfast/ticker/chainpage"
	"github.com/steadfast-go/steadfast/ticker/market"
	"github.com/steadfast-go/steadfast/ticker/mock"
)

type options struct {
	underlyings string
	strikes     int
	expiries    int
	seed        uint64
	speed       float64
	interval    time.Duration
	duration    time.Duration
	httpAddr    string
	redisURL    string
	view        time.Duration
	verbose     bool
	at          string
	source      string
	apiKey      string
	dump        string
	replicaURL  string
	replicaID   string
	capacity    int
	standby     bool
}

func main() {
	var o options
	flag.StringVar(&o.underlyings, "underlyings", "NIFTY,BANKNIFTY", "comma-separated underlyings to stream")
	flag.IntVar(&o.strikes, "strikes", 10, "strikes on each side of the money, per expiry")
	flag.IntVar(&o.expiries, "expiries", 2, "nearest expiries per underlying")
	flag.Uint64Var(&o.seed, "seed", 1, "seed of the mock market (same seed, same market)")
	flag.Float64Var(&o.speed, "speed", 1, "simulated-clock multiplier: 60 runs a minute of market time per second")
	flag.DurationVar(&o.interval, "interval", 250*time.Millisecond, "how often the mock ticks every instrument (wall time)")
	flag.DurationVar(&o.duration, "duration", 0, "stop after this long (0: run until Ctrl-C)")
	flag.StringVar(&o.httpAddr, "http", "", "serve /metrics and /healthz on this address, e.g. 127.0.0.1:8080")
	flag.StringVar(&o.redisURL, "redis", "", "publish to Redis: host:port or a redis:// or rediss:// URL (default: in-process publisher)")
	flag.DurationVar(&o.view, "view", 5*time.Second, "how often to print the at-the-money view (0: never)")
	flag.BoolVar(&o.verbose, "v", false, "log at debug level")
	flag.StringVar(&o.at, "at", "", "start the simulated clock here (RFC 3339, or 2006-01-02T15:04 in IST); default: now, or the latest session's open when the market is closed")
	flag.StringVar(&o.source, "source", "mock", "mock, or kite (live; needs -api-key, -instruments and KITE_ACCESS_TOKEN)")
	flag.StringVar(&o.apiKey, "api-key", "", "Kite Connect API key, for -source kite")
	flag.StringVar(&o.dump, "instruments", "", "the broker's instrument dump (CSV), for -source kite")
	flag.StringVar(&o.replicaURL, "replica", "", "run as a replica (ticker/replica) coordinated on this Redis: host:port or a redis:// URL")
	flag.StringVar(&o.replicaID, "replica-id", "", "this replica's ID in its group, for -replica (default: the host name)")
	flag.IntVar(&o.capacity, "capacity", 0, "most partitions this replica holds, for -replica (0: all)")
	flag.BoolVar(&o.standby, "standby", false, "for -replica: hold only what the other replicas cannot")
	flag.Parse()
	if err := run(o, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "ticker:", err)
		os.Exit(1)
	}
}

func run(o options, out io.Writer) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if o.duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.duration)
		defer cancel()
	}
	level := slog.LevelWarn
	if o.verbose {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	specs, err := pickUnderlyings(o.underlyings)
	if err != nil {
		return err
	}
	if !(o.speed > 0) || math.IsInf(o.speed, 0) || o.speed > 1e6 {
		return fmt.Errorf("-speed must be positive, got %v", o.speed)
	}
	if o.interval <= 0 {
		return fmt.Errorf("-interval must be positive, got %v", o.interval)
	}
	hours := market.Hours{Holidays: market.Holidays2026()}
	at := time.Now()
	if o.at != "" {
		if at, err = parseAt(o.at); err != nil {
			return err
		}
	}
	start := hours.ReplayStart(at)
	clock := market.SessionClock(at, hours, o.speed)

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	mock, err := mock.New(mock.Config{
		Seed: o.seed, Now: clock, Interval: o.interval, Underlyings: specs, Holidays: hours.Holidays,
		RollStrikesPerSide: o.strikes, Logger: logger, Registerer: reg,
	})
	if err != nil {
		return err
	}
	var src ticker.Source = mock
	// The wanted subscriptions: the universe listed for the simulated date,
	// plus the contracts the mock has rolled in by itself (at the strikes
	// around its simulated spot) since the last reload, so that their ticks
	// are streamed rather than dropped as unsubscribed.
	instruments := func(context.Context) ([]ticker.Instrument, error) {
		ins, err := market.Universe(market.UniverseConfig{
			Seed: o.seed, Date: clock(), Underlyings: specs, Holidays: hours.Holidays,
			Expiries: o.expiries, StrikesPerSide: o.strikes,
		})
		if err != nil {
			return nil, err
		}
		listed := make(map[uint32]bool, len(ins))
		for _, in := range ins {
			listed[in.Token] = true
		}
		for _, in := range mock.Instruments() {
			if !listed[in.Token] {
				ins = append(ins, in)
			}
		}
		return ins, nil
	}
	live := false
	var engine atomic.Pointer[ticker.Engine] // for the live chains' centre
	if o.source == "kite" {
		latest := func(token uint32) (ticker.Tick, bool) {
			if e := engine.Load(); e != nil {
				return e.Latest(token)
			}
			return ticker.Tick{}, false
		}
		src, instruments, live, err = kiteSource(o, specs, hours, latest, logger, reg, out)
		if err != nil {
			return err
		}
		if !live {
			src = mock
		}
	} else if o.source != "mock" {
		return fmt.Errorf("-source must be mock or kite, got %q", o.source)
	}
	pub, closePub, err := newPublisher(ctx, o.redisURL, logger, reg)
	if err != nil {
		return err
	}
	defer closePub()

	eng, runEngine, err := newEngine(o, ticker.Config{
		Source:      src,
		Publisher:   pub,
		Instruments: instruments,
		// The report loop asks for a reload every simulated minute, which
		// -speed can make every wall second: a short debounce and interval
		// keep the chains in step with a fast clock.
		Reload:     reloader.Config{Debounce: 100 * time.Millisecond, MinInterval: time.Second},
		Name:       "example",
		Logger:     logger,
		Registerer: reg,
	}, logger, reg, out)
	if err != nil {
		return err
	}
	engine.Store(eng)

	var wg sync.WaitGroup
	defer wg.Wait()
	if o.httpAddr != "" {
		srv, err := serveHTTP(o.httpAddr, eng, reg, logger)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "serving the option chain on http://%s/ (and /metrics, /healthz)\n", srv.Addr)
		wg.Go(func() {
			<-ctx.Done()
			sctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			_ = srv.Shutdown(sctx)
		})
	}
	sink := "in-process publisher"
	if o.redisURL != "" {
		sink = "Redis at " + redactURL(o.redisURL)
	}
	switch {
	case live:
		fmt.Fprintf(out, "streaming live %s chains from Kite Connect to the %s; Ctrl-C stops\n",
			strings.Join(names(specs), " and "), sink)
	default:
		when := "live time"
		if !start.Equal(at) {
			when = "a replay of the session that opened " + start.In(market.IST()).Format("Mon 2 Jan 15:04 IST") +
				" (the market is closed at " + at.In(market.IST()).Format("Mon 15:04 IST") + ")"
		}
		fmt.Fprintf(out, "streaming the mock %s chains (%d expiries, %d strikes a side, seed %d) on %s, %gx clock, to the %s; Ctrl-C stops\n",
			strings.Join(names(specs), " and "), o.expiries, o.strikes, o.seed, when, o.speed, sink)
	}

	runErr := make(chan error, 1)
	go func() { runErr <- runEngine(ctx) }()
	report(ctx, out, eng, clock, specs, o)
	err = <-runErr
	s := eng.Stats()
	fmt.Fprintf(out, "final: produced %d = published %d + conflated %d + invalid %d + dropped %d + pending %d (identity %s); catch-up %d, batches %d\n",
		s.Produced, s.Published, s.Conflated, s.Invalid, s.Dropped.Total(), s.Pending,
		identity(s), s.CatchUp, s.Batches)
	return err
}

func identity(s ticker.Stats) string {
	if s.Produced == s.Published+s.Conflated+s.Invalid+s.Dropped.Total()+s.Pending {
		return "holds"
	}
	return "BROKEN"
}

// report prints the accounting line every second and the chain view every
// o.view until ctx ends. It also asks the engine to reload every minute of
// simulated time, so the chains follow the spot and roll at expiry.
func report(ctx context.Context, out io.Writer, eng *ticker.Engine, clock func() time.Time,
	specs []market.UnderlyingSpec, o options) {
	sec := time.NewTicker(time.Second)
	defer sec.Stop()
	prev := eng.Stats()
	lastView := time.Now()
	lastReload := clock()
	for {
		select {
		case <-ctx.Done():
			return
		case <-sec.C:
		}
		s := eng.Stats()
		h := eng.Health()
		fmt.Fprintf(out, "%s  ticks/s %6d  published %9d  conflated %8d  dropped %6d  breaker %-9s  pending %5d  %s\n",
			clock().In(market.IST()).Format("15:04:05 IST"), s.Produced-prev.Produced, s.Published, s.Conflated,
			s.Dropped.Total(), h.Breaker, s.Pending, h.Status)
		prev = s
		if now := clock(); now.Sub(lastReload) >= time.Minute {
			lastReload = now
			eng.Reload()
		}
		if o.view > 0 && time.Since(lastView) >= o.view {
			lastView = time.Now()
			printView(out, eng, clock(), specs)
		}
	}
}

// printView prints, per underlying, the at-the-money strike of the nearest
// expiry with its call and put.
func printView(out io.Writer, eng *ticker.Engine, now time.Time, specs []market.UnderlyingSpec) {
	ins := eng.Instruments()
	for _, sp := range specs {
		spot, ok := indexLevel(eng, ins, sp.Name)
		if !ok {
			continue
		}
		chain := market.SelectChain(ins, sp.Name, spot, now, 1, 0)
		if len(chain) == 0 {
			continue
		}
		var call, put ticker.Tick
		for _, in := range chain {
			t, ok := eng.Latest(in.Token)
			if !ok {
				continue
			}
			if in.Kind == ticker.KindCall {
				call = t
			} else {
				put = t
			}
		}
		fmt.Fprintf(out, "  %-10s spot %9.2f  expiry %s  ATM %7.0f  call %8.2f (IV %5.1f%%, Δ %+.2f)  put %8.2f (IV %5.1f%%, Δ %+.2f)\n",
			sp.Name, spot, chain[0].Expiry.Format("02 Jan"), chain[0].Strike,
			call.LastPrice, call.IV*100, call.Delta, put.LastPrice, put.IV*100, put.Delta)
	}
}

func names(specs []market.UnderlyingSpec) []string {
	out := make([]string, len(specs))
	for i, s := range specs {
		out[i] = s.Name
	}
	return out
}

// pickUnderlyings maps -underlyings to the specs the ticker package knows.
func pickUnderlyings(list string) ([]market.UnderlyingSpec, error) {
	known := map[string]market.UnderlyingSpec{}
	for _, s := range []market.UnderlyingSpec{market.NIFTY(), market.BANKNIFTY(), market.FINNIFTY(),
		market.MIDCPNIFTY(), market.NIFTYNXT50(), market.SENSEX(), market.BANKEX()} {
		known[s.Name] = s
	}
	var out []market.UnderlyingSpec
	for _, n := range strings.Split(list, ",") {
		n = strings.ToUpper(strings.TrimSpace(n))
		if n == "" {
			continue
		}
		s, ok := known[n]
		if !ok {
			k := slices.Sorted(func(yield func(string) bool) {
				for n := range known {
					if !yield(n) {
						return
					}
				}
			})
			return nil, fmt.Errorf("-underlyings: unknown underlying %q (known: %s)", n, strings.Join(k, ", "))
		}
		out = append(out, s)
	}
	if len(out) == 0 {
		return nil, errors.New("-underlyings: none given")
	}
	return out, nil
}

// indexLevel returns the latest level of an underlying's index.
func indexLevel(eng *ticker.Engine, ins []ticker.Instrument, underlying string) (float64, bool) {
	for _, in := range ins {
		if in.Kind == ticker.KindIndex && in.Underlying == underlying {
			t, ok := eng.Latest(in.Token)
			return t.LastPrice, ok && t.LastPrice > 0
		}
	}
	return 0, false
}

// parseAt reads -at: RFC 3339, or a date and time in IST.
func parseAt(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, market.IST()); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("-at: want RFC 3339 or 2006-01-02T15:04 (IST), got %q", s)
}

// memPublisher is the in-process publisher: it keeps the latest tick of
// every instrument, as a consumer reading a latest-value hash would.
type memPublisher struct {
	mu     sync.Mutex
	latest map[uint32]ticker.Tick
}

func (p *memPublisher) Publish(ctx context.Context, ticks []ticker.Tick) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, t := range ticks {
		p.latest[t.Token] = t
	}
	return ctx.Err()
}

func serveHTTP(addr string, eng *ticker.Engine, reg *prometheus.Registry, logger *slog.Logger) (*http.Server, error) {
	page, err := chainpage.New(chainpage.Config{Engine: eng, Name: "example", Registerer: reg, Logger: logger})
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("GET /", page) // the live option-chain page and its event stream
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		h := eng.Health()
		w.Header().Set("Content-Type", "application/json")
		// 503 only when stopped: a degraded engine (an open breaker during
		// a Redis outage, say) is alive and recovers by itself, so a
		// liveness probe must not restart it; the body says why.
		b, err := json.Marshal(h)
		if err != nil { // never an empty 200: say why, and log it
			logger.Error("health cannot be encoded", "error", err.Error())
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = io.WriteString(w, `{"status":"unknown","reasons":["health cannot be encoded"]}`+"\n")
			return
		}
		if h.Status == "stopped" {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		_, _ = w.Write(append(b, '\n'))
	})
	srv := &http.Server{Addr: ln.Addr().String(), Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	srv.RegisterOnShutdown(page.Close) // open pages end their streams, so Shutdown does not wait on them
	go func() { _ = srv.Serve(ln) }()
	return srv, nil
}

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
// they go to Redis through ticker/redispub. -http serves /metrics and
// /healthz. It stops on Ctrl-C, or after -duration, with a final
// accounting line.
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
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/steadfast-go/steadfast/ticker"
	"github.com/steadfast-go/steadfast/ticker/chainpage"
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
	if !(o.speed > 0) || math.IsInf(o.speed, 0) {
		return fmt.Errorf("-speed must be positive, got %v", o.speed)
	}
	if o.interval <= 0 {
		return fmt.Errorf("-interval must be positive, got %v", o.interval)
	}
	clock := newSimClock(time.Now(), o.speed)

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	src, err := ticker.NewMockSource(ticker.MockConfig{
		Seed: o.seed, Now: clock.Now, Interval: o.interval, Underlyings: specs,
		RollStrikesPerSide: o.strikes, Logger: logger, Registerer: reg,
	})
	if err != nil {
		return err
	}
	pub, closePub, err := newPublisher(o.redisURL, logger, reg)
	if err != nil {
		return err
	}
	defer closePub()

	eng, err := ticker.New(ticker.Config{
		Source:    src,
		Publisher: pub,
		Instruments: func(context.Context) ([]ticker.Instrument, error) {
			return ticker.Universe(ticker.UniverseConfig{
				Seed: o.seed, Date: clock.Now(), Underlyings: specs,
				Expiries: o.expiries, StrikesPerSide: o.strikes,
			})
		},
		Name:       "example",
		Logger:     logger,
		Registerer: reg,
	})
	if err != nil {
		return err
	}

	var wg sync.WaitGroup
	defer wg.Wait()
	if o.httpAddr != "" {
		srv, err := serveHTTP(o.httpAddr, eng, reg)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "serving /metrics and /healthz on http://%s\n", srv.Addr)
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
	fmt.Fprintf(out, "streaming the mock %s chains (%d expiries, %d strikes a side, seed %d, %gx clock) to the %s; Ctrl-C stops\n",
		strings.Join(names(specs), " and "), o.expiries, o.strikes, o.seed, o.speed, sink)

	runErr := make(chan error, 1)
	go func() { runErr <- eng.Run(ctx) }()
	report(ctx, out, eng, src, clock, specs, o)
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
func report(ctx context.Context, out io.Writer, eng *ticker.Engine, src *ticker.MockSource,
	clock *simClock, specs []ticker.UnderlyingSpec, o options) {
	sec := time.NewTicker(time.Second)
	defer sec.Stop()
	prev := eng.Stats()
	lastView := time.Now()
	lastReload := clock.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-sec.C:
		}
		s := eng.Stats()
		h := eng.Health()
		fmt.Fprintf(out, "%s  ticks/s %6d  published %9d  conflated %8d  dropped %6d  breaker %-9s  pending %5d  %s\n",
			clock.Now().In(ticker.IST()).Format("15:04:05 IST"), s.Produced-prev.Produced, s.Published, s.Conflated,
			s.Dropped.Total(), h.Breaker, s.Pending, h.Status)
		prev = s
		if now := clock.Now(); now.Sub(lastReload) >= time.Minute {
			lastReload = now
			eng.Reload()
		}
		if o.view > 0 && time.Since(lastView) >= o.view {
			lastView = time.Now()
			printView(out, eng, src, clock.Now(), specs)
		}
	}
}

// printView prints, per underlying, the at-the-money strike of the nearest
// expiry with its call and put.
func printView(out io.Writer, eng *ticker.Engine, src *ticker.MockSource, now time.Time, specs []ticker.UnderlyingSpec) {
	ins := eng.Instruments()
	for _, sp := range specs {
		spot, ok := src.Spot(sp.Name)
		if !ok {
			continue
		}
		chain := ticker.SelectChain(ins, sp.Name, spot, now, 1, 0)
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

func names(specs []ticker.UnderlyingSpec) []string {
	out := make([]string, len(specs))
	for i, s := range specs {
		out[i] = s.Name
	}
	return out
}

// pickUnderlyings maps -underlyings to the specs the ticker package knows.
func pickUnderlyings(list string) ([]ticker.UnderlyingSpec, error) {
	known := map[string]ticker.UnderlyingSpec{}
	for _, s := range []ticker.UnderlyingSpec{ticker.NIFTY(), ticker.BANKNIFTY()} {
		known[s.Name] = s
	}
	var out []ticker.UnderlyingSpec
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

// simClock runs from start at speed times real time.
type simClock struct {
	start time.Time
	wall  time.Time
	speed float64
}

func newSimClock(start time.Time, speed float64) *simClock {
	return &simClock{start: start, wall: time.Now(), speed: speed}
}

func (c *simClock) Now() time.Time {
	return c.start.Add(time.Duration(float64(time.Since(c.wall)) * c.speed))
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

func serveHTTP(addr string, eng *ticker.Engine, reg *prometheus.Registry) (*http.Server, error) {
	page, err := chainpage.New(chainpage.Config{Engine: eng})
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
		if h.Status != "ok" {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		_ = json.NewEncoder(w).Encode(h)
	})
	srv := &http.Server{Addr: ln.Addr().String(), Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return srv, nil
}

// Command ticker streams the mock NIFTY and BANKNIFTY option chains through
// the streaming engine, with no infrastructure:
//
//	go run ./examples/ticker
//
// Every second it prints one line of accounting (ticks per second over the
// last five seconds, published, conflated, dropped, the breaker's state,
// pending, the engine's status, the next probe while the breaker is open),
// and every few seconds a compact
// at-the-money view of each chain (strike, call and put price, IV, delta).
// It logs at INFO, so the breaker's state changes and "publishing
// recovered" show; -log-level asks for more or less. It stops on Ctrl-C,
// or after -duration, with a final accounting line. Every flag is checked
// before anything starts; -h lists them with their ranges.
//
// Without -redis the ticks go to an in-process publisher that keeps the
// latest tick of every instrument; with -redis they go to Redis through
// ticker/redispub, one PUBLISH channel per underlying (ticks:NIFTY, ...).
// Nothing else is written unless asked: -latest-hash adds a hash of every
// instrument's latest payload, -spublish publishes with SPUBLISH, -stream
// appends to Redis streams instead. While the breaker is open, the status
// line says when it will probe Redis next; -open-timeout fixes the open
// period (by default it starts at 1s and grows with each failed probe).
// -replica runs the engine as one replica of a group (ticker/replica).
//
// -http serves the live option-chain page at /, the metrics at /metrics,
// and the engine's health at /healthz and /livez: /healthz answers 200 when
// the engine is ok and 503 when it is degraded or stopped (for a readiness
// probe or a load balancer), /livez 200 unless it has stopped (for a
// liveness probe: a degraded engine recovers by itself and must not be
// restarted). Both bodies are the engine's Health as JSON.
//
// The mock trades only in the NSE session (09:15-15:30 IST on trading
// days). Outside it, the example replays the latest session from its open on
// a simulated clock, and says so on its first line; -at picks another start
// time and -speed runs the clock faster.
//
// With -source kite, -api-key and the access token in the environment
// variable KITE_ACCESS_TOKEN (never a flag: flags show in the process list),
// and -instruments naming the broker's instrument dump (CSV), it streams live
// ticks from Kite Connect during market hours; without credentials or a
// dump, or outside market hours, it says why and streams the mock.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/steadfast-go/steadfast/breaker"
	"github.com/steadfast-go/steadfast/reloader"
	"github.com/steadfast-go/steadfast/ticker"
	"github.com/steadfast-go/steadfast/ticker/market"
)

func main() {
	c, err := parseFlags(os.Args[1:], os.Stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return
	case err != nil:
		fmt.Fprintln(os.Stderr, "ticker:", err)
		os.Exit(2)
	}
	if err := run(c, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "ticker:", err)
		os.Exit(1)
	}
}

// run streams as c asks until Ctrl-C or c.duration, printing to out and
// logging to logOut.
func run(c config, out, logOut io.Writer) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if c.duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.duration)
		defer cancel()
	}
	logger := slog.New(slog.NewTextHandler(logOut, &slog.HandlerOptions{Level: c.level}))

	hours := market.Hours{Holidays: market.Holidays2026()}
	at := c.at
	if at.IsZero() {
		at = time.Now()
	}
	start := hours.ReplayStart(at)
	clock := market.SessionClock(at, hours, c.speed)

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	var engine atomic.Pointer[ticker.Engine] // for the live chains' centre
	latest := func(token uint32) (ticker.Tick, bool) {
		if e := engine.Load(); e != nil {
			return e.Latest(token)
		}
		return ticker.Tick{}, false
	}
	src, instruments, live, err := newSource(c, hours, clock, latest, out, logger, reg)
	if err != nil {
		return err
	}
	pub, closePub, err := newPublisher(ctx, c, logger, reg)
	if err != nil {
		return err
	}
	defer closePub()

	eng, runEngine, err := newEngine(c, ticker.Config{
		Source:      src,
		Publisher:   pub,
		Instruments: instruments,
		// Zero: the engine's default, an open period growing from 1s.
		Breaker: breaker.Config{OpenTimeout: c.openTimeout},
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
	if c.httpAddr != "" {
		srv, err := serveHTTP(c.httpAddr, eng, reg, logger)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "serving the option chain on http://%s/ (and /metrics, /healthz, /livez)\n", srv.Addr)
		wg.Go(func() {
			<-ctx.Done()
			sctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			_ = srv.Shutdown(sctx)
		})
	}
	fmt.Fprintln(out, banner(c, live, at, start))

	runErr := make(chan error, 1)
	go func() { runErr <- runEngine(ctx) }()
	report(ctx, out, eng, clock, c)
	err = <-runErr
	s := eng.Stats()
	fmt.Fprintf(out, "final: produced %d = published %d + conflated %d + invalid %d + dropped %d + pending %d (identity %s); catch-up %d, batches %d\n",
		s.Produced, s.Published, s.Conflated, s.Invalid, s.Dropped.Total(), s.Pending,
		identity(s), s.CatchUp, s.Batches)
	return err
}

// banner is the first line: what streams, on which clock, to where.
func banner(c config, live bool, at, start time.Time) string {
	sink := "in-process publisher"
	if c.redisURL != "" {
		sink = "Redis at " + redactURL(c.redisURL)
	}
	if live {
		return fmt.Sprintf("streaming live %s chains from Kite Connect to the %s; Ctrl-C stops",
			strings.Join(names(c.specs), " and "), sink)
	}
	var when string
	switch {
	case !start.Equal(at):
		when = "a replay of the session that opened " + start.In(market.IST()).Format("Mon 2 Jan 2006 15:04 IST") +
			" (the market is closed at " + at.In(market.IST()).Format("Mon 2 Jan 2006 15:04 IST") + ")"
	case !c.at.IsZero():
		when = "a simulated clock from " + at.In(market.IST()).Format("Mon 2 Jan 2006 15:04 IST") + " (-at)"
	default:
		when = "live time"
	}
	return fmt.Sprintf("streaming the mock %s chains (%d expiries, %d strikes a side, seed %d) on %s, %gx clock, to the %s; Ctrl-C stops",
		strings.Join(names(c.specs), " and "), c.expiries, c.strikes, c.seed, when, c.speed, sink)
}

func identity(s ticker.Stats) string {
	if s.Produced == s.Published+s.Conflated+s.Invalid+s.Dropped.Total()+s.Pending {
		return "holds"
	}
	return "BROKEN"
}

func names(specs []market.UnderlyingSpec) []string {
	out := make([]string, len(specs))
	for i, s := range specs {
		out[i] = s.Name
	}
	return out
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

// Command breaker shows a circuit breaker in front of a flaky upstream: it
// opens after consecutive failures, fails fast while open, probes after the
// open timeout, re-opens when a probe fails, and closes once the probes
// succeed. It finishes by itself in about a second. -threshold,
// -open-timeout and -probes change the breaker; -h lists them.
//
//	go run ./examples/breaker
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/steadfast-go/steadfast/breaker"
)

var errDown = errors.New("upstream: connection refused")

// upstream is a stand-in for a remote service that can be switched off.
type upstream struct{ down atomic.Bool }

func (u *upstream) quote(context.Context) (float64, error) {
	if u.down.Load() {
		return 0, errDown
	}
	return 24315.5, nil
}

// settings are the example's flags.
type settings struct {
	threshold   int
	openTimeout time.Duration
	probes      int
}

func main() {
	var st settings
	fs := flag.NewFlagSet("breaker", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: go run ./examples/breaker [flags]

Shows a circuit breaker in front of a flaky upstream: it opens after
-threshold consecutive failures, fails fast while open, turns half-open by
itself after -open-timeout, re-opens when a probe fails, and closes once
-probes probes succeed. Then it prints its counts and metrics.

Flags:
`)
		fs.PrintDefaults()
	}
	fs.IntVar(&st.threshold, "threshold", 3, "consecutive failures that open the breaker, in [1, 100]")
	fs.DurationVar(&st.openTimeout, "open-timeout", 300*time.Millisecond, "time open before probing, in [10ms, 10s]")
	fs.IntVar(&st.probes, "probes", 2, "successful probes that close it again, in [1, 10]")
	switch err := fs.Parse(os.Args[1:]); {
	case errors.Is(err, flag.ErrHelp):
		return
	case err != nil:
		os.Exit(2)
	case fs.NArg() > 0:
		fmt.Fprintf(os.Stderr, "breaker example: unexpected argument %q (-h lists the flags)\n", fs.Arg(0))
		os.Exit(2)
	}
	if err := st.check(); err != nil {
		fmt.Fprintln(os.Stderr, "breaker example:", err)
		os.Exit(2)
	}
	if err := run(st); err != nil {
		fmt.Fprintln(os.Stderr, "breaker example:", err)
		os.Exit(1)
	}
}

// check refuses a flag out of its range, naming it.
func (st settings) check() error {
	switch {
	case st.threshold < 1 || st.threshold > 100:
		return fmt.Errorf("-threshold must be in [1, 100], got %d", st.threshold)
	case st.openTimeout < 10*time.Millisecond || st.openTimeout > 10*time.Second:
		return fmt.Errorf("-open-timeout must be in [10ms, 10s], got %v", st.openTimeout)
	case st.probes < 1 || st.probes > 10:
		return fmt.Errorf("-probes must be in [1, 10], got %d", st.probes)
	}
	return nil
}

func run(st settings) error {
	openTimeout := st.openTimeout
	start := time.Now()
	reg := prometheus.NewRegistry()
	// OnStateChange runs inside the call that caused the change, before that
	// call returns; collect the changes and print them after the call's own
	// line, so the output reads in cause-and-effect order. The breaker also
	// logs each change (to open at Warn, else Info); this example prints them
	// itself, so it gives the breaker a logger that drops its records.
	var (
		mu      sync.Mutex
		changes []string
	)
	b, err := breaker.New(breaker.Config{
		Name:             "quotes",
		FailureThreshold: st.threshold,
		OpenTimeout:      openTimeout,
		HalfOpenMaxCalls: st.probes,
		Registerer:       reg,
		Logger:           slog.New(slog.DiscardHandler),
		OnStateChange: func(name string, from, to breaker.State) {
			mu.Lock()
			defer mu.Unlock()
			changes = append(changes, fmt.Sprintf("%6s  ** breaker %q: %s -> %s", since(start), name, from, to))
		},
	})
	if err != nil {
		return err
	}
	printChanges := func() {
		mu.Lock()
		defer mu.Unlock()
		for _, c := range changes {
			fmt.Println(c)
		}
		changes = nil
	}
	up := &upstream{}
	ctx := context.Background()
	call := func() {
		price, err := breaker.Call(ctx, b, up.quote)
		switch {
		case err == nil:
			fmt.Printf("%6s  quote %.1f\n", since(start), price)
		case breaker.IsRejected(err): // ErrOpen or ErrTooManyCalls
			fmt.Printf("%6s  rejected, upstream not called: %v\n", since(start), err)
		default:
			fmt.Printf("%6s  failed: %v\n", since(start), err)
		}
		printChanges()
	}

	fmt.Println("upstream healthy")
	call()
	call()

	fmt.Printf("upstream goes down: %d failures open the breaker, then calls fail fast\n", st.threshold)
	up.down.Store(true)
	for range st.threshold + 2 {
		call()
	}

	state := waitOut(b, openTimeout)
	printChanges()
	fmt.Printf("after the open timeout (%v) the breaker is %s, with no call needed\n", openTimeout, state)
	fmt.Println("the first probe fails: open again for a fresh timeout")
	call()
	call()

	fmt.Println("upstream recovers")
	up.down.Store(false)
	state = waitOut(b, openTimeout)
	printChanges()
	fmt.Printf("after another %v: %s\n", openTimeout, state)
	fmt.Printf("probes that succeed close it (-probes %d)\n", st.probes)
	for range st.probes + 1 {
		call()
	}

	fmt.Printf("counts since it closed: %+v\n", b.Counts())
	return printCalls(reg)
}

// waitOut sleeps through the open timeout and returns the state then.
func waitOut(b *breaker.Breaker, openTimeout time.Duration) breaker.State {
	time.Sleep(openTimeout + 10*time.Millisecond)
	return b.State()
}

func since(start time.Time) string {
	return time.Since(start).Round(10 * time.Millisecond).String()
}

// printCalls prints the cumulative call counters, as a scrape would see them.
func printCalls(reg *prometheus.Registry) error {
	mfs, err := reg.Gather()
	if err != nil {
		return err
	}
	var lines []string
	for _, mf := range mfs {
		if mf.GetName() != "steadfast_breaker_calls_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "result" {
					lines = append(lines, fmt.Sprintf("  %s{result=%q} %v", mf.GetName(), l.GetValue(), m.GetCounter().GetValue()))
				}
			}
		}
	}
	sort.Strings(lines)
	fmt.Println("metrics (cumulative):")
	for _, l := range lines {
		fmt.Println(l)
	}
	return nil
}

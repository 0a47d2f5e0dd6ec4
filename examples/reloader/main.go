// Command reloader shows a reloader loading once at startup, coalescing a
// burst of triggers into one reload, MaxDelay bounding a continuous stream
// of triggers, and a failed reload being retried, then what its Stats
// counted. It finishes by itself in about three seconds; -triggers and
// -debounce change the burst, and -h lists the flags.
//
//	go run ./examples/reloader
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/steadfast-go/steadfast/reloader"
)

func main() {
	fs := flag.NewFlagSet("reloader", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: go run ./examples/reloader [flags]

Shows a reloader: a Load at startup, a burst of -triggers triggers coalesced
into one reload -debounce after the last, MaxDelay bounding a continuous
stream of triggers, a failed reload retried, TriggerWait, and the Stats that
count all of it.

Flags:
`)
		fs.PrintDefaults()
	}
	burst := fs.Int("triggers", 1000, "triggers in the burst, in [1, 1000000]")
	debounce := fs.Duration("debounce", 200*time.Millisecond, "quiet time after the last trigger, in [10ms, 400ms]")
	switch err := fs.Parse(os.Args[1:]); {
	case errors.Is(err, flag.ErrHelp):
		return
	case err != nil:
		os.Exit(2)
	case fs.NArg() > 0:
		fmt.Fprintf(os.Stderr, "reloader example: unexpected argument %q (-h lists the flags)\n", fs.Arg(0))
		os.Exit(2)
	}
	switch {
	case *burst < 1 || *burst > 1_000_000:
		fmt.Fprintf(os.Stderr, "reloader example: -triggers must be in [1, 1000000], got %d\n", *burst)
		os.Exit(2)
	case *debounce < 10*time.Millisecond || *debounce > 400*time.Millisecond:
		// Above 400ms the 500ms pause after the burst would not see its
		// reload.
		fmt.Fprintf(os.Stderr, "reloader example: -debounce must be in [10ms, 400ms], got %v\n", *debounce)
		os.Exit(2)
	}
	if err := run(*burst, *debounce); err != nil {
		fmt.Fprintln(os.Stderr, "reloader example:", err)
		os.Exit(1)
	}
}

func run(burst int, debounce time.Duration) error {
	began := time.Now()
	since := func() string { return fmt.Sprintf("%5dms", time.Since(began).Milliseconds()) }

	var mu sync.Mutex
	n := 0
	// The reload: fetch a subscription list from a slow upstream that fails
	// once.
	load := func(ctx context.Context) error {
		mu.Lock()
		n++
		call := n
		mu.Unlock()
		fmt.Printf("%s  reload %d starts\n", since(), call)
		select {
		case <-time.After(100 * time.Millisecond):
		case <-ctx.Done():
			return ctx.Err()
		}
		if call == 3 {
			return errors.New("upstream returned 503")
		}
		return nil
	}

	r, err := reloader.New(load, reloader.Config{
		Name:         "subscriptions",
		Debounce:     debounce,
		MaxDelay:     time.Second,
		MinInterval:  300 * time.Millisecond,
		RetryBackoff: 200 * time.Millisecond,
		Logger:       slog.New(slog.DiscardHandler),
		OnError: func(err error) {
			fmt.Printf("%s  reload failed: %v (will retry)\n", since(), err)
		},
	})
	if err != nil {
		return err
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	// 0. Load once before serving: the reload runs now and its error is
	// returned (no debounce, no Run needed).
	fmt.Printf("%s  startup Load\n", since())
	if err := r.Load(ctx); err != nil {
		return fmt.Errorf("startup load: %w", err)
	}
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()

	// 1. A burst: 4 goroutines share the triggers, within a few
	// milliseconds. One reload serves them all, Debounce after the last.
	fmt.Printf("%s  burst of %d triggers\n", since(), burst)
	var wg sync.WaitGroup
	for g := range 4 {
		n := burst / 4
		if g < burst%4 {
			n++
		}
		wg.Go(func() {
			for range n {
				r.Trigger()
			}
		})
	}
	wg.Wait()
	time.Sleep(500 * time.Millisecond)

	// 2. A continuous stream, a trigger every 50ms for 2s: the debounce
	// never sees a pause, but MaxDelay forces a reload a second after the
	// first unserved trigger. That reload fails; the retry, held to 300ms
	// after its start by MinInterval, serves the triggers that came
	// meanwhile.
	fmt.Printf("%s  a trigger every 50ms for 2s\n", since())
	for range 40 {
		r.Trigger()
		time.Sleep(50 * time.Millisecond)
	}

	// 3. Wait for the result of a reload that starts after this call (a
	// reload already running never answers it).
	fmt.Printf("%s  TriggerWait\n", since())
	if err := r.TriggerWait(ctx); err != nil {
		fmt.Printf("%s  TriggerWait: %v\n", since(), err)
	} else {
		fmt.Printf("%s  TriggerWait: reloaded\n", since())
	}

	cancel()
	if err := <-done; err != nil { // nil when its context ends
		return err
	}
	st := r.Stats()
	// Reloads counts every run of the reload function: those a Load asked
	// for, the retries of failed ones, and those triggers asked for; each
	// trigger either asked for a reload or was coalesced into one already
	// asked for (see reloader.Stats).
	fmt.Printf("\nreloads %d = %d by Load + %d retries + %d for triggers; failures %d\n",
		st.Reloads, st.Loads, st.Retries, st.Reloads-st.Loads-st.Retries, st.Failures)
	fmt.Printf("triggers %d = %d that asked for a reload + %d coalesced into one already asked for\n",
		st.Triggers, st.Triggers-st.Coalesced, st.Coalesced)
	return nil
}

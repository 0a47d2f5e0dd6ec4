// Command reloader shows a reloader loading once at startup, coalescing a
// burst of triggers into one reload, MaxDelay bounding a continuous stream
// of triggers, and a failed reload being retried. It finishes by itself in
// about three seconds.
//
//	go run ./examples/reloader
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/steadfast-go/steadfast/reloader"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "reloader example:", err)
		os.Exit(1)
	}
}

func run() error {
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
		Debounce:     200 * time.Millisecond,
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

	// 1. A burst: 4 goroutines fire 250 triggers each within a few
	// milliseconds. One reload serves them all, 200ms after the last.
	fmt.Printf("%s  burst of 1000 triggers\n", since())
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 250 {
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
	fmt.Printf("\ntriggers %d, reloads %d (loads %d, retries %d, failures %d), coalesced %d\n",
		st.Triggers, st.Reloads, st.Loads, st.Retries, st.Failures, st.Coalesced)
	return nil
}

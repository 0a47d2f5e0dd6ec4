package reloader_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/steadfast-go/steadfast/reloader"
)

// A burst of change notifications leads to one reload. Triggers made before
// Run starts are remembered.
func Example() {
	reloaded := make(chan struct{}, 1)
	load := func(ctx context.Context) error {
		fmt.Println("reloading the subscription list")
		reloaded <- struct{}{}
		return nil
	}
	r, err := reloader.New(load, reloader.Config{
		Name:     "subscriptions",
		Debounce: 20 * time.Millisecond,
	})
	if err != nil {
		panic(err)
	}
	for range 10 {
		r.Trigger() // e.g. from a webhook handler; never blocks
	}

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	<-reloaded
	cancel()
	fmt.Println("Run:", <-done)

	st := r.Stats()
	fmt.Printf("triggers=%d reloads=%d coalesced=%d\n", st.Triggers, st.Reloads, st.Coalesced)
	// Output:
	// reloading the subscription list
	// Run: <nil>
	// triggers=10 reloads=1 coalesced=9
}

// TriggerWait returns the result of a reload that starts after the call. A
// failed reload is reported to OnError and retried on its own.
func ExampleReloader_TriggerWait() {
	attempt := 0
	load := func(ctx context.Context) error {
		attempt++
		if attempt == 1 {
			return errors.New("upstream unavailable")
		}
		return nil
	}
	r, err := reloader.New(load, reloader.Config{
		Debounce:     -1, // no debounce
		MinInterval:  -1, // no rate limit
		RetryBackoff: time.Millisecond,
		Logger:       slog.New(slog.DiscardHandler),
		OnError:      func(err error) { fmt.Println("OnError:", err) },
	})
	if err != nil {
		panic(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()

	fmt.Println("first:", r.TriggerWait(ctx))
	fmt.Println("second:", r.TriggerWait(ctx))
	cancel()
	<-done
	// Output:
	// OnError: upstream unavailable
	// first: upstream unavailable
	// second: <nil>
}

// Stats reports what the reloader has done so far.
func ExampleReloader_Stats() {
	r, err := reloader.New(func(ctx context.Context) error { return nil }, reloader.Config{Debounce: -1})
	if err != nil {
		panic(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	if err := r.TriggerWait(ctx); err != nil {
		panic(err)
	}
	cancel()
	<-done
	r.Trigger() // between Runs: kept for the next Run

	st := r.Stats()
	fmt.Println("triggers:", st.Triggers)
	fmt.Println("reloads:", st.Reloads, "failures:", st.Failures)
	fmt.Println("last error:", st.LastError)
	fmt.Println("succeeded once:", !st.LastSuccess.IsZero())
	b, _ := json.Marshal(reloader.Stats{LastError: errors.New("upstream unavailable")})
	fmt.Println(strings.Contains(string(b), `"last_error":"upstream unavailable"`))
	// Output:
	// triggers: 2
	// reloads: 1 failures: 0
	// last error: <nil>
	// succeeded once: true
	// true
}

// Load reloads at once and returns the result: a host loads its
// configuration before it serves, then runs the reloader for the changes.
func ExampleReloader_Load() {
	load := func(ctx context.Context) error {
		fmt.Println("loading the subscription list")
		return nil
	}
	r, err := reloader.New(load, reloader.Config{Name: "subscriptions"})
	if err != nil {
		panic(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := r.Load(ctx); err != nil { // no Run yet: Load runs it itself
		fmt.Println("cannot start:", err)
		return
	}
	fmt.Println("serving")

	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	fmt.Println("Load with Run active:", r.Load(ctx)) // no debounce, no MinInterval
	cancel()
	fmt.Println("Run:", <-done)
	fmt.Println("loads:", r.Stats().Loads)
	// Output:
	// loading the subscription list
	// serving
	// loading the subscription list
	// Load with Run active: <nil>
	// Run: <nil>
	// loads: 2
}

// Run returns nil when its context ends and can be called again, so a
// supervisor with a restart policy may simply call it again. Triggers made
// between two Runs are served by the next.
func ExampleReloader_Run() {
	reloaded := make(chan struct{})
	r, err := reloader.New(func(ctx context.Context) error {
		reloaded <- struct{}{}
		return nil
	}, reloader.Config{Debounce: -1, MinInterval: -1})
	if err != nil {
		panic(err)
	}
	for i := range 2 {
		r.Trigger()
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- r.Run(ctx) }()
		<-reloaded
		cancel()
		fmt.Printf("Run %d returned %v\n", i+1, <-done)
	}
	fmt.Println("reloads:", r.Stats().Reloads)
	// Output:
	// Run 1 returned <nil>
	// Run 2 returned <nil>
	// reloads: 2
}

// New refuses a nil function and a configuration it cannot default.
func ExampleNew() {
	_, err := reloader.New(nil, reloader.Config{})
	fmt.Println(err)
	_, err = reloader.New(func(context.Context) error { return nil }, reloader.Config{})
	fmt.Println("Config{}:", err)
	// Output:
	// reloader: fn must not be nil
	// Config{}: <nil>
}

// Each zero field of Config means a documented default, and a default yields
// to the fields you set; two values you set that contradict each other are
// refused with an error naming the fields.
func ExampleConfig() {
	cfg := reloader.Config{
		Name:        "subscriptions",
		Debounce:    2 * time.Second,  // wait for a 2s pause in the triggers…
		MaxDelay:    30 * time.Second, // …but never more than 30s
		MinInterval: 10 * time.Second, // at most one reload per 10s
		Timeout:     time.Minute,      // per reload
	}
	_, err := reloader.New(func(context.Context) error { return nil }, cfg)
	fmt.Println(err)

	cfg.MaxDelay = time.Second
	_, err = reloader.New(func(context.Context) error { return nil }, cfg)
	fmt.Println(err)

	// The default Debounce (1s) shrinks to a shorter MaxDelay.
	_, err = reloader.New(func(context.Context) error { return nil }, reloader.Config{MaxDelay: 500 * time.Millisecond})
	fmt.Println(err)
	// Output:
	// <nil>
	// reloader: Config.MaxDelay (1s) must not be shorter than Config.Debounce (2s)
	// <nil>
}

// A panic in the reload function is contained: it becomes a *PanicError,
// counted as a failure and retried.
func ExamplePanicError() {
	calls := 0
	r, err := reloader.New(func(ctx context.Context) error {
		calls++
		if calls == 1 {
			panic("nil subscription list")
		}
		return nil
	}, reloader.Config{
		Debounce:     -1,
		RetryBackoff: time.Hour,
		Logger:       slog.New(slog.DiscardHandler),
	})
	if err != nil {
		panic(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()

	err = r.TriggerWait(ctx)
	var pe *reloader.PanicError
	if errors.As(err, &pe) {
		fmt.Println("panic value:", pe.Value)
	}
	fmt.Println(err)
	cancel()
	<-done
	fmt.Println("panics:", r.Stats().Panics)
	// Output:
	// panic value: nil subscription list
	// reloader: reload function panicked: nil subscription list
	// panics: 1
}

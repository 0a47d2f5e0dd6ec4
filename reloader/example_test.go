package reloader_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
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
	// Run: context canceled
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
	r.Trigger() // after Run: ignored

	st := r.Stats()
	fmt.Println("triggers:", st.Triggers)
	fmt.Println("reloads:", st.Reloads, "failures:", st.Failures)
	fmt.Println("ignored:", st.Ignored)
	fmt.Println("last error:", st.LastError)
	fmt.Println("succeeded once:", !st.LastSuccess.IsZero())
	// Output:
	// triggers: 2
	// reloads: 1 failures: 0
	// ignored: 1
	// last error: <nil>
	// succeeded once: true
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

// Each zero field of Config means a documented default; a value that
// contradicts another is refused with an error naming the field.
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
	// Output:
	// <nil>
	// reloader: MaxDelay (1s) must not be shorter than Debounce (2s)
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

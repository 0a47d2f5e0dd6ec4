package breaker_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/steadfast-go/steadfast/breaker"
)

var errUnavailable = errors.New("quotes: service unavailable")

// A breaker in front of a flaky dependency: after three consecutive
// failures it stops calling it and fails fast with ErrOpen.
func ExampleBreaker_Do() {
	b, err := breaker.New(breaker.Config{Name: "quotes", FailureThreshold: 3})
	if err != nil {
		panic(err)
	}
	fetch := func(context.Context) error { return errUnavailable }

	for i := 1; i <= 5; i++ {
		err := b.Do(context.Background(), fetch)
		fmt.Printf("call %d: %v (breaker %s)\n", i, err, b.State())
	}
	// Output:
	// call 1: quotes: service unavailable (breaker closed)
	// call 2: quotes: service unavailable (breaker closed)
	// call 3: quotes: service unavailable (breaker open)
	// call 4: breaker: circuit open (breaker open)
	// call 5: breaker: circuit open (breaker open)
}

// Call protects a function that returns a value.
func ExampleCall() {
	b, err := breaker.New(breaker.Config{Name: "prices"})
	if err != nil {
		panic(err)
	}
	price, err := breaker.Call(context.Background(), b, func(context.Context) (float64, error) {
		return 24315.5, nil
	})
	fmt.Println(price, err)
	// Output:
	// 24315.5 <nil>
}

// Allow and Done split admission from reporting, for calls that do not fit in
// a function, such as a request whose result arrives on a channel.
func ExampleBreaker_Allow() {
	b, err := breaker.New(breaker.Config{Name: "orders"})
	if err != nil {
		panic(err)
	}
	replies := make(chan error, 1)

	p, err := b.Allow()
	if err != nil {
		fmt.Println("not sent:", err)
		return
	}
	replies <- nil // send the request; the reply comes back later
	b.Done(p, <-replies)

	fmt.Printf("%+v\n", b.Counts())
	// Output:
	// {Calls:1 Successes:1 Failures:0 Ignored:0 Rejected:0 ConsecutiveSuccesses:1 ConsecutiveFailures:0 Slow:0 WindowCalls:1 FailureRate:0 SlowCallRate:0 OpenPeriod:0s}
}

// OnStateChange sees every transition in order: the breaker opens, turns
// half-open once OpenTimeout has passed (State reports it without any call),
// and closes after a successful probe.
func ExampleConfig_onStateChange() {
	b, err := breaker.New(breaker.Config{
		Name:             "feed",
		FailureThreshold: 1,
		OpenTimeout:      time.Millisecond,
		OnStateChange: func(name string, from, to breaker.State) {
			fmt.Printf("%s: %s -> %s\n", name, from, to)
		},
	})
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	_ = b.Do(ctx, func(context.Context) error { return errUnavailable })
	time.Sleep(2 * time.Millisecond) // longer than OpenTimeout
	fmt.Println("state:", b.State())
	_ = b.Do(ctx, func(context.Context) error { return nil })
	// Output:
	// feed: closed -> open
	// feed: open -> half-open
	// state: half-open
	// feed: half-open -> closed
}

// Counts start over with every state change; the failure-rate trigger looks
// at the last Window calls, and Counts shows the rate it sees.
func ExampleBreaker_Counts() {
	b, err := breaker.New(breaker.Config{Name: "ledger", FailureRate: 0.5, Window: 4})
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	call := func(fail bool) {
		_ = b.Do(ctx, func(context.Context) error {
			if fail {
				return errUnavailable
			}
			return nil
		})
	}
	call(false)
	call(true)
	call(false)
	c := b.Counts()
	fmt.Printf("%s: %d of %d calls failed, rate %.2f over %d calls\n", b.State(), c.Failures, c.Calls, c.FailureRate, c.WindowCalls)
	call(true) // 2 of 4: the rate is reached with MinCalls (= Window) calls
	c = b.Counts()
	fmt.Printf("%s: %d calls, open for %v\n", b.State(), c.Calls, c.OpenPeriod)
	// Output:
	// closed: 1 of 3 calls failed, rate 0.33 over 3 calls
	// open: 0 calls, open for 1m0s
}

// Trip takes a dependency out of service by hand until Reset.
func ExampleBreaker_Trip() {
	b, err := breaker.New(breaker.Config{Name: "exchange", OpenTimeout: time.Nanosecond})
	if err != nil {
		panic(err)
	}
	b.Trip()
	time.Sleep(time.Millisecond) // far beyond OpenTimeout: still open
	fmt.Println(b.State(), b.Forced(), b.Do(context.Background(), func(context.Context) error { return nil }))
	b.Reset()
	fmt.Println(b.State(), b.Forced())
	// Output:
	// open true breaker: circuit open
	// closed false
}

// IsRejected tells a call the breaker refused (the dependency was not
// called) from a call that was made and failed.
func ExampleIsRejected() {
	b, err := breaker.New(breaker.Config{Name: "quotes", FailureThreshold: 1})
	if err != nil {
		panic(err)
	}
	for range 2 {
		err := b.Do(context.Background(), func(context.Context) error { return errUnavailable })
		fmt.Printf("rejected: %t, error: %v\n", breaker.IsRejected(err), err)
	}
	// Output:
	// rejected: false, error: quotes: service unavailable
	// rejected: true, error: breaker: circuit open
}

// A State prints, and marshals to JSON, as a word.
func ExampleState() {
	for _, s := range []breaker.State{breaker.Closed, breaker.Open, breaker.HalfOpen} {
		j, _ := json.Marshal(s)
		fmt.Printf("%d %s %s\n", s, s, j)
	}
	// Output:
	// 0 closed "closed"
	// 1 open "open"
	// 2 half-open "half-open"
}

// Counts reports the calls of the current generation: here, the closed
// state since the breaker was made.
func ExampleCounts() {
	b, err := breaker.New(breaker.Config{Name: "orders"})
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	_ = b.Do(ctx, func(context.Context) error { return nil })
	_ = b.Do(ctx, func(context.Context) error { return errUnavailable })
	_ = b.Do(ctx, func(context.Context) error { return context.Canceled }) // ignored by default
	c := b.Counts()
	fmt.Println("calls:", c.Calls, "successes:", c.Successes, "failures:", c.Failures, "ignored:", c.Ignored)
	fmt.Println("consecutive failures:", c.ConsecutiveFailures)
	// Output:
	// calls: 2 successes: 1 failures: 1 ignored: 1
	// consecutive failures: 1
}

// A Permit belongs to the generation that issued it: once the state has
// changed, its result no longer counts.
func ExamplePermit() {
	b, err := breaker.New(breaker.Config{Name: "quotes"})
	if err != nil {
		panic(err)
	}
	p, err := b.Allow()
	if err != nil {
		panic(err)
	}
	b.Trip()                  // the state changes while the call is in flight
	b.Done(p, errUnavailable) // a stale permit: its failure is not counted
	fmt.Printf("%s, failures: %d\n", b.State(), b.Counts().Failures)

	b.Reset()
	p, _ = b.Allow()
	b.Done(p, errUnavailable) // a current permit counts
	fmt.Printf("%s, failures: %d\n", b.State(), b.Counts().Failures)
	// Output:
	// open, failures: 0
	// closed, failures: 1
}

// With MaxOpenTimeout above OpenTimeout, each failed probe doubles the open
// period (within ±10%, and never above MaxOpenTimeout); NextProbe says when
// the next probe is due. A market feed might use 1s growing to 60s; this
// example uses milliseconds.
func ExampleConfig_maxOpenTimeout() {
	b, err := breaker.New(breaker.Config{
		Name:             "feed",
		FailureThreshold: 1,
		OpenTimeout:      10 * time.Millisecond,
		MaxOpenTimeout:   40 * time.Millisecond,
	})
	if err != nil {
		panic(err)
	}
	down := func(context.Context) error { return errUnavailable }
	_ = b.Do(context.Background(), down)
	for range 4 {
		fmt.Println("open for", b.Counts().OpenPeriod.Round(10*time.Millisecond))
		time.Sleep(time.Until(b.NextProbe())) // zero if already due
		_ = b.Do(context.Background(), down)  // the probe fails
	}
	// Output:
	// open for 10ms
	// open for 20ms
	// open for 40ms
	// open for 40ms
}

// Disable takes the breaker out of the way: every call is admitted and
// nothing is counted, until Reset.
func ExampleBreaker_Disable() {
	b, err := breaker.New(breaker.Config{Name: "quotes", FailureThreshold: 1})
	if err != nil {
		panic(err)
	}
	b.Disable()
	for range 3 {
		err := b.Do(context.Background(), func(context.Context) error { return errUnavailable })
		fmt.Println(err)
	}
	fmt.Println(b.State(), b.Mode(), b.Counts().Failures)
	// Output:
	// quotes: service unavailable
	// quotes: service unavailable
	// quotes: service unavailable
	// closed disabled 0
}

// MetricsOnly counts and computes the rates without ever opening: a way to
// see what a configuration would do before letting it act.
func ExampleBreaker_MetricsOnly() {
	b, err := breaker.New(breaker.Config{Name: "ledger", FailureRate: 0.5, Window: 10})
	if err != nil {
		panic(err)
	}
	b.MetricsOnly()
	for i := range 20 {
		_ = b.Do(context.Background(), func(context.Context) error {
			if i%4 != 0 {
				return errUnavailable
			}
			return nil
		})
	}
	c := b.Counts()
	fmt.Printf("%s, %s: %d failures in %d calls, %.1f over the last %d\n", b.State(), b.Mode(), c.Failures, c.Calls, c.FailureRate, c.WindowCalls)
	b.Reset() // acting again
	fmt.Println(b.Mode())
	// Output:
	// closed, metrics-only: 15 failures in 20 calls, 0.8 over the last 10
	// normal
}

// A Mode prints, and marshals to JSON, as a word.
func ExampleMode() {
	for _, m := range []breaker.Mode{breaker.Normal, breaker.ForcedOpen, breaker.Disabled, breaker.MetricsOnly} {
		j, _ := json.Marshal(m)
		fmt.Printf("%d %s %s\n", m, m, j)
	}
	// Output:
	// 0 normal "normal"
	// 1 forced-open "forced-open"
	// 2 disabled "disabled"
	// 3 metrics-only "metrics-only"
}

// Package breaker implements a three-state circuit breaker. After too many
// failed calls to a dependency it stops making them and fails fast. After a
// while it lets a few probe calls through to decide whether to close again.
// A Breaker is safe for concurrent use. It starts no goroutine; with
// SlowCallDuration or WindowDuration set, a timer keeps a coarse clock while
// calls arrive and stops when they do.
//
//	b, err := breaker.New(breaker.Config{Name: "quotes"})
//	if err != nil {
//		return err
//	}
//	err = b.Do(ctx, fetchQuotes)
//	if breaker.IsRejected(err) {
//		// fail fast: fetchQuotes was not called
//	}
//
// Config{} is valid. Each field's doc gives its default and its range; a
// negative number is an error. Do runs a function, and Call does the same
// for a function that returns a value. Allow and Done split admission from
// reporting without allocating, for code that cannot be wrapped in a
// function. Trip, Disable and MetricsOnly set a mode (see Mode). Reset
// closes the breaker, clears its counts and ends any mode.
//
// # States
//
// A Breaker starts Closed and counts the results of the calls it lets
// through. When they fail too often it opens. While Open it rejects every
// call with ErrOpen. After the open period it is HalfOpen and admits
// HalfOpenMaxCalls probes in total, rejecting the rest with ErrTooManyCalls.
// When that many probes have succeeded it closes. A failing or slow probe
// opens it again, and so does a probe still running after HalfOpenMaxWait.
// With MaxOpenTimeout above OpenTimeout, each failed probe grows the open
// period. NextProbe says when the open period ends.
//
// Open turns HalfOpen by time alone. State, Counts and a metrics scrape
// report HalfOpen once the period has passed, even if no call came. No
// goroutine waits for the timeout, so the change takes effect at the first
// call or observation after it. A breaker forced open by Trip stays open
// until Reset.
//
// # When it opens
//
// Any of three triggers opens it, and all may be on at once. The first is
// FailureThreshold consecutive failures, in the order results reach the
// breaker. The second is FailureRate over the window, once it holds MinCalls
// calls. The window is the last Window calls, or the calls of the last
// WindowDuration. The third is SlowCallRate, the same rule for calls slower
// than SlowCallDuration. Counts reports the window and both rates while
// closed. A fast success never opens the breaker, except when it brings the
// window to MinCalls with a rate already reached.
//
// IsIgnored classifies a result first; an ignored call counts neither way
// and frees its half-open slot. IsFailure decides the rest; a result it
// rejects is a success. A panic or a runtime.Goexit in the protected
// function counts as a failure. Do does not recover the panic, so it goes
// on with its original stack. A nil function and a ctx already done are
// refused without counting anything.
//
// # Permits and generations
//
// Every change of state or mode, and every Reset, starts a generation with
// zero counts. A Permit belongs to the generation that admitted it. Done
// with an older Permit counts in the cumulative metrics only. Done with
// another breaker's Permit is ignored and counted. Pass each Permit to Done
// exactly once. A second Done is not detected; it may skew the counts but
// never breaks the breaker.
//
// # State changes
//
// Each state change is logged: at Warn when the breaker opens, at Info
// otherwise. Then OnStateChange is called with it. Changes are delivered in
// order, one at a time, and never under the breaker's lock. The callback may
// call any method, even one that changes the state again. The goroutine
// that made a change delivers it before its call returns, unless another
// one is already delivering. Keep the callback short. At most 16 changes
// wait; a further one merges into the last, so from and to still chain. A
// panic or Goexit in any callback is contained, logged and counted.
//
// The closed-state path takes no lock, does not allocate and reads no
// system clock. bench/breaker.md measures it beside gobreaker and others.
package breaker

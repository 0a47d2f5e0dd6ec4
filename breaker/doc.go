// Package breaker implements a three-state circuit breaker whose closed-state
// path is lock-free, allocation-free and never reads the clock.
//
// A Breaker starts Closed and lets calls through while counting their
// results. When the calls fail too often it opens: for OpenTimeout every call
// is rejected with ErrOpen without being made. Then it is HalfOpen: it admits
// HalfOpenMaxCalls probe calls (rejecting the rest with ErrTooManyCalls);
// when that many have succeeded it closes, and the first failing probe opens
// it again for a fresh, full OpenTimeout.
//
//	b, err := breaker.New(breaker.Config{Name: "quotes"})
//	...
//	err = b.Do(ctx, func(ctx context.Context) error { return fetch(ctx) })
//
// Do runs a function; Call does the same for a function that returns a
// value; Allow and Done split admission from reporting, for code that cannot
// be wrapped in a function. Trip forces the breaker open until Reset; Reset
// closes it and clears its counts.
//
// # Concurrency
//
// A Breaker is safe for concurrent use by any number of goroutines. It starts
// no goroutines and owns no timers. It reads the clock only when it opens and
// while it is open: in Allow, Do and Call, and in State, Counts and a metrics
// scrape.
//
// # When it opens
//
// Two triggers, either of which opens it; both may be on at once:
//
//   - FailureThreshold consecutive failures (default 10 when FailureRate is
//     zero). A success ends the run. Under concurrency "consecutive" follows
//     the order in which results are reported to the breaker, and it is exact
//     in that order: every failure increments one shared word and every
//     success that finds it non-zero resets it with compare-and-swap, so the
//     count is always that of some serial order of the reports.
//   - FailureRate over the most recent Window calls, once at least MinCalls
//     calls are in the window. The rate is reached when failures/calls,
//     computed as a float64 quotient, is at least FailureRate, so a ratio
//     equal to the decimal written (7 of 100 against 0.07) reaches it. The
//     window is a ring of buckets of max(1, Window/10) calls that drops its
//     oldest bucket as a whole, so once full it covers between Window and
//     Window + Window/10 calls (rounded up to whole buckets); with Window
//     below 20 the buckets hold one call and it is exact. The rate is judged
//     when a failure is reported, and also on each success while the rate
//     is reached but the window holds fewer than MinCalls calls, so a
//     success that brings the window to MinCalls opens the breaker. Otherwise
//     a success never opens it: in an exact window a success can only lower
//     the rate; with larger buckets, a success that pushes out an old bucket
//     of successes can raise it, and the breaker then opens at the next
//     failure if the rate is still reached. Successes enter the window
//     lazily, at the next judgement, after the failures already in it (the
//     order in which results were reported), so the success path does no
//     more work than in the consecutive mode.
//
// A result is classified by Config.IsIgnored first (default: context.Canceled
// is ignored: it counts neither way and frees a half-open slot), then by
// Config.IsFailure (default: any non-nil error is a failure). A result that
// IsFailure rejects is a success. A panic in the protected function, or a
// runtime.Goexit, counts as a failure; the panic then continues unchanged,
// with its original stack, because Do does not recover it. A ctx that is
// already done when Do or Call is entered returns ctx.Err() and counts
// nothing.
//
// # Open to half-open
//
// The change from Open to HalfOpen happens by time alone: once OpenTimeout
// has passed, State, Counts and a metrics scrape report HalfOpen even if no
// call arrived. Because no goroutine waits for the timeout, the change (and
// its OnStateChange call) takes effect at the first of those observations or
// the first call after the timeout.
//
// # Generations and permits
//
// Every state change, and every Reset, starts a new generation with zero
// counts. A Permit belongs to the generation that admitted it; Done with a
// Permit of an earlier generation is counted in the cumulative metrics (the
// call did happen) but never in Counts and never changes the state. Each
// Permit must be passed to Done exactly once; doing otherwise is a bug in the
// caller, which can skew the counts but never breaks the breaker. Half-open
// admits HalfOpenMaxCalls probes in total, not at a time: a finished probe
// does not free its slot, an ignored one does, and a probe that never
// reports (a call that hangs, a Permit never passed to Done) keeps its slot,
// so the breaker stays half-open until it reports or Reset or Trip is
// called. Give protected calls a deadline.
//
// # Counting without a shared hot spot
//
// The closed-state path reads the state word, does one compare-and-swap on a
// counter of its stripe, and reads the failure-streak word and the
// failure-rate flag, which are written only when calls fail. Stripes are
// padded to their own cache lines; there are eight per GOMAXPROCS (as of
// New), rounded up to a power of two and at most 64. A goroutine picks one by
// hashing the address of its stack, so each goroutine keeps reusing its own
// stripe and two running goroutines share one with a probability of about one
// in the number of stripes, which costs speed, never correctness (stacks
// move when they grow; the address is only a hint). Two goroutines that do
// share a stripe keep sharing it while they run, and because the runtime
// reuses freed stacks, a few long-lived workers restarted together may land
// on the same pair of stripes again: sharing then costs them a contended
// compare-and-swap (about 4× the uncontended path). The counts are exact:
// each counter word carries the low 32 bits of its generation, a state
// change re-tags every counter under the lock before it publishes the new
// state, and a result is added only after checking the whole state word, so
// it lands in the generation that admitted it, unless 2^32 state changes
// happen between that check and its compare-and-swap, a few instructions
// apart. Counts is exact
// for Successes, Failures, Ignored, Rejected and ConsecutiveFailures;
// ConsecutiveSuccesses is the number of successes recorded since the latest
// failure, exact when calls do not overlap.
//
// # OnStateChange
//
// Config.OnStateChange is called once per state change, in the order the
// changes happened, never concurrently with itself and never while the
// breaker's lock is held, so it may call any method of the breaker, even one
// that changes the state again (that change is delivered after the current
// call returns). It is called by the goroutine that made the change, unless
// another goroutine is already delivering changes, in which case that one
// delivers it as well; a slow callback therefore delays the call that
// triggered the change, so keep it short. A panic in it, or in IsFailure or
// IsIgnored, is recovered, logged to Config.Logger and counted in the
// callback_panics metric; a panicking classifier counts the call as a
// failure. A runtime.Goexit in one of them (t.FailNow calls it) still ends
// its goroutine, but is logged and counted the same way: the call still
// counts as a failure, and later state changes are still delivered.
//
// # Metrics
//
// With Config.Registerer set, New registers a collector that reads the
// breaker's own counters at scrape time, so calls pay nothing extra. All
// series carry the constant label name=Config.Name, so several breakers can
// share a registry (but two with the same name cannot):
//
//	steadfast_breaker_calls_total{result}          success, failure, ignored, rejected (cumulative)
//	steadfast_breaker_state                        0 closed, 1 open, 2 half-open
//	steadfast_breaker_transitions_total{from,to}   state changes
//	steadfast_breaker_callback_panics_total        contained panics in callbacks
package breaker

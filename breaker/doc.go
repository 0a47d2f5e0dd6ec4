// Package breaker implements a three-state circuit breaker: after too many
// failed calls to a dependency it stops making them and fails fast, and after
// a while it lets a few probe calls through to decide whether to close again.
// A Breaker is safe for concurrent use; it starts no goroutines.
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
// Defaults (Config{} is valid; each zero field means its default, and a
// negative number is an error):
//
//	FailureThreshold  10 consecutive failures open it (off when FailureRate is set)
//	FailureRate       off; in (0,1] it opens on failures/calls over the last Window calls
//	Window, MinCalls  100 calls, and MinCalls = Window (Window grows to a larger MinCalls)
//	OpenTimeout       60s open, then half-open
//	HalfOpenMaxCalls  1 probe; that many successes close it, a failure re-opens it
//	IsFailure         err != nil
//	IsIgnored         errors.Is(err, context.Canceled): counts neither way
//	OnStateChange     none; every state change is logged (to open at Warn, else Info)
//	Logger            slog.Default(), looked up each time it logs
//	Registerer        nil: no metrics
//
// Do runs a function; Call does the same for a function that returns a
// value; Allow and Done split admission from reporting, for code that cannot
// be wrapped in a function, without allocating. Trip forces the breaker open
// until Reset (Forced reports it); Reset closes it and clears its counts.
//
// # States
//
// A Breaker starts Closed and lets calls through while counting their
// results. When they fail too often it opens: for OpenTimeout every call is
// rejected with ErrOpen without being made. Then it is HalfOpen: it admits
// HalfOpenMaxCalls probe calls (rejecting the rest with ErrTooManyCalls);
// when that many have succeeded it closes, and the first failing probe opens
// it again for a fresh, full OpenTimeout.
//
// The change from Open to HalfOpen happens by time alone: once OpenTimeout
// has passed, State, Counts and a metrics scrape report HalfOpen even if no
// call arrived. Because no goroutine waits for the timeout, the change (and
// its OnStateChange call) takes effect at the first of those observations or
// the first call after the timeout. A breaker forced open by Trip never
// turns half-open; Trip on a breaker already open by its own failures is a
// state change from Open to Open, which makes it forced.
//
// # When it opens
//
// Two triggers, either of which opens it; both may be on at once:
//
//   - FailureThreshold consecutive failures. A success ends the run. Under
//     concurrency "consecutive" follows the order in which results are
//     reported to the breaker, and it is exact in that order.
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
//     failure if the rate is still reached.
//
// A result is classified by Config.IsIgnored first (default: context.Canceled
// is ignored: it counts neither way and frees a half-open slot), then by
// Config.IsFailure (default: any non-nil error is a failure). A result that
// IsFailure rejects is a success. A panic in the protected function, or a
// runtime.Goexit, counts as a failure; the panic then continues unchanged,
// with its original stack, because Do does not recover it. A nil function
// (ErrNilFunc) and a ctx that is already done when Do or Call is entered
// (ctx.Err()) are refused without counting anything.
//
// # Generations and permits
//
// Every state change, and every Reset, starts a new generation with zero
// counts. A Permit belongs to the breaker and the generation that admitted
// it. Done with a Permit of an earlier generation is counted in the
// cumulative metrics (the call did happen) but never in Counts and never
// changes the state; Done with a Permit of another breaker is ignored and
// counted in foreign_permits_total (the first one is logged). Each Permit
// must be passed to Done exactly once; passing one twice in the same
// generation is a bug in the caller that is not detected: it can skew the
// counts but never breaks the breaker. Half-open admits HalfOpenMaxCalls
// probes in total, not at a time: a finished probe does not free its slot,
// an ignored one does, and a probe that never reports (a call that hangs, a
// Permit never passed to Done) keeps its slot, so the breaker stays half-open
// until it reports or Reset or Trip is called. Give protected calls a
// deadline.
//
// # State changes: logs and OnStateChange
//
// Every state change is logged to Config.Logger with the message "state
// changed" and the attributes component=breaker, name, from and to (plus
// forced=true for Trip): at Warn when it opens, at Info otherwise. Then
// Config.OnStateChange, if set, is called with it. Both happen in the order
// of the changes, never concurrently and never while the breaker's lock is
// held, so the callback may call any method of the breaker, even one that
// changes the state again (that change is delivered after the current call
// returns).
//
// Who delivers: the goroutine whose call made the change (Allow, Do, Call,
// Done, State, Counts, Reset, Trip or a metrics scrape), before that call
// returns, unless another goroutine is already delivering; that one then
// delivers it too, and keeps delivering until no change is left. A slow
// callback therefore delays the call that made the change, and under a storm
// of changes from many goroutines it delays the one that delivers for as
// long as the storm lasts: keep the callback short. At most 16 changes wait;
// when that many wait, a new change is merged into the last waiting one,
// which then reports from its own from to the newest to (so from and to
// still form an unbroken chain, and from may equal to), and the merged change
// is counted in state_changes_skipped_total and in the record's skipped
// attribute. Memory stays bounded however fast the state changes.
//
// A panic in OnStateChange, IsFailure or IsIgnored is recovered, logged
// (message "callback panicked", with attributes panic and stack) and
// counted in callback_panics_total; a panicking classifier counts the call as
// a failure. A runtime.Goexit in one of them (t.FailNow calls it) still ends
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
//	steadfast_breaker_forced                       1 while forced open by Trip
//	steadfast_breaker_transitions_total{from,to}   state changes (open to open: Trip while open)
//	steadfast_breaker_state_changes_skipped_total  changes merged into the next one (see above)
//	steadfast_breaker_callback_panics_total        contained panics in callbacks
//	steadfast_breaker_foreign_permits_total        permits of another breaker passed to Done
//
// # Cost and implementation
//
// The closed-state path takes no lock, does not allocate and never reads the
// clock; the breaker reads it only when it opens and while it is open: in
// Allow, Do and Call, and in State, Counts and a metrics scrape.
//
// That path reads the state word, does one compare-and-swap on a counter of
// its stripe, and reads the failure-streak word and the failure-rate flag,
// which are written only when calls fail; a success takes the lock only
// when failures came just before it (to end their streak) or while the
// failure rate waits for MinCalls. Successes enter the failure-rate window
// lazily, at the next judgement, after the failures already in it.
//
// Stripes are padded to their own cache lines; there are eight per
// GOMAXPROCS (as of New), rounded up to a power of two and at most 64. A
// goroutine picks one by hashing the address of its stack, so each goroutine
// keeps reusing its own stripe and two running goroutines share one with a
// probability of about one in the number of stripes, which costs speed, never
// correctness (stacks move when they grow; the address is only a hint). Two
// goroutines that do share a stripe keep sharing it while they run, and
// because the runtime reuses freed stacks, a few long-lived workers restarted
// together may land on the same pair of stripes again: sharing then costs
// them a contended compare-and-swap (about 4× the uncontended path). The
// counts are exact: each counter word carries the low 32 bits of its
// generation, a state change re-tags every counter under the lock before it
// publishes the new state, and a result is added only after checking the
// whole state word, so it lands in the generation that admitted it, unless
// 2^32 state changes happen between that check and its compare-and-swap, a
// few instructions apart.
package breaker

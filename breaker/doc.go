// Package breaker implements a three-state circuit breaker: after too many
// failed calls to a dependency it stops making them and fails fast, and after
// a while it lets a few probe calls through to decide whether to close again.
// A Breaker is safe for concurrent use. It starts no goroutine of its own;
// with SlowCallDuration or WindowDuration set, a timer refreshes its coarse
// clock while calls arrive (see "Slow calls and the time window").
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
//	FailureThreshold       10 consecutive failures open it (off when FailureRate is set)
//	FailureRate            off; in (0,1] it opens on failures/calls over the window
//	Window, MinCalls       the last 100 calls, and MinCalls = Window (Window grows to a larger MinCalls)
//	WindowDuration         off; when set, the window is the last WindowDuration instead
//	SlowCallDuration       off; when set, slower calls are slow, and SlowCallRate defaults to 1
//	OpenTimeout            60s open, then half-open
//	MaxOpenTimeout         OpenTimeout: a fixed open period; above it, failed probes grow the period
//	OpenTimeoutMultiplier  2: each failed probe doubles the open period, up to MaxOpenTimeout
//	HalfOpenMaxCalls       1 probe; that many successes close it, a failing or slow one re-opens it
//	HalfOpenMaxWait        the current open period: a probe running longer re-opens it
//	IsFailure              err != nil
//	IsIgnored              errors.Is(err, context.Canceled): counts neither way
//	OnStateChange          none; every state change is logged (to open at Warn, else Info)
//	Logger                 slog.Default(), looked up each time it logs
//	Registerer             nil: no metrics
//
// Do runs a function; Call does the same for a function that returns a
// value; Allow and Done split admission from reporting, for code that cannot
// be wrapped in a function, without allocating. Trip forces the breaker open,
// Disable makes it admit everything and count nothing, MetricsOnly makes it
// count without ever opening (see "Modes"); Reset closes it, clears its
// counts and ends any of those.
//
// # States
//
// A Breaker starts Closed and lets calls through while counting their
// results. When they fail too often it opens: for OpenTimeout every call is
// rejected with ErrOpen without being made. Then it is HalfOpen: it admits
// HalfOpenMaxCalls probe calls (rejecting the rest with ErrTooManyCalls);
// when that many have succeeded it closes, and the first failing or slow
// probe opens it again, for a fresh open period.
//
// The first open period is OpenTimeout. With MaxOpenTimeout above it, each
// probe that fails multiplies the period by OpenTimeoutMultiplier (doubles
// it, by default), with ±10% jitter, up to MaxOpenTimeout (where the jitter
// only shortens it); closing and Reset start over from OpenTimeout. So
// OpenTimeout 1s and MaxOpenTimeout 60s probe after a second at first and
// about once a minute in a long outage. The period grows with the outage:
// calls resume up to about (multiplier-1) times the outage's length after
// it ends, so an 8s outage costs 6-8s more with doubling and at most 2.4s
// with a multiplier of 1.2. NextProbe says when the open period ends;
// Counts.OpenPeriod and the open_period_seconds gauge give its length.
//
// A probe that has been running for HalfOpenMaxWait (default: the current
// open period) counts as a failed probe: the breaker re-opens, and the log
// record says probe_timed_out. So a call that hangs, or a Permit never
// passed to Done, cannot keep it half-open. The wait starts when a probe is
// admitted while no other is running; its late result is then stale.
//
// The change from Open to HalfOpen happens by time alone: once the open
// period has passed, State, Counts and a metrics scrape report HalfOpen even
// if no call arrived; so does the re-opening after HalfOpenMaxWait. Because
// no goroutine waits for the timeout, the change (and its OnStateChange
// call) takes effect at the first of those observations or the first call
// after the timeout. A breaker forced open by Trip never turns half-open;
// Trip on a breaker already open by its own failures is a state change from
// Open to Open, which makes it forced.
//
// # When it opens
//
// Three triggers, any of which opens it; all may be on at once:
//
//   - FailureThreshold consecutive failures. A success ends the run. Under
//     concurrency "consecutive" follows the order in which results are
//     reported to the breaker, and it is exact in that order.
//   - FailureRate over the window, once at least MinCalls calls are in the
//     window. The window is the most recent Window calls, or, with
//     WindowDuration set, the calls of the last WindowDuration (see below).
//     The rate is reached when failures/calls,
//     computed as a float64 quotient, is at least FailureRate, so a ratio
//     equal to the decimal written (7 of 100 against 0.07) reaches it. The
//     window is a ring of buckets of max(1, Window/10) calls that drops its
//     oldest bucket as a whole, so once full it covers between Window and
//     Window + Window/10 calls (rounded up to whole buckets); with Window
//     below 20 the buckets hold one call and it is exact. The rates are
//     judged when a failed or slow call is reported, and also on each
//     success while a rate is reached but the window holds fewer than
//     MinCalls calls, so a success that brings the window to MinCalls opens
//     the breaker. Otherwise a fast success never opens it: in an exact
//     window a success can only lower the rates; with larger buckets (or as
//     time buckets age out), the rate can rise without a failure, and the
//     breaker then opens at the next failed or slow call if it is still
//     reached.
//   - SlowCallRate: the same rule for slow calls (see below) instead of
//     failures, over the same window and with the same MinCalls.
//
// Counts reports the window while closed, whether or not a rate trigger is
// on: WindowCalls, and FailureRate and SlowCallRate (failures and slow
// calls over WindowCalls).
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
// Every change of state or mode, and every Reset, starts a new generation
// with zero counts. A Permit belongs to the breaker and the generation that admitted
// it. Done with a Permit of an earlier generation is counted in the
// cumulative metrics (the call did happen) but never in Counts and never
// changes the state; Done with a Permit of another breaker is ignored and
// counted in foreign_permits_total (the first one is logged). Each Permit
// must be passed to Done exactly once; passing one twice in the same
// generation is a bug in the caller that is not detected: it can skew the
// counts but never breaks the breaker. Half-open admits HalfOpenMaxCalls
// probes in total, not at a time: a finished probe does not free its slot,
// an ignored one does, and a probe that never reports keeps its slot until
// HalfOpenMaxWait re-opens the breaker.
//
// # Slow calls and the time window
//
// With SlowCallDuration set, a call that takes longer is slow, whether it
// succeeds or fails (an ignored call is neither). Slow calls are counted in
// Counts.Slow and slow_calls_total, and open the breaker at SlowCallRate as
// described above. Do and Call time the function; for Allow and Done the
// Permit carries the start.
//
// With WindowDuration set, the window holds the calls reported in the last
// WindowDuration, in 10 buckets of WindowDuration/10 plus the current one: a
// call stays in it for at least WindowDuration and less than 1.1 times it.
//
// Both read time from a coarse clock rather than the system clock, which
// would cost more than the rest of a call through the breaker (bench/breaker.md).
// While calls arrive, a timer stores the time in one word every step:
// SlowCallDuration/20 or WindowDuration/10, whichever is shorter, and at
// least 1ms. Calls only load that word. The timer stops one step after the
// last call, so an idle breaker holds none and needs no Close. A duration is
// therefore measured to within one step (5% of SlowCallDuration, or 1ms),
// plus however late the timer runs on a busy machine, and a result is
// placed in its time bucket to within one step as well.
//
// # Modes
//
// Mode tells who decides the state. Normal: the counts. ForcedOpen, after
// Trip: the breaker rejects every call until Reset. Disabled, after Disable:
// it admits every call and counts nothing, as if it were not there.
// MetricsOnly, after MetricsOnly: it admits every call and counts results,
// slow calls and rates as usual, but never opens, to watch what a
// configuration would do before it acts. In the last two, State is Closed.
// Each of the four methods and Reset starts a new generation; the disabled,
// metrics_only and forced gauges show the mode. A change of mode alone is
// delivered like a state change, from a state to itself (closed to closed),
// with the attribute mode in its log record.
//
// # State changes: logs and OnStateChange
//
// Every state change is logged to Config.Logger with the message "state
// changed" and the attributes component=breaker, name, from and to (plus
// forced=true for Trip, mode=disabled or mode=metrics-only for those modes,
// probe_timed_out=true after HalfOpenMaxWait): at Warn when it opens, at
// Info otherwise. Then
// Config.OnStateChange, if set, is called with it. Both happen in the order
// of the changes, never concurrently and never while the breaker's lock is
// held, so the callback may call any method of the breaker, even one that
// changes the state again (that change is delivered after the current call
// returns).
//
// Who delivers: the goroutine whose call made the change (Allow, Do, Call,
// Done, State, Counts, NextProbe, Reset, Trip, Disable, MetricsOnly, a
// metrics scrape or the coarse clock's timer), before that call returns,
// unless another goroutine is already delivering; that one then delivers it
// too, and keeps delivering until no change is left. A slow
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
//	steadfast_breaker_slow_calls_total             calls slower than SlowCallDuration
//	steadfast_breaker_state                        0 closed, 1 open, 2 half-open
//	steadfast_breaker_open_period_seconds          the current open period; 0 while closed
//	steadfast_breaker_forced                       1 while forced open by Trip
//	steadfast_breaker_disabled                     1 while disabled
//	steadfast_breaker_metrics_only                 1 while in metrics-only mode
//	steadfast_breaker_transitions_total{from,to}   state changes (open to open: Trip while open;
//	                                               closed to closed: a change of mode)
//	steadfast_breaker_state_changes_skipped_total  changes merged into the next one (see above)
//	steadfast_breaker_callback_panics_total        contained panics in callbacks
//	steadfast_breaker_foreign_permits_total        permits of another breaker passed to Done
//
// # Cost and implementation
//
// The closed-state path takes no lock, does not allocate and never reads the
// system clock; it loads the coarse clock when SlowCallDuration or
// WindowDuration is set. The breaker reads the system clock when it opens,
// while it is open or half-open (in Allow, Do, Call, State, Counts,
// NextProbe and a metrics scrape), and, with a time window, when it judges a
// failed or slow call.
//
// That path reads the state word, does one compare-and-swap on a counter of
// its stripe, and reads the failure-streak word and the failure-rate flag,
// which are written only when calls fail; a success takes the lock only
// when failures came just before it (to end their streak), while a rate
// waits for MinCalls, or when it was slow. Successes enter the window
// lazily, at the next judgement (or, in a time window, at the next tick of
// the clock), after the calls already in it. A disabled breaker's path is
// two loads and no count.
//
// The counts live in padded stripes, several per CPU, so that concurrent
// calls seldom write one cache line; they stay exact across state changes.
// bench/breaker.md measures the path, and what two goroutines that happen to
// share a stripe pay.
package breaker

// Package reloader implements a coalescing, debounced, rate-limited reload
// loop that never loses the last trigger.
//
// A Reloader calls your reload function when asked to, however often it is
// asked: a subscription list reloaded when an upstream API says it changed,
// say, where callers may fire hundreds of triggers a second and the reload
// itself is slow and can fail.
//
//	r, err := reloader.New(loadSubscriptions, reloader.Config{Name: "subscriptions"})
//	if err != nil { ... }
//	if err := r.Load(ctx); err != nil { ... } // load once before serving
//	go r.Run(ctx)                             // returns nil when ctx ends
//	r.Trigger()                               // whenever the data may have changed
//
// Defaults (Config's zero fields; a default yields to a field you set):
//
//	Debounce         1s   reload 1s after the latest trigger (negative: off)
//	MaxDelay         10s  but at most 10s after the first unserved trigger
//	MinInterval      5s   start to start, after a failure too (negative: off)
//	Timeout          none per reload
//	RetryBackoff     1s   first retry ceiling after a failure, doubling...
//	MaxRetryBackoff  1m   ...up to this, with full jitter
//	Logger           slog.Default() at the time of logging
//	Registerer       none (no metrics)
//
// Trigger never blocks and never allocates; TriggerWait triggers and waits
// for the result; Load reloads now and returns the result. A failed reload
// is logged, counted, passed to Config.OnError and retried until one
// succeeds. Run returns nil when its context ends and may be called again.
//
// # Concurrency
//
// A Reloader is safe for concurrent use. Trigger costs O(1): triggers are
// counted, never queued, so memory stays constant however many arrive. Run
// starts one goroutine per reload, one at a time, and waits for it; it
// starts no other goroutine, and nothing it started runs once it has
// returned. Load runs its reload on a goroutine of its own and waits for it.
//
// # When a reload starts
//
// Run serves pending triggers with one reload when the first of these comes:
//
//   - Debounce has passed since the latest trigger (a trailing debounce);
//   - MaxDelay has passed since the first trigger not yet served, so a
//     continuous stream of triggers cannot postpone a reload for ever;
//
// and never earlier than MinInterval after the start of the previous reload
// (start to start, whatever its result). MinInterval is a hard floor: it wins
// over MaxDelay. With the defaults a single trigger is served after 1s, a
// continuous stream is served every 10s, and no two reloads start within 5s
// of each other. Triggers made while no Run is active count as arriving when
// Run starts; the time of a trigger is when Run's goroutine notices it, which
// under normal load is within microseconds of the call. Run's goroutine never
// runs the reload function or OnError itself and holds no lock while it
// waits, so it notices triggers while a reload runs too: a trigger during a
// long reload starts the MaxDelay clock at once, and the follow-up may start
// as soon as the reload ends.
//
// # Triggers during a reload, failures and retries
//
// At most one reload runs at a time, Loads included. A trigger that arrives
// while a reload runs is not served by it (it would risk missing the change
// it signals); it guarantees exactly one follow-up reload after it,
// scheduled by the rules above, however many triggers arrive meanwhile.
//
// A reload fails when its function returns an error, panics (the error is a
// *PanicError, result "panic") or calls runtime.Goexit (a *PanicError whose
// Value is ErrGoexit, result "failure"). Config.Timeout cancels the function's context;
// the error it then returns is a failure, but a function that ignores the
// cancellation and returns nil has succeeded. A failure is counted, logged
// at error level and passed to Config.OnError; then the reloader retries on
// its own, after a delay drawn uniformly from [0, ceiling] where the ceiling
// is RetryBackoff doubled after each consecutive failure up to
// MaxRetryBackoff (full jitter), measured from the end of the failed reload,
// and never earlier than MinInterval after its start. It retries until a
// reload succeeds. Triggers that arrive during the failed reload or the
// backoff are served by the retry; they do not make it come sooner. A
// reload that returns an error after its Run's (or Load's) context has
// ended is counted as canceled, not as a failure, and is not reported to
// OnError; the next Run makes it again.
//
// # TriggerWait and Load
//
// TriggerWait triggers and waits for the first reload that starts after the
// call, and returns that reload's error. It never returns the result of a
// reload that was already running. If the active Run returns before such a
// reload starts, TriggerWait returns ErrStopped; if the caller's context
// ends first, it returns the context's error. Called while no Run is
// active, it waits for the next Run or Load.
//
// Load reloads now, without waiting for Debounce or MinInterval, and returns
// the reload's error: it is how a host loads its configuration before it
// serves. With a Run active, Load asks it for the reload, which starts once
// the running one has ended; without one, Load runs the reload itself. A
// Load's reload is counted, logged and reported like any other.
//
// The reload function may call Trigger (the follow-up rule applies), but a
// TriggerWait or Load inside it (or inside OnError) waits for a reload that
// cannot start until the function returns, so it only ends with its context.
//
// # Run, shutdown and supervision
//
// A second Run while one is active returns ErrRunning at once. When Run's
// context ends, Run stops its timer, cancels the running reload's context,
// waits for the reload function (and OnError) to return, and returns nil. A
// reload function that ignores its context therefore delays Run's return.
//
// Run can be called again once it has returned, so a supervisor with a
// restart policy (taskmon.Supervise, say) may simply call Run again: the
// triggers made in between, a pending retry and a reload canceled by the
// end of the earlier Run are served by the next one, and MinInterval and the
// retry backoff carry over. Run returns an error only for misuse
// (ErrRunning), so a supervisor restarts it only when asked to.
//
// # Metrics
//
// With Config.Registerer set, the reloader registers, each with the constant
// label name=Config.Name:
//
//	steadfast_reloader_triggers_total                    counter
//	steadfast_reloader_coalesced_total                   counter
//	steadfast_reloader_reloads_total{result}             counter; success, failure, panic, canceled
//	steadfast_reloader_callback_panics_total             counter
//	steadfast_reloader_reload_duration_seconds           histogram
//	steadfast_reloader_trigger_latency_seconds           histogram; first served trigger to reload start
//	steadfast_reloader_pending                           gauge; 1 while a reload is wanted but not started
//	steadfast_reloader_in_flight                         gauge; 1 while a reload runs
//	steadfast_reloader_consecutive_failures              gauge
//	steadfast_reloader_last_success_timestamp_seconds    gauge
//
// The trigger counters are read from the reloader's own atomic counters at
// scrape time, so Trigger pays nothing for them. Stats returns the same
// counts, and more, as a struct.
//
// # Logs
//
// Records carry component=reloader and name=Config.Name. A failure is logged
// at error level ("reload failed", "reload panicked" with the panic and its
// stack), a canceled reload at debug level, a panic in OnError at error
// level. Successful reloads are not logged.
package reloader

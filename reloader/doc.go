// Package reloader implements a coalescing, debounced, rate-limited reload
// loop that never loses the last trigger.
//
// The use it was built for: a subscription list that must be reloaded when an
// upstream API says it changed, where callers may fire hundreds of triggers a
// second and the reload itself is slow and can fail. Create a Reloader with
// New, start Run on a goroutine of your own, and call Trigger (or TriggerWait)
// whenever the data may have changed.
//
// # Concurrency
//
// A Reloader is safe for concurrent use. Trigger never blocks, never
// allocates and costs O(1): triggers are counted, never queued, so memory
// stays constant however many arrive. Run starts one goroutine per reload,
// one at a time, and waits for it; it starts no other goroutine, and nothing
// of the Reloader runs once Run has returned.
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
// over MaxDelay. With the defaults (1s, 10s, 5s) a single trigger is served
// after 1s, a continuous stream is served every 10s, and no two reloads start
// within 5s of each other. Triggers made before Run count as arriving when Run
// starts; the time of a trigger is when Run's goroutine notices it, which
// under normal load is within microseconds of the call. Run's goroutine never
// runs the reload function or OnError itself and holds no lock while it
// waits, so it notices triggers while a reload runs too: a trigger during a
// long reload starts the MaxDelay clock at once, and the follow-up may start
// as soon as the reload ends.
//
// # Triggers during a reload, failures and retries
//
// At most one reload runs at a time. A trigger that arrives while a reload
// runs is not served by it (it would risk missing the change it signals);
// it guarantees exactly one follow-up reload after it, scheduled by the rules
// above, however many triggers arrive meanwhile.
//
// A reload fails when its function returns an error or panics (or calls
// runtime.Goexit). Config.Timeout cancels the function's context; the error
// it then returns is a failure, but a function that ignores the cancellation
// and returns nil has succeeded. A failure is counted, logged at
// error level and passed to Config.OnError (a panic as a *PanicError); then
// the reloader retries on its own, after a delay drawn uniformly from
// [0, ceiling] where the ceiling is RetryBackoff doubled after each
// consecutive failure up to MaxRetryBackoff (full jitter), measured from the
// end of the failed reload, and never earlier than MinInterval after its
// start. It retries until a reload succeeds. Triggers that arrive during the
// failed reload or the backoff are served by the retry; they do not make it
// come sooner. A reload that returns an error after Run's context has ended
// is counted as canceled, not as a failure, and is neither reported to
// OnError nor retried.
//
// # TriggerWait
//
// TriggerWait triggers and waits for the first reload that starts after the
// call, and returns that reload's error. It never returns the result of a
// reload that was already running. If Run returns before such a reload starts
// (or has returned already), TriggerWait returns ErrStopped; if the caller's
// context ends first, it returns the context's error. A TriggerWait called
// before Run waits for Run. The reload function may call Trigger (the
// follow-up rule applies), but a TriggerWait inside it (or inside OnError)
// waits for a reload that cannot start until the function returns, so it
// only ends with its context.
//
// # Run and shutdown
//
// A Reloader runs once. A second Run while the first is active returns
// ErrRunning at once; Run called after an earlier Run returned returns
// ErrStopped, and from then on triggers are ignored (counted in
// Stats.Ignored, as are the triggers still pending when Run returned). When
// Run's context ends, Run stops its timer, cancels the running reload's
// context, waits for the reload function (and OnError) to return, and returns
// the context's error. A reload function that ignores its context therefore
// delays Run's return.
//
// # Metrics
//
// With Config.Registerer set, the reloader registers, each with the constant
// label name=Config.Name:
//
//	steadfast_reloader_triggers_total                    counter
//	steadfast_reloader_coalesced_total                   counter
//	steadfast_reloader_ignored_total                     counter
//	steadfast_reloader_reloads_total{result}             counter; success, error, panic, canceled
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
package reloader

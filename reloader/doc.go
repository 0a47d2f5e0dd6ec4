// Package reloader implements a coalescing, debounced, rate-limited reload
// loop that never loses the last trigger.
//
// A Reloader calls your reload function when asked to, however often it is
// asked. Think of a subscription list reloaded when an upstream API says it
// changed. Callers may fire hundreds of triggers a second, and the reload
// itself is slow and can fail.
//
//	r, err := reloader.New(loadSubscriptions, reloader.Config{Name: "subscriptions"})
//	if err != nil { ... }
//	if err := r.Load(ctx); err != nil { ... } // load once before serving
//	go r.Run(ctx)                             // returns nil when ctx ends
//	r.Trigger()                               // whenever the data may have changed
//
// Config{} is valid. Each field's doc gives its default, and a default
// yields to a field you set. Trigger never blocks and never allocates.
// TriggerWait triggers and waits for the result. Load reloads now and
// returns the result. A Reloader is safe for concurrent use.
//
// # When a reload starts
//
// Run serves all pending triggers with one reload. It starts when Debounce
// has passed since the latest trigger, or MaxDelay since the first trigger
// not yet served, whichever comes first. So a continuous stream of triggers
// cannot postpone a reload for ever. MinInterval is a hard floor between
// two starts, whatever the results; it wins over MaxDelay. Triggers made
// while no Run is active count as arriving when Run starts. Run notices
// triggers while a reload runs too, so the follow-up may start as soon as
// the reload ends.
//
// # Triggers during a reload, failures and retries
//
// At most one reload runs at a time, Loads included. A trigger that arrives
// while a reload runs is not served by it, since that reload may miss the
// change. It guarantees exactly one follow-up reload, however many triggers
// arrive meanwhile.
//
// A reload fails when its function returns an error, panics or calls
// runtime.Goexit. The last two give a *PanicError. Config.Timeout cancels
// the function's context. A function that ignores the cancellation and
// returns nil has succeeded. A failure is counted, logged and passed to
// Config.OnError. The reloader then retries on its own, with full jitter
// and a ceiling that grows as RetryBackoff describes, until a reload
// succeeds. Triggers during the failed reload or the backoff are served by
// the retry; they do not bring it forward. An error returned after the
// Run's (or Load's) context ended counts as canceled, not as a failure.
// The next Run makes that reload again.
//
// # TriggerWait and Load
//
// TriggerWait returns the error of the first reload that starts after the
// call, never that of a reload already running. It returns ErrStopped if
// the active Run returns first, and the context's error if its context
// ends first. Without an active Run it waits for the next Run or Load.
//
// Load reloads now, without waiting for Debounce or MinInterval. It is how
// a host loads its configuration before it serves. With a Run active, Load
// asks it for the reload, which starts once the running one has ended.
// Without one, Load runs the reload itself. The reload function may call
// Trigger. A TriggerWait or Load inside it, or inside OnError, waits for a
// reload that cannot start, so it only ends with its context.
//
// # Run and goroutines
//
// A second Run while one is active returns ErrRunning at once. When Run's
// context ends, Run stops its timer and cancels the running reload's
// context. It waits for the reload function and OnError to return, then
// returns nil. Run can be called again once it has returned, so a
// supervisor may simply restart it. Pending triggers and retries carry over
// to the next Run, and so do MinInterval and the retry backoff.
//
// Run starts one goroutine per reload, one at a time, and waits for it.
// Nothing it started runs once it has returned. Load runs its reload on a
// goroutine of its own and waits for it. Triggers are counted, never
// queued, so memory stays constant however many arrive.
package reloader

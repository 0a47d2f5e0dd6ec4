// Package steadfast is a library of resilience primitives for long-lived Go
// services, and the market-data streaming engine built from them.
//
// The primitives are independent packages; none imports another:
//
// Package breaker implements a three-state circuit breaker (closed, open,
// half-open) whose closed-state hot path is lock-free and allocation-free. It
// opens on consecutive failures or on a failure rate over a sliding window,
// lets a bounded number of probes through once its open timeout has passed,
// and reports its state changes in order.
//
// Package taskmon implements a task monitor: it runs named background tasks,
// turns panics and runtime.Goexit into errors, restarts supervised tasks with
// jittered exponential backoff under a restart-intensity limit, and never lets
// a failure pass silently.
//
// Package reloader implements a coalescing, debounced, rate-limited reload
// loop: any number of triggers from any goroutine cost O(1) and lead to at most
// one reload at a time, and a trigger is never lost.
//
// Package mockstate implements a bounded store of per-key immutable snapshots
// produced by mutable builders, with lock-free reads, second-chance (CLOCK)
// eviction and expiry.
//
// Package ticker is where the primitives are composed, and the only package
// that may import them: its Engine streams ticks from a Source (the mock
// market, or the live feed in ticker/kite) to a Publisher (Redis through
// ticker/redispub, or any function) through a breaker, reloads its
// subscriptions through a reloader and runs every loop under a task
// monitor; its mock source keeps per-instrument state in a mockstate store.
// Its sub-packages hold the market model (ticker/market), Black–Scholes
// pricing (ticker/bs) and a live option-chain page (ticker/chainpage).
//
// Every type is safe for concurrent use unless its documentation says
// otherwise. No package starts a goroutine that does not end with the
// context or call that started it. To put the metrics under an
// application's own namespace, pass a Registerer wrapped with
// prometheus.WrapRegistererWithPrefix.
//
// # Conventions
//
// The packages speak to a user who composes them with one voice:
//
//   - Configuration: one Config struct per constructor; its zero value means
//     "all defaults". A zero field means its documented default; a negative
//     value means "off" only where the field says so, and is an error
//     elsewhere. A default derived from another field yields to a value the
//     user set (a MaxDelay below the default Debounce shrinks the Debounce).
//     Invalid configuration makes the constructor return an error naming the
//     field; nothing panics at run time.
//   - Run: every Run(ctx) returns nil when its context ends (the caller asked
//     it to stop), and an error only for a real failure. A Run that may not
//     run twice at once says so with an error of its own (ErrRunning).
//   - Metrics: named steadfast_<package>_<metric> (the engine's publisher
//     path keeps the seed's redis_* names), with the constant label "name"
//     (the Config's Name), so instances share one registry; an outcome is
//     the label "result", with one vocabulary: success, failure, panic and
//     canceled (plus exited for a taskmon task that called runtime.Goexit,
//     ignored and rejected for the breaker's calls); a cancellation is
//     spelled "canceled" (as Go's context.Canceled) in labels, log values
//     and identifiers alike. A second instance under the same Name on the
//     same registry is refused.
//   - Logs: through the Config's *slog.Logger, looked up at each record (nil
//     means slog.Default(), so a later slog.SetDefault is honoured). Every
//     record carries "component" (the package) and "name" (the instance);
//     messages do not repeat the package name; a successful run is not
//     logged with an empty error; a recovered panic is logged with "panic"
//     (its value) and "stack" (cut to a bounded size).
//   - Callbacks run outside the package's locks; a panic in one is
//     recovered, logged and counted. A panic or runtime.Goexit in a user's
//     task or reload becomes a *PanicError carrying its stack (Goexit with
//     the package's ErrGoexit as its Value).
//   - Enumerations (breaker.State, taskmon.Outcome and Policy,
//     mockstate.Reason, ...) marshal to words (encoding.TextMarshaler), and
//     an error inside a Stats or Health value marshals as its message, so
//     they read well as JSON.
//
// internal/conventions holds a test that wires every package to one
// registry and one handler and checks these rules where a test can.
package steadfast

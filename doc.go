// Package steadfast is a library of resilience primitives for long-lived Go
// services, and the market-data model they are built to serve.
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
// Package ticker holds the market model (instruments, ticks, option chains,
// market hours, the broker's instrument dump) and a realistic mock market
// source that keeps its per-instrument state in a mockstate store; package
// ticker/bs prices options with Black–Scholes. The ticker package is where
// the primitives are composed: only it may import them.
//
// Every type is safe for concurrent use unless its documentation says
// otherwise. Each primitive, and the mock source, takes one Config struct
// whose zero value means "all defaults", reports through an optional
// *slog.Logger (nil means slog.Default()) and an optional
// prometheus.Registerer (nil means no metrics), and starts no goroutine that
// does not end with the context or call that started it.
//
// Metrics are named steadfast_<package>_<metric> and carry a constant label
// "name" (the Config's Name), so several instances can share one registry.
// To put them under an application's own namespace, pass a Registerer
// wrapped with prometheus.WrapRegistererWithPrefix.
//
// The module's internal packages hold test helpers and two small pieces of
// shared code that are not primitives: internal/backoff (exponential backoff
// with full jitter, used by taskmon and reloader) and internal/promreg
// (register a set of collectors or none, used by mockstate, reloader and the
// mock source).
package steadfast

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
// Package ticker composes them: it holds the market model (instruments, ticks,
// option chains, market hours and Black–Scholes pricing) and a realistic mock
// market source that keeps its per-instrument state in a mockstate store.
//
// Every type is safe for concurrent use unless its documentation says
// otherwise. Each package takes one Config struct whose zero value means "all
// defaults", reports through an optional *slog.Logger and an optional
// prometheus.Registerer, and starts no goroutine that does not end with the
// context or call that started it.
package steadfast

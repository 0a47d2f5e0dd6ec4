// Package mockstate implements a bounded store of per-key immutable
// snapshots, each produced by a mutable builder that only the store's
// writer lock touches. It is made for state that many goroutines read on
// every event while a few writers change a few keys at a time: the latest
// state of every instrument of a simulated market, say.
//
//	s, err := mockstate.New(buildQuote, mockstate.Config[uint32, Quote]{Name: "quotes"})
//	if err != nil { ... }
//	q, err := s.Upsert(token, seedQuote, applyTick) // create if missing, then update
//	q, ok := s.Get(token)                           // lock-free; *q never changes
//	go s.Run(ctx)                                   // expiry cleanups; nil when ctx ends
//
// Defaults (Config's zero fields):
//
//	MaxSize          5000  entries; a new key in a full store evicts one (CLOCK)
//	Expired          nil   entries never expire
//	CleanupInterval  5m    how often Run calls Cleanup
//	OnEvict          nil
//	Logger           slog.Default() at the time of logging
//	Registerer       none (no metrics)
//
// A Store[K, S, B] keeps, for each key K, a builder B and the snapshot S
// last built from it. Writers change the builder (LoadOrInit's init, Update's and
// Upsert's fn) and the store's build function turns it into a fresh
// snapshot, which is published with one atomic store. Readers call Get and
// receive a *S. A panic in init, fn or build is contained: recovered,
// logged with its stack, counted, returned as a *PanicError, and the store
// is left unchanged.
//
// # Snapshots
//
// Snapshots are immutable by convention: a snapshot is never written after
// it is published. The store keeps its side of the convention (it never
// writes a snapshot, and a write always publishes a new one); the user
// keeps the rest: build must return a newly allocated S that shares no
// mutable memory with the builder (copy slices and maps), and callers of
// Get, Range, LoadOrInit, Update, Upsert and OnEvict must not modify the *S they
// receive. A reader therefore holds a value that never changes under it,
// sees the old or the new snapshot of an entry and never a mix of the two,
// and may keep the pointer as long as it likes.
//
// # Concurrency
//
// A Store is safe for concurrent use by any number of goroutines. Get, Len
// and Range take no lock and never wait for anything: not for a writer, a
// cleanup or an eviction. LoadOrInit (when it creates an entry), Update, Upsert,
// Delete, Reset and the removal step of Cleanup serialize on one writer
// lock. The functions that touch builders (init, fn, and build) run under
// that lock, one at a time; they may call Get, Len and Range, but a call to
// a writing method from them deadlocks. Everything else the user
// supplies (Config.Expired, Config.OnEvict, Range's fn) runs without the
// lock and may call any method.
//
// Keys match as they do in a Go map, with ==: the float keys +0 and -0 are
// one key, and NaN never matches, so every LoadOrInit of NaN creates an entry that
// Get, Update, Upsert and Delete cannot reach (it leaves by eviction, expiry or
// Reset). An interface key holding a value that cannot be compared (a
// slice, map or func) makes Get and the writing methods panic, as a map
// does; the store is unaffected.
//
// Range is weakly consistent, like sync.Map's Range: it is not a
// point-in-time view. It visits every entry present for the whole call
// exactly once, with the snapshot current when it gets there; an entry
// added or removed during the call is visited at most once; a key deleted
// and created again during the call is two entries and may be visited once
// for each. Len is exact at any quiescent point and otherwise a recent value.
//
// # Goroutines
//
// The package starts no goroutine. Run does its work in the goroutine that
// calls it and returns nil when its context ends; it may be called again. OnEvict runs in the goroutine
// whose call removed the entry, after the lock is released and before that
// call returns.
//
// # Bound and eviction
//
// A store holds at most Config.MaxSize entries (default 5000). When a LoadOrInit or
// an Upsert would create an entry in a full store, one entry is evicted by second
// chance (CLOCK), the lock-free approximation of LRU:
//
//   - Entries sit in a ring of MaxSize slots, filled in insertion order, and
//     each has a use bit. "Use" is a successful Get, a LoadOrInit that finds the
//     key, an Update or an Upsert. Creating an entry with LoadOrInit is not a
//     use; creating one with Upsert is (it is LoadOrInit then Update). Get sets the bit
//     with an atomic store (and only if it is clear, so hot entries cause no
//     cache-line traffic); it never takes the lock.
//   - To evict, the hand moves around the ring from where it stopped last.
//     An entry whose bit is set has its bit cleared and is passed over (its
//     second chance); the first entry with a clear bit is evicted. The new
//     entry takes the victim's slot and the hand moves past it, so a new
//     entry is the last the hand reaches. If every entry was used, the hand
//     clears them all in one pass and evicts the first entry it met.
//   - An entry used since the hand last passed it therefore survives that
//     pass, and an entry used since its insertion outlives entries never
//     used that were inserted before it: in a store of size 3 holding a, b
//     and c, after Get(b) and Get(c), creating d evicts a.
//   - Entries removed by Delete or by expiry leave their slot empty; the next
//     inserts fill empty slots before anything is evicted. An entry put in
//     such a slot takes that slot's turn, so if it is never used the hand
//     may reach it before older unused entries.
//   - Gets that set a bit again right after the hand cleared it cannot keep
//     the hand going: after one full pass it evicts the entry it is at.
//
// # Expiry
//
// Config.Expired(s, now) judges a snapshot. Cleanup(now) calls it for every
// entry without the lock (so a slow predicate delays no one) and then, under
// the lock, removes each entry judged expired if it is still the same entry
// with the same snapshot. So a cleanup that races LoadOrInit, Update or Delete
// never removes an entry created or updated after it looked (that entry is
// judged again by the next cleanup) and never brings back an entry that was
// removed meanwhile: a removed entry is dead for good, and a key created
// again is a new entry. An error from Expired, or a panic in it, means "cannot
// be judged": the entry is kept, counted, and logged (one record per
// Cleanup call). Run calls Cleanup every Config.CleanupInterval (default
// 5m).
//
// # Failures
//
// User functions that run under the lock (init, fn, build) are part of the
// caller's operation: if one panics, the store undoes what the operation
// did (no entry is created; the builder is restored), releases the lock,
// logs the panic with its stack, counts it, and returns it as a
// *PanicError (LoadOrInit, which returns no error, returns (nil, false)). Update
// and Upsert restore the builder the same way when fn returns an error or
// build returns nil. The restore is a shallow copy of B: memory reached
// through pointers, maps or slices that fn changed in place is not
// restored, so fn should validate before it mutates such memory. A
// runtime.Goexit in one of them cannot be stopped: the store is restored
// and unlocked, the call is counted and logged, and the goroutine ends.
// Callbacks that run outside the lock (Expired, OnEvict) are contained: a
// panic is recovered, logged with its stack and counted, and the store
// carries on.
//
// # Metrics
//
// With Config.Registerer set, a store exports, each with the constant label
// name=Config.Name:
//
//	steadfast_mockstate_entries                 gauge: entries in the store
//	steadfast_mockstate_inserts_total           entries created by LoadOrInit or Upsert
//	steadfast_mockstate_updates_total           snapshots published by Update or Upsert
//	steadfast_mockstate_evictions_total         entries removed, by reason: size, expired, deleted, reset
//	steadfast_mockstate_expiry_errors_total     entries Expired could not judge (kept)
//	steadfast_mockstate_callback_panics_total   panics, by callback: init, fn, build, expired, on_evict
//
// Counters are cumulative; Reset does not lower them. Log records carry
// component=mockstate and name=Config.Name.
//
// # Index
//
// Reads go through an index that is an open-addressing hash table whose
// slots are atomic pointers to entries. A writer makes an entry complete
// (key, first snapshot) before storing its pointer into a slot, so a new key
// becomes visible to Get with that one atomic store, and Get finds it with
// plain atomic loads and no allocation. When the table fills up, the writer
// builds a larger one and publishes it atomically; a Get still probing the
// old table finds every entry that is live, because removal is marked on
// the entry itself. Get allocates nothing and, for keys of a fixed-size
// integer type (such as an instrument token), hashes inline with two
// multiplies and three shifts; string keys use hash/maphash.String and
// other key types hash/maphash.Comparable.
package mockstate

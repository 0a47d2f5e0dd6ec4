// Package mockstate implements a bounded store of per-key immutable
// snapshots. Each snapshot is built from a mutable builder that only the
// store's writer lock touches. It suits state that many goroutines read on
// every event while a few writers change a few keys at a time, such as the
// latest quote of every instrument of a simulated market.
//
//	s, err := mockstate.New(buildQuote, mockstate.Config[uint32, Quote]{Name: "quotes"})
//	if err != nil { ... }
//	q, err := s.Upsert(token, initQuote, applyTick) // create if missing, then update
//	q, ok := s.Get(token)                           // lock-free; *q never changes
//	go s.Run(ctx)                                   // expiry cleanups; nil when ctx ends
//
// Config's zero value is valid; each field's doc gives its default. A
// Store[K, S, B] keeps, for each key K, a builder B and the snapshot S last
// built from it. Writers change the builder: LoadOrInit's init, Update's
// and Upsert's fn. The store's build function turns it into a fresh
// snapshot, published with one atomic store. Readers call Get. Get is 5 to
// 12 times faster than golang-lru's Get, which takes a lock to update
// recency (bench/mockstate.md).
//
// # Snapshots
//
// A snapshot is never written after it is published. The store keeps its
// side of that rule. The user keeps the rest: build returns a new S that
// shares no mutable memory with the builder (copy slices and maps), and no
// caller modifies a *S it receives. A reader thus holds a value that never
// changes under it and may keep it as long as it likes.
//
// # Concurrency
//
// A Store is safe for concurrent use. Get, Len and Range take no lock and
// never wait. LoadOrInit (when it creates), Update, Upsert, Delete, Reset
// and the removal step of Cleanup serialize on one writer lock. init, fn
// and build run under that lock. They may call Get, Len and Range, but a
// writing method called from them deadlocks. Expired, OnEvict and Range's
// fn run without the lock and may call any method. The package starts no
// goroutine. Run works in its caller's goroutine and may be called again.
//
// Keys match as in a Go map. A NaN key never matches, so each LoadOrInit
// of NaN creates an entry that only eviction, expiry or Reset removes. A
// key that cannot be compared makes Get and the writing methods panic, as a
// map does. Range is weakly consistent, like sync.Map's Range. It visits
// each entry present for the whole call exactly once.
//
// # Eviction and expiry
//
// A new key in a full store evicts one entry by second chance (CLOCK), an
// approximation of LRU that Get can serve without a lock. A successful Get,
// a LoadOrInit that finds the key, an Update and an Upsert mark an entry
// used. Creating an entry with LoadOrInit does not. The hand passes over
// used entries once, clearing their mark, and evicts the first unused one.
// Slots freed by Delete or expiry are filled before anything is evicted.
//
// Cleanup(now) asks Config.Expired about every entry without the lock. It
// then removes, under the lock, each expired entry that is still the same
// entry with the same snapshot. So a cleanup never removes an entry created
// or updated after it looked, and never revives a removed one. Run calls
// Cleanup every CleanupInterval.
//
// # Failures
//
// A panic in init, fn or build undoes what the call did. No entry is
// created and the builder is restored. The lock is released, and the panic
// is logged with its stack, counted and returned as a *PanicError.
// LoadOrInit, which returns no error, returns (nil, false) instead. Update
// and Upsert also restore the builder when fn returns an error or build
// returns nil. The restore is a shallow copy of B: memory that fn changed
// in place through pointers, maps or slices stays changed, so validate
// before mutating it. A runtime.Goexit cannot be stopped: the store is
// restored and unlocked, the call is counted and logged, and the goroutine
// ends. A panic in Expired or OnEvict is recovered, logged and counted.
package mockstate

package mockstate

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/prometheus/client_golang/prometheus"
)

// Errors returned by the Store. Compare with errors.Is.
var (
	// ErrNotFound is returned by Update for a key that has no entry.
	ErrNotFound = errors.New("mockstate: key not found")
	// ErrNilFunc is returned by Update when fn is nil.
	ErrNilFunc = errors.New("mockstate: nil function")
	// ErrNilSnapshot is returned by Update when the store's build function
	// returned a nil snapshot; nothing is published and the builder is
	// restored. Seed reports the same failure by returning (nil, false) and
	// logging it.
	ErrNilSnapshot = errors.New("mockstate: build returned a nil snapshot")
)

// Default values used for zero Config fields.
const (
	DefaultMaxSize         = 5000
	DefaultCleanupInterval = 5 * time.Minute
)

// Reason says why an entry left the store; OnEvict receives it and the
// evictions metric is labelled with its String form.
type Reason int

// The reasons an entry leaves the store.
const (
	// ReasonSize: the store was full and the CLOCK hand chose the entry to
	// make room for a new key.
	ReasonSize Reason = iota
	// ReasonExpired: Config.Expired reported the entry's snapshot expired
	// during Cleanup (or Run).
	ReasonExpired
	// ReasonDeleted: Delete removed the entry.
	ReasonDeleted
	// ReasonReset: Reset removed every entry.
	ReasonReset
)

// numReasons is the number of Reason values.
const numReasons = int(ReasonReset) + 1

// String returns "size", "expired", "deleted" or "reset".
func (r Reason) String() string {
	switch r {
	case ReasonSize:
		return "size"
	case ReasonExpired:
		return "expired"
	case ReasonDeleted:
		return "deleted"
	case ReasonReset:
		return "reset"
	}
	return fmt.Sprintf("Reason(%d)", int(r))
}

// Config configures a Store. The zero Config is valid: every zero field
// means the default documented on it.
type Config[K comparable, S any] struct {
	// MaxSize bounds the number of entries. When the store is full, inserting
	// a new key evicts one entry chosen by the CLOCK (second chance) hand,
	// reported to OnEvict with ReasonSize. Zero means DefaultMaxSize (5000);
	// negative or above 1<<30 is an error. There is no unbounded mode.
	MaxSize int

	// Expired reports whether snapshot s has expired at time now. Cleanup and
	// Run remove entries for which it returns true. A non-nil error means the
	// entry cannot be judged (a malformed expiry date, say): the entry is
	// kept, counted in the expiry_errors metric and logged; a panic in
	// Expired is treated the same way. Expired is called without the store's
	// lock and may run concurrently with itself when cleanups overlap. Nil
	// means entries never expire.
	Expired func(s *S, now time.Time) (bool, error)

	// CleanupInterval is how often Run calls Cleanup. Zero means
	// DefaultCleanupInterval (5m); negative is an error.
	CleanupInterval time.Duration

	// OnEvict, if set, is called once for every entry that leaves the store,
	// with its key, its last snapshot and the reason. It runs after the
	// store's lock is released, in the goroutine whose call removed the
	// entry (Seed for ReasonSize, Cleanup or Run for ReasonExpired, Delete,
	// Reset). A panic in it is recovered, logged and counted.
	OnEvict func(k K, s *S, r Reason)

	// Name labels the store's metrics (constant label "name") and its log
	// records. Default "".
	Name string

	// Logger receives contained failures: unjudgeable expiries, panics in
	// callbacks, nil snapshots. Nil means slog.Default() at the time of
	// logging.
	Logger *slog.Logger

	// Registerer, if set, receives the store's metrics (see package doc).
	// Nil means no metrics.
	Registerer prometheus.Registerer
}

// entry is one key's slot. key is immutable after publication; snap is nil
// once the entry has left the store and never becomes non-nil again; b and
// slot are guarded by Store.mu. The builder lives in its own allocation so
// that entries stay small and dense: Get touches only snap, used and key.
type entry[K comparable, S, B any] struct {
	snap atomic.Pointer[S]
	used atomic.Uint32 // CLOCK reference bit
	slot int32         // position in Store.ring
	key  K
	b    *B
}

// Store holds one immutable snapshot per key, each built from a mutable
// builder that only the store's writer lock touches. It is safe for
// concurrent use; see the package documentation.
type Store[K comparable, S, B any] struct {
	// Read by every Get; written only when the index is rebuilt or reset.
	tab atomic.Pointer[table[K, S, B]]
	kh  keyHasher

	// Set by New, read-only afterwards.
	build    func(*B) *S
	expired  func(*S, time.Time) (bool, error)
	onEvict  func(K, *S, Reason)
	max      int
	interval time.Duration
	name     string
	logger   *slog.Logger
	m        *metrics
	tomb     *entry[K, S, B] // marks a removed slot in the table; snap always nil

	// Written by every insert and removal: kept off the readers' cache line.
	_    [64]byte
	n    atomic.Int64 // live entries
	mu   sync.Mutex
	ring []*entry[K, S, B] // CLOCK ring; guarded by mu
	free []int32           // empty ring slots; guarded by mu
	hand int               // CLOCK hand; guarded by mu
}

// New returns an empty Store whose snapshots are made by build from an
// entry's builder. build runs under the store's writer lock (in Seed and
// Update), must return a fresh non-nil snapshot that shares no mutable
// memory with the builder, and must not call the Store's writing methods
// (see Seed).
func New[K comparable, S, B any](build func(*B) *S, cfg Config[K, S]) (*Store[K, S, B], error) {
	if build == nil {
		return nil, errors.New("mockstate: build must not be nil")
	}
	if cfg.MaxSize < 0 {
		return nil, fmt.Errorf("mockstate: MaxSize must be >= 0, got %d", cfg.MaxSize)
	}
	if cfg.MaxSize > maxMaxSize {
		return nil, fmt.Errorf("mockstate: MaxSize must be <= %d, got %d", maxMaxSize, cfg.MaxSize)
	}
	if cfg.CleanupInterval < 0 {
		return nil, fmt.Errorf("mockstate: CleanupInterval must be >= 0, got %v", cfg.CleanupInterval)
	}
	s := &Store[K, S, B]{
		kh:       newKeyHasher[K](),
		build:    build,
		expired:  cfg.Expired,
		onEvict:  cfg.OnEvict,
		max:      cfg.MaxSize,
		interval: cfg.CleanupInterval,
		name:     cfg.Name,
		logger:   cfg.Logger,
		tomb:     new(entry[K, S, B]),
	}
	if s.max == 0 {
		s.max = DefaultMaxSize
	}
	if s.interval == 0 {
		s.interval = DefaultCleanupInterval
	}
	m, err := newMetrics(cfg.Name, cfg.Registerer, s.Len)
	if err != nil {
		return nil, err
	}
	s.m = m
	s.tab.Store(newTable[K, S, B](minTableSize))
	return s, nil
}

// maxMaxSize keeps ring positions within int32.
const maxMaxSize = 1 << 30

func (s *Store[K, S, B]) log() *slog.Logger {
	if s.logger != nil {
		return s.logger
	}
	return slog.Default()
}

func (s *Store[K, S, B]) hash(k K) uint64 { return hashKey(&s.kh, k) }

// Get returns the current snapshot for k. It takes no lock, allocates
// nothing and is never blocked by writers, cleanups or evictions. The
// snapshot must not be modified. A successful Get marks the entry used for
// the CLOCK eviction.
func (s *Store[K, S, B]) Get(k K) (*S, bool) {
	var h uint64
	switch s.kh.kind { // hashKey's integer cases, inlined
	case keyInt64:
		h = mix(*(*uint64)(unsafe.Pointer(&k)), s.kh.iseed)
	case keyInt32:
		h = mix(uint64(*(*uint32)(unsafe.Pointer(&k))), s.kh.iseed)
	default:
		h = hashKey(&s.kh, k)
	}
	t := s.tab.Load()
	for i := h & t.mask; ; i = (i + 1) & t.mask {
		e := t.slots[i].Load()
		if e == nil {
			return nil, false
		}
		if e.key == k {
			if p := e.snap.Load(); p != nil {
				if e.used.Load() == 0 {
					e.used.Store(1)
				}
				return p, true
			}
		}
	}
}

// Len returns the number of entries. It takes no lock.
func (s *Store[K, S, B]) Len() int { return int(s.n.Load()) }

// Seed returns k's snapshot, creating the entry first if k has none: a
// fresh zero builder is passed to init (nil init leaves it zero), then
// build makes the first snapshot. created reports whether this call created
// the entry. When many goroutines seed the same key at once, init runs
// exactly once; the others wait for it and return its snapshot. An existing
// entry is marked used; a newly created one is not (creation is not a use).
//
// init runs under the store's writer lock: it may call Get, Len and Range,
// but a call to Seed, Update, Delete, Reset or Cleanup from it deadlocks. If
// init or build panics, nothing is inserted, the lock is released, the
// panic is counted and continues in the caller. If build returns nil,
// nothing is inserted, the failure is logged and Seed returns (nil, false).
//
// Inserting into a full store evicts one entry (see the package doc) and
// calls OnEvict for it before Seed returns.
func (s *Store[K, S, B]) Seed(k K, init func(*B)) (snap *S, created bool) {
	h := s.hash(k)
	if e := s.tab.Load().find(h, k); e != nil {
		if p := e.snap.Load(); p != nil {
			if e.used.Load() == 0 {
				e.used.Store(1)
			}
			return p, false
		}
	}
	s.mu.Lock()
	if e := s.tab.Load().find(h, k); e != nil {
		// Under the lock a found entry is live.
		e.used.Store(1)
		p := e.snap.Load()
		s.mu.Unlock()
		return p, false
	}
	e := &entry[K, S, B]{key: k, b: new(B)}
	p := s.seedLocked(e, init)
	if p == nil {
		s.mu.Unlock()
		s.log().Error("mockstate: build returned a nil snapshot; entry not created",
			"store", s.name, "key", k)
		return nil, false
	}
	e.snap.Store(p)
	victim, vsnap := s.insertLocked(e)
	s.mu.Unlock()
	s.m.inserts.Inc()
	if victim != nil {
		s.m.evicted[ReasonSize].Inc()
		s.notify(victim.key, vsnap, ReasonSize)
	}
	return p, true
}

// seedLocked runs init and build for a new entry. On a panic it releases
// the lock, counts the panic and lets it continue.
func (s *Store[K, S, B]) seedLocked(e *entry[K, S, B], init func(*B)) *S {
	done := false
	defer func() {
		if done {
			return
		}
		s.mu.Unlock()
		if r := recover(); r != nil {
			s.m.panics[panicSeed].Inc()
			panic(r)
		}
	}()
	if init != nil {
		init(e.b)
	}
	p := s.build(e.b)
	done = true
	return p
}

// Update applies fn to k's builder under the store's writer lock, then
// builds a new snapshot and publishes it atomically: readers see the old
// snapshot or the new one, never a mix, and snapshots already returned do
// not change. It returns the new snapshot, or ErrNotFound when k has no
// entry. Update marks the entry used.
//
// If fn returns an error, nothing is published, the builder's value is
// restored to what it was before fn (a shallow copy: memory reached through
// pointers, maps or slices that fn changed in place is not restored, so
// validate before mutating it) and the error is returned. The same restore
// happens when fn or build panics (the panic is counted and continues in
// the caller) and when build returns nil (ErrNilSnapshot). fn runs under
// the writer lock and, like Seed's init, must not call the Store's writing
// methods.
func (s *Store[K, S, B]) Update(k K, fn func(*B) error) (*S, error) {
	if fn == nil {
		return nil, ErrNilFunc
	}
	h := s.hash(k)
	s.mu.Lock()
	e := s.tab.Load().find(h, k)
	if e == nil {
		s.mu.Unlock()
		return nil, ErrNotFound
	}
	p, err := s.updateLocked(e, fn)
	s.mu.Unlock()
	if err != nil {
		return nil, err
	}
	s.m.updates.Inc()
	return p, nil
}

func (s *Store[K, S, B]) updateLocked(e *entry[K, S, B], fn func(*B) error) (p *S, err error) {
	saved := *e.b
	done := false
	defer func() {
		if done {
			return
		}
		*e.b = saved
		s.mu.Unlock()
		if r := recover(); r != nil {
			s.m.panics[panicUpdate].Inc()
			panic(r)
		}
	}()
	if err = fn(e.b); err == nil {
		if p = s.build(e.b); p == nil {
			err = ErrNilSnapshot
		}
	}
	done = true
	if err != nil {
		*e.b = saved
		return nil, err
	}
	e.snap.Store(p)
	e.used.Store(1)
	return p, nil
}

// Delete removes k's entry and reports whether there was one. OnEvict is
// called with ReasonDeleted before Delete returns.
func (s *Store[K, S, B]) Delete(k K) bool {
	h := s.hash(k)
	s.mu.Lock()
	e := s.tab.Load().find(h, k)
	if e == nil {
		s.mu.Unlock()
		return false
	}
	p := e.snap.Load()
	s.removeLocked(e)
	s.mu.Unlock()
	s.m.evicted[ReasonDeleted].Inc()
	s.notify(k, p, ReasonDeleted)
	return true
}

// Range calls fn for the entries of the store until fn returns false. It
// takes no lock, so fn may call the Store. Range is weakly consistent, like
// sync.Map's: it is not a point-in-time view. An entry present for the
// whole call is visited exactly once, with the snapshot current when it is
// visited; an entry added or removed during the call is visited at most
// once. A key deleted and seeded again during the call is two entries and
// may be visited once for each.
func (s *Store[K, S, B]) Range(fn func(k K, s *S) bool) {
	if fn == nil {
		return
	}
	for e, p := range s.tab.Load().live {
		if !fn(e.key, p) {
			return
		}
	}
}

// Reset removes every entry. OnEvict is called for each with ReasonReset
// before Reset returns, outside the lock. Readers that have not yet seen
// the reset may still be handed snapshots of removed entries by a Get
// already in progress; every Get that starts after Reset returns misses.
func (s *Store[K, S, B]) Reset() {
	s.mu.Lock()
	old := s.ring
	s.tab.Store(newTable[K, S, B](minTableSize))
	s.ring = nil
	s.free = nil
	s.hand = 0
	type gone struct {
		k K
		p *S
	}
	var evicted []gone
	if s.onEvict != nil {
		evicted = make([]gone, 0, s.n.Load())
	}
	n := 0
	for _, e := range old {
		if e == nil {
			continue
		}
		p := e.snap.Swap(nil)
		n++
		if s.onEvict != nil {
			evicted = append(evicted, gone{e.key, p})
		}
	}
	s.n.Store(0)
	s.mu.Unlock()
	s.m.evicted[ReasonReset].Add(float64(n))
	for _, g := range evicted {
		s.notify(g.k, g.p, ReasonReset)
	}
}

// insertLocked adds live entry e, evicting by CLOCK when the store is
// full. It returns the evicted entry (and its last snapshot), if any.
func (s *Store[K, S, B]) insertLocked(e *entry[K, S, B]) (victim *entry[K, S, B], vsnap *S) {
	if int(s.n.Load()) >= s.max {
		victim = s.clockVictimLocked()
		slot := victim.slot
		vsnap = victim.snap.Swap(nil)
		s.tabDeleteLocked(victim)
		e.slot = slot
		s.ring[slot] = e
		s.hand = int(slot) + 1
	} else {
		if n := len(s.free); n > 0 {
			e.slot = s.free[n-1]
			s.free = s.free[:n-1]
			s.ring[e.slot] = e
		} else {
			e.slot = int32(len(s.ring))
			s.ring = append(s.ring, e)
		}
		s.n.Add(1)
	}
	s.tabInsertLocked(e)
	return victim, vsnap
}

// clockVictimLocked advances the hand past entries used since it last
// passed them, clearing their bit, and returns the first unused entry. The
// store is full, so every ring slot holds a live entry.
//
// Readers set bits without the lock, so they can set a bit again right
// after the hand cleared it; with every entry read that often the hand
// could go round for as long as the reads go on. It therefore gives each
// entry one second chance per eviction: after a full pass it takes the
// entry at the hand, whose bit it cleared one pass ago.
func (s *Store[K, S, B]) clockVictimLocked() *entry[K, S, B] {
	for step := 0; ; step++ {
		if s.hand >= len(s.ring) {
			s.hand = 0
		}
		e := s.ring[s.hand]
		if e != nil {
			if step >= len(s.ring) || e.used.Load() == 0 {
				return e
			}
			e.used.Store(0)
		}
		s.hand++
	}
}

// removeLocked takes live entry e out of the store.
func (s *Store[K, S, B]) removeLocked(e *entry[K, S, B]) {
	e.snap.Store(nil)
	s.tabDeleteLocked(e)
	s.ring[e.slot] = nil
	s.free = append(s.free, e.slot)
	s.n.Add(-1)
}

// notify calls OnEvict, containing a panic.
func (s *Store[K, S, B]) notify(k K, p *S, r Reason) {
	if s.onEvict == nil {
		return
	}
	defer func() {
		if v := recover(); v != nil {
			s.m.panics[panicOnEvict].Inc()
			s.log().Error("mockstate: OnEvict panicked", "store", s.name, "key", k,
				"reason", r.String(), "panic", v)
		}
	}()
	s.onEvict(k, p, r)
}

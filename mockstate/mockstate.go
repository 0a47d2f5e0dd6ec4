package mockstate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/steadfast-go/steadfast/internal/errjson"
	"github.com/steadfast-go/steadfast/internal/logattr"
)

// Errors returned by the Store. Compare with errors.Is.
var (
	// ErrNotFound is wrapped, with the key, by the error Update returns for
	// a key that has no entry ("mockstate: key 42 not found").
	ErrNotFound = errors.New("mockstate: key not found")
	// ErrNilFunc is returned by Update and Upsert when fn is nil.
	ErrNilFunc = errors.New("mockstate: nil function")
	// ErrNilSnapshot is returned by Update and Upsert when the store's build
	// function returned a nil snapshot; nothing is published and the
	// builder is restored. LoadOrInit reports the same failure by returning
	// (nil, false) and logging it.
	ErrNilSnapshot = errors.New("mockstate: build returned a nil snapshot")
)

// notFoundError is ErrNotFound with the key it is about.
type notFoundError struct{ key any }

func (e notFoundError) Error() string { return fmt.Sprintf("mockstate: key %v not found", e.key) }
func (e notFoundError) Unwrap() error { return ErrNotFound }

// PanicError is the error a writing call returns when a function it ran
// under the store's lock (init, fn or build) panicked: the panic is
// recovered, logged with its stack and counted, and the store is left as it
// was before the call.
type PanicError struct {
	// Func names the function that panicked: "init", "fn", "build" (or
	// "expired" for Config.Expired, whose panics Cleanup logs).
	Func string
	// Key is the key of the call.
	Key any
	// Value is the value passed to panic (a *runtime.PanicNilError for
	// panic(nil)).
	Value any
	// Stack is the stack of the panicking goroutine, as formatted by
	// runtime/debug.Stack.
	Stack []byte
}

func (e *PanicError) Error() string {
	return fmt.Sprintf("mockstate: key %v: %s panicked: %v", e.Key, e.Func, e.Value)
}

// Unwrap returns Value when it is an error, so that errors.Is and errors.As
// see through the panic.
func (e *PanicError) Unwrap() error {
	err, _ := e.Value.(error)
	return err
}

// MarshalJSON writes {"func", "key", "value", "stack"}: Key and Value as
// fmt.Sprint prints them (a key of any comparable type, an error's message)
// and Stack as text.
func (e *PanicError) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Func string `json:"func"`
		Key  string `json:"key"`
		errjson.Panic
	}{e.Func, fmt.Sprint(e.Key), errjson.PanicOf(e.Value, e.Stack)})
}

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

// MarshalText returns the String form of a known reason, so that a Reason
// marshals to JSON as a word.
func (r Reason) MarshalText() ([]byte, error) {
	if r < 0 || int(r) >= numReasons {
		return nil, fmt.Errorf("mockstate: invalid Reason %d", int(r))
	}
	return []byte(r.String()), nil
}

// UnmarshalText parses the String form of a reason.
func (r *Reason) UnmarshalText(text []byte) error {
	for i := range numReasons {
		if Reason(i).String() == string(text) {
			*r = Reason(i)
			return nil
		}
	}
	return fmt.Errorf("mockstate: unknown Reason %q", text)
}

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
	// entry (LoadOrInit for ReasonSize, Cleanup or Run for ReasonExpired, Delete,
	// Reset). A panic in it is recovered, logged and counted.
	OnEvict func(k K, s *S, r Reason)

	// Name is the "name" attribute of the store's log records and the
	// constant label "name" on its metrics. Default "".
	Name string

	// Logger receives contained failures: unjudgeable expiries, panics in
	// user functions, nil snapshots. Nil means slog.Default(), looked up
	// each time a record is written. Records carry component=mockstate and
	// name=Name; unjudgeable expiries make one record per Cleanup call.
	Logger *slog.Logger

	// Registerer, if set, receives the store's metrics, each with the
	// constant label name=Name. Counters are cumulative; Reset does not
	// lower them. Nil means no metrics.
	//
	//	steadfast_mockstate_entries                 gauge: entries in the store
	//	steadfast_mockstate_inserts_total           entries created by LoadOrInit or Upsert
	//	steadfast_mockstate_updates_total           snapshots published by Update or Upsert
	//	steadfast_mockstate_evictions_total         entries removed, by reason: size, expired, deleted, reset
	//	steadfast_mockstate_expiry_errors_total     entries Expired could not judge (kept)
	//	steadfast_mockstate_callback_panics_total   panics, by callback: init, fn, build, expired, on_evict
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
// entry's builder. build runs under the store's writer lock (in LoadOrInit and
// Update), must return a fresh non-nil snapshot that shares no mutable
// memory with the builder, and must not call the Store's writing methods
// (see LoadOrInit).
func New[K comparable, S, B any](build func(*B) *S, cfg Config[K, S]) (*Store[K, S, B], error) {
	if build == nil {
		return nil, errors.New("mockstate: build must not be nil")
	}
	if cfg.MaxSize < 0 {
		return nil, fmt.Errorf("mockstate: Config.MaxSize must be >= 0, got %d", cfg.MaxSize)
	}
	if cfg.MaxSize > maxMaxSize {
		return nil, fmt.Errorf("mockstate: Config.MaxSize must be <= %d, got %d", maxMaxSize, cfg.MaxSize)
	}
	if cfg.CleanupInterval < 0 {
		return nil, fmt.Errorf("mockstate: Config.CleanupInterval must be >= 0, got %v", cfg.CleanupInterval)
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

// logError writes an error record naming the store to the configured
// logger, or to slog.Default() as it is now.
func (s *Store[K, S, B]) logError(msg string, attrs ...slog.Attr) {
	s.log(slog.LevelError, msg, attrs...)
}

func (s *Store[K, S, B]) log(level slog.Level, msg string, attrs ...slog.Attr) {
	l := logattr.Logger(s.logger)
	ctx := context.Background()
	if !l.Enabled(ctx, level) {
		return
	}
	inst := logattr.Instance("mockstate", s.name)
	l.LogAttrs(ctx, level, msg, append(inst[:], attrs...)...)
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

// Len returns the number of entries. It takes no lock. It is exact at any
// quiescent point and otherwise a recent value.
func (s *Store[K, S, B]) Len() int { return int(s.n.Load()) }

// LoadOrInit returns k's snapshot, creating the entry first if k has none: a
// fresh zero builder is passed to init (nil init leaves it zero), then
// build makes the first snapshot. created reports whether this call created
// the entry. When many goroutines call LoadOrInit for the same key at once, init runs
// exactly once; the others wait for it and return its snapshot. An existing
// entry is marked used; a newly created one is not (creation is not a use).
//
// init runs under the store's writer lock: it may call Get, Len and Range,
// but a call to a writing method (LoadOrInit, Upsert, Update, Delete, Reset,
// Cleanup) from it deadlocks. If init or build panics, or build returns
// nil, nothing is inserted and LoadOrInit returns (nil, false); the panic is
// recovered, logged with its stack and counted. Upsert returns the same
// failures as errors.
//
// Inserting into a full store evicts one entry (see the package doc) and
// calls OnEvict for it before LoadOrInit returns.
func (s *Store[K, S, B]) LoadOrInit(k K, init func(*B)) (snap *S, created bool) {
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
	p, err := s.createLocked(k, init, nil)
	if err != nil {
		if err == ErrNilSnapshot {
			s.logError("build returned a nil snapshot; entry not created", slog.Any("key", k))
		}
		return nil, false
	}
	return p, true
}

// createLocked creates k's entry from a zero builder passed to init and fn
// (either may be nil) and inserts it, evicting by CLOCK in a full store. It
// releases the lock, then reports a failure or notifies an eviction. A
// created entry is marked used when fn ran (an update is a use).
func (s *Store[K, S, B]) createLocked(k K, init func(*B), fn func(*B) error) (*S, error) {
	e := &entry[K, S, B]{key: k, b: new(B)}
	p, err := s.applyLocked(k, e.b, nil, init, fn)
	if err != nil {
		s.mu.Unlock()
		s.failed(err)
		return nil, err
	}
	e.snap.Store(p)
	if fn != nil {
		e.used.Store(1)
	}
	victim, vsnap := s.insertLocked(e)
	s.mu.Unlock()
	s.m.inserts.Inc()
	if fn != nil {
		s.m.updates.Inc()
	}
	if victim != nil {
		s.m.evicted[ReasonSize].Inc()
		s.notify(victim.key, vsnap, ReasonSize)
	}
	return p, nil
}

// Stages of applyLocked; each but the last names the user function that
// runs in it, as the panics metric does.
const (
	stageInit = iota
	stageFn
	stageBuild
	stageDone
)

// applyLocked runs init and fn (each when not nil) and then build on b, all
// under the store's lock, and returns the new snapshot; fn's error or a nil
// snapshot is returned as is. A panic in one of them is recovered and
// returned as a *PanicError (the caller restores the store). A
// runtime.Goexit cannot be stopped: applyLocked then restores *b from saved
// (when not nil), releases the lock, counts and logs it, and lets the
// goroutine end.
func (s *Store[K, S, B]) applyLocked(k K, b, saved *B, init func(*B), fn func(*B) error) (p *S, err error) {
	stage := stageInit
	defer func() {
		if stage == stageDone {
			return
		}
		v := recover()
		if v == nil { // runtime.Goexit; panic(nil) recovers as a *runtime.PanicNilError
			if saved != nil {
				*b = *saved
			}
			s.mu.Unlock()
			s.m.panics[stage].Inc()
			pa := logattr.PanicAttrs(logattr.Goexit, debug.Stack())
			s.logError(panicName(stage)+" called runtime.Goexit", slog.Any("key", k),
				slog.String("callback", panicName(stage)), pa[0], pa[1])
			return
		}
		p, err = nil, &PanicError{Func: panicName(stage), Key: k, Value: v, Stack: debug.Stack()}
	}()
	if init != nil {
		init(b)
	}
	stage = stageFn
	if fn != nil {
		if err = fn(b); err != nil {
			stage = stageDone
			return nil, err
		}
	}
	stage = stageBuild
	p = s.build(b)
	stage = stageDone
	if p == nil {
		return nil, ErrNilSnapshot
	}
	return p, nil
}

// failed counts and logs a contained panic; other errors are the caller's
// to report.
func (s *Store[K, S, B]) failed(err error) {
	pe, ok := err.(*PanicError)
	if !ok {
		return
	}
	s.m.panics[stageOf(pe.Func)].Inc()
	pa := logattr.PanicAttrs(pe.Value, pe.Stack)
	s.logError(pe.Func+" panicked; store unchanged", slog.Any("key", pe.Key), slog.String("callback", pe.Func), pa[0], pa[1])
}

// Update applies fn to k's builder under the store's writer lock, then
// builds a new snapshot and publishes it atomically: readers see the old
// snapshot or the new one, never a mix, and snapshots already returned do
// not change. It returns the new snapshot, or an error wrapping ErrNotFound
// (and naming k) when k has no entry. Update marks the entry used.
//
// If fn returns an error, nothing is published, the builder's value is
// restored to what it was before fn (a shallow copy: memory reached through
// pointers, maps or slices that fn changed in place is not restored, so
// validate before mutating it) and the error is returned. The same restore
// happens when build returns nil (ErrNilSnapshot) and when fn or build
// panics: the panic is recovered, logged with its stack, counted and
// returned as a *PanicError. fn runs under the writer lock and, like LoadOrInit's
// init, must not call the Store's writing methods.
func (s *Store[K, S, B]) Update(k K, fn func(*B) error) (*S, error) {
	if fn == nil {
		return nil, ErrNilFunc
	}
	h := s.hash(k)
	s.mu.Lock()
	e := s.tab.Load().find(h, k)
	if e == nil {
		s.mu.Unlock()
		return nil, notFoundError{k}
	}
	return s.updateLocked(k, e, fn)
}

// Upsert updates k's entry as Update does, or, when k has none, creates it
// as LoadOrInit does (a zero builder passed to init, nil init leaving it zero)
// and applies fn to the new builder before the first snapshot is built: one
// lookup and one lock for what LoadOrInit then Update do in two. It returns the
// snapshot published. The call is as atomic as Update: no reader sees the
// entry before fn has been applied.
//
// Eviction rules are those of LoadOrInit then Update: creating an entry in a full
// store evicts one (OnEvict is called before Upsert returns), and the entry
// is marked used. If init, fn or build fails (an error, a nil snapshot, a
// panic returned as a *PanicError), nothing is inserted, an existing builder
// is restored, and the error is returned. init and fn run under the writer
// lock and must not call the Store's writing methods.
func (s *Store[K, S, B]) Upsert(k K, init func(*B), fn func(*B) error) (*S, error) {
	if fn == nil {
		return nil, ErrNilFunc
	}
	h := s.hash(k)
	s.mu.Lock()
	if e := s.tab.Load().find(h, k); e != nil {
		return s.updateLocked(k, e, fn)
	}
	return s.createLocked(k, init, fn)
}

// updateLocked applies fn to live entry e and publishes the new snapshot,
// or restores the builder. It releases the lock.
func (s *Store[K, S, B]) updateLocked(k K, e *entry[K, S, B], fn func(*B) error) (*S, error) {
	saved := *e.b
	p, err := s.applyLocked(k, e.b, &saved, nil, fn)
	if err != nil {
		*e.b = saved
		s.mu.Unlock()
		s.failed(err)
		return nil, err
	}
	e.snap.Store(p)
	e.used.Store(1)
	s.mu.Unlock()
	s.m.updates.Inc()
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
// once. A key deleted and created again during the call is two entries and
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
//
// Entries sit in a ring of MaxSize slots, filled in insertion order. The
// new entry takes the victim's slot and the hand moves past it, so a new
// entry is the last the hand reaches. Slots freed by Delete or expiry are
// filled first; an entry put there takes that slot's turn, so if it is
// never used the hand may reach it before older unused entries. In a store
// of size 3 holding a, b and c, after Get(b) and Get(c), inserting d
// evicts a.
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
// Get sets a bit with an atomic store, and only if it is clear, so hot
// entries cause no cache-line traffic. Readers set bits without the lock,
// so they can set a bit again right after the hand cleared it. With every
// entry read that often, the hand could go round as long as the reads go on. It therefore gives each
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
			pa := logattr.PanicAttrs(v, nil)
			s.logError("OnEvict panicked", slog.Any("key", k), slog.String("reason", r.String()), pa[0], pa[1])
		}
	}()
	s.onEvict(k, p, r)
}

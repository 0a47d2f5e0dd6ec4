package ticker

import (
	"log/slog"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/steadfast-go/steadfast/internal/logattr"
)

// The engine keeps one slot per subscribed instrument, in one of a fixed
// number of stripes chosen by a hash of the token. A stripe's mutex guards
// its slots' ticks, its list of dirty (pending) slots, its list of slots
// owed a catch-up tick and its counters; it is held for the length of a
// tick copy and never across a call out of the engine, so emit never waits
// for the publisher or for I/O. Striping keeps concurrent emitters (a
// source with several connections) off one another's cache lines.

// slot is one subscribed instrument's state. Its fields other than token,
// ins and cur are guarded by the stripe's mutex.
type slot struct {
	token uint32
	// ins is the instrument's description. A reload that changes the
	// description swaps in a new one and keeps the slot; a description is
	// never modified once stored.
	ins atomic.Pointer[Instrument]
	// cur holds the newest valid tick, nil before the first. Latest reads
	// it without a lock; see tickBuf.
	cur    atomic.Pointer[tickBuf]
	spare  *tickBuf // the buffer the next tick is written into
	seq    uint64   // valid ticks stored; 0 before the first
	pubSeq uint64   // seq of the newest tick a Publish accepted
	dirty  bool     // tick is pending: in its stripe's dirty list
	owed   bool     // in its stripe's owed list: a tick of it was dropped
	live   bool     // still subscribed
}

func newSlot(in *Instrument) *slot {
	s := &slot{token: in.Token, live: true}
	s.ins.Store(in)
	return s
}

// stripe is a shard of the slots, padded to a multiple of 64 bytes (a
// cache line) so that two stripes' fields never share one. The slice of
// stripes is one allocation of at least 1 KiB, which the runtime aligns
// to its size class, a multiple of 64.
type stripe struct {
	stripeData
	_ [(64 - unsafe.Sizeof(stripeData{})%64) % 64]byte
}

type stripeData struct {
	mu     sync.Mutex
	dirty  []*slot // pending slots, oldest first
	owed   []*slot // slots with a dropped tick, not yet caught up
	closed bool    // the final flush has run: later ticks are shutdown drops

	produced  uint64
	conflated uint64
	invalid   uint64
	unsub     uint64
	late      uint64 // ticks that arrived after the final flush
}

// hotLine holds what every emit that makes a slot pending touches, and the
// publish loop reads, on a cache line of its own.
type hotLine struct {
	_        [64]byte
	pending  atomic.Int64 // slots in the stripes' dirty lists
	sleeping atomic.Bool  // the publish loop waits for e.wake
	_        [64]byte
}

// tickBuf is one of a slot's tick buffers. A slot publishes a tick by
// writing it into its spare buffer and swapping that in as cur; the old
// cur becomes the spare. A reader (Latest) registers in the buffer's
// readers before it copies the tick and re-checks that the buffer is still
// cur, so it never copies a buffer that is being written; a writer that
// finds readers still registered in its spare (a reader slow to finish its
// copy) writes into a fresh buffer instead of waiting. So emit neither
// blocks nor, in the steady state, allocates, and Latest takes no lock.
type tickBuf struct {
	t       Tick
	readers atomic.Int32
}

// store publishes t as the slot's newest tick. The caller holds the
// stripe's lock (one writer per slot).
func (s *slot) store(t *Tick) {
	b := s.spare
	if b == nil || b.readers.Load() != 0 {
		b = new(tickBuf)
	}
	b.t = *t
	s.spare = s.cur.Swap(b)
}

// latest returns a copy of the slot's newest tick, without a lock.
func (s *slot) latest() (Tick, bool) {
	for {
		b := s.cur.Load()
		if b == nil {
			return Tick{}, false
		}
		b.readers.Add(1)
		if s.cur.Load() == b {
			t := b.t
			b.readers.Add(-1)
			return t, true
		}
		b.readers.Add(-1) // replaced meanwhile: read the new one
	}
}

// subTable is an immutable subscription table: a new one replaces it on
// every reload that changes the subscriptions.
type subTable struct {
	index tokenIndex
	list  []*slot // in the order Instruments listed them
}

func newSubTable(list []*slot) *subTable {
	t := &subTable{list: list}
	t.index.build(list)
	return t
}

// get returns token's slot, or nil.
func (t *subTable) get(token uint32) *slot { return t.index.get(token) }

// tokenIndex maps tokens to slots: an open-addressing hash table with
// linear probing, at most half full, built once and then only read. A
// lookup is one multiplication and, nearly always, one or two probes; the
// runtime's map costs several times that on the emit path.
type tokenIndex struct {
	keys  []uint32 // 0 marks an empty cell (a zero token is never subscribed)
	slots []*slot
	shift uint8
}

func (x *tokenIndex) build(list []*slot) {
	size, bits := 8, uint8(3)
	for size < 2*len(list) {
		size <<= 1
		bits++
	}
	x.keys = make([]uint32, size)
	x.slots = make([]*slot, size)
	x.shift = 32 - bits
	mask := uint32(size - 1)
	for _, s := range list {
		i := (s.token * 0x9E3779B1) >> x.shift
		for x.keys[i] != 0 {
			i = (i + 1) & mask
		}
		x.keys[i] = s.token
		x.slots[i] = s
	}
}

func (x *tokenIndex) get(token uint32) *slot {
	if token == 0 || len(x.keys) == 0 {
		return nil
	}
	mask := uint32(len(x.keys) - 1)
	for i := (token * 0x9E3779B1) >> x.shift; ; i = (i + 1) & mask {
		switch x.keys[i] {
		case token:
			return x.slots[i]
		case 0:
			return nil
		}
	}
}

// stripeCount returns the number of stripes: a power of two, at least 16
// and at least four per processor.
func stripeCount() int {
	n := 16
	for n < 4*runtime.GOMAXPROCS(0) {
		n <<= 1
	}
	return n
}

// stripeIndex returns the index of the stripe that holds token's slot.
func (e *Engine) stripeIndex(token uint32) int {
	h := token * 0x9E3779B1 // Fibonacci hashing spreads sequential tokens
	return int((h >> 16) & e.mask)
}

// stripeOf returns the stripe that holds token's slot.
func (e *Engine) stripeOf(token uint32) *stripe { return &e.stripes[e.stripeIndex(token)] }

// emit is the Source's callback: validate, store as the newest tick, mark
// pending (replacing a pending tick of the same instrument), wake the
// publish loop if it sleeps. It takes one stripe lock, never blocks on
// anything else and does not allocate.
func (e *Engine) emit(t Tick) {
	st := e.stripeOf(t.Token)
	s := e.table.Load().get(t.Token)
	kind := KindUnknown // a tick of no subscription is dropped anyway
	if s != nil {
		if in := s.ins.Load(); in != nil {
			kind = in.Kind // a future's price may be negative
		}
	}
	if err := t.Validate(kind); err != nil {
		st.mu.Lock()
		st.produced++
		st.invalid++
		st.mu.Unlock()
		e.logInvalid(err)
		return
	}
	t.Instrument = nil // the engine sets its own when it hands the tick on
	st.mu.Lock()
	st.produced++
	switch {
	case st.closed:
		st.late++
		st.mu.Unlock()
		return
	case s == nil || !s.live:
		st.unsub++
		st.mu.Unlock()
		return
	}
	s.store(&t)
	s.seq++
	if s.dirty {
		st.conflated++
		st.mu.Unlock()
		return
	}
	s.dirty = true
	st.dirty = append(st.dirty, s)
	e.hot.pending.Add(1)
	st.mu.Unlock()
	if e.hot.sleeping.Load() && e.hot.sleeping.Swap(false) {
		select {
		case e.wake <- struct{}{}:
		default:
		}
	}
}

// logInvalid logs an invalid tick, at most once a second.
func (e *Engine) logInvalid(err error) {
	now := time.Now().UnixNano()
	last := e.lastInvalidLog.Load()
	if now-last < int64(time.Second) || !e.lastInvalidLog.CompareAndSwap(last, now) {
		return
	}
	e.log(slog.LevelWarn, "invalid tick withheld (at most one record a second)", logattr.Err(err))
}

// batch is the publish loop's reusable buffer: the ticks handed to the
// Publisher and the slots and sequence numbers they came from.
type batch struct {
	ticks []Tick
	slots []*slot
	seqs  []uint64
}

func newBatch(size int) *batch {
	return &batch{ticks: make([]Tick, 0, size), slots: make([]*slot, 0, size), seqs: make([]uint64, 0, size)}
}

func (b *batch) reset() {
	clear(b.ticks) // drop references to Depth and the like
	b.ticks, b.slots, b.seqs = b.ticks[:0], b.slots[:0], b.seqs[:0]
}

func (b *batch) add(s *slot) {
	b.ticks = append(b.ticks, s.cur.Load().t) // under the stripe lock: no writer
	b.ticks[len(b.ticks)-1].Instrument = s.ins.Load()
	b.slots = append(b.slots, s)
	b.seqs = append(b.seqs, s.seq)
}

// take moves up to max pending ticks into b, starting at stripe *next and
// going round, and returns how many it took.
func (e *Engine) take(b *batch, max int, next *int) int {
	n := 0
	for i := 0; i < len(e.stripes) && n < max; i++ {
		st := &e.stripes[(*next+i)&int(e.mask)]
		st.mu.Lock()
		k := min(len(st.dirty), max-n)
		for _, s := range st.dirty[:k] {
			s.dirty = false
			b.add(s)
		}
		rest := copy(st.dirty, st.dirty[k:])
		clear(st.dirty[rest:])
		st.dirty = st.dirty[:rest]
		st.mu.Unlock()
		n += k
	}
	*next = (*next + 1) & int(e.mask)
	if n > 0 {
		e.inflight.Add(int64(n))
		e.hot.pending.Add(-int64(n))
	}
	return n
}

// takeOwed moves into b, up to max, the newest tick of each slot owed a
// catch-up that has no newer tick pending, and forgets owed slots that no
// longer need one (caught up by a regular publish, or unsubscribed).
func (e *Engine) takeOwed(b *batch, max int) int {
	n, forgot := 0, 0
	for i := range e.stripes {
		if n >= max {
			break
		}
		st := &e.stripes[i]
		st.mu.Lock()
		keep := st.owed[:0]
		for _, s := range st.owed {
			switch {
			case !s.live || s.pubSeq == s.seq:
				s.owed = false
				forgot++
			case s.dirty || n >= max:
				keep = append(keep, s) // a regular publish will carry it
			default:
				b.add(s)
				keep = append(keep, s)
				n++
			}
		}
		clear(st.owed[len(keep):])
		st.owed = keep
		st.mu.Unlock()
	}
	e.owed.Add(-int64(forgot))
	return n
}

// settle records the outcome of a batch: on success each slot's published
// sequence advances (and an owed slot so caught up is forgotten by the next
// takeOwed); on a drop each slot becomes owed a catch-up.
func (e *Engine) settle(b *batch, ok bool) {
	added := 0
	// take fills a batch stripe by stripe, so lock each run of slots of
	// one stripe once.
	var st *stripe
	for i, s := range b.slots {
		if next := e.stripeOf(s.token); next != st {
			if st != nil {
				st.mu.Unlock()
			}
			st = next
			st.mu.Lock()
		}
		if ok {
			if b.seqs[i] > s.pubSeq {
				s.pubSeq = b.seqs[i]
			}
		} else if !s.owed && s.live {
			s.owed = true
			st.owed = append(st.owed, s)
			added++
		}
	}
	if st != nil {
		st.mu.Unlock()
	}
	if added > 0 {
		e.owed.Add(int64(added))
	}
}

// retire marks slots no longer subscribed; a tick of theirs still pending
// is dropped as unsubscribed (an owed catch-up is forgotten by the next
// takeOwed). It groups the slots by stripe, locks each stripe once and
// walks its dirty list at most once, so removing n instruments costs
// O(n + pending) and holds one stripe lock at a time.
func (e *Engine) retire(gone []*slot) {
	if len(gone) == 0 {
		return
	}
	byStripe := make([][]*slot, len(e.stripes))
	for _, s := range gone {
		i := e.stripeIndex(s.token)
		byStripe[i] = append(byStripe[i], s)
	}
	for i, slots := range byStripe {
		if len(slots) == 0 {
			continue
		}
		st := &e.stripes[i]
		st.mu.Lock()
		dropped := 0
		for _, s := range slots {
			s.live = false
			if s.dirty {
				s.dirty = false
				dropped++
			}
		}
		if dropped > 0 {
			st.dirty = slices.DeleteFunc(st.dirty, func(s *slot) bool { return !s.live })
			st.unsub += uint64(dropped)
			e.hot.pending.Add(-int64(dropped))
		}
		st.mu.Unlock()
	}
}

// closeStripes marks every stripe closed (later ticks are counted as
// shutdown drops) and counts the ticks still pending as shutdown drops. It
// may be called again: the second call finds nothing pending.
func (e *Engine) closeStripes() {
	var dropped uint64
	for i := range e.stripes {
		st := &e.stripes[i]
		st.mu.Lock()
		st.closed = true
		for _, s := range st.dirty {
			s.dirty = false
		}
		dropped += uint64(len(st.dirty))
		e.hot.pending.Add(-int64(len(st.dirty)))
		clear(st.dirty)
		st.dirty = st.dirty[:0]
		st.mu.Unlock()
	}
	e.shutdownDrops.Add(dropped)
}

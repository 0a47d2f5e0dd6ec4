package mockstate

import "sync/atomic"

// table is the read index: an open-addressing hash table with linear
// probing whose slots are atomic pointers to entries. Readers load a slot
// and compare the entry's immutable key; they never lock. Only the
// writer (under Store.mu) stores into the slots of the current table, and
// it never moves an entry within a table: it fills an empty or tombstone
// slot, or turns a slot into a tombstone. When the table is too full it
// builds a new one and publishes it with one atomic store; readers still
// probing the old table find every entry that is live, because entries are
// shared and an entry's removal is marked on the entry itself (snap = nil).
type table[K comparable, S, B any] struct {
	slots []atomic.Pointer[entry[K, S, B]]
	mask  uint64
	used  int // live entries plus tombstones; written only under Store.mu
}

const minTableSize = 16

func newTable[K comparable, S, B any](size int) *table[K, S, B] {
	return &table[K, S, B]{
		slots: make([]atomic.Pointer[entry[K, S, B]], size),
		mask:  uint64(size - 1),
	}
}

// find returns the live entry for k, or nil. Safe without the lock.
func (t *table[K, S, B]) find(h uint64, k K) *entry[K, S, B] {
	for i := h & t.mask; ; i = (i + 1) & t.mask {
		e := t.slots[i].Load()
		if e == nil {
			return nil
		}
		if e.key == k && e.snap.Load() != nil {
			return e
		}
	}
}

// live yields the entries of t that are live when it reaches them, each
// with its snapshot at that moment. Safe without the lock; each entry
// appears at most once, because the writer never moves an entry within a
// table.
func (t *table[K, S, B]) live(yield func(*entry[K, S, B], *S) bool) {
	for i := range t.slots {
		e := t.slots[i].Load()
		if e == nil {
			continue
		}
		if p := e.snap.Load(); p != nil && !yield(e, p) {
			return
		}
	}
}

// tableSizeFor returns the power-of-two size for n live entries: at most a
// third full after a rebuild, so that at least a sixth of the slots can be
// filled before the next one (tables grow at half full).
func tableSizeFor(n int) int {
	size := minTableSize
	for size < 3*n {
		size <<= 1
	}
	return size
}

// tabInsertLocked puts live entry e (not yet in the table) into the
// current table, rebuilding it first when it would pass half full.
func (s *Store[K, S, B]) tabInsertLocked(e *entry[K, S, B]) {
	t := s.tab.Load()
	if 2*(t.used+1) > len(t.slots) {
		t = s.rebuildLocked(t, int(s.n.Load()))
	}
	var dst *atomic.Pointer[entry[K, S, B]]
	for i := s.hash(e.key) & t.mask; ; i = (i + 1) & t.mask {
		c := t.slots[i].Load()
		if c == s.tomb {
			if dst == nil {
				dst = &t.slots[i]
			}
			continue
		}
		if c == nil {
			if dst == nil {
				dst = &t.slots[i]
				t.used++
			}
			break
		}
	}
	dst.Store(e)
}

// tabDeleteLocked replaces entry e's slot in the current table with the
// tombstone. e has already been marked removed or is being replaced.
func (s *Store[K, S, B]) tabDeleteLocked(e *entry[K, S, B]) {
	t := s.tab.Load()
	for i := s.hash(e.key) & t.mask; ; i = (i + 1) & t.mask {
		c := t.slots[i].Load()
		if c == e {
			t.slots[i].Store(s.tomb)
			return
		}
		if c == nil {
			return // not in this table (cannot happen for a live entry)
		}
	}
}

// rebuildLocked publishes a new table holding the live entries of t, sized
// for n live entries plus the one about to be inserted.
func (s *Store[K, S, B]) rebuildLocked(t *table[K, S, B], n int) *table[K, S, B] {
	nt := newTable[K, S, B](tableSizeFor(n + 1))
	for i := range t.slots {
		e := t.slots[i].Load()
		if e == nil || e == s.tomb || e.snap.Load() == nil {
			continue
		}
		j := s.hash(e.key) & nt.mask
		for nt.slots[j].Load() != nil {
			j = (j + 1) & nt.mask
		}
		nt.slots[j].Store(e)
		nt.used++
	}
	s.tab.Store(nt)
	return nt
}

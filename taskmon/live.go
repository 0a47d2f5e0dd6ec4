package taskmon

import (
	"cmp"
	"slices"
	"sync"
)

// The monitor's live tasks and counts are split into shards, each with its
// own lock, list and counters; a task belongs to the shard of its ID. Tasks
// started back to back go to different shards, so starting one task and
// finishing another seldom wait for the same lock. Methods that look at
// every task (Tasks, Wait, Shutdown, Stats) visit the shards one by one.

// nShards is the number of shards: a power of two, enough that a few
// goroutines starting tasks and a few finishing them rarely meet.
const nShards = 8

// shard is one part of a monitor's live tasks and of its per-run counts.
type shard struct {
	mu         sync.Mutex
	head, tail *Task // live tasks of this shard, in start order
	running    int
	succeeded  uint64
	failed     uint64
	panicked   uint64
	cancelled  uint64
	restarts   uint64

	_ [128 - 72]byte // a shard per 128 bytes: no false sharing of locks
}

// shardOf returns the shard of a task with the given ID.
func (m *Monitor) shardOf(id uint64) *shard { return &m.shards[id%nShards] }

// link adds t to the end of the shard's list; s.mu is held.
func (s *shard) link(t *Task) {
	t.prev = s.tail
	if s.tail != nil {
		s.tail.next = t
	} else {
		s.head = t
	}
	s.tail = t
	s.running++
}

// unlink removes t from the shard's list; s.mu is held.
func (s *shard) unlink(t *Task) {
	if t.prev != nil {
		t.prev.next = t.next
	} else {
		s.head = t.next
	}
	if t.next != nil {
		t.next.prev = t.prev
	} else {
		s.tail = t.prev
	}
	t.prev, t.next = nil, nil
	s.running--
}

// count adds one run with outcome o; s.mu is held.
func (s *shard) count(o Outcome) {
	switch o {
	case OutcomeOK:
		s.succeeded++
	case OutcomeCancelled:
		s.cancelled++
	case OutcomePanicked:
		s.panicked++
	default:
		s.failed++
	}
}

// live returns the live tasks in start order. The shards are locked in
// turn, so a task started or finished meanwhile may or may not be in it, as
// with any snapshot taken while tasks come and go.
func (m *Monitor) live() []*Task {
	var ts []*Task
	for i := range m.shards {
		s := &m.shards[i]
		s.mu.Lock()
		for t := s.head; t != nil; t = t.next {
			ts = append(ts, t)
		}
		s.mu.Unlock()
	}
	slices.SortFunc(ts, func(a, b *Task) int { return cmp.Compare(a.id, b.id) })
	return ts
}

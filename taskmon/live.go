package taskmon

import (
	"cmp"
	"slices"
	"sync"
)

// The monitor's live tasks and counts are split into shards, each with its
// own lock, slice of live tasks and counters; a task belongs to the shard of its ID. Tasks
// started back to back go to different shards, so starting one task and
// finishing another seldom wait for the same lock. Methods that look at
// every task (Tasks, Wait, Shutdown, Stats) visit the shards one by one.

// nShards is the number of shards: a power of two, enough that a few
// goroutines starting tasks and a few finishing them rarely meet.
const nShards = 8

// shard is one part of a monitor's live tasks and of its per-run counts.
type shard struct {
	mu        sync.Mutex
	tasks     []*Task // live tasks of this shard, in no order; Task.idx is the index
	succeeded uint64
	failed    uint64
	panicked  uint64
	cancelled uint64
	restarts  uint64

	_ [128 - 72]byte // a shard per 128 bytes: no false sharing of locks
}

// shardOf returns the shard of a task with the given ID.
func (m *Monitor) shardOf(id uint64) *shard { return &m.shards[id%nShards] }

// link adds t to the shard's live tasks; s.mu is held.
func (s *shard) link(t *Task) {
	t.idx = int32(len(s.tasks))
	s.tasks = append(s.tasks, t)
}

// unlink removes t from the shard's live tasks, moving the last one into
// its place; s.mu is held. A slice that a burst of tasks grew is shrunk
// once it is mostly empty.
func (s *shard) unlink(t *Task) {
	last := len(s.tasks) - 1
	moved := s.tasks[last]
	s.tasks[t.idx] = moved
	moved.idx = t.idx
	s.tasks[last] = nil
	s.tasks = s.tasks[:last]
	if c := cap(s.tasks); c > 256 && len(s.tasks) < c/8 {
		s.tasks = slices.Clone(s.tasks)
	}
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
		ts = append(ts, s.tasks...)
		s.mu.Unlock()
	}
	slices.SortFunc(ts, func(a, b *Task) int { return cmp.Compare(a.id, b.id) })
	return ts
}

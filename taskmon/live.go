package taskmon

import (
	"cmp"
	"slices"
	"sync"
)

// The monitor's tasks are kept in shards, each with its own lock, slice of
// tasks and counters; a task belongs to the shard of its ID, so tasks
// started back to back go to different shards. Methods that look at every
// task (Tasks, Wait, Shutdown, Stats) visit the shards one by one.
//
// For a task started by Go, only the start touches its shard: Go appends
// the task to the shard's slice under the lock. The end touches nothing but
// the Task (its flags record the outcome), so that a task started on one
// core and ended on another moves no cache line of the monitor between
// them. (A supervised task counts each run, and its restarts, under its
// shard's lock as they happen: it has a goroutine of its own for that, and
// its runs are not the hot path.) A task that has ended stays in the slice
// until the shard is next swept: by the Go that finds the slice full, and
// by every visit of Tasks, Wait, Shutdown and Stats. Sweeping removes the
// tasks that have ended and adds the outcomes of those started by Go to
// the shard's counts; Stats adds those of the tasks not yet swept. So the
// monitor holds a task's handle (and what it refers to: its parent
// context, its error) for a while after it ends: until the next visit
// (Wait also sweeps once it has waited), or until enough starts on its
// shard fill the slice, which holds at most about four times the most
// tasks that ran at once on the shard.

// nShards is the number of shards: a power of two, enough that a few
// goroutines starting tasks rarely wait for the same lock.
const nShards = 8

// shard is one part of a monitor's tasks and of its per-run counts.
type shard struct {
	mu sync.Mutex
	// Tasks not yet swept, in the order they were added. A task is
	// removed only once it has ended (flagEnded).
	tasks []*Task

	// Runs counted: a supervised task's runs as they end, the run of a
	// task started by Go when it is swept.
	runs     runCounts
	restarts uint64

	_ [128 - 72]byte // a shard per 128 bytes: no false sharing of locks
}

// runCounts counts runs by outcome.
type runCounts struct {
	succeeded uint64
	failed    uint64
	panicked  uint64
	cancelled uint64
}

// count adds one run with outcome o.
func (c *runCounts) count(o Outcome) {
	switch o {
	case OutcomeOK:
		c.succeeded++
	case OutcomeCancelled:
		c.cancelled++
	case OutcomePanicked:
		c.panicked++
	default:
		c.failed++
	}
}

// addTo adds the counts to st.
func (c *runCounts) addTo(st *Stats) {
	st.Succeeded += c.succeeded
	st.Failed += c.failed
	st.Panicked += c.panicked
	st.Cancelled += c.cancelled
}

// shardOf returns the shard of a task with the given ID.
func (m *Monitor) shardOf(id uint64) *shard { return &m.shards[id%nShards] }

// add appends t to the shard's tasks; s.mu is held. A full slice is swept
// first, and grown when at least half of it is still in use, so that the
// cost of sweeping stays a constant per task.
func (s *shard) add(t *Task) {
	if c := cap(s.tasks); len(s.tasks) == c {
		s.sweep()
		if len(s.tasks) > c/2 {
			s.tasks = slices.Grow(s.tasks, c)
		}
	}
	s.tasks = append(s.tasks, t)
}

// sweep removes the tasks that have ended, counting the runs of those
// started by Go; s.mu is held. A slice that a burst of tasks grew is
// shrunk once it is mostly empty.
func (s *shard) sweep() {
	kept := s.tasks[:0]
	for _, t := range s.tasks {
		f := t.flags.Load()
		switch {
		case f&flagEnded == 0:
			kept = append(kept, t)
		case f&flagSupervised == 0:
			s.runs.count(outcomeOf(f))
		}
	}
	clear(s.tasks[len(kept):])
	s.tasks = kept
	if c := cap(kept); c > 256 && len(kept) < c/8 {
		s.tasks = slices.Clone(kept)
	}
}

// addStats sweeps the shard and adds its counts to st: those of the runs
// swept, and those of the tasks started by Go that are done but not yet
// swept. Tasks not yet done are Running.
func (s *shard) addStats(st *Stats) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweep()
	runs := s.runs
	for _, t := range s.tasks {
		f := t.flags.Load()
		switch {
		case f&flagDone == 0:
			st.Running++
		case f&flagSupervised == 0:
			runs.count(outcomeOf(f))
		}
	}
	runs.addTo(st)
	st.Restarts += s.restarts
}

// sweep sweeps every shard.
func (m *Monitor) sweep() {
	for i := range m.shards {
		s := &m.shards[i]
		s.mu.Lock()
		s.sweep()
		s.mu.Unlock()
	}
}

// live returns the tasks that have not ended, in start order; done ones
// among them are about to end. The shards are locked (and swept) in turn,
// so a task started or finished meanwhile may or may not be in it, as with
// any snapshot taken while tasks come and go.
func (m *Monitor) live() []*Task {
	var ts []*Task
	for i := range m.shards {
		s := &m.shards[i]
		s.mu.Lock()
		s.sweep()
		ts = append(ts, s.tasks...)
		s.mu.Unlock()
	}
	slices.SortFunc(ts, func(a, b *Task) int { return cmp.Compare(a.id, b.id) })
	return ts
}

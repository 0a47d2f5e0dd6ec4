package taskmon

import (
	"context"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/require"
)

// The hot path's structures stay within the sizes their comments promise.
func TestSizes(t *testing.T) {
	if n := unsafe.Sizeof(Task{}); n > 96 {
		t.Errorf("Task is %d bytes; it should fit the 96-byte size class", n)
	}
	if n := unsafe.Sizeof(shard{}); n != 128 {
		t.Errorf("shard is %d bytes, want 128 (padding against false sharing)", n)
	}
}

// A burst of tasks grows the shards' slices; Wait, once the tasks have
// ended, sweeps them and shrinks the slices again, so the monitor does not
// keep the burst's memory.
func TestShardsShrinkAfterBurst(t *testing.T) {
	m := newMon(Config{})
	release := make(chan struct{})
	const n = 8 * 2000
	for range n {
		m.Go(context.Background(), "burst", func(context.Context) error { <-release; return nil })
	}
	grown := 0
	for i := range m.shards {
		grown = max(grown, cap(m.shards[i].tasks))
	}
	require.GreaterOrEqual(t, grown, n/nShards)
	require.Equal(t, n, m.Stats().Running)
	close(release)
	m.Wait()
	held := 0
	for i := range m.shards {
		s := &m.shards[i]
		s.mu.Lock()
		// A task is let go once it has released Wait and marked itself
		// ended, a moment later: the last few may be held still.
		held += len(s.tasks)
		require.LessOrEqual(t, cap(s.tasks), 256, "shard %d", i)
		s.mu.Unlock()
	}
	require.Less(t, held, n/100)
	require.Equal(t, Stats{Succeeded: n}, m.Stats())
}

// fakeTask returns a task with the given flags, as the shard sees it.
func fakeTask(id uint64, flags uint32) *Task {
	t := &Task{id: id}
	t.flags.Store(flags)
	return t
}

// A run of a task started by Go is counted once: by Stats while the task
// is done and still in its shard, by the shard once swept. A supervised
// task's runs are counted as they end, never by the sweep.
func TestShardCountsEachRunOnce(t *testing.T) {
	var s shard
	ok := fakeTask(1, flagDone|uint32(OutcomeOK)<<outcomeShift)
	failed := fakeTask(2, flagDone|flagErr|uint32(OutcomeExited)<<outcomeShift)
	supervised := fakeTask(3, flagSupervised|flagDone|uint32(OutcomeFailed)<<outcomeShift)
	running := fakeTask(4, 0)
	for _, task := range []*Task{ok, failed, supervised, running} {
		s.add(task)
	}
	want := Stats{Running: 1, Succeeded: 1, Failed: 1}
	var st Stats
	s.addStats(&st)
	require.Equal(t, want, st)
	require.Len(t, s.tasks, 4, "nothing has ended: nothing is swept")

	for _, task := range []*Task{ok, failed, supervised} {
		task.flags.Or(flagEnded)
	}
	st = Stats{}
	s.addStats(&st)
	require.Equal(t, want, st, "counted by the sweep instead")
	require.Equal(t, []*Task{running}, s.tasks)

	st = Stats{}
	s.addStats(&st)
	require.Equal(t, want, st, "and only once")
}

// The shard's slice grows geometrically while its tasks are running, and
// stays small while they end as fast as they start.
func TestShardGrowth(t *testing.T) {
	var s shard
	const n = 1000
	for i := range n {
		s.add(fakeTask(uint64(i), 0))
	}
	require.Len(t, s.tasks, n)
	require.LessOrEqual(t, cap(s.tasks), 4*n)

	var ended shard
	for i := range 100 * n {
		ended.add(fakeTask(uint64(i), flagDone|flagEnded))
	}
	require.LessOrEqual(t, cap(ended.tasks), 16)
	var st Stats
	ended.addStats(&st)
	require.Equal(t, Stats{Succeeded: 100 * n}, st)
}

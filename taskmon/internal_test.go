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

// A burst of tasks grows the shards' slices; once the tasks are done, the
// slices are shrunk again, so the monitor does not keep the burst's memory.
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
	for i := range m.shards {
		require.LessOrEqual(t, cap(m.shards[i].tasks), 256, "shard %d", i)
	}
	require.Equal(t, Stats{Succeeded: n}, m.Stats())
}

package taskmon

import (
	"testing"
	"unsafe"
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

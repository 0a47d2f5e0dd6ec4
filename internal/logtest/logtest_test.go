package logtest

import (
	"fmt"
	"sync"
	"testing"
)

func TestBufferConcurrentWrites(t *testing.T) {
	var b Buffer
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for range 100 {
				fmt.Fprintf(&b, "%d\n", i)
			}
		})
	}
	wg.Wait()
	if got := len(b.String()); got != 8*100*2 {
		t.Fatalf("wrote %d bytes, want %d", got, 1600)
	}
	c := b.Bytes()
	c[0] = 'x'
	if b.String()[0] == 'x' {
		t.Fatal("Bytes returned the buffer's own memory")
	}
}

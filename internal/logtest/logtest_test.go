package logtest

import (
	"context"
	"fmt"
	"log/slog"
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

func TestRecords(t *testing.T) {
	var b Buffer
	l := JSON(&b)
	l.Debug("one", "k", 1)
	l.Info("two")
	recs := Records(t, b.Bytes())
	if len(recs) != 2 || recs[0]["msg"] != "one" || recs[0]["k"] != float64(1) || recs[1]["level"] != "INFO" {
		t.Fatalf("records %v", recs)
	}
	if Quiet().Enabled(context.Background(), slog.LevelError) {
		t.Fatal("Quiet logs")
	}
}

func TestList(t *testing.T) {
	var l List[int]
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() { l.Add(i) })
	}
	wg.Wait()
	got := l.Get()
	got[0] = 99
	if len(l.Get()) != 4 || l.Get()[0] == 99 {
		t.Fatalf("list %v", l.Get())
	}
}

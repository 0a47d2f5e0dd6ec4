package bench

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/bep/debounce"

	"github.com/steadfast-go/steadfast/reloader"
)

// The reloader comparison: the cost of one trigger on the caller's side,
// steadfast's Reloader.Trigger (with Run active, default config) against a
// call of a function debounced by bep/debounce. The debounce window is long
// enough that no reload runs inside the timed loop.

// rlTrigger is one contender: it returns the trigger function and a cleanup.
type rlTrigger struct {
	name string
	make func(tb testing.TB) (trigger func(), stop func())
}

var rlContenders = []rlTrigger{
	{"steadfast", func(tb testing.TB) (func(), func()) {
		r, err := reloader.New(func(context.Context) error { return nil },
			reloader.Config{Name: "bench", Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			tb.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- r.Run(ctx) }()
		return r.Trigger, func() { cancel(); <-done }
	}},
	{"bep-debounce", func(tb testing.TB) (func(), func()) {
		debounced := debounce.New(time.Hour)
		reload := func() {}
		return func() { debounced(reload) }, func() {}
	}},
}

func BenchmarkReloaderTrigger(b *testing.B) {
	for _, c := range rlContenders {
		b.Run(c.name, func(b *testing.B) {
			trigger, stop := c.make(b)
			defer stop()
			b.ReportAllocs()
			for b.Loop() {
				trigger()
			}
		})
	}
}

func BenchmarkReloaderTriggerParallel(b *testing.B) {
	for _, c := range rlContenders {
		b.Run(c.name, func(b *testing.B) {
			trigger, stop := c.make(b)
			defer stop()
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					trigger()
				}
			})
		})
	}
}

// TestReloaderContenders checks that every contender triggers without
// failing, so the comparison keeps compiling and working.
func TestReloaderContenders(t *testing.T) {
	for _, c := range rlContenders {
		trigger, stop := c.make(t)
		for range 100 {
			trigger()
		}
		stop()
	}
}

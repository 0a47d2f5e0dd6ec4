package bench

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"unsafe"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sourcegraph/conc"
	"github.com/thejerf/suture/v4"
	"golang.org/x/sync/errgroup"

	"github.com/steadfast-go/steadfast/taskmon"
)

// The task every benchmark runs: it does nothing, so what is measured is the
// cost of starting a goroutine under each mechanism and learning that it
// ended.
func noopTask(context.Context) error { return nil }

// oneShot is a suture service that runs once: ErrDoNotRestart makes the
// supervisor forget it when it returns.
type oneShot struct{ wg *sync.WaitGroup }

func (s oneShot) Serve(ctx context.Context) error {
	_ = noopTask(ctx)
	s.wg.Done()
	return suture.ErrDoNotRestart
}

// startSuture returns a running supervisor and a function that stops it.
func startSuture(ctx context.Context) (*suture.Supervisor, func()) {
	sup := suture.New("bench", suture.Spec{EventHook: func(suture.Event) {}})
	sctx, cancel := context.WithCancel(ctx)
	errc := sup.ServeBackground(sctx)
	return sup, func() {
		cancel()
		<-errc
	}
}

// handleGroup is a reference, not a library: the least that a task with a
// handle costs. Go allocates a 96-byte handle (the size class of taskmon's old Task)
// with its own WaitGroup for waiting on one task, counts it in a group
// WaitGroup for waiting on all, and runs the function under a deferred
// recover, as a supervisor must. It has no names in use, no IDs, no start
// time, no list of running tasks, no context and no outcome.
type handleGroup struct{ all sync.WaitGroup }

type handle struct {
	name string
	wg   sync.WaitGroup
	err  error
	_    [48]byte // to 96 bytes
}

func (g *handleGroup) Go(ctx context.Context, name string, fn func(context.Context) error) *handle {
	h := &handle{name: name}
	h.wg.Add(1)
	g.all.Add(1)
	go g.run(ctx, h, fn)
	return h
}

func (g *handleGroup) run(ctx context.Context, h *handle, fn func(context.Context) error) {
	normal := false
	defer func() {
		if !normal {
			_ = recover()
		}
		h.wg.Done()
		g.all.Done()
	}()
	h.err = fn(ctx)
	normal = true
}

// runHandle is the goroutine of the go+handle reference: the bare
// goroutine, writing its result into a handle.
func runHandle(ctx context.Context, wg *sync.WaitGroup, h *handle) {
	defer wg.Done()
	h.err = noopTask(ctx)
}

// BenchmarkTaskmonBurst starts b.N no-op tasks back to back and then waits
// for all of them: throughput of start + completion. The final wait is
// timed, so it uses a b.N loop: b.Loop stops the timer when it ends.
func BenchmarkTaskmonBurst(b *testing.B) {
	ctx := context.Background()

	b.Run("impl=go+WaitGroup", func(b *testing.B) {
		b.ReportAllocs()
		var wg sync.WaitGroup
		b.ResetTimer()
		for range b.N {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_ = noopTask(ctx)
			}()
		}
		wg.Wait()
	})

	// The bare goroutine, plus a 96-byte handle that it writes its result
	// into: what returning a handle costs by itself, without recover or a
	// WaitGroup of its own.
	b.Run("impl=go+handle", func(b *testing.B) {
		b.ReportAllocs()
		var wg sync.WaitGroup
		b.ResetTimer()
		for range b.N {
			h := &handle{name: "noop"}
			wg.Add(1)
			go runHandle(ctx, &wg, h)
		}
		wg.Wait()
	})

	b.Run("impl=errgroup", func(b *testing.B) {
		b.ReportAllocs()
		var g errgroup.Group
		b.ResetTimer()
		for range b.N {
			g.Go(func() error { return noopTask(ctx) })
		}
		_ = g.Wait()
	})

	// errgroup.WithContext: the group's tasks share a context that the
	// first error cancels.
	b.Run("impl=errgroup+ctx", func(b *testing.B) {
		b.ReportAllocs()
		g, gctx := errgroup.WithContext(ctx)
		b.ResetTimer()
		for range b.N {
			g.Go(func() error { return noopTask(gctx) })
		}
		_ = g.Wait()
	})

	b.Run("impl=conc", func(b *testing.B) {
		b.ReportAllocs()
		var wg conc.WaitGroup
		b.ResetTimer()
		for range b.N {
			wg.Go(func() { _ = noopTask(ctx) })
		}
		wg.Wait()
	})

	b.Run("impl=handle", func(b *testing.B) {
		b.ReportAllocs()
		var g handleGroup
		b.ResetTimer()
		for range b.N {
			g.Go(ctx, "noop", noopTask)
		}
		g.all.Wait()
	})

	b.Run("impl=suture", func(b *testing.B) {
		b.ReportAllocs()
		sup, stop := startSuture(ctx)
		var wg sync.WaitGroup
		b.ResetTimer()
		for range b.N {
			wg.Add(1)
			sup.Add(oneShot{&wg})
		}
		wg.Wait()
		b.StopTimer()
		stop()
	})

	for _, v := range taskmonVariants {
		b.Run("impl="+v.name, func(b *testing.B) {
			b.ReportAllocs()
			m, ctx := v.open(b)
			b.ResetTimer()
			for range b.N {
				m.Go(ctx, "noop", noopTask)
			}
			m.Wait()
		})
	}
}

// BenchmarkTaskmonEach starts one no-op task and waits for it before the
// next: latency of start + completion, one task at a time.
func BenchmarkTaskmonEach(b *testing.B) {
	ctx := context.Background()

	b.Run("impl=go+WaitGroup", func(b *testing.B) {
		b.ReportAllocs()
		var wg sync.WaitGroup
		for b.Loop() {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_ = noopTask(ctx)
			}()
			wg.Wait()
		}
	})

	b.Run("impl=go+handle", func(b *testing.B) {
		b.ReportAllocs()
		var wg sync.WaitGroup
		for b.Loop() {
			h := &handle{name: "noop"}
			wg.Add(1)
			go runHandle(ctx, &wg, h)
			wg.Wait()
		}
	})

	b.Run("impl=errgroup", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var g errgroup.Group
			g.Go(func() error { return noopTask(ctx) })
			_ = g.Wait()
		}
	})

	b.Run("impl=errgroup+ctx", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			g, gctx := errgroup.WithContext(ctx)
			g.Go(func() error { return noopTask(gctx) })
			_ = g.Wait()
		}
	})

	b.Run("impl=conc", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var wg conc.WaitGroup
			wg.Go(func() { _ = noopTask(ctx) })
			wg.Wait()
		}
	})

	b.Run("impl=handle", func(b *testing.B) {
		b.ReportAllocs()
		var g handleGroup
		for b.Loop() {
			g.Go(ctx, "noop", noopTask).wg.Wait()
		}
	})

	b.Run("impl=suture", func(b *testing.B) {
		b.ReportAllocs()
		sup, stop := startSuture(ctx)
		var wg sync.WaitGroup
		for b.Loop() {
			wg.Add(1)
			sup.Add(oneShot{&wg})
			wg.Wait()
		}
		b.StopTimer()
		stop()
	})

	for _, v := range taskmonVariants {
		b.Run("impl="+v.name, func(b *testing.B) {
			b.ReportAllocs()
			m, ctx := v.open(b)
			for b.Loop() {
				_ = m.Go(ctx, "noop", noopTask).Wait()
			}
		})
	}

	// Waiting on the Done channel instead of Wait: the channel is one more
	// allocation.
	b.Run("impl=taskmon+Done", func(b *testing.B) {
		b.ReportAllocs()
		m, ctx := taskmonVariants[0].open(b)
		for b.Loop() {
			<-m.Go(ctx, "noop", noopTask).Done()
		}
	})
}

// taskmonVariant is a monitor measured, with the context its tasks are
// started with.
type taskmonVariant struct {
	name    string
	metrics bool // with a Prometheus registry
	// A parent that can be canceled: the task's context registers with it.
	cancelParent bool
}

var taskmonVariants = []taskmonVariant{
	{name: "taskmon"},
	{name: "taskmon+metrics", metrics: true},
	{name: "taskmon+cancelparent", cancelParent: true},
}

// open returns the variant's monitor and parent context.
func (v taskmonVariant) open(b *testing.B) (*taskmon.Monitor, context.Context) {
	cfg := taskmon.Config{Logger: slog.New(slog.DiscardHandler)}
	if v.metrics {
		cfg.Registerer = prometheus.NewRegistry()
	}
	ctx := context.Background()
	if v.cancelParent {
		var cancel context.CancelFunc
		ctx, cancel = context.WithCancel(ctx)
		b.Cleanup(cancel)
	}
	return taskmon.New(cfg), ctx
}

// TestTaskmonErrgroupContext checks that errgroup.WithContext on a task's
// context sees the monitor's cause: the group's context is canceled by
// Shutdown, and context.Cause reports taskmon.ErrShutdown, for a parent that
// can never be canceled and for one that can.
func TestTaskmonErrgroupContext(t *testing.T) {
	for name, parent := range map[string]context.Context{
		"Background": context.Background(),
		"WithCancel": func() context.Context {
			ctx, cancel := context.WithCancel(context.Background())
			t.Cleanup(cancel)
			return ctx
		}(),
	} {
		t.Run(name, func(t *testing.T) {
			m := taskmon.New(taskmon.Config{Logger: slog.New(slog.DiscardHandler)})
			started := make(chan struct{})
			causes := make(chan error, 1)
			m.Go(parent, "group", func(ctx context.Context) error {
				g, gctx := errgroup.WithContext(ctx)
				g.Go(func() error {
					close(started)
					<-gctx.Done()
					causes <- context.Cause(gctx)
					return gctx.Err()
				})
				return g.Wait()
			})
			<-started
			if err := m.Shutdown(context.Background()); err != nil {
				t.Fatalf("Shutdown: %v", err)
			}
			if got := <-causes; got != taskmon.ErrShutdown {
				t.Fatalf("context.Cause of the group's context = %v, want ErrShutdown", got)
			}
			if s := m.Stats(); s.Canceled != 1 || s.Failed != 0 {
				t.Fatalf("Stats = %+v, want one canceled run", s)
			}
		})
	}
}

// The reference handle is the size it claims.
func TestHandleSize(t *testing.T) {
	if n := unsafe.Sizeof(handle{}); n != 96 {
		t.Fatalf("handle is %d bytes, want 96", n)
	}
}

//go:build unix

package bench

import (
	"context"
	"errors"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	eapache "github.com/eapache/go-resiliency/breaker"
	"github.com/failsafe-go/failsafe-go"
	"github.com/failsafe-go/failsafe-go/circuitbreaker"
	"github.com/sony/gobreaker/v2"

	"github.com/steadfast-go/steadfast/breaker"
)

// The protected call every breaker benchmark wraps: it does nothing, so what
// is measured is each breaker's own cost on the closed-state success path.
//
//go:noinline
func protected() error { return nil }

//go:noinline
func protectedCtx(context.Context) error { return nil }

//go:noinline
func protectedAny() (any, error) { return nil, nil }

// breakerImpl is one contender: newRun returns a function that makes one
// protected call through a fresh breaker and returns its error.
type breakerImpl struct {
	name   string
	newRun func() func() error
}

func breakerImpls() []breakerImpl {
	ctx := context.Background()
	mustNew := func(cfg breaker.Config) *breaker.Breaker {
		b, err := breaker.New(cfg)
		if err != nil {
			panic(err)
		}
		return b
	}
	return []breakerImpl{
		{"impl=floor-call", func() func() error { return protected }},
		{"impl=floor-atomic", func() func() error {
			var n atomic.Int64
			return func() error { n.Add(1); return protected() }
		}},
		{"impl=floor-timeNow", func() func() error {
			return func() error { _ = time.Now(); return protected() }
		}},
		{"impl=floor-since", func() func() error {
			epoch := time.Now()
			return func() error { _ = time.Since(epoch); return protected() }
		}},
		{"impl=steadfast-Do", func() func() error {
			b := mustNew(breaker.Config{})
			return func() error { return b.Do(ctx, protectedCtx) }
		}},
		{"impl=steadfast-AllowDone", func() func() error {
			b := mustNew(breaker.Config{})
			return func() error {
				p, err := b.Allow()
				if err != nil {
					return err
				}
				err = protected()
				b.Done(p, err)
				return err
			}
		}},
		{"impl=steadfast-Do-rate", func() func() error {
			b := mustNew(breaker.Config{FailureRate: 0.5})
			return func() error { return b.Do(ctx, protectedCtx) }
		}},
		{"impl=steadfast-Do-slow", func() func() error {
			b := mustNew(breaker.Config{SlowCallDuration: 100 * time.Millisecond})
			return func() error { return b.Do(ctx, protectedCtx) }
		}},
		{"impl=steadfast-AllowDone-slow", func() func() error {
			b := mustNew(breaker.Config{SlowCallDuration: 100 * time.Millisecond})
			return func() error {
				p, err := b.Allow()
				if err != nil {
					return err
				}
				err = protected()
				b.Done(p, err)
				return err
			}
		}},
		{"impl=steadfast-Do-timewin", func() func() error {
			b := mustNew(breaker.Config{FailureRate: 0.5, WindowDuration: 10 * time.Second})
			return func() error { return b.Do(ctx, protectedCtx) }
		}},
		{"impl=gobreaker-Execute", func() func() error {
			cb := gobreaker.NewCircuitBreaker[any](gobreaker.Settings{})
			return func() error { _, err := cb.Execute(protectedAny); return err }
		}},
		{"impl=gobreaker-TwoStep", func() func() error {
			cb := gobreaker.NewTwoStepCircuitBreaker[any](gobreaker.Settings{})
			return func() error {
				done, err := cb.Allow()
				if err != nil {
					return err
				}
				err = protected()
				done(err)
				return err
			}
		}},
		{"impl=failsafe-go", func() func() error {
			ex := failsafe.With[any](circuitbreaker.NewWithDefaults[any]())
			return func() error { return ex.Run(protected) }
		}},
		{"impl=eapache-Run", func() func() error {
			b := eapache.New(10, 1, time.Minute)
			return func() error { return b.Run(protected) }
		}},
	}
}

// cpuTime returns the CPU time (user + system) the process has used. On a
// shared machine, CPU time per operation is much steadier than wall time per
// operation, which also counts the time the benchmark waited for a CPU.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU adds the metric cpu-ns/op: process CPU time since start per
// operation, summed over all goroutines.
func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
}

// BenchmarkBreakerSerial is the closed-state success path from one goroutine.
func BenchmarkBreakerSerial(b *testing.B) {
	for _, impl := range breakerImpls() {
		b.Run(impl.name, func(b *testing.B) {
			run := impl.newRun()
			b.ReportAllocs()
			start := cpuTime()
			for b.Loop() {
				if err := run(); err != nil {
					b.Fatal(err)
				}
			}
			reportCPU(b, start)
		})
	}
}

// BenchmarkBreakerParallel is the closed-state success path from GOMAXPROCS
// goroutines sharing one breaker.
func BenchmarkBreakerParallel(b *testing.B) {
	for _, impl := range breakerImpls() {
		b.Run(impl.name, func(b *testing.B) {
			run := impl.newRun()
			b.ReportAllocs()
			start := cpuTime()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := run(); err != nil {
						panic(err)
					}
				}
			})
			reportCPU(b, start)
		})
	}
}

// TestBreakerAdapters runs every contender once, so CI keeps them working,
// and checks that each one really is a breaker that opens.
func TestBreakerAdapters(t *testing.T) {
	for _, impl := range breakerImpls() {
		if err := impl.newRun()(); err != nil {
			t.Errorf("%s: %v", impl.name, err)
		}
	}
	b, err := breaker.New(breaker.Config{FailureThreshold: 1})
	if err != nil {
		t.Fatal(err)
	}
	_ = b.Do(context.Background(), func(context.Context) error { return errors.New("down") })
	if err := b.Do(context.Background(), protectedCtx); !errors.Is(err, breaker.ErrOpen) {
		t.Fatalf("after a failure with FailureThreshold 1: got %v, want ErrOpen", err)
	}
}

package breaker_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/steadfast-go/steadfast/breaker"
)

// Micro-benchmarks of the closed-state success path; the comparison with
// other breakers lives in the bench module.

func benchBreaker(b *testing.B, cfg breaker.Config) *breaker.Breaker {
	cfg.Logger = slog.New(slog.DiscardHandler)
	br, err := breaker.New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	return br
}

func BenchmarkDo(b *testing.B) {
	br := benchBreaker(b, breaker.Config{})
	ctx := context.Background()
	for b.Loop() {
		_ = br.Do(ctx, succeed)
	}
}

func BenchmarkAllowDone(b *testing.B) {
	br := benchBreaker(b, breaker.Config{})
	for b.Loop() {
		p, err := br.Allow()
		br.Done(p, err)
	}
}

func BenchmarkDoParallel(b *testing.B) {
	br := benchBreaker(b, breaker.Config{})
	ctx := context.Background()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			_ = br.Do(ctx, succeed)
		}
	})
}

func BenchmarkAllowDoneParallel(b *testing.B) {
	br := benchBreaker(b, breaker.Config{})
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			p, err := br.Allow()
			br.Done(p, err)
		}
	})
}

func BenchmarkDoRateParallel(b *testing.B) {
	br := benchBreaker(b, breaker.Config{FailureRate: 0.5})
	ctx := context.Background()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			_ = br.Do(ctx, succeed)
		}
	})
}

// The closed-state path with the coarse clock on: slow-call detection, and
// the time window. Their clock steps are long, so no tick runs during a
// benchmark's measurement.

func BenchmarkDoSlow(b *testing.B) {
	br := benchBreaker(b, breaker.Config{SlowCallDuration: time.Minute})
	ctx := context.Background()
	for b.Loop() {
		_ = br.Do(ctx, succeed)
	}
}

func BenchmarkAllowDoneSlow(b *testing.B) {
	br := benchBreaker(b, breaker.Config{SlowCallDuration: time.Minute})
	for b.Loop() {
		p, err := br.Allow()
		br.Done(p, err)
	}
}

func BenchmarkDoTimeWindow(b *testing.B) {
	br := benchBreaker(b, breaker.Config{FailureRate: 0.5, WindowDuration: time.Hour})
	ctx := context.Background()
	for b.Loop() {
		_ = br.Do(ctx, succeed)
	}
}

func BenchmarkDoRate(b *testing.B) {
	br := benchBreaker(b, breaker.Config{FailureRate: 0.5})
	ctx := context.Background()
	for b.Loop() {
		_ = br.Do(ctx, succeed)
	}
}

func BenchmarkDoDisabled(b *testing.B) {
	br := benchBreaker(b, breaker.Config{})
	br.Disable()
	ctx := context.Background()
	for b.Loop() {
		_ = br.Do(ctx, succeed)
	}
}

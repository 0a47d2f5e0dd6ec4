package mockstate

import (
	"log/slog"
	"testing"
)

// benchSnap is a small tick-like snapshot; its builder is the same type.
type benchSnap struct {
	token      uint32
	last, prev float64
	ticks      int
}

func buildBench(b *benchSnap) *benchSnap { s := *b; return &s }

func newBenchStore(b *testing.B, max int) *Store[uint32, benchSnap, benchSnap] {
	s, err := New(buildBench, Config[uint32, benchSnap]{MaxSize: max, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	return s
}

// BenchmarkUpsert compares Upsert with the LoadOrInit then Update pair it
// replaces, per tick: on keys that exist (the steady state of a feed) and
// on keys that are new each time (a store churning at its bound).
func BenchmarkUpsert(b *testing.B) {
	const keys = 1024
	init := func(s *benchSnap) { s.last = 100 }
	tick := func(s *benchSnap) error { s.prev, s.last = s.last, s.last+0.05; s.ticks++; return nil }
	pair := func(s *Store[uint32, benchSnap, benchSnap], k uint32) {
		s.LoadOrInit(k, init)
		if _, err := s.Update(k, tick); err != nil {
			b.Fatal(err)
		}
	}
	upsert := func(s *Store[uint32, benchSnap, benchSnap], k uint32) {
		if _, err := s.Upsert(k, init, tick); err != nil {
			b.Fatal(err)
		}
	}
	for _, c := range []struct {
		name string
		call func(*Store[uint32, benchSnap, benchSnap], uint32)
	}{{"loadorinit+update", pair}, {"upsert", upsert}} {
		b.Run("existing/impl="+c.name, func(b *testing.B) {
			s := newBenchStore(b, keys)
			for k := range uint32(keys) {
				s.LoadOrInit(k, init)
			}
			b.ReportAllocs()
			k := uint32(0)
			for b.Loop() {
				c.call(s, k%keys)
				k++
			}
		})
		b.Run("new/impl="+c.name, func(b *testing.B) {
			s := newBenchStore(b, keys)
			b.ReportAllocs()
			k := uint32(0)
			for b.Loop() {
				c.call(s, k) // every key new; the full store evicts one
				k++
			}
		})
	}
}

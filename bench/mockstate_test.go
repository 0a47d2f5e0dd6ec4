package bench

import (
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/hashicorp/golang-lru/v2/expirable"
	"github.com/maypok86/otter/v2"

	"github.com/steadfast-go/steadfast/mockstate"
)

// The mockstate comparison: 5,000 int keys read in a Zipf pattern (s=1.01),
// a 64-byte snapshot per key. The key sequence is computed once, outside
// the timed loops, so the generator is not measured.
const (
	msKeys   = 5000
	msSeqLen = 1 << 16
)

// msSnap is the snapshot (and, for mockstate, the builder) of one key: 64
// bytes, the size of a small tick.
type msSnap struct {
	Token                int
	Price, Bid, Ask, Vol float64
	OI, Seq, Unused      int64
}

func msBuild(b *msSnap) *msSnap { s := *b; return &s }

var msSeq = func() []int {
	z := rand.NewZipf(rand.New(rand.NewPCG(1, 2)), 1.01, 1, msKeys-1)
	seq := make([]int, msSeqLen)
	for i := range seq {
		seq[i] = int(z.Uint64())
	}
	return seq
}()

// msGetter is one contender: a lookup returning the snapshot's Token.
type msGetter struct {
	name string
	make func(tb testing.TB) func(k int) int
}

func msContenders() []msGetter {
	return []msGetter{
		{"mockstate", func(tb testing.TB) func(int) int {
			s := msStore(tb)
			return func(k int) int { p, _ := s.Get(k); return p.Token }
		}},
		{"golang-lru", func(tb testing.TB) func(int) int {
			c := msLRU(tb)
			return func(k int) int { p, _ := c.Get(k); return p.Token }
		}},
		{"expirable-lru", func(tb testing.TB) func(int) int {
			c := msExpirable(tb)
			return func(k int) int { p, _ := c.Get(k); return p.Token }
		}},
		{"otter", func(tb testing.TB) func(int) int {
			c := msOtter(tb)
			return func(k int) int { p, _ := c.GetIfPresent(k); return p.Token }
		}},
		{"sync.Map", func(tb testing.TB) func(int) int {
			m := msSyncMap()
			return func(k int) int { p, _ := m.Load(k); return p.(*msSnap).Token }
		}},
		{"atomic-floor", func(tb testing.TB) func(int) int {
			ps := msAtomicFloor()
			return func(k int) int { return ps[k].Load().Token }
		}},
		{"map-atomic-floor", func(tb testing.TB) func(int) int {
			m := msMapAtomicFloor()
			return func(k int) int { return m[k].Load().Token }
		}},
	}
}

func msLRU(tb testing.TB) *lru.Cache[int, *msSnap] {
	c, err := lru.New[int, *msSnap](msKeys)
	if err != nil {
		tb.Fatal(err)
	}
	for k := 0; k < msKeys; k++ {
		c.Add(k, &msSnap{Token: k})
	}
	return c
}

func msExpirable(tb testing.TB) *expirable.LRU[int, *msSnap] {
	c := expirable.NewLRU[int, *msSnap](msKeys, nil, time.Hour)
	tb.Cleanup(func() { c.Purge() })
	for k := 0; k < msKeys; k++ {
		c.Add(k, &msSnap{Token: k})
	}
	return c
}

func msOtter(tb testing.TB) *otter.Cache[int, *msSnap] {
	c, err := otter.New(&otter.Options[int, *msSnap]{MaximumSize: msKeys})
	if err != nil {
		tb.Fatal(err)
	}
	for k := 0; k < msKeys; k++ {
		c.Set(k, &msSnap{Token: k})
	}
	return c
}

func msSyncMap() *sync.Map {
	m := new(sync.Map)
	for k := 0; k < msKeys; k++ {
		m.Store(k, &msSnap{Token: k})
	}
	return m
}

// The floors. atomic-floor: a per-key atomic.Pointer found by indexing a
// slice with the key itself, so no lookup at all (possible only for dense
// integer keys). map-atomic-floor: the same pointer found through a
// read-only Go map: the least a lock-free lookup by a general key costs
// with the standard library.
func msAtomicFloor() []atomic.Pointer[msSnap] {
	ps := make([]atomic.Pointer[msSnap], msKeys)
	for k := range ps {
		ps[k].Store(&msSnap{Token: k})
	}
	return ps
}

func msMapAtomicFloor() map[int]*atomic.Pointer[msSnap] {
	m := make(map[int]*atomic.Pointer[msSnap], msKeys)
	for k := 0; k < msKeys; k++ {
		p := new(atomic.Pointer[msSnap])
		p.Store(&msSnap{Token: k})
		m[k] = p
	}
	return m
}

func msStore(tb testing.TB) *mockstate.Store[int, msSnap, msSnap] {
	s, err := mockstate.New(msBuild, mockstate.Config[int, msSnap]{MaxSize: msKeys})
	if err != nil {
		tb.Fatal(err)
	}
	for k := 0; k < msKeys; k++ {
		s.LoadOrInit(k, func(b *msSnap) { b.Token = k })
	}
	return s
}

var msSink atomic.Int64

// The Get benchmarks spell out one loop per contender, identical but for
// the lookup, so that no indirect call is measured with it. Each loop reads
// the key sequence, looks the key up and adds the snapshot's Token to a
// local sum (so the load cannot be elided).

func BenchmarkMockstateGet(b *testing.B) {
	b.Run("serial/mockstate", func(b *testing.B) {
		s := msStore(b)
		msSerial(b, func(b *testing.B) (sum int) {
			for i := 0; i < b.N; i++ {
				p, _ := s.Get(msSeq[i&(msSeqLen-1)])
				sum += p.Token
			}
			return sum
		})
	})
	b.Run("serial/golang-lru", func(b *testing.B) {
		c := msLRU(b)
		msSerial(b, func(b *testing.B) (sum int) {
			for i := 0; i < b.N; i++ {
				p, _ := c.Get(msSeq[i&(msSeqLen-1)])
				sum += p.Token
			}
			return sum
		})
	})
	b.Run("serial/expirable-lru", func(b *testing.B) {
		c := msExpirable(b)
		msSerial(b, func(b *testing.B) (sum int) {
			for i := 0; i < b.N; i++ {
				p, _ := c.Get(msSeq[i&(msSeqLen-1)])
				sum += p.Token
			}
			return sum
		})
	})
	b.Run("serial/otter", func(b *testing.B) {
		c := msOtter(b)
		msSerial(b, func(b *testing.B) (sum int) {
			for i := 0; i < b.N; i++ {
				p, _ := c.GetIfPresent(msSeq[i&(msSeqLen-1)])
				sum += p.Token
			}
			return sum
		})
	})
	b.Run("serial/sync.Map", func(b *testing.B) {
		m := msSyncMap()
		msSerial(b, func(b *testing.B) (sum int) {
			for i := 0; i < b.N; i++ {
				p, _ := m.Load(msSeq[i&(msSeqLen-1)])
				sum += p.(*msSnap).Token
			}
			return sum
		})
	})
	b.Run("serial/atomic-floor", func(b *testing.B) {
		ps := msAtomicFloor()
		msSerial(b, func(b *testing.B) (sum int) {
			for i := 0; i < b.N; i++ {
				sum += ps[msSeq[i&(msSeqLen-1)]].Load().Token
			}
			return sum
		})
	})
	b.Run("serial/map-atomic-floor", func(b *testing.B) {
		m := msMapAtomicFloor()
		msSerial(b, func(b *testing.B) (sum int) {
			for i := 0; i < b.N; i++ {
				sum += m[msSeq[i&(msSeqLen-1)]].Load().Token
			}
			return sum
		})
	})

	b.Run("parallel/mockstate", func(b *testing.B) {
		s := msStore(b)
		msParallel(b, func(pb *testing.PB, i int) (sum int) {
			for ; pb.Next(); i++ {
				p, _ := s.Get(msSeq[i&(msSeqLen-1)])
				sum += p.Token
			}
			return sum
		})
	})
	b.Run("parallel/golang-lru", func(b *testing.B) {
		c := msLRU(b)
		msParallel(b, func(pb *testing.PB, i int) (sum int) {
			for ; pb.Next(); i++ {
				p, _ := c.Get(msSeq[i&(msSeqLen-1)])
				sum += p.Token
			}
			return sum
		})
	})
	b.Run("parallel/expirable-lru", func(b *testing.B) {
		c := msExpirable(b)
		msParallel(b, func(pb *testing.PB, i int) (sum int) {
			for ; pb.Next(); i++ {
				p, _ := c.Get(msSeq[i&(msSeqLen-1)])
				sum += p.Token
			}
			return sum
		})
	})
	b.Run("parallel/otter", func(b *testing.B) {
		c := msOtter(b)
		msParallel(b, func(pb *testing.PB, i int) (sum int) {
			for ; pb.Next(); i++ {
				p, _ := c.GetIfPresent(msSeq[i&(msSeqLen-1)])
				sum += p.Token
			}
			return sum
		})
	})
	b.Run("parallel/sync.Map", func(b *testing.B) {
		m := msSyncMap()
		msParallel(b, func(pb *testing.PB, i int) (sum int) {
			for ; pb.Next(); i++ {
				p, _ := m.Load(msSeq[i&(msSeqLen-1)])
				sum += p.(*msSnap).Token
			}
			return sum
		})
	})
	b.Run("parallel/atomic-floor", func(b *testing.B) {
		ps := msAtomicFloor()
		msParallel(b, func(pb *testing.PB, i int) (sum int) {
			for ; pb.Next(); i++ {
				sum += ps[msSeq[i&(msSeqLen-1)]].Load().Token
			}
			return sum
		})
	})
	b.Run("parallel/map-atomic-floor", func(b *testing.B) {
		m := msMapAtomicFloor()
		msParallel(b, func(pb *testing.PB, i int) (sum int) {
			for ; pb.Next(); i++ {
				sum += m[msSeq[i&(msSeqLen-1)]].Load().Token
			}
			return sum
		})
	})
}

// msSerial times loop (called once; it runs b.N lookups) and checks its
// sum against the key sequence, so a wrong contender fails the benchmark.
func msSerial(b *testing.B, loop func(*testing.B) int) {
	want := 0
	for i := 0; i < b.N; i++ {
		want += msSeq[i&(msSeqLen-1)]
	}
	b.ReportAllocs()
	b.ResetTimer()
	got := loop(b)
	b.StopTimer()
	if got != want {
		b.Fatalf("sum of values %d, want %d", got, want)
	}
	msSink.Add(int64(got))
}

// msParallel runs loop on every goroutine of RunParallel, each starting at
// a different point of the key sequence.
func msParallel(b *testing.B, loop func(pb *testing.PB, start int) int) {
	var start atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		msSink.Add(int64(loop(pb, int(start.Add(msSeqLen/7)))))
	})
}

// BenchmarkMockstateUpdate compares publishing a new snapshot with
// mockstate's Update (builder mutated under the lock, one fresh snapshot),
// with Upsert and with the LoadOrInit+Update pair Upsert replaces, and with
// golang-lru's Add of a freshly allocated value of the same size.
func BenchmarkMockstateUpdate(b *testing.B) {
	b.Run("mockstate", func(b *testing.B) {
		s := msStore(b)
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if _, err := s.Update(msSeq[i&(msSeqLen-1)], func(b *msSnap) error {
				b.Price += 0.05
				b.Seq++
				return nil
			}); err != nil {
				b.Fatal(err)
			}
		}
	})
	// The per-tick call of a feed that may meet a new key: Upsert against
	// the LoadOrInit then Update pair it replaces, on keys that exist.
	tick := func(b *msSnap) error { b.Price += 0.05; b.Seq++; return nil }
	msInit := func(b *msSnap) { b.Price = 100 } // runs only for a missing key
	for _, c := range []struct {
		name string
		call func(s *mockstate.Store[int, msSnap, msSnap], k int, init func(*msSnap)) error
	}{
		{"mockstate-loadorinit+update", func(s *mockstate.Store[int, msSnap, msSnap], k int, init func(*msSnap)) error {
			s.LoadOrInit(k, init)
			_, err := s.Update(k, tick)
			return err
		}},
		{"mockstate-upsert", func(s *mockstate.Store[int, msSnap, msSnap], k int, init func(*msSnap)) error {
			_, err := s.Upsert(k, init, tick)
			return err
		}},
	} {
		b.Run(c.name, func(b *testing.B) {
			s := msStore(b)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				k := msSeq[i&(msSeqLen-1)]
				if err := c.call(s, k, msInit); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("golang-lru-add", func(b *testing.B) {
		c, err := lru.New[int, *msSnap](msKeys)
		if err != nil {
			b.Fatal(err)
		}
		for k := 0; k < msKeys; k++ {
			c.Add(k, &msSnap{Token: k})
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			k := msSeq[i&(msSeqLen-1)]
			c.Add(k, &msSnap{Token: k, Price: float64(i), Seq: int64(i)})
		}
	})
}

// BenchmarkMockstateMemory measures the heap each structure takes for 5,000
// entries beyond the values themselves (for mockstate: beyond one snapshot
// and one builder per entry), reported as B/entry.
func BenchmarkMockstateMemory(b *testing.B) {
	val := int64(unsafe.Sizeof(msSnap{}))
	measure := func(b *testing.B, perEntry int64, fill func() any) {
		var total int64
		for i := 0; i < b.N; i++ {
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			kept := fill()
			runtime.GC()
			runtime.ReadMemStats(&after)
			total += int64(after.HeapAlloc) - int64(before.HeapAlloc)
			runtime.KeepAlive(kept)
		}
		b.ReportMetric(float64(total)/float64(b.N)/msKeys-float64(perEntry), "B/entry")
	}
	b.Run("mockstate", func(b *testing.B) {
		measure(b, 2*val, func() any { return msStore(b) })
	})
	b.Run("golang-lru", func(b *testing.B) {
		measure(b, val, func() any {
			c, _ := lru.New[int, *msSnap](msKeys)
			for k := 0; k < msKeys; k++ {
				c.Add(k, &msSnap{Token: k})
			}
			return c
		})
	})
	b.Run("otter", func(b *testing.B) {
		measure(b, val, func() any {
			c, _ := otter.New(&otter.Options[int, *msSnap]{MaximumSize: msKeys})
			for k := 0; k < msKeys; k++ {
				c.Set(k, &msSnap{Token: k})
			}
			return c
		})
	})
	b.Run("sync.Map", func(b *testing.B) {
		measure(b, val, func() any {
			m := new(sync.Map)
			for k := 0; k < msKeys; k++ {
				m.Store(k, &msSnap{Token: k})
			}
			return m
		})
	})
}

// TestMockstateContenders checks that every contender returns the right
// value, so that the benchmarks compare working code.
func TestMockstateContenders(t *testing.T) {
	for _, c := range msContenders() {
		get := c.make(t)
		for _, k := range msSeq[:1000] {
			if got := get(k); got != k {
				t.Fatalf("%s: Get(%d) = %d", c.name, k, got)
			}
		}
	}
	if unsafe.Sizeof(msSnap{}) != 64 {
		t.Fatalf("msSnap is %d bytes, want 64", unsafe.Sizeof(msSnap{}))
	}
}

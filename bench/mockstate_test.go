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
			return func(k int) int {
				p, _ := s.Get(k)
				return p.Token
			}
		}},
		{"golang-lru", func(tb testing.TB) func(int) int {
			c, err := lru.New[int, *msSnap](msKeys)
			if err != nil {
				tb.Fatal(err)
			}
			for k := 0; k < msKeys; k++ {
				c.Add(k, &msSnap{Token: k})
			}
			return func(k int) int {
				p, _ := c.Get(k)
				return p.Token
			}
		}},
		{"expirable-lru", func(tb testing.TB) func(int) int {
			c := expirable.NewLRU[int, *msSnap](msKeys, nil, time.Hour)
			tb.Cleanup(func() { c.Purge() })
			for k := 0; k < msKeys; k++ {
				c.Add(k, &msSnap{Token: k})
			}
			return func(k int) int {
				p, _ := c.Get(k)
				return p.Token
			}
		}},
		{"otter", func(tb testing.TB) func(int) int {
			c, err := otter.New(&otter.Options[int, *msSnap]{MaximumSize: msKeys})
			if err != nil {
				tb.Fatal(err)
			}
			for k := 0; k < msKeys; k++ {
				c.Set(k, &msSnap{Token: k})
			}
			return func(k int) int {
				p, _ := c.GetIfPresent(k)
				return p.Token
			}
		}},
		{"sync.Map", func(tb testing.TB) func(int) int {
			var m sync.Map
			for k := 0; k < msKeys; k++ {
				m.Store(k, &msSnap{Token: k})
			}
			return func(k int) int {
				p, _ := m.Load(k)
				return p.(*msSnap).Token
			}
		}},
		// The floors. atomic-floor: a per-key atomic.Pointer found by
		// indexing a slice with the key itself, so no lookup at all; what a
		// store could do only with dense integer keys. map-atomic-floor: the
		// same pointer found through a read-only Go map, the least any
		// lock-free keyed lookup with a general key type costs.
		{"atomic-floor", func(tb testing.TB) func(int) int {
			ps := make([]atomic.Pointer[msSnap], msKeys)
			for k := range ps {
				ps[k].Store(&msSnap{Token: k})
			}
			return func(k int) int { return ps[k].Load().Token }
		}},
		{"map-atomic-floor", func(tb testing.TB) func(int) int {
			m := make(map[int]*atomic.Pointer[msSnap], msKeys)
			for k := 0; k < msKeys; k++ {
				p := new(atomic.Pointer[msSnap])
				p.Store(&msSnap{Token: k})
				m[k] = p
			}
			return func(k int) int { return m[k].Load().Token }
		}},
	}
}

func msStore(tb testing.TB) *mockstate.Store[int, msSnap, msSnap] {
	s, err := mockstate.New(msBuild, mockstate.Config[int, msSnap]{MaxSize: msKeys})
	if err != nil {
		tb.Fatal(err)
	}
	for k := 0; k < msKeys; k++ {
		s.Seed(k, func(b *msSnap) { b.Token = k })
	}
	return s
}

var msSink atomic.Int64

func BenchmarkMockstateGet(b *testing.B) {
	for _, c := range msContenders() {
		b.Run("serial/"+c.name, func(b *testing.B) {
			get := c.make(b)
			b.ReportAllocs()
			b.ResetTimer()
			sum := 0
			for i := 0; i < b.N; i++ {
				k := msSeq[i&(msSeqLen-1)]
				if get(k) != k {
					b.Fatal("wrong value")
				}
				sum += k
			}
			msSink.Add(int64(sum))
		})
	}
	for _, c := range msContenders() {
		b.Run("parallel/"+c.name, func(b *testing.B) {
			get := c.make(b)
			var start atomic.Int64
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				i := int(start.Add(msSeqLen / 7))
				sum := 0
				for pb.Next() {
					k := msSeq[i&(msSeqLen-1)]
					if get(k) != k {
						panic("wrong value")
					}
					sum += k
					i++
				}
				msSink.Add(int64(sum))
			})
		})
	}
}

// BenchmarkMockstateUpdate compares publishing a new snapshot with
// mockstate's Update (builder mutated under the lock, one fresh snapshot)
// and golang-lru's Add of a freshly allocated value of the same size.
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

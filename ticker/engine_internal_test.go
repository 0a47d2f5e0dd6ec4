package ticker

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"testing"
	"unsafe"
)

// TestStripePadding: a stripe is a whole number of cache lines, so two
// stripes never share one, and the publish loop's hot fields have a line
// of their own.
func TestStripePadding(t *testing.T) {
	if n := unsafe.Sizeof(stripe{}); n%64 != 0 || n < unsafe.Sizeof(stripeData{}) {
		t.Errorf("a stripe is %d bytes, its fields %d: not a multiple of 64", n, unsafe.Sizeof(stripeData{}))
	}
	var h hotLine
	start := uintptr(unsafe.Pointer(&h.pending)) - uintptr(unsafe.Pointer(&h))
	end := uintptr(unsafe.Pointer(&h.sleeping)) - uintptr(unsafe.Pointer(&h)) + 1
	if start < 64 || unsafe.Sizeof(h)-end < 64 {
		t.Errorf("hotLine's fields at [%d, %d) of %d bytes: less than a line either side", start, end, unsafe.Sizeof(h))
	}
}

// nopSource accepts every subscription and emits nothing.
type nopSource struct{}

func (nopSource) Run(ctx context.Context, _ func(Tick)) error { <-ctx.Done(); return nil }
func (nopSource) Subscribe(add, remove []Instrument) error    { return nil }

// BenchmarkReloadRemovesPending times a reload that unsubscribes n
// instruments, every one with a tick pending: the work a reload does under
// the stripe locks must grow with n, not with n², so ns/instrument stays
// flat from 8,000 to 32,000.
func BenchmarkReloadRemovesPending(b *testing.B) {
	for _, n := range []int{8_000, 16_000, 32_000} {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			all := make([]Instrument, n)
			for i := range all {
				all[i] = Instrument{Token: uint32(i + 1), Symbol: fmt.Sprint(i), Underlying: "NIFTY", Kind: KindEquity}
			}
			var list atomic.Pointer[[]Instrument]
			e, err := New(Config{
				Source:    nopSource{},
				Publisher: PublisherFunc(func(context.Context, []Tick) error { return nil }),
				Instruments: func(context.Context) ([]Instrument, error) {
					return *list.Load(), nil
				},
				Logger: slog.New(slog.DiscardHandler),
			})
			if err != nil {
				b.Fatal(err)
			}
			none := []Instrument{}
			ctx := context.Background()
			b.ResetTimer()
			for range b.N {
				b.StopTimer()
				list.Store(&all)
				if err := e.reload(ctx); err != nil {
					b.Fatal(err)
				}
				for i := range all {
					e.emit(Tick{Token: all[i].Token, LastPrice: 1})
				}
				list.Store(&none)
				b.StartTimer()
				if err := e.reload(ctx); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			if s := e.Stats(); s.Dropped.Unsubscribed != uint64(n*b.N) || s.Pending != 0 {
				b.Fatalf("stats %+v", s)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n*b.N), "ns/instrument")
		})
	}
}

// BenchmarkRetire times what a reload does under the stripe locks when it
// removes n pending instruments: retire takes each stripe's lock once and
// filters its dirty list once, so ns/instrument stays flat as n grows, and
// a stripe is held for about 1/16 of the total.
func BenchmarkRetire(b *testing.B) {
	for _, n := range []int{8_000, 16_000, 32_000} {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			e, err := New(Config{
				Source:      nopSource{},
				Publisher:   PublisherFunc(func(context.Context, []Tick) error { return nil }),
				Instruments: func(context.Context) ([]Instrument, error) { return nil, nil },
				Logger:      slog.New(slog.DiscardHandler),
			})
			if err != nil {
				b.Fatal(err)
			}
			slots := make([]*slot, n)
			for i := range slots {
				slots[i] = newSlot(&Instrument{Token: uint32(i + 1)})
			}
			e.table.Store(newSubTable(slots))
			b.ResetTimer()
			for range b.N {
				b.StopTimer()
				for _, s := range slots {
					s.live = true
					e.emit(Tick{Token: s.token, LastPrice: 1})
				}
				b.StartTimer()
				e.retire(slots)
			}
			b.StopTimer()
			if s := e.Stats(); s.Dropped.Unsubscribed != uint64(n*b.N) || s.Pending != 0 {
				b.Fatalf("stats %+v", s)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n*b.N), "ns/instrument")
		})
	}
}

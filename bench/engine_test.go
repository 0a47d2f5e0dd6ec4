package bench

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/steadfast-go/steadfast/ticker"
)

// The engine's emit path against the two designs a Go engineer would write
// by hand: (a) a buffered channel of 65,536 ticks drained into batches of
// 256 by one goroutine, and (b) one mutex over a latest-value map that a
// flusher swaps out every 2 ms. Every contender publishes to a publisher
// that accepts at once, over 5,000 instruments.

const emitInstruments = 5000

// captureSource is a Source that hands its emit function to the benchmark.
type captureSource struct{ emit chan func(ticker.Tick) }

func (c *captureSource) Run(ctx context.Context, emit func(ticker.Tick)) error {
	select {
	case c.emit <- emit:
	default:
	}
	<-ctx.Done()
	return nil
}

func (*captureSource) Subscribe(add, remove []ticker.Instrument) error { return nil }

func emitUniverse() []ticker.Instrument {
	ins := make([]ticker.Instrument, emitInstruments)
	for i := range ins {
		ins[i] = ticker.Instrument{Token: uint32(i + 1), Symbol: "X", Underlying: "NIFTY", Kind: ticker.KindCall,
			Strike: float64(20000 + i), Expiry: time.Date(2099, 1, 1, 0, 0, 0, 0, ticker.IST())}
	}
	return ins
}

func benchTick(i int) ticker.Tick {
	p := 100 + float64(i%97)
	return ticker.Tick{Token: uint32(i%emitInstruments + 1), LastPrice: p, Bid: p - 0.05, Ask: p + 0.05,
		Volume: uint64(i), IV: 0.15, Delta: 0.5}
}

// startEngine runs an engine over a capture source and returns its emit.
func startEngine(tb testing.TB, pub ticker.Publisher) (emit func(ticker.Tick), eng *ticker.Engine, stop func()) {
	tb.Helper()
	src := &captureSource{emit: make(chan func(ticker.Tick), 1)}
	ins := emitUniverse()
	eng, err := ticker.New(ticker.Config{
		Source: src, Publisher: pub,
		Instruments: func(context.Context) ([]ticker.Instrument, error) { return ins, nil },
		Logger:      slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- eng.Run(ctx) }()
	emit = <-src.emit
	return emit, eng, func() {
		cancel()
		if err := <-done; err != nil {
			tb.Error(err)
		}
	}
}

var acceptAll = ticker.PublisherFunc(func(context.Context, []ticker.Tick) error { return nil })

// chanEmitter is design (a): a buffered channel drained by one goroutine
// into batches of 256.
type chanEmitter struct {
	ch   chan ticker.Tick
	done chan struct{}
}

func newChanEmitter(pub ticker.Publisher) *chanEmitter {
	c := &chanEmitter{ch: make(chan ticker.Tick, 65536), done: make(chan struct{})}
	go func() {
		defer close(c.done)
		batch := make([]ticker.Tick, 0, 256)
		for t := range c.ch {
			batch = append(batch, t)
			for len(batch) < 256 {
				select {
				case t, ok := <-c.ch:
					if !ok {
						break
					}
					batch = append(batch, t)
					continue
				default:
				}
				break
			}
			_ = pub.Publish(context.Background(), batch)
			batch = batch[:0]
		}
	}()
	return c
}

func (c *chanEmitter) emit(t ticker.Tick) { c.ch <- t }
func (c *chanEmitter) stop()              { close(c.ch); <-c.done }

// mapEmitter is design (b): one mutex over a latest-value map, swapped out
// by a flusher every 2 ms.
type mapEmitter struct {
	mu     sync.Mutex
	m      map[uint32]ticker.Tick
	spare  map[uint32]ticker.Tick
	quit   chan struct{}
	done   chan struct{}
	closed atomic.Bool
}

func newMapEmitter(pub ticker.Publisher) *mapEmitter {
	e := &mapEmitter{m: make(map[uint32]ticker.Tick, emitInstruments), spare: make(map[uint32]ticker.Tick, emitInstruments),
		quit: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(e.done)
		tk := time.NewTicker(2 * time.Millisecond)
		defer tk.Stop()
		batch := make([]ticker.Tick, 0, 256)
		for {
			select {
			case <-e.quit:
				return
			case <-tk.C:
			}
			e.mu.Lock()
			full := e.m
			e.m, e.spare = e.spare, nil
			e.mu.Unlock()
			for _, t := range full {
				batch = append(batch, t)
				if len(batch) == 256 {
					_ = pub.Publish(context.Background(), batch)
					batch = batch[:0]
				}
			}
			if len(batch) > 0 {
				_ = pub.Publish(context.Background(), batch)
				batch = batch[:0]
			}
			clear(full)
			e.mu.Lock()
			e.spare = full
			e.mu.Unlock()
		}
	}()
	return e
}

func (e *mapEmitter) emit(t ticker.Tick) {
	e.mu.Lock()
	e.m[t.Token] = t
	e.mu.Unlock()
}

func (e *mapEmitter) stop() { close(e.quit); <-e.done }

// TestEmitContenders checks that every contender delivers ticks.
func TestEmitContenders(t *testing.T) {
	var n atomic.Int64
	count := ticker.PublisherFunc(func(_ context.Context, ts []ticker.Tick) error { n.Add(int64(len(ts))); return nil })
	emit, eng, stop := startEngine(t, count)
	for i := range 1000 {
		emit(benchTick(i))
	}
	stop()
	if s := eng.Stats(); s.Produced != 1000 || s.Published+s.Conflated != 1000 || n.Load() != int64(s.Published) {
		t.Fatalf("engine: %+v, publisher saw %d", s, n.Load())
	}
	n.Store(0)
	c := newChanEmitter(count)
	for i := range 1000 {
		c.emit(benchTick(i))
	}
	c.stop()
	if n.Load() != 1000 {
		t.Fatalf("channel: publisher saw %d", n.Load())
	}
	n.Store(0)
	m := newMapEmitter(count)
	for i := range 1000 {
		m.emit(benchTick(i))
	}
	deadline := time.Now().Add(5 * time.Second)
	for n.Load() != 1000 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	m.stop()
	if n.Load() != 1000 {
		t.Fatalf("map: publisher saw %d", n.Load())
	}
}

func runEmit(b *testing.B, emit func(ticker.Tick)) {
	b.ReportAllocs()
	var seq atomic.Int64
	b.RunParallel(func(pb *testing.PB) {
		i := int(seq.Add(1) * 7919)
		for pb.Next() {
			emit(benchTick(i))
			i++
		}
	})
}

// BenchmarkEmit runs the three designs in one invocation (compare with
// -cpu 1,2).
func BenchmarkEmit(b *testing.B) {
	b.Run("impl=engine", func(b *testing.B) {
		emit, _, stop := startEngine(b, acceptAll)
		defer stop()
		runEmit(b, emit)
	})
	b.Run("impl=chan65536", func(b *testing.B) {
		c := newChanEmitter(acceptAll)
		defer c.stop()
		runEmit(b, c.emit)
	})
	b.Run("impl=mutexmap", func(b *testing.B) {
		m := newMapEmitter(acceptAll)
		defer m.stop()
		runEmit(b, m.emit)
	})
}

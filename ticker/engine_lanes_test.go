package ticker_test

import (
	"context"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/steadfast-go/steadfast/ticker"
)

// gate is a Publisher that records the batches in flight at once: each
// Publish waits until open is closed (or its ctx ends), then records its
// batch as the recorder does.
type gate struct {
	*recorder
	open chan struct{}

	mu       sync.Mutex
	inFlight map[*ticker.Tick][]uint32 // the tokens of each batch in flight
	maxIn    int
	overlap  []uint32 // tokens seen in two batches in flight at once
}

func (g *gate) Publish(ctx context.Context, ticks []ticker.Tick) error {
	g.mu.Lock()
	for _, other := range g.inFlight {
		for _, tok := range other {
			for _, t := range ticks {
				if t.Token == tok {
					g.overlap = append(g.overlap, tok)
				}
			}
		}
	}
	var toks []uint32
	for _, t := range ticks {
		toks = append(toks, t.Token)
	}
	g.inFlight[&ticks[0]] = toks
	g.maxIn = max(g.maxIn, len(g.inFlight))
	g.mu.Unlock()
	defer func() {
		g.mu.Lock()
		delete(g.inFlight, &ticks[0])
		g.mu.Unlock()
	}()
	select {
	case <-g.open:
	case <-ctx.Done():
		return ctx.Err()
	}
	return g.recorder.Publish(ctx, ticks)
}

// With PublishConcurrency 4 the loop has four batches in flight at once,
// of disjoint instruments; with the default, one.
func TestEnginePublishConcurrency(t *testing.T) {
	for _, k := range []int{0, 4} {
		synctest.Test(t, func(t *testing.T) {
			const n = 64
			g := &gate{recorder: newRecorder(), open: make(chan struct{}), inFlight: map[*ticker.Tick][]uint32{}}
			h := newHarness(t, instruments(n), func(c *ticker.Config) {
				c.Publisher, c.BatchSize, c.PublishConcurrency = g, 8, k
			})
			h.start()
			for i := range n {
				h.src.send(tk(uint32(1000+i), 1))
			}
			settle()
			g.mu.Lock()
			in := g.maxIn
			g.mu.Unlock()
			want := max(k, 1)
			require.Equal(t, want, in, "batches in flight at once with PublishConcurrency %d", k)
			close(g.open)
			settle()
			require.Empty(t, g.overlap, "an instrument in two batches in flight")
			require.Equal(t, uint64(n), h.eng.Stats().Published)
			require.NoError(t, h.finish())
		})
	}
}

// Under lanes each instrument's ticks arrive in the order emitted, the
// identity holds, and after an outage the catch-up converges every
// instrument to its Latest.
func TestEngineLanesKeepOrderAndConverge(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const n = 100
		pub := &orderPublisher{recorder: newRecorder(), lastPrice: map[uint32]float64{}}
		h := newHarness(t, instruments(n), func(c *ticker.Config) {
			c.Publisher, c.BatchSize, c.PublishConcurrency = pub, 16, 3
		})
		h.start()
		for round := range 20 {
			for i := range n {
				h.src.send(tk(uint32(1000+i), float64(1+round)))
			}
			time.Sleep(time.Millisecond)
		}
		settle()
		require.Empty(t, pub.outOfOrder())
		s := h.eng.Stats()
		require.Zero(t, s.Dropped.Total())
		require.Equal(t, s.Produced, s.Published+s.Conflated)

		pub.failing.Store(true)
		for i := range n {
			h.src.send(tk(uint32(1000+i), 100))
		}
		settle()
		time.Sleep(3 * time.Second)
		synctest.Wait()
		s = h.eng.Stats()
		require.NotZero(t, s.Dropped.PublishFailed)
		require.Equal(t, "open", h.eng.Health().Breaker)
		h.checkIdentity()

		pub.failing.Store(false)
		time.Sleep(11 * time.Second)
		synctest.Wait()
		settle()
		require.Equal(t, "closed", h.eng.Health().Breaker)
		for i := range n {
			want, _ := h.eng.Latest(uint32(1000 + i))
			got, ok := pub.lastOf(uint32(1000 + i))
			require.True(t, ok)
			require.Equal(t, want.LastPrice, got.LastPrice, "token %d converged", 1000+i)
		}
		require.Empty(t, pub.outOfOrder())
		require.NoError(t, h.finish())
	})
}

// orderPublisher records, per token, a price lower than the one published
// before it.
type orderPublisher struct {
	*recorder
	mu        sync.Mutex
	lastPrice map[uint32]float64
	backwards []uint32
}

func (p *orderPublisher) Publish(ctx context.Context, ticks []ticker.Tick) error {
	if err := p.recorder.Publish(ctx, ticks); err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, t := range ticks {
		if t.LastPrice < p.lastPrice[t.Token] {
			p.backwards = append(p.backwards, t.Token)
		}
		p.lastPrice[t.Token] = t.LastPrice
	}
	return nil
}

func (p *orderPublisher) outOfOrder() []uint32 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.backwards
}

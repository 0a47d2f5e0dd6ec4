package ticker_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/steadfast-go/steadfast/breaker"
	"github.com/steadfast-go/steadfast/reloader"
	"github.com/steadfast-go/steadfast/ticker"
)

// Faults of the publisher and of the Instruments function, in simulated
// time. Each test checks the accounting identity, that emit never takes
// (fake) time, that what is pending never exceeds the instrument count, and
// that the published state converges to Latest once the fault clears.

// flaky is a publisher that fails at random with probability p, hangs while
// hang is set and sleeps delay per batch; it records the last accepted tick
// per token.
type flaky struct {
	mu      sync.Mutex
	rng     *rand.Rand
	p       float64
	delay   time.Duration
	hang    atomic.Bool
	batches atomic.Int64
	fails   atomic.Int64
	last    map[uint32]float64
	max     time.Duration // the longest call
}

func (f *flaky) longest() time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.max
}

func (f *flaky) Publish(ctx context.Context, ticks []ticker.Tick) error {
	f.batches.Add(1)
	start := time.Now()
	defer func() {
		f.mu.Lock()
		f.max = max(f.max, time.Since(start))
		f.mu.Unlock()
	}()
	if f.hang.Load() {
		<-ctx.Done()
		return ctx.Err()
	}
	if f.delay > 0 {
		select {
		case <-time.After(f.delay):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.rng.Float64() < f.p {
		f.fails.Add(1)
		return errors.New("publish: injected failure")
	}
	for _, t := range ticks {
		f.last[t.Token] = t.LastPrice
	}
	return nil
}

func (f *flaky) setP(p float64) {
	f.mu.Lock()
	f.p = p
	f.mu.Unlock()
}

// converged checks that every instrument's last published price is its
// Latest.
func converged(t *testing.T, eng *ticker.Engine, f *flaky) {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, in := range eng.Instruments() {
		want, ok := eng.Latest(in.Token)
		if !ok {
			continue
		}
		require.Equal(t, want.LastPrice, f.last[in.Token], "token %d", in.Token)
	}
}

// emitRound emits one tick for a random subset of the instruments and
// checks that emit took no fake time and that pending stays bounded.
func emitRound(t *testing.T, h *harness, rng *rand.Rand, n, round int) {
	t.Helper()
	start := time.Now()
	for i := range n {
		if rng.IntN(3) > 0 {
			h.src.send(tk(uint32(1000+i), float64(round*1000+i+1)))
		}
	}
	require.Equal(t, start, time.Now(), "emit waited")
	// One pending slot per instrument, plus at most one batch in flight,
	// whose instruments may have ticked again meanwhile.
	require.LessOrEqual(t, h.eng.Stats().Pending, uint64(2*n), "pending bounded by the instruments")
}

func TestEngineFaultRandomFailures(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const n = 100
		pub := &flaky{rng: rand.New(rand.NewPCG(1, 2)), p: 0.3, last: map[uint32]float64{}}
		h := newHarness(t, instruments(n), func(c *ticker.Config) {
			c.Publisher = pub
			c.BatchSize = 10
			c.Breaker = breaker.Config{FailureThreshold: 3, OpenTimeout: 50 * time.Millisecond}
		})
		h.start()
		rng := rand.New(rand.NewPCG(3, 4))
		for round := 0; pub.batches.Load() < 10_000; round++ {
			emitRound(t, h, rng, n, round)
			time.Sleep(5 * time.Millisecond)
			synctest.Wait()
		}
		s := h.eng.Stats()
		h.checkIdentity()
		require.NotZero(t, s.Dropped.PublishFailed)
		require.NotZero(t, s.Dropped.CircuitOpen, "three failures in a row happen in 10,000 batches")
		require.NotZero(t, s.CatchUp)
		pub.setP(0)
		time.Sleep(time.Second)
		synctest.Wait()
		converged(t, h.eng, pub)
		require.Equal(t, "closed", h.eng.Health().Breaker)
		require.NoError(t, h.finish())
		t.Logf("batches %d, injected failures %d, stats %+v", pub.batches.Load(), pub.fails.Load(), h.eng.Stats())
	})
}

func TestEngineFaultHangingPublisher(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const n = 50
		pub := &flaky{rng: rand.New(rand.NewPCG(1, 2)), last: map[uint32]float64{}}
		h := newHarness(t, instruments(n), func(c *ticker.Config) {
			c.Publisher = pub
			c.PublishTimeout = 100 * time.Millisecond
			c.Breaker = breaker.Config{FailureThreshold: 3, OpenTimeout: time.Second}
		})
		h.start()
		pub.hang.Store(true)
		rng := rand.New(rand.NewPCG(5, 6))
		opened := time.Time{}
		for round := range 200 {
			emitRound(t, h, rng, n, round)
			time.Sleep(10 * time.Millisecond)
			synctest.Wait()
			if opened.IsZero() && h.eng.Health().Breaker == "open" {
				opened = time.Now()
			}
		}
		require.False(t, opened.IsZero(), "timeouts count as failures: the breaker opened")
		s := h.eng.Stats()
		require.NotZero(t, s.Dropped.PublishFailed, "timed-out batches")
		require.NotZero(t, s.Dropped.CircuitOpen, "refused while open")
		require.LessOrEqual(t, pub.longest(), 100*time.Millisecond, "no batch waits past PublishTimeout")
		h.checkIdentity()
		pub.hang.Store(false)
		time.Sleep(2 * time.Second)
		synctest.Wait()
		converged(t, h.eng, pub)
		require.NoError(t, h.finish())
	})
}

func TestEngineFaultSlowPublisher(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const n = 200
		// The batch interval is 2ms (Linger); the publisher takes 20ms.
		pub := &flaky{rng: rand.New(rand.NewPCG(1, 2)), delay: 20 * time.Millisecond, last: map[uint32]float64{}}
		h := newHarness(t, instruments(n), func(c *ticker.Config) { c.Publisher = pub })
		h.start()
		rng := rand.New(rand.NewPCG(7, 8))
		for round := range 500 {
			emitRound(t, h, rng, n, round)
			time.Sleep(2 * time.Millisecond)
			synctest.Wait()
		}
		s := h.eng.Stats()
		require.NotZero(t, s.Conflated, "a slow publisher conflates")
		require.Zero(t, s.Dropped.Total(), "slowness alone drops nothing")
		time.Sleep(time.Second)
		synctest.Wait()
		converged(t, h.eng, pub)
		require.NoError(t, h.finish())
	})
}

func TestEngineFaultInstruments(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mode atomic.Int32 // 0 ok, 1 error, 2 panic, 3 hang
		h := newHarness(t, instruments(5), func(c *ticker.Config) {
			c.Reload = reloader.Config{Debounce: 100 * time.Millisecond, MinInterval: 100 * time.Millisecond,
				RetryBackoff: 200 * time.Millisecond, MaxRetryBackoff: time.Second, Timeout: time.Second}
		})
		h.insts = func(ctx context.Context) ([]ticker.Instrument, error) {
			switch mode.Load() {
			case 1:
				return nil, errors.New("dump unavailable")
			case 2:
				panic("parser bug")
			case 3:
				<-ctx.Done() // hangs until the reload's timeout
				return nil, ctx.Err()
			}
			return *h.list.Load(), nil
		}
		h.start()
		want := h.eng.Instruments()
		for _, m := range []int32{1, 2, 3} {
			mode.Store(m)
			for range 20 { // reloads keep being triggered
				h.eng.Reload()
				time.Sleep(250 * time.Millisecond)
				synctest.Wait()
			}
			hl := h.eng.Health()
			require.Equal(t, "degraded", hl.Status, "mode %d", m)
			require.NotEmpty(t, hl.ReloadError, "mode %d", m)
			require.Equal(t, want, h.eng.Instruments(), "subscriptions kept, mode %d", m)
		}
		mode.Store(0)
		time.Sleep(3 * time.Second)
		synctest.Wait()
		hl := h.eng.Health()
		require.Equal(t, "ok", hl.Status, "%+v", hl)
		require.NoError(t, h.finish())
	})
}

// TestEngineChaos runs three emitters against a publisher that fails 40% of
// its batches at random, with a reload every 15ms that changes the
// subscriptions (instruments removed, added back, their descriptions
// revised), and stops the engine while the emitters still emit. Three
// rounds, each with its own seed: once the faults stop the published state
// converges to Latest, and after Run returns the identity is exact.
func TestEngineChaos(t *testing.T) {
	for round := range 3 {
		t.Run(fmt.Sprint("round=", round), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) { chaos(t, uint64(round)) })
		})
	}
}

func chaos(t *testing.T, seed uint64) {
	const n = 120
	universe := instruments(n)
	var mu sync.Mutex // guards rng
	rng := rand.New(rand.NewPCG(seed, 42))
	pub := &flaky{rng: rand.New(rand.NewPCG(seed, 7)), p: 0.4, last: map[uint32]float64{}}
	h := newHarness(t, universe, func(c *ticker.Config) {
		c.Publisher = pub
		c.BatchSize = 16
		c.Breaker = breaker.Config{FailureThreshold: 3, OpenTimeout: 50 * time.Millisecond}
		c.Reload = reloader.Config{Debounce: -1, MinInterval: -1}
	})
	h.insts = func(context.Context) ([]ticker.Instrument, error) {
		mu.Lock()
		defer mu.Unlock()
		var list []ticker.Instrument
		for _, in := range universe {
			switch rng.IntN(10) {
			case 0: // not subscribed this time
			case 1: // a revised description
				in.LotSize = 25 + rng.IntN(3)
				list = append(list, in)
			default:
				list = append(list, in)
			}
		}
		return list, nil
	}
	h.start()

	var price atomic.Int64 // every tick has a price of its own
	run := func(emitters, reloads *atomic.Bool) *sync.WaitGroup {
		var wg sync.WaitGroup
		for w := range 3 {
			wg.Go(func() {
				r := rand.New(rand.NewPCG(seed, uint64(w)))
				for emitters.Load() {
					for range 10 {
						h.src.send(tk(uint32(1000+r.IntN(n)), float64(price.Add(1))))
					}
					time.Sleep(time.Millisecond)
				}
			})
		}
		wg.Go(func() {
			for reloads.Load() {
				h.eng.Reload()
				time.Sleep(15 * time.Millisecond)
			}
		})
		return &wg
	}

	// Chaos for two seconds, then the faults stop and the state converges.
	var emitters, reloads atomic.Bool
	emitters.Store(true)
	reloads.Store(true)
	wg := run(&emitters, &reloads)
	time.Sleep(2 * time.Second)
	emitters.Store(false)
	reloads.Store(false)
	wg.Wait()
	s := h.eng.Stats()
	require.NotZero(t, s.Dropped.PublishFailed, "%+v", s)
	require.NotZero(t, s.Dropped.Unsubscribed, "%+v", s)
	pub.setP(0)
	time.Sleep(time.Second)
	synctest.Wait()
	require.Equal(t, "closed", h.eng.Health().Breaker)
	require.NotZero(t, h.eng.Stats().CatchUp)
	converged(t, h.eng, pub)
	h.checkIdentity()

	// Shutdown while the emitters emit, the publisher fails and reloads run.
	pub.setP(0.4)
	emitters.Store(true)
	reloads.Store(true)
	wg = run(&emitters, &reloads)
	time.Sleep(100 * time.Millisecond)
	h.stop()
	require.NoError(t, <-h.done)
	time.Sleep(10 * time.Millisecond) // emits after Run returned: shutdown drops
	emitters.Store(false)
	reloads.Store(false)
	wg.Wait()
	s = h.eng.Stats()
	require.Zero(t, s.Pending)
	require.NotZero(t, s.Dropped.Shutdown, "emits after the final flush")
	h.checkIdentity()
	t.Logf("seed %d: %+v", seed, s)
}

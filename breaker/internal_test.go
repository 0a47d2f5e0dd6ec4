package breaker

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/steadfast-go/steadfast/internal/metrictest"
)

func TestStripeCount(t *testing.T) {
	for procs, want := range map[int]int{0: 8, 1: 8, 2: 16, 3: 32, 4: 32, 5: 64, 16: 64, 1000: 64} {
		require.Equal(t, want, stripeCount(procs), "procs %d", procs)
	}
}

func TestWindowBuckets(t *testing.T) {
	var w window
	w.init(100)
	require.Equal(t, uint64(10), w.size)
	require.Len(t, w.buckets, 11) // 10 full + the one being filled
	w.add(100, 0)
	require.Equal(t, uint64(100), w.calls)
	w.add(9, 1) // the bucket being filled
	require.Equal(t, uint64(100), w.calls, "a full bucket rotates out the oldest")
	require.Equal(t, uint64(1), w.fails)
	w.add(5, 0)
	require.Equal(t, uint64(105), w.calls, "the window covers Window..Window+Window/10 calls")
	w.add(1000, 0)
	require.Equal(t, uint64(0), w.fails)
	require.LessOrEqual(t, w.calls, uint64(110))
	require.GreaterOrEqual(t, w.calls, uint64(100))

	w.init(15) // buckets of 1 call: exact
	w.add(0, 15)
	w.add(15, 0)
	require.Equal(t, uint64(15), w.calls)
	require.Equal(t, uint64(0), w.fails)
	w.reset(0)
	require.Zero(t, w.calls)
}

// nearFold sets counter r of every stripe to one below the fold point, so
// the next count on any of them folds whichever stripe the calling goroutine
// hashes to, and returns the total it set.
func nearFold(b *Breaker, r result) uint64 {
	w := b.word.Load()
	for i := range b.stripes {
		b.stripes[i].c[r].Store(tagOf(w) | (foldAt - 1))
	}
	return uint64(len(b.stripes)) * (foldAt - 1)
}

// requireFolded checks that counts of r were moved out of a stripe and that
// no stripe holds foldAt or more.
func requireFolded(t *testing.T, b *Breaker, r result) {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	require.GreaterOrEqual(t, b.genBase[r], uint64(foldAt), "%s folded", r)
	for i := range b.stripes {
		require.Less(t, b.stripes[i].c[r].Load()&countMask, uint64(foldAt), "%s stripe %d", r, i)
	}
}

// TestFold drives the stripe counters to the fold point: the counts stay
// exact and the metrics cumulative.
func TestFold(t *testing.T) {
	for _, rate := range []float64{0, 0.5} {
		reg := prometheus.NewRegistry()
		b, err := New(Config{Name: "f", FailureRate: rate, Registerer: reg, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		require.NoError(t, err)
		succ := nearFold(b, success)
		ign := nearFold(b, ignored)
		require.NoError(t, b.Do(context.Background(), func(context.Context) error { return nil }))
		require.ErrorIs(t, b.Do(context.Background(), func(context.Context) error { return context.Canceled }), context.Canceled)
		p, err := b.Allow()
		require.NoError(t, err)
		b.Done(p, nil)
		requireFolded(t, b, success)
		requireFolded(t, b, ignored)
		c := b.Counts()
		require.Equal(t, succ+2, c.Successes)
		require.Equal(t, ign+1, c.Ignored)
		v, err := metrictest.Value(reg, "steadfast_breaker_calls_total", metrictest.Labels{"result": "success"})
		require.NoError(t, err)
		require.Equal(t, float64(succ+2), v)
		b.Reset()
		v, err = metrictest.Value(reg, "steadfast_breaker_calls_total", metrictest.Labels{"result": "success"})
		require.NoError(t, err)
		require.Equal(t, float64(succ+2), v, "cumulative across Reset")
		require.Equal(t, Counts{}, b.Counts())
	}
}

// TestSuccessesFromManyGoroutines spreads successes over stripes; the rate
// must still count every one of them.
func TestSuccessesFromManyGoroutines(t *testing.T) {
	b, err := New(Config{FailureRate: 0.5, Window: 1000, MinCalls: 100})
	require.NoError(t, err)
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for range 7 {
				_ = b.Do(context.Background(), func(context.Context) error { return nil })
			}
		})
	}
	wg.Wait()
	// 112 successes; 111 failures keep the rate below 0.5, the 112th reaches it.
	boom := errors.New("boom")
	for range 111 {
		_ = b.Do(context.Background(), func(context.Context) error { return boom })
	}
	require.Equal(t, Closed, b.State())
	_ = b.Do(context.Background(), func(context.Context) error { return boom })
	require.Equal(t, Open, b.State())
}

// TestArmedWaitsForMinCalls: the rate is reached early; the breaker opens
// only at MinCalls, on a success, and disarms if the rate falls.
func TestArmedWaitsForMinCalls(t *testing.T) {
	b, err := New(Config{FailureRate: 0.5, Window: 100, MinCalls: 20})
	require.NoError(t, err)
	ctx := context.Background()
	boom := errors.New("boom")
	for range 5 {
		_ = b.Do(ctx, func(context.Context) error { return boom })
	}
	require.True(t, b.armed.Load())
	for range 5 {
		_ = b.Do(ctx, func(context.Context) error { return nil })
	}
	require.Equal(t, Closed, b.State())
	require.True(t, b.armed.Load(), "5/10 is still at the rate")
	_ = b.Do(ctx, func(context.Context) error { return nil })
	require.False(t, b.armed.Load(), "5/11 is below the rate")
	for range 9 {
		_ = b.Do(ctx, func(context.Context) error { return boom })
	}
	// 14 failures / 20 calls, MinCalls reached on a failure.
	require.Equal(t, Open, b.State())
}

// TestFailureRateAfterLongSuccessRun: a long run of successes enters the
// window lazily, in one go, and is then pushed out bucket by bucket.
func TestFailureRateAfterLongSuccessRun(t *testing.T) {
	b, err := New(Config{FailureRate: 0.5}) // Window 100 in buckets of 10
	require.NoError(t, err)
	ctx := context.Background()
	boom := errors.New("boom")
	for range 1000 {
		_ = b.Do(ctx, func(context.Context) error { return nil })
	}
	for range 49 {
		_ = b.Do(ctx, func(context.Context) error { return boom })
	}
	// 5 buckets of successes, 4 of failures and 9 failures being filled.
	require.Equal(t, uint64(109), b.win.calls)
	require.Equal(t, Closed, b.State())
	_ = b.Do(ctx, func(context.Context) error { return boom })
	require.Equal(t, Open, b.State(), "50 failures in the last 100 calls")
}

// TestFoldRejected: rejections, which can go on for as long as a tripped
// breaker stays open or a probe never finishes, are folded before their
// stripe counter overflows, on the lock-free and the locked path.
func TestFoldRejected(t *testing.T) {
	reg := prometheus.NewRegistry()
	b, err := New(Config{Name: "fr", FailureThreshold: 1, OpenTimeout: time.Second, Registerer: reg, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	require.NoError(t, err)

	// Tripped: rejected without the lock.
	b.Trip()
	base := nearFold(b, rejected)
	for range 3 {
		_, err := b.Allow()
		require.ErrorIs(t, err, ErrOpen)
	}
	requireFolded(t, b, rejected)
	require.Equal(t, base+3, b.Counts().Rejected)
	v, err := metrictest.Value(reg, "steadfast_breaker_calls_total", metrictest.Labels{"result": "rejected"})
	require.NoError(t, err)
	require.Equal(t, float64(base+3), v)

	// Half-open with its probe slot taken: rejected under the lock.
	synctest.Test(t, func(t *testing.T) {
		b, err := New(Config{FailureThreshold: 1, OpenTimeout: time.Second})
		require.NoError(t, err)
		require.Error(t, b.Do(context.Background(), func(context.Context) error { return errors.New("boom") }))
		time.Sleep(time.Second)
		p, err := b.Allow()
		require.NoError(t, err)
		require.Equal(t, HalfOpen, stateOf(b.word.Load()))
		base := nearFold(b, rejected)
		for range 3 {
			_, err := b.Allow()
			require.ErrorIs(t, err, ErrTooManyCalls)
		}
		requireFolded(t, b, rejected)
		require.Equal(t, base+3, b.Counts().Rejected)
		b.Done(p, nil)
	})
}

// TestCounterTagWidth: a counter re-tagged for a later generation refuses a
// permit of an earlier one, however many generations apart up to 2^32.
func TestCounterTagWidth(t *testing.T) {
	const g = 12345
	w := uint64(g)<<genShift | uint64(Closed)
	for _, d := range []uint64{1, 2, 1 << 20, 1 << 31, 1<<32 - 1} {
		var c counter
		c.Store(tagOf(w + d<<genShift))
		_, ok := c.add(w)
		require.False(t, ok, "%d generations later", d)
		require.Equal(t, tagOf(w+d<<genShift), c.Load(), "nothing counted")
	}
}

// TestStripeIndexSpreadsNearbyStacks: for every distance d (in 2 KiB
// steps) between two goroutine stacks, the two land on one stripe with
// probability close to 1/stripes, not more.
func TestStripeIndexSpreadsNearbyStacks(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	for _, stripes := range []int{8, 16, 64} {
		shift := uint8(64 - log2(stripes))
		const samples = 2000
		for d := uint64(1); d <= 300; d++ {
			same := 0
			for range samples {
				a := rng.Uint64N(1<<47) &^ (1<<11 - 1)
				if stripeIndex(a, shift) == stripeIndex(a+d<<11, shift) {
					same++
				}
			}
			require.Less(t, float64(same)/samples, 2.0/float64(stripes), "stripes %d, stacks %d KiB apart", stripes, 2*d)
		}
	}
}

// TestClockStopsWhenIdle: the coarse clock runs while calls read it, stops
// one step after the last one, and starts again, with the current time, at
// the next call.
func TestClockStopsWhenIdle(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b, err := New(Config{SlowCallDuration: 100 * time.Millisecond, Logger: slog.New(slog.DiscardHandler)})
		require.NoError(t, err)
		require.Equal(t, 5*time.Millisecond, b.tickEvery)
		stopped := func() bool { v := b.clk.Load(); return v < 0 && ^v&clkStopped != 0 }
		require.True(t, stopped(), "no call yet")

		for range 20 { // a call every 2ms keeps it running
			require.NoError(t, b.Do(t.Context(), func(context.Context) error { return nil }))
			time.Sleep(2 * time.Millisecond)
			require.False(t, stopped())
		}
		require.InDelta(t, b.now(), b.coarseNow(), float64(b.tickEvery)) // a read too
		time.Sleep(2*b.tickEvery + time.Millisecond)
		require.True(t, stopped(), "a tick found no read since the one before")

		time.Sleep(time.Hour)
		require.Equal(t, b.now(), b.coarseNow(), "restarted with the current time")
		require.False(t, stopped())
	})
}

// TestClockStep: the coarse clock's step for each configuration.
func TestClockStep(t *testing.T) {
	for _, c := range []struct {
		cfg  Config
		want time.Duration
	}{
		{Config{}, 0},
		{Config{SlowCallDuration: time.Second}, 50 * time.Millisecond},
		{Config{SlowCallDuration: 10 * time.Millisecond}, time.Millisecond},
		{Config{WindowDuration: time.Minute}, 6 * time.Second},
		{Config{WindowDuration: time.Minute, SlowCallDuration: time.Second}, 50 * time.Millisecond},
		{Config{WindowDuration: time.Second, SlowCallDuration: time.Minute}, 100 * time.Millisecond},
	} {
		require.Equal(t, c.want, clockStep(c.cfg), "%+v", c.cfg)
	}
}

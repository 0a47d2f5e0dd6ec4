package ticker_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/steadfast-go/steadfast/breaker"
	"github.com/steadfast-go/steadfast/internal/metrictest"
	"github.com/steadfast-go/steadfast/reloader"
	"github.com/steadfast-go/steadfast/taskmon"
	"github.com/steadfast-go/steadfast/ticker"
	"github.com/steadfast-go/steadfast/ticker/market"
)

// fakeSource is a Source whose ticks the test emits by hand. Run stores
// emit and waits for its context; runs counts its calls; fail and panics
// make Run fail.
type fakeSource struct {
	mu    sync.Mutex
	emit  func(ticker.Tick)
	subs  map[uint32]ticker.Instrument
	diffs [][2][]ticker.Instrument
	runs  atomic.Int32
	fail  func(run int32) error // nil: run until ctx ends
	ready chan struct{}
	// subFail makes the next subFail Subscribe calls fail.
	subFail int
	// early is how many of the first runs return nil at once, before
	// their context ends.
	early atomic.Int32
}

func newFakeSource() *fakeSource {
	return &fakeSource{subs: map[uint32]ticker.Instrument{}, ready: make(chan struct{}, 100)}
}

func (f *fakeSource) Run(ctx context.Context, emit func(ticker.Tick)) error {
	n := f.runs.Add(1)
	f.mu.Lock()
	f.emit = emit
	fail := f.fail
	f.mu.Unlock()
	f.ready <- struct{}{}
	if n <= f.early.Load() {
		return nil
	}
	if fail != nil {
		if err := fail(n); err != nil {
			return err
		}
	}
	<-ctx.Done()
	return nil
}

func (f *fakeSource) Subscribe(add, remove []ticker.Instrument) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.subFail > 0 {
		f.subFail--
		return errors.New("subscription refused")
	}
	for _, in := range remove {
		delete(f.subs, in.Token)
	}
	for _, in := range add {
		f.subs[in.Token] = in
	}
	f.diffs = append(f.diffs, [2][]ticker.Instrument{slices.Clone(add), slices.Clone(remove)})
	return nil
}

func (f *fakeSource) send(t ticker.Tick) {
	f.mu.Lock()
	emit := f.emit
	f.mu.Unlock()
	emit(t)
}

// recorder is a Publisher that records what it accepts, fails while
// failing is set, and blocks while hang is set (until its ctx ends).
type recorder struct {
	mu      sync.Mutex
	batches [][]ticker.Tick
	last    map[uint32]ticker.Tick
	calls   int
	failing atomic.Bool
	hang    atomic.Bool
}

func newRecorder() *recorder { return &recorder{last: map[uint32]ticker.Tick{}} }

func (r *recorder) Publish(ctx context.Context, ticks []ticker.Tick) error {
	r.mu.Lock()
	r.calls++
	r.mu.Unlock()
	if r.hang.Load() {
		<-ctx.Done()
		return ctx.Err()
	}
	if r.failing.Load() {
		return errors.New("redis: connection refused")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.batches = append(r.batches, slices.Clone(ticks))
	for _, t := range ticks {
		r.last[t.Token] = t
	}
	return nil
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, b := range r.batches {
		n += len(b)
	}
	return n
}

func (r *recorder) lastOf(token uint32) (ticker.Tick, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	t, ok := r.last[token]
	return t, ok
}

func opt(token uint32, under string, strike float64) ticker.Instrument {
	return ticker.Instrument{
		Token: token, Symbol: fmt.Sprintf("%s%vCE", under, strike), Exchange: "NFO", Segment: "NFO-OPT",
		Underlying: under, Kind: ticker.KindCall, Strike: strike, LotSize: 75, TickSize: 0.05,
		Expiry: time.Date(2030, 1, 29, 0, 0, 0, 0, market.IST()),
	}
}

func instruments(n int) []ticker.Instrument {
	out := make([]ticker.Instrument, n)
	for i := range out {
		out[i] = opt(uint32(1000+i), "NIFTY", float64(20000+50*i))
	}
	return out
}

func tk(token uint32, price float64) ticker.Tick {
	return ticker.Tick{Token: token, LastPrice: price, Bid: price - 0.05, Ask: price + 0.05, Time: time.Now()}
}

type harness struct {
	t     *testing.T
	eng   *ticker.Engine
	src   *fakeSource
	pub   *recorder
	list  atomic.Pointer[[]ticker.Instrument]
	insts func(ctx context.Context) ([]ticker.Instrument, error)
	reg   *prometheus.Registry
	stop  context.CancelFunc
	done  chan error
}

// newHarness makes an engine over a fake source and a recorder; mod may
// change the Config. Call start to run it.
func newHarness(t *testing.T, list []ticker.Instrument, mod func(*ticker.Config)) *harness {
	t.Helper()
	h := &harness{t: t, src: newFakeSource(), pub: newRecorder(), reg: prometheus.NewRegistry()}
	h.list.Store(&list)
	cfg := ticker.Config{
		Source:    h.src,
		Publisher: h.pub,
		Instruments: func(ctx context.Context) ([]ticker.Instrument, error) {
			if h.insts != nil {
				return h.insts(ctx)
			}
			return *h.list.Load(), nil
		},
		Breaker:    breaker.Config{FailureThreshold: 3, OpenTimeout: 10 * time.Second},
		Logger:     quiet,
		Registerer: h.reg,
	}
	if mod != nil {
		mod(&cfg)
	}
	eng, err := ticker.New(cfg)
	require.NoError(t, err)
	h.eng = eng
	return h
}

func (h *harness) start() {
	ctx, cancel := context.WithCancel(context.Background())
	h.stop = cancel
	h.done = make(chan error, 1)
	go func() { h.done <- h.eng.Run(ctx) }()
	<-h.src.ready
	synctest.Wait()
}

// finish stops the engine and returns Run's error.
func (h *harness) finish() error {
	h.stop()
	err := <-h.done
	h.checkIdentity()
	return err
}

func (h *harness) checkIdentity() {
	h.t.Helper()
	s := h.eng.Stats()
	require.Equal(h.t, s.Produced, s.Published+s.Conflated+s.Invalid+s.Dropped.Total()+s.Pending,
		"accounting identity: %+v", s)
}

// quiet is the engine tests' logger: its records are formatted, then discarded.
var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func metric(t *testing.T, g prometheus.Gatherer, name string, l metrictest.Labels) float64 {
	t.Helper()
	v, err := metrictest.Value(g, name, l)
	require.NoError(t, err)
	return v
}

// settle lets the engine publish what is pending (Linger and the loop).
func settle() {
	time.Sleep(50 * time.Millisecond)
	synctest.Wait()
}

func TestEngineConfigValidation(t *testing.T) {
	src, pub := newFakeSource(), newRecorder()
	list := func(context.Context) ([]ticker.Instrument, error) { return nil, nil }
	for _, c := range []struct {
		cfg  ticker.Config
		want string
	}{
		{ticker.Config{Publisher: pub, Instruments: list}, "Source"},
		{ticker.Config{Source: src, Instruments: list}, "Publisher"},
		{ticker.Config{Source: src, Publisher: pub}, "Instruments"},
		{ticker.Config{Source: src, Publisher: pub, Instruments: list, BatchSize: -1}, "BatchSize"},
		{ticker.Config{Source: src, Publisher: pub, Instruments: list, PublishTimeout: -1}, "PublishTimeout"},
		{ticker.Config{Source: src, Publisher: pub, Instruments: list, PublishConcurrency: -1}, "PublishConcurrency"},
		{ticker.Config{Source: src, Publisher: pub, Instruments: list, PublishConcurrency: 65}, "PublishConcurrency"},
		{ticker.Config{Source: src, Publisher: pub, Instruments: list, ShutdownTimeout: -1}, "ShutdownTimeout"},
		{ticker.Config{Source: src, Publisher: pub, Instruments: list, Breaker: breaker.Config{FailureRate: 2}}, "Breaker"},
		{ticker.Config{Source: src, Publisher: pub, Instruments: list, Reload: reloader.Config{Timeout: -1}}, "Reload"},
		{ticker.Config{Source: src, Publisher: pub, Instruments: list, SourceRestart: taskmon.Spec{Backoff: -1}}, "SourceRestart"},
	} {
		c.cfg.Logger = quiet
		_, err := ticker.New(c.cfg)
		require.ErrorContains(t, err, c.want)
	}
	_, err := ticker.New(ticker.Config{Source: src, Publisher: pub, Instruments: list, Logger: quiet})
	require.NoError(t, err)
}

func TestEnginePublishesAndConflates(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		list := instruments(3)
		h := newHarness(t, list, nil)
		h.start()
		require.Len(t, h.src.subs, 3, "the first reload subscribes before the source runs")
		// Three ticks of one instrument inside one linger: latest wins.
		h.src.send(tk(1000, 10))
		h.src.send(tk(1000, 11))
		h.src.send(tk(1000, 12))
		h.src.send(tk(1001, 20))
		settle()
		s := h.eng.Stats()
		require.Equal(t, uint64(4), s.Produced)
		require.Equal(t, uint64(2), s.Published)
		require.Equal(t, uint64(2), s.Conflated)
		require.Equal(t, uint64(1), s.Batches)
		last, ok := h.pub.lastOf(1000)
		require.True(t, ok)
		require.Equal(t, 12.0, last.LastPrice)
		require.NotNil(t, last.Instrument, "the publisher gets the instrument")
		require.Equal(t, "NIFTY", last.Instrument.Underlying)
		lt, ok := h.eng.Latest(1000)
		require.True(t, ok)
		require.Equal(t, 12.0, lt.LastPrice)
		require.Equal(t, list[0].Symbol, lt.Instrument.Symbol)
		_, ok = h.eng.Latest(1002)
		require.False(t, ok, "subscribed but never ticked")
		in, ok := h.eng.Instrument(1001)
		require.True(t, ok)
		require.Equal(t, list[1].Symbol, in.Symbol)
		require.Len(t, h.eng.Instruments(), 3)
		require.NoError(t, h.finish())
	})
}

func TestEngineBatchSize(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, instruments(10), func(c *ticker.Config) { c.BatchSize = 4 })
		h.start()
		for i := range 10 {
			h.src.send(tk(uint32(1000+i), 1))
		}
		settle()
		h.pub.mu.Lock()
		total := 0
		for _, b := range h.pub.batches {
			require.LessOrEqual(t, len(b), 4)
			total += len(b)
		}
		n := len(h.pub.batches)
		h.pub.mu.Unlock()
		require.Equal(t, 10, total)
		require.GreaterOrEqual(t, n, 3)
		require.NoError(t, h.finish())
	})
}

func TestEngineInvalidAndUnsubscribedNeverPublished(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, instruments(2), nil)
		h.start()
		h.src.send(tk(1000, math.NaN()))
		h.src.send(tk(1000, -1))
		h.src.send(ticker.Tick{Token: 1000, Bid: 5, Ask: 4})
		h.src.send(tk(0, 1))
		h.src.send(tk(4242, 1)) // not subscribed
		h.src.send(tk(1001, 7))
		settle()
		s := h.eng.Stats()
		require.Equal(t, uint64(4), s.Invalid)
		require.Equal(t, uint64(1), s.Dropped.Unsubscribed)
		require.Equal(t, uint64(1), s.Published)
		require.Equal(t, 1, h.pub.count())
		_, ok := h.eng.Latest(1000)
		require.False(t, ok, "an invalid tick is never stored")
		_, ok = h.pub.lastOf(4242)
		require.False(t, ok)
		require.NoError(t, h.finish())
	})
}

func TestEngineEmitNeverWaitsForAHungPublisher(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, instruments(100), func(c *ticker.Config) { c.PublishTimeout = time.Hour })
		h.start()
		h.pub.hang.Store(true)
		h.src.send(tk(1000, 1))
		settle() // the loop is now inside Publish, which hangs for an hour
		start := time.Now()
		for round := range 100 {
			for i := range 100 {
				h.src.send(tk(uint32(1000+i), float64(round+1)))
			}
		}
		require.Equal(t, start, time.Now(), "emit took fake time: it waited")
		s := h.eng.Stats()
		require.Equal(t, uint64(10001), s.Produced)
		require.Equal(t, uint64(101), s.Pending, "100 slots and the batch in flight")
		h.checkIdentity()
		h.pub.hang.Store(false)
		require.NoError(t, h.finish())
	})
}

func TestEngineBreakerDropsThenCatchesUpAndConverges(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const n = 20
		h := newHarness(t, instruments(n), func(c *ticker.Config) { c.BatchSize = 5 })
		h.start()
		for i := range n {
			h.src.send(tk(uint32(1000+i), 1))
		}
		settle()
		require.Equal(t, uint64(n), h.eng.Stats().Published)

		h.pub.failing.Store(true)
		for i := range n {
			h.src.send(tk(uint32(1000+i), 2))
		}
		// Three failed batches (of at most 5: the loop may take one before
		// all 20 are in) open the breaker; the rest are refused, one batch
		// per probe interval (1s here), the others waiting in their slots
		// meanwhile.
		settle()
		require.Equal(t, "open", h.eng.Health().Breaker)
		s := h.eng.Stats()
		require.LessOrEqual(t, s.Dropped.PublishFailed, uint64(15))
		require.NotZero(t, s.Dropped.CircuitOpen)
		require.Equal(t, uint64(n), s.Dropped.PublishFailed+s.Dropped.CircuitOpen+s.Pending)
		time.Sleep(3 * time.Second)
		synctest.Wait()
		s = h.eng.Stats()
		require.Zero(t, s.Pending)
		require.Equal(t, uint64(n), s.Dropped.PublishFailed+s.Dropped.CircuitOpen)
		hl := h.eng.Health()
		require.Equal(t, "degraded", hl.Status)
		require.Equal(t, "open", hl.Breaker)
		h.checkIdentity()

		// A second wave during the outage: only some instruments tick.
		for i := range n / 2 {
			h.src.send(tk(uint32(1000+i), 3))
		}
		settle()
		s = h.eng.Stats()
		require.LessOrEqual(t, s.Pending, uint64(n/2), "the new ticks wait in their slots")
		require.Equal(t, uint64(n+n/2), s.Dropped.Total()+s.Pending)
		time.Sleep(2 * time.Second)
		synctest.Wait()
		s = h.eng.Stats()
		require.Zero(t, s.Pending)
		require.Equal(t, uint64(n+n/2), s.Dropped.Total())

		// Recovery with no new tick: the half-open probe is a catch-up batch.
		h.pub.failing.Store(false)
		time.Sleep(11 * time.Second)
		synctest.Wait()
		settle()
		require.Equal(t, "closed", h.eng.Health().Breaker)
		s = h.eng.Stats()
		require.Equal(t, uint64(n), s.CatchUp, "each instrument's latest tick republished once")
		for i := range n {
			want, ok := h.eng.Latest(uint32(1000 + i))
			require.True(t, ok)
			got, ok := h.pub.lastOf(uint32(1000 + i))
			require.True(t, ok)
			require.Equal(t, want.LastPrice, got.LastPrice, "token %d converged", 1000+i)
		}
		require.Equal(t, "ok", h.eng.Health().Status)
		// Nothing more is owed: a further wait republishes nothing.
		time.Sleep(30 * time.Second)
		synctest.Wait()
		require.Equal(t, uint64(n), h.eng.Stats().CatchUp)
		require.NoError(t, h.finish())
	})
}

func TestEngineCatchUpSkipsInstrumentsWithANewerPublishedTick(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, instruments(2), func(c *ticker.Config) {
			c.Breaker = breaker.Config{FailureThreshold: 100}
		})
		h.start()
		h.pub.failing.Store(true)
		h.src.send(tk(1000, 1))
		h.src.send(tk(1001, 1))
		settle()
		require.Equal(t, uint64(2), h.eng.Stats().Dropped.PublishFailed)
		h.pub.failing.Store(false)
		h.src.send(tk(1000, 2)) // published normally: 1000 needs no catch-up
		settle()
		time.Sleep(2 * time.Second)
		settle()
		s := h.eng.Stats()
		require.Equal(t, uint64(1), s.CatchUp, "only 1001 is caught up")
		got, _ := h.pub.lastOf(1000)
		require.Equal(t, 2.0, got.LastPrice)
		got, _ = h.pub.lastOf(1001)
		require.Equal(t, 1.0, got.LastPrice)
		require.NoError(t, h.finish())
	})
}

func TestEngineReloadCoalescesIntoOneDiff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		list := instruments(5)
		h := newHarness(t, list, nil)
		h.start()
		require.Len(t, h.src.diffs, 1)
		next := append(slices.Clone(list[1:4]), opt(2000, "BANKNIFTY", 50000), opt(2001, "BANKNIFTY", 50100))
		h.list.Store(&next)
		for range 50 {
			h.eng.Reload()
		}
		time.Sleep(10 * time.Second)
		synctest.Wait()
		h.src.mu.Lock()
		diffs := slices.Clone(h.src.diffs)
		h.src.mu.Unlock()
		require.Len(t, diffs, 2, "50 reloads, one diff")
		tokens := func(ins []ticker.Instrument) []uint32 {
			var out []uint32
			for _, in := range ins {
				out = append(out, in.Token)
			}
			slices.Sort(out)
			return out
		}
		require.Equal(t, []uint32{2000, 2001}, tokens(diffs[1][0]))
		require.Equal(t, []uint32{1000, 1004}, tokens(diffs[1][1]))
		require.Len(t, h.eng.Instruments(), 5)
		_, ok := h.eng.Instrument(1000)
		require.False(t, ok)
		h.src.send(tk(1000, 1)) // no longer subscribed
		h.src.send(tk(2000, 1))
		settle()
		s := h.eng.Stats()
		require.Equal(t, uint64(1), s.Dropped.Unsubscribed)
		require.Equal(t, uint64(1), s.Published)
		require.NoError(t, h.finish())
	})
}

func TestEngineRefusesZeroAndDuplicateTokens(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		list := instruments(3)
		list = append(list, opt(0, "NIFTY", 1), list[1])
		h := newHarness(t, list, nil)
		h.start()
		require.Len(t, h.eng.Instruments(), 3)
		require.Equal(t, uint64(2), h.eng.Health().RefusedInstruments)
		require.NoError(t, h.finish())
	})
}

func TestEngineFailingInstrumentsKeepsSubscriptions(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, instruments(3), func(c *ticker.Config) {
			c.Reload = reloader.Config{Debounce: time.Second, MinInterval: time.Second, RetryBackoff: time.Second, MaxRetryBackoff: time.Second}
		})
		var fail atomic.Int32 // 1 error, 2 panic
		h.insts = func(context.Context) ([]ticker.Instrument, error) {
			switch fail.Load() {
			case 1:
				return nil, errors.New("instrument dump unavailable")
			case 2:
				panic("dump parser bug")
			}
			return *h.list.Load(), nil
		}
		h.start()
		for _, mode := range []int32{1, 2} {
			fail.Store(mode)
			h.eng.Reload()
			time.Sleep(3 * time.Second)
			synctest.Wait()
			hl := h.eng.Health()
			require.Equal(t, "degraded", hl.Status, "mode %d", mode)
			require.NotEmpty(t, hl.ReloadError)
			require.Len(t, h.eng.Instruments(), 3, "subscriptions kept")
			h.src.send(tk(1000, float64(mode)))
			settle()
			require.Equal(t, uint64(mode), h.eng.Stats().Published, "streaming goes on")
		}
		fail.Store(0) // the reloader's own retry succeeds
		time.Sleep(5 * time.Second)
		synctest.Wait()
		hl := h.eng.Health()
		require.Equal(t, "ok", hl.Status, "%+v", hl)
		require.Empty(t, hl.ReloadError)
		require.NoError(t, h.finish())
	})
}

func TestEngineRestartsAFailingSource(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var gaveUp atomic.Bool
		h := newHarness(t, instruments(1), func(c *ticker.Config) {
			c.SourceRestart = taskmon.Spec{Backoff: time.Second, MaxBackoff: time.Second, MaxRestarts: 3, Period: time.Hour,
				OnError: func(te taskmon.TaskError) {
					if errors.Is(te.Err, taskmon.ErrGaveUp) {
						gaveUp.Store(true)
					}
				}}
		})
		h.src.fail = func(run int32) error {
			if run%2 == 1 {
				return errors.New("feed dropped")
			}
			panic("decoder bug")
		}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		err := h.eng.Run(ctx)
		require.ErrorIs(t, err, ticker.ErrSourceGaveUp, "Run returns once the source is given up")
		require.Equal(t, int32(4), h.src.runs.Load(), "first run and three restarts")
		require.True(t, gaveUp.Load())
		hl := h.eng.Health()
		require.Equal(t, "stopped", hl.Status)
		require.Contains(t, hl.Reasons, "source gave up")
		h.checkIdentity()
	})
}

func TestEngineSourceRestartedThenStreams(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, instruments(1), nil)
		h.src.fail = func(run int32) error {
			if run == 1 {
				panic("first connection bug")
			}
			return nil
		}
		h.start() // first run panics
		<-h.src.ready
		synctest.Wait()
		require.Equal(t, int32(2), h.src.runs.Load())
		require.Equal(t, "degraded", h.eng.Health().Status)
		h.src.send(tk(1000, 5))
		settle()
		require.Equal(t, uint64(1), h.eng.Stats().Published)
		require.NoError(t, h.finish())
	})
}

func TestEngineRunTwice(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, instruments(1), nil)
		h.start()
		require.ErrorIs(t, h.eng.Run(context.Background()), ticker.ErrEngineRan)
		require.NoError(t, h.finish())
		require.ErrorIs(t, h.eng.Run(context.Background()), ticker.ErrEngineRan)
	})
}

func TestEngineShutdownFlushesPending(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, instruments(3), func(c *ticker.Config) { c.Linger = time.Minute })
		h.start()
		h.src.send(tk(1000, 1))
		h.src.send(tk(1001, 1))
		synctest.Wait()
		require.Equal(t, uint64(2), h.eng.Stats().Pending, "lingering")
		require.NoError(t, h.finish())
		s := h.eng.Stats()
		require.Equal(t, uint64(2), s.Published)
		require.Zero(t, s.Pending)
		require.Equal(t, "stopped", h.eng.Health().Status)
	})
}

func TestEngineShutdownCountsWhatItCannotFlush(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, instruments(3), func(c *ticker.Config) {
			c.ShutdownTimeout = 3 * time.Second
			c.PublishTimeout = time.Hour
		})
		h.start()
		h.pub.hang.Store(true)
		h.src.send(tk(1000, 1))
		settle() // in flight, hung
		h.src.send(tk(1001, 1))
		h.src.send(tk(1002, 1))
		start := time.Now()
		h.stop()
		require.NoError(t, <-h.done)
		require.LessOrEqual(t, time.Since(start), 2*3*time.Second, "bounded by the shutdown timeout")
		s := h.eng.Stats()
		require.Equal(t, uint64(2), s.Dropped.Shutdown)
		require.Equal(t, uint64(1), s.Dropped.PublishFailed, "the hung batch")
		require.Zero(t, s.Pending)
		h.checkIdentity()
	})
}

func TestEngineConcurrentEmitters(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const n, rounds = 300, 200
		h := newHarness(t, instruments(n), nil)
		h.start()
		var wg sync.WaitGroup
		for w := range 3 {
			wg.Go(func() {
				for r := range rounds {
					for i := w; i < n; i += 3 {
						h.src.send(tk(uint32(1000+i), float64(r+1)))
					}
				}
			})
		}
		wg.Wait()
		settle()
		s := h.eng.Stats()
		require.Equal(t, uint64(n*rounds), s.Produced)
		require.Zero(t, s.Pending)
		h.checkIdentity()
		for i := range n {
			got, ok := h.pub.lastOf(uint32(1000 + i))
			require.True(t, ok)
			require.Equal(t, float64(rounds), got.LastPrice)
		}
		require.NoError(t, h.finish())
	})
}

func TestEngineReloadsWhenAContractExpires(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// Expiry is an instant the engine takes as given: any time of day
		// (no exchange's close), here 10 h 17 min from the bubble's start.
		expiry := time.Now().Add(10*time.Hour + 17*time.Minute)
		exp := opt(1000, "NIFTY", 20000)
		exp.Expiry = expiry
		later := opt(1001, "NIFTY", 20000)
		later.Expiry = expiry.AddDate(0, 0, 7)
		list := []ticker.Instrument{exp}
		h := newHarness(t, list, nil)
		var rolledAt time.Time
		h.insts = func(context.Context) ([]ticker.Instrument, error) {
			if time.Now().Before(expiry) {
				return []ticker.Instrument{exp}, nil
			}
			if rolledAt.IsZero() {
				rolledAt = time.Now()
			}
			return []ticker.Instrument{later}, nil
		}
		h.start()
		_, ok := h.eng.Instrument(1000)
		require.True(t, ok)
		time.Sleep(time.Until(expiry) - time.Nanosecond)
		synctest.Wait()
		_, ok = h.eng.Instrument(1000)
		require.True(t, ok, "still subscribed just before its expiry")
		time.Sleep(time.Minute) // past the expiry and the reload's debounce
		synctest.Wait()
		_, ok = h.eng.Instrument(1000)
		require.False(t, ok, "the expired contract was rolled out")
		_, ok = h.eng.Instrument(1001)
		require.True(t, ok)
		// The reload was triggered at the expiry itself: its Instruments
		// call came one debounce (the default 1s) later.
		require.Equal(t, expiry.Add(time.Second), rolledAt)
		require.NoError(t, h.finish())
	})
}

func TestEngineHealthAndMetrics(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, instruments(2), nil)
		require.Equal(t, "stopped", h.eng.Health().Status)
		h.start()
		h.src.send(tk(1000, 1))
		h.src.send(tk(1000, math.Inf(1)))
		settle()
		hl := h.eng.Health()
		require.Equal(t, "ok", hl.Status)
		require.Equal(t, 2, hl.Instruments)
		require.Contains(t, hl.LastTick, "NIFTY")
		b, err := json.Marshal(hl)
		require.NoError(t, err)
		var m map[string]any
		require.NoError(t, json.Unmarshal(b, &m))
		for _, k := range []string{"status", "breaker", "instruments", "stats", "last_tick", "last_reload"} {
			require.Contains(t, m, k)
		}
		stats := m["stats"].(map[string]any)
		require.Equal(t, 1.0, stats["published"])
		require.Contains(t, stats["dropped"], "circuit_open")

		require.Equal(t, 2.0, metric(t, h.reg, "steadfast_ticker_ticks_produced_total", nil))
		require.Equal(t, 1.0, metric(t, h.reg, "steadfast_ticker_ticks_total", metrictest.Labels{"result": "published"}))
		require.Equal(t, 1.0, metric(t, h.reg, "steadfast_ticker_ticks_total", metrictest.Labels{"result": "invalid"}))
		require.Equal(t, 1.0, metric(t, h.reg, "redis_publish_total", nil))
		require.Equal(t, 0.0, metric(t, h.reg, "redis_circuit_state", nil))
		require.NoError(t, h.finish())
	})
}

func TestEnginePublisherFuncAndPanickingPublisher(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var calls atomic.Int32
		h := newHarness(t, instruments(1), func(c *ticker.Config) {
			c.Publisher = ticker.PublisherFunc(func(ctx context.Context, ticks []ticker.Tick) error {
				if calls.Add(1) == 1 {
					panic("serializer bug")
				}
				return nil
			})
		})
		h.start()
		h.src.send(tk(1000, 1))
		settle()
		s := h.eng.Stats()
		require.Equal(t, uint64(1), s.Dropped.PublishFailed, "a panicking publisher is a failed publish")
		time.Sleep(2 * time.Second)
		settle()
		require.Equal(t, uint64(1), h.eng.Stats().CatchUp, "and its tick is caught up")
		require.NoError(t, h.finish())
	})
}

func TestEngineSameNameOnOneRegistryIsRefused(t *testing.T) {
	reg := prometheus.NewRegistry()
	cfg := ticker.Config{
		Source: newFakeSource(), Publisher: newRecorder(),
		Instruments: func(context.Context) ([]ticker.Instrument, error) { return nil, nil },
		Name:        "feed", Logger: quiet, Registerer: reg,
	}
	_, err := ticker.New(cfg)
	require.NoError(t, err)
	_, err = ticker.New(cfg)
	require.ErrorContains(t, err, `"feed/publisher"`)
	cfg.Name = "feed2"
	_, err = ticker.New(cfg)
	require.NoError(t, err, "another name shares the registry")
}

// TestEngineRefusedNewTakesBackItsMetrics: when a part of the engine cannot
// register (a user's reloader already has the name), New registers nothing,
// so the corrected Config succeeds on the same registry.
func TestEngineRefusedNewTakesBackItsMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	_, err := reloader.New(func(context.Context) error { return nil },
		reloader.Config{Name: "feed/subscriptions", Registerer: reg, Logger: quiet})
	require.NoError(t, err)
	cfg := ticker.Config{
		Source: newFakeSource(), Publisher: newRecorder(),
		Instruments: func(context.Context) ([]ticker.Instrument, error) { return nil, nil },
		Name:        "feed", Logger: quiet, Registerer: reg,
	}
	_, err = ticker.New(cfg)
	require.ErrorContains(t, err, "Config.Reload")
	cfg.Reload.Name = "feed/subs"
	_, err = ticker.New(cfg)
	require.NoError(t, err, "the refused New left nothing registered")
}

// TestEngineCatchUpIsNotStarvedByOtherTicks: an instrument dropped once and
// never ticking again is caught up even while another one ticks faster
// than the publisher publishes.
func TestEngineCatchUpIsNotStarvedByOtherTicks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		slow := ticker.PublisherFunc(func(ctx context.Context, ticks []ticker.Tick) error {
			time.Sleep(time.Millisecond)
			return nil
		})
		var fail atomic.Bool
		h := newHarness(t, instruments(2), func(c *ticker.Config) {
			c.Publisher = ticker.PublisherFunc(func(ctx context.Context, ticks []ticker.Tick) error {
				if fail.Load() {
					return errors.New("down")
				}
				return slow(ctx, ticks)
			})
			c.Breaker = breaker.Config{FailureThreshold: 100}
		})
		h.start()
		fail.Store(true)
		h.src.send(tk(1001, 1))
		settle()
		require.Equal(t, uint64(1), h.eng.Stats().Dropped.PublishFailed)
		fail.Store(false)
		for i := range 5000 { // 1000 ticks every 0.5ms for 2.5s
			h.src.send(tk(1000, float64(i+1)))
			time.Sleep(500 * time.Microsecond)
		}
		require.Equal(t, uint64(1), h.eng.Stats().CatchUp)
		require.NoError(t, h.finish())
	})
}

func TestEngineEmitDoesNotAllocate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, instruments(100), func(c *ticker.Config) { c.Linger = time.Hour })
		h.start()
		i := 0
		allocs := testing.AllocsPerRun(1000, func() {
			h.src.send(tk(uint32(1000+i%100), float64(i+1)))
			i++
		})
		require.Zero(t, allocs)
		require.NoError(t, h.finish())
	})
}

// TestEngineLatestIsNeverTorn reads Latest while three emitters write: every
// tick read is one that was emitted whole (its fields agree), and the race
// detector sees no unsynchronized access.
func TestEngineLatestIsNeverTorn(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const n, rounds = 8, 3000
		h := newHarness(t, instruments(n), nil)
		h.start()
		var wg sync.WaitGroup
		for w := range 3 {
			wg.Go(func() {
				for r := range rounds {
					v := float64(w*rounds + r + 1)
					tok := uint32(1000 + r%n)
					h.src.send(ticker.Tick{Token: tok, LastPrice: v, Bid: v - 1, Ask: v + 1, Volume: uint64(v), OpenInterest: uint64(tok)})
				}
			})
		}
		for range 2 {
			wg.Go(func() {
				for r := range rounds {
					tok := uint32(1000 + r%n)
					got, ok := h.eng.Latest(tok)
					if !ok {
						continue
					}
					if got.Token != tok || got.Bid != got.LastPrice-1 || got.Ask != got.LastPrice+1 ||
						got.Volume != uint64(got.LastPrice) || got.OpenInterest != uint64(tok) {
						t.Errorf("torn tick: %+v", got)
						return
					}
				}
			})
		}
		wg.Wait()
		require.NoError(t, h.finish())
	})
}

// TestEngineResendsARefusedSubscription: a Subscribe that fails is sent again
// by the next reload (the reloader's retry), and Health says so meanwhile.
func TestEngineResendsARefusedSubscription(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		list := instruments(2)
		h := newHarness(t, list, func(c *ticker.Config) {
			c.Reload = reloader.Config{Debounce: time.Second, MinInterval: time.Second, RetryBackoff: time.Second, MaxRetryBackoff: time.Second}
		})
		h.start()
		next := append(slices.Clone(list), opt(2000, "NIFTY", 30000))
		h.list.Store(&next)
		h.src.mu.Lock()
		h.src.subFail = 1
		h.src.mu.Unlock()
		h.eng.Reload()
		time.Sleep(1500 * time.Millisecond)
		synctest.Wait()
		hl := h.eng.Health()
		require.Equal(t, "degraded", hl.Status)
		require.Contains(t, hl.ReloadError, "sent again")
		h.src.mu.Lock()
		_, ok := h.src.subs[2000]
		h.src.mu.Unlock()
		require.False(t, ok)
		time.Sleep(5 * time.Second) // the reloader's retry
		synctest.Wait()
		h.src.mu.Lock()
		_, ok = h.src.subs[2000]
		n := len(h.src.diffs)
		h.src.mu.Unlock()
		require.True(t, ok, "the refused part was sent again")
		require.Equal(t, 2, n, "the first load and the retry (the refused call is not recorded)")
		require.Equal(t, "ok", h.eng.Health().Status)
		require.NoError(t, h.finish())
	})
}

// TestEngineLingersAtMostUntilTheBatchIsFull: a batch that fills during the
// linger goes within a quarter of Linger, not after all of it.
func TestEngineLingersAtMostUntilTheBatchIsFull(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, instruments(4), func(c *ticker.Config) { c.Linger = time.Second; c.BatchSize = 4 })
		h.start()
		for i := range 4 {
			h.src.send(tk(uint32(1000+i), 1))
		}
		time.Sleep(300 * time.Millisecond)
		synctest.Wait()
		require.Equal(t, uint64(4), h.eng.Stats().Published)
		require.NoError(t, h.finish())
	})
}

// TestEngineMetricsAddUp: steadfast_ticker_ticks_produced_total equals the
// sum of steadfast_ticker_ticks_total over result plus the pending gauge,
// and catch-ups have a counter of their own, outside that sum.
func TestEngineMetricsAddUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, instruments(3), func(c *ticker.Config) {
			c.Breaker = breaker.Config{FailureThreshold: 100}
		})
		h.start()
		h.pub.failing.Store(true)
		h.src.send(tk(1000, 1)) // publish_failed, then caught up
		settle()
		h.pub.failing.Store(false)
		h.src.send(tk(1001, 1))
		h.src.send(tk(1001, 2)) // conflated
		h.src.send(tk(1002, math.NaN()))
		h.src.send(tk(4242, 1)) // unsubscribed
		settle()
		time.Sleep(2 * time.Second)
		settle()
		mfs, err := h.reg.Gather()
		require.NoError(t, err)
		results := map[string]float64{}
		for _, mf := range mfs {
			if mf.GetName() != "steadfast_ticker_ticks_total" {
				continue
			}
			for _, m := range mf.GetMetric() {
				for _, lp := range m.GetLabel() {
					if lp.GetName() == "result" {
						results[lp.GetValue()] = m.GetCounter().GetValue()
					}
				}
			}
		}
		require.NotContains(t, results, "produced")
		require.NotContains(t, results, "catch_up")
		sum := 0.0
		for _, v := range results {
			sum += v
		}
		produced := metric(t, h.reg, "steadfast_ticker_ticks_produced_total", nil)
		pending := metric(t, h.reg, "steadfast_ticker_pending", nil)
		require.Equal(t, 5.0, produced)
		require.Equal(t, produced, sum+pending, "%v", results)
		require.Equal(t, 1.0, results["publish_failed"])
		require.Equal(t, 1.0, results["conflated"])
		require.Equal(t, 1.0, metric(t, h.reg, "steadfast_ticker_catch_up_total", nil))
		require.NoError(t, h.finish())
	})
}

// goexitSource is a fakeSource whose Subscribe calls runtime.Goexit once
// armed.
type goexitSource struct {
	*fakeSource
	armed atomic.Bool
}

func (g *goexitSource) Subscribe(add, remove []ticker.Instrument) error {
	if g.armed.Load() {
		runtime.Goexit()
	}
	return g.fakeSource.Subscribe(add, remove)
}

// TestEngineSubscribeGoexitKeepsTheSubscriptions: a Subscribe that calls
// runtime.Goexit fails the reload, like a panic: the table stays as the
// Source last accepted it, and Health says the reload failed.
func TestEngineSubscribeGoexitKeepsTheSubscriptions(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		list := instruments(2)
		var src *goexitSource
		h := newHarness(t, list, func(c *ticker.Config) {
			src = &goexitSource{fakeSource: c.Source.(*fakeSource)}
			c.Source = src
			c.Reload = reloader.Config{Debounce: -1, MinInterval: -1, RetryBackoff: time.Hour}
		})
		h.start()
		next := append(slices.Clone(list), opt(2000, "NIFTY", 30000))
		h.list.Store(&next)
		src.armed.Store(true)
		h.eng.Reload()
		synctest.Wait()
		require.Len(t, h.eng.Instruments(), 2, "the table is what the Source accepted")
		_, ok := h.eng.Instrument(2000)
		require.False(t, ok)
		hl := h.eng.Health()
		require.Equal(t, "degraded", hl.Status)
		require.Contains(t, hl.ReloadError, "Goexit")
		h.src.send(tk(2000, 1))
		settle()
		require.Equal(t, uint64(1), h.eng.Stats().Dropped.Unsubscribed)
		require.NoError(t, h.finish())
	})
}

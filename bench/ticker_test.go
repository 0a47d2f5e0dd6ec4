package bench

import (
	"testing"
	"time"

	"github.com/steadfast-go/steadfast/ticker"
	"github.com/steadfast-go/steadfast/ticker/bs"
	"github.com/steadfast-go/steadfast/ticker/market"
	"github.com/steadfast-go/steadfast/ticker/mock"
)

// chainStart is 09:15 IST on Monday 7 December 2026, the session's open; the
// chain's nearest expiry is the next day's close. The benchmark steps 100 ms
// of simulated time per op, so it stays in Monday's session (the mock is
// silent outside it) for 225,000 ops.
var chainStart = time.Date(2026, 12, 7, 9, 15, 0, 0, market.IST())

// chain1000 lists the NIFTY index and 1,000 options: 4 expiries × 125
// strikes × call and put.
func chain1000(tb testing.TB) []ticker.Instrument {
	tb.Helper()
	ins, err := market.Universe(market.UniverseConfig{
		Seed: 1, Date: chainStart, Underlyings: []market.UnderlyingSpec{market.NIFTY()},
		Expiries: 4, StrikesPerSide: 62, Futures: -1,
	})
	if err != nil {
		tb.Fatal(err)
	}
	if len(ins) != 1001 {
		tb.Fatalf("chain has %d instruments, want 1001", len(ins))
	}
	return ins
}

func newChainMock(tb testing.TB) *mock.Source {
	tb.Helper()
	m, err := mock.New(mock.Config{
		Seed: 1, Now: func() time.Time { return chainStart },
		Underlyings: []market.UnderlyingSpec{market.NIFTY()},
	})
	if err != nil {
		tb.Fatal(err)
	}
	if err := m.Subscribe(chain1000(tb), nil); err != nil {
		tb.Fatal(err)
	}
	return m
}

// TestMockChain keeps the benchmark honest: one Step emits one tick per
// instrument.
func TestMockChain(t *testing.T) {
	m := newChainMock(t)
	n := 0
	m.Step(chainStart, func(ticker.Tick) { n++ })
	if n != 1001 {
		t.Fatalf("Step emitted %d ticks, want 1001", n)
	}
}

// BenchmarkMockChainStep measures the mock source generating ticks for a
// 1,000-option chain (plus its index): each op is one Step, 100 ms of
// simulated session time later than the previous, producing 1,001 priced, validated ticks
// and publishing each one's snapshot in the mockstate store.
func BenchmarkMockChainStep(b *testing.B) {
	m := newChainMock(b)
	var sink float64
	emit := func(t ticker.Tick) { sink += t.LastPrice }
	now := chainStart
	m.Step(now, emit) // warm up: first snapshots and pooled buffers
	b.ReportAllocs()
	start := time.Now()
	for b.Loop() {
		now = now.Add(100 * time.Millisecond)
		m.Step(now, emit)
	}
	elapsed := time.Since(start)
	ticks := float64(b.N) * 1001
	b.ReportMetric(ticks/elapsed.Seconds(), "ticks/s")
	b.ReportMetric(float64(elapsed.Nanoseconds())/ticks, "ns/tick")
	_ = sink
}

// BenchmarkChainPricingOnly is the floor under BenchmarkMockChainStep: the
// Black–Scholes price and Greeks at the smile volatility for the same
// 1,000 options, with no state, quoting, validation or delivery.
func BenchmarkChainPricingOnly(b *testing.B) {
	ins := chain1000(b)[1:]
	smile := bs.DefaultSmile(market.NIFTY().Volatility)
	var sink float64
	b.ReportAllocs()
	start := time.Now()
	for b.Loop() {
		var term bs.Term
		var atm, years float64
		var expiry time.Time
		for i := range ins {
			in := &ins[i]
			if !in.Expiry.Equal(expiry) { // once per expiry, as the mock does
				expiry = in.Expiry
				years = float64(expiry.Sub(chainStart)) / float64(365*24*time.Hour)
				term = bs.NewTerm(24000, years, 0.065, 0.012)
				atm = smile.ATMVol(years)
			}
			k := bs.Call
			if in.Kind == ticker.KindPut {
				k = bs.Put
			}
			vol := smile.VolAround(atm, term.Forward(), in.Strike, years)
			sink += term.Compute(k, in.Strike, vol).Price
		}
	}
	elapsed := time.Since(start)
	ticks := float64(b.N) * float64(len(ins))
	b.ReportMetric(ticks/elapsed.Seconds(), "ticks/s")
	b.ReportMetric(float64(elapsed.Nanoseconds())/ticks, "ns/tick")
	_ = sink
}

package redispub_test

import (
	"context"
	"fmt"
	"runtime"
	"testing"

	"github.com/steadfast-go/steadfast/internal/redistest"
	"github.com/steadfast-go/steadfast/ticker"
	"github.com/steadfast-go/steadfast/ticker/redispub"
)

// benchBatch returns 256 option ticks: 64 strikes of calls and puts on two
// underlyings, as the engine would hand over.
func benchBatch() []ticker.Tick {
	var ticks []ticker.Tick
	for _, u := range []string{"NIFTY", "BANKNIFTY"} {
		for i := range 64 {
			for _, k := range []ticker.Kind{ticker.KindCall, ticker.KindPut} {
				strike := 22000 + 50*float64(i)
				in := &ticker.Instrument{
					Token: uint32(len(ticks) + 1000), Symbol: fmt.Sprintf("%s25D30%.0f%s", u, strike, map[ticker.Kind]string{ticker.KindCall: "CE", ticker.KindPut: "PE"}[k]),
					Exchange: "NFO", Underlying: u, Kind: k, Strike: strike, Expiry: expiry,
				}
				tk := tickOf(in, i)
				tk.LastPrice, tk.Delta, tk.Gamma = 123.45+float64(i)*0.05, 0.4321, 0.000123
				ticks = append(ticks, tk)
			}
		}
	}
	return ticks
}

// The encoder alone: one option tick per op; 0 allocs is the goal.
// "rounded" has the documentation's sample tick, whose analytics have few
// decimals; "computed" has analytics at full float64 precision, as a
// pricing model gives them.
func BenchmarkAppendPayload(b *testing.B) {
	computed := optionTick()
	computed.IV, computed.Delta, computed.Gamma = 0.14321987654321, 0.5213456789012345, 0.000412345678901
	computed.Theta, computed.Vega, computed.Change = -12.871234567891, 8.931234567891, -3.4212345678
	for _, bc := range []struct {
		name string
		tick ticker.Tick
	}{{"rounded", optionTick()}, {"computed", computed}} {
		b.Run(bc.name, func(b *testing.B) {
			buf := redispub.AppendPayload(nil, &bc.tick)
			b.SetBytes(int64(len(buf)))
			b.ReportAllocs()
			for b.Loop() {
				buf = redispub.AppendPayload(buf[:0], &bc.tick)
			}
		})
	}
}

// Publish of batches of 256 ticks into the local Redis, with no
// subscribers. Reports ticks/s and allocations per tick (allocs/op counts
// per batch).
func BenchmarkPublish256(b *testing.B) {
	addr := redistest.Addr(b)
	ticks := benchBatch()
	for _, bc := range []struct {
		name string
		cfg  redispub.Config
	}{
		{"publish", redispub.Config{}},
		{"publish+latest", redispub.Config{LatestKey: "latest"}},
		{"spublish", redispub.Config{Sharded: true}},
		{"stream", redispub.Config{Stream: true, StreamMaxLen: 1000}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			c := newClient(b, addr)
			pre := prefix(b)
			bc.cfg.Prefix = pre
			if bc.cfg.LatestKey != "" {
				bc.cfg.LatestKey = pre + bc.cfg.LatestKey
			}
			p := newPublisher(b, c, bc.cfg)
			b.Cleanup(func() {
				c.Del(context.Background(), pre+"latest", pre+"NIFTY", pre+"BANKNIFTY")
			})
			ctx := context.Background()
			if err := p.Publish(ctx, ticks); err != nil { // warm the pool and caches
				b.Fatal(err)
			}
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if err := p.Publish(ctx, ticks); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			runtime.ReadMemStats(&after)
			n := float64(b.N) * float64(len(ticks))
			b.ReportMetric(n/b.Elapsed().Seconds(), "ticks/s")
			b.ReportMetric(float64(after.Mallocs-before.Mallocs)/n, "allocs/tick")
		})
	}
}

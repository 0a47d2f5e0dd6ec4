package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/steadfast-go/steadfast/ticker"
	"github.com/steadfast-go/steadfast/ticker/market"
)

// rateWindow is how far back the ticks/s figure looks. The mock ticks in
// rounds (every -interval), so a one-second count takes three, four or five
// rounds by chance and jumps around a steady rate; over five seconds the
// figure is within a round's share of the truth.
const rateWindow = 5 * time.Second

// rate is the ticks/s figure: the ticks produced over the last rateWindow of
// wall time, divided by that time.
type rate struct {
	samples []rateSample // oldest first, spanning at most rateWindow
}

type rateSample struct {
	at       time.Time
	produced uint64
}

// add records the count produced at at and returns the rate since the
// oldest sample within rateWindow (0 until there are two samples).
func (r *rate) add(at time.Time, produced uint64) float64 {
	r.samples = append(r.samples, rateSample{at, produced})
	for len(r.samples) > 2 && at.Sub(r.samples[1].at) >= rateWindow {
		r.samples = r.samples[1:]
	}
	first := r.samples[0]
	d := at.Sub(first.at).Seconds()
	if d <= 0 {
		return 0
	}
	return float64(produced-first.produced) / d
}

// report prints the accounting line every second and the chain view every
// -view until ctx ends. It also asks the engine to reload every minute of
// simulated time, so the chains follow the spot and roll at expiry.
func report(ctx context.Context, out io.Writer, eng *ticker.Engine, clock func() time.Time, c config) {
	sec := time.NewTicker(time.Second)
	defer sec.Stop()
	var r rate
	r.add(time.Now(), eng.Stats().Produced)
	lastView := time.Now()
	lastReload := clock()
	for {
		select {
		case <-ctx.Done():
			return
		case <-sec.C:
		}
		s := eng.Stats()
		perSec := r.add(time.Now(), s.Produced)
		fmt.Fprintln(out, statusLine(clock(), time.Now(), perSec, s, eng.Health()))
		if now := clock(); now.Sub(lastReload) >= time.Minute {
			lastReload = now
			eng.Reload()
		}
		if c.view > 0 && time.Since(lastView) >= c.view {
			lastView = time.Now()
			printView(out, eng, clock(), c.specs)
		}
	}
}

// statusLine is one line of accounting: the simulated time, the ticks a
// second, the counts, the breaker's state, the engine's status, and while
// the breaker is open, when it lets the next probe through (wall is the
// wall-clock time now).
func statusLine(now, wall time.Time, perSec float64, s ticker.Stats, h ticker.Health) string {
	line := fmt.Sprintf("%s  ticks/s %6.0f  published %9d  conflated %8d  dropped %6d  breaker %-9s  pending %5d  %s",
		now.In(market.IST()).Format("15:04:05 IST"), perSec, s.Published, s.Conflated,
		s.Dropped.Total(), h.Breaker, s.Pending, h.Status)
	if !h.NextProbe.IsZero() {
		line += fmt.Sprintf("  next probe in %.1fs", max(0, h.NextProbe.Sub(wall).Seconds()))
	}
	return line
}

// printView prints, per underlying, the at-the-money strike of the nearest
// expiry with its call and put.
func printView(out io.Writer, eng *ticker.Engine, now time.Time, specs []market.UnderlyingSpec) {
	ins := eng.Instruments()
	for _, sp := range specs {
		spot, ok := indexLevel(eng, ins, sp.Name)
		if !ok {
			continue
		}
		chain := market.SelectChain(ins, sp.Name, spot, now, 1, 0)
		if len(chain) == 0 {
			continue
		}
		var call, put ticker.Tick
		for _, in := range chain {
			t, ok := eng.Latest(in.Token)
			if !ok {
				continue
			}
			if in.Kind == ticker.KindCall {
				call = t
			} else {
				put = t
			}
		}
		fmt.Fprintf(out, "  %-10s spot %9.2f  expiry %s  ATM %7.0f  call %8.2f (IV %5.1f%%, Δ %+.2f)  put %8.2f (IV %5.1f%%, Δ %+.2f)\n",
			sp.Name, spot, chain[0].Expiry.Format("02 Jan"), chain[0].Strike,
			call.LastPrice, call.IV*100, call.Delta, put.LastPrice, put.IV*100, put.Delta)
	}
}

// indexLevel returns the latest level of an underlying's index.
func indexLevel(eng *ticker.Engine, ins []ticker.Instrument, underlying string) (float64, bool) {
	for _, in := range ins {
		if in.Kind == ticker.KindIndex && in.Underlying == underlying {
			t, ok := eng.Latest(in.Token)
			return t.LastPrice, ok && t.LastPrice > 0
		}
	}
	return 0, false
}

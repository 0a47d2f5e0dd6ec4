package main

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/steadfast-go/steadfast/ticker"
)

// A steady 704 ticks a second, produced in rounds of 176 every 250 ms, read
// once a second with up to 30 ms of jitter either way: a one-second count
// showed 528 or 880 where the rounds fell on the edges; the figure stays
// within a round's share of the truth over the window.
func TestRateIsSteady(t *testing.T) {
	start := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	produced := func(at time.Time) uint64 { // rounds at 0, 250 ms, 500 ms, ...
		return uint64(at.Sub(start)/(250*time.Millisecond)+1) * 176
	}
	var r rate
	r.add(start, produced(start))
	for i := 1; i <= 60; i++ {
		jitter := time.Duration((i%3)-1) * 30 * time.Millisecond // -30, 0, +30 ms
		at := start.Add(time.Duration(i)*time.Second + jitter)
		got := r.add(at, produced(at))
		if i >= 5 && math.Abs(got-704) > 704/10 {
			t.Errorf("second %d: %.0f ticks/s, want 704 within 10%%", i, got)
		}
		if len(r.samples) > 7 {
			t.Fatalf("second %d: %d samples kept", i, len(r.samples))
		}
	}
}

// While the breaker is open, the status line says when the next probe is
// due; otherwise it says nothing of probes.
func TestStatusLineShowsTheNextProbe(t *testing.T) {
	wall := time.Date(2026, 12, 2, 4, 30, 0, 0, time.UTC)
	open := ticker.Health{Status: "degraded", Breaker: "open", NextProbe: wall.Add(2500 * time.Millisecond)}
	if got := statusLine(wall, wall, 704, ticker.Stats{}, open); !strings.HasSuffix(got, "breaker open       pending     0  degraded  next probe in 2.5s") {
		t.Errorf("open: %q", got)
	}
	closed := ticker.Health{Status: "ok", Breaker: "closed"}
	if got := statusLine(wall, wall, 704, ticker.Stats{}, closed); strings.Contains(got, "probe") || !strings.HasSuffix(got, "  ok") {
		t.Errorf("closed: %q", got)
	}
}

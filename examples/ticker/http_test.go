package main

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/steadfast-go/steadfast/breaker"
	"github.com/steadfast-go/steadfast/ticker"
	"github.com/steadfast-go/steadfast/ticker/market"
	"github.com/steadfast-go/steadfast/ticker/mock"
)

// get returns the status code and the status in the JSON body of path.
func get(t *testing.T, mux http.Handler, path string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	var h ticker.Health
	if err := json.Unmarshal(rec.Body.Bytes(), &h); err != nil {
		t.Fatalf("%s: body %q: %v", path, rec.Body.String(), err)
	}
	return rec.Code, h.Status
}

// /healthz is 200 only when ok, 503 when degraded or stopped; /livez is 200
// unless stopped.
func TestHealthCodes(t *testing.T) {
	for _, c := range []struct {
		status         string
		healthz, livez int
	}{
		{"ok", 200, 200},
		{"degraded", 503, 200},
		{"stopped", 503, 503},
	} {
		mux := newMux(http.NotFoundHandler(), func() ticker.Health { return ticker.Health{Status: c.status} }, prometheus.NewRegistry(), slog.New(slog.DiscardHandler))
		if code, _ := get(t, mux, "/healthz"); code != c.healthz {
			t.Errorf("%s: /healthz %d, want %d", c.status, code, c.healthz)
		}
		if code, _ := get(t, mux, "/livez"); code != c.livez {
			t.Errorf("%s: /livez %d, want %d", c.status, code, c.livez)
		}
	}
}

// The same through a real engine: stopped before Run, ok while it publishes,
// degraded (503 and 200) once its publisher fails and the breaker opens,
// stopped after Run returns.
func TestHealthCodesOfAnEngine(t *testing.T) {
	day := time.Date(2026, 12, 2, 10, 0, 0, 0, market.IST())
	ins, err := market.Universe(market.UniverseConfig{Date: day, Expiries: 1, StrikesPerSide: 2})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	src, err := mock.New(mock.Config{Now: func() time.Time { return day.Add(time.Since(start)) }, Interval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	fail := make(chan struct{})
	eng, err := ticker.New(ticker.Config{
		Source: src,
		Publisher: ticker.PublisherFunc(func(ctx context.Context, _ []ticker.Tick) error {
			select {
			case <-fail:
				return errors.New("redis: connection refused")
			default:
				return nil
			}
		}),
		Instruments: func(context.Context) ([]ticker.Instrument, error) { return ins, nil },
		Breaker:     breaker.Config{FailureThreshold: 1, OpenTimeout: time.Hour},
	})
	if err != nil {
		t.Fatal(err)
	}
	mux := newMux(http.NotFoundHandler(), eng.Health, prometheus.NewRegistry(), slog.New(slog.DiscardHandler))
	codes := func() [2]int {
		hz, _ := get(t, mux, "/healthz")
		lz, _ := get(t, mux, "/livez")
		return [2]int{hz, lz}
	}
	// wait polls for the engine's status with a deadline far above the
	// milliseconds it takes.
	wait := func(status string) {
		t.Helper()
		for deadline := time.Now().Add(time.Minute); eng.Health().Status != status; time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("status %q after a minute, want %q: %+v", eng.Health().Status, status, eng.Health())
			}
		}
	}
	if got := codes(); got != [2]int{503, 503} {
		t.Errorf("before Run: %v, want [503 503]", got)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- eng.Run(ctx) }()
	defer func() { cancel(); <-done }()
	wait("ok")
	for eng.Stats().Published == 0 {
		time.Sleep(10 * time.Millisecond)
	}
	if got := codes(); got != [2]int{200, 200} {
		t.Errorf("ok: %v, want [200 200]", got)
	}
	close(fail)
	wait("degraded")
	if got := codes(); got != [2]int{503, 200} {
		t.Errorf("degraded: %v, want [503 200]", got)
	}
	// The body says when the open breaker lets the next probe through.
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/healthz", nil))
	var h ticker.Health
	if err := json.Unmarshal(rec.Body.Bytes(), &h); err != nil || h.Breaker != "open" ||
		time.Until(h.NextProbe) < 50*time.Minute || time.Until(h.NextProbe) > time.Hour {
		t.Errorf("degraded: breaker %q, next probe %v (in %v), want open and within the hour: %v",
			h.Breaker, h.NextProbe, time.Until(h.NextProbe), err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	done <- nil
	if got := codes(); got != [2]int{503, 503} {
		t.Errorf("after Run: %v, want [503 503]", got)
	}
}

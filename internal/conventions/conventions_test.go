package conventions_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/steadfast-go/steadfast/breaker"
	"github.com/steadfast-go/steadfast/internal/logs"
	"github.com/steadfast-go/steadfast/internal/logtest"
	"go.uber.org/goleak"

	"github.com/steadfast-go/steadfast/internal/redistest"
	"github.com/steadfast-go/steadfast/mockstate"
	"github.com/steadfast-go/steadfast/reloader"
	"github.com/steadfast-go/steadfast/taskmon"
	"github.com/steadfast-go/steadfast/ticker"
	"github.com/steadfast-go/steadfast/ticker/market"
	"github.com/steadfast-go/steadfast/ticker/mock"
	"github.com/steadfast-go/steadfast/ticker/redispub"
)

// TestMain keeps go-redis's log lines out of a passing run's output (the
// redispub check dials a closed port) and checks for leaked goroutines.
func TestMain(m *testing.M) { goleak.VerifyTestMain(redistest.Logged(m)) }

var errDown = errors.New("dependency down")

// TestOneVoice registers one of each primitive, the mock source and the
// engine on one registry and one slog handler, drives each through a
// failure and a cancellation, and checks what they all wrote.
func TestOneVoice(t *testing.T) {
	reg := prometheus.NewRegistry()
	var buf logtest.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	synctest.Test(t, func(t *testing.T) {
		// breaker: a canceled call is ignored; a panic in the call is a
		// failure (recovered, counted, re-panicked) and opens it; the next
		// call is rejected.
		b, err := breaker.New(breaker.Config{Name: "b1", FailureThreshold: 1, Registerer: reg, Logger: log})
		must(t, err)
		_ = b.Do(context.Background(), func(context.Context) error { return context.Canceled })
		func() {
			defer func() {
				if recover() == nil {
					t.Error("breaker.Do swallowed the call's panic")
				}
			}()
			_ = b.Do(context.Background(), func(context.Context) error { panic("in the call") })
		}()
		if err := b.Do(context.Background(), func(context.Context) error { return errDown }); !breaker.IsRejected(err) {
			t.Errorf("breaker.Do after a panicking call: %v, want a rejection", err)
		}

		// taskmon: a failing, a panicking and a canceled task.
		m := taskmon.New(taskmon.Config{Name: "m1", Registerer: reg, Logger: log})
		m.Go(context.Background(), "fails", func(context.Context) error { return errDown })
		m.Go(context.Background(), "panics", func(context.Context) error { panic("in the task") })
		ctx, cancel := context.WithCancel(context.Background())
		m.Go(ctx, "canceled", func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() })
		cancel()
		m.Wait()

		// reloader: a failed and a panicking load; a reload canceled by the
		// end of Run, which returns nil.
		var mode int
		r, err := reloader.New(func(ctx context.Context) error {
			switch mode {
			case 0:
				return errDown
			case 1:
				panic("in the reload")
			}
			<-ctx.Done()
			return ctx.Err()
		}, reloader.Config{Name: "r1", Registerer: reg, Logger: log})
		must(t, err)
		_ = r.Load(context.Background())
		mode = 1
		_ = r.Load(context.Background())
		mode = 2
		rctx, rcancel := context.WithCancel(context.Background())
		runErr := make(chan error, 1)
		go func() { runErr <- r.Run(rctx) }()
		r.Trigger()
		time.Sleep(10 * time.Second)
		rcancel()
		if err := <-runErr; err != nil {
			t.Errorf("reloader.Run at the end of its context: %v, want nil", err)
		}

		// mockstate: a panicking update; Run returns nil at its end.
		type snap struct{ v int }
		s, err := mockstate.New(func(b *snap) *snap { c := *b; return &c },
			mockstate.Config[string, snap]{Name: "s1", Registerer: reg, Logger: log})
		must(t, err)
		s.LoadOrInit("k", func(*snap) {})
		_, _ = s.Update("k", func(*snap) error { panic("in the update") })
		if _, err := s.Update("missing", func(*snap) error { return nil }); err == nil || !strings.Contains(err.Error(), "missing") {
			t.Errorf("Update of a missing key: %v, want an error naming the key", err)
		}
		sctx, scancel := context.WithCancel(context.Background())
		scancel()
		if err := s.Run(sctx); err != nil {
			t.Errorf("mockstate.Run at the end of its context: %v, want nil", err)
		}

		// The engine over the mock source, with a failing publisher; Run
		// returns nil at the end of its context.
		open := time.Date(2026, 12, 1, 10, 0, 0, 0, market.IST())
		t0 := time.Now()
		now := func() time.Time { return open.Add(time.Since(t0)) }
		src, err := mock.New(mock.Config{Name: "mock1", Now: now, Registerer: reg, Logger: log})
		must(t, err)
		ins, err := market.Universe(market.UniverseConfig{Date: now(), Expiries: 1, StrikesPerSide: 2})
		must(t, err)
		eng, err := ticker.New(ticker.Config{
			Name: "e1", Source: src, Registerer: reg, Logger: log,
			Publisher:   ticker.PublisherFunc(func(context.Context, []ticker.Tick) error { return errDown }),
			Instruments: func(context.Context) ([]ticker.Instrument, error) { return ins, nil },
			Breaker:     breaker.Config{FailureThreshold: 2},
		})
		must(t, err)
		ectx, ecancel := context.WithCancel(context.Background())
		engErr := make(chan error, 1)
		go func() { engErr <- eng.Run(ectx) }()
		time.Sleep(5 * time.Second)
		ecancel()
		if err := <-engErr; err != nil {
			t.Errorf("Engine.Run at the end of its context: %v, want nil", err)
		}

	})

	// redispub, outside the bubble (its client does network I/O): a
	// Publisher whose Channel function panics, with a client for a closed
	// loopback port, so that Publish fails.
	redistest.CaptureLogs(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	addr := ln.Addr().String()
	must(t, ln.Close())
	client := redis.NewClient(&redis.Options{Addr: addr, ContextTimeoutEnabled: true, MaxRetries: -1, DialerRetries: 1})
	defer client.Close()
	pub, err := redispub.New(redispub.Config{
		Client: client, Name: "p1", Registerer: reg, Logger: log,
		Channel: func(*ticker.Tick) string { panic("in the channel function") },
	})
	must(t, err)
	perr := pub.Publish(context.Background(), []ticker.Tick{{Token: 1, LastPrice: 100}})
	var pe *redispub.PublishError
	if !errors.As(perr, &pe) {
		t.Errorf("redispub.Publish to a closed port: %v, want a *PublishError", perr)
	}

	checkMetrics(t, reg)
	checkLogs(t, buf.Bytes())
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// checkMetrics: every series of ours carries the constant label "name";
// outcomes use the key "result", with the values logs.Results lists;
// nothing says "cancelled".
func checkMetrics(t *testing.T, reg *prometheus.Registry) {
	t.Helper()
	mfs, err := reg.Gather()
	must(t, err)
	results := map[string]bool{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			hasName := false
			for _, lp := range m.GetLabel() {
				switch lp.GetName() {
				case "name":
					hasName = true
				case "outcome", "status":
					t.Errorf("%s: label key %q; the outcome's key is \"result\"", mf.GetName(), lp.GetName())
				case "result":
					results[lp.GetValue()] = true
					if !inVocabulary(lp.GetValue()) && mf.GetName() != tickTerms {
						t.Errorf("%s: result=%q, not one of %v", mf.GetName(), lp.GetValue(), logs.Results())
					}
				}
				if strings.Contains(lp.GetValue(), "cancelled") {
					t.Errorf("%s: label value %q; the spelling is \"canceled\"", mf.GetName(), lp.GetValue())
				}
			}
			if !hasName {
				t.Errorf("%s: a series without the constant label \"name\"", mf.GetName())
			}
		}
	}
	for _, want := range []string{"success", "failure", "canceled", "panic", "exited", "ignored", "rejected"} {
		if !results[want] {
			t.Errorf("no series with result=%q; have %v", want, results)
		}
	}
}

// inVocabulary reports whether s is a value of the "result" label and log
// attribute.
func inVocabulary(s string) bool { return slices.Contains(logs.Results(), s) }

// tickTerms names the series whose "result" label is not an outcome of a
// call but the fate of a tick (produced, published, conflated, ...): the
// terms of the engine's tick identity.
const tickTerms = "steadfast_ticker_ticks_total"

// checkLogs: every record names its component and instance with the same
// keys; no message repeats its package's name; no record carries a
// package-specific instance key, an error=<nil> or "cancelled"; every
// record with a panic has its stack.
func checkLogs(t *testing.T, out []byte) {
	t.Helper()
	components := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		var rec map[string]any
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatalf("record %d: %v: %s", n, err, sc.Bytes())
		}
		msg, _ := rec["msg"].(string)
		comp, _ := rec["component"].(string)
		if comp == "" {
			t.Errorf("record without \"component\": %s", sc.Bytes())
			continue
		}
		components[comp] = true
		if _, ok := rec["name"]; !ok {
			t.Errorf("record without \"name\": %s", sc.Bytes())
		}
		for _, k := range []string{"monitor", "reloader", "store", "breaker", "outcome"} {
			if _, ok := rec[k]; ok && k != comp {
				t.Errorf("record with the key %q: %s", k, sc.Bytes())
			}
		}
		if strings.HasPrefix(msg, comp+":") {
			t.Errorf("message repeats its package: %q", msg)
		}
		if e, ok := rec["error"]; ok && (e == nil || e == "<nil>") {
			t.Errorf("record with an empty error: %s", sc.Bytes())
		}
		if e, ok := rec["error"]; ok {
			if _, isString := e.(string); !isString {
				t.Errorf("record whose error is not its message (log it with logs.Err): %s", sc.Bytes())
			}
		}
		if strings.Contains(sc.Text(), "cancelled") {
			t.Errorf("record spells \"cancelled\": %s", sc.Bytes())
		}
		if r, ok := rec["result"].(string); ok && !inVocabulary(r) {
			t.Errorf("record with result=%q, not one of %v: %s", r, logs.Results(), sc.Bytes())
		}
		if _, ok := rec["panic"]; ok {
			if st, _ := rec["stack"].(string); !strings.Contains(st, "goroutine") {
				t.Errorf("panic record without its stack: %s", sc.Bytes())
			}
		}
	}
	for _, want := range []string{"breaker", "taskmon", "reloader", "mockstate", "ticker", "redispub"} {
		if !components[want] {
			t.Errorf("no record from component %q (records: %d)", want, n)
		}
	}
}

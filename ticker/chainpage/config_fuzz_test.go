package chainpage_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/steadfast-go/steadfast/ticker"
	"github.com/steadfast-go/steadfast/ticker/chainpage"
)

type noEngine struct{}

func (noEngine) Instruments() []ticker.Instrument { return chain() }
func (noEngine) Latest(tok uint32) (ticker.Tick, bool) {
	return ticker.Tick{Token: tok, LastPrice: float64(time.Now().Unix()%1000 + 1)}, true
}
func (noEngine) Health() ticker.Health { return ticker.Health{Status: "ok"} }

// FuzzNew checks that any Config is either refused with an error naming
// one of its fields, or makes a Handler whose stream runs: for 20 simulated
// seconds it serves a changing chain in a synctest bubble, with no panic
// and no spinning (a ticker on a tiny period would keep the bubble's clock
// from reaching the end), and ends when its request does. The seed corpus
// is in testdata/fuzz/FuzzNew.
func FuzzNew(f *testing.F) {
	f.Fuzz(func(t *testing.T, withEngine bool, frame, health int64, maxStreams int, write int64, perClient int, age int64) {
		cfg := chainpage.Config{FrameInterval: time.Duration(frame), HealthInterval: time.Duration(health),
			MaxStreams: maxStreams, WriteTimeout: time.Duration(write), MaxStreamsPerClient: perClient,
			MaxStreamAge: time.Duration(age), Logger: slog.New(slog.DiscardHandler)}
		if withEngine {
			cfg.Engine = noEngine{}
		}
		if _, err := chainpage.New(cfg); err != nil {
			for _, field := range []string{"Engine", "FrameInterval", "HealthInterval", "MaxStreams", "WriteTimeout",
				"MaxStreamsPerClient", "MaxStreamAge"} {
				if strings.Contains(err.Error(), "chainpage: Config."+field) {
					return
				}
			}
			t.Fatalf("error names no field: %v", err)
		}
		synctest.Test(t, func(t *testing.T) {
			h, err := chainpage.New(cfg) // in the bubble: its channels are the bubble's
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			w := newMemWriter(ctx)
			done := make(chan struct{})
			go func() {
				defer close(done)
				h.ServeHTTP(w, httptest.NewRequestWithContext(ctx, http.MethodGet, "/events", nil))
			}()
			time.Sleep(20 * time.Second)
			cancel()
			<-done
			if w.code() != http.StatusOK {
				t.Fatalf("status %d", w.code())
			}
			if h.Stats().Open != 0 {
				t.Fatal("a stream outlived its request")
			}
		})
	})
}

package ticker_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/steadfast-go/steadfast/breaker"
	"github.com/steadfast-go/steadfast/reloader"
	"github.com/steadfast-go/steadfast/taskmon"
	"github.com/steadfast-go/steadfast/ticker"
)

// namesField reports whether err names one of fields.
func namesField(err error, fields ...string) bool {
	for _, f := range fields {
		if strings.Contains(err.Error(), f) {
			return true
		}
	}
	return false
}

type nopSource struct{}

func (nopSource) Run(ctx context.Context, _ func(ticker.Tick)) error { <-ctx.Done(); return nil }

func (nopSource) Subscribe(_, _ []ticker.Instrument) error { return nil }

// FuzzNewEngine checks that any engine Config (with its breaker, reloader
// and source-restart parts) is either refused with an error naming one of
// its fields or accepted; never a panic. The seed corpus is in
// testdata/fuzz/FuzzNewEngine.
func FuzzNewEngine(f *testing.F) {
	f.Fuzz(func(t *testing.T, batch int, linger, publish, shutdown int64, threshold int, open, debounce int64, backoff int64, maxRestarts int) {
		_, err := ticker.New(ticker.Config{
			Source:      nopSource{},
			Publisher:   ticker.PublisherFunc(func(context.Context, []ticker.Tick) error { return nil }),
			Instruments: func(context.Context) ([]ticker.Instrument, error) { return nil, nil },
			BatchSize:   batch, Linger: time.Duration(linger), PublishTimeout: time.Duration(publish),
			ShutdownTimeout: time.Duration(shutdown),
			Breaker:         breaker.Config{FailureThreshold: threshold, OpenTimeout: time.Duration(open)},
			Reload:          reloader.Config{Debounce: time.Duration(debounce)},
			SourceRestart:   taskmon.Spec{Backoff: time.Duration(backoff), MaxRestarts: maxRestarts},
			Logger:          slog.New(slog.NewTextHandler(io.Discard, nil)),
		})
		if err != nil && !namesField(err, "BatchSize", "Linger", "PublishTimeout", "ShutdownTimeout",
			"Config.Breaker", "Config.Reload", "Config.SourceRestart") {
			t.Fatalf("error names no field: %v", err)
		}
	})
}

package taskmon_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/steadfast-go/steadfast/taskmon"
)

// FuzzSuperviseSpec checks that Supervise either refuses a Spec with an
// error naming one of its fields or accepts it; never a panic. The task
// runs under a context already canceled, so nothing is started for long.
// The seed corpus is in testdata/fuzz/FuzzSuperviseSpec.
func FuzzSuperviseSpec(f *testing.F) {
	f.Fuzz(func(t *testing.T, restart uint8, backoff, maxBackoff, healthy int64, maxRestarts int, period int64) {
		m := taskmon.New(taskmon.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		defer m.Shutdown(context.Background())
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := m.Supervise(ctx, taskmon.Spec{
			Name: "fuzz", Run: func(context.Context) error { return nil },
			Restart: taskmon.Policy(restart), Backoff: time.Duration(backoff), MaxBackoff: time.Duration(maxBackoff),
			Healthy: time.Duration(healthy), MaxRestarts: maxRestarts, Period: time.Duration(period),
		})
		if err == nil {
			return
		}
		for _, field := range []string{"Restart", "Backoff", "MaxBackoff", "Healthy", "MaxRestarts", "Period"} {
			if strings.Contains(err.Error(), "Spec."+field) {
				return
			}
		}
		t.Fatalf("error names no field: %v", err)
	})
}

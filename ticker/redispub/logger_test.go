package redispub_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/steadfast-go/steadfast/internal/logtest"
	"github.com/steadfast-go/steadfast/ticker/redispub"
)

// go-redis's messages become WARN records of component "go-redis", at most
// ten a second; the first record after a burst says how many were left
// out.
func TestClientLogger(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var buf logtest.Buffer
		l := redispub.Logger(slog.New(slog.NewJSONHandler(&buf, nil)))
		const dial = "redis: connection pool: failed to dial after %d attempts: %v"
		for range 25 {
			l.Printf(context.Background(), dial, 1, "dial tcp 127.0.0.1:1: connect: connection refused")
		}
		recs := logtest.Records(t, buf.Bytes())
		if len(recs) != 10 {
			t.Fatalf("%d records of a burst of 25, want 10", len(recs))
		}
		r := recs[0]
		if r["level"] != "WARN" || r["component"] != "go-redis" ||
			r["msg"] != "connection pool: failed to dial after 1 attempts: dial tcp 127.0.0.1:1: connect: connection refused" {
			t.Errorf("record %v", r)
		}
		if _, ok := r["suppressed"]; ok {
			t.Errorf("first record says suppressed: %v", r)
		}

		time.Sleep(time.Second)
		l.Printf(nil, "%s", strings.Repeat("x", 5000)) // go-redis may pass a nil context
		recs = logtest.Records(t, buf.Bytes())
		if len(recs) != 11 {
			t.Fatalf("%d records after the pause, want 11", len(recs))
		}
		r = recs[10]
		if r["suppressed"] != 15.0 {
			t.Errorf("record after the burst: suppressed %v, want 15", r["suppressed"])
		}
		if msg, _ := r["msg"].(string); len(msg) > 1100 || !strings.HasSuffix(msg, "…") {
			t.Errorf("a 5,000-byte message was written with %d bytes", len(msg))
		}
	})
}

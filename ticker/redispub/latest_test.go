package redispub_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/steadfast-go/steadfast/internal/logtest"
	"github.com/steadfast-go/steadfast/internal/metrictest"
	"github.com/steadfast-go/steadfast/internal/redistest"
	"github.com/steadfast-go/steadfast/ticker"
	"github.com/steadfast-go/steadfast/ticker/redispub"
)

// The latest-value hash is a cache beside the feed: a refused HSET is
// counted, logged once and reported by LatestError, and the batch, whose
// PUBLISHes Redis accepted, is published. Once an HSET succeeds again,
// LatestError is nil and the recovery is logged.
func TestLatestHashFailureDoesNotFailTheBatch(t *testing.T) {
	cases := []struct {
		name  string
		setup func(t *testing.T) (c *redis.Client, key string, heal func())
		says  string
	}{
		{"OOM under noeviction", func(t *testing.T) (*redis.Client, string, func()) {
			s := redistest.Start(t, "--maxmemory", "1", "--maxmemory-policy", "noeviction")
			c := newClient(t, s.Addr())
			return c, "latest", func() {
				if err := c.ConfigSet(context.Background(), "maxmemory", "0").Err(); err != nil {
					t.Fatal(err)
				}
			}
		}, "OOM"},
		{"key of the wrong type", func(t *testing.T) (*redis.Client, string, func()) {
			c := newClient(t, redistest.Addr(t))
			key := prefix(t) + "latest"
			t.Cleanup(func() { c.Del(context.Background(), key) })
			if err := c.Set(context.Background(), key, "a string", 0).Err(); err != nil {
				t.Fatal(err)
			}
			return c, key, func() { c.Del(context.Background(), key) }
		}, "WRONGTYPE"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, key, heal := tc.setup(t)
			pre := prefix(t)
			reg := prometheus.NewRegistry()
			var logs logtest.Buffer
			p := newPublisher(t, c, redispub.Config{Prefix: pre, LatestKey: key, Name: "feed", Registerer: reg,
				Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
			ps := subscribe(t, c, false, pre+"NIFTY")
			ins := chain("NIFTY", 100)
			batch := func(n int) []ticker.Tick {
				var b []ticker.Tick
				for i, in := range ins {
					b = append(b, tickOf(in, n+i))
				}
				return b
			}
			for n := range 3 {
				if err := publish(p, batch(10*n)); err != nil {
					t.Fatalf("batch %d: Publish = %v; the PUBLISHes succeeded, so the batch did", n, err)
				}
			}
			got := receive(t, ps, 3*len(ins))
			if len(got[pre+"NIFTY"]) != 3*len(ins) {
				t.Errorf("subscriber received %d ticks, want %d", len(got[pre+"NIFTY"]), 3*len(ins))
			}
			err := p.LatestError()
			if err == nil || !strings.Contains(err.Error(), tc.says) || !strings.Contains(err.Error(), key) {
				t.Errorf("LatestError() = %v, want an error naming %s and %s", err, key, tc.says)
			}
			if v, err := metrictest.Value(reg, "steadfast_redispub_latest_failures_total", nil); err != nil || v != 3 {
				t.Errorf("latest_failures_total = %v, %v; want 3", v, err)
			}
			if n := strings.Count(logs.String(), "latest-value hash not written"); n != 1 {
				t.Errorf("%d records of the failure, want 1 (the first of a run):\n%s", n, logs.String())
			}

			heal()
			if err := publish(p, batch(100)); err != nil {
				t.Fatal(err)
			}
			if err := p.LatestError(); err != nil {
				t.Errorf("LatestError() after a written hash = %v, want nil", err)
			}
			if !strings.Contains(logs.String(), "latest-value hash written again") {
				t.Errorf("no record of the recovery:\n%s", logs.String())
			}
			if n, err := c.HLen(context.Background(), key).Result(); err != nil || n != int64(len(ins)) {
				t.Errorf("HLEN after the recovery = %d, %v; want %d", n, err, len(ins))
			}
		})
	}
}

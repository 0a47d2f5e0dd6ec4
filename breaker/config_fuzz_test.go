package breaker_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/steadfast-go/steadfast/breaker"
)

// FuzzNew checks that any Config is either refused with an error naming
// one of its fields or gives a working breaker: one that admits a call when
// new, opens after failures and reports them, with every duration in range;
// never a panic. The seed corpus is in testdata/fuzz/FuzzNew.
func FuzzNew(f *testing.F) {
	f.Fuzz(func(t *testing.T, threshold int, rate float64, window, minCalls int, openTimeout int64, halfOpen int,
		maxOpen, halfOpenWait, windowDur, slowDur int64, slowRate, multiplier float64) {
		cfg := breaker.Config{
			FailureThreshold: threshold, FailureRate: rate, Window: window, MinCalls: minCalls,
			OpenTimeout: time.Duration(openTimeout), HalfOpenMaxCalls: halfOpen,
			MaxOpenTimeout: time.Duration(maxOpen), HalfOpenMaxWait: time.Duration(halfOpenWait),
			WindowDuration: time.Duration(windowDur), SlowCallDuration: time.Duration(slowDur), SlowCallRate: slowRate,
			OpenTimeoutMultiplier: multiplier,
		}
		b, err := breaker.New(cfg)
		if err != nil {
			for _, field := range []string{
				"FailureThreshold", "FailureRate", "Window", "MinCalls", "OpenTimeout", "HalfOpenMaxCalls",
				"MaxOpenTimeout", "HalfOpenMaxWait", "WindowDuration", "SlowCallDuration", "SlowCallRate", "OpenTimeoutMultiplier",
			} {
				if strings.Contains(err.Error(), "breaker: Config."+field) {
					return
				}
			}
			t.Fatalf("error names no field: %v", err)
		}
		for i := range 3 {
			p, err := b.Allow()
			if i == 0 && err != nil {
				t.Fatalf("a new breaker refused a call: %v", err)
			}
			b.Done(p, errors.New("boom"))
		}
		c := b.Counts()
		if c.Failures+c.Rejected != 3 && b.State() == breaker.Closed {
			t.Fatalf("3 failed calls, counts %+v", c)
		}
		if c.OpenPeriod < 0 || c.FailureRate < 0 || c.FailureRate > 1 || c.SlowCallRate < 0 || c.SlowCallRate > 1 {
			t.Fatalf("counts out of range: %+v", c)
		}
		if p := b.NextProbe(); b.State() == breaker.Open && p.IsZero() {
			t.Fatalf("open with no next probe")
		}
	})
}

package breaker_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/steadfast-go/steadfast/breaker"
)

// FuzzNew checks that any Config is either refused with an error naming
// one of its fields or gives a working breaker; never a panic. The seed
// corpus is in testdata/fuzz/FuzzNew.
func FuzzNew(f *testing.F) {
	f.Fuzz(func(t *testing.T, threshold int, rate float64, window, minCalls int, openTimeout int64, halfOpen int) {
		b, err := breaker.New(breaker.Config{
			FailureThreshold: threshold, FailureRate: rate, Window: window, MinCalls: minCalls,
			OpenTimeout: time.Duration(openTimeout), HalfOpenMaxCalls: halfOpen,
		})
		if err != nil {
			for _, field := range []string{"FailureThreshold", "FailureRate", "Window", "MinCalls", "OpenTimeout", "HalfOpenMaxCalls"} {
				if strings.Contains(err.Error(), field) {
					return
				}
			}
			t.Fatalf("error names no field: %v", err)
		}
		p, err := b.Allow()
		if err != nil {
			t.Fatalf("a new breaker refused a call: %v", err)
		}
		b.Done(p, errors.New("boom"))
	})
}

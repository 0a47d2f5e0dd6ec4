package reloader_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/steadfast-go/steadfast/reloader"
)

// FuzzNew checks that any Config is either refused with an error naming
// one of its fields or accepted; never a panic. The seed corpus is in
// testdata/fuzz/FuzzNew.
func FuzzNew(f *testing.F) {
	f.Fuzz(func(t *testing.T, debounce, maxDelay, minInterval, timeout, retry, maxRetry int64) {
		_, err := reloader.New(func(context.Context) error { return nil }, reloader.Config{
			Debounce: time.Duration(debounce), MaxDelay: time.Duration(maxDelay),
			MinInterval: time.Duration(minInterval), Timeout: time.Duration(timeout),
			RetryBackoff: time.Duration(retry), MaxRetryBackoff: time.Duration(maxRetry),
		})
		if err == nil {
			return
		}
		for _, field := range []string{"Debounce", "MaxDelay", "MinInterval", "Timeout", "RetryBackoff", "MaxRetryBackoff"} {
			if strings.Contains(err.Error(), field) {
				return
			}
		}
		t.Fatalf("error names no field: %v", err)
	})
}

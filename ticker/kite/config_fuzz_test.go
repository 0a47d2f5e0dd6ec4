package kite_test

import (
	"strings"
	"testing"
	"time"

	"github.com/steadfast-go/steadfast/ticker/kite"
)

// FuzzNew checks that any Config is either refused with an error naming
// one of its fields or accepted; never a panic. New does not dial. The
// seed corpus is in testdata/fuzz/FuzzNew.
func FuzzNew(f *testing.F) {
	f.Fuzz(func(t *testing.T, apiKey, token, baseURL string, mode uint8, perConn, conns, batch int,
		ping, stall, backoff, maxBackoff, stable int64, queue int) {
		if conns > 1<<16 {
			conns = 1 << 16 // New makes one record per connection
		}
		_, err := kite.New(kite.Config{
			APIKey: apiKey, AccessToken: token, BaseURL: baseURL, Mode: kite.Mode(mode),
			MaxPerConn: perConn, MaxConns: conns, BatchSize: batch,
			PingTimeout: time.Duration(ping), StallTimeout: time.Duration(stall),
			Backoff: time.Duration(backoff), MaxBackoff: time.Duration(maxBackoff),
			StableAfter: time.Duration(stable), QueueSize: queue,
		})
		if err == nil {
			return
		}
		for _, field := range []string{"APIKey", "AccessToken", "RefreshToken", "BaseURL", "Mode", "MaxPerConn", "MaxConns",
			"BatchSize", "PingTimeout", "StallTimeout", "Backoff", "MaxBackoff", "StableAfter", "QueueSize"} {
			if strings.Contains(err.Error(), field) {
				return
			}
		}
		t.Fatalf("error names no field: %v", err)
	})
}

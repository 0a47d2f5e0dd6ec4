package redispub_test

import (
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/steadfast-go/steadfast/ticker/redispub"
)

// FuzzNew checks that any Config is either refused with an error naming
// one of its fields or accepted; never a panic. New does not dial. The
// seed corpus is in testdata/fuzz/FuzzNew.
func FuzzNew(f *testing.F) {
	f.Fuzz(func(t *testing.T, prefix string, sharded, stream bool, maxLen int64, latest string, ctxTimeout, nilClient bool) {
		cfg := redispub.Config{Prefix: prefix, Sharded: sharded, Stream: stream, StreamMaxLen: maxLen, LatestKey: latest}
		if !nilClient {
			c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", ContextTimeoutEnabled: ctxTimeout})
			defer c.Close()
			cfg.Client = c
		}
		_, err := redispub.New(cfg)
		if err == nil {
			return
		}
		for _, field := range []string{"Client", "ContextTimeoutEnabled", "StreamMaxLen", "Sharded", "Stream"} {
			if strings.Contains(err.Error(), field) {
				return
			}
		}
		t.Fatalf("error names no field: %v", err)
	})
}

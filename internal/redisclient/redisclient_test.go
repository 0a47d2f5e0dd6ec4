package redisclient

import (
	"testing"

	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestContextTimeoutEnabled(t *testing.T) {
	for _, tc := range []struct {
		name string
		c    redis.UniversalClient
		want bool
	}{
		{"client off", redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"}), false},
		{"client on", redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", ContextTimeoutEnabled: true}), true},
		{"cluster off", redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{"127.0.0.1:1"}}), false},
		{"ring on", redis.NewRing(&redis.RingOptions{Addrs: map[string]string{"a": "127.0.0.1:1"}, ContextTimeoutEnabled: true}), true},
	} {
		if got := ContextTimeoutEnabled(tc.c); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
		tc.c.Close()
	}
}

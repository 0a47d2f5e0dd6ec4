package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/steadfast-go/steadfast/ticker"
	"github.com/steadfast-go/steadfast/ticker/redispub"
)

// newPublisher returns the in-process publisher, or the Redis one for -redis
// (host:port, or a redis:// or rediss:// URL with password, database and
// TLS), and a function that releases it.
func newPublisher(ctx context.Context, redisURL string, logger *slog.Logger, reg prometheus.Registerer) (ticker.Publisher, func(), error) {
	if redisURL == "" {
		return &memPublisher{latest: map[uint32]ticker.Tick{}}, func() {}, nil
	}
	opts := &redis.Options{Addr: redisURL}
	if strings.Contains(redisURL, "://") {
		var err error
		if opts, err = redis.ParseURL(redisURL); err != nil {
			return nil, nil, fmt.Errorf("-redis: %w", err)
		}
	}
	// The engine's breaker, not the client, decides when to try again: a
	// failed batch must fail fast, within its PublishTimeout.
	opts.ContextTimeoutEnabled = true
	opts.MaxRetries = -1
	opts.DialerRetries = 1
	client := redis.NewClient(opts)
	pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := client.Ping(pctx).Err(); err != nil {
		// Not fatal: the engine streams anyway and publishes once Redis
		// answers.
		logger.Warn("Redis does not answer yet; publishing starts when it does",
			"addr", opts.Addr, "error", err)
	}
	pub, err := redispub.New(redispub.Config{Client: client, LatestKey: "ticks:latest", Name: "example",
		Logger: logger, Registerer: reg})
	if err != nil {
		_ = client.Close()
		return nil, nil, err
	}
	return pub, func() { _ = client.Close() }, nil
}

// redactURL hides a password in a Redis URL.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return s
	}
	return u.Redacted()
}

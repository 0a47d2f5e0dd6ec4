package main

import (
	"errors"
	"log/slog"
	"net/url"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/steadfast-go/steadfast/ticker"
)

// newPublisher returns the in-process publisher, or the Redis one for -redis.
func newPublisher(redisURL string, _ *slog.Logger, _ prometheus.Registerer) (ticker.Publisher, func(), error) {
	if redisURL != "" {
		return nil, nil, errors.New("-redis: not available in this build")
	}
	return &memPublisher{latest: map[uint32]ticker.Tick{}}, func() {}, nil
}

// redactURL hides a password in a Redis URL.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return s
	}
	return u.Redacted()
}

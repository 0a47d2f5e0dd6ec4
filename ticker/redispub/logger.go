package redispub

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/steadfast-go/steadfast/internal/logs"
)

// Bounds of ClientLogger's records.
const (
	clientLogBurst    = 10         // records a second
	clientLogMaxBytes = 1 << 10    // of a message
	clientComponent   = "go-redis" // the component of its records
)

// ClientLogger adapts a *slog.Logger to go-redis's logging interface, so
// that go-redis's own messages (a failed dial during an outage, a pool
// problem) reach the host's log instead of stderr. go-redis has one logger
// per process; install it once, at start:
//
//	redis.SetLogger(redispub.Logger(logger))
//
// This package never calls redis.SetLogger itself. Each message becomes a
// WARN record with component "go-redis", its text cut to 1 KiB. At most 10
// records are written a second (go-redis logs every failed dial, several a
// second during an outage); the next record after a pause carries the
// number left out as "suppressed". A ClientLogger is safe for concurrent
// use.
type ClientLogger struct {
	logger *slog.Logger

	mu         sync.Mutex
	second     time.Time // start of the current one-second window
	written    int       // records in the window
	suppressed int       // records left out since the last one written
}

// Logger returns a ClientLogger writing to l; nil means slog.Default() at
// the time of logging.
func Logger(l *slog.Logger) *ClientLogger { return &ClientLogger{logger: l} }

// Printf implements go-redis's logging interface (redis.SetLogger).
func (c *ClientLogger) Printf(ctx context.Context, format string, v ...any) {
	now := time.Now()
	c.mu.Lock()
	if now.Sub(c.second) >= time.Second {
		c.second, c.written = now, 0
	}
	if c.written >= clientLogBurst {
		c.suppressed++
		c.mu.Unlock()
		return
	}
	c.written++
	suppressed := c.suppressed
	c.suppressed = 0
	c.mu.Unlock()

	msg := strings.TrimPrefix(fmt.Sprintf(format, v...), "redis: ")
	if len(msg) > clientLogMaxBytes {
		msg = msg[:clientLogMaxBytes] + "…"
	}
	attrs := []slog.Attr{slog.String(logs.Component, clientComponent)}
	if suppressed > 0 {
		attrs = append(attrs, slog.Int("suppressed", suppressed))
	}
	if ctx == nil {
		ctx = context.Background()
	}
	logs.Logger(c.logger).LogAttrs(ctx, slog.LevelWarn, msg, attrs...)
}

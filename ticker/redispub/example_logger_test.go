package redispub_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/steadfast-go/steadfast/ticker/redispub"
)

// A host routes go-redis's own messages into its logger once, at start, with
// redis.SetLogger(redispub.Logger(logger)). Here the adapter is called
// directly, as go-redis would after a failed dial.
func ExampleLogger() {
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{} // for a stable output
			}
			return a
		},
	}))
	l := redispub.Logger(logger)
	// In a program: redis.SetLogger(l)
	l.Printf(context.Background(), "redis: connection pool: failed to dial after %d attempts: %v",
		1, errors.New("dial tcp 127.0.0.1:6379: connect: connection refused"))
	fmt.Println("logged")
	// Output:
	// level=WARN msg="connection pool: failed to dial after 1 attempts: dial tcp 127.0.0.1:6379: connect: connection refused" component=go-redis
	// logged
}

package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/steadfast-go/steadfast/ticker"
	"github.com/steadfast-go/steadfast/ticker/redispub"
)

// pingTimeout bounds the first PING of -redis, so that a cause that will not
// heal stops the program within seconds.
const pingTimeout = 2 * time.Second

// hidden stands for a value of -redis that is not shown: a mistyped URL may
// hold a password anywhere.
const hidden = "(value not shown: it may hold a password)"

// newPublisher returns the in-process publisher, or the Redis one for -redis
// (host:port, or a redis://, rediss:// or unix:// URL with password,
// database and TLS), and a function that releases it. A -redis that cannot
// be parsed, or a Redis that refuses the client for good (a wrong password,
// an unknown host, a database index out of range: redispub.IsPermanent), is
// an error; a Redis that does not answer yet is not (the engine publishes
// once it does). Nothing it prints holds the password. What it writes is
// what the flags ask for: PUBLISH (or SPUBLISH, or XADD) to one channel per
// underlying, and a latest-value hash only with -latest-hash.
func newPublisher(ctx context.Context, c config, logger *slog.Logger, reg prometheus.Registerer) (ticker.Publisher, func(), error) {
	if c.redisURL == "" {
		return &memPublisher{latest: map[uint32]ticker.Tick{}}, func() {}, nil
	}
	opts, where, err := redisOptions(c.redisURL)
	if err != nil {
		return nil, nil, err
	}
	// The engine's breaker, not the client, decides when to try again: a
	// failed batch must fail fast, within its PublishTimeout.
	opts.ContextTimeoutEnabled = true
	opts.MaxRetries = -1
	opts.DialerRetries = 1
	// go-redis logs through one logger per process, to stderr by default;
	// this program's one Redis client is made here, so its logs are routed
	// into the program's logger here.
	redis.SetLogger(redispub.Logger(logger))
	client := redis.NewClient(opts)
	pctx, cancel := context.WithTimeout(ctx, pingTimeout)
	defer cancel()
	switch err := client.Ping(pctx).Err(); {
	case err == nil:
	case redispub.IsPermanent(err):
		_ = client.Close()
		return nil, nil, fmt.Errorf("-redis %s: %w (retrying will not help)", where, err)
	default:
		logger.Warn("Redis does not answer yet; publishing starts when it does", "redis", where, "error", err)
	}
	pub, err := redispub.New(redispub.Config{Client: client, LatestKey: c.latestHash,
		Sharded: c.spublish, Stream: c.stream, StreamMaxLen: c.streamMaxLen,
		Name: "example", Logger: logger, Registerer: reg})
	if err != nil {
		_ = client.Close()
		return nil, nil, err
	}
	return pub, func() { _ = client.Close() }, nil
}

// redisOptions parses -redis: a URL when it holds "://", else host:port. It
// returns the client options and a form of the value fit to print, with
// any user and password replaced by "xxxxx". Its errors never quote the
// value (go-redis's and net/url's do), since a mistyped URL may hold the
// password where a host or a database number was expected.
func redisOptions(s string) (*redis.Options, string, error) {
	scheme, _, isURL := strings.Cut(s, "://")
	if !isURL {
		host, port, err := net.SplitHostPort(s)
		n, perr := strconv.Atoi(port)
		switch {
		case strings.ContainsAny(s, "@/"):
			return nil, "", fmt.Errorf("-redis: want host:port or redis://[:PASSWORD@]host:port[/DB]; a value with @ or / and no :// is neither %s", hidden)
		case err != nil || host == "" || perr != nil || n < 1 || n > 65535:
			return nil, "", fmt.Errorf("-redis: want host:port (a port from 1 to 65535) or a redis://, rediss:// or unix:// URL %s", hidden)
		}
		return &redis.Options{Addr: s}, s, nil
	}
	if scheme != "redis" && scheme != "rediss" && scheme != "unix" {
		return nil, "", fmt.Errorf("-redis: a URL must start with redis://, rediss:// or unix:// %s", hidden)
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, "", fmt.Errorf("-redis: not a valid URL %s", hidden)
	}
	opts, err := redis.ParseURL(s)
	if err != nil {
		what := "its options (the query)"
		switch {
		case strings.Contains(err.Error(), "database number"):
			what = "its database: want /DB, a number, as in redis://host:6379/0"
		case strings.Contains(err.Error(), "URL path"):
			what = "its path: want /DB, a number, as in redis://host:6379/0"
		}
		return nil, "", fmt.Errorf("-redis: the URL is not valid in %s %s", what, hidden)
	}
	var b strings.Builder
	b.WriteString(scheme + "://")
	if u.User != nil {
		b.WriteString("xxxxx@") // the user too: "redis://PASSWORD@host" makes the password a user name
	}
	b.WriteString(opts.Addr)
	if opts.DB != 0 {
		b.WriteString("/" + strconv.Itoa(opts.DB))
	}
	return opts, b.String(), nil
}

// redactURL returns -redis fit to print: no user or password, nothing of
// a value that cannot be parsed.
func redactURL(s string) string {
	if _, where, err := redisOptions(s); err == nil {
		return where
	}
	return hidden
}

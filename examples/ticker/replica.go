package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/steadfast-go/steadfast/ticker"
	"github.com/steadfast-go/steadfast/ticker/replica"
)

// newEngine makes the engine of cfg and returns it with the function that
// runs it. With -replica it runs as a replica (ticker/replica) of the group
// on that Redis: it streams only the partitions it holds a lease on, and
// prints what it holds every few seconds.
func newEngine(c config, cfg ticker.Config, logger *slog.Logger, reg prometheus.Registerer, out io.Writer) (*ticker.Engine, func(context.Context) error, error) {
	if c.replicaURL == "" {
		eng, err := ticker.New(cfg)
		if err != nil {
			return nil, nil, err
		}
		return eng, eng.Run, nil
	}
	opts, _, err := redisOptions(c.replicaURL) // checked with the flags; errors never quote it
	if err != nil {
		return nil, nil, fmt.Errorf("-replica%s", strings.TrimPrefix(err.Error(), "-redis"))
	}
	// A change of ownership reloads at once (the replica reloads at most
	// once a round).
	cfg.Reload.MinInterval = -1
	opts.ContextTimeoutEnabled = true
	opts.MaxRetries = -1
	opts.DialerRetries = 1
	client := redis.NewClient(opts)
	r, err := replica.New(replica.Config{
		Client: client, ID: c.replicaID, Capacity: c.capacity, Standby: c.standby,
		Engine: cfg, Name: "example", Logger: logger, Registerer: reg,
	})
	if err != nil {
		_ = client.Close()
		return nil, nil, err
	}
	fmt.Fprintf(out, "replica %q of group %q on Redis at %s: %d partitions, capacity %d%s\n",
		r.ID(), replica.DefaultGroup, redactURL(c.replicaURL), r.Health().Partitions, r.Health().Capacity,
		map[bool]string{true: ", standby", false: ""}[c.standby])
	run := func(ctx context.Context) error {
		defer client.Close()
		done := make(chan struct{})
		defer close(done)
		go func() {
			t := time.NewTicker(5 * time.Second)
			defer t.Stop()
			for {
				select {
				case <-done:
					return
				case <-t.C:
				}
				h := r.Health()
				fmt.Fprintf(out, "replica %s: %s, holds %d of %d partitions (%d of %d instruments), %d members, renewed %.1fs ago%s\n",
					h.ID, h.Status, h.Owned, h.Partitions, h.Instruments, h.Universe, h.Members, h.SinceRenew,
					reasons(h.Reasons))
			}
		}()
		return r.Run(ctx)
	}
	return r.Engine(), run, nil
}

func reasons(rs []string) string {
	if len(rs) == 0 {
		return ""
	}
	return "; " + strings.Join(rs, "; ")
}

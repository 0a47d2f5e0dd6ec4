package replica_test

import (
	"context"
	"encoding/json"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/steadfast-go/steadfast/ticker"
	"github.com/steadfast-go/steadfast/ticker/replica"
)

// validConfig is a Config New accepts; New talks to no Redis.
func validConfig(t *testing.T) replica.Config {
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", ContextTimeoutEnabled: true})
	t.Cleanup(func() { c.Close() })
	return replica.Config{
		Client: c,
		ID:     "r1",
		Engine: ticker.Config{
			Source:      newSource(),
			Publisher:   ticker.PublisherFunc(func(context.Context, []ticker.Tick) error { return nil }),
			Instruments: func(context.Context) ([]ticker.Instrument, error) { return nil, nil },
		},
	}
}

// TestNewRefusesInvalidConfig: each invalid field is refused with an error
// naming it.
func TestNewRefusesInvalidConfig(t *testing.T) {
	noTimeout := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	defer noTimeout.Close()
	for field, mutate := range map[string]func(*replica.Config){
		"Config.Client":                        func(c *replica.Config) { c.Client = nil },
		"ContextTimeoutEnabled":                func(c *replica.Config) { c.Client = noTimeout },
		"Config.Engine.Instruments":            func(c *replica.Config) { c.Engine.Instruments = nil },
		"Config.Engine.Publisher":              func(c *replica.Config) { c.Engine.Publisher = nil },
		"Config.Engine: ticker: Config.Source": func(c *replica.Config) { c.Engine.Source = nil },
		"Config.Partitions":                    func(c *replica.Config) { c.Partitions = replica.MaxPartitions + 1 },
		"Config.Partitions is -1":              func(c *replica.Config) { c.Partitions = -1 },
		"Config.Capacity":                      func(c *replica.Config) { c.Capacity = -1 },
		"Config.LeaseTTL":                      func(c *replica.Config) { c.LeaseTTL = time.Millisecond },
		"Config.LeaseTTL is 11m0s":             func(c *replica.Config) { c.LeaseTTL = 11 * time.Minute },
		"Config.FenceMargin":                   func(c *replica.Config) { c.LeaseTTL, c.FenceMargin = 3*time.Second, 2*time.Second },
		"Config.FenceMargin is -1s":            func(c *replica.Config) { c.FenceMargin = -time.Second },
		"Config.ID":                            func(c *replica.Config) { c.ID = "a/b" },
		"Config.ID is 129 bytes":               func(c *replica.Config) { c.ID = strings.Repeat("x", 129) },
		"Config.Group":                         func(c *replica.Config) { c.Group = "{x}" },
	} {
		cfg := validConfig(t)
		mutate(&cfg)
		r, err := replica.New(cfg)
		if err == nil || r != nil {
			t.Errorf("%s: New accepted it", field)
			continue
		}
		if !strings.Contains(err.Error(), field) || !strings.HasPrefix(err.Error(), "replica: ") {
			t.Errorf("%s: error %q does not name the field", field, err)
		}
	}
}

// TestDefaults: Config with only the required fields gets the documented
// defaults; Health says so before Run.
func TestDefaults(t *testing.T) {
	cfg := validConfig(t)
	cfg.ID = ""
	r, err := replica.New(cfg)
	require.NoError(t, err)
	h := r.Health()
	require.Equal(t, "stopped", h.Status)
	require.Equal(t, replica.DefaultPartitions, h.Partitions)
	require.Equal(t, replica.DefaultPartitions, h.Capacity)
	require.NotEmpty(t, r.ID(), "the host name")
	require.Empty(t, r.Owned())
}

// TestRunTwice: a Replica runs once.
func TestRunTwice(t *testing.T) {
	r, err := replica.New(validConfig(t))
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	require.Eventually(t, func() bool { return r.Health().Status != "stopped" }, waitLong, time.Millisecond)
	require.ErrorIs(t, r.Run(context.Background()), replica.ErrRan)
	cancel()
	require.NoError(t, <-done, "Run returns nil when its context ends, Redis unreachable or not")
	require.Equal(t, "stopped", r.Health().Status)
}

// TestHealthJSON: Health and Stats marshal with snake_case keys.
func TestHealthJSON(t *testing.T) {
	r, err := replica.New(validConfig(t))
	require.NoError(t, err)
	b, err := json.Marshal(r.Health())
	require.NoError(t, err)
	var tree map[string]any
	require.NoError(t, json.Unmarshal(b, &tree))
	snake := regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	var walk func(any)
	walk = func(v any) {
		if m, ok := v.(map[string]any); ok {
			for k, x := range m {
				if !snake.MatchString(k) {
					t.Errorf("key %q is not snake_case: %s", k, b)
				}
				walk(x)
			}
		}
	}
	walk(tree)
	for _, k := range []string{"status", "id", "partitions_owned", "members", "since_last_renew_seconds", "stats", "engine"} {
		require.Contains(t, tree, k)
	}
}

// TestMetricsRegistration: two replicas share a registry under different
// Names; a second one with the same Name is refused, and the refusal
// leaves the registry as it was.
func TestMetricsRegistration(t *testing.T) {
	reg := prometheus.NewRegistry()
	cfg := validConfig(t)
	cfg.Registerer, cfg.Name = reg, "a"
	_, err := replica.New(cfg)
	require.NoError(t, err)
	cfg.Name = "b"
	_, err = replica.New(cfg)
	require.NoError(t, err)
	n := count(t, reg)
	_, err = replica.New(cfg)
	var are prometheus.AlreadyRegisteredError
	require.True(t, errors.As(err, &are), "%v", err)
	require.Equal(t, n, count(t, reg))
	// The engine's metrics clash, after the replica's were registered:
	// those are taken back too.
	cfg.Name, cfg.Engine.Name = "c", "a"
	_, err = replica.New(cfg)
	require.ErrorContains(t, err, "replica: Config.Engine")
	require.Equal(t, n, count(t, reg))
}

func count(t *testing.T, reg *prometheus.Registry) int {
	mfs, err := reg.Gather()
	require.NoError(t, err)
	n := 0
	for _, mf := range mfs {
		n += len(mf.GetMetric())
	}
	return n
}

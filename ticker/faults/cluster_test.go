package faults_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/steadfast-go/steadfast/internal/redistest"
	"github.com/steadfast-go/steadfast/ticker"
)

// cluster is a 3-master Redis Cluster on loopback ports, owned by a test.
type cluster struct {
	nodes []*redistest.Server
	addrs []string
}

// startCluster starts three cluster-enabled servers and joins them with
// redis-cli --cluster create, no replicas. A node may be killed and
// restarted: it keeps its nodes.conf (in its own directory) and rejoins
// with its slots. Full coverage is not required, so the other masters keep
// serving while one is down.
func startCluster(t *testing.T) *cluster {
	t.Helper()
	cli, err := exec.LookPath("redis-cli")
	if err != nil {
		msg := "redis-cli not found; install it with `apt-get install -y redis-tools`"
		if os.Getenv(redistest.EnvCI) == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	c := &cluster{}
	for range 3 {
		s := redistest.Start(t, "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
			"--cluster-node-timeout", "5000", "--cluster-require-full-coverage", "no")
		c.nodes = append(c.nodes, s)
		c.addrs = append(c.addrs, s.Addr())
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitLong)
	defer cancel()
	args := append(append([]string{"--cluster", "create"}, c.addrs...), "--cluster-replicas", "0", "--cluster-yes")
	out, err := exec.CommandContext(ctx, cli, args...).CombinedOutput()
	require.NoError(t, err, "redis-cli --cluster create: %s", out)
	for _, a := range c.addrs {
		n := redis.NewClient(&redis.Options{Addr: a})
		poll(t, "the cluster to be ok at "+a, func() bool {
			info, err := n.ClusterInfo(context.Background()).Result()
			return err == nil && strings.Contains(info, "cluster_state:ok") && strings.Contains(info, "cluster_known_nodes:3")
		})
		n.Close()
	}
	return c
}

// owner returns the index of the node that owns channel's slot.
func (c *cluster) owner(t *testing.T, channel string) int {
	t.Helper()
	n := redis.NewClient(&redis.Options{Addr: c.addrs[0]})
	defer n.Close()
	ctx := context.Background()
	slot, err := n.ClusterKeySlot(ctx, channel).Result()
	require.NoError(t, err)
	slots, err := n.ClusterSlots(ctx).Result()
	require.NoError(t, err)
	for _, r := range slots {
		if int64(r.Start) <= slot && slot <= int64(r.End) {
			for i, a := range c.addrs {
				if r.Nodes[0].Addr == a {
					return i
				}
			}
		}
	}
	t.Fatalf("no node owns slot %d", slot)
	return -1
}

// clusterChannels is the number of channels per underlying: a tick goes to
// the one its exchange token (the instrument token without its segment
// byte) picks.
const clusterChannels = 6

func TestClusterPublish(t *testing.T) { runCluster(t, false) }

func TestClusterSPublish(t *testing.T) { runCluster(t, true) }

// runCluster streams through a 3-master cluster (SPUBLISH when sharded,
// else PUBLISH), kills the master of some channels, restarts it and checks
// that every shard's consumers received their channels' ticks, the breaker
// opened and closed, the subscribers converged and the identity held.
func runCluster(t *testing.T, sharded bool) {
	c := startCluster(t)
	client := redis.NewClusterClient(&redis.ClusterOptions{
		Addrs: c.addrs, ContextTimeoutEnabled: true, MaxRetries: -1, DialerRetries: 1,
	})
	t.Cleanup(func() { client.Close() })

	var channels []string
	var pre string
	channelOf := func(tk *ticker.Tick) string {
		return fmt.Sprintf("%s%s:%d", pre, tk.Instrument.Underlying, (tk.Token>>8)%clusterChannels)
	}
	r := newRig(t, rigConfig{
		client: client, sharded: sharded,
		channel: func(tk *ticker.Tick) string { return channelOf(tk) },
		listen: func(p string) *subscriber {
			pre = p
			for _, u := range []string{"NIFTY", "BANKNIFTY"} {
				for i := range clusterChannels {
					channels = append(channels, fmt.Sprintf("%s%s:%d", p, u, i))
				}
			}
			sc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: c.addrs, MaxRetries: -1, DialerRetries: 1})
			t.Cleanup(func() { sc.Close() })
			if !sharded {
				return listen(t, sc.Subscribe(context.Background(), channels...))
			}
			var pss []*redis.PubSub // SSUBSCRIBE: one per channel, on its shard
			for _, ch := range channels {
				pss = append(pss, sc.SSubscribe(context.Background(), ch))
			}
			return listen(t, pss...)
		},
	})
	owners := map[string]int{}
	shards := map[int]bool{}
	for _, ch := range channels {
		owners[ch] = c.owner(t, ch)
		shards[owners[ch]] = true
	}
	require.Len(t, shards, 3, "the channels do not cover every shard")

	r.start()
	r.streaming()
	byChan := r.sub.perChannel()
	for _, ch := range channels {
		require.Positive(t, byChan[ch], "no message on %s (shard %d)", ch, owners[ch])
	}

	// Kill the master of the first channel.
	victim := owners[channels[0]]
	faultAt := r.mark()
	_, resubs0 := r.sub.counts()
	c.nodes[victim].Kill()
	toOpen, _ := r.waitOpen(faultAt)

	// The other shards' channels: what reached their consumers during the
	// outage, while the engine counted the rest as dropped.
	other := func() int {
		n := 0
		for ch, k := range r.sub.perChannel() {
			if owners[ch] != victim {
				n += k
			}
		}
		return n
	}
	before, drops0 := other(), r.eng.Stats().Dropped
	r.sourceRate()
	drops1 := r.eng.Stats().Dropped
	flowed := other() - before
	counted := (drops1.CircuitOpen + drops1.PublishFailed) - (drops0.CircuitOpen + drops0.PublishFailed)
	require.Positive(t, uint64(flowed)+counted, "the other shards' ticks neither flowed nor were counted")

	c.nodes[victim].Restart()
	clearAt := time.Now()
	toClose := r.waitClosed(clearAt)
	// A subscriber on the killed node resubscribes, there after the
	// restart, or (PUBLISH reaches every node) on another node meanwhile.
	r.rehearThenClose(resubs0)
	toConverge := r.converge(clearAt)
	stats, longestPublish, longestEmit := r.finishConverged()
	mode := "PUBLISH"
	if sharded {
		mode = "SPUBLISH"
	}
	t.Logf("FIGURES | cluster, %s, master %d of 3 killed | %d instruments on %d channels | open after %v | during the outage the other shards' consumers got %d messages, %d ticks counted as dropped | closed %v after the restart | converged after %v | produced %d published %d conflated %d circuit_open %d publish_failed %d catch_up %d | longest publish %v, longest emit %v | %s",
		mode, victim, len(r.ins), len(channels), toOpen.Round(time.Millisecond), flowed, counted,
		toClose.Round(time.Millisecond), toConverge.Round(time.Millisecond), stats.Produced, stats.Published,
		stats.Conflated, stats.Dropped.CircuitOpen, stats.Dropped.PublishFailed, stats.CatchUp,
		longestPublish.Round(time.Millisecond), longestEmit.Round(time.Microsecond),
		strconv.Quote(firstLine(r.logRecords(failedMsg))))
}

// firstLine returns the error of the first record, or "".
func firstLine(recs []map[string]any) string {
	if len(recs) == 0 {
		return ""
	}
	s, _ := recs[0]["error"].(string)
	return s
}

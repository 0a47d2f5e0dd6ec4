package bench

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/steadfast-go/steadfast/ticker"
	"github.com/steadfast-go/steadfast/ticker/market"
	"github.com/steadfast-go/steadfast/ticker/redispub"
)

// Fan-out through Redis: redispub's SPUBLISH of batches of 256 ticks spread
// over 12 channels, to one Redis and to a 3-master Redis Cluster (one
// process per master, loopback), with 4 publishing goroutines. One op is
// one batch; ticks/s is the throughput. No peer: the comparison is 1 vs 3
// masters, side by side in one run (fanout.md).

const (
	fanoutBatch    = 256
	fanoutChannels = 12
)

// redisProc starts a redis-server on a free loopback port with args; it is
// killed when the benchmark ends. Without redis-server the benchmark is
// skipped.
func redisProc(tb testing.TB, args ...string) string {
	tb.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		tb.Skip("redis-server not found")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	l.Close()
	dir := tb.TempDir()
	argv := append([]string{"--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir}, args...)
	cmd := exec.Command(bin, append(argv, "--daemonize", "no")...)
	logf, err := os.Create(filepath.Join(dir, "redis.log"))
	if err != nil {
		tb.Fatal(err)
	}
	defer logf.Close()
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	addr := "127.0.0.1:" + port
	for range 200 { // until it listens; a client would log every refused dial
		if conn, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			conn.Close()
			c := redis.NewClient(&redis.Options{Addr: addr})
			err = c.Ping(context.Background()).Err()
			c.Close()
			if err == nil {
				return addr
			}
		}
		time.Sleep(25 * time.Millisecond) // real time: a real server starting; polled with a deadline
	}
	tb.Fatalf("redis-server on %s did not answer", addr)
	return ""
}

// fanoutClient returns a client of one Redis (masters 1) or of a
// 3-master Cluster made for the benchmark.
func fanoutClient(tb testing.TB, masters int) redis.UniversalClient {
	tb.Helper()
	if masters == 1 {
		c := redis.NewClient(&redis.Options{Addr: redisProc(tb), ContextTimeoutEnabled: true, MaxRetries: -1})
		tb.Cleanup(func() { c.Close() })
		return c
	}
	cli, err := exec.LookPath("redis-cli")
	if err != nil {
		tb.Skip("redis-cli not found")
	}
	var addrs []string
	for range masters {
		addrs = append(addrs, redisProc(tb, "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf"))
	}
	args := append(append([]string{"--cluster", "create"}, addrs...), "--cluster-replicas", "0", "--cluster-yes")
	if out, err := exec.Command(cli, args...).CombinedOutput(); err != nil {
		tb.Fatalf("redis-cli --cluster create: %v: %s", err, out)
	}
	for _, a := range addrs {
		n := redis.NewClient(&redis.Options{Addr: a})
		deadline := time.Now().Add(10 * time.Second)
		for {
			info, err := n.ClusterInfo(context.Background()).Result()
			if err == nil && strings.Contains(info, "cluster_state:ok") {
				break
			}
			if time.Now().After(deadline) {
				tb.Fatalf("cluster not ok at %s: %v %s", a, err, info)
			}
			time.Sleep(20 * time.Millisecond) // real time: the cluster's own gossip; polled with a deadline
		}
		n.Close()
	}
	c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs, ContextTimeoutEnabled: true, MaxRetries: -1})
	tb.Cleanup(func() { c.Close() })
	return c
}

func fanoutTicks() []ticker.Tick {
	ins := make([]ticker.Instrument, fanoutBatch)
	ticks := make([]ticker.Tick, fanoutBatch)
	for i := range ins {
		ins[i] = ticker.Instrument{Token: uint32(i+1)<<8 | 2, Symbol: "NIFTY26D0824000CE", Exchange: "NFO",
			Underlying: "NIFTY", Kind: ticker.KindCall, Strike: 24000, Expiry: time.Date(2026, 12, 8, 0, 0, 0, 0, market.IST())}
		ticks[i] = benchTick(i)
		ticks[i].Token = ins[i].Token
		ticks[i].Instrument = &ins[i]
	}
	return ticks
}

func BenchmarkFanOut(b *testing.B) {
	for _, masters := range []int{1, 3} {
		b.Run(fmt.Sprintf("masters=%d", masters), func(b *testing.B) {
			client := fanoutClient(b, masters)
			pub, err := redispub.New(redispub.Config{Client: client, Sharded: true, Prefix: "fan:",
				Channel: func(t *ticker.Tick) string {
					return "fan:" + strconv.Itoa(int(t.Token>>8)%fanoutChannels)
				}})
			if err != nil {
				b.Fatal(err)
			}
			b.SetParallelism(2) // 2 × GOMAXPROCS publishers
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				ticks := fanoutTicks()
				for pb.Next() {
					ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
					err := pub.Publish(ctx, ticks)
					cancel()
					if err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N*fanoutBatch)/b.Elapsed().Seconds(), "ticks/s")
		})
	}
}

// TestFanOutClusterWorks runs a few batches through each setup, so that
// `go test` (CI) checks the benchmark's setup.
func TestFanOutClusterWorks(t *testing.T) {
	for _, masters := range []int{1, 3} {
		client := fanoutClient(t, masters)
		pub, err := redispub.New(redispub.Config{Client: client, Sharded: true})
		if err != nil {
			t.Fatal(err)
		}
		if err := pub.Publish(context.Background(), fanoutTicks()); err != nil {
			t.Fatalf("masters=%d: %v", masters, err)
		}
	}
}

package redispub_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/steadfast-go/steadfast/internal/redistest"
	"github.com/steadfast-go/steadfast/ticker"
	"github.com/steadfast-go/steadfast/ticker/redispub"
)

// directPair returns two Publishers over the same server for cfg, one
// through a go-redis pipeline and one with Direct, with prefixes of their
// own.
func directPair(t *testing.T, c *redis.Client, cfg redispub.Config) (pipe, direct *redispub.Publisher, prePipe, preDirect string) {
	t.Helper()
	pre := prefix(t)
	prePipe, preDirect = pre+"pipe:", pre+"direct:"
	cfg.Prefix = prePipe
	if cfg.LatestKey != "" {
		cfg.LatestKey = prePipe + "latest"
	}
	pipe = newPublisher(t, c, cfg)
	cfg.Prefix, cfg.Direct = preDirect, true
	if cfg.LatestKey != "" {
		cfg.LatestKey = preDirect + "latest"
	}
	direct = newPublisher(t, c, cfg)
	t.Cleanup(func() { direct.Close() })
	return pipe, direct, prePipe, preDirect
}

// batches returns three batches of ticks of two underlyings and one tick
// without an instrument each.
func batches() [][]ticker.Tick {
	var out [][]ticker.Tick
	for b := range 3 {
		var batch []ticker.Tick
		for i, in := range append(chain("NIFTY", 100), chain("BANKNIFTY", 200)...) {
			batch = append(batch, tickOf(in, b*10+i))
		}
		out = append(out, append(batch, ticker.Tick{Token: 999, LastPrice: float64(b + 1)}))
	}
	return out
}

// Direct writes the same commands as the pipeline: subscribers, streams
// and the latest-value hash see the same bytes, in the same order.
func TestDirectWritesWhatThePipelineWrites(t *testing.T) {
	c := newClient(t, redistest.Addr(t))
	ctx := context.Background()
	channels := func(pre string) []string {
		return []string{pre + "NIFTY", pre + "BANKNIFTY", pre + redispub.Fallback}
	}
	for _, sharded := range []bool{false, true} {
		t.Run(fmt.Sprintf("sharded=%v,latest", sharded), func(t *testing.T) {
			pipe, direct, pp, pd := directPair(t, c, redispub.Config{Sharded: sharded, LatestKey: "latest"})
			psPipe := subscribe(t, c, sharded, channels(pp)...)
			psDirect := subscribe(t, c, sharded, channels(pd)...)
			n := 0
			for _, b := range batches() {
				if err := publish(pipe, b); err != nil {
					t.Fatal(err)
				}
				if err := publish(direct, b); err != nil {
					t.Fatal(err)
				}
				n += len(b)
			}
			got := func(ps *redis.PubSub, pre string) []string {
				var out []string
				for range n {
					v, err := ps.ReceiveTimeout(ctx, wait)
					if err != nil {
						t.Fatal(err)
					}
					m := v.(*redis.Message)
					out = append(out, strings.TrimPrefix(m.Channel, pre)+" "+m.Payload)
				}
				return out
			}
			if a, b := got(psPipe, pp), got(psDirect, pd); !slices.Equal(a, b) {
				t.Errorf("messages differ:\npipeline %q\ndirect   %q", a, b)
			}
			hp, err1 := c.HGetAll(ctx, pp+"latest").Result()
			hd, err2 := c.HGetAll(ctx, pd+"latest").Result()
			if err1 != nil || err2 != nil || len(hp) != 9 || fmt.Sprint(hp) != fmt.Sprint(hd) {
				t.Errorf("latest hashes differ (%v, %v):\npipeline %v\ndirect   %v", err1, err2, hp, hd)
			}
		})
	}
	t.Run("stream", func(t *testing.T) {
		pipe, direct, pp, pd := directPair(t, c, redispub.Config{Stream: true, StreamMaxLen: 5})
		for _, b := range batches() {
			if err := publish(pipe, b); err != nil {
				t.Fatal(err)
			}
			if err := publish(direct, b); err != nil {
				t.Fatal(err)
			}
		}
		for _, u := range []string{"NIFTY", "BANKNIFTY", redispub.Fallback} {
			read := func(key string) []string {
				xs, err := c.XRange(ctx, key, "-", "+").Result()
				if err != nil {
					t.Fatal(err)
				}
				var out []string
				for _, x := range xs {
					out = append(out, fmt.Sprint(x.Values))
				}
				return out
			}
			if a, b := read(pp+u), read(pd+u); len(a) == 0 || !slices.Equal(a, b) {
				t.Errorf("stream %s differs:\npipeline %q\ndirect   %q", u, a, b)
			}
		}
	})
}

// Direct authenticates and selects the client's database, and its errors
// are the pipeline's: the same message, count and permanence.
func TestDirectErrorsAreThePipelines(t *testing.T) {
	s := redistest.Start(t, "--requirepass", "secret")
	batch := []ticker.Tick{tickOf(chain("NIFTY", 100)[0], 1), tickOf(chain("NIFTY", 100)[1], 1)}
	both := func(t *testing.T, mod func(*redis.Options), cfg redispub.Config) (pipeErr, directErr error) {
		c := newClient(t, s.Addr(), failFast, mod)
		pipe, direct, _, _ := directPair(t, c, cfg)
		return publish(pipe, batch), publish(direct, batch)
	}
	t.Run("NOAUTH", func(t *testing.T) {
		pe, de := both(t, func(*redis.Options) {}, redispub.Config{})
		if pe == nil || de == nil || pe.Error() != strings.ReplaceAll(de.Error(), "direct:", "pipe:") || !redispub.IsPermanent(de) {
			t.Errorf("pipeline %v\ndirect   %v", pe, de)
		}
	})
	t.Run("WRONGPASS", func(t *testing.T) {
		pe, de := both(t, func(o *redis.Options) { o.Password = "wrong" }, redispub.Config{})
		if !redispub.IsPermanent(pe) || !redispub.IsPermanent(de) || !strings.Contains(de.Error(), "WRONGPASS") {
			t.Errorf("pipeline %v\ndirect   %v", pe, de)
		}
	})
	t.Run("password and DB", func(t *testing.T) {
		pe, de := both(t, func(o *redis.Options) { o.Password, o.DB = "secret", 3 }, redispub.Config{Stream: true})
		if pe != nil || de != nil {
			t.Fatalf("pipeline %v, direct %v", pe, de)
		}
		c := newClient(t, s.Addr(), func(o *redis.Options) { o.Password, o.DB = "secret", 3 })
		keys, err := c.Keys(context.Background(), "*direct:NIFTY").Result()
		if err != nil || len(keys) != 1 {
			t.Errorf("streams written by Direct in DB 3: %v, %v", keys, err)
		}
	})
	t.Run("latest hash of another type", func(t *testing.T) {
		c := newClient(t, s.Addr(), func(o *redis.Options) { o.Password = "secret" })
		_, direct, _, pd := directPair(t, c, redispub.Config{LatestKey: "latest"})
		if err := c.Set(context.Background(), pd+"latest", "a string", 0).Err(); err != nil {
			t.Fatal(err)
		}
		if err := publish(direct, batch); err != nil {
			t.Fatalf("a refused HSET failed the batch: %v", err)
		}
		if err := direct.LatestError(); err == nil || !strings.Contains(err.Error(), "WRONGTYPE") {
			t.Errorf("LatestError = %v, want WRONGTYPE", err)
		}
	})
}

// A killed server fails every command with the network error; the next
// connection works once it is back. A stopped one fails at the deadline.
func TestDirectOutages(t *testing.T) {
	s := redistest.Start(t)
	c := newClient(t, s.Addr(), failFast)
	_, direct, _, _ := directPair(t, c, redispub.Config{})
	batch := []ticker.Tick{tickOf(chain("NIFTY", 100)[0], 1), tickOf(chain("NIFTY", 100)[1], 1)}
	if err := publish(direct, batch); err != nil {
		t.Fatal(err)
	}
	s.Kill()
	for range 2 { // the idle connection, then a dial
		err := publish(direct, batch)
		var pe *redispub.PublishError
		if !errors.As(err, &pe) || pe.Failed != 2 || pe.Commands != 2 || redispub.IsPermanent(err) {
			t.Errorf("Publish to a killed server = %v", err)
		}
	}
	if err := publish(direct, batch); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("Publish to a killed server = %v, want connection refused", err)
	}
	s.Restart()
	if err := publish(direct, batch); err != nil {
		t.Fatalf("after Restart: %v", err)
	}

	if err := syscall.Kill(s.Pid(), syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Kill(s.Pid(), syscall.SIGCONT) })
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := direct.Publish(ctx, batch)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "timed out") {
		t.Errorf("Publish to a stopped server = %v", err)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("took %v with a 200ms deadline", took)
	}
}

// New refuses Direct where its connections would not be the client's.
func TestDirectRefusedWhereItCannotFollow(t *testing.T) {
	for name, c := range map[string]redis.UniversalClient{
		"Config.Direct needs a single-node": redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{"127.0.0.1:1"}, ContextTimeoutEnabled: true}),
		"Sentinel failover": redis.NewFailoverClient(&redis.FailoverOptions{MasterName: "m", SentinelAddrs: []string{"127.0.0.1:1"},
			ContextTimeoutEnabled: true}),
		"credentials provider": redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", ContextTimeoutEnabled: true,
			CredentialsProvider: func() (string, string) { return "u", "p" }}),
		"OnConnect": redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", ContextTimeoutEnabled: true,
			OnConnect: func(context.Context, *redis.Conn) error { return nil }}),
	} {
		_, err := redispub.New(redispub.Config{Client: c, Direct: true})
		if err == nil || !strings.Contains(err.Error(), name) || !strings.Contains(err.Error(), "Config.Direct") {
			t.Errorf("New with Direct over a %T = %v, want an error naming %q", c, err, name)
		}
		c.Close()
	}
}

// A batch through Direct allocates nothing per tick once its buffers have
// grown. (AllocsPerRun counts the whole process's allocations, and the
// go-redis client's own goroutines allocate a few meanwhile; the memory
// profile of this test shows none under Publish after the first batch.)
func TestDirectAllocatesNothingPerBatch(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector makes sync.Pool drop batches at random")
	}
	c := newClient(t, redistest.Addr(t))
	_, direct, _, _ := directPair(t, c, redispub.Config{LatestKey: "latest"})
	batch := batches()[0]
	ctx := context.Background()
	if err := direct.Publish(ctx, batch); err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(100, func() {
		if err := direct.Publish(ctx, batch); err != nil {
			t.Fatal(err)
		}
	}); n >= float64(len(batch)) {
		t.Errorf("%.2f allocations per batch of %d ticks", n, len(batch))
	}
}

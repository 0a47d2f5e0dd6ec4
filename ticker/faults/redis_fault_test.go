package faults_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/steadfast-go/steadfast/internal/redistest"
)

// A fault of the real Redis the engine publishes to.
type fault struct {
	name       string
	serverArgs []string
	password   string // the engine client's; the subscriber uses subPass
	subPass    string
	latestKey  bool
	// atStart: inject runs before the engine starts, so it fails from its
	// first batch.
	atStart bool
	inject  func(f *faultEnv)
	// clear ends the fault (or waits until it ends) and returns when it has.
	clear func(f *faultEnv)
	// stall, for a fault that stalls the server (Redis answers nothing
	// for that long), is its length: the breaker must open before it ends,
	// which it can only do if Publish returns at its deadline.
	stall time.Duration
	// silent closes the session while the fault lasts: the source emits
	// nothing afterwards, so the subscriber converges only through the
	// engine's catch-up of the dropped ticks. A fault that drops the
	// subscriber's connection cannot be silent (the subscriber would miss
	// the catch-up while it redials); there the source ticks until the
	// subscriber is back.
	silent bool
	// causes: the failure log's error names one of these.
	causes []string
}

// faultEnv is what inject and clear act on.
type faultEnv struct {
	t     *testing.T
	srv   *redistest.Server
	admin *redis.Client
	rig   *rig
}

func (f *faultEnv) do(args ...any) {
	f.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLong)
	defer cancel()
	require.NoError(f.t, f.admin.Do(ctx, args...).Err(), "%v", args)
}

func TestFaultKilledMidStreamThenRestarted(t *testing.T) {
	runFault(t, fault{
		name:   "SIGKILL mid-stream, restart on the same port",
		inject: func(f *faultEnv) { f.srv.Kill() },
		clear:  func(f *faultEnv) { f.srv.Restart() },
		causes: []string{"EOF", "connection refused", "connection reset", "broken pipe"},
	})
}

func TestFaultDownAtStart(t *testing.T) {
	runFault(t, fault{
		name:    "Redis down when the engine starts",
		atStart: true,
		inject:  func(f *faultEnv) { f.srv.Kill() },
		clear:   func(f *faultEnv) { f.srv.Restart() },
		causes:  []string{"connection refused"},
	})
}

func TestFaultClientPause(t *testing.T) {
	runFault(t, fault{
		name:   "CLIENT PAUSE 8000 ALL",
		stall:  8 * time.Second,
		inject: func(f *faultEnv) { f.do("client", "pause", "8000", "all") },
		clear: func(f *faultEnv) {
			// The admin's PING is paused too: it returns when the pause ends.
			f.do("ping")
		},
		silent: true,
		causes: []string{"deadline exceeded", "timeout"},
	})
}

func TestFaultDebugSleep(t *testing.T) {
	woke := make(chan struct{})
	runFault(t, fault{
		name:       "DEBUG SLEEP 8",
		stall:      8 * time.Second,
		serverArgs: []string{"--enable-debug-command", "local"},
		inject: func(f *faultEnv) {
			go func() {
				defer close(woke)
				ctx, cancel := context.WithTimeout(context.Background(), waitLong)
				defer cancel()
				_ = f.admin.Do(ctx, "debug", "sleep", "8").Err()
			}()
		},
		clear: func(f *faultEnv) {
			<-woke
			f.do("ping")
		},
		silent: true,
		causes: []string{"deadline exceeded", "timeout"},
	})
}

func TestFaultWrongPassword(t *testing.T) {
	runFault(t, fault{
		name:       "wrong password (requirepass)",
		serverArgs: []string{"--requirepass", "secret"},
		password:   "wrong", subPass: "secret",
		atStart: true,
		inject:  func(*faultEnv) {},
		// The operator fixes the server's password to the client's one;
		// the authenticated connections (admin, subscriber) stay.
		clear:  func(f *faultEnv) { f.do("config", "set", "requirepass", "wrong") },
		silent: true,
		causes: []string{"WRONGPASS"},
	})
}

func TestFaultMaxClients(t *testing.T) {
	runFault(t, fault{
		name:    "maxclients exhausted",
		atStart: true,
		inject: func(f *faultEnv) {
			// The admin and the subscriber hold the only two connections
			// allowed: every dial of the engine's client is refused.
			poll(f.t, "the subscriber to connect", func() bool {
				_, resubs := f.rig.sub.counts()
				return resubs > 0
			})
			f.do("config", "set", "maxclients", "2")
		},
		clear: func(f *faultEnv) {
			// Redis itself says why it refused the engine.
			ctx, cancel := context.WithTimeout(context.Background(), waitLong)
			defer cancel()
			info, err := f.admin.Info(ctx, "stats").Result()
			require.NoError(f.t, err)
			require.NotContains(f.t, info, "rejected_connections:0\r\n")
			f.do("config", "set", "maxclients", "10000")
		},
		silent: true,
		// go-redis (v9.23) takes any error reply to its HELLO handshake for
		// "HELLO not supported" and goes on, so Redis's "-ERR max number of
		// clients reached" is lost and the next write on the closed
		// connection fails: the log names the broken connection, not the
		// limit. RELIABILITY.md records this.
		causes: []string{"max number of clients reached", "broken pipe", "connection reset", "EOF"},
	})
}

// A Redis at maxmemory under noeviction refuses the latest-value HSET but
// accepts PUBLISH: the hash is a cache beside the feed, so the feed goes on
// (the breaker stays closed, nothing is dropped), the refusal is logged once
// and reported by LatestError, and the hash is written again once memory is
// freed.
func TestFaultMaxMemoryNoEviction(t *testing.T) {
	srv := redistest.Start(t, "--maxmemory-policy", "noeviction")
	admin := redis.NewClient(&redis.Options{Addr: srv.Addr(), MaxRetries: -1, DialerRetries: 1, ReadTimeout: waitLong})
	t.Cleanup(func() { admin.Close() })
	r := newRig(t, rigConfig{addr: srv.Addr(), latestKey: true})
	env := &faultEnv{t: t, srv: srv, admin: admin, rig: r}
	r.start()
	r.streaming()

	env.do("config", "set", "maxmemory", "1")
	refusedAfter := poll(t, "an HSET to be refused", func() bool { return r.pub.pub.LatestError() != nil })
	require.ErrorContains(t, r.pub.pub.LatestError(), "OOM command not allowed")
	received, _ := r.sub.counts()
	poll(t, "the feed to go on", func() bool {
		n, _ := r.sub.counts()
		return n >= received+len(r.ins)
	})
	require.Equal(t, "closed", r.state())

	env.do("config", "set", "maxmemory", "0")
	clearAt := time.Now()
	writtenAfter := poll(t, "the hash to be written again", func() bool { return r.pub.pub.LatestError() == nil })
	r.clock.close()
	converged := r.converge(clearAt)
	s, _, _ := r.finishConverged()
	// A loaded machine may time out a batch now and then; none fails for
	// the hash, and the breaker never opens.
	for _, rec := range r.logRecords(failedMsg) {
		require.NotContains(t, rec["error"], "OOM", "a batch failed for a refused HSET")
	}
	require.Zero(t, r.openedAt.Load(), "the breaker opened")
	require.Len(t, r.logRecords("latest-value hash not written; the ticks were published"), 1)
	require.Len(t, r.logRecords("latest-value hash written again"), 1)
	t.Logf("FIGURES | maxmemory, noeviction | first HSET refused after %v | breaker closed throughout | "+
		"dropped %d (publish_failed %d) | hash written again %v after the fault cleared | converged after %v | produced %d published %d",
		refusedAfter.Round(time.Millisecond), s.Dropped.Total(), s.Dropped.PublishFailed, writtenAfter.Round(time.Millisecond),
		converged.Round(time.Millisecond), s.Produced, s.Published)
}

// runFault streams through a Redis of its own, injects the fault, clears it
// and checks the engine's promises (see the package doc).
func runFault(t *testing.T, ft fault) {
	srv := redistest.Start(t, ft.serverArgs...)
	admin := redis.NewClient(&redis.Options{Addr: srv.Addr(), Password: ft.subPass,
		MaxRetries: -1, DialerRetries: 1, ReadTimeout: waitLong})
	t.Cleanup(func() { admin.Close() })
	if ft.password == "" {
		ft.password = ft.subPass
	}
	r := newRig(t, rigConfig{addr: srv.Addr(), password: ft.password, subPass: ft.subPass, latestKey: ft.latestKey})
	env := &faultEnv{t: t, srv: srv, admin: admin, rig: r}
	fig := figures{fault: ft.name, instrumentCount: len(r.ins)}

	var faultAt time.Time
	if ft.atStart {
		ft.inject(env)
		faultAt = r.mark()
		r.start()
	} else {
		r.start()
		r.streaming()
		faultAt = r.mark()
		require.Equal(t, "closed", r.state())
		ft.inject(env)
	}

	fig.toOpen, fig.failsToOpen = r.waitOpen(faultAt)
	if ft.stall > 0 {
		require.Less(t, fig.toOpen, ft.stall, "the breaker opened only once the stall ended: Publish did not return at its deadline")
	}
	require.NotEqual(t, "ok", r.eng.Health().Status)
	fig.sourceRate = r.sourceRate()

	if ft.silent {
		r.clock.close()
	}
	_, resubs0 := r.sub.counts()
	ft.clear(env)
	clearAt := time.Now()
	fig.toClose = r.waitClosed(clearAt)
	if !ft.silent {
		r.rehearThenClose(resubs0)
	}
	fig.toConverge = r.converge(clearAt)
	require.Equal(t, "ok", r.eng.Health().Status)

	fig.stats, fig.longestPublish, fig.longestEmit = r.finishConverged()
	require.Positive(t, fig.stats.Dropped.CircuitOpen+fig.stats.Dropped.PublishFailed, "the fault dropped nothing")
	if ft.silent {
		require.Positive(t, fig.stats.CatchUp, "converged without a catch-up")
	}

	// One record of the failure, naming its cause, and one of the recovery:
	// records come once per change between working and failing, not per
	// batch. A loaded machine can add a later, separate episode (a batch
	// that times out while the restarted server warms up), which is logged
	// as a failure and a recovery of its own, so failures and recoveries
	// pair up, the first naming the fault's cause.
	recs := r.faultRecords(failedMsg)
	fig.failureLogs = len(recs)
	require.NotEmpty(t, recs, "no failure record")
	require.LessOrEqual(t, len(recs), 3, "failure records: %v", recs)
	require.Len(t, r.faultRecords(recoveredMsg), len(recs), "a recovery record per failure record")
	cause, _ := recs[0]["error"].(string)
	fig.cause = cause
	found := false
	for _, c := range ft.causes {
		found = found || strings.Contains(cause, c)
	}
	require.True(t, found, "the failure record's error %q names none of %q", cause, ft.causes)
	fig.log(t)
}

package kite

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/steadfast-go/steadfast/internal/logtest"
	"github.com/steadfast-go/steadfast/internal/metrictest"
	"github.com/steadfast-go/steadfast/ticker"
	"github.com/steadfast-go/steadfast/ticker/market"
)

const secret = "s3cr3t+tok/en" // has characters that URL-encoding changes

func instruments(tokens ...uint32) []ticker.Instrument {
	out := make([]ticker.Instrument, len(tokens))
	for i, t := range tokens {
		out[i] = ticker.Instrument{Token: t}
	}
	return out
}

func tokenRange(n int) []uint32 {
	out := make([]uint32, n)
	for i := range out {
		out[i] = uint32(i+1)<<8 | 1
	}
	return out
}

func debugLogger(buf *logtest.Buffer) *slog.Logger {
	return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// running starts s.Run and returns the ticks channel and a stop function
// that ends Run and returns its error.
func running(t testing.TB, s *Source, emit func(ticker.Tick)) (stop func() error) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, emit) }()
	return func() error {
		cancel()
		return <-done
	}
}

// pipeSource returns a Source talking to f over in-memory pipes, with cfg's
// APIKey, AccessToken, BaseURL and Logger filled in where empty, subscribed
// to tokens, and the function that stops f. Call it in a synctest bubble.
func pipeSource(t *testing.T, f *fakeKite, cfg Config, tokens ...uint32) (*Source, func()) {
	t.Helper()
	dial, stopServer := inMemory(f)
	cfg.Dial, cfg.BaseURL = dial, "ws://kite.test"
	if cfg.APIKey == "" {
		cfg.APIKey = "k"
	}
	if cfg.AccessToken == "" {
		cfg.AccessToken = "t"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s, err := New(cfg)
	require.NoError(t, err)
	require.NoError(t, s.Subscribe(instruments(tokens...), nil))
	return s, stopServer
}

func TestStreamOverLoopback(t *testing.T) {
	f := newFakeKite()
	var logs logtest.Buffer
	reg := prometheus.NewPedanticRegistry()
	s, err := New(Config{APIKey: "key", AccessToken: secret, BaseURL: loopback(t, f), Mode: ModeFull,
		Name: "live", Logger: debugLogger(&logs), Registerer: reg})
	require.NoError(t, err)
	require.NoError(t, s.Subscribe(instruments(tokNSE, tokIndex, tokNFO), nil))
	ticks := make(chan ticker.Tick, 16)
	stop := running(t, s, func(tk ticker.Tick) { ticks <- tk })

	sc := <-f.accepted
	require.Equal(t, fmt.Sprintf(`{"a":"subscribe","v":[%d,%d,%d]}`, tokIndex, tokNSE, tokNFO), sc.next(t))
	require.Equal(t, fmt.Sprintf(`{"a":"mode","v":["full",[%d,%d,%d]]}`, tokIndex, tokNSE, tokNFO), sc.next(t))
	hs := f.shakes()
	require.Len(t, hs, 1)
	require.Equal(t, "key", hs[0].apiKey)
	require.Equal(t, secret, hs[0].token)

	sc.send([]byte{0}) // heartbeat
	sc.sendText(`{"type":"order","data":{"order_id":"1"}}`)
	sc.sendText(`{"type":"error","data":"bad request"}`)
	in := sampleTicks()
	b, err := AppendFrame(nil, []ticker.Tick{in[0], in[3]}, ModeFull)
	require.NoError(t, err)
	sc.send(b)
	sc.send([]byte{0, 1, 0}) // malformed: rejected and counted, the stream goes on
	ltp, err := AppendFrame(nil, []ticker.Tick{{Token: tokNSE, LastPrice: 1450.25}}, ModeLTP)
	require.NoError(t, err)
	before := time.Now()
	sc.send(ltp)

	got := []ticker.Tick{<-ticks, <-ticks, <-ticks}
	require.Equal(t, uint32(tokNFO), got[0].Token)
	require.Equal(t, *in[0].Depth, *got[0].Depth)
	require.True(t, got[0].Time.Equal(in[0].Time), "exchange time kept")
	require.Equal(t, uint32(tokIndex), got[1].Token)
	require.Equal(t, 1450.25, got[2].LastPrice)
	require.False(t, got[2].Time.Before(before.Add(-time.Second)), "receive time for an LTP packet")

	// Unsubscribing sends an unsubscribe message.
	require.NoError(t, s.Subscribe(nil, instruments(tokNSE)))
	require.Equal(t, fmt.Sprintf(`{"a":"unsubscribe","v":[%d]}`, tokNSE), sc.next(t))

	require.Eventually(t, func() bool {
		st := s.Stats()
		return st.Heartbeats == 1 && st.Rejected[ReasonShortHeader] == 1 && st.Packets == 3
	},
		5*time.Second, time.Millisecond)
	st := s.Stats()
	js, err := json.Marshal(st)
	require.NoError(t, err)
	require.Contains(t, string(js), `"short_header":1`)
	require.Equal(t, uint64(3), st.Packets)
	require.Equal(t, uint64(2), st.TextMessages)
	require.Equal(t, uint64(1), st.ServerErrors)
	require.Equal(t, 2, st.Subscribed)
	h := s.Health()
	require.True(t, h.Running)
	require.Equal(t, ConnConnected, h.Conns[0].State)
	require.Equal(t, ConnIdle, h.Conns[1].State)
	v, err := metrictest.Value(reg, "steadfast_kite_packets_total", metrictest.Labels{"name": "live"})
	require.NoError(t, err)
	require.Equal(t, 3.0, v)
	v, err = metrictest.Value(reg, "steadfast_kite_rejected_total", metrictest.Labels{"reason": "short_header"})
	require.NoError(t, err)
	require.Equal(t, 1.0, v)

	require.NoError(t, stop())
	require.False(t, s.Health().Running)
	require.Equal(t, ConnIdle, s.Health().Conns[0].State)
	require.Contains(t, logs.String(), "server error")
	require.Contains(t, logs.String(), "malformed frame")
	require.Contains(t, logs.String(), "component=kite")
	require.NotContains(t, logs.String(), "s3cr3t")
}

// TestReconnectResubscribes: a dropped connection is replaced after a
// backoff within its ceiling, its subscriptions and mode are sent again,
// and a gap is reported.
func TestReconnectResubscribes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeKite()
		var gaps []Gap
		s, stopServer := pipeSource(t, f, Config{Mode: ModeLTP, Backoff: 2 * time.Second, PingTimeout: time.Minute, // no heartbeats here
			OnGap: func(g Gap) { gaps = append(gaps, g) }}, tokenRange(3)...)
		defer stopServer()
		stop := running(t, s, func(ticker.Tick) {})

		first := <-f.accepted
		require.Equal(t, `{"a":"subscribe","v":[257,513,769]}`, first.next(t))
		require.Equal(t, `{"a":"mode","v":["ltp",[257,513,769]]}`, first.next(t))
		time.Sleep(10 * time.Second)
		first.send([]byte{0}) // the last frame: the gap starts here
		synctest.Wait()
		dropped := time.Now()
		first.ws.CloseNow()

		second := <-f.accepted
		wait := f.shakes()[1].at.Sub(dropped)
		require.LessOrEqual(t, wait, 2*time.Second, "first retry within the Backoff ceiling")
		require.Equal(t, `{"a":"subscribe","v":[257,513,769]}`, second.next(t))
		require.Equal(t, `{"a":"mode","v":["ltp",[257,513,769]]}`, second.next(t))
		synctest.Wait()
		st := s.Stats()
		require.Equal(t, uint64(1), st.Reconnects)
		require.Equal(t, uint64(1), st.Gaps)
		require.Len(t, gaps, 1)
		require.Equal(t, []uint32{257, 513, 769}, gaps[0].Tokens)
		require.Equal(t, dropped, gaps[0].Start)
		require.Equal(t, wait, gaps[0].End.Sub(gaps[0].Start))

		// A server that drops every connection at once: the delays grow
		// (their ceilings double) and never pass MaxBackoff.
		for range 8 {
			second.ws.CloseNow()
			second = <-f.accepted
		}
		hs := f.shakes()
		for i := 2; i < len(hs); i++ {
			require.LessOrEqual(t, hs[i].at.Sub(hs[i-1].at), 60*time.Second)
		}
		total := hs[len(hs)-1].at.Sub(hs[2].at)
		require.Greater(t, total, 8*time.Second, "backoff grows when connections do not stay up")
		require.NoError(t, stop())
	})
}

// TestSilenceReconnects: heartbeats keep a connection; no frame at all for
// PingTimeout (by default 5 s, as Kite's official clients; it was 10 s,
// checked every 2.5 s) replaces it within 1.25 × PingTimeout and a backoff.
func TestSilenceReconnects(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeKite()
		s, stopServer := pipeSource(t, f, Config{}, tokNSE)
		defer stopServer()
		stop := running(t, s, func(ticker.Tick) {})
		sc := <-f.accepted
		for range 15 { // 30 s of heartbeats, every 2 s as Kite sends them
			sc.send([]byte{0})
			time.Sleep(2 * time.Second)
		}
		synctest.Wait()
		require.Zero(t, s.Stats().DeadPeers)
		require.Len(t, f.shakes(), 1)
		silent := time.Now()
		<-f.accepted // the replacement
		require.Equal(t, uint64(1), s.Stats().DeadPeers)
		took := f.shakes()[1].at.Sub(silent)
		require.Greater(t, took, 3*time.Second, "5 s since the last heartbeat, sent 2 s before the silence")
		require.Less(t, took, 5*time.Second+5*time.Second/4+time.Second+time.Nanosecond, "PingTimeout, a check period, one backoff")
		require.NoError(t, stop())
	})
}

func TestTokenRefused(t *testing.T) {
	refuseOld := func(_ int, tok string) int {
		if tok == "old" {
			return 403
		}
		return 0
	}
	t.Run("no hook: permanent, one attempt", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			f := newFakeKite()
			f.refuse = refuseOld
			s, stopServer := pipeSource(t, f, Config{AccessToken: "old", MaxPerConn: 1}, tokNSE)
			defer stopServer()
			err := s.Run(context.Background(), func(ticker.Tick) {})
			require.ErrorIs(t, err, ErrAuth)
			var ce *ConnError
			require.True(t, errors.As(err, &ce))
			require.Equal(t, 403, ce.Status)
			require.NotContains(t, err.Error(), "old")
			require.Len(t, f.shakes(), 1)
			require.Contains(t, s.Health().Err, "403")
		})
	})
	t.Run("hook gives a new token", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			f := newFakeKite()
			f.refuse = refuseOld
			var calls atomic.Int32
			s, stopServer := pipeSource(t, f, Config{AccessToken: "old", MaxPerConn: 1, // two connections
				RefreshToken: func(context.Context) (string, error) { calls.Add(1); return "new", nil }}, tokNSE, tokNFO)
			defer stopServer()
			stop := running(t, s, func(ticker.Tick) {})
			<-f.accepted
			<-f.accepted
			require.Equal(t, int32(1), calls.Load(), "one refresh serves both connections")
			for _, h := range f.shakes() {
				if h.status == 0 {
					require.Equal(t, "new", h.token)
				}
			}
			require.Equal(t, uint64(1), s.Stats().Refreshes)
			require.NoError(t, stop())
		})
	})
	t.Run("hook panics: logged with its stack, counted, permanent", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			f := newFakeKite()
			f.refuse = refuseOld
			var logs logtest.Buffer
			s, stopServer := pipeSource(t, f, Config{AccessToken: "old", Logger: debugLogger(&logs),
				RefreshToken: func(context.Context) (string, error) { panic("vault sealed") }}, tokNSE)
			defer stopServer()
			err := s.Run(context.Background(), func(ticker.Tick) {})
			require.ErrorIs(t, err, ErrAuth)
			require.Contains(t, err.Error(), "RefreshToken panicked: vault sealed")
			require.Equal(t, uint64(1), s.Stats().Panics)
			require.Contains(t, logs.String(), `msg="RefreshToken panicked" component=kite name="" panic="vault sealed" stack="goroutine`)
		})
	})
	t.Run("refreshed token refused too: permanent", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			f := newFakeKite()
			f.refuse = func(int, string) int { return 403 }
			var calls atomic.Int32
			s, stopServer := pipeSource(t, f, Config{AccessToken: "old",
				RefreshToken: func(context.Context) (string, error) { calls.Add(1); return fmt.Sprint("new", calls.Load()), nil }}, tokNSE)
			defer stopServer()
			start := time.Now()
			err := s.Run(context.Background(), func(ticker.Tick) {})
			require.ErrorIs(t, err, ErrAuth)
			require.Equal(t, int32(1), calls.Load())
			require.Len(t, f.shakes(), 2)
			require.Less(t, time.Since(start), time.Second, "no retry loop")
		})
	})
}

// TestSpreadOverConnections: 7,000 instruments take three connections of
// up to 3,000, each subscribed in batches of BatchSize.
func TestSpreadOverConnections(t *testing.T) {
	f := newFakeKite()
	s, err := New(Config{APIKey: "k", AccessToken: "t", BaseURL: loopback(t, f), Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	toks := tokenRange(7000)
	require.NoError(t, s.Subscribe(instruments(toks...), nil))
	err = s.Subscribe(instruments(tokenRange(9001)[7000:]...), nil)
	require.ErrorIs(t, err, ErrFull)
	require.Contains(t, err.Error(), "1 instruments left out")
	require.NoError(t, s.Subscribe(nil, instruments(tokenRange(9001)[7000:9000]...)))
	stop := running(t, s, func(ticker.Tick) {})
	// Connections fill in order: tokens 1-3,000 (as numbered by tokenRange),
	// 3,001-6,000, then 6,001-7,000. A connection's first batch tells which
	// it is, so how many tokens it must be sent.
	var got []int
	for range 3 {
		sc := <-f.accepted
		want, n := 3000, 0
		for n < want {
			m := sc.next(t)
			require.True(t, strings.HasPrefix(m, `{"a":"subscribe","v":[`), m)
			if n == 0 && strings.HasPrefix(m, fmt.Sprintf(`{"a":"subscribe","v":[%d,`, toks[6000])) {
				want = 1000
			}
			batch := strings.Count(m, ",") // one after "subscribe", one fewer than tokens in the list
			require.LessOrEqual(t, batch, DefaultBatchSize)
			require.Contains(t, sc.next(t), `{"a":"mode","v":["quote",[`)
			n += batch
		}
		require.Equal(t, want, n)
		got = append(got, n)
	}
	require.ElementsMatch(t, []int{3000, 3000, 1000}, got)
	h := s.Health()
	require.Equal(t, []int{3000, 3000, 1000}, []int{h.Conns[0].Instruments, h.Conns[1].Instruments, h.Conns[2].Instruments})
	require.NoError(t, stop())
}

// TestFourthConnectionRefused: the server refuses a fourth connection
// with 429; it is reported and retried with backoff, not in a storm.
func TestFourthConnectionRefused(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeKite()
		open := 0
		f.refuse = func(int, string) int {
			if open >= 3 {
				return 429
			}
			open++
			return 0
		}
		var logs logtest.Buffer
		s, stopServer := pipeSource(t, f, Config{MaxConns: 4, MaxPerConn: 1,
			PingTimeout: time.Hour, Logger: debugLogger(&logs)}, tokenRange(4)...) // no heartbeats here
		defer stopServer()
		stop := running(t, s, func(ticker.Tick) {})
		for range 3 {
			<-f.accepted
		}
		time.Sleep(5 * time.Minute)
		synctest.Wait()
		st := s.Stats()
		require.GreaterOrEqual(t, st.Refused, uint64(3))
		require.LessOrEqual(t, st.Refused, uint64(100), "backoff growing to 60 s, not a storm (a 1 s retry would make 300)")
		h := s.Health()
		refused := 0
		for _, c := range h.Conns {
			if c.State == ConnWaiting || c.State == ConnConnecting {
				require.Contains(t, c.LastError, "HTTP 429")
				refused++
			}
		}
		require.Equal(t, 1, refused)
		require.Contains(t, logs.String(), "connection refused")
		require.NoError(t, stop())
	})
}

// TestSlowEmitDoesNotStopReading: emit blocks; heartbeats are still read
// (no dead-peer reconnect) and frames beyond the queue are dropped.
func TestSlowEmitDoesNotStopReading(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeKite()
		release := make(chan struct{})
		s, stopServer := pipeSource(t, f, Config{PingTimeout: 3 * time.Second, QueueSize: 4}, tokNSE)
		defer stopServer()
		var emitted atomic.Int32
		stop := running(t, s, func(ticker.Tick) { emitted.Add(1); <-release })
		sc := <-f.accepted
		b, err := AppendFrame(nil, []ticker.Tick{{Token: tokNSE, LastPrice: 1}}, ModeLTP)
		require.NoError(t, err)
		for range 20 {
			sc.send(b)
			sc.send([]byte{0})
			time.Sleep(time.Second)
		}
		synctest.Wait()
		st := s.Stats()
		require.Zero(t, st.DeadPeers)
		require.Equal(t, uint64(20), st.Heartbeats)
		require.Equal(t, uint64(20), st.Frames)
		require.Equal(t, uint64(20-4), st.DroppedFrames, "QueueSize buffers: one in emit, three queued")
		require.Equal(t, int32(1), emitted.Load())
		close(release)
		require.NoError(t, stop())
	})
}

// mondaySession moves a synctest bubble's clock (Saturday 2000-01-01 UTC
// at its start) to Monday 10:00 IST, when the market is open.
func mondaySession() {
	time.Sleep(time.Until(time.Date(2000, 1, 3, 10, 0, 0, 0, market.IST())))
}

// TestStallInMarketHours: heartbeats without data for StallTimeout while
// the market is open mark the connection stalled and resend its
// subscriptions on the same connection; data then clears the stall.
// Before, a stall was reported and nothing else was done.
func TestStallInMarketHours(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		mondaySession()
		f := newFakeKite()
		s, stopServer := pipeSource(t, f, Config{StallTimeout: 20 * time.Second}, tokNSE)
		defer stopServer()
		stop := running(t, s, func(ticker.Tick) {})
		sc := <-f.accepted
		require.Equal(t, fmt.Sprintf(`{"a":"subscribe","v":[%d]}`, tokNSE), sc.next(t))
		require.Equal(t, fmt.Sprintf(`{"a":"mode","v":["quote",[%d]]}`, tokNSE), sc.next(t))
		for range 30 {
			sc.send([]byte{0})
			time.Sleep(time.Second)
		}
		synctest.Wait()
		require.True(t, s.Health().Stalled)
		require.True(t, s.Health().Conns[0].Stalled)
		st := s.Stats()
		require.Equal(t, uint64(1), st.Stalls)
		require.Equal(t, uint64(1), st.Resubscribes)
		require.Equal(t, fmt.Sprintf(`{"a":"subscribe","v":[%d]}`, tokNSE), sc.next(t), "resubscribed on the same connection")
		require.Equal(t, fmt.Sprintf(`{"a":"mode","v":["quote",[%d]]}`, tokNSE), sc.next(t))
		b, err := AppendFrame(nil, []ticker.Tick{{Token: tokNSE, LastPrice: 1}}, ModeLTP)
		require.NoError(t, err)
		sc.send(b)
		for range 30 { // data came: heartbeats alone for 30 s more stall it again only after StallTimeout
			sc.send([]byte{0})
			time.Sleep(time.Second / 2)
		}
		synctest.Wait()
		require.False(t, s.Health().Stalled)
		require.Zero(t, s.Stats().Reconnects, "resubscribing healed it")
		require.Len(t, f.shakes(), 1)
		require.NoError(t, stop())
	})
}

// TestStallReconnects: a connection still stalled StallTimeout after its
// subscriptions were sent again is replaced, and the new one subscribed.
func TestStallReconnects(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		mondaySession()
		f := newFakeKite()
		s, stopServer := pipeSource(t, f, Config{AccessToken: secret, StallTimeout: 20 * time.Second, Backoff: time.Second}, tokNSE)
		defer stopServer()
		stop := running(t, s, func(ticker.Tick) {})
		sc := <-f.accepted
		start := time.Now()
		go func() { // heartbeats only, until the client leaves
			for {
				select {
				case <-sc.done:
					return
				case <-time.After(time.Second):
					sc.send([]byte{0})
				}
			}
		}()
		second := <-f.accepted
		took := time.Since(start)
		require.Greater(t, took, 40*time.Second, "two StallTimeouts: one before resubscribing, one after")
		require.Less(t, took, 40*time.Second+2*(20*time.Second/4)+time.Second+time.Nanosecond, "and a check period each, and a backoff")
		st := s.Stats()
		require.Equal(t, uint64(1), st.Resubscribes)
		require.Equal(t, uint64(1), st.StallReconnects)
		require.Equal(t, uint64(1), st.Reconnects)
		require.Zero(t, st.DeadPeers, "its heartbeats kept it alive")
		require.Equal(t, fmt.Sprintf(`{"a":"subscribe","v":[%d]}`, tokNSE), second.next(t))
		require.Contains(t, s.Health().Conns[0].LastError, "no data for 20s after resubscribing")
		require.NoError(t, stop())
	})
}

// TestTokenNeverLeaks: a failing dial's errors, logs and metrics do not
// show the access token.
func TestTokenNeverLeaks(t *testing.T) {
	var logs logtest.Buffer
	reg := prometheus.NewPedanticRegistry()
	s, err := New(Config{APIKey: "k", AccessToken: secret, BaseURL: "ws://127.0.0.1:1/", Backoff: 100 * time.Millisecond,
		MaxBackoff: 200 * time.Millisecond, Logger: debugLogger(&logs), Registerer: reg})
	require.NoError(t, err)
	require.NoError(t, s.Subscribe(instruments(tokNSE), nil))
	stop := running(t, s, func(ticker.Tick) {})
	require.Eventually(t, func() bool { return s.Stats().DialErrors >= 3 }, 10*time.Second, time.Millisecond)
	require.NoError(t, stop())
	h := s.Health()
	require.Contains(t, h.Conns[0].LastError, "REDACTED")
	mfs, err := reg.Gather()
	require.NoError(t, err)
	metrics := fmt.Sprint(mfs) // names, help, label names and values
	require.Contains(t, metrics, "steadfast_kite_dials_total")
	for _, out := range []string{logs.String(), h.Conns[0].LastError, metrics} {
		require.NotContains(t, out, "s3cr3t")
	}
	require.Contains(t, logs.String(), "cannot connect")
}

func TestConfig(t *testing.T) {
	ok := Config{APIKey: "k", AccessToken: "t"}
	tests := []struct {
		mod   func(*Config)
		field string
	}{
		{func(c *Config) { c.APIKey = "" }, "APIKey"},
		{func(c *Config) { c.AccessToken = "" }, "AccessToken"},
		{func(c *Config) { c.BaseURL = "https://x" }, "BaseURL"},
		{func(c *Config) { c.Mode = 9 }, "Mode"},
		{func(c *Config) { c.MaxConns = -1 }, "MaxConns"},
		{func(c *Config) { c.MaxConns = MaxMaxConns + 1 }, "MaxConns"},
		{func(c *Config) { c.PingTimeout = -1 }, "PingTimeout"},
		{func(c *Config) { c.Backoff = 2 * time.Second; c.MaxBackoff = time.Second }, "MaxBackoff"},
		// Durations below their floor: StallTimeout 3 (a slipped untyped
		// constant) made time.NewTicker panic on a goroutine no one could
		// recover; 60 made the watchdog spin.
		{func(c *Config) { c.StallTimeout = 3 }, "StallTimeout (3ns) is below its floor of 1s"},
		{func(c *Config) { c.StallTimeout = 60 }, "StallTimeout (60ns) is below its floor of 1s"},
		{func(c *Config) { c.PingTimeout = 999 * time.Millisecond }, "PingTimeout (999ms) is below its floor of 1s"},
		{func(c *Config) { c.Backoff = 10 * time.Millisecond }, "Backoff (10ms) is below its floor of 100ms"},
		{func(c *Config) { c.MaxBackoff = 5 }, "MaxBackoff (5ns) is below its floor of 100ms"},
		{func(c *Config) { c.StableAfter = 10 }, "StableAfter (10ns) is below its floor of 1s"},
	}
	for _, tt := range tests {
		c := ok
		tt.mod(&c)
		_, err := New(c)
		require.ErrorContains(t, err, "kite: Config."+tt.field)
	}
	s, err := New(ok)
	require.NoError(t, err)
	require.Equal(t, DefaultBaseURL, s.cfg.BaseURL)
	require.Equal(t, ModeQuote, s.cfg.Mode)
	require.Len(t, s.Health().Conns, 3)
	c := ok
	c.Backoff = 2 * time.Minute // a larger Backoff raises the default cap
	s, err = New(c)
	require.NoError(t, err)
	require.Equal(t, 2*time.Minute, s.cfg.MaxBackoff)
	c = ok
	c.MaxBackoff = 500 * time.Millisecond // a smaller cap shrinks the default Backoff
	s, err = New(c)
	require.NoError(t, err)
	require.Equal(t, 500*time.Millisecond, s.cfg.Backoff)
	c = ok
	c.StallTimeout = -1
	_, err = New(c)
	require.NoError(t, err, "negative StallTimeout turns the check off")

	reg := prometheus.NewPedanticRegistry()
	_, err = New(Config{APIKey: "k", AccessToken: "t", Name: "a", Registerer: reg})
	require.NoError(t, err)
	_, err = New(Config{APIKey: "k", AccessToken: "t", Name: "a", Registerer: reg})
	require.ErrorContains(t, err, `kite: metrics for name "a" are already registered`)
}

func TestRunTwice(t *testing.T) {
	s, err := New(Config{APIKey: "k", AccessToken: "t"})
	require.NoError(t, err)
	stop := running(t, s, func(ticker.Tick) {})
	require.Eventually(t, func() bool { return s.Health().Running }, 5*time.Second, time.Millisecond)
	require.ErrorIs(t, s.Run(context.Background(), func(ticker.Tick) {}), ErrRunning)
	require.NoError(t, stop())
}

// TestEmitPanicContained: a panic in emit is recovered, logged and counted,
// and the stream goes on.
func TestEmitPanicContained(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeKite()
		var logs logtest.Buffer
		s, stopServer := pipeSource(t, f, Config{Logger: debugLogger(&logs)}, tokNSE)
		defer stopServer()
		var got []float64
		stop := running(t, s, func(tk ticker.Tick) {
			if tk.LastPrice == 1 {
				panic("consumer bug")
			}
			got = append(got, tk.LastPrice)
		})
		sc := <-f.accepted
		for _, p := range []float64{1, 2} {
			b, err := AppendFrame(nil, []ticker.Tick{{Token: tokNSE, LastPrice: p}}, ModeLTP)
			require.NoError(t, err)
			sc.send(b)
		}
		synctest.Wait()
		require.Equal(t, []float64{2}, got)
		require.Equal(t, uint64(1), s.Stats().Panics)
		require.Contains(t, logs.String(), "panic=\"consumer bug\"")
		require.Contains(t, logs.String(), "stack=")
		require.NoError(t, stop())
	})
}

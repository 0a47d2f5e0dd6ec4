package kite_test

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/steadfast-go/steadfast/ticker"
	"github.com/steadfast-go/steadfast/ticker/kite"
)

// FuzzNew checks that any Config is either refused with an error naming
// one of its fields, or makes a Source that runs: for 20 simulated seconds
// of market hours it streams from a Server over in-memory connections,
// with no panic, no spinning (a watchdog on a tiny period would keep the
// bubble's clock from reaching the end) and a clean stop. The seed corpus
// is in testdata/fuzz/FuzzNew.
func FuzzNew(f *testing.F) {
	f.Fuzz(func(t *testing.T, apiKey, token, baseURL string, mode uint8, perConn, conns, batch int,
		ping, stall, backoff, maxBackoff, stable int64, queue int) {
		if conns > 1<<16 {
			conns = 1 << 16 // New makes one record per connection
		}
		cfg := kite.Config{
			APIKey: apiKey, AccessToken: token, BaseURL: baseURL, Mode: kite.Mode(mode),
			MaxPerConn: perConn, MaxConns: conns, BatchSize: batch,
			PingTimeout: time.Duration(ping), StallTimeout: time.Duration(stall),
			Backoff: time.Duration(backoff), MaxBackoff: time.Duration(maxBackoff),
			StableAfter: time.Duration(stable), QueueSize: queue,
			Logger: slog.New(slog.DiscardHandler),
		}
		src, err := kite.New(cfg)
		if err != nil {
			for _, field := range []string{"APIKey", "AccessToken", "RefreshToken", "BaseURL", "Mode", "MaxPerConn", "MaxConns",
				"BatchSize", "PingTimeout", "StallTimeout", "Backoff", "MaxBackoff", "StableAfter", "QueueSize"} {
				if strings.Contains(err.Error(), "kite: Config."+field) {
					return
				}
			}
			t.Fatalf("error names no field: %v", err)
		}
		_ = src
		synctest.Test(t, func(t *testing.T) { runFor(t, cfg, 20*time.Second) })
	})
}

// FuzzNewServer checks that any ServerConfig is either refused with an
// error naming one of its fields, or makes a Server that serves a Source
// for 20 simulated seconds with no panic and no spinning. The seed corpus is
// in testdata/fuzz/FuzzNewServer.
func FuzzNewServer(f *testing.F) {
	f.Add(0, 0, int64(0), int64(0), 0)
	f.Add(1, 1, int64(time.Second), int64(50*time.Millisecond), 1)
	f.Add(3000, 3, int64(-1), int64(time.Millisecond), 64)
	f.Add(2, 1, int64(5), int64(250), 1)
	f.Fuzz(func(t *testing.T, perConn, conns int, heartbeat, flush int64, queue int) {
		cfg := kite.ServerConfig{Source: ticking{}, APIKey: "key", AccessToken: "token",
			MaxPerConn: perConn, MaxConns: conns, Heartbeat: time.Duration(heartbeat),
			FlushInterval: time.Duration(flush), QueueSize: queue, Logger: slog.New(slog.DiscardHandler)}
		if _, err := kite.NewServer(cfg); err != nil {
			for _, field := range []string{"MaxPerConn", "MaxConns", "Heartbeat", "FlushInterval", "QueueSize"} {
				if strings.Contains(err.Error(), "kite: ServerConfig."+field) {
					return
				}
			}
			t.Fatalf("error names no field: %v", err)
		}
		synctest.Test(t, func(t *testing.T) {
			runFor(t, kite.Config{APIKey: "key", AccessToken: "token", BaseURL: "ws://kite.test",
				Logger: slog.New(slog.DiscardHandler)}, 20*time.Second, cfg)
		})
	})
}

// ticking is a Source that emits a tick of each subscribed instrument
// every second until its context ends.
type ticking struct{}

func (ticking) Subscribe(_, _ []ticker.Instrument) error { return nil }

func (ticking) Run(ctx context.Context, emit func(ticker.Tick)) error {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for i := 1; ; i++ {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			for _, tok := range []uint32{256265, 408065<<8 | 1} {
				emit(ticker.Tick{Token: tok, LastPrice: float64(100 + i)})
			}
		}
	}
}

// runFor runs a Source for cfg against a Server (for srvCfg, or defaults
// with cfg's credentials) over in-memory connections, for d of a Monday
// session in a synctest bubble, then stops both and checks that Run
// returned nil.
func runFor(t *testing.T, cfg kite.Config, d time.Duration, srvCfg ...kite.ServerConfig) {
	t.Helper()
	// The bubble starts on Saturday 2000-01-01 UTC; go to Monday 10:00 IST,
	// when the market is open and the stall check runs.
	time.Sleep(time.Until(time.Date(2000, 1, 3, 10, 0, 0, 0, time.FixedZone("IST", 5*3600+1800))))
	sc := kite.ServerConfig{Source: ticking{}, APIKey: cfg.APIKey, AccessToken: cfg.AccessToken,
		Logger: slog.New(slog.DiscardHandler)}
	if len(srvCfg) > 0 {
		sc = srvCfg[0]
	}
	if sc.APIKey == "" || sc.AccessToken == "" {
		sc.APIKey, sc.AccessToken = "-", "-" // the client is refused
	}
	srv, err := kite.NewServer(sc)
	if err != nil {
		t.Fatal(err)
	}
	l := &pipes{conns: make(chan net.Conn), done: make(chan struct{})}
	hs := &http.Server{Handler: srv}
	var wg sync.WaitGroup
	wg.Go(func() { _ = hs.Serve(l) })
	cfg.Dial = l.dial
	src, err := kite.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	_ = src.Subscribe([]ticker.Instrument{{Token: 256265}, {Token: 408065<<8 | 1}}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	var srcErr, srvErr error
	wg.Go(func() { srvErr = srv.Run(ctx) })
	done := make(chan struct{})
	go func() { defer close(done); srcErr = src.Run(ctx, func(ticker.Tick) {}) }()
	time.Sleep(d)
	cancel()
	<-done
	_ = hs.Close()
	wg.Wait()
	if srvErr != nil {
		t.Fatalf("Server.Run: %v", srvErr)
	}
	if srcErr != nil && !strings.Contains(srcErr.Error(), "kite: access token refused") {
		t.Fatalf("Source.Run: %v", srcErr)
	}
}

// pipes is a net.Listener of in-memory connections, whose dial is a
// Config.Dial.
type pipes struct {
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

func (l *pipes) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *pipes) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

func (l *pipes) Addr() net.Addr { return pipeAddr{} }

func (l *pipes) dial(ctx context.Context, _, _ string) (net.Conn, error) {
	c, s := net.Pipe()
	select {
	case l.conns <- s:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

type pipeAddr struct{}

func (pipeAddr) Network() string { return "pipe" }
func (pipeAddr) String() string  { return "pipe" }

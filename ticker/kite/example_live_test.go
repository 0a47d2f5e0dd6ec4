package kite_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"time"

	"github.com/steadfast-go/steadfast/ticker"
	"github.com/steadfast-go/steadfast/ticker/kite"
	"github.com/steadfast-go/steadfast/ticker/market"
)

// two is what the examples below stream: two NSE equities.
var two = []ticker.Instrument{{Token: 408065, Symbol: "INFY"}, {Token: 738561, Symbol: "RELIANCE"}}

// repeat is a ticker.Source that emits the same ticks every few
// milliseconds until its context ends, so that a client sees them whenever
// it subscribes.
type repeat struct{}

func (repeat) Run(ctx context.Context, emit func(ticker.Tick)) error {
	at := time.Date(2026, 12, 7, 10, 0, 0, 0, market.IST())
	tk := time.NewTicker(5 * time.Millisecond)
	defer tk.Stop()
	for {
		emit(ticker.Tick{Token: 408065, LastPrice: 1450.25, Time: at})
		emit(ticker.Tick{Token: 738561, LastPrice: 1288.6, Time: at})
		select {
		case <-ctx.Done():
			return nil
		case <-tk.C:
		}
	}
}

func (repeat) Subscribe(add, remove []ticker.Instrument) error { return nil }

// loopback serves a kite.Server fed by src on 127.0.0.1 and returns it with
// its ws:// URL and a stop function that ends it and waits for it.
func loopback(src ticker.Source) (*kite.Server, string, func()) {
	quiet := slog.New(slog.DiscardHandler)
	srv, err := kite.NewServer(kite.ServerConfig{Source: src, APIKey: "key", AccessToken: "token", Logger: quiet})
	if err != nil {
		panic(err)
	}
	hs := httptest.NewServer(srv)
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Run(ctx) }()
	return srv, "ws" + strings.TrimPrefix(hs.URL, "http"), func() {
		cancel()
		<-served
		hs.Close()
	}
}

// Health reports each connection slot of a Source: which instruments it was
// given and what it is doing. Instruments fill the first connection, then
// the next; before Run every slot is idle.
func ExampleHealth() {
	src, err := kite.New(kite.Config{APIKey: "key", AccessToken: "token", MaxPerConn: 1, MaxConns: 3})
	if err != nil {
		panic(err)
	}
	if err := src.Subscribe(two, nil); err != nil {
		panic(err)
	}
	h := src.Health()
	fmt.Println("running", h.Running, "stalled", h.Stalled, "error", h.Err == "", "conns", len(h.Conns))
	// Output:
	// running false stalled false error true conns 3
}

// A ConnHealth is one connection's line in Health: its state since when,
// its instruments, its last frames and its last failure.
func ExampleConnHealth() {
	src, err := kite.New(kite.Config{APIKey: "key", AccessToken: "token", MaxPerConn: 1, MaxConns: 3})
	if err != nil {
		panic(err)
	}
	if err := src.Subscribe(two, nil); err != nil {
		panic(err)
	}
	for _, c := range src.Health().Conns {
		fmt.Println(c.Conn, c.State, c.Instruments, "last data", c.LastData.IsZero(), "error", c.LastError == "")
	}
	// Output:
	// 0 idle 1 last data true error true
	// 1 idle 1 last data true error true
	// 2 idle 0 last data true error true
}

// Stats counts what a Source received and how its connections fared;
// ServerStats does the same on the Server's side. Read while the client
// has every instrument, the counts below are the same on every run.
func ExampleStats() {
	srv, url, stop := loopback(repeat{})
	defer stop()
	src, err := kite.New(kite.Config{APIKey: "key", AccessToken: "token", BaseURL: url, Mode: kite.ModeLTP,
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		panic(err)
	}
	if err := src.Subscribe(two, nil); err != nil {
		panic(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var (
		seen   = map[uint32]bool{}
		server kite.ServerStats
	)
	err = src.Run(ctx, func(t ticker.Tick) {
		seen[t.Token] = true // emit is called from one goroutine at a time
		if len(seen) == len(two) && server.Accepted == 0 {
			server = srv.Stats()
			cancel()
		}
	})
	fmt.Println("Run:", err)
	st := src.Stats()
	var rejected uint64
	for _, n := range st.Rejected {
		rejected += n
	}
	fmt.Println("client: dials", st.Dials, "connects", st.Connects, "subscribed", st.Subscribed,
		"rejected", rejected, "every tick emitted", st.Packets >= uint64(len(two)))
	fmt.Println("server: accepted", server.Accepted, "open", server.Conns, "instruments", server.Instruments,
		"forbidden", server.Forbidden)
	// Output:
	// Run: <nil>
	// client: dials 1 connects 1 subscribed 2 rejected 0 every tick emitted true
	// server: accepted 1 open 1 instruments 2 forbidden 0
}

// stale returns a Source for the Server at url, subscribed to two, whose
// access token the Server refuses.
func stale(url string) *kite.Source {
	src, err := kite.New(kite.Config{APIKey: "key", AccessToken: "stale", BaseURL: url,
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		panic(err)
	}
	if err := src.Subscribe(two, nil); err != nil {
		panic(err)
	}
	return src
}

// ServerStats counts the handshakes a Server refused: here one with a
// wrong access token (HTTP 403).
func ExampleServerStats() {
	srv, url, stop := loopback(idle{})
	defer stop()
	src := stale(url)
	_ = src.Run(context.Background(), func(ticker.Tick) {}) // returns the refusal (ExampleConnError)
	st := srv.Stats()
	fmt.Println("accepted", st.Accepted, "forbidden", st.Forbidden, "refused", st.Refused, "open", st.Conns)
	// Output:
	// accepted 0 forbidden 1 refused 0 open 0
}

// A refused access token with no RefreshToken hook ends Run with a
// *ConnError wrapping ErrAuth: permanent, not retried. Its message never
// holds the token.
func ExampleConnError() {
	_, url, stop := loopback(idle{})
	defer stop()
	src := stale(url)
	err := src.Run(context.Background(), func(ticker.Tick) {})
	var ce *kite.ConnError
	if errors.As(err, &ce) {
		fmt.Println("conn", ce.Conn, "status", ce.Status)
	}
	fmt.Println("auth", errors.Is(err, kite.ErrAuth), "dial", errors.Is(err, kite.ErrDial),
		"token shown", strings.Contains(err.Error(), "stale"))
	st := src.Stats()
	fmt.Println("dials", st.Dials, "auth errors", st.AuthErrors, "health error set", src.Health().Err != "")
	// Output:
	// conn 0 status 403
	// auth true dial false token shown false
	// dials 1 auth errors 1 health error set true
}

// After a lost connection is restored, OnGap is told which instruments may
// have missed ticks and since when. Here the Server drops the connection
// once the client has every instrument.
func ExampleGap() {
	srv, url, stop := loopback(repeat{})
	defer stop()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var (
		mu   sync.Mutex
		gaps []kite.Gap
	)
	src, err := kite.New(kite.Config{APIKey: "key", AccessToken: "token", BaseURL: url, Mode: kite.ModeLTP,
		Backoff: 100 * time.Millisecond, Logger: slog.New(slog.DiscardHandler),
		OnGap: func(g kite.Gap) {
			mu.Lock()
			gaps = append(gaps, g)
			mu.Unlock()
			cancel()
		}})
	if err != nil {
		panic(err)
	}
	if err := src.Subscribe(two, nil); err != nil {
		panic(err)
	}
	var once sync.Once
	err = src.Run(ctx, func(ticker.Tick) { once.Do(func() { srv.DropConns() }) })
	fmt.Println("Run:", err)
	mu.Lock()
	defer mu.Unlock()
	for _, g := range gaps {
		fmt.Println("conn", g.Conn, "tokens", g.Tokens, "ordered", !g.End.Before(g.Start))
	}
	fmt.Println("reconnects", src.Stats().Reconnects, "gaps", src.Stats().Gaps)
	// Output:
	// Run: <nil>
	// conn 0 tokens [408065 738561] ordered true
	// reconnects 1 gaps 1
}

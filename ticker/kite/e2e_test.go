package kite_test

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/steadfast-go/steadfast/ticker"
	"github.com/steadfast-go/steadfast/ticker/kite"
	"github.com/steadfast-go/steadfast/ticker/market"
	"github.com/steadfast-go/steadfast/ticker/mock"
)

// tee is a Source that records every tick its Source emits, with when.
type tee struct {
	ticker.Source

	mu   sync.Mutex
	seen map[uint32][]emitted
}

type emitted struct {
	tick ticker.Tick
	at   time.Time // wall clock
}

func (s *tee) Run(ctx context.Context, emit func(ticker.Tick)) error {
	return s.Source.Run(ctx, func(t ticker.Tick) {
		s.mu.Lock()
		s.seen[t.Token] = append(s.seen[t.Token], emitted{t, time.Now()})
		s.mu.Unlock()
		emit(t)
	})
}

// source returns when the Source emitted a tick that got, received over
// the wire in full mode, reproduces within the wire's precision: prices to
// the paise, the exchange time to the second, quantities exactly.
func (s *tee) source(got ticker.Tick) (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	paise := func(a, b float64) bool { return math.Abs(a-b) < 0.005 }
	for _, e := range slices.Backward(s.seen[got.Token]) {
		w := e.tick
		if !paise(got.LastPrice, w.LastPrice) || !got.Time.Equal(time.Unix(w.Time.Unix(), 0)) {
			continue
		}
		if got.Token&0xFF != kite.SegmentIndices && (got.Volume != w.Volume || got.OpenInterest != w.OpenInterest ||
			!paise(got.Bid, w.Bid) || !paise(got.Ask, w.Ask) || got.BidQty != w.BidQty || got.AskQty != w.AskQty) {
			continue
		}
		return e.at, true
	}
	return time.Time{}, false
}

// published is a Publisher that records every tick.
type published struct {
	mu    sync.Mutex
	ticks []ticker.Tick
	more  chan struct{} // capacity 1: ticks were added
}

func (p *published) Publish(_ context.Context, ticks []ticker.Tick) error {
	p.mu.Lock()
	p.ticks = append(p.ticks, ticks...)
	p.mu.Unlock()
	select {
	case p.more <- struct{}{}:
	default:
	}
	return nil
}

func (p *published) since(from int) []ticker.Tick {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.ticks[min(from, len(p.ticks)):])
}

// waitAll waits until n ticks of every token are published at index from
// or later, and returns the index reached; it fails the test when ctx ends.
func (p *published) waitAll(ctx context.Context, t *testing.T, tokens []uint32, n, from int) int {
	t.Helper()
	for {
		got := p.since(from)
		count := map[uint32]int{}
		for _, tk := range got {
			count[tk.Token]++
		}
		missing := slices.DeleteFunc(slices.Clone(tokens), func(tok uint32) bool { return count[tok] >= n })
		if len(missing) == 0 {
			return from + len(got)
		}
		select {
		case <-p.more:
		case <-ctx.Done():
			t.Fatalf("fewer than %d ticks published for %d of %d instruments: %v", n, len(missing), len(tokens), missing)
		}
	}
}

// The whole live path over loopback, with no credentials: a simulated
// market (mock.Source on a session clock from 10:00 IST on a trading day) →
// Server (Kite's protocol on 127.0.0.1) → Source (the live client, full
// mode) → Engine → a Publisher. Every subscribed instrument is published
// with the prices the mock produced, to the paise; when the server drops
// the connection, the client reconnects, resubscribes, reports the gap, and
// every instrument streams again; the engine's accounting identity holds.
func TestEndToEndOverLoopback(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
	defer cancel()
	quiet := slog.New(slog.DiscardHandler)

	at := time.Date(2026, 12, 7, 10, 0, 0, 0, market.IST()) // a Monday
	nifty := []market.UnderlyingSpec{market.NIFTY()}
	ins, err := market.Universe(market.UniverseConfig{
		Seed: 7, Date: at, Underlyings: nifty, Expiries: 1, StrikesPerSide: 2, Futures: 1,
	})
	require.NoError(t, err)
	tokens := make([]uint32, len(ins))
	for i, in := range ins {
		tokens[i] = in.Token
	}
	slices.Sort(tokens)
	mock, err := mock.New(mock.Config{
		Seed: 7, Now: market.SessionClock(at, market.Hours{}, 1), Interval: 100 * time.Millisecond,
		Underlyings: nifty, Logger: quiet,
	})
	require.NoError(t, err)
	require.NoError(t, mock.Subscribe(ins, nil))
	market := &tee{Source: mock, seen: map[uint32][]emitted{}}

	srv, err := kite.NewServer(kite.ServerConfig{Source: market, APIKey: "key", AccessToken: "token", Logger: quiet})
	require.NoError(t, err)
	hs := httptest.NewServer(srv) // 127.0.0.1
	defer hs.Close()
	require.True(t, strings.HasPrefix(hs.URL, "http://127.0.0.1:"), hs.URL)

	gaps := make(chan kite.Gap, 16)
	src, err := kite.New(kite.Config{
		APIKey: "key", AccessToken: "token", BaseURL: "ws" + strings.TrimPrefix(hs.URL, "http"),
		Mode: kite.ModeFull, Backoff: 100 * time.Millisecond, Logger: quiet,
		OnGap: func(g kite.Gap) { gaps <- g },
	})
	require.NoError(t, err)
	pub := &published{more: make(chan struct{}, 1)}
	eng, err := ticker.New(ticker.Config{
		Source: src, Publisher: pub, Logger: quiet,
		Instruments: func(context.Context) ([]ticker.Instrument, error) { return ins, nil },
	})
	require.NoError(t, err)

	srvCtx, stopSrv := context.WithCancel(ctx)
	defer stopSrv()
	srvDone := make(chan error, 1)
	go func() { srvDone <- srv.Run(srvCtx) }()
	engCtx, stopEng := context.WithCancel(ctx)
	defer stopEng()
	engDone := make(chan error, 1)
	go func() { engDone <- eng.Run(engCtx) }()

	// Every instrument streams.
	const rounds = 5
	mark := pub.waitAll(ctx, t, tokens, rounds, 0)

	// The server drops the connection: the client reconnects, resubscribes
	// and reports the gap, and every instrument streams again.
	dropping := time.Now()
	require.Equal(t, 1, srv.DropConns(), "12 instruments take one connection")
	dropped := time.Now()
	var g kite.Gap
	select {
	case g = <-gaps:
	case <-ctx.Done():
		t.Fatal("no gap reported after the connection was dropped")
	}
	require.Equal(t, 0, g.Conn)
	require.Equal(t, tokens, g.Tokens)
	require.True(t, g.Start.Before(g.End), "gap %v to %v", g.Start, g.End)
	require.True(t, g.End.After(dropping))
	resumed := pub.waitAll(ctx, t, tokens, rounds, mark)

	stopEng()
	require.NoError(t, <-engDone)
	stopSrv()
	require.NoError(t, <-srvDone)

	// Every tick published is one the mock produced, to the paise; for each
	// instrument, one published after the drop was produced after it.
	after := map[uint32]bool{}
	for i, tk := range pub.since(0) {
		when, ok := market.source(tk)
		require.True(t, ok, "published tick %d (token %d, %.2f at %v) is not one the mock produced", i, tk.Token, tk.LastPrice, tk.Time)
		require.NotNil(t, tk.Instrument)
		if i >= mark && i < resumed && when.After(dropped) {
			after[tk.Token] = true
		}
	}
	require.Len(t, after, len(tokens), "instruments streamed again after the drop")

	es, ks, ss := eng.Stats(), src.Stats(), srv.Stats()
	require.Equal(t, es.Produced, es.Published+es.Conflated+es.Invalid+es.Dropped.Total()+es.Pending, "accounting identity: %+v", es)
	require.Zero(t, es.Invalid, "%+v", es)
	require.Equal(t, ks.Packets, es.Produced, "the engine got every tick the client decoded")
	require.Zero(t, ks.DroppedFrames)
	require.Zero(t, ks.Rejected[kite.ReasonBadLength]+ks.Rejected[kite.ReasonTruncated])
	require.GreaterOrEqual(t, ks.Reconnects, uint64(1))
	require.GreaterOrEqual(t, ks.Gaps, uint64(1))
	require.GreaterOrEqual(t, ss.Accepted, uint64(2))
	require.LessOrEqual(t, ks.Packets, ss.Packets, "the client decoded no more than the server sent")
	require.Zero(t, ss.Unencodable)
	t.Log(fmt.Sprintf("published %d ticks of %d instruments; server sent %d frames, %d packets, %d heartbeats; client %+v",
		len(pub.since(0)), len(tokens), ss.Frames, ss.Packets, ss.Heartbeats, ks))
}

// A negative price over the whole live path: Kite's wire carries signed
// prices (MCX crude oil futures settled at -37.63 on 20 April 2020). The
// engine validates each tick with its instrument's kind, so the future's
// negative ticks are published, and an option's negative tick is refused
// as invalid. Before, every negative price was refused and such an
// instrument froze silently.
func TestNegativeFuturePriceEndToEnd(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	quiet := slog.New(slog.DiscardHandler)
	const (
		crude  = 58424839   // MCX (segment 7): a future
		option = 0x00ABCD02 // NFO (segment 2): a call
	)
	ins := []ticker.Instrument{
		{Token: crude, Symbol: "CRUDEOIL20APRFUT", Exchange: "MCX", Underlying: "CRUDEOIL", Kind: ticker.KindFuture},
		{Token: option, Symbol: "NIFTY26DEC24000CE", Exchange: "NFO", Underlying: "NIFTY", Kind: ticker.KindCall, Strike: 24000},
	}
	market := sourceFunc(func(ctx context.Context, emit func(ticker.Tick)) error {
		tk := time.NewTicker(50 * time.Millisecond)
		defer tk.Stop()
		for i := 0; ; i++ {
			select {
			case <-ctx.Done():
				return nil
			case <-tk.C:
				emit(ticker.Tick{Token: crude, LastPrice: -37.63 - float64(i%3)/100, Close: 18.27})
				emit(ticker.Tick{Token: option, LastPrice: -1})
			}
		}
	})
	srv, err := kite.NewServer(kite.ServerConfig{Source: market, APIKey: "key", AccessToken: "token", Logger: quiet})
	require.NoError(t, err)
	hs := httptest.NewServer(srv)
	defer hs.Close()
	src, err := kite.New(kite.Config{APIKey: "key", AccessToken: "token", BaseURL: "ws" + strings.TrimPrefix(hs.URL, "http"),
		Mode: kite.ModeQuote, Logger: quiet})
	require.NoError(t, err)
	pub := &published{more: make(chan struct{}, 1)}
	eng, err := ticker.New(ticker.Config{Source: src, Publisher: pub, Logger: quiet,
		Instruments: func(context.Context) ([]ticker.Instrument, error) { return ins, nil }})
	require.NoError(t, err)
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	srvDone, engDone := make(chan error, 1), make(chan error, 1)
	go func() { srvDone <- srv.Run(runCtx) }()
	go func() { engDone <- eng.Run(runCtx) }()

	pub.waitAll(ctx, t, []uint32{crude}, 3, 0)
	for eng.Stats().Invalid < 3 {
		select {
		case <-ctx.Done():
			t.Fatalf("the option's negative ticks were not refused: %+v", eng.Stats())
		case <-time.After(10 * time.Millisecond):
		}
	}
	stop()
	require.NoError(t, <-engDone)
	require.NoError(t, <-srvDone)
	lt, ok := eng.Latest(crude)
	require.True(t, ok)
	require.InDelta(t, -37.63, lt.LastPrice, 0.021)
	require.Less(t, lt.Change, -300.0, "the change from 18.27 to about -37.6, in percent")
	_, ok = eng.Latest(option)
	require.False(t, ok, "no valid tick of the option")
	for _, tk := range pub.since(0) {
		require.Equal(t, uint32(crude), tk.Token)
	}
}

// sourceFunc is a ticker.Source of one Run function.
type sourceFunc func(ctx context.Context, emit func(ticker.Tick)) error

func (f sourceFunc) Run(ctx context.Context, emit func(ticker.Tick)) error { return f(ctx, emit) }
func (sourceFunc) Subscribe(_, _ []ticker.Instrument) error                { return nil }

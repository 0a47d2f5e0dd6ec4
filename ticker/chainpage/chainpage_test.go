package chainpage_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/steadfast-go/steadfast/ticker"
	"github.com/steadfast-go/steadfast/ticker/chainpage"
	"github.com/steadfast-go/steadfast/ticker/market"
	"github.com/steadfast-go/steadfast/ticker/mock"
)

// fakeEngine is an Engine whose instruments and ticks the test sets.
type fakeEngine struct {
	mu     sync.Mutex
	ins    []ticker.Instrument
	ticks  map[uint32]ticker.Tick
	health ticker.Health // Status "" means the default health
}

func newFakeEngine(ins ...ticker.Instrument) *fakeEngine {
	return &fakeEngine{ins: ins, ticks: map[uint32]ticker.Tick{}}
}

func (f *fakeEngine) Instruments() []ticker.Instrument {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]ticker.Instrument(nil), f.ins...)
}

func (f *fakeEngine) Latest(token uint32) (ticker.Tick, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t, ok := f.ticks[token]
	return t, ok
}

func (f *fakeEngine) Health() ticker.Health {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.health.Status != "" {
		return f.health
	}
	return ticker.Health{Status: "ok", Breaker: "closed", Stats: ticker.Stats{Produced: 7}}
}

func (f *fakeEngine) set(token uint32, price float64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ticks[token] = ticker.Tick{Token: token, LastPrice: price, Bid: price - 0.05, Ask: price + 0.05, Mock: true}
}

func (f *fakeEngine) setHealth(h ticker.Health) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.health = h
}

func (f *fakeEngine) setInstruments(ins ...ticker.Instrument) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ins = ins
}

var expiry = time.Date(2026, 12, 8, 0, 0, 0, 0, market.IST())

func chain() []ticker.Instrument {
	return []ticker.Instrument{
		{Token: 1, Symbol: "NIFTY 50", Underlying: "NIFTY", Kind: ticker.KindIndex},
		{Token: 2, Symbol: "NIFTY26D0824000CE", Underlying: "NIFTY", Kind: ticker.KindCall, Strike: 24000, Expiry: expiry},
		{Token: 3, Symbol: "NIFTY26D0824000PE", Underlying: "NIFTY", Kind: ticker.KindPut, Strike: 24000, Expiry: expiry},
	}
}

// event is one Server-Sent Event.
type event struct {
	name string
	data string
}

// wireTick is the part of a tick on the wire that the tests read.
type wireTick struct {
	Token uint32  `json:"token"`
	Last  float64 `json:"last"`
	Mock  bool    `json:"mock"`
}

type snapshot struct {
	Instruments []struct {
		Token  uint32  `json:"token"`
		Kind   string  `json:"kind"`
		Strike float64 `json:"strike"`
		Expiry string  `json:"expiry"`
	} `json:"instruments"`
	Ticks      []wireTick    `json:"ticks"`
	Health     ticker.Health `json:"health"`
	IntervalMS int64         `json:"interval_ms"`
}

type delta struct {
	Ticks []wireTick `json:"ticks"`
}

// parseEvents splits a stream into its events (comments and retry lines
// skipped); a last event without its blank line is left out.
func parseEvents(b []byte) []event {
	var out []event
	for _, block := range strings.Split(string(b), "\n\n") {
		var e event
		for _, line := range strings.Split(block, "\n") {
			if v, ok := strings.CutPrefix(line, "event: "); ok {
				e.name = v
			} else if v, ok := strings.CutPrefix(line, "data: "); ok {
				e.data = v
			}
		}
		if e.name != "" {
			out = append(out, e)
		}
	}
	return out
}

func decode[T any](t *testing.T, e event) T {
	t.Helper()
	var v T
	require.NoError(t, json.Unmarshal([]byte(e.data), &v), "event %s: %s", e.name, e.data)
	return v
}

// memWriter is an in-memory http.ResponseWriter and http.Flusher for
// tests in a synctest bubble. With a gate, each Write waits for a value
// from it (a client that reads slowly) or for ctx to end (the connection
// closed), as a socket write does.
type memWriter struct {
	ctx    context.Context
	gate   chan struct{}
	header http.Header
	mu     sync.Mutex
	status int
	buf    bytes.Buffer
	writes int
	sizes  []int
}

func newMemWriter(ctx context.Context) *memWriter {
	return &memWriter{ctx: ctx, header: http.Header{}}
}

func (w *memWriter) Header() http.Header { return w.header }

func (w *memWriter) WriteHeader(code int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.status = code
}

func (w *memWriter) Write(p []byte) (int, error) {
	if w.gate != nil {
		select {
		case <-w.gate:
		case <-w.ctx.Done():
			return 0, errors.New("connection closed")
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.writes++
	w.sizes = append(w.sizes, len(p))
	return w.buf.Write(p)
}

func (w *memWriter) Flush() {}

func (w *memWriter) code() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.status
}

func (w *memWriter) frameSizes() []int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]int(nil), w.sizes...)
}

func (w *memWriter) events() []event {
	w.mu.Lock()
	defer w.mu.Unlock()
	return parseEvents(w.buf.Bytes())
}

// serve runs one stream of h in a goroutine and returns its writer, a
// cancel that ends the request, and a channel closed when ServeHTTP
// returns.
func serve(h http.Handler, gate chan struct{}) (*memWriter, context.CancelFunc, <-chan struct{}) {
	ctx, cancel := context.WithCancel(context.Background())
	w := newMemWriter(ctx)
	w.gate = gate
	r := httptest.NewRequestWithContext(ctx, http.MethodGet, "/events", nil)
	done := make(chan struct{})
	go func() {
		defer close(done)
		h.ServeHTTP(w, r)
	}()
	return w, cancel, done
}

func TestNewRefusesBadConfig(t *testing.T) {
	eng := newFakeEngine()
	for _, tc := range []struct {
		cfg   chainpage.Config
		field string
	}{
		{chainpage.Config{}, "Config.Engine"},
		{chainpage.Config{Engine: eng, FrameInterval: -1}, "Config.FrameInterval"},
		{chainpage.Config{Engine: eng, HealthInterval: -1}, "Config.HealthInterval"},
		{chainpage.Config{Engine: eng, MaxStreams: -1}, "Config.MaxStreams"},
	} {
		_, err := chainpage.New(tc.cfg)
		require.ErrorContains(t, err, tc.field)
		require.True(t, strings.HasPrefix(err.Error(), "chainpage: "), err.Error())
	}
	_, err := chainpage.New(chainpage.Config{Engine: eng, WriteTimeout: -1})
	require.NoError(t, err, "a negative WriteTimeout means no deadline")
}

func TestSnapshotThenDeltas(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		eng := newFakeEngine(chain()...)
		eng.set(1, 24000)
		eng.set(2, 150)
		h, err := chainpage.New(chainpage.Config{Engine: eng})
		require.NoError(t, err)
		w, cancel, done := serve(h, nil)
		synctest.Wait()

		require.Equal(t, http.StatusOK, w.code())
		require.Equal(t, "text/event-stream", w.header.Get("Content-Type"))
		ev := w.events()
		require.Len(t, ev, 1)
		require.Equal(t, "snapshot", ev[0].name)
		snap := decode[snapshot](t, ev[0])
		require.Len(t, snap.Instruments, 3)
		require.Equal(t, "call", snap.Instruments[1].Kind)
		require.Equal(t, "2026-12-08", snap.Instruments[1].Expiry)
		require.Equal(t, []wireTick{{1, 24000, true}, {2, 150, true}}, snap.Ticks, "the ticks there are; none for the put yet")
		require.Equal(t, "ok", snap.Health.Status)
		require.Equal(t, int64(250), snap.IntervalMS)

		// One changed tick: the next frame carries it alone.
		eng.set(2, 151)
		time.Sleep(chainpage.DefaultFrameInterval)
		synctest.Wait()
		ev = w.events()
		require.Len(t, ev, 2)
		require.Equal(t, "ticks", ev[1].name)
		require.Equal(t, []wireTick{{2, 151, true}}, decode[delta](t, ev[1]).Ticks)

		// Nothing changed: no frame.
		time.Sleep(chainpage.DefaultFrameInterval)
		synctest.Wait()
		require.Len(t, w.events(), 2)

		// Several changes of one instrument between two frames: the latest
		// wins; the put's first tick comes too.
		eng.set(1, 24001)
		eng.set(1, 24002)
		eng.set(3, 90)
		time.Sleep(chainpage.DefaultFrameInterval)
		synctest.Wait()
		ev = w.events()
		require.Len(t, ev, 3)
		require.Equal(t, []wireTick{{1, 24002, true}, {3, 90, true}}, decode[delta](t, ev[2]).Ticks)

		// The health, once a second.
		time.Sleep(chainpage.DefaultHealthInterval - 3*chainpage.DefaultFrameInterval)
		synctest.Wait()
		ev = w.events()
		require.Equal(t, "health", ev[len(ev)-1].name)
		var hv struct {
			At     int64         `json:"at"`
			Health ticker.Health `json:"health"`
		}
		require.NoError(t, json.Unmarshal([]byte(ev[len(ev)-1].data), &hv))
		require.Equal(t, uint64(7), hv.Health.Stats.Produced)
		require.Equal(t, time.Now().UnixMilli(), hv.At)

		// New subscriptions: a new snapshot.
		eng.setInstruments(chain()[:2]...)
		time.Sleep(chainpage.DefaultFrameInterval)
		synctest.Wait()
		ev = w.events()
		require.Equal(t, "snapshot", ev[len(ev)-1].name)
		snap = decode[snapshot](t, ev[len(ev)-1])
		require.Len(t, snap.Instruments, 2)
		require.Equal(t, []wireTick{{1, 24002, true}, {2, 151, true}}, snap.Ticks)

		st := h.Stats()
		require.Equal(t, 1, st.Open)
		require.Equal(t, uint64(2), st.Snapshots)
		cancel()
		<-done
		require.Equal(t, 0, h.Stats().Open)
	})
}

// TestSlowClientConflates streams a real engine fed by the mock market to
// a client that takes one frame a second while four are offered: the
// engine produces as many ticks as without the client, the client gets at
// most a frame per read with at most one tick per instrument, and once it
// catches up it holds the engine's latest ticks.
func TestSlowClientConflates(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const interval = 10 * time.Millisecond
		// The mock trades in the session only: the bubble's clock, moved
		// to 10:00 IST on a trading day.
		t0 := time.Now()
		open := time.Date(2026, 12, 1, 10, 0, 0, 0, market.IST())
		now := func() time.Time { return open.Add(time.Since(t0)) }
		src, err := mock.New(mock.Config{Seed: 1, Now: now, Interval: interval})
		require.NoError(t, err)
		ins, err := market.Universe(market.UniverseConfig{Seed: 1, Date: now(), Expiries: 1, StrikesPerSide: 5})
		require.NoError(t, err)
		eng, err := ticker.New(ticker.Config{
			Source:      src,
			Publisher:   ticker.PublisherFunc(func(context.Context, []ticker.Tick) error { return nil }),
			Instruments: func(context.Context) ([]ticker.Instrument, error) { return ins, nil },
		})
		require.NoError(t, err)
		ectx, stopEngine := context.WithCancel(context.Background())
		engDone := make(chan error, 1)
		go func() { engDone <- eng.Run(ectx) }()
		synctest.Wait()

		h, err := chainpage.New(chainpage.Config{Engine: eng})
		require.NoError(t, err)
		gate := make(chan struct{})
		w, cancel, done := serve(h, gate)

		// Ten seconds in which the client takes one write a second.
		start := eng.Stats().Produced
		const seconds = 10
		for range seconds {
			gate <- struct{}{}
			time.Sleep(time.Second)
		}
		produced := eng.Stats().Produced - start
		rounds := uint64(seconds * time.Second / interval)
		n := uint64(len(ins))
		require.GreaterOrEqual(t, produced, (rounds-1)*n, "the engine kept its rate: a round of %d ticks every %v", n, interval)

		st := h.Stats()
		t.Logf("in %ds the engine produced %d ticks (%d instruments every %v); the client took %d frames with %d ticks",
			seconds, produced, n, interval, st.Frames, st.Ticks)
		require.Equal(t, uint64(seconds), st.Frames, "one frame per write the client took")
		require.LessOrEqual(t, st.Ticks, st.Frames*n, "at most one tick per instrument per frame")
		require.Less(t, st.Ticks, produced/10, "the client got a small fraction of the ticks")
		for i, size := range w.frameSizes() {
			require.Less(t, size, int(n)*300+2000, "frame %d: bounded by the instrument count", i)
		}

		// The engine stops; the client catches up and holds its latest ticks.
		stopEngine()
		require.NoError(t, <-engDone)
		close(gate)
		time.Sleep(2 * chainpage.DefaultFrameInterval)
		synctest.Wait()
		last := map[uint32]float64{}
		for _, e := range w.events() {
			var ticks []wireTick
			switch e.name {
			case "snapshot":
				ticks = decode[snapshot](t, e).Ticks
			case "ticks":
				ticks = decode[delta](t, e).Ticks
			}
			for _, tk := range ticks {
				last[tk.Token] = tk.Last
			}
		}
		require.Len(t, last, len(ins))
		for _, in := range ins {
			lt, ok := eng.Latest(in.Token)
			require.True(t, ok)
			require.InDelta(t, lt.LastPrice, last[in.Token], 0.005, "%s: the client holds the latest price", in.Symbol)
		}
		cancel()
		<-done
		require.Equal(t, 0, h.Stats().Open)
	})
}

func TestDisconnectCleansUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		eng := newFakeEngine(chain()...)
		h, err := chainpage.New(chainpage.Config{Engine: eng})
		require.NoError(t, err)
		// Two readers and one client stuck in a write.
		_, cancel1, done1 := serve(h, nil)
		_, cancel2, done2 := serve(h, nil)
		_, cancel3, done3 := serve(h, make(chan struct{}))
		synctest.Wait()
		require.Equal(t, 3, h.Stats().Open)
		for _, c := range []context.CancelFunc{cancel1, cancel2, cancel3} {
			c()
		}
		synctest.Wait()
		for _, d := range []<-chan struct{}{done1, done2, done3} {
			select {
			case <-d:
			default:
				t.Fatal("a stream outlived its request")
			}
		}
		st := h.Stats()
		require.Equal(t, 0, st.Open)
		require.Equal(t, uint64(3), st.Opened)
	})
}

// readEvent reads the next event from a stream.
func readEvent(r *bufio.Reader) (event, error) {
	var e event
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return e, err
		}
		line = strings.TrimSuffix(line, "\n")
		switch {
		case line == "":
			if e.name != "" {
				return e, nil
			}
		case strings.HasPrefix(line, "event: "):
			e.name = line[len("event: "):]
		case strings.HasPrefix(line, "data: "):
			e.data = line[len("data: "):]
		}
	}
}

// open starts a stream over HTTP and returns its reader and a cancel.
func open(t *testing.T, url string) (*http.Response, *bufio.Reader, context.CancelFunc) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"/events", nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	return resp, bufio.NewReader(resp.Body), func() { cancel(); _ = resp.Body.Close() }
}

// waitOpen waits until h has n open streams.
func waitOpen(t *testing.T, h *chainpage.Handler, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for h.Stats().Open != n {
		if time.Now().After(deadline) {
			t.Fatalf("open streams: %d, want %d", h.Stats().Open, n)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestEventOrderOverHTTP checks over a real connection that a stream
// starts with a snapshot, carries a change in the next tick frame, and is
// cleaned up when the client goes away.
func TestEventOrderOverHTTP(t *testing.T) {
	eng := newFakeEngine(chain()...)
	eng.set(2, 150)
	h, err := chainpage.New(chainpage.Config{Engine: eng, FrameInterval: chainpage.MinFrameInterval})
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	defer srv.Close()

	resp, r, closeStream := open(t, srv.URL)
	defer closeStream()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
	e, err := readEvent(r)
	require.NoError(t, err)
	require.Equal(t, "snapshot", e.name)
	require.Equal(t, []wireTick{{2, 150, true}}, decode[snapshot](t, e).Ticks)

	eng.set(2, 151)
	for {
		e, err = readEvent(r)
		require.NoError(t, err)
		if e.name == "ticks" {
			break
		}
		require.Equal(t, "health", e.name)
	}
	require.Equal(t, []wireTick{{2, 151, true}}, decode[delta](t, e).Ticks)

	closeStream()
	waitOpen(t, h, 0)
}

func TestStreamCap(t *testing.T) {
	eng := newFakeEngine(chain()...)
	h, err := chainpage.New(chainpage.Config{Engine: eng, MaxStreams: 2})
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	defer srv.Close()

	var closers []context.CancelFunc
	defer func() {
		for _, c := range closers {
			c()
		}
	}()
	for range 2 {
		resp, r, c := open(t, srv.URL)
		closers = append(closers, c)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		_, err := readEvent(r)
		require.NoError(t, err)
	}
	resp, err := http.Get(srv.URL + "/events")
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	require.Contains(t, string(body), "too many open streams (the limit is 2)")
	require.NotEmpty(t, resp.Header.Get("Retry-After"))
	require.Equal(t, uint64(1), h.Stats().Refused)

	// The page itself is not a stream: still served.
	resp, err = http.Get(srv.URL + "/")
	require.NoError(t, err)
	_ = resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)

	// One leaves: one more is let in.
	closers[0]()
	waitOpen(t, h, 1)
	resp, r, c := open(t, srv.URL)
	closers = append(closers, c)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	e, err := readEvent(r)
	require.NoError(t, err)
	require.Equal(t, "snapshot", e.name)
}

func TestPageAndAssets(t *testing.T) {
	h, err := chainpage.New(chainpage.Config{Engine: newFakeEngine()})
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.Handle("/", h)
	mux.Handle("/chain/", http.StripPrefix("/chain", h))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	get := func(method, path string) (*http.Response, string) {
		req, err := http.NewRequest(method, srv.URL+path, nil)
		require.NoError(t, err)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		_ = resp.Body.Close()
		return resp, string(b)
	}
	for _, prefix := range []string{"", "/chain"} {
		resp, body := get(http.MethodGet, prefix+"/")
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.Equal(t, "text/html; charset=utf-8", resp.Header.Get("Content-Type"))
		require.Contains(t, body, `<table id="chain">`)
		require.Contains(t, body, `src="app.js"`, "relative, so the page works under a prefix")
		require.NotContains(t, body, "http://", "nothing fetched from elsewhere")
		require.NotContains(t, body, "https://")

		resp, body = get(http.MethodGet, prefix+"/app.js")
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.Contains(t, resp.Header.Get("Content-Type"), "javascript")
		require.Contains(t, body, `new EventSource("events")`)

		resp, _ = get(http.MethodGet, prefix+"/style.css")
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.Contains(t, resp.Header.Get("Content-Type"), "text/css")

		resp, body = get(http.MethodHead, prefix+"/")
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.Empty(t, body)
	}
	resp, _ := get(http.MethodGet, "/nothing")
	require.Equal(t, http.StatusNotFound, resp.StatusCode)
	resp, _ = get(http.MethodPost, "/")
	require.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
	require.Equal(t, "GET, HEAD", resp.Header.Get("Allow"))
}

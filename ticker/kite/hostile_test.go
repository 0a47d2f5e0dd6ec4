package kite

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/require"

	"github.com/steadfast-go/steadfast/internal/logtest"
	"github.com/steadfast-go/steadfast/ticker"
)

// hostileKite is a WebSocket server that sends what its script says,
// whatever the client subscribes to.
type hostileKite struct {
	script  func(ctx context.Context, ws *websocket.Conn) // runs once per connection
	handled atomic.Int32
}

func (h *hostileKite) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.handled.Add(1)
	ws, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	defer ws.CloseNow()
	ws.SetReadLimit(1 << 20)
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	go func() { // drain the client's messages, so that its writes never block
		defer cancel()
		for {
			if _, _, err := ws.Read(ctx); err != nil {
				return
			}
		}
	}()
	h.script(ctx, ws)
	<-ctx.Done()
}

// heapAfterGC returns the bytes of live heap after a collection.
func heapAfterGC() uint64 {
	var ms runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// TestHostileFramesLeaveHeapBounded: a loopback server sends 300 junk
// binary frames of the largest size a connection may carry (2 + 3,000 ×
// 186 bytes), text messages of the read limit, and frames of the protocol's
// largest size (MaxFrame, 12.19 MB). The Source rejects the junk and drops
// the connections that send too much, and the heap after GC stays under
// 64 MiB while it runs (it held 3.2 GiB with every read buffer pooled at
// the size of the largest message it had held).
func TestHostileFramesLeaveHeapBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("sends about 200 MB over loopback")
	}
	const junkFrames = 300
	frameLimit := 2 + DefaultMaxPerConn*(2+LenFull)
	rng := rand.New(rand.NewPCG(1, 2))
	junk := make([]byte, MaxFrame)
	for i := range junk {
		junk[i] = byte(rng.Uint32())
	}
	junk[0], junk[1] = 0xFF, 0xFF // 65,535 packets: the parser walks the frame
	var sent, oversized atomic.Int32
	h := &hostileKite{}
	h.script = func(ctx context.Context, ws *websocket.Conn) {
		if h.handled.Load() == 1 {
			for sent.Load() < junkFrames {
				if ws.Write(ctx, websocket.MessageBinary, junk[:frameLimit]) != nil {
					return
				}
				sent.Add(1)
				if sent.Load()%50 == 0 { // a long text message now and then
					if ws.Write(ctx, websocket.MessageText, []byte(`{"type":"order","data":"`+strings.Repeat("x", frameLimit-30)+`"}`)) != nil {
						return
					}
				}
			}
		}
		// Then, on this and every later connection: one frame of the
		// protocol's largest size, which must end the connection.
		if ws.Write(ctx, websocket.MessageBinary, junk) == nil {
			oversized.Add(1)
		}
	}
	srv := httptest.NewServer(h)
	defer srv.Close()

	before := heapAfterGC()
	s, err := New(Config{APIKey: "k", AccessToken: "t", BaseURL: "ws" + strings.TrimPrefix(srv.URL, "http"),
		Mode: ModeFull, Backoff: 100 * time.Millisecond, MaxBackoff: 200 * time.Millisecond,
		Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	require.NoError(t, s.Subscribe(instruments(tokenRange(10)...), nil))
	stop := running(t, s, func(ticker.Tick) {})

	waitFor := func(what string, ok func(Stats) bool) {
		t.Helper()
		deadline := time.Now().Add(2 * time.Minute)
		for !ok(s.Stats()) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not in time: %+v", what, s.Stats())
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	waitFor("the junk frames read and rejected", func(st Stats) bool {
		var rejected uint64
		for _, n := range st.Rejected {
			rejected += n
		}
		return st.Frames >= junkFrames && rejected+st.DroppedFrames >= junkFrames
	})
	after := heapAfterGC()
	t.Logf("heap after GC: %.1f MiB before the Source, %.1f MiB after %d junk frames of %d bytes and %d texts",
		float64(before)/(1<<20), float64(after)/(1<<20), s.Stats().Frames, frameLimit, s.Stats().TextMessages)
	require.Less(t, after, uint64(64<<20), "heap after GC, after the junk frames")

	waitFor("three connections cut at a frame of MaxFrame bytes", func(st Stats) bool { return st.Reconnects >= 3 })
	after = heapAfterGC()
	t.Logf("heap after GC: %.1f MiB after %d connections cut at a %d-byte frame", float64(after)/(1<<20), s.Stats().Reconnects, MaxFrame)
	require.Less(t, after, uint64(64<<20), "heap after GC, after the oversized frames")
	require.NoError(t, stop())
}

// TestHandshakeRedirectRefused: a server that redirects the handshake (to
// itself, in a loop, as two hosts redirecting to each other do) gets one
// request per dial, and the refusal is reported with its status. Before,
// every dial followed the redirects until its deadline: thousands of
// requests, and one of them could go to any host or path, or from wss://
// down to ws://.
func TestHandshakeRedirectRefused(t *testing.T) {
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		http.Redirect(w, r, "/elsewhere?"+r.URL.RawQuery, http.StatusFound)
	}))
	defer srv.Close()
	s, err := New(Config{APIKey: "k", AccessToken: secret, BaseURL: "ws" + strings.TrimPrefix(srv.URL, "http"),
		PingTimeout: 2 * time.Second, Backoff: 100 * time.Millisecond, MaxBackoff: 200 * time.Millisecond,
		Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	require.NoError(t, s.Subscribe(instruments(tokNSE), nil))
	stop := running(t, s, func(ticker.Tick) {})
	deadline := time.Now().Add(time.Minute)
	for s.Stats().DialErrors < 3 {
		require.True(t, time.Now().Before(deadline), "no dial failed in time")
		time.Sleep(5 * time.Millisecond)
	}
	require.NoError(t, stop())
	st := s.Stats()
	require.Equal(t, int32(st.Dials), requests.Load(), "one request per dial: no redirect followed")
	last := s.Health().Conns[0].LastError
	require.Contains(t, last, "HTTP 302")
	require.Contains(t, last, "redirect")
	require.NotContains(t, last, "s3cr3t")
}

// TestRedactBeforeCut: a server error quoting the access token where the
// message is cut (200 bytes) logs no part of it; before, the message was
// cut first and the token's first characters were logged.
func TestRedactBeforeCut(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeKite()
		var logs logtest.Buffer
		s, stopServer := pipeSource(t, f, Config{AccessToken: secret, Logger: debugLogger(&logs)}, tokNSE)
		defer stopServer()
		stop := running(t, s, func(ticker.Tick) {})
		sc := <-f.accepted
		for _, at := range []int{190, 195, 199} {
			sc.sendText(`{"type":"error","data":"` + strings.Repeat("x", at) + secret + ` is not valid"}`)
		}
		synctest.Wait()
		require.NoError(t, stop())
		require.Equal(t, 3, strings.Count(logs.String(), "server error"))
		require.NotContains(t, logs.String(), secret[:4])
	})
}

// TestAPIKeyRedacted: a dial error quotes the handshake URL; neither the
// access token nor the API key appears in the error, the log or Health.
func TestAPIKeyRedacted(t *testing.T) {
	const apiKey = "kq7ph2zx9w3mfl4c"
	var logs logtest.Buffer
	s, err := New(Config{APIKey: apiKey, AccessToken: secret, BaseURL: "ws://127.0.0.1:1/", Backoff: 100 * time.Millisecond,
		MaxBackoff: 200 * time.Millisecond, Logger: debugLogger(&logs)})
	require.NoError(t, err)
	require.NoError(t, s.Subscribe(instruments(tokNSE), nil))
	stop := running(t, s, func(ticker.Tick) {})
	deadline := time.Now().Add(time.Minute)
	for s.Stats().DialErrors < 2 {
		require.True(t, time.Now().Before(deadline), "no dial failed in time")
		time.Sleep(5 * time.Millisecond)
	}
	require.NoError(t, stop())
	last := s.Health().Conns[0].LastError
	require.Contains(t, last, "api_key=REDACTED")
	for _, out := range []string{logs.String(), last} {
		require.NotContains(t, out, apiKey)
		require.NotContains(t, out, "s3cr3t")
	}
}

// TestConfigHidesCredentials: a Config printed with fmt or logged with
// slog shows neither the access token nor the API key.
func TestConfigHidesCredentials(t *testing.T) {
	const apiKey = "kq7ph2zx9w3mfl4c"
	cfg := Config{APIKey: apiKey, AccessToken: secret, BaseURL: "wss://user:pw@ws.kite.test/?access_token=" + secret,
		RefreshToken: func(context.Context) (string, error) { return "", nil }, Mode: ModeFull, Name: "live"}
	var logs logtest.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("config", "cfg", cfg)
	slog.New(slog.NewTextHandler(&logs, nil)).Info("config", "cfg", cfg)
	outs := []string{fmt.Sprint(cfg), fmt.Sprintf("%+v", cfg), fmt.Sprintf("%#v", cfg), logs.String()}
	for _, out := range outs {
		require.NotContains(t, out, apiKey)
		require.NotContains(t, out, "s3cr3t")
		require.NotContains(t, out, "pw@")
	}
	require.Contains(t, outs[0], "AccessToken:REDACTED")
	require.Contains(t, outs[0], "Mode:full")
	require.Contains(t, outs[0], `Name:"live"`)
	require.Contains(t, logs.String(), `"access_token":"REDACTED"`)
}

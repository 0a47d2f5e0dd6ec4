package kite

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/require"

	"github.com/steadfast-go/steadfast/internal/logtest"
	"github.com/steadfast-go/steadfast/ticker"
	"github.com/steadfast-go/steadfast/ticker/market"
)

// sourceFunc is a ticker.Source whose Run is the function; Subscribe does
// nothing.
type sourceFunc func(ctx context.Context, emit func(ticker.Tick)) error

func (f sourceFunc) Run(ctx context.Context, emit func(ticker.Tick)) error { return f(ctx, emit) }
func (sourceFunc) Subscribe(_, _ []ticker.Instrument) error                { return nil }

// feed is a scripted Source: Run emits each batch received on c.
func feed(c <-chan []ticker.Tick) ticker.Source {
	return sourceFunc(func(ctx context.Context, emit func(ticker.Tick)) error {
		for {
			select {
			case <-ctx.Done():
				return nil
			case b := <-c:
				for _, t := range b {
					emit(t)
				}
			}
		}
	})
}

// kiteHarness is a Server served over in-memory pipes inside a synctest
// bubble, with Run in progress.
type kiteHarness struct {
	t       *testing.T
	srv     *Server
	client  *http.Client
	netDial func(ctx context.Context, network, addr string) (net.Conn, error) // for Config.Dial
	cancel  context.CancelFunc
	done    chan error
	stop    func()
}

// startServer starts a Server for cfg (credentials "key" and "token",
// logs discarded unless cfg has a Logger) over pipes, and its Run. Call it
// in a synctest bubble; finish ends both.
func startServer(t *testing.T, cfg ServerConfig) *kiteHarness {
	t.Helper()
	cfg.APIKey, cfg.AccessToken = "key", "token"
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	srv, err := NewServer(cfg)
	require.NoError(t, err)
	l := newPipeListener()
	hs := &http.Server{Handler: srv}
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = hs.Serve(l)
	}()
	tr := &http.Transport{DialContext: l.dial}
	ctx, cancel := context.WithCancel(context.Background())
	h := &kiteHarness{t: t, srv: srv, client: &http.Client{Transport: tr}, netDial: l.dial, cancel: cancel, done: make(chan error, 1)}
	go func() { h.done <- srv.Run(ctx) }()
	h.stop = func() {
		tr.CloseIdleConnections()
		_ = hs.Close()
		<-served
	}
	return h
}

// finish ends Run, checks it returned nil, and stops serving.
func (h *kiteHarness) finish() {
	h.cancel()
	require.NoError(h.t, <-h.done)
	h.stop()
}

// dial opens a client connection with the given credentials; on a refused
// handshake it returns the HTTP status.
func (h *kiteHarness) dial(key, token string) (*websocket.Conn, int) {
	q := url.Values{"api_key": {key}, "access_token": {token}}
	ws, resp, err := websocket.Dial(context.Background(), "ws://kite.test/?"+q.Encode(), &websocket.DialOptions{HTTPClient: h.client})
	if err != nil {
		require.NotNil(h.t, resp, "dial: %v", err)
		resp.Body.Close()
		return nil, resp.StatusCode
	}
	h.t.Cleanup(func() { ws.CloseNow() })
	return ws, http.StatusSwitchingProtocols
}

func (h *kiteHarness) connect() *websocket.Conn {
	h.t.Helper()
	ws, status := h.dial("key", "token")
	require.Equal(h.t, http.StatusSwitchingProtocols, status)
	synctest.Wait() // the server has registered it
	return ws
}

func say(t *testing.T, ws *websocket.Conn, msg string) {
	t.Helper()
	require.NoError(t, ws.Write(context.Background(), websocket.MessageText, []byte(msg)))
	synctest.Wait() // the server has applied it
}

// nextData returns the next message that is not a heartbeat.
func nextData(t *testing.T, ws *websocket.Conn) (websocket.MessageType, []byte) {
	t.Helper()
	for {
		typ, b, err := ws.Read(context.Background())
		require.NoError(t, err)
		if typ == websocket.MessageBinary && IsHeartbeat(b) {
			continue
		}
		return typ, b
	}
}

// packetLens returns the length of each packet of a frame, by token.
func packetLens(t *testing.T, b []byte) map[uint32]int {
	t.Helper()
	var p Parser
	_, err := p.Parse(b, func(ticker.Tick) {})
	require.NoError(t, err)
	out := map[uint32]int{}
	off := 2
	for range binary.BigEndian.Uint16(b) {
		l := int(binary.BigEndian.Uint16(b[off:]))
		out[binary.BigEndian.Uint32(b[off+2:])] = l
		off += 2 + l
	}
	return out
}

// Tokens of the server tests, with tokIndex (an index) from the wire tests.
const (
	tokA = 0x1234<<8 | 2 // NFO contracts
	tokB = 0x2345<<8 | 2
	tokD = 0x3456<<8 | 2
)

func feedTicks(at time.Time) []ticker.Tick {
	return []ticker.Tick{
		{Token: tokA, LastPrice: 101.25, Bid: 101.2, Ask: 101.3, BidQty: 65, AskQty: 130, Volume: 6500, OpenInterest: 1e6, Time: at},
		{Token: tokB, LastPrice: 55.05, Time: at},
		{Token: tokIndex, LastPrice: 26012.35, Time: at},
		{Token: tokD, LastPrice: 1, Time: at},
	}
}

// Each connection streams its subscriptions only, each in its mode: one
// frame per mode, with the packet kind the mode and segment give.
func TestServerSubscriptionsAndModes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ticks := make(chan []ticker.Tick)
		h := startServer(t, ServerConfig{Source: feed(ticks)})
		defer h.finish()
		ws := h.connect()
		other := h.connect() // subscribes to nothing: gets nothing but heartbeats
		say(t, ws, `{"a":"subscribe","v":[`+itoa(tokA)+`,`+itoa(tokB)+`,`+itoa(tokIndex)+`]}`)
		say(t, ws, `{"a":"mode","v":["full",[`+itoa(tokA)+`]]}`)
		say(t, ws, `{"a":"mode","v":["ltp",[`+itoa(tokB)+`,`+itoa(tokD)+`]]}`) // tokD is not subscribed: ignored
		require.Equal(t, 3, h.srv.Stats().Instruments)

		at := time.Date(2026, 12, 7, 10, 0, 0, 0, market.IST())
		ticks <- feedTicks(at)
		lens := map[uint32]int{}
		got := map[uint32]ticker.Tick{}
		var p Parser
		for range 3 { // ltp, quote, full
			typ, b := nextData(t, ws)
			require.Equal(t, websocket.MessageBinary, typ)
			for tok, l := range packetLens(t, b) {
				lens[tok] = l
			}
			_, err := p.Parse(b, func(tk ticker.Tick) { got[tk.Token] = tk })
			require.NoError(t, err)
		}
		require.Equal(t, map[uint32]int{tokA: LenFull, tokB: LenLTP, tokIndex: LenIndexQuote}, lens)
		require.Equal(t, 101.25, got[tokA].LastPrice)
		require.Equal(t, 101.2, got[tokA].Bid)
		require.Equal(t, uint32(130), got[tokA].AskQty)
		require.Equal(t, uint64(1e6), got[tokA].OpenInterest)
		require.True(t, at.Equal(got[tokA].Time), "time %v", got[tokA].Time)
		require.Equal(t, 55.05, got[tokB].LastPrice)
		require.Equal(t, 26012.35, got[tokIndex].LastPrice)

		// Unsubscribed, tokB stops; a quote-mode subscription of tokD starts.
		say(t, ws, `{"a":"unsubscribe","v":[`+itoa(tokB)+`]}`)
		say(t, ws, `{"a":"subscribe","v":[`+itoa(tokD)+`]}`)
		ticks <- feedTicks(at.Add(time.Second))
		lens = map[uint32]int{}
		for range 2 { // quote, full
			_, b := nextData(t, ws)
			for tok, l := range packetLens(t, b) {
				lens[tok] = l
			}
		}
		require.Equal(t, map[uint32]int{tokA: LenFull, tokIndex: LenIndexQuote, tokD: LenQuote}, lens)

		// The other connection got heartbeats only.
		synctest.Wait()
		for range 2 {
			typ, b, err := other.Read(context.Background())
			require.NoError(t, err)
			require.Equal(t, websocket.MessageBinary, typ)
			require.True(t, IsHeartbeat(b), "the unsubscribed connection got %d bytes", len(b))
		}
		st := h.srv.Stats()
		require.Equal(t, 2, st.Conns)
		require.Equal(t, uint64(8), st.Ticks)
		require.Equal(t, uint64(5), st.Frames)
		require.Equal(t, uint64(6), st.Packets)
	})
}

func itoa(t uint32) string { return strconv.FormatUint(uint64(t), 10) }

// Heartbeats come every Heartbeat on every connection, whether or not it
// has subscriptions; a negative Heartbeat sends none.
func TestServerHeartbeats(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := startServer(t, ServerConfig{Source: feed(nil)})
		defer h.finish()
		ws := h.connect()
		start := time.Now()
		for i := 1; i <= 3; i++ {
			typ, b, err := ws.Read(context.Background())
			require.NoError(t, err)
			require.Equal(t, websocket.MessageBinary, typ)
			require.True(t, IsHeartbeat(b))
			require.Equal(t, time.Duration(i)*DefaultHeartbeat, time.Since(start))
		}
		synctest.Wait()
		require.GreaterOrEqual(t, h.srv.Stats().Heartbeats, uint64(3))
	})
	synctest.Test(t, func(t *testing.T) {
		h := startServer(t, ServerConfig{Source: feed(nil), Heartbeat: -1})
		defer h.finish()
		ws := h.connect()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_, _, err := ws.Read(ctx)
		require.Error(t, err, "a message came with heartbeats off")
		require.Zero(t, h.srv.Stats().Heartbeats)
	})
}

// The handshake: wrong credentials get 403, a connection beyond MaxConns
// 429, and a slot freed is usable again; after Run, 503.
func TestServerHandshake(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := startServer(t, ServerConfig{Source: feed(nil)})
		_, status := h.dial("other", "token")
		require.Equal(t, http.StatusForbidden, status)
		_, status = h.dial("key", "other")
		require.Equal(t, http.StatusForbidden, status)
		var conns []*websocket.Conn
		for range DefaultMaxConns {
			conns = append(conns, h.connect())
		}
		_, status = h.dial("key", "token")
		require.Equal(t, http.StatusTooManyRequests, status)
		conns[0].CloseNow()
		synctest.Wait()
		h.connect()
		st := h.srv.Stats()
		require.Equal(t, DefaultMaxConns, st.Conns)
		require.Equal(t, uint64(4), st.Accepted)
		require.Equal(t, uint64(1), st.Refused)
		require.Equal(t, uint64(2), st.Forbidden)

		h.finish() // closes every connection
		_, _, err := conns[1].Read(context.Background())
		require.Error(t, err)
		require.Zero(t, h.srv.Stats().Conns)
		require.ErrorIs(t, h.srv.Run(context.Background()), ErrServerRan)
	})
	// After Run, handshakes are refused with 503.
	synctest.Test(t, func(t *testing.T) {
		h := startServer(t, ServerConfig{Source: feed(nil)})
		h.cancel()
		require.NoError(t, <-h.done)
		_, status := h.dial("key", "token")
		require.Equal(t, http.StatusServiceUnavailable, status)
		h.stop()
	})
}

// Only loopback clients are served.
func TestServerLoopbackOnly(t *testing.T) {
	srv, err := NewServer(ServerConfig{Source: feed(nil), APIKey: "key", AccessToken: "token", Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	for remote, want := range map[string]int{
		"192.0.2.1:1234":       http.StatusForbidden,
		"[2001:db8::1]:1234":   http.StatusForbidden,
		"127.0.0.1:1234":       http.StatusUpgradeRequired, // on to the (absent) WebSocket upgrade
		"[::1]:1234":           http.StatusUpgradeRequired,
		"[::ffff:127.0.0.1]:1": http.StatusUpgradeRequired,
		"pipe":                 http.StatusUpgradeRequired,
	} {
		r := httptest.NewRequest(http.MethodGet, "/?api_key=key&access_token=token", nil)
		r.RemoteAddr = remote
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, r)
		require.Equal(t, want, w.Code, remote)
	}
}

// Tokens beyond MaxPerConn and messages the server does not understand are
// answered with an error message; the client's other subscriptions stand.
func TestServerErrorMessages(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := startServer(t, ServerConfig{Source: feed(nil), MaxPerConn: 2, Heartbeat: -1})
		defer h.finish()
		ws := h.connect()
		for msg, want := range map[string]string{
			`{"a":"subscribe","v":[1,2,3]}`:  "1 instruments not subscribed: at most 2 per connection",
			`{"a":"subscribe","v":["x"]}`:    "invalid subscribe message",
			`{"a":"mode","v":["fast",[1]]}`:  `"fast" is not ltp, quote or full`,
			`{"a":"mode","v":["full"]}`:      "invalid mode message",
			`{"a":"quit"}`:                   `unknown action "quit"`,
			`not json`:                       "invalid message",
			`{"a":"unsubscribe","v":[9,10]}`: "", // not subscribed: nothing to say
		} {
			say(t, ws, msg)
			if want == "" {
				continue
			}
			typ, b := nextData(t, ws)
			require.Equal(t, websocket.MessageText, typ)
			var m struct{ Type, Data string }
			require.NoError(t, json.Unmarshal(b, &m))
			require.Equal(t, "error", m.Type)
			require.Contains(t, m.Data, want, msg)
		}
		require.Equal(t, 2, h.srv.Stats().Instruments)
		require.Equal(t, uint64(6), h.srv.Stats().Errors)
	})
}

// A client that stops reading never holds up the Source: flushes for it
// are dropped, and once a write has waited for it 10 s it is disconnected.
func TestServerSlowClient(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ticks := make(chan []ticker.Tick)
		h := startServer(t, ServerConfig{Source: feed(ticks), QueueSize: 2, Heartbeat: -1})
		defer h.finish()
		ws := h.connect()
		say(t, ws, `{"a":"subscribe","v":[`+itoa(tokA)+`]}`)
		at := time.Date(2026, 12, 7, 10, 0, 0, 0, market.IST())
		for i := range 20 {
			ticks <- feedTicks(at.Add(time.Duration(i) * time.Second)) // taken at once: emit never waits
			time.Sleep(2 * DefaultFlushInterval)                       // a flush each
		}
		synctest.Wait()
		// One flush is being written, two wait, the others were dropped.
		require.Equal(t, uint64(17), h.srv.Stats().QueueDrops)
		require.Equal(t, 1, h.srv.Stats().Conns)
		time.Sleep(serverWriteTimeout)
		synctest.Wait()
		require.Zero(t, h.srv.Stats().Conns, "the stuck client is still connected")
	})
}

// A Source that fails or panics ends Run with its error; the connections
// are closed.
func TestServerSourceFails(t *testing.T) {
	boom := errors.New("boom")
	for name, src := range map[string]ticker.Source{
		"error": sourceFunc(func(context.Context, func(ticker.Tick)) error {
			time.Sleep(time.Second)
			return boom
		}),
		"panic": sourceFunc(func(context.Context, func(ticker.Tick)) error {
			time.Sleep(time.Second)
			panic("boom")
		}),
	} {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var logs logtest.Buffer
				h := startServer(t, ServerConfig{Source: src, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
				ws := h.connect()
				err := <-h.done
				require.ErrorContains(t, err, "kite: server source: ")
				require.ErrorContains(t, err, "boom")
				if name == "error" {
					require.ErrorIs(t, err, boom)
				} else {
					require.Contains(t, logs.String(), "source panicked")
					require.Contains(t, logs.String(), "stack=")
				}
				_, _, err = ws.Read(context.Background())
				require.Error(t, err)
				h.stop()
			})
		})
	}
}

// A tick the wire cannot carry is left out of its frame, and counted.
func TestServerUnencodable(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ticks := make(chan []ticker.Tick)
		h := startServer(t, ServerConfig{Source: feed(ticks), Heartbeat: -1})
		defer h.finish()
		ws := h.connect()
		cds := uint32(0x99<<8 | SegmentCDS) // ÷1e7: at most about 214 rupees
		cds2 := uint32(0x98<<8 | SegmentCDS)
		say(t, ws, `{"a":"subscribe","v":[`+itoa(tokA)+`,`+itoa(cds)+`,`+itoa(cds2)+`]}`)
		ticks <- []ticker.Tick{{Token: cds, LastPrice: 1000}, {Token: tokA, LastPrice: 10}, {Token: cds2, LastPrice: 83.5}}
		_, b := nextData(t, ws)
		var got []float64
		var p Parser
		_, err := p.Parse(b, func(tk ticker.Tick) { got = append(got, tk.LastPrice) })
		require.NoError(t, err)
		require.Equal(t, []float64{10, 83.5}, got)
		require.Equal(t, uint64(1), h.srv.Stats().Unencodable)
	})
}

func TestServerConfig(t *testing.T) {
	src := feed(nil)
	for want, cfg := range map[string]ServerConfig{
		"kite: ServerConfig.Source is required":               {APIKey: "k", AccessToken: "t"},
		"kite: ServerConfig.APIKey is required":               {Source: src, AccessToken: "t"},
		"kite: ServerConfig.AccessToken is required":          {Source: src, APIKey: "k"},
		"kite: ServerConfig.FlushInterval is negative (-1ns)": {Source: src, APIKey: "k", AccessToken: "t", FlushInterval: -1},
		"kite: ServerConfig.MaxPerConn is negative (-1)":      {Source: src, APIKey: "k", AccessToken: "t", MaxPerConn: -1},
		"kite: ServerConfig.MaxConns is negative (-2)":        {Source: src, APIKey: "k", AccessToken: "t", MaxConns: -2},
		"kite: ServerConfig.QueueSize is negative (-3)":       {Source: src, APIKey: "k", AccessToken: "t", QueueSize: -3},
		// Durations below their floor: they made a writer or the flush
		// loop spin.
		"kite: ServerConfig.Heartbeat (5ns) is below its floor of 10ms":      {Source: src, APIKey: "k", AccessToken: "t", Heartbeat: 5},
		"kite: ServerConfig.FlushInterval (250ns) is below its floor of 1ms": {Source: src, APIKey: "k", AccessToken: "t", FlushInterval: 250},
		"kite: ServerConfig.FlushInterval (999µs) is below its floor of 1ms": {Source: src, APIKey: "k", AccessToken: "t", FlushInterval: 999 * time.Microsecond},
	} {
		_, err := NewServer(cfg)
		require.EqualError(t, err, want)
	}
	s, err := NewServer(ServerConfig{Source: src, APIKey: "k", AccessToken: "t", Heartbeat: -1})
	require.NoError(t, err)
	got := s.cfg
	got.Source = nil // a func: not comparable
	require.Equal(t, ServerConfig{
		APIKey: "k", AccessToken: "t", MaxPerConn: 3000, MaxConns: 3, Heartbeat: -1,
		FlushInterval: 50 * time.Millisecond, QueueSize: 64, Name: "server",
	}, got)
}

// The live client against the Server: 6,000 instruments over connections
// of 1,500 want four connections; the Server takes three and refuses the
// fourth with 429, which the client reports and retries with backoff, and
// the 4,500 instruments of the three stream in full mode, kept alive by the
// heartbeats, for twenty minutes of market time.
func TestServerWithClient(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tokens := tokenRange(6000)
		index := map[uint32]int{}
		for i, tok := range tokens {
			index[tok] = i
		}
		at := time.Date(2026, 12, 7, 10, 0, 0, 0, market.IST())
		ticks := make(chan []ticker.Tick)
		h := startServer(t, ServerConfig{Source: feed(ticks)})
		defer h.finish()
		src, err := New(Config{APIKey: "key", AccessToken: "token", BaseURL: "ws://kite.test", Dial: h.netDial,
			Mode: ModeFull, MaxPerConn: 1500, MaxConns: 4, Logger: slog.New(slog.DiscardHandler)})
		require.NoError(t, err)
		require.NoError(t, src.Subscribe(instruments(tokens...), nil))
		var mu sync.Mutex
		got := map[uint32]ticker.Tick{}
		stop := running(t, src, func(tk ticker.Tick) {
			mu.Lock()
			got[tk.Token] = tk
			mu.Unlock()
		})
		time.Sleep(10 * time.Second) // connected and subscribed
		synctest.Wait()
		st := h.srv.Stats()
		require.Equal(t, DefaultMaxConns, st.Conns)
		require.Equal(t, 4500, st.Instruments)
		require.GreaterOrEqual(t, st.Refused, uint64(1))

		round := make([]ticker.Tick, len(tokens))
		const rounds = 20
		for m := range rounds { // a round a minute
			now := at.Add(time.Duration(m) * time.Minute)
			for i, tok := range tokens {
				round[i] = ticker.Tick{Token: tok, LastPrice: float64(100+m) + float64(i)/20, Volume: uint64(m), Time: now}
			}
			ticks <- slices.Clone(round)
			time.Sleep(time.Minute)
		}
		synctest.Wait()
		require.NoError(t, stop())
		require.Len(t, got, 4500)
		last := at.Add((rounds - 1) * time.Minute)
		for tok, tk := range got {
			require.InDelta(t, 100+rounds-1+float64(index[tok])/20, tk.LastPrice, 0.005, "token %d", tok)
			require.Equal(t, uint64(rounds-1), tk.Volume)
			require.True(t, last.Equal(tk.Time), "token %d at %v", tok, tk.Time)
		}
		cs := src.Stats()
		require.Zero(t, cs.DeadPeers, "the heartbeats kept the connections alive")
		require.Zero(t, cs.Reconnects)
		require.GreaterOrEqual(t, cs.Refused, uint64(1))
		require.LessOrEqual(t, cs.Refused, uint64(150), "backoff to 60 s, not a storm (a 1 s retry would make 1,800)")
		require.Equal(t, cs.Refused, h.srv.Stats().Refused)
		require.Equal(t, uint64(rounds*4500), cs.Packets)
		require.Equal(t, uint64(rounds*3), h.srv.Stats().Frames, "one full-mode frame a flush a connection")
	})
}

// Ticks of one instrument emitted within a flush go out as one packet, the
// newest, as Kite sends at most one packet per instrument in a frame: a
// frame never exceeds what a client of MaxPerConn instruments accepts
// (2 + MaxPerConn × 186 bytes), however fast the Source emits.
func TestServerOnePacketPerInstrument(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ticks := make(chan []ticker.Tick, 1)
		h := startServer(t, ServerConfig{Source: feed(ticks), Heartbeat: -1})
		defer h.finish()
		ws := h.connect()
		say(t, ws, `{"a":"subscribe","v":[`+itoa(tokA)+`]}`)
		say(t, ws, `{"a":"mode","v":["full",[`+itoa(tokA)+`]]}`)
		var burst []ticker.Tick
		for i := range 5 {
			burst = append(burst, ticker.Tick{Token: tokA, LastPrice: float64(100 + i)})
		}
		ticks <- burst
		_, b := nextData(t, ws)
		require.Equal(t, uint16(1), binary.BigEndian.Uint16(b), "one packet")
		require.LessOrEqual(t, len(b), frameLimit(1))
		var p Parser
		_, err := p.Parse(b, func(tk ticker.Tick) { require.Equal(t, 104.0, tk.LastPrice, "the newest") })
		require.NoError(t, err)
	})
}

package kite

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/netip"
	"runtime/debug"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/steadfast-go/steadfast/internal/logattr"
	"github.com/steadfast-go/steadfast/ticker"
)

// Defaults of ServerConfig's zero fields.
const (
	DefaultHeartbeat     = time.Second
	DefaultFlushInterval = 50 * time.Millisecond
	DefaultServerQueue   = 64
	DefaultServerName    = "server"
)

// The shortest durations ServerConfig accepts; NewServer refuses a
// shorter one, which would make a connection's writer or the flush loop
// spin.
const (
	MinHeartbeat     = 10 * time.Millisecond // ServerConfig.Heartbeat, when positive
	MinFlushInterval = time.Millisecond      // ServerConfig.FlushInterval
)

// serverWriteTimeout bounds each message a Server writes; a client that
// does not take it in time is disconnected.
const serverWriteTimeout = 10 * time.Second

// serverReadLimit bounds the text messages a Server reads from a client.
const serverReadLimit = 1 << 20

// ErrServerRan is returned by a second call of Server.Run: a Server runs
// once.
var ErrServerRan = errors.New("kite: server already ran")

// ServerConfig configures NewServer. Source, APIKey and AccessToken are
// required; every other zero field means the default documented on it.
type ServerConfig struct {
	// Source produces the ticks the Server streams. Required. The Server
	// does not subscribe it: subscribe it to the instruments clients may ask
	// for; a client's subscription to a token the Source does not stream is
	// accepted and stays silent. Server.Run runs it.
	Source ticker.Source
	// APIKey and AccessToken are the only credentials the Server accepts;
	// a handshake with others is refused with HTTP 403. Required.
	APIKey, AccessToken string

	// MaxPerConn is the most instruments one connection may subscribe;
	// tokens beyond it are not subscribed and the client is sent an error
	// message. Default 3,000 (Kite's documented limit).
	MaxPerConn int
	// MaxConns is the most connections open at once; a handshake beyond it
	// is refused with HTTP 429. Default 3 (Kite's limit per API key).
	MaxConns int
	// Heartbeat is how often each connection is sent a heartbeat (a binary
	// message of one byte). Default 1s; negative sends none (a silent
	// peer, for a client's watchdog); a positive value is at least
	// MinHeartbeat (10ms).
	Heartbeat time.Duration
	// FlushInterval is how long the ticks the Source emits are gathered
	// before they are sent: each connection gets, per interval, at most one
	// frame per mode of its subscriptions. Default 50ms; at least
	// MinFlushInterval (1ms).
	FlushInterval time.Duration
	// QueueSize is how many flushes may wait for a connection that is slow
	// to take them; further ones are dropped for it (Stats QueueDrops).
	// Default 64; at most MaxQueueSize (65,536).
	QueueSize int

	// Name names the Server in its log records (key "name", component
	// "kite"). Default "server".
	Name string
	// Logger receives the Server's records; nil means slog.Default(),
	// looked up at each record.
	Logger *slog.Logger
}

// withDefaults returns c with its zero fields defaulted, or an error naming
// the first invalid field.
func (c ServerConfig) withDefaults() (ServerConfig, error) {
	bad := func(field, why string) (ServerConfig, error) {
		return c, fmt.Errorf("kite: ServerConfig.%s %s", field, why)
	}
	switch {
	case c.Source == nil:
		return bad("Source", "is required")
	case c.APIKey == "":
		return bad("APIKey", "is required")
	case c.AccessToken == "":
		return bad("AccessToken", "is required")
	}
	durs := []durField{
		{"Heartbeat", &c.Heartbeat, DefaultHeartbeat, MinHeartbeat, true},
		{"FlushInterval", &c.FlushInterval, DefaultFlushInterval, MinFlushInterval, false},
	}
	if name, why := defaultDurations(durs); name != "" {
		return bad(name, why)
	}
	if name, v := defaultInts([]intField{
		{"MaxPerConn", &c.MaxPerConn, DefaultMaxPerConn},
		{"MaxConns", &c.MaxConns, DefaultMaxConns},
		{"QueueSize", &c.QueueSize, DefaultServerQueue},
	}); name != "" {
		return bad(name, fmt.Sprintf("is negative (%d)", v))
	}
	if c.QueueSize > MaxQueueSize {
		return bad("QueueSize", fmt.Sprintf("is above %d (%d)", MaxQueueSize, c.QueueSize))
	}
	if c.Name == "" {
		c.Name = DefaultServerName
	}
	return c, nil
}

// Server is a Kite Connect v3 WebSocket server for loopback clients, fed by
// a ticker.Source: tests and demos drive the live path (a Source from New,
// the engine, a publisher) with no credentials and no network. It is a test
// double of Kite's protocol, not of Kite's data: the ticks are whatever its
// Source emits (a mock.Source's simulated market, say), encoded with
// AppendFrame, so they carry only what the wire format carries (prices in
// paise, times in whole seconds; no Greeks, no Mock flag).
//
// Minimal use, with the Source ticker.Source subscribed to the instruments
// to offer:
//
//	srv, err := kite.NewServer(kite.ServerConfig{Source: mock, APIKey: "key", AccessToken: "token"})
//	if err != nil { ... }
//	hs := httptest.NewServer(srv) // on 127.0.0.1
//	defer hs.Close()
//	go srv.Run(ctx) // streams until ctx ends; nil then
//	src, err := kite.New(kite.Config{APIKey: "key", AccessToken: "token",
//		BaseURL: "ws" + strings.TrimPrefix(hs.URL, "http")})
//
// Defaults (ServerConfig's zero fields): 3,000 instruments per connection,
// 3 connections, a heartbeat every second, ticks gathered for 50ms before
// they are sent, 64 flushes queued per connection, Name "server", Logger
// slog.Default().
//
// What it does, as Kite documents its service (the texts of its error
// messages are its own):
//   - It accepts a WebSocket handshake on any path whose api_key and
//     access_token query parameters are ServerConfig's; others get HTTP
//     403, and a handshake beyond MaxConns open connections gets HTTP 429.
//   - Each connection keeps its own subscriptions: the text messages
//     {"a":"subscribe","v":[tokens]}, {"a":"unsubscribe","v":[tokens]} and
//     {"a":"mode","v":["ltp"|"quote"|"full",[tokens]]} change them. A new
//     subscription streams in quote mode; mode applies to subscribed tokens
//     only. Tokens beyond MaxPerConn, and messages it does not understand,
//     are answered with a text message {"type":"error","data":"..."}.
//   - Every FlushInterval, the ticks the Source emitted are sent to each
//     connection subscribed to their tokens, one frame per mode, each
//     packet of the kind its mode and segment give (an index packet for
//     segment 9), with one packet per instrument: its newest tick. A tick AppendFrame refuses (a price that does not fit the
//     segment's scale) is skipped and counted.
//   - Each connection gets a heartbeat every Heartbeat.
//
// It serves clients on the loopback interface only: a handshake from any
// other address is refused with HTTP 403 (connections with no IP address,
// such as in-memory pipes or Unix sockets, are local and accepted). Use it
// as the handler of an httptest.Server, or of an http.Server on 127.0.0.1.
//
// Lifecycle: connections are accepted from NewServer on, and get
// heartbeats; Run runs the Source and streams its ticks until its context
// ends, then closes every connection, waits for their goroutines and
// returns; handshakes after that are refused with HTTP 503. A Server runs
// once. Each connection has one goroutine (the handler's) writing and one
// reading, which end when the client leaves, DropConns or Run's end closes
// it (so a Server that never runs keeps its connections until their
// clients leave); Run has the Source's goroutine and its own. A Server is
// safe for concurrent use.
type Server struct {
	cfg ServerConfig
	c   serverCounters

	ran  atomic.Bool
	wake chan struct{} // capacity 1: pending is not empty

	mu       sync.Mutex
	pending  []ticker.Tick // emitted since the last flush
	peers    map[*peer]struct{}
	opening  int  // handshakes admitted and not yet open or failed
	closed   bool // Run has ended: no more connections
	handlers sync.WaitGroup
}

var _ http.Handler = (*Server)(nil)

// peer is one client connection of a Server.
type peer struct {
	ws      *websocket.Conn
	batches chan []ticker.Tick // flushes to write, shared read-only
	done    chan struct{}      // closed by close
	once    sync.Once

	mu    sync.Mutex
	modes map[uint32]Mode // the subscriptions and their modes

	// Used by the writing goroutine only.
	byMode [ModeFull + 1][]ticker.Tick
	at     map[uint32]int // a token's index in its byMode slice, in the flush being sent
	buf    []byte
}

// close ends the connection at once, without a closing handshake, as a
// failed network would.
func (p *peer) close() {
	p.once.Do(func() {
		close(p.done)
		p.ws.CloseNow()
	})
}

// NewServer returns a Server for cfg, or an error naming the first invalid
// field of cfg.
func NewServer(cfg ServerConfig) (*Server, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	return &Server{cfg: cfg, wake: make(chan struct{}, 1), peers: map[*peer]struct{}{}}, nil
}

// Run runs the Source and streams its ticks to the connections until ctx
// ends; then it waits for the Source's Run to return, closes every
// connection, waits for their goroutines and returns nil. If the Source's
// Run fails or panics first, Run closes the connections the same way and
// returns that error; if it returns nil before ctx ends, the connections
// stay open (heartbeats, no ticks) until ctx ends. A second call returns
// ErrServerRan.
func (s *Server) Run(ctx context.Context) error {
	if !s.ran.CompareAndSwap(false, true) {
		return ErrServerRan
	}
	defer s.shutdown()
	srcDone := make(chan error, 1)
	go func() { srcDone <- s.runSource(ctx) }()
	var (
		flush <-chan time.Time
		timer *time.Timer
	)
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		select {
		case <-ctx.Done():
			if srcDone != nil {
				<-srcDone
			}
			return nil
		case err := <-srcDone:
			srcDone = nil
			if err != nil && ctx.Err() == nil {
				s.log(slog.LevelError, "source failed", slog.String(logattr.Error, err.Error()))
				return fmt.Errorf("kite: server source: %w", err)
			}
		case <-s.wake:
			// Gather what the Source emits for a FlushInterval, so that a
			// round of ticks leaves as one frame.
			if flush == nil {
				if timer == nil {
					timer = time.NewTimer(s.cfg.FlushInterval)
				} else {
					timer.Reset(s.cfg.FlushInterval)
				}
				flush = timer.C
			}
		case <-flush:
			flush = nil
			s.flush()
		}
	}
}

// runSource runs the Source, turning a panic into an error.
func (s *Server) runSource(ctx context.Context) (err error) {
	defer func() {
		if v := recover(); v != nil {
			a := logattr.PanicAttrs(v, debug.Stack())
			s.log(slog.LevelError, "source panicked", a[0], a[1])
			err = fmt.Errorf("source panicked: %v", v)
		}
	}()
	return s.cfg.Source.Run(ctx, s.emit)
}

// emit is the Source's emit: it queues t for the next flush. It never
// waits for a connection.
func (s *Server) emit(t ticker.Tick) {
	s.c.ticks.Add(1)
	s.mu.Lock()
	s.pending = append(s.pending, t)
	s.mu.Unlock()
	poke(s.wake)
}

// flush hands the ticks emitted since the last flush to every connection.
func (s *Server) flush() {
	s.mu.Lock()
	batch := s.pending
	s.pending = nil
	peers := make([]*peer, 0, len(s.peers))
	for p := range s.peers {
		peers = append(peers, p)
	}
	s.mu.Unlock()
	if len(batch) == 0 {
		return
	}
	for _, p := range peers {
		select {
		case p.batches <- batch:
		default:
			s.c.queueDrops.Add(1)
		}
	}
}

// shutdown refuses new connections, closes the open ones and waits for
// their goroutines.
func (s *Server) shutdown() {
	s.mu.Lock()
	s.closed = true
	s.pending = nil
	s.mu.Unlock()
	s.DropConns()
	s.handlers.Wait()
}

// DropConns closes every open connection at once, without a closing
// handshake, as a network failure would, and returns how many it closed.
// Clients may connect again. Tests use it to make a client reconnect.
func (s *Server) DropConns() int {
	s.mu.Lock()
	peers := make([]*peer, 0, len(s.peers))
	for p := range s.peers {
		peers = append(peers, p)
	}
	s.mu.Unlock()
	for _, p := range peers {
		p.close()
	}
	s.c.drops.Add(uint64(len(peers)))
	return len(peers)
}

// ServeHTTP serves one WebSocket client: see Server for what it accepts
// and sends. It returns when the connection ends: the client left, a
// write failed, DropConns, or the end of Run.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !loopbackClient(r.RemoteAddr) {
		s.c.forbidden.Add(1)
		s.log(slog.LevelWarn, "client refused: not on loopback", slog.String("remote", r.RemoteAddr))
		http.Error(w, "kite server: loopback clients only", http.StatusForbidden)
		return
	}
	q := r.URL.Query()
	if !same(q.Get("api_key"), s.cfg.APIKey) || !same(q.Get("access_token"), s.cfg.AccessToken) {
		s.c.forbidden.Add(1)
		s.log(slog.LevelInfo, "client refused: bad credentials")
		http.Error(w, "kite server: invalid api_key or access_token", http.StatusForbidden)
		return
	}
	s.mu.Lock()
	switch {
	case s.closed:
		s.mu.Unlock()
		http.Error(w, "kite server: closed", http.StatusServiceUnavailable)
		return
	case len(s.peers)+s.opening >= s.cfg.MaxConns:
		s.mu.Unlock()
		s.c.refused.Add(1)
		s.log(slog.LevelInfo, "client refused: too many connections", slog.Int("max", s.cfg.MaxConns))
		http.Error(w, "kite server: too many connections", http.StatusTooManyRequests)
		return
	}
	s.opening++
	s.handlers.Add(1)
	s.mu.Unlock()
	defer s.handlers.Done()

	ws, err := websocket.Accept(w, r, nil)
	s.mu.Lock()
	s.opening--
	if err != nil {
		s.mu.Unlock()
		return
	}
	ws.SetReadLimit(serverReadLimit)
	p := &peer{
		ws:      ws,
		batches: make(chan []ticker.Tick, s.cfg.QueueSize),
		done:    make(chan struct{}),
		modes:   map[uint32]Mode{},
		at:      map[uint32]int{},
	}
	if s.closed {
		s.mu.Unlock()
		p.close()
		return
	}
	s.peers[p] = struct{}{}
	s.mu.Unlock()
	s.c.accepted.Add(1)
	s.log(slog.LevelDebug, "client connected")

	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		s.read(p)
	}()
	s.write(p, readDone)
	p.close()
	<-readDone
	s.mu.Lock()
	delete(s.peers, p)
	s.mu.Unlock()
	s.log(slog.LevelDebug, "client disconnected")
}

// loopbackClient reports whether a request's RemoteAddr is on the loopback
// interface, or has no IP address at all (an in-memory pipe, a Unix
// socket).
func loopbackClient(remote string) bool {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return true
	}
	return a.Unmap().IsLoopback()
}

// same compares a credential in constant time.
func same(got, want string) bool { return subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1 }

// write sends p its heartbeats and the flushes of its subscriptions until
// the connection ends.
func (s *Server) write(p *peer, readDone <-chan struct{}) {
	var hb <-chan time.Time
	if s.cfg.Heartbeat > 0 {
		t := time.NewTicker(s.cfg.Heartbeat)
		defer t.Stop()
		hb = t.C
	}
	for {
		select {
		case <-p.done:
			return
		case <-readDone:
			return
		case <-hb:
			if !s.send(p, websocket.MessageBinary, []byte{0}) {
				return
			}
			s.c.heartbeats.Add(1)
		case batch := <-p.batches:
			if !s.sendTicks(p, batch) {
				return
			}
		}
	}
}

// sendTicks sends p the ticks of batch it is subscribed to, one frame per
// mode, reporting whether the connection is still usable.
func (s *Server) sendTicks(p *peer, batch []ticker.Tick) bool {
	for m := range p.byMode {
		p.byMode[m] = p.byMode[m][:0]
	}
	clear(p.at)
	p.mu.Lock()
	for i := range batch {
		tok := batch[i].Token
		m, ok := p.modes[tok]
		if !ok {
			continue
		}
		if j, seen := p.at[tok]; seen { // one packet per instrument, the newest, as Kite sends
			p.byMode[m][j] = batch[i]
			continue
		}
		p.at[tok] = len(p.byMode[m])
		p.byMode[m] = append(p.byMode[m], batch[i])
	}
	p.mu.Unlock()
	for m := ModeLTP; m <= ModeFull; m++ {
		for chunk := range slices.Chunk(p.byMode[m], math.MaxUint16) {
			n := 0
			p.buf, n = s.encode(p.buf[:0], chunk, m)
			if n == 0 {
				continue
			}
			if !s.send(p, websocket.MessageBinary, p.buf) {
				return false
			}
			s.c.frames.Add(1)
			s.c.packets.Add(uint64(n))
		}
	}
	return true
}

// encode appends a frame of ticks in mode m to dst and returns it with the
// number of packets in it. Ticks AppendFrame refuses are left out and
// counted. ticks may be reordered.
func (s *Server) encode(dst []byte, ticks []ticker.Tick, m Mode) ([]byte, int) {
	b, err := AppendFrame(dst, ticks, m)
	if err == nil {
		return b, len(ticks)
	}
	ok := ticks[:0]
	for i := range ticks {
		if _, err := AppendFrame(dst, ticks[i:i+1], m); err != nil {
			if n := s.c.unencodable.Add(1); n&(n-1) == 0 { // the 1st, 2nd, 4th, 8th ...
				s.log(slog.LevelWarn, "tick not encodable", slog.String(logattr.Error, err.Error()), slog.Uint64("count", n))
			}
			continue
		}
		ok = append(ok, ticks[i])
	}
	if len(ok) == 0 {
		return dst, 0
	}
	b, _ = AppendFrame(dst, ok, m)
	return b, len(ok)
}

// send writes one message to p, closing p when it fails.
func (s *Server) send(p *peer, typ websocket.MessageType, b []byte) bool {
	ctx, cancel := context.WithTimeout(context.Background(), serverWriteTimeout)
	defer cancel()
	if err := p.ws.Write(ctx, typ, b); err != nil {
		p.close()
		return false
	}
	return true
}

// read applies p's subscription messages until the connection ends.
func (s *Server) read(p *peer) {
	for {
		typ, b, err := p.ws.Read(context.Background()) // p.close ends it
		if err != nil {
			return
		}
		if typ != websocket.MessageText {
			continue
		}
		if msg := s.apply(p, b); msg != "" {
			s.c.errors.Add(1)
			s.send(p, websocket.MessageText, errorMessage(msg))
		}
	}
}

// apply applies one client message to p's subscriptions, returning the
// error to send back, if any.
func (s *Server) apply(p *peer, b []byte) string {
	var m struct {
		A string          `json:"a"`
		V json.RawMessage `json:"v"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return "invalid message: " + err.Error()
	}
	var (
		tokens []uint32
		mode   Mode
	)
	switch m.A {
	case "subscribe", "unsubscribe":
		if err := json.Unmarshal(m.V, &tokens); err != nil {
			return fmt.Sprintf("invalid %s message: %v", m.A, err)
		}
	case "mode":
		var v []json.RawMessage
		if err := json.Unmarshal(m.V, &v); err != nil || len(v) != 2 {
			return `invalid mode message: want "v":[mode,[tokens]]`
		}
		var name string
		if err := json.Unmarshal(v[0], &name); err != nil {
			return "invalid mode message: " + err.Error()
		}
		if err := mode.UnmarshalText([]byte(name)); err != nil {
			return "invalid mode message: " + strconv.Quote(name) + " is not ltp, quote or full"
		}
		if err := json.Unmarshal(v[1], &tokens); err != nil {
			return "invalid mode message: " + err.Error()
		}
	default:
		return "unknown action " + strconv.Quote(m.A)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	over := 0
	for _, t := range tokens {
		switch m.A {
		case "subscribe":
			if _, ok := p.modes[t]; ok {
				continue
			}
			if len(p.modes) >= s.cfg.MaxPerConn {
				over++
				continue
			}
			p.modes[t] = ModeQuote
		case "unsubscribe":
			delete(p.modes, t)
		case "mode":
			if _, ok := p.modes[t]; ok {
				p.modes[t] = mode
			}
		}
	}
	if over > 0 {
		return fmt.Sprintf("%d instruments not subscribed: at most %d per connection", over, s.cfg.MaxPerConn)
	}
	return ""
}

// errorMessage returns a server error message as Kite sends it:
// {"type":"error","data":"..."}.
func errorMessage(msg string) []byte {
	b, _ := json.Marshal(struct {
		Type string `json:"type"`
		Data string `json:"data"`
	}{"error", msg})
	return b
}

// ServerStats are a Server's counters since NewServer.
type ServerStats struct {
	Conns       int    `json:"conns"`       // connections open now
	Instruments int    `json:"instruments"` // subscriptions over the open connections
	Accepted    uint64 `json:"accepted"`    // connections accepted
	Refused     uint64 `json:"refused"`     // handshakes refused with HTTP 429 (too many connections)
	Forbidden   uint64 `json:"forbidden"`   // handshakes refused with HTTP 403 (credentials, or not on loopback)
	Dropped     uint64 `json:"dropped"`     // connections closed by DropConns or the end of Run
	Ticks       uint64 `json:"ticks"`       // ticks the Source emitted
	Frames      uint64 `json:"frames"`      // data frames sent, over all connections
	Packets     uint64 `json:"packets"`     // packets in them
	Heartbeats  uint64 `json:"heartbeats"`  // heartbeats sent
	QueueDrops  uint64 `json:"queue_drops"` // flushes a slow connection had no room for
	Unencodable uint64 `json:"unencodable"` // ticks AppendFrame refused, left out
	Errors      uint64 `json:"errors"`      // error messages sent to clients
}

type serverCounters struct {
	accepted, refused, forbidden, drops, ticks                   atomic.Uint64
	frames, packets, heartbeats, queueDrops, unencodable, errors atomic.Uint64
}

// Stats returns the Server's counters.
func (s *Server) Stats() ServerStats {
	c := &s.c
	st := ServerStats{
		Accepted: c.accepted.Load(), Refused: c.refused.Load(), Forbidden: c.forbidden.Load(),
		Dropped: c.drops.Load(), Ticks: c.ticks.Load(), Frames: c.frames.Load(), Packets: c.packets.Load(),
		Heartbeats: c.heartbeats.Load(), QueueDrops: c.queueDrops.Load(), Unencodable: c.unencodable.Load(),
		Errors: c.errors.Load(),
	}
	s.mu.Lock()
	peers := make([]*peer, 0, len(s.peers))
	for p := range s.peers {
		peers = append(peers, p)
	}
	s.mu.Unlock()
	st.Conns = len(peers)
	for _, p := range peers {
		p.mu.Lock()
		st.Instruments += len(p.modes)
		p.mu.Unlock()
	}
	return st
}

func (s *Server) log(level slog.Level, msg string, attrs ...slog.Attr) {
	l := logattr.Logger(s.cfg.Logger)
	if !l.Enabled(context.Background(), level) {
		return
	}
	in := logattr.Instance(component, s.cfg.Name)
	l.LogAttrs(context.Background(), level, msg, append(in[:], attrs...)...)
}

package chainpage

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/steadfast-go/steadfast/internal/logattr"
	"github.com/steadfast-go/steadfast/ticker"
)

// Defaults of Config.
const (
	DefaultFrameInterval       = 250 * time.Millisecond
	DefaultHealthInterval      = time.Second
	DefaultMaxStreams          = 32
	DefaultMaxStreamsPerClient = 4
	DefaultMaxStreamAge        = 5 * time.Minute
	DefaultWriteTimeout        = 10 * time.Second
	DefaultName                = "chainpage"
)

// The shortest durations Config accepts; New refuses a shorter one, which
// would make a stream spin or end at once.
const (
	MinFrameInterval  = 10 * time.Millisecond  // Config.FrameInterval
	MinHealthInterval = 100 * time.Millisecond // Config.HealthInterval
	MinWriteTimeout   = 100 * time.Millisecond // Config.WriteTimeout, when positive
	MinStreamAge      = 10 * time.Second       // Config.MaxStreamAge, when positive
)

// Engine is what the page reads from the streaming engine; *ticker.Engine
// implements it.
type Engine interface {
	// Instruments returns the current subscriptions.
	Instruments() []ticker.Instrument
	// Latest returns the newest tick of a subscribed instrument; it must
	// not wait on anything slow, since every frame calls it once per
	// instrument.
	Latest(token uint32) (ticker.Tick, bool)
	// Health returns the engine's state for the status strip.
	Health() ticker.Health
}

// Config configures New. Engine is required; every other zero field means
// the default documented on it.
type Config struct {
	// Engine feeds the page. Required.
	Engine Engine
	// FrameInterval is the shortest time between two frames of one stream.
	// Default 250ms (4 frames a second); at least MinFrameInterval (10ms).
	FrameInterval time.Duration
	// HealthInterval is how often a stream carries the engine's Health.
	// Default 1s; at least MinHealthInterval (100ms).
	HealthInterval time.Duration
	// MaxStreams bounds the streams open at once; one more gets 503.
	// Default 32. Negative is an error.
	MaxStreams int
	// MaxStreamsPerClient bounds the streams one client holds at once; one
	// more gets 429. A client is what ClientKey says. Default 4 (or
	// MaxStreams, if smaller); at most MaxStreams.
	MaxStreamsPerClient int
	// MaxStreamAge is how long a stream lives: it then ends, less up to a
	// tenth at random so that streams opened together do not reconnect
	// together, and the browser's EventSource reconnects by itself.
	// Default 5m; negative means no limit; a positive value is at least
	// MinStreamAge (10s).
	MaxStreamAge time.Duration
	// WriteTimeout bounds the writing of one frame: a client that does not
	// take it in time has its stream closed (it reconnects and gets a
	// snapshot). Default 10s; negative means no deadline; a positive value
	// is at least MinWriteTimeout (100ms).
	WriteTimeout time.Duration
	// ClientKey names the client of a request, for MaxStreamsPerClient.
	// Default: the IP address of Request.RemoteAddr, an IPv6 address by its
	// /64 prefix (one host's addresses). Behind a reverse proxy every
	// request has the proxy's address: pass a function that reads the
	// header the proxy sets (and only a trusted proxy can set). A panic in
	// it is contained, logged and counted, and the default is used.
	ClientKey func(*http.Request) string

	// Name is the constant label "name" of the steadfast_chainpage_*
	// metrics and the "name" of the handler's log records (component
	// "chainpage"). Default "chainpage".
	Name string
	// Registerer receives the metrics: streams open, the MaxStreams cap,
	// streams opened, refused and expired, snapshots, frames and ticks
	// sent, values left out. Nil means no metrics.
	Registerer prometheus.Registerer
	// Logger receives the handler's records (a value it cannot encode, a
	// panic in ClientKey); nil means slog.Default(), looked up at each
	// record.
	Logger *slog.Logger
}

// withDefaults returns c with its zero fields defaulted, or an error naming
// the first invalid field.
func (c Config) withDefaults() (Config, error) {
	switch {
	case c.Engine == nil:
		return c, errors.New("chainpage: Config.Engine is required")
	case c.MaxStreams < 0:
		return c, fmt.Errorf("chainpage: Config.MaxStreams must not be negative, got %d", c.MaxStreams)
	case c.MaxStreamsPerClient < 0:
		return c, fmt.Errorf("chainpage: Config.MaxStreamsPerClient must not be negative, got %d", c.MaxStreamsPerClient)
	}
	for _, f := range []struct {
		name     string
		v        *time.Duration
		def, min time.Duration
		off      bool // negative means none
	}{
		{"FrameInterval", &c.FrameInterval, DefaultFrameInterval, MinFrameInterval, false},
		{"HealthInterval", &c.HealthInterval, DefaultHealthInterval, MinHealthInterval, false},
		{"MaxStreamAge", &c.MaxStreamAge, DefaultMaxStreamAge, MinStreamAge, true},
		{"WriteTimeout", &c.WriteTimeout, DefaultWriteTimeout, MinWriteTimeout, true},
	} {
		switch v := *f.v; {
		case v < 0 && !f.off:
			return c, fmt.Errorf("chainpage: Config.%s must not be negative, got %v", f.name, v)
		case v == 0:
			*f.v = f.def
		case v > 0 && v < f.min:
			return c, fmt.Errorf("chainpage: Config.%s (%v) is below its floor of %v", f.name, v, f.min)
		}
	}
	if c.MaxStreams == 0 {
		c.MaxStreams = DefaultMaxStreams
	}
	if c.Name == "" {
		c.Name = DefaultName
	}
	switch {
	case c.MaxStreamsPerClient == 0:
		c.MaxStreamsPerClient = min(DefaultMaxStreamsPerClient, c.MaxStreams)
	case c.MaxStreamsPerClient > c.MaxStreams:
		return c, fmt.Errorf("chainpage: Config.MaxStreamsPerClient (%d) is above Config.MaxStreams (%d)",
			c.MaxStreamsPerClient, c.MaxStreams)
	}
	return c, nil
}

// Stats counts a Handler's streams and what they sent.
type Stats struct {
	Open             int    `json:"open"`               // streams open now
	Opened           uint64 `json:"opened"`             // streams accepted
	Refused          uint64 `json:"refused"`            // requests refused with 503: beyond MaxStreams, or after Close
	RefusedPerClient uint64 `json:"refused_per_client"` // requests refused with 429 beyond MaxStreamsPerClient
	Expired          uint64 `json:"expired"`            // streams ended at MaxStreamAge
	Snapshots        uint64 `json:"snapshots"`          // snapshot events sent
	Frames           uint64 `json:"frames"`             // frames sent (a write and flush of one or more events), snapshots included
	Ticks            uint64 `json:"ticks"`              // ticks sent, in snapshots and deltas
	Unencodable      uint64 `json:"unencodable"`        // ticks, instruments' strikes and healths left out: not finite, or not encodable as JSON
	Panics           uint64 `json:"panics"`             // panics recovered in ClientKey
}

// Handler serves the page, its assets and its event stream. Make one with
// New.
type Handler struct {
	cfg  Config
	done chan struct{} // closed by Close
	once sync.Once

	mu        sync.Mutex
	open      int
	perClient map[string]int // open streams by client; no entry at zero
	closed    bool

	opened, refused, refusedClient, expired atomic.Uint64
	snapshots, frames, ticks                atomic.Uint64
	unencodable, panics                     atomic.Uint64
}

// New returns a Handler for cfg, or an error naming the first field that
// is missing or invalid.
func New(cfg Config) (*Handler, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	h := &Handler{cfg: cfg, done: make(chan struct{}), perClient: map[string]int{}}
	if err := h.register(); err != nil {
		return nil, err
	}
	return h, nil
}

// Close ends every open stream and refuses new ones (503); the page and
// its assets are still served. Pass it to http.Server.RegisterOnShutdown,
// so that graceful shutdown does not wait on open pages: a stream is a
// request that never ends by itself. It may be called more than once.
func (h *Handler) Close() {
	h.once.Do(func() {
		h.mu.Lock()
		h.closed = true
		h.mu.Unlock()
		close(h.done)
	})
}

// Stats returns the handler's counts.
func (h *Handler) Stats() Stats {
	h.mu.Lock()
	open := h.open
	h.mu.Unlock()
	return Stats{
		Open:             open,
		Opened:           h.opened.Load(),
		Refused:          h.refused.Load(),
		RefusedPerClient: h.refusedClient.Load(),
		Expired:          h.expired.Load(),
		Snapshots:        h.snapshots.Load(),
		Frames:           h.frames.Load(),
		Ticks:            h.ticks.Load(),
		Unencodable:      h.unencodable.Load(),
		Panics:           h.panics.Load(),
	}
}

//go:embed static
var static embed.FS

// asset returns the embedded file named by the last element of a path, and
// its content type.
func asset(name string) (file, ctype string, ok bool) {
	switch name {
	case "":
		return "static/index.html", "text/html; charset=utf-8", true
	case "app.js":
		return "static/app.js", "text/javascript; charset=utf-8", true
	case "style.css":
		return "static/style.css", "text/css; charset=utf-8", true
	}
	return "", "", false
}

// ServeHTTP serves the page on a path ending in "/", its assets on
// ".../app.js" and ".../style.css", and the event stream on ".../events".
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "chainpage: method not allowed", http.StatusMethodNotAllowed)
		return
	}
	name := r.URL.Path[strings.LastIndexByte(r.URL.Path, '/')+1:]
	if name == "events" {
		h.serveEvents(w, r)
		return
	}
	file, ctype, ok := asset(name)
	if !ok {
		http.NotFound(w, r)
		return
	}
	b, err := static.ReadFile(file)
	if err != nil { // embedded at build time; cannot fail
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	if r.Method == http.MethodHead {
		return
	}
	_, _ = w.Write(b)
}

// Why a stream request is refused.
var (
	errClosed    = errors.New("closed")
	errFull      = errors.New("too many open streams")
	errPerClient = errors.New("too many open streams from one client")
)

// acquire takes a stream slot for client, or says why it cannot.
func (h *Handler) acquire(client string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case h.closed:
		return errClosed
	case h.open >= h.cfg.MaxStreams:
		return errFull
	case h.perClient[client] >= h.cfg.MaxStreamsPerClient:
		return errPerClient
	}
	h.open++
	h.perClient[client]++
	h.opened.Add(1)
	return nil
}

// release frees a slot taken by acquire.
func (h *Handler) release(client string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.open--
	if h.perClient[client]--; h.perClient[client] <= 0 {
		delete(h.perClient, client)
	}
}

// refuse answers a stream request that acquire refused.
func (h *Handler) refuse(w http.ResponseWriter, why error) {
	w.Header().Set("Retry-After", "5")
	switch why {
	case errPerClient:
		h.refusedClient.Add(1)
		http.Error(w, fmt.Sprintf("chainpage: too many open streams from one client (the limit is %d); retry later",
			h.cfg.MaxStreamsPerClient), http.StatusTooManyRequests)
	case errFull:
		h.refused.Add(1)
		http.Error(w, fmt.Sprintf("chainpage: too many open streams (the limit is %d); retry later", h.cfg.MaxStreams),
			http.StatusServiceUnavailable)
	default:
		h.refused.Add(1)
		http.Error(w, "chainpage: closed", http.StatusServiceUnavailable)
	}
}

// clientKey returns the client of r: Config.ClientKey's answer, or by
// default the IP address of its RemoteAddr (an IPv6 address by its /64).
func (h *Handler) clientKey(r *http.Request) (key string) {
	if f := h.cfg.ClientKey; f != nil {
		ok := false
		logattr.Contain(func() { key, ok = f(r), true }, func(v any, stack []byte) {
			h.panics.Add(1)
			a := logattr.PanicAttrs(v, stack)
			h.log(slog.LevelError, "ClientKey panicked", a[0], a[1])
		})
		if ok {
			return key
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	if a = a.Unmap(); a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}

// serveEvents runs one stream until the request's context ends, the
// stream's age runs out, Close, or a write fails.
func (h *Handler) serveEvents(w http.ResponseWriter, r *http.Request) {
	client := h.clientKey(r)
	if err := h.acquire(client); err != nil {
		h.refuse(w, err)
		return
	}
	defer h.release(client)
	hd := w.Header()
	hd.Set("Content-Type", "text/event-stream")
	hd.Set("Cache-Control", "no-cache")
	hd.Set("X-Accel-Buffering", "no") // tell a proxy in front not to buffer the stream
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return
	}
	s := newStream(h, w)
	_ = s.run(r.Context()) // a failed write means the client is gone or too slow: it reconnects
}

func (h *Handler) log(level slog.Level, msg string, attrs ...slog.Attr) {
	l := logattr.Logger(h.cfg.Logger)
	if !l.Enabled(context.Background(), level) {
		return
	}
	in := logattr.Instance("chainpage", h.cfg.Name)
	l.LogAttrs(context.Background(), level, msg, append(in[:], attrs...)...)
}

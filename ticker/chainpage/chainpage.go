package chainpage

import (
	"embed"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/steadfast-go/steadfast/ticker"
)

// Defaults of Config.
const (
	DefaultFrameInterval  = 250 * time.Millisecond
	DefaultHealthInterval = time.Second
	DefaultMaxStreams     = 32
	DefaultWriteTimeout   = 10 * time.Second
	DefaultName           = "chainpage"
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
	// Default 250ms (4 frames a second). Negative is an error.
	FrameInterval time.Duration
	// HealthInterval is how often a stream carries the engine's Health.
	// Default 1s. Negative is an error.
	HealthInterval time.Duration
	// MaxStreams bounds the streams open at once; one more gets 503.
	// Default 32. Negative is an error.
	MaxStreams int
	// WriteTimeout bounds the writing of one frame: a client that does not
	// take it in time has its stream closed (it reconnects and gets a
	// snapshot). Default 10s; negative means no deadline.
	WriteTimeout time.Duration
	// Name is the constant label "name" of the steadfast_chainpage_*
	// metrics. Default "chainpage".
	Name string
	// Registerer receives the metrics: streams open, the MaxStreams cap,
	// streams opened and refused, snapshots, frames and ticks sent. Nil
	// means no metrics.
	Registerer prometheus.Registerer
}

// Stats counts a Handler's streams and what they sent.
type Stats struct {
	Open      int    `json:"open"`      // streams open now
	Opened    uint64 `json:"opened"`    // streams accepted
	Refused   uint64 `json:"refused"`   // requests refused with 503 beyond MaxStreams
	Snapshots uint64 `json:"snapshots"` // snapshot events sent
	Frames    uint64 `json:"frames"`    // frames sent (a write and flush of one or more events), snapshots included
	Ticks     uint64 `json:"ticks"`     // ticks sent, in snapshots and deltas
}

// Handler serves the page, its assets and its event stream. Make one with
// New.
type Handler struct {
	cfg Config

	open      atomic.Int64
	opened    atomic.Uint64
	refused   atomic.Uint64
	snapshots atomic.Uint64
	frames    atomic.Uint64
	ticks     atomic.Uint64
}

// New returns a Handler for cfg, or an error naming the first field that
// is missing or invalid.
func New(cfg Config) (*Handler, error) {
	switch {
	case cfg.Engine == nil:
		return nil, errors.New("chainpage: Config.Engine is required")
	case cfg.FrameInterval < 0:
		return nil, fmt.Errorf("chainpage: Config.FrameInterval must not be negative, got %v", cfg.FrameInterval)
	case cfg.HealthInterval < 0:
		return nil, fmt.Errorf("chainpage: Config.HealthInterval must not be negative, got %v", cfg.HealthInterval)
	case cfg.MaxStreams < 0:
		return nil, fmt.Errorf("chainpage: Config.MaxStreams must not be negative, got %d", cfg.MaxStreams)
	}
	if cfg.FrameInterval == 0 {
		cfg.FrameInterval = DefaultFrameInterval
	}
	if cfg.HealthInterval == 0 {
		cfg.HealthInterval = DefaultHealthInterval
	}
	if cfg.MaxStreams == 0 {
		cfg.MaxStreams = DefaultMaxStreams
	}
	if cfg.WriteTimeout == 0 {
		cfg.WriteTimeout = DefaultWriteTimeout
	}
	if cfg.Name == "" {
		cfg.Name = DefaultName
	}
	h := &Handler{cfg: cfg}
	if err := h.register(); err != nil {
		return nil, err
	}
	return h, nil
}

// Stats returns the handler's counts.
func (h *Handler) Stats() Stats {
	return Stats{
		Open:      int(h.open.Load()),
		Opened:    h.opened.Load(),
		Refused:   h.refused.Load(),
		Snapshots: h.snapshots.Load(),
		Frames:    h.frames.Load(),
		Ticks:     h.ticks.Load(),
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

// acquire takes a stream slot, or reports false when MaxStreams are open.
func (h *Handler) acquire() bool {
	for {
		n := h.open.Load()
		if n >= int64(h.cfg.MaxStreams) {
			return false
		}
		if h.open.CompareAndSwap(n, n+1) {
			h.opened.Add(1)
			return true
		}
	}
}

func (h *Handler) release() { h.open.Add(-1) }

// serveEvents runs one stream until the request's context ends or a write
// fails.
func (h *Handler) serveEvents(w http.ResponseWriter, r *http.Request) {
	if !h.acquire() {
		h.refused.Add(1)
		w.Header().Set("Retry-After", "5")
		http.Error(w, fmt.Sprintf("chainpage: too many open streams (the limit is %d); retry later", h.cfg.MaxStreams),
			http.StatusServiceUnavailable)
		return
	}
	defer h.release()
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

package kite

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/steadfast-go/steadfast/internal/backoff"
	"github.com/steadfast-go/steadfast/ticker/market"
)

// Defaults of Config's zero fields.
const (
	DefaultBaseURL      = "wss://ws.kite.trade"
	DefaultMaxPerConn   = 3000 // instruments per connection (the documented limit)
	DefaultMaxConns     = 3    // connections per API key (the documented limit)
	MaxMaxConns         = 64   // the most Config.MaxConns accepts (several API keys' worth)
	DefaultBatchSize    = 500
	DefaultPingTimeout  = 5 * time.Second
	DefaultStallTimeout = 60 * time.Second
	DefaultBackoff      = time.Second
	DefaultMaxBackoff   = 60 * time.Second
	DefaultStableAfter  = 60 * time.Second
	DefaultQueueSize    = 256
	MaxQueueSize        = 1 << 16 // the most Config.QueueSize (and ServerConfig.QueueSize) accepts
)

// The shortest durations Config accepts. A shorter one is refused by New:
// a slipped untyped constant (StallTimeout: 60 means 60 ns) would
// otherwise make the Source spin or crash.
const (
	MinPingTimeout  = time.Second            // Config.PingTimeout
	MinStallTimeout = time.Second            // Config.StallTimeout, when positive
	MinBackoff      = 100 * time.Millisecond // Config.Backoff and Config.MaxBackoff
	MinStableAfter  = time.Second            // Config.StableAfter
)

// Config configures a Source. Its zero fields take the defaults named on
// them; APIKey and an access token (AccessToken or RefreshToken) are
// required.
type Config struct {
	// APIKey is the Kite Connect app's API key. Required.
	APIKey string
	// AccessToken is the session's access token. It never appears in an
	// error, a log record or a metric. Required unless RefreshToken is set,
	// which is then called for the first token.
	AccessToken string
	// RefreshToken, if set, is called (outside any lock, its panic
	// contained) when the server refuses the access token (HTTP 401 or 403
	// at the handshake). It returns a new token, which the Source uses from
	// then on. A refusal is otherwise permanent: without a hook, when the
	// hook fails or returns the same token, or when a freshly refreshed
	// token is refused too, Run returns an error wrapping ErrAuth instead of
	// retrying.
	RefreshToken func(ctx context.Context) (string, error)

	// BaseURL is the WebSocket endpoint, ws:// or wss://; default
	// DefaultBaseURL. The api_key and access_token query parameters are
	// added to it.
	BaseURL string
	// Dial opens the network connection under each WebSocket (TLS is added
	// on top for wss://); nil uses a net.Dialer. Tests pass one that
	// returns in-memory connections (net.Pipe) so their timing can run in a
	// testing/synctest bubble.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)

	// Mode is the streaming mode of every subscription; default ModeQuote.
	Mode Mode
	// MaxPerConn is the most instruments on one connection; default 3,000.
	MaxPerConn int
	// MaxConns is the most connections; default 3. Instruments fill the
	// first connection, then the next. At most MaxMaxConns: the Source
	// keeps a record per connection from the start.
	MaxConns int
	// BatchSize is the most tokens in one subscribe, unsubscribe or mode
	// message; default 500.
	BatchSize int

	// PingTimeout: a connection that receives no frame at all (heartbeats
	// included) for this long is taken as dead and replaced; the watchdog
	// looks every PingTimeout/4, so a dead peer is replaced within 1.25 ×
	// PingTimeout. Kite sends a heartbeat "every couple seconds" when it has
	// no data (its WebSocket documentation), so the default of 5s, as in
	// Kite's official Go and JavaScript clients, allows two missed
	// heartbeats; below that a slow heartbeat would replace a healthy
	// connection. It also bounds each handshake and each batch of
	// subscription messages. Default 5s; at least MinPingTimeout (1s).
	PingTimeout time.Duration
	// StallTimeout: a connection that receives no market data (frames other
	// than heartbeats) for this long while MarketHours says the market is
	// open is stalled: reported in Health and Stats, and healed. Its
	// subscriptions are sent again on the same connection; if that brings
	// no data within another StallTimeout, the connection is replaced.
	// Default 60s; negative turns the check off; a positive value is at
	// least MinStallTimeout (1s).
	StallTimeout time.Duration
	// MarketHours says when the market is open for the stall check; the zero
	// value is NSE's weekday session with no holidays.
	MarketHours market.Hours

	// Backoff is the first reconnect delay's ceiling; each failure doubles
	// it up to MaxBackoff, and the delay is drawn uniformly below the
	// ceiling (full jitter). Default 1s (or MaxBackoff, if that is set and
	// smaller); at least MinBackoff (100ms).
	Backoff time.Duration
	// MaxBackoff caps the ceiling; default 60s (or Backoff, if larger); at
	// least MinBackoff (100ms).
	MaxBackoff time.Duration
	// StableAfter: the backoff starts again from Backoff only after a
	// connection has stayed up this long, so a server that accepts and
	// drops at once is not hammered. Default 60s; at least MinStableAfter
	// (1s).
	StableAfter time.Duration
	// QueueSize is how many frames may wait between the reading goroutines
	// and emit; when full, further frames are dropped and counted, so
	// reading never waits on emit. Default 256; at most MaxQueueSize
	// (65,536).
	QueueSize int

	// OnGap, if set, is called after a lost connection is restored and its
	// subscriptions are sent again, with what the consumer may have missed.
	// Start is the time of the last frame received before the loss. It
	// runs on that connection's goroutine, outside locks, with its panic
	// contained: it should return quickly.
	OnGap func(Gap)
	// OnOrder, if set, is called with each order update the server sends
	// (Kite streams every order of the user, placed from any platform). It
	// runs on the goroutine that calls emit, in arrival order, outside
	// locks, with its panic contained, logged and counted: it should return
	// quickly, since ticks wait meanwhile. Up to 64 text messages wait for
	// it; beyond, they are dropped and counted (Stats.DroppedTexts).
	OnOrder func(Order)
	// OnMessage, if set, is called with each error ("error") and each
	// message or alert ("message") the server sends, as OnOrder is. Both
	// are also logged, errors at warning level.
	OnMessage func(Message)

	// Name labels the Source's metrics (label "name") and log records.
	Name string
	// Logger receives the Source's records; nil means slog.Default(),
	// looked up at each record.
	Logger *slog.Logger
	// Registerer, if not nil, receives the Source's metrics.
	Registerer prometheus.Registerer
}

// withDefaults returns c with its zero fields defaulted, or an error naming
// the first invalid field.
func (c Config) withDefaults() (Config, *url.URL, error) {
	bad := func(field, why string) (Config, *url.URL, error) {
		return c, nil, fmt.Errorf("kite: Config.%s %s", field, why)
	}
	if c.APIKey == "" {
		return bad("APIKey", "is required")
	}
	if c.AccessToken == "" && c.RefreshToken == nil {
		return bad("AccessToken", "is required when RefreshToken is nil")
	}
	if c.BaseURL == "" {
		c.BaseURL = DefaultBaseURL
	}
	u, err := url.Parse(c.BaseURL)
	if err != nil || (u.Scheme != "ws" && u.Scheme != "wss") || u.Host == "" {
		return bad("BaseURL", fmt.Sprintf("%q is not a ws:// or wss:// URL", c.BaseURL))
	}
	if c.Mode == 0 {
		c.Mode = ModeQuote
	}
	if c.Mode > ModeFull {
		return bad("Mode", fmt.Sprintf("%d is unknown", c.Mode))
	}
	if name, v := defaultInts([]intField{
		{"MaxPerConn", &c.MaxPerConn, DefaultMaxPerConn},
		{"MaxConns", &c.MaxConns, DefaultMaxConns},
		{"BatchSize", &c.BatchSize, DefaultBatchSize},
		{"QueueSize", &c.QueueSize, DefaultQueueSize},
	}); name != "" {
		return bad(name, fmt.Sprintf("is negative (%d)", v))
	}
	if c.MaxConns > MaxMaxConns {
		return bad("MaxConns", fmt.Sprintf("is above %d (%d)", MaxMaxConns, c.MaxConns))
	}
	if c.QueueSize > MaxQueueSize {
		return bad("QueueSize", fmt.Sprintf("is above %d (%d)", MaxQueueSize, c.QueueSize))
	}
	durs := []durField{
		{"PingTimeout", &c.PingTimeout, DefaultPingTimeout, MinPingTimeout, false},
		{"StallTimeout", &c.StallTimeout, DefaultStallTimeout, MinStallTimeout, true},
		{"Backoff", &c.Backoff, 0, MinBackoff, false},       // defaults below, as a pair
		{"MaxBackoff", &c.MaxBackoff, 0, MinBackoff, false}, // (the default yields to the other)
		{"StableAfter", &c.StableAfter, DefaultStableAfter, MinStableAfter, false},
	}
	if name, why := defaultDurations(durs); name != "" {
		return bad(name, why)
	}
	var ok bool
	if c.Backoff, c.MaxBackoff, ok = backoff.Bounds(c.Backoff, DefaultBackoff, c.MaxBackoff, DefaultMaxBackoff); !ok {
		return bad("MaxBackoff", fmt.Sprintf("(%v) is below Config.Backoff (%v)", c.MaxBackoff, c.Backoff))
	}
	return c, u, nil
}

// durField is a Config field of type time.Duration with its default and
// its floor.
type durField struct {
	name     string
	v        *time.Duration
	def, min time.Duration
	off      bool // negative means off
}

// defaultDurations sets each zero field to its default and returns the
// name of the first field that is negative (unless that means off) or
// positive and below its floor, and why; "" when none is.
func defaultDurations(fs []durField) (string, string) {
	for _, f := range fs {
		switch v := *f.v; {
		case v < 0 && !f.off:
			return f.name, fmt.Sprintf("is negative (%v)", v)
		case v == 0:
			*f.v = f.def
		case v > 0 && v < f.min:
			return f.name, fmt.Sprintf("(%v) is below its floor of %v", v, f.min)
		}
	}
	return "", ""
}

// Errors reported by a Source. Match them with errors.Is.
var (
	// ErrAuth: the server refused the access token (HTTP 401 or 403) and no
	// new token could be had. Permanent: Run returns it.
	ErrAuth = errors.New("kite: access token refused")
	// ErrRefused: the server refused a connection with HTTP 429, as it does
	// for a fourth connection of one API key. The Source retries with
	// backoff and reports it in Health and Stats.
	ErrRefused = errors.New("kite: connection refused: too many connections")
	// ErrDial: a connection could not be opened, or failed.
	ErrDial = errors.New("kite: connection failed")
	// ErrFull: Subscribe had no room for an instrument within MaxConns
	// connections of MaxPerConn instruments.
	ErrFull = errors.New("kite: no room for more instruments")
	// ErrRunning: Run was called while another Run of the Source is in
	// progress.
	ErrRunning = errors.New("kite: source is already running")
)

// ConnError reports a connection's failure. It wraps ErrAuth, ErrRefused or
// ErrDial. Its message has the access token removed, and it does not wrap
// the underlying error (whose text may hold the URL with the token).
type ConnError struct {
	Conn   int    // the connection's index, from 0
	Status int    // the handshake's HTTP status; 0 when there was no response
	Msg    string // what went wrong, with the access token redacted
	kind   error
}

// Error returns e.g. "kite: connection 1: HTTP 429: ...".
func (e *ConnError) Error() string {
	s := fmt.Sprintf("kite: connection %d: ", e.Conn)
	if e.Status != 0 {
		s += fmt.Sprintf("HTTP %d: ", e.Status)
	}
	return s + e.Msg
}

// Unwrap returns ErrAuth, ErrRefused or ErrDial.
func (e *ConnError) Unwrap() error { return e.kind }

// MarshalText returns Error(), so the error shows in JSON as its message.
func (e *ConnError) MarshalText() ([]byte, error) { return []byte(e.Error()), nil }

// intField is a Config field of type int with its default.
type intField struct {
	name string
	v    *int
	def  int
}

// defaultInts sets each zero field to its default and returns the name and
// value of the first negative one, or "" when none is.
func defaultInts(fs []intField) (string, int) {
	for _, f := range fs {
		if *f.v < 0 {
			return f.name, *f.v
		}
		if *f.v == 0 {
			*f.v = f.def
		}
	}
	return "", 0
}

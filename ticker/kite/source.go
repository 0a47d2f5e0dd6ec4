package kite

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"runtime/debug"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/steadfast-go/steadfast/internal/backoff"
	"github.com/steadfast-go/steadfast/internal/logattr"
	"github.com/steadfast-go/steadfast/internal/promreg"
	"github.com/steadfast-go/steadfast/ticker"
)

const component = "kite"

// Source streams ticks from the Kite Connect WebSocket API. It implements
// ticker.Source. Create it with New; it is safe for concurrent use.
type Source struct {
	cfg    Config
	base   *url.URL
	client *http.Client
	c      counters

	running   atomic.Bool
	refreshMu sync.Mutex // serializes RefreshToken calls

	mu      sync.Mutex
	token   string   // the access token in use
	tokGen  uint64   // bumped each time RefreshToken gives a new token
	secrets []string // every token used, for redaction
	where   map[uint32]*slot
	slots   []*slot
	fatal   string // the permanent error that ended the last Run
}

// slot is one of the MaxConns connections and the instruments it carries.
type slot struct {
	idx  int
	wake chan struct{} // capacity 1: the wanted set changed

	// Guarded by Source.mu.
	want    map[uint32]struct{}
	state   ConnState
	since   time.Time // when state was entered
	lastErr string
	stalled bool

	lastFrame atomic.Int64 // Unix nanoseconds of the last frame of any kind
	lastData  atomic.Int64 // Unix nanoseconds of the last frame with packets
}

var _ ticker.Source = (*Source)(nil)

// New returns a Source for cfg, or an error naming the first invalid field
// of cfg, or an error registering its metrics.
func New(cfg Config) (*Source, error) {
	cfg, base, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	tr := &http.Transport{DialContext: cfg.Dial, Proxy: http.ProxyFromEnvironment}
	if cfg.Dial != nil {
		tr.Proxy = nil
	}
	s := &Source{
		cfg:  cfg,
		base: base,
		// A WebSocket handshake never needs a redirect, and following one
		// could loop, leave wss:// for ws:// or carry the credentials to
		// another host: the response to the first request is final.
		client: &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		}},
		token: cfg.AccessToken,
		where: map[uint32]*slot{},
	}
	if cfg.AccessToken != "" {
		s.secrets = append(s.secrets, cfg.AccessToken)
	}
	for i := range cfg.MaxConns {
		s.slots = append(s.slots, &slot{idx: i, wake: make(chan struct{}, 1), want: map[uint32]struct{}{}})
	}
	if cfg.Registerer != nil {
		if err := promreg.Register(cfg.Registerer, component, cfg.Name, &collector{s: s}); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Subscribe applies a subscription diff. Instruments in remove are dropped
// from their connection; instruments in add go to the first connection with
// room. Instruments with no room (more than MaxConns × MaxPerConn in all)
// are left out and reported by an error wrapping ErrFull; the others are
// applied. It may be called before or during Run; the changes reach the
// server at once while connected, or when the connection is made.
func (s *Source) Subscribe(add, remove []ticker.Instrument) error {
	s.mu.Lock()
	dirty := map[*slot]bool{}
	for _, in := range remove {
		if sl, ok := s.where[in.Token]; ok {
			delete(sl.want, in.Token)
			delete(s.where, in.Token)
			dirty[sl] = true
		}
	}
	var full int
	for _, in := range add {
		if _, ok := s.where[in.Token]; ok || in.Token == 0 {
			continue
		}
		i := slices.IndexFunc(s.slots, func(sl *slot) bool { return len(sl.want) < s.cfg.MaxPerConn })
		if i < 0 {
			full++
			continue
		}
		sl := s.slots[i]
		sl.want[in.Token] = struct{}{}
		s.where[in.Token] = sl
		dirty[sl] = true
	}
	s.mu.Unlock()
	for sl := range dirty {
		poke(sl.wake)
	}
	if full > 0 {
		return fmt.Errorf("%w: %d instruments left out (at most %d connections of %d)", ErrFull, full, s.cfg.MaxConns, s.cfg.MaxPerConn)
	}
	return nil
}

func poke(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// frame is one binary message handed from a reading goroutine to the
// emitting one.
type frame struct {
	b    []byte
	recv time.Time
}

// run is the state of one Run call.
type run struct {
	s      *Source
	emit   func(ticker.Tick)
	frames chan frame   // full buffers, to the emitting goroutine
	texts  chan text    // text messages, to the emitting goroutine
	free   chan []byte  // empty buffers, back to the readers
	parser Parser       // used by the emitting goroutine only
	pooled atomic.Int64 // capacity of the buffers in free
	queued atomic.Int64 // bytes of the frames in frames
}

// Run connects and streams ticks until ctx ends, calling emit for each tick
// on one goroutine of its own, never on a goroutine that reads the network:
// frames wait in a queue of QueueSize between the two, and when emit falls
// that far behind further frames are dropped and counted (Stats
// DroppedFrames) rather than stopping the reading, so the heartbeat
// watchdog never fires because of a slow consumer. A panic in emit is
// recovered, logged and counted, and the rest of that frame is lost.
//
// A tick's Time is the packet's exchange timestamp, or the time its frame
// was received for packet kinds without one (LTP and quote). Run starts
// one goroutine per connection in use, one reading goroutine per open
// connection and the emitting goroutine, and waits for all of them before
// returning. It returns nil when ctx ends, an error wrapping ErrAuth when the
// access token is refused for good, and ErrRunning if another Run is in
// progress.
func (s *Source) Run(ctx context.Context, emit func(ticker.Tick)) error {
	if !s.running.CompareAndSwap(false, true) {
		return ErrRunning
	}
	defer s.running.Store(false)
	s.mu.Lock()
	s.fatal = ""
	s.mu.Unlock()
	r := &run{s: s, emit: emit, frames: make(chan frame, s.cfg.QueueSize), free: make(chan []byte, s.cfg.QueueSize),
		texts: make(chan text, textQueue)}
	for range s.cfg.QueueSize {
		r.free <- nil
	}
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg    sync.WaitGroup
		fatal error
		once  sync.Once
	)
	wg.Go(func() { r.dispatch(rctx) })
	for _, sl := range s.slots {
		wg.Go(func() {
			if err := r.conn(rctx, sl); err != nil {
				once.Do(func() { fatal = err })
				cancel()
			}
		})
	}
	<-rctx.Done()
	wg.Wait()
	s.client.CloseIdleConnections()
	s.mu.Lock()
	for _, sl := range s.slots {
		s.setState(sl, ConnIdle, "")
	}
	s.mu.Unlock()
	if fatal != nil && ctx.Err() == nil {
		s.mu.Lock()
		s.fatal = fatal.Error()
		s.mu.Unlock()
		s.log(slog.LevelError, "stopped", slog.String(logattr.Error, fatal.Error()))
		return fatal
	}
	return nil
}

// dispatch parses queued frames and calls emit, and hands text messages
// to OnOrder and OnMessage, until ctx ends.
func (r *run) dispatch(ctx context.Context) {
	var before [numReasons]uint64
	for {
		select {
		case <-ctx.Done():
			return
		case t := <-r.texts:
			r.handleText(t)
		case f := <-r.frames:
			r.emitFrame(f)
			r.queued.Add(-int64(len(f.b)))
			r.give(f.b)
			for reason := Reason(1); reason < numReasons; reason++ {
				if n := r.parser.rejected[reason]; n != before[reason] {
					r.s.c.rejected[reason].Add(n - before[reason])
					if bits := n; bits&(bits-1) == 0 { // the 1st, 2nd, 4th, 8th ...
						r.s.log(slog.LevelWarn, "malformed frame", slog.String("reason", reason.String()), slog.Uint64("count", n))
					}
					before[reason] = n
				}
			}
		}
	}
}

// emitFrame parses one frame into emit, containing a panic of emit.
func (r *run) emitFrame(f frame) {
	defer func() {
		if v := recover(); v != nil {
			r.s.c.emitPanics.Add(1)
			a := logattr.PanicAttrs(v, debug.Stack())
			r.s.log(slog.LevelError, "emit panicked", a[0], a[1])
		}
	}()
	n, _ := r.parser.Parse(f.b, func(t ticker.Tick) {
		if t.Time.IsZero() {
			t.Time = f.recv
		}
		r.emit(t)
	})
	r.s.c.packets.Add(uint64(n))
}

// conn keeps slot sl connected while it has instruments, until ctx ends.
// It returns an error only for a permanent failure (the token refused).
func (r *run) conn(ctx context.Context, sl *slot) error {
	s := r.s
	attempt := 0
	authFails := 0
	var gapStart time.Time
	for ctx.Err() == nil {
		s.mu.Lock()
		n := len(sl.want)
		if n == 0 {
			s.setState(sl, ConnIdle, "")
		}
		s.mu.Unlock()
		if n == 0 {
			select {
			case <-ctx.Done():
				return nil
			case <-sl.wake:
				continue
			}
		}
		s.mu.Lock()
		s.setState(sl, ConnConnecting, "")
		token, gen := s.token, s.tokGen
		s.mu.Unlock()
		if token == "" { // no token yet: ask the hook first
			if err := r.refresh(ctx, sl, gen, nil); err != nil {
				return err
			}
			continue
		}
		s.c.dials.Add(1)
		ws, err := r.dial(ctx, sl, token)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			var ce *ConnError
			errors.As(err, &ce)
			s.mu.Lock()
			s.setState(sl, ConnWaiting, ce.Error())
			s.mu.Unlock()
			switch {
			case errors.Is(err, ErrAuth):
				s.c.authErrors.Add(1)
				authFails++
				if authFails > 1 { // a refreshed token was refused too
					return err
				}
				if err := r.refresh(ctx, sl, gen, ce); err != nil {
					return err
				}
				continue
			case errors.Is(err, ErrRefused):
				s.c.refused.Add(1)
				s.log(slog.LevelWarn, "connection refused", slog.Int("conn", sl.idx), slog.Int("status", ce.Status),
					slog.String(logattr.Error, ce.Error()))
			default:
				s.c.dialErrors.Add(1)
				s.log(slog.LevelWarn, "cannot connect", slog.Int("conn", sl.idx), slog.String(logattr.Error, ce.Error()))
			}
			if !sleep(ctx, backoff.Full(s.cfg.Backoff, s.cfg.MaxBackoff, attempt)) {
				return nil
			}
			attempt++
			continue
		}
		authFails = 0
		up := time.Now()
		err = r.session(ctx, sl, ws, gapStart)
		ws.CloseNow()
		if ctx.Err() != nil {
			return nil
		}
		if err == nil {
			err = errors.New("connection closed")
		}
		// Ticks may have been missed since the last frame received.
		gapStart = time.Unix(0, sl.lastFrame.Load())
		s.c.reconnects.Add(1)
		if time.Since(up) >= s.cfg.StableAfter {
			attempt = 0
		}
		msg := s.redact(err.Error())
		s.mu.Lock()
		s.setState(sl, ConnWaiting, msg)
		s.mu.Unlock()
		s.log(slog.LevelWarn, "connection lost", slog.Int("conn", sl.idx), slog.String(logattr.Error, msg))
		if !sleep(ctx, backoff.Full(s.cfg.Backoff, s.cfg.MaxBackoff, attempt)) {
			return nil
		}
		attempt++
	}
	return nil
}

// refresh asks RefreshToken for a new token after the token of generation
// gen was refused. Another connection may have refreshed it already; then
// the new one is used as it is. It returns a permanent error wrapping
// ErrAuth when there is no new token.
func (r *run) refresh(ctx context.Context, sl *slot, gen uint64, cause *ConnError) error {
	s := r.s
	permanent := func(why string) error {
		if cause != nil {
			return fmt.Errorf("%w (%s)", cause, why)
		}
		return &ConnError{Conn: sl.idx, Msg: why, kind: ErrAuth}
	}
	s.refreshMu.Lock() // one hook call at a time; the others then see the new token
	defer s.refreshMu.Unlock()
	s.mu.Lock()
	hook, old, current := s.cfg.RefreshToken, s.token, s.tokGen == gen
	s.mu.Unlock()
	if !current {
		return nil
	}
	if hook == nil {
		return permanent("no RefreshToken hook")
	}
	tok, err := s.callRefresh(ctx, hook)
	if err != nil {
		msg := s.redact(err.Error(), tok)
		s.log(slog.LevelError, "token refresh failed", slog.Int("conn", sl.idx), slog.String(logattr.Error, msg))
		return permanent("token refresh failed: " + msg)
	}
	if tok == "" || tok == old {
		return permanent("RefreshToken returned no new token")
	}
	s.mu.Lock()
	if s.tokGen == gen { // else another connection refreshed meanwhile: use its token
		s.token = tok
		s.tokGen++
		s.secrets = append(s.secrets, tok)
	}
	s.mu.Unlock()
	s.c.refreshes.Add(1)
	s.log(slog.LevelInfo, "access token refreshed", slog.Int("conn", sl.idx))
	return nil
}

// callRefresh calls the hook, turning a panic into an error: the panic is
// logged with its stack (its value redacted of tokens) and counted in
// Stats.Panics.
func (s *Source) callRefresh(ctx context.Context, hook func(context.Context) (string, error)) (tok string, err error) {
	defer func() {
		if v := recover(); v != nil {
			s.c.emitPanics.Add(1)
			a := logattr.PanicAttrs(v, debug.Stack())
			a[0] = slog.String(logattr.Panic, s.redact(a[0].Value.String()))
			s.log(slog.LevelError, "RefreshToken panicked", a[0], a[1])
			err = fmt.Errorf("RefreshToken panicked: %v", v)
		}
	}()
	return hook(ctx)
}

// dial opens slot sl's WebSocket with token.
func (r *run) dial(ctx context.Context, sl *slot, token string) (*websocket.Conn, error) {
	s := r.s
	u := *s.base
	q := u.Query()
	q.Set("api_key", s.cfg.APIKey)
	q.Set("access_token", token)
	u.RawQuery = q.Encode()
	dctx, cancel := context.WithTimeout(ctx, s.cfg.PingTimeout)
	defer cancel()
	ws, resp, err := websocket.Dial(dctx, u.String(), &websocket.DialOptions{HTTPClient: s.client})
	if err == nil {
		ws.SetReadLimit(s.readLimit())
		return ws, nil
	}
	ce := &ConnError{Conn: sl.idx, Msg: s.redact(err.Error()), kind: ErrDial}
	if resp != nil {
		ce.Status = resp.StatusCode
		if resp.Body != nil {
			resp.Body.Close()
		}
		switch st := resp.StatusCode; {
		case st >= 300 && st < 400:
			ce.Msg = "redirect refused: a WebSocket handshake is not redirected"
		case st == http.StatusUnauthorized, st == http.StatusForbidden:
			ce.kind = ErrAuth
		case st == http.StatusTooManyRequests:
			ce.kind = ErrRefused
		}
	}
	return nil, ce
}

// session serves one open connection: it sends the subscriptions, then
// keeps them in step with Subscribe and watches the connection, until the
// connection fails (the error says how) or ctx ends (nil).
func (r *run) session(ctx context.Context, sl *slot, ws *websocket.Conn, gapStart time.Time) error {
	s := r.s
	sctx, cancel := context.WithCancel(ctx)
	readErr := make(chan error, 1)
	now := time.Now().UnixNano()
	sl.lastFrame.Store(now)
	sl.lastData.Store(now)
	go func() { readErr <- r.read(sctx, sl, ws) }()
	defer func() {
		cancel()
		ws.CloseNow()
		<-readErr
	}()
	sent := map[uint32]struct{}{}
	if err := r.sync(sctx, sl, ws, sent); err != nil {
		return err
	}
	s.mu.Lock()
	s.setState(sl, ConnConnected, "")
	s.mu.Unlock()
	s.c.connects.Add(1)
	if !gapStart.IsZero() {
		r.gap(sl, gapStart, sent)
	}
	tick := time.NewTicker(s.checkPeriod())
	defer tick.Stop()
	var resubscribed time.Time // when a stall was met by resubscribing
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-readErr:
			readErr <- err // for the deferred wait
			return err
		case <-sl.wake:
			if err := r.sync(sctx, sl, ws, sent); err != nil {
				return err
			}
		case now := <-tick.C:
			if now.Sub(time.Unix(0, sl.lastFrame.Load())) > s.cfg.PingTimeout {
				s.c.deadPeers.Add(1)
				return fmt.Errorf("no frame for %v", s.cfg.PingTimeout)
			}
			switch r.checkStall(sl, now, &resubscribed) {
			case stallResubscribe:
				s.c.resubscribes.Add(1)
				clear(sent)
				if err := r.sync(sctx, sl, ws, sent); err != nil {
					return err
				}
			case stallReconnect:
				s.c.stallReconnects.Add(1)
				return fmt.Errorf("no data for %v after resubscribing", s.cfg.StallTimeout)
			}
		}
	}
}

// minCheck is the floor of the watchdog's period, whatever the timeouts.
const minCheck = 100 * time.Millisecond

// checkPeriod returns how often a connection's watchdog looks at it: a
// quarter of the shorter of PingTimeout and StallTimeout, at least
// minCheck.
func (s *Source) checkPeriod() time.Duration {
	check := s.cfg.PingTimeout / 4
	if st := s.cfg.StallTimeout; st > 0 && st/4 < check {
		check = st / 4
	}
	return max(check, minCheck)
}

// stallAction is what the watchdog does about a connection's stall.
type stallAction uint8

const (
	stallNone        stallAction = iota
	stallResubscribe             // it has just stalled: send its subscriptions again
	stallReconnect               // still stalled StallTimeout after that: replace it
)

// checkStall marks sl stalled when it had no data for StallTimeout while
// the market is open, and says what to do about it: resubscribe when it
// becomes stalled (resubscribed records when), reconnect when it is still
// stalled StallTimeout after that.
func (r *run) checkStall(sl *slot, now time.Time, resubscribed *time.Time) stallAction {
	s := r.s
	st := s.cfg.StallTimeout
	silence := now.Sub(time.Unix(0, sl.lastData.Load()))
	stalled := st > 0 && s.cfg.MarketHours.Open(now) && silence > st
	s.mu.Lock()
	was := sl.stalled
	sl.stalled = stalled
	s.mu.Unlock()
	switch {
	case stalled && !was:
		s.c.stalls.Add(1)
		s.log(slog.LevelWarn, "feed stalled: resubscribing", slog.Int("conn", sl.idx), slog.Duration("silence", silence))
		*resubscribed = now
		return stallResubscribe
	case stalled && now.Sub(*resubscribed) > st:
		s.log(slog.LevelWarn, "feed still stalled after resubscribing: reconnecting", slog.Int("conn", sl.idx),
			slog.Duration("silence", silence))
		return stallReconnect
	case was && !stalled:
		s.log(slog.LevelInfo, "feed resumed", slog.Int("conn", sl.idx))
		*resubscribed = time.Time{}
	}
	return stallNone
}

// gap reports what a connection may have missed between start (its last
// frame before it was lost) and now.
func (r *run) gap(sl *slot, start time.Time, sent map[uint32]struct{}) {
	s := r.s
	g := Gap{Conn: sl.idx, Start: start, End: time.Now(), Tokens: make([]uint32, 0, len(sent))}
	for t := range sent {
		g.Tokens = append(g.Tokens, t)
	}
	slices.Sort(g.Tokens)
	s.c.gaps.Add(1)
	s.log(slog.LevelWarn, "gap", slog.Int("conn", sl.idx), slog.Time("start", g.Start), slog.Time("end", g.End),
		slog.Duration("duration", g.End.Sub(g.Start)), slog.Int("instruments", len(g.Tokens)))
	if s.cfg.OnGap == nil {
		return
	}
	defer func() {
		if v := recover(); v != nil {
			s.c.emitPanics.Add(1)
			a := logattr.PanicAttrs(v, debug.Stack())
			s.log(slog.LevelError, "OnGap panicked", a[0], a[1])
		}
	}()
	s.cfg.OnGap(g)
}

// sync sends what sl's wanted set gained and lost since sent, in batches,
// and updates sent.
func (r *run) sync(ctx context.Context, sl *slot, ws *websocket.Conn, sent map[uint32]struct{}) error {
	s := r.s
	var add, drop []uint32
	s.mu.Lock()
	for t := range sl.want {
		if _, ok := sent[t]; !ok {
			add = append(add, t)
		}
	}
	for t := range sent {
		if _, ok := sl.want[t]; !ok {
			drop = append(drop, t)
		}
	}
	s.mu.Unlock()
	slices.Sort(add)
	slices.Sort(drop)
	wctx, cancel := context.WithTimeout(ctx, s.cfg.PingTimeout)
	defer cancel()
	for b := range slices.Chunk(drop, s.cfg.BatchSize) {
		if err := ws.Write(wctx, websocket.MessageText, request("unsubscribe", "", b)); err != nil {
			return err
		}
		for _, t := range b {
			delete(sent, t)
		}
	}
	for b := range slices.Chunk(add, s.cfg.BatchSize) {
		if err := ws.Write(wctx, websocket.MessageText, request("subscribe", "", b)); err != nil {
			return err
		}
		if err := ws.Write(wctx, websocket.MessageText, request("mode", s.cfg.Mode.String(), b)); err != nil {
			return err
		}
		for _, t := range b {
			sent[t] = struct{}{}
		}
	}
	return nil
}

// request returns a client message: {"a":"subscribe","v":[tokens]}, or for
// mode {"a":"mode","v":["full",[tokens]]} (Kite Connect v3 WebSocket
// documentation, "Request structure").
func request(action, mode string, tokens []uint32) []byte {
	b := make([]byte, 0, 32+11*len(tokens))
	b = append(b, `{"a":"`...)
	b = append(b, action...)
	b = append(b, `","v":`...)
	if mode != "" {
		b = append(b, `["`...)
		b = append(b, mode...)
		b = append(b, `",`...)
	}
	b = append(b, '[')
	for i, t := range tokens {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendUint(b, uint64(t), 10)
	}
	b = append(b, ']')
	if mode != "" {
		b = append(b, ']')
	}
	return append(b, '}')
}

// sleep waits d or until ctx ends, reporting whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// setState records sl's state; s.mu must be held.
func (s *Source) setState(sl *slot, st ConnState, errMsg string) {
	if sl.state != st {
		sl.state = st
		sl.since = time.Now()
	}
	if st == ConnConnected || st == ConnIdle {
		sl.stalled = false
	}
	if errMsg != "" {
		sl.lastErr = errMsg
	}
}

func (s *Source) log(level slog.Level, msg string, attrs ...slog.Attr) {
	l := logattr.Logger(s.cfg.Logger)
	if !l.Enabled(context.Background(), level) {
		return
	}
	in := logattr.Instance(component, s.cfg.Name)
	l.LogAttrs(context.Background(), level, msg, append(in[:], attrs...)...)
}

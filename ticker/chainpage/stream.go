package chainpage

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/steadfast-go/steadfast/internal/logattr"
	"github.com/steadfast-go/steadfast/ticker"
	"github.com/steadfast-go/steadfast/ticker/market"
)

// instrumentJSON is an instrument on the wire.
type instrumentJSON struct {
	Token      uint32  `json:"token"`
	Symbol     string  `json:"symbol"`
	Underlying string  `json:"underlying"`
	Kind       string  `json:"kind"`
	Strike     float64 `json:"strike,omitempty"`
	Expiry     string  `json:"expiry,omitempty"` // the IST date, "2006-01-02"
}

// tickJSON is a tick on the wire. It is comparable: a stream sends a tick
// when it differs from the one it sent last for the same instrument.
type tickJSON struct {
	Token  uint32  `json:"token"`
	Last   float64 `json:"last"`
	Change float64 `json:"change"` // percent
	Bid    float64 `json:"bid"`
	Ask    float64 `json:"ask"`
	IV     float64 `json:"iv"` // a fraction
	Delta  float64 `json:"delta"`
	OI     uint64  `json:"oi"`
	Volume uint64  `json:"volume"`
	Time   int64   `json:"time"` // unix milliseconds; 0 when unknown
	Mock   bool    `json:"mock"`
}

// toInstrumentJSON returns an instrument on the wire; a strike that is not
// finite is sent as 0 and reported by ok false.
func toInstrumentJSON(in ticker.Instrument) (j instrumentJSON, ok bool) {
	j = instrumentJSON{
		Token: in.Token, Symbol: in.Symbol, Underlying: in.Underlying,
		Kind: in.Kind.String(), Strike: in.Strike,
	}
	if !in.Expiry.IsZero() {
		j.Expiry = in.Expiry.In(market.IST()).Format(time.DateOnly)
	}
	if !finite(j.Strike) {
		j.Strike = 0
		return j, false
	}
	return j, true
}

// toTickJSON returns a tick on the wire, and the name of a field that is
// not finite once rounded (a price of 1e307 is +Inf after rounding), which
// JSON cannot carry: "" when every field is.
func toTickJSON(token uint32, t ticker.Tick) (tickJSON, string) {
	j := tickJSON{
		Token: token, Last: round(t.LastPrice, 1e2), Change: round(t.Change, 1e2),
		Bid: round(t.Bid, 1e2), Ask: round(t.Ask, 1e2), IV: round(t.IV, 1e4), Delta: round(t.Delta, 1e4),
		OI: t.OpenInterest, Volume: t.Volume, Mock: t.Mock,
	}
	if !t.Time.IsZero() {
		j.Time = t.Time.UnixMilli()
	}
	for _, f := range [...]struct {
		name string
		v    float64
	}{{"LastPrice", j.Last}, {"Change", j.Change}, {"Bid", j.Bid}, {"Ask", j.Ask}, {"IV", j.IV}, {"Delta", j.Delta}} {
		if !finite(f.v) {
			return j, f.name
		}
	}
	return j, ""
}

// finite reports whether v is neither NaN nor infinite.
func finite(v float64) bool { return v-v == 0 }

// round rounds v to 1/scale: the page shows no more, and a change below
// it is no change worth a frame.
func round(v, scale float64) float64 { return math.Round(v*scale) / scale }

// sameInstruments reports whether a and b list the same instruments, as the
// page sees them, in the same order.
func sameInstruments(a, b []ticker.Instrument) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := &a[i], &b[i]
		if x.Token != y.Token || x.Symbol != y.Symbol || x.Underlying != y.Underlying ||
			x.Kind != y.Kind || x.Strike != y.Strike || !x.Expiry.Equal(y.Expiry) {
			return false
		}
	}
	return true
}

// stream is one client's event stream. Its memory is bounded by the number
// of instruments: the list last sent, the tick last sent for each, and one
// frame.
type stream struct {
	h          *Handler
	w          http.ResponseWriter
	rc         *http.ResponseController
	buf        bytes.Buffer
	ins        []ticker.Instrument
	sent       []tickJSON // aligned with ins; a zero Token means none sent yet
	delta      []tickJSON // the frame being built
	lastHealth time.Time
	first      bool
}

func newStream(h *Handler, w http.ResponseWriter) *stream {
	return &stream{h: h, w: w, rc: http.NewResponseController(w), first: true}
}

// run sends a snapshot, then a frame every FrameInterval, until ctx ends,
// the stream's age runs out or the handler is closed (it returns nil), or
// a write fails (it returns the error).
func (s *stream) run(ctx context.Context) error {
	if err := s.snapshot(s.h.cfg.Engine.Instruments()); err != nil {
		return err
	}
	t := time.NewTicker(s.h.cfg.FrameInterval)
	defer t.Stop()
	var expired <-chan time.Time
	if d := s.h.cfg.MaxStreamAge; d > 0 {
		age := time.NewTimer(d - rand.N(d/10+1))
		defer age.Stop()
		expired = age.C
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-s.h.done:
			return nil
		case <-expired:
			s.h.expired.Add(1)
			return nil
		case <-t.C:
		}
		if err := s.frame(); err != nil {
			return err
		}
	}
}

// skipped counts and logs a value the stream cannot encode: the 1st, 2nd,
// 4th, 8th ... of the handler's.
func (s *stream) skipped(what string, attrs ...slog.Attr) {
	if n := s.h.unencodable.Add(1); n&(n-1) == 0 {
		s.h.log(slog.LevelWarn, "value cannot be encoded, left out",
			append([]slog.Attr{slog.String("what", what), slog.Uint64("count", n)}, attrs...)...)
	}
}

// tick returns the wire form of the tick of s.ins[i], and whether it is to
// be sent: it is when it changed since the last one sent and can be
// encoded. A tick that cannot be encoded is counted once per change.
func (s *stream) tick(i int, t ticker.Tick) (tickJSON, bool) {
	j, bad := toTickJSON(s.ins[i].Token, t)
	if j == s.sent[i] {
		return j, false
	}
	s.sent[i] = j
	if bad != "" {
		s.skipped("tick", slog.Uint64("token", uint64(j.Token)), slog.String("field", bad))
		return j, false
	}
	return j, true
}

// health returns the engine's Health as JSON; one that cannot be marshalled
// (a time past year 9999, say) is logged and counted, and replaced by a
// Health of status "unknown" that says why.
func (s *stream) health() json.RawMessage {
	b, err := json.Marshal(s.h.cfg.Engine.Health())
	if err == nil {
		return b
	}
	s.skipped("health", logattr.Err(err))
	b, _ = json.Marshal(ticker.Health{Status: "unknown", Reasons: []string{"health cannot be encoded: " + err.Error()}})
	return b
}

// snapshot sends the instruments, the latest tick of each and the health.
func (s *stream) snapshot(ins []ticker.Instrument) error {
	s.ins = ins
	s.sent = append(s.sent[:0], make([]tickJSON, len(ins))...)
	list := make([]instrumentJSON, len(ins))
	s.delta = s.delta[:0]
	for i, in := range ins {
		var ok bool
		if list[i], ok = toInstrumentJSON(in); !ok {
			s.skipped("strike", slog.Uint64("token", uint64(in.Token)))
		}
		if t, ok := s.h.cfg.Engine.Latest(in.Token); ok {
			if j, send := s.tick(i, t); send {
				s.delta = append(s.delta, j)
			}
		}
	}
	s.buf.Reset()
	if s.first {
		s.first = false
		s.buf.WriteString("retry: 2000\n\n") // EventSource's reconnection delay
	}
	s.lastHealth = time.Now()
	s.event("snapshot", struct {
		Instruments []instrumentJSON `json:"instruments"`
		Ticks       []tickJSON       `json:"ticks"`
		At          int64            `json:"at"`
		Health      json.RawMessage  `json:"health"`
		IntervalMS  int64            `json:"interval_ms"`
	}{list, s.delta, s.lastHealth.UnixMilli(), s.health(), s.h.cfg.FrameInterval.Milliseconds()})
	s.h.snapshots.Add(1)
	return s.flush(len(s.delta))
}

// frame sends the ticks that changed since the last frame, and the health
// when it is due; a snapshot instead when the instruments changed.
func (s *stream) frame() error {
	if ins := s.h.cfg.Engine.Instruments(); !sameInstruments(ins, s.ins) {
		return s.snapshot(ins)
	}
	s.buf.Reset()
	s.delta = s.delta[:0]
	for i := range s.ins {
		t, ok := s.h.cfg.Engine.Latest(s.ins[i].Token)
		if !ok {
			continue
		}
		if j, send := s.tick(i, t); send {
			s.delta = append(s.delta, j)
		}
	}
	if len(s.delta) > 0 {
		s.event("ticks", struct {
			Ticks []tickJSON `json:"ticks"`
		}{s.delta})
	}
	if now := time.Now(); now.Sub(s.lastHealth) >= s.h.cfg.HealthInterval {
		s.lastHealth = now
		s.event("health", struct {
			At     int64           `json:"at"`
			Health json.RawMessage `json:"health"`
		}{now.UnixMilli(), s.health()})
	}
	if s.buf.Len() == 0 {
		return nil
	}
	return s.flush(len(s.delta))
}

// event appends one event to the frame being built. An event that cannot
// be encoded (every value in it was checked, so this is a bug) is left out,
// logged and counted, and the stream goes on.
func (s *stream) event(name string, v any) {
	mark := s.buf.Len()
	s.buf.WriteString("event: ")
	s.buf.WriteString(name)
	s.buf.WriteString("\ndata: ")
	if err := json.NewEncoder(&s.buf).Encode(v); err != nil { // ends with "\n"; escapes any newline inside
		s.buf.Truncate(mark)
		s.skipped("event", slog.String("event", name), logattr.Err(err))
		return
	}
	s.buf.WriteByte('\n')
}

// flush writes the frame within WriteTimeout and flushes it to the client.
func (s *stream) flush(ticks int) error {
	if d := s.h.cfg.WriteTimeout; d > 0 {
		if err := s.rc.SetWriteDeadline(time.Now().Add(d)); err != nil && !errors.Is(err, http.ErrNotSupported) {
			return err
		}
	}
	if _, err := s.w.Write(s.buf.Bytes()); err != nil {
		return err
	}
	if err := s.rc.Flush(); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return err
	}
	s.h.frames.Add(1)
	s.h.ticks.Add(uint64(ticks))
	return nil
}

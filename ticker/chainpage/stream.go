package chainpage

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"time"

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

func toInstrumentJSON(in ticker.Instrument) instrumentJSON {
	j := instrumentJSON{
		Token: in.Token, Symbol: in.Symbol, Underlying: in.Underlying,
		Kind: in.Kind.String(), Strike: in.Strike,
	}
	if !in.Expiry.IsZero() {
		j.Expiry = in.Expiry.In(market.IST()).Format(time.DateOnly)
	}
	return j
}

func toTickJSON(token uint32, t ticker.Tick) tickJSON {
	j := tickJSON{
		Token: token, Last: round(t.LastPrice, 1e2), Change: round(t.Change, 1e2),
		Bid: round(t.Bid, 1e2), Ask: round(t.Ask, 1e2), IV: round(t.IV, 1e4), Delta: round(t.Delta, 1e4),
		OI: t.OpenInterest, Volume: t.Volume, Mock: t.Mock,
	}
	if !t.Time.IsZero() {
		j.Time = t.Time.UnixMilli()
	}
	return j
}

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

// run sends a snapshot, then a frame every FrameInterval, until ctx ends
// (it returns nil) or a write fails (it returns the error).
func (s *stream) run(ctx context.Context) error {
	if err := s.snapshot(s.h.cfg.Engine.Instruments()); err != nil {
		return err
	}
	t := time.NewTicker(s.h.cfg.FrameInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		if err := s.frame(); err != nil {
			return err
		}
	}
}

// snapshot sends the instruments, the latest tick of each and the health.
func (s *stream) snapshot(ins []ticker.Instrument) error {
	s.ins = ins
	s.sent = append(s.sent[:0], make([]tickJSON, len(ins))...)
	list := make([]instrumentJSON, len(ins))
	s.delta = s.delta[:0]
	for i, in := range ins {
		list[i] = toInstrumentJSON(in)
		if t, ok := s.h.cfg.Engine.Latest(in.Token); ok {
			s.sent[i] = toTickJSON(in.Token, t)
			s.delta = append(s.delta, s.sent[i])
		}
	}
	s.buf.Reset()
	if s.first {
		s.first = false
		s.buf.WriteString("retry: 2000\n\n") // EventSource's reconnection delay
	}
	s.lastHealth = time.Now()
	err := s.event("snapshot", struct {
		Instruments []instrumentJSON `json:"instruments"`
		Ticks       []tickJSON       `json:"ticks"`
		At          int64            `json:"at"`
		Health      ticker.Health    `json:"health"`
		IntervalMS  int64            `json:"interval_ms"`
	}{list, s.delta, s.lastHealth.UnixMilli(), s.h.cfg.Engine.Health(), s.h.cfg.FrameInterval.Milliseconds()})
	if err != nil {
		return err
	}
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
		tok := s.ins[i].Token
		t, ok := s.h.cfg.Engine.Latest(tok)
		if !ok {
			continue
		}
		if j := toTickJSON(tok, t); j != s.sent[i] {
			s.sent[i] = j
			s.delta = append(s.delta, j)
		}
	}
	if len(s.delta) > 0 {
		if err := s.event("ticks", struct {
			Ticks []tickJSON `json:"ticks"`
		}{s.delta}); err != nil {
			return err
		}
	}
	if now := time.Now(); now.Sub(s.lastHealth) >= s.h.cfg.HealthInterval {
		s.lastHealth = now
		if err := s.event("health", struct {
			At     int64         `json:"at"`
			Health ticker.Health `json:"health"`
		}{now.UnixMilli(), s.h.cfg.Engine.Health()}); err != nil {
			return err
		}
	}
	if s.buf.Len() == 0 {
		return nil
	}
	return s.flush(len(s.delta))
}

// event appends one event to the frame being built.
func (s *stream) event(name string, v any) error {
	s.buf.WriteString("event: ")
	s.buf.WriteString(name)
	s.buf.WriteString("\ndata: ")
	if err := json.NewEncoder(&s.buf).Encode(v); err != nil { // ends with "\n"; escapes any newline inside
		return err
	}
	s.buf.WriteByte('\n')
	return nil
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

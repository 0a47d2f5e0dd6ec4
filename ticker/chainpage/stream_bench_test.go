package chainpage

import (
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/steadfast-go/steadfast/ticker"
	"github.com/steadfast-go/steadfast/ticker/market"
)

// benchEngine lists n options whose every tick changes on each call to
// move.
type benchEngine struct {
	ins   []ticker.Instrument
	price float64
}

func (e *benchEngine) Instruments() []ticker.Instrument { return e.ins }
func (e *benchEngine) Health() ticker.Health            { return ticker.Health{Status: "ok"} }
func (e *benchEngine) Latest(tok uint32) (ticker.Tick, bool) {
	return ticker.Tick{Token: tok, LastPrice: e.price + float64(tok), Bid: e.price, Ask: e.price + 1,
		IV: 0.15, Delta: 0.5, Volume: 1000, OpenInterest: 5000, Time: time.Unix(1, 0)}, true
}

type discardWriter struct{ h http.Header }

func (w discardWriter) Header() http.Header         { return w.h }
func (w discardWriter) WriteHeader(int)             {}
func (w discardWriter) Write(p []byte) (int, error) { return io.Discard.Write(p) }
func (w discardWriter) Flush()                      {}

// BenchmarkFrame builds and writes one frame in which all of a chain's 170
// instruments changed (two underlyings, two expiries, 21 strikes, calls and
// puts, two indices): the worst case of one stream's frame.
func BenchmarkFrame(b *testing.B) {
	eng := &benchEngine{}
	for i := range 170 {
		eng.ins = append(eng.ins, ticker.Instrument{Token: uint32(i + 1), Underlying: "NIFTY", Kind: ticker.KindCall,
			Strike: float64(23000 + 50*i), Expiry: time.Date(2026, 12, 8, 0, 0, 0, 0, market.IST())})
	}
	h, err := New(Config{Engine: eng, HealthInterval: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	s := newStream(h, discardWriter{h: http.Header{}})
	if err := s.snapshot(eng.Instruments()); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		eng.price++
		if err := s.frame(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(s.buf.Len()), "bytes/frame")
}

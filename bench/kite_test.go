package bench

import (
	"encoding/binary"
	"errors"
	"testing"
	"time"

	"github.com/steadfast-go/steadfast/ticker"
	"github.com/steadfast-go/steadfast/ticker/kite"
	"github.com/steadfast-go/steadfast/ticker/market"
)

// kitePackets is the number of full-mode packets in the benchmark frame.
const kitePackets = 100

// kiteFullFrame returns one binary frame of 100 full-mode (184-byte)
// packets for NFO tokens, with a five-level book each.
func kiteFullFrame(tb testing.TB) []byte {
	tb.Helper()
	ts := time.Date(2025, 12, 1, 10, 0, 0, 0, market.IST())
	ticks := make([]ticker.Tick, kitePackets)
	for i := range ticks {
		d := &ticker.Depth{}
		p := 100 + float64(i)
		for l := range 5 {
			d.Buy[l] = ticker.DepthLevel{Price: p - 0.05*float64(l+1), Qty: uint32(75 * (l + 1)), Orders: uint16(l + 1)}
			d.Sell[l] = ticker.DepthLevel{Price: p + 0.05*float64(l+1), Qty: uint32(50 * (l + 1)), Orders: uint16(l + 2)}
		}
		ticks[i] = ticker.Tick{Token: uint32(1000+i)<<8 | 2, LastPrice: p, LastQty: 75, AvgPrice: p - 1,
			Volume: 1_000_000, TotalBuyQty: 50_000, TotalSellQty: 60_000, Open: p - 2, High: p + 3, Low: p - 4,
			Close: p - 1.5, LastTradeTime: ts, OpenInterest: 800_000, OIDayHigh: 900_000, OIDayLow: 700_000,
			Time: ts, Depth: d}
	}
	b, err := kite.AppendFrame(nil, ticks, kite.ModeFull)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// The reference parser, written the way the common Kite clients parse a
// frame: split it into a slice of packet slices, decode each packet with
// encoding/binary into a tick struct holding its depth inline, append the
// ticks to a slice allocated per frame, and hand that slice over.

type refDepthItem struct {
	Price    float64
	Quantity uint32
	Orders   uint32
}

type refTick struct {
	Mode               string
	InstrumentToken    uint32
	IsTradable         bool
	IsIndex            bool
	Timestamp          time.Time
	LastTradeTime      time.Time
	LastPrice          float64
	LastTradedQuantity uint32
	TotalBuyQuantity   uint32
	TotalSellQuantity  uint32
	VolumeTraded       uint32
	TotalBuy           uint32
	TotalSell          uint32
	AverageTradePrice  float64
	OI                 uint32
	OIDayHigh          uint32
	OIDayLow           uint32
	NetChange          float64
	Open, High, Low    float64
	Close              float64
	Depth              struct{ Buy, Sell [5]refDepthItem }
}

var errRefShort = errors.New("reference: short frame")

func refParse(b []byte) ([]refTick, error) {
	if len(b) < 2 {
		return nil, nil // heartbeat
	}
	var packets [][]byte
	n := int(binary.BigEndian.Uint16(b[0:2]))
	j := 2
	for range n {
		if j+2 > len(b) {
			return nil, errRefShort
		}
		l := int(binary.BigEndian.Uint16(b[j : j+2]))
		if j+2+l > len(b) {
			return nil, errRefShort
		}
		packets = append(packets, b[j+2:j+2+l])
		j += 2 + l
	}
	var ticks []refTick
	for _, p := range packets {
		ticks = append(ticks, refPacket(p))
	}
	return ticks, nil
}

func refPacket(p []byte) refTick {
	u32 := func(i int) uint32 { return binary.BigEndian.Uint32(p[i : i+4]) }
	token := u32(0)
	div := 100.0
	switch token & 0xFF {
	case 3:
		div = 1e7
	case 6:
		div = 1e4
	}
	price := func(i int) float64 { return float64(u32(i)) / div }
	t := refTick{InstrumentToken: token, IsTradable: token&0xFF != 9, IsIndex: token&0xFF == 9, LastPrice: price(4)}
	switch len(p) {
	case 8:
		t.Mode = "ltp"
	case 28, 32:
		t.Mode = "quote"
		t.High, t.Low, t.Open, t.Close = price(8), price(12), price(16), price(20)
		if len(p) == 32 {
			t.Mode = "full"
			t.Timestamp = time.Unix(int64(u32(28)), 0)
		}
	case 44, 184:
		t.Mode = "quote"
		t.LastTradedQuantity = u32(8)
		t.AverageTradePrice = price(12)
		t.VolumeTraded = u32(16)
		t.TotalBuyQuantity = u32(20)
		t.TotalSellQuantity = u32(24)
		t.Open, t.High, t.Low, t.Close = price(28), price(32), price(36), price(40)
		if len(p) == 184 {
			t.Mode = "full"
			t.LastTradeTime = time.Unix(int64(u32(44)), 0)
			t.OI, t.OIDayHigh, t.OIDayLow = u32(48), u32(52), u32(56)
			t.Timestamp = time.Unix(int64(u32(60)), 0)
			for i := range 10 {
				e := 64 + 12*i
				item := refDepthItem{Quantity: u32(e), Price: price(e + 4),
					Orders: uint32(binary.BigEndian.Uint16(p[e+8 : e+10]))}
				if i < 5 {
					t.Depth.Buy[i] = item
				} else {
					t.Depth.Sell[i-5] = item
				}
			}
		}
	}
	if t.Close != 0 {
		t.NetChange = (t.LastPrice - t.Close) * 100 / t.Close
	}
	return t
}

// TestKiteParsersAgree keeps the comparison honest: both parsers read the
// same values from the benchmark frame.
func TestKiteParsersAgree(t *testing.T) {
	b := kiteFullFrame(t)
	ref, err := refParse(b)
	if err != nil || len(ref) != kitePackets {
		t.Fatalf("reference: %d ticks, %v", len(ref), err)
	}
	var p kite.Parser
	i := 0
	n, err := p.Parse(b, func(tk ticker.Tick) {
		r := ref[i]
		if tk.Token != r.InstrumentToken || tk.LastPrice != r.LastPrice || tk.Close != r.Close ||
			tk.Depth.Sell[4].Price != r.Depth.Sell[4].Price || tk.OIDayLow != uint64(r.OIDayLow) || !tk.Time.Equal(r.Timestamp) {
			t.Fatalf("tick %d differs: %+v vs %+v", i, tk, r)
		}
		i++
	})
	if err != nil || n != kitePackets {
		t.Fatalf("kite: %d ticks, %v", n, err)
	}
}

// BenchmarkKiteParseFull decodes one frame of 100 full-mode packets per op
// and hands each tick to a consumer that reads one field.
func BenchmarkKiteParseFull(b *testing.B) {
	frame := kiteFullFrame(b)
	report := func(b *testing.B) {
		b.ReportMetric(float64(b.N)*kitePackets/b.Elapsed().Seconds(), "packets/s")
	}
	var sum float64
	parse := func(p kite.Parser, fn func(ticker.Tick)) func(*testing.B) {
		return func(b *testing.B) {
			b.SetBytes(int64(len(frame)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := p.Parse(frame, fn); err != nil {
					b.Fatal(err)
				}
			}
			report(b)
		}
	}
	book := func(t ticker.Tick) { sum += t.Depth.Buy[0].Price }
	b.Run("impl=kite", parse(kite.Parser{}, book))
	b.Run("impl=kite-block1", parse(kite.Parser{DepthBlock: 1}, book))
	b.Run("impl=kite-nodepth", parse(kite.Parser{NoDepth: true}, func(t ticker.Tick) { sum += t.LastPrice }))
	b.Run("impl=reference", func(b *testing.B) {
		b.SetBytes(int64(len(frame)))
		b.ReportAllocs()
		for b.Loop() {
			ticks, err := refParse(frame)
			if err != nil {
				b.Fatal(err)
			}
			for i := range ticks {
				sum += ticks[i].Depth.Buy[0].Price
			}
		}
		report(b)
	})
}

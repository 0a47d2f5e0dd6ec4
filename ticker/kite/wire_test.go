package kite

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/steadfast-go/steadfast/ticker"
)

// Tokens whose low byte is the segment.
const (
	tokNSE   = 408065     // 0x63A01: segment 1 (NSE)
	tokNFO   = 0x00ABCD02 // segment 2 (NFO)
	tokCDS   = 0x00123403 // segment 3 (CDS)
	tokBCD   = 0x00567806 // segment 6 (BCD)
	tokIndex = 256265     // NIFTY 50: 0x3E909, segment 9
)

// pkt builds a packet by hand from big-endian uint32 words, independently of
// the encoder.
func pkt(words ...uint32) []byte {
	var b []byte
	for _, w := range words {
		b = binary.BigEndian.AppendUint32(b, w)
	}
	return b
}

// frame joins packets into a frame by hand.
func mkFrame(pkts ...[]byte) []byte {
	b := binary.BigEndian.AppendUint16(nil, uint16(len(pkts)))
	for _, p := range pkts {
		b = binary.BigEndian.AppendUint16(b, uint16(len(p)))
		b = append(b, p...)
	}
	return b
}

func parseAll(t *testing.T, p *Parser, b []byte) ([]ticker.Tick, error) {
	t.Helper()
	var got []ticker.Tick
	n, err := p.Parse(b, func(tk ticker.Tick) { got = append(got, tk) })
	require.Equal(t, len(got), n)
	return got, err
}

func neg(v int32) uint32 { return uint32(v) }

func TestParseEveryKindAndDivisor(t *testing.T) {
	const ts, ltt = 1733215500, 1733215498
	full := pkt(tokNFO, 2412350, 75, 2410000, 1500000, 12000, 13000, 2400000, 2420000, 2395000, 2405000,
		ltt, 880000, 900000, 850000, ts)
	for i := 0; i < 10; i++ { // qty, price, orders<<16 (int16 then 2 bytes padding)
		price := uint32(2412300 - 5*i)
		if i >= 5 {
			price = uint32(2412400 + 5*(i-5))
		}
		full = append(full, pkt(uint32(100+i), price, uint32(i+1)<<16)...)
	}
	require.Len(t, full, LenFull)
	b := mkFrame(
		pkt(tokNSE, 145025),    // LTP, paise
		pkt(tokCDS, 834512500), // LTP, CDS: 83.45125
		pkt(tokBCD, 834525),    // LTP, BCD: 83.4525
		pkt(tokIndex, 2405010, 2410000, 2390000, 2395000, 2400000, 5010),                           // index quote
		pkt(tokIndex, 2405010, 2410000, 2390000, 2395000, 2400000, 5010, ts),                       // index full
		pkt(tokNSE, 145025, 10, 144900, 123456, 5000, 6000, 144000, 146000, 143500, 145500),        // quote
		pkt(tokCDS, 834512500, 1, 834000000, 99, 7, 8, 833000000, 835000000, 832000000, 830000000), // quote, CDS
		full,
	)
	var p Parser
	got, err := parseAll(t, &p, b)
	require.NoError(t, err)
	require.Len(t, got, 8)

	require.Equal(t, ticker.Tick{Token: tokNSE, LastPrice: 1450.25}, got[0])
	require.Equal(t, ticker.Tick{Token: tokCDS, LastPrice: 83.45125}, got[1])
	require.Equal(t, ticker.Tick{Token: tokBCD, LastPrice: 83.4525}, got[2])

	iq := got[3]
	require.Equal(t, uint32(tokIndex), iq.Token)
	require.Equal(t, [5]float64{24050.10, 23950, 24100, 23900, 24000}, [5]float64{iq.LastPrice, iq.Open, iq.High, iq.Low, iq.Close})
	require.InDelta(t, 0.20875, iq.Change, 1e-9)
	require.True(t, iq.Time.IsZero())
	require.True(t, got[4].Time.Equal(time.Unix(ts, 0)))
	require.Equal(t, iq.LastPrice, got[4].LastPrice)

	q := got[5]
	require.Equal(t, 1450.25, q.LastPrice)
	require.Equal(t, uint32(10), q.LastQty)
	require.Equal(t, 1449.0, q.AvgPrice)
	require.Equal(t, uint64(123456), q.Volume)
	require.Equal(t, uint64(5000), q.TotalBuyQty)
	require.Equal(t, uint64(6000), q.TotalSellQty)
	require.Equal(t, [4]float64{1440, 1460, 1435, 1455}, [4]float64{q.Open, q.High, q.Low, q.Close})
	require.Nil(t, q.Depth)
	require.Zero(t, q.Bid)

	cq := got[6]
	require.Equal(t, 83.45125, cq.LastPrice)
	require.Equal(t, 83.4, cq.AvgPrice)
	require.Equal(t, [4]float64{83.3, 83.5, 83.2, 83.0}, [4]float64{cq.Open, cq.High, cq.Low, cq.Close})

	f := got[7]
	require.Equal(t, 24123.50, f.LastPrice)
	require.Equal(t, uint64(880000), f.OpenInterest)
	require.Equal(t, uint64(900000), f.OIDayHigh)
	require.Equal(t, uint64(850000), f.OIDayLow)
	require.True(t, f.LastTradeTime.Equal(time.Unix(ltt, 0)))
	require.True(t, f.Time.Equal(time.Unix(ts, 0)))
	require.NotNil(t, f.Depth)
	require.Equal(t, ticker.DepthLevel{Price: 24123, Qty: 100, Orders: 1}, f.Depth.Buy[0])
	require.Equal(t, ticker.DepthLevel{Price: 24122.80, Qty: 104, Orders: 5}, f.Depth.Buy[4])
	require.Equal(t, ticker.DepthLevel{Price: 24124, Qty: 105, Orders: 6}, f.Depth.Sell[0])
	require.Equal(t, ticker.DepthLevel{Price: 24124.20, Qty: 109, Orders: 10}, f.Depth.Sell[4])
	require.Equal(t, [4]float64{24123, 24124, 100, 105}, [4]float64{f.Bid, f.Ask, float64(f.BidQty), float64(f.AskQty)})
	require.NoError(t, f.Validate(ticker.KindIndex))

	// NoDepth leaves the book out.
	p2 := Parser{NoDepth: true}
	got, err = parseAll(t, &p2, mkFrame(full))
	require.NoError(t, err)
	require.Nil(t, got[0].Depth)
	require.Equal(t, f.LastPrice, got[0].LastPrice)
}

func TestParseSignedPrices(t *testing.T) {
	var p Parser
	got, err := parseAll(t, &p, mkFrame(pkt(tokNSE, neg(-150))))
	require.NoError(t, err)
	require.Equal(t, -1.5, got[0].LastPrice) // int32 on the wire; Validate rejects it downstream
	require.Error(t, got[0].Validate(ticker.KindUnknown))
}

func TestParseHeartbeat(t *testing.T) {
	var p Parser
	got, err := parseAll(t, &p, []byte{0})
	require.NoError(t, err)
	require.Empty(t, got)
	require.True(t, IsHeartbeat([]byte{7}))
	require.False(t, IsHeartbeat(mkFrame()))
	// A frame of zero packets is valid and empty.
	got, err = parseAll(t, &p, mkFrame())
	require.NoError(t, err)
	require.Empty(t, got)
}

func TestParseRejects(t *testing.T) {
	good := pkt(tokNSE, 100)
	tests := []struct {
		name    string
		b       []byte
		reason  Reason
		packet  int
		emitted int
		msg     string
	}{
		{"empty", []byte{}, ReasonEmpty, -1, 0, "kite: malformed frame: empty (byte 0)"},
		{"count without packets", []byte{0, 2}, ReasonShortHeader, 0, 0, "short_header (packet 0 at byte 2)"},
		{"half a length prefix", mkFrame(good, good)[:13], ReasonShortHeader, 1, 0, "short_header (packet 1 at byte 12)"},
		{"truncated packet", mkFrame(good)[:9], ReasonTruncated, 0, 0, "truncated (packet 0 at byte 2, length 8)"},
		{"length past the end", append([]byte{0, 1, 0xFF, 0xFF}, good...), ReasonTruncated, 0, 0, "length 65535"},
		{"trailing bytes", append(mkFrame(good), 1, 2), ReasonTrailing, -1, 0, "trailing (byte 12)"},
		{"unknown length", mkFrame(good, pkt(tokNSE, 1, 2), good), ReasonBadLength, 1, 2, "bad_length (packet 1 at byte 12, length 12)"},
		{"zero-length packet", mkFrame(good, nil), ReasonBadLength, 1, 1, ""},
		{"zero token", mkFrame(pkt(0, 100), good), ReasonZeroToken, 0, 1, "zero_token (packet 0 at byte 2, length 8)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p Parser
			got, err := parseAll(t, &p, tt.b)
			require.Len(t, got, tt.emitted)
			require.ErrorIs(t, err, ErrMalformed)
			var fe *FrameError
			require.True(t, errors.As(err, &fe))
			require.Equal(t, tt.reason, fe.Reason)
			require.Equal(t, tt.packet, fe.Packet)
			require.Contains(t, err.Error(), tt.msg)
			require.Equal(t, uint64(1), p.Rejected(tt.reason))
		})
	}
	// A frame whose count is lower than its packets has trailing bytes.
	var p Parser
	b := mkFrame(good, good)
	b[1] = 1
	_, err := parseAll(t, &p, b)
	var fe *FrameError
	require.True(t, errors.As(err, &fe))
	require.Equal(t, ReasonTrailing, fe.Reason)
	require.Zero(t, p.Rejected(numReasons))
}

func TestReasonAndModeText(t *testing.T) {
	for r := Reason(1); r < numReasons; r++ {
		b, err := r.MarshalText()
		require.NoError(t, err)
		var back Reason
		require.NoError(t, back.UnmarshalText(b))
		require.Equal(t, r, back)
	}
	require.Equal(t, "unknown", Reason(0).String())
	require.Error(t, new(Reason).UnmarshalText([]byte("nope")))
	for m := ModeLTP; m <= ModeFull; m++ {
		b, err := json.Marshal(m)
		require.NoError(t, err)
		var back Mode
		require.NoError(t, json.Unmarshal(b, &back))
		require.Equal(t, m, back)
	}
	require.Equal(t, `"full"`, func() string { b, _ := json.Marshal(ModeFull); return string(b) }())
	_, err := Mode(0).MarshalText()
	require.Error(t, err)
	require.Error(t, new(Mode).UnmarshalText([]byte("depth")))
	fe := &FrameError{Reason: ReasonTruncated, Offset: 2, Packet: 0, Length: 8}
	b, err := json.Marshal(fe)
	require.NoError(t, err)
	require.JSONEq(t, `{"Reason":"truncated","Offset":2,"Packet":0,"Length":8}`, string(b))
}

// sampleTicks returns ticks of every segment whose values the wire carries
// exactly: prices on the segment's grid, whole seconds.
func sampleTicks() []ticker.Tick {
	ts := time.Unix(1733215500, 0)
	d := &ticker.Depth{}
	for i := range 5 {
		d.Buy[i] = ticker.DepthLevel{Price: 24123 - 0.05*float64(i), Qty: uint32(10 * (i + 1)), Orders: uint16(i + 1)}
		d.Sell[i] = ticker.DepthLevel{Price: 24123.5 + 0.05*float64(i), Qty: uint32(11 * (i + 1)), Orders: uint16(i + 2)}
	}
	return []ticker.Tick{
		{Token: tokNFO, LastPrice: 24123.45, LastQty: 75, AvgPrice: 24100.1, Volume: 1_500_000, TotalBuyQty: 12000,
			TotalSellQty: 13000, Open: 24000, High: 24200, Low: 23950, Close: 24050.5, LastTradeTime: ts.Add(-2 * time.Second),
			OpenInterest: 880000, OIDayHigh: 900000, OIDayLow: 850000, Time: ts, Depth: d},
		{Token: tokCDS, LastPrice: 83.4512500, AvgPrice: 83.4, Open: 83.3, High: 83.5, Low: 83.2, Close: 83.1, Time: ts, Volume: 7},
		{Token: tokBCD, LastPrice: 83.4525, AvgPrice: 83.4001, Open: 83.3, High: 83.5, Low: 83.2, Close: 83.1, Time: ts},
		{Token: tokIndex, LastPrice: 24050.1, Open: 23950, High: 24100, Low: 23900, Close: 24000, Time: ts},
		{Token: tokNSE, LastPrice: 1450.25},
	}
}

// onWire returns what mode keeps of t: the fields its packet kind carries.
func onWire(t ticker.Tick, mode Mode) ticker.Tick {
	if mode == ModeLTP {
		return ticker.Tick{Token: t.Token, LastPrice: t.LastPrice}
	}
	index := t.Token&0xFF == SegmentIndices
	w := ticker.Tick{Token: t.Token, LastPrice: t.LastPrice, Open: t.Open, High: t.High, Low: t.Low, Close: t.Close}
	if !index {
		w.LastQty, w.AvgPrice, w.Volume, w.TotalBuyQty, w.TotalSellQty = t.LastQty, t.AvgPrice, t.Volume, t.TotalBuyQty, t.TotalSellQty
	}
	if mode == ModeFull {
		w.Time = t.Time
		if !index {
			w.LastTradeTime, w.OpenInterest, w.OIDayHigh, w.OIDayLow = t.LastTradeTime, t.OpenInterest, t.OIDayHigh, t.OIDayLow
			w.Depth = t.Depth
			if w.Depth == nil {
				w.Depth = &ticker.Depth{}
			}
			w.Bid, w.BidQty, w.Ask, w.AskQty = w.Depth.Buy[0].Price, w.Depth.Buy[0].Qty, w.Depth.Sell[0].Price, w.Depth.Sell[0].Qty
		}
	}
	if w.Close != 0 {
		w.Change = (w.LastPrice - w.Close) * 100 / w.Close
	}
	return w
}

func TestRoundTrip(t *testing.T) {
	in := sampleTicks()
	for _, mode := range []Mode{ModeLTP, ModeQuote, ModeFull} {
		t.Run(mode.String(), func(t *testing.T) {
			b, err := AppendFrame([]byte("x"), in, mode)
			require.NoError(t, err)
			require.Equal(t, byte('x'), b[0])
			var p Parser
			got, err := parseAll(t, &p, b[1:])
			require.NoError(t, err)
			require.Len(t, got, len(in))
			for i := range in {
				want := onWire(in[i], mode)
				g := got[i]
				// Times compare by instant (the parser's are in time.Local).
				require.True(t, want.Time.Equal(g.Time), "Time %d", i)
				require.True(t, want.LastTradeTime.Equal(g.LastTradeTime), "LastTradeTime %d", i)
				want.Time, g.Time, want.LastTradeTime, g.LastTradeTime = time.Time{}, time.Time{}, time.Time{}, time.Time{}
				require.Equal(t, want, g, "tick %d", i)
			}
			// The encoding of what was parsed is the same frame.
			again, err := AppendFrame(nil, got, mode)
			require.NoError(t, err)
			require.Equal(t, b[1:], again)
		})
	}
}

func TestAppendFrameRefuses(t *testing.T) {
	ok := ticker.Tick{Token: tokNSE, LastPrice: 1}
	tests := []struct {
		name  string
		ticks []ticker.Tick
		mode  Mode
		msg   string
	}{
		{"mode", []ticker.Tick{ok}, 0, "unknown mode"},
		{"too many", make([]ticker.Tick, math.MaxUint16+1), ModeLTP, "65536 ticks"},
		{"zero token", []ticker.Tick{ok, {LastPrice: 1}}, ModeLTP, "tick 1 (token 0): zero token"},
		{"NaN", []ticker.Tick{{Token: tokNSE, LastPrice: math.NaN()}}, ModeLTP, "price NaN out of range"},
		{"too high", []ticker.Tick{{Token: tokCDS, LastPrice: 1000}}, ModeLTP, "price 1000 out of range"},
		{"quantity", []ticker.Tick{{Token: tokNSE, Volume: 1 << 40}}, ModeQuote, "quantity"},
		{"time", []ticker.Tick{{Token: tokIndex, Time: time.Unix(-5, 0)}}, ModeFull, "time"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dst := []byte{1, 2}
			out, err := AppendFrame(dst, tt.ticks, tt.mode)
			require.ErrorIs(t, err, ErrEncode)
			require.Contains(t, err.Error(), tt.msg)
			require.Equal(t, dst, out)
		})
	}
}

// fullFrame returns a frame of n full-mode packets.
func fullFrame(tb testing.TB, n int) []byte {
	tb.Helper()
	s := sampleTicks()[0]
	ticks := make([]ticker.Tick, n)
	for i := range ticks {
		ticks[i] = s
		ticks[i].Token = uint32(i+1)<<8 | 2
	}
	b, err := AppendFrame(nil, ticks, ModeFull)
	require.NoError(tb, err)
	return b
}

func TestParseAllocations(t *testing.T) {
	quote, err := AppendFrame(nil, sampleTicks(), ModeQuote)
	require.NoError(t, err)
	full := fullFrame(t, DefaultDepthBlock)
	var sink float64
	fn := func(tk ticker.Tick) { sink += tk.LastPrice }
	var p Parser
	require.Zero(t, testing.AllocsPerRun(100, func() { _, _ = p.Parse(quote, fn) }), "quote mode")
	np := Parser{NoDepth: true}
	require.Zero(t, testing.AllocsPerRun(100, func() { _, _ = np.Parse(full, fn) }), "full mode without depth")
	// With the book: one block of DefaultDepthBlock Depths per DefaultDepthBlock packets.
	require.Equal(t, 1.0, testing.AllocsPerRun(100, func() { _, _ = p.Parse(full, fn) }), "full mode")
	one := Parser{DepthBlock: 1}
	require.Equal(t, float64(DefaultDepthBlock), testing.AllocsPerRun(100, func() { _, _ = one.Parse(full, fn) }), "one Depth per allocation")
	_ = sink
}

// TestDepthNotReused checks that a Depth handed out stays as it was while
// the parser goes on decoding many more frames.
func TestDepthNotReused(t *testing.T) {
	var p Parser
	b := fullFrame(t, 3)
	var kept []*ticker.Depth
	for range 2 * DefaultDepthBlock {
		_, err := p.Parse(b, func(tk ticker.Tick) { kept = append(kept, tk.Depth) })
		require.NoError(t, err)
	}
	seen := map[*ticker.Depth]bool{}
	want := *sampleTicks()[0].Depth
	for _, d := range kept {
		require.False(t, seen[d], "a Depth was handed out twice")
		seen[d] = true
		require.Equal(t, want, *d)
	}
}

func FuzzParseFrame(f *testing.F) {
	for _, mode := range []Mode{ModeLTP, ModeQuote, ModeFull} {
		b, err := AppendFrame(nil, sampleTicks(), mode)
		require.NoError(f, err)
		f.Add(b)
	}
	f.Add([]byte{0})
	f.Add([]byte{0, 1, 0, 8})
	f.Fuzz(func(t *testing.T, b []byte) {
		var p Parser
		n := 0
		got, err := p.Parse(b, func(tk ticker.Tick) {
			n++
			if tk.Token == 0 {
				t.Fatal("tick with a zero token")
			}
		})
		if got != n {
			t.Fatalf("returned %d, emitted %d", got, n)
		}
		if err != nil {
			var fe *FrameError
			if !errors.As(err, &fe) || fe.Reason == 0 || fe.Reason >= numReasons {
				t.Fatalf("error %v is not a FrameError with a reason", err)
			}
			return
		}
		if len(b) == 1 {
			return
		}
		// A frame accepted whole re-encodes to the same packet kinds.
		if int(binary.BigEndian.Uint16(b)) != n {
			t.Fatalf("count %d, emitted %d", binary.BigEndian.Uint16(b), n)
		}
	})
}

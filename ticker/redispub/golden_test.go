package redispub_test

import (
	"crypto/sha256"
	"encoding/hex"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/steadfast-go/steadfast/ticker"
	"github.com/steadfast-go/steadfast/ticker/redispub"
)

// goldenTicks returns n ticks of every segment and kind, with prices on
// and off their grid, negative and large values and every optional field
// present and absent, from a fixed seed.
func goldenTicks(n int) []ticker.Tick {
	r := rand.New(rand.NewPCG(30, 374))
	ins := []*ticker.Instrument{niftyCall, niftyFut, niftyIndex,
		{Token: 0x25F303, Symbol: "USDINR25DECFUT", Exchange: "CDS", Segment: "CDS-FUT", Underlying: "USDINR", Kind: ticker.KindFuture, Expiry: expiry},
		{Token: 0x4A1206, Symbol: "USDINR25D3083.25CE", Exchange: "BCD", Segment: "BCD-OPT", Underlying: "USDINR", Kind: ticker.KindCall, Strike: 83.25, Expiry: expiry},
		{Token: 12345, Symbol: "BANKNIFTY25D3051000PE", Exchange: "NFO", Segment: "NFO-OPT", Underlying: "BANKNIFTY", Kind: ticker.KindPut, Strike: 51000, Expiry: expiry},
		nil}
	price := func() float64 {
		switch r.IntN(4) {
		case 0:
			return float64(r.IntN(10_000_000)) * 0.05 // on the paise grid
		case 1:
			return float64(r.IntN(1_000_000_000)) / 1e7 // on the CDS grid
		case 2:
			return (r.Float64() - 0.3) * 1e5 // anywhere, negative too
		}
		return float64(r.IntN(100000)) + 0.1 + 0.2 // float noise
	}
	ts := make([]ticker.Tick, n)
	for i := range ts {
		in := ins[r.IntN(len(ins))]
		t := ticker.Tick{Token: r.Uint32(), Instrument: in,
			LastPrice: price(), Bid: price(), Ask: price(), Change: (r.Float64() - 0.5) * 20,
			Volume: r.Uint64() >> r.IntN(64), OpenInterest: r.Uint64() >> r.IntN(64),
			BidQty: r.Uint32() >> r.IntN(32), AskQty: r.Uint32() >> r.IntN(32),
			IV: r.Float64(), Delta: r.Float64()*2 - 1, Gamma: r.Float64() / 1000,
			Theta: -r.Float64() * 50, Vega: r.Float64() * 30, Mock: r.IntN(2) == 0}
		if in != nil {
			t.Token = in.Token
		}
		if r.IntN(3) > 0 {
			t.Time = tickAt.Add(time.Duration(r.Int64N(int64(400 * 24 * time.Hour))))
		}
		if r.IntN(50) == 0 {
			t.LastPrice = math.NaN()
		}
		ts[i] = t
	}
	return ts
}

// The payload bytes of 20,000 varied ticks, pinned by their digest: a
// change of the encoder that moves a single byte fails here.
func TestPayloadBytesGolden(t *testing.T) {
	const want = "2dbb6583607536e4737fecd28ce0f93738531b82643148e4bbaecc20a5486988"
	h := sha256.New()
	var buf []byte
	for _, tk := range goldenTicks(20_000) {
		buf = redispub.AppendPayload(buf[:0], &tk)
		h.Write(buf)
		h.Write([]byte{'\n'})
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != want {
		t.Fatalf("digest of the payloads %s, want %s", got, want)
	}
}

// The expiry is the calendar date in IST that time.DateOnly writes, for
// any instant, inside and outside four-digit years.
func TestPayloadExpiryDate(t *testing.T) {
	r := rand.New(rand.NewPCG(30, 1))
	in := *niftyFut
	for i := range 2000 {
		sec := r.Int64N(1<<40) - 1<<39 // about ±17,000 years around 1970
		if i%2 == 0 {
			sec = r.Int64N(4e9) // 1970 to 2096
		}
		in.Expiry = time.Unix(sec, 0)
		tk := ticker.Tick{Token: in.Token, Instrument: &in}
		want := `"expiry":"` + in.Expiry.In(ist).Format(time.DateOnly) + `"`
		if got := string(redispub.AppendPayload(nil, &tk)); !strings.Contains(got, want) {
			t.Fatalf("expiry %v: payload %s lacks %s", in.Expiry, got, want)
		}
	}
}

package redispub_test

import (
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/steadfast-go/steadfast/internal/decimal"
	"github.com/steadfast-go/steadfast/ticker"
	"github.com/steadfast-go/steadfast/ticker/market"
	"github.com/steadfast-go/steadfast/ticker/redispub"
)

var (
	ist    = market.IST()
	expiry = time.Date(2025, 12, 30, 0, 0, 0, 0, ist)
	tickAt = time.Date(2025, 12, 1, 10, 15, 30, 123456789, ist)

	niftyCall = &ticker.Instrument{
		Token: 3688442301, Symbol: "NIFTY25D3024000CE", Exchange: "NFO", Segment: "NFO-OPT",
		Underlying: "NIFTY", Kind: ticker.KindCall, Strike: 24000, Expiry: expiry, LotSize: 75, TickSize: 0.05,
	}
	niftyFut = &ticker.Instrument{
		Token: 13368834, Symbol: "NIFTY25DECFUT", Exchange: "NFO", Segment: "NFO-FUT",
		Underlying: "NIFTY", Kind: ticker.KindFuture, Expiry: expiry, LotSize: 75, TickSize: 0.1,
	}
	niftyIndex = &ticker.Instrument{
		Token: 256265, Symbol: "NIFTY 50", Exchange: "NSE", Segment: "INDICES",
		Underlying: "NIFTY", Kind: ticker.KindIndex,
	}
)

// optionTick is the tick of the package documentation's sample.
func optionTick() ticker.Tick {
	return ticker.Tick{
		Token: niftyCall.Token, LastPrice: 182.35, Volume: 1234500, OpenInterest: 5678925,
		Bid: 182.3, Ask: 182.4, BidQty: 750, AskQty: 1125, Change: -3.42, Time: tickAt,
		IV: 0.1432, Delta: 0.5213, Gamma: 0.00041, Theta: -12.87, Vega: 8.93,
		Mock: true, Instrument: niftyCall,
	}
}

// sample is the payload the package documentation shows.
const sample = `{"v":1,"token":3688442301,"symbol":"NIFTY25D3024000CE","exchange":"NFO","underlying":"NIFTY","kind":"call","strike":24000,"expiry":"2025-12-30","ltp":182.35,"change":-3.42,"volume":1234500,"oi":5678925,"bid":182.3,"bid_qty":750,"ask":182.4,"ask_qty":1125,"iv":0.1432,"delta":0.5213,"gamma":0.00041,"theta":-12.87,"vega":8.93,"ts":"2025-12-01T10:15:30.123456789+05:30","mock":true}`

func TestPayloadSample(t *testing.T) {
	tk := optionTick()
	if got := string(redispub.AppendPayload(nil, &tk)); got != sample {
		t.Fatalf("payload\n got %s\nwant %s", got, sample)
	}
}

// keys returns the payload's keys, checking that it is one JSON object.
func keys(t *testing.T, payload []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(payload, &m); err != nil {
		t.Fatalf("payload is not a JSON object: %v\n%s", err, payload)
	}
	return m
}

func TestPayloadFieldsByKind(t *testing.T) {
	common := []string{"v", "token", "ltp", "change", "volume", "oi", "bid", "bid_qty", "ask", "ask_qty", "mock"}
	instr := []string{"symbol", "exchange", "underlying", "kind"}
	greeks := []string{"iv", "delta", "gamma", "theta", "vega"}
	cases := []struct {
		name      string
		tick      ticker.Tick
		want, not []string
	}{
		{"option", optionTick(), append(append(append([]string{"strike", "expiry", "ts"}, common...), instr...), greeks...), nil},
		{"future", ticker.Tick{Token: niftyFut.Token, LastPrice: 24100, Time: tickAt, Instrument: niftyFut},
			append(append([]string{"expiry", "ts"}, common...), instr...), append([]string{"strike"}, greeks...)},
		{"index", ticker.Tick{Token: niftyIndex.Token, LastPrice: 24000, Instrument: niftyIndex},
			append(common, instr...), append([]string{"strike", "expiry", "ts"}, greeks...)},
		{"no instrument", ticker.Tick{Token: 7, LastPrice: 1, Delta: 0.5},
			append(common, greeks...), append([]string{"strike", "expiry", "ts"}, instr...)},
		{"no instrument, no analytics", ticker.Tick{Token: 7, LastPrice: 1},
			common, append(append([]string{"strike", "expiry", "ts"}, instr...), greeks...)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := keys(t, redispub.AppendPayload(nil, &c.tick))
			for _, k := range c.want {
				if _, ok := m[k]; !ok {
					t.Errorf("no %q in %v", k, m)
				}
			}
			for _, k := range c.not {
				if _, ok := m[k]; ok {
					t.Errorf("unexpected %q in %v", k, m)
				}
			}
			if len(m) != len(c.want) {
				t.Errorf("%d keys, want %d: %v", len(m), len(c.want), m)
			}
		})
	}
}

// wantMessage is what Decode should return for a payload of tk: its
// prices at the places of its segment, the other numbers at theirs.
func wantMessage(tk ticker.Tick) redispub.Message {
	m := redispub.Message{Version: 1, Tick: tk}
	m.Tick.Instrument = nil
	m.Instrument.Token = tk.Token
	places := decimal.TokenPlaces(tk.Token)
	if in := tk.Instrument; in != nil {
		switch {
		case in.Segment != "":
			places = decimal.PricePlaces(in.Segment)
		case in.Exchange != "":
			places = decimal.PricePlaces(in.Exchange)
		}
		m.Instrument = ticker.Instrument{
			Token: in.Token, Symbol: in.Symbol, Exchange: in.Exchange, Underlying: in.Underlying,
			Kind: in.Kind, Expiry: in.Expiry,
		}
		if in.Kind.IsOption() {
			m.Instrument.Strike = rounded(in.Strike, places)
		} else {
			m.Tick.IV, m.Tick.Delta, m.Tick.Gamma, m.Tick.Theta, m.Tick.Vega = 0, 0, 0, 0, 0
		}
	}
	x := &m.Tick
	x.LastPrice, x.Bid, x.Ask = rounded(x.LastPrice, places), rounded(x.Bid, places), rounded(x.Ask, places)
	x.Change, x.IV, x.Delta = rounded(x.Change, 6), rounded(x.IV, 6), rounded(x.Delta, 6)
	x.Gamma, x.Theta, x.Vega = rounded(x.Gamma, 8), rounded(x.Theta, 6), rounded(x.Vega, 6)
	return m
}

// rounded is f as a payload carries it at places decimals: rounded by
// strconv (the tests' values are never halves), or f itself when it is not
// finite or too large to round exactly.
func rounded(f float64, places int) float64 {
	if math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f)*math.Pow10(places) >= 1<<53 {
		return f
	}
	r, err := strconv.ParseFloat(strconv.FormatFloat(f, 'f', places, 64), 64)
	if err != nil {
		panic(err)
	}
	return r
}

// sameMessage compares messages, times with Equal (their locations differ).
func sameMessage(got, want redispub.Message) bool {
	if !got.Tick.Time.Equal(want.Tick.Time) || !got.Instrument.Expiry.Equal(want.Instrument.Expiry) {
		return false
	}
	got.Tick.Time, want.Tick.Time = time.Time{}, time.Time{}
	got.Instrument.Expiry, want.Instrument.Expiry = time.Time{}, time.Time{}
	return got == want
}

func TestDecodeRoundTrip(t *testing.T) {
	odd := &ticker.Instrument{
		Token: 9, Symbol: "A\"B\\C\n\t\x01é", Exchange: "NSE", Underlying: "X Y", Kind: ticker.KindPut,
		Strike: 1e-7, Expiry: time.Date(2026, 1, 2, 0, 0, 0, 0, ist),
	}
	ticks := []ticker.Tick{
		optionTick(),
		{Token: niftyFut.Token, LastPrice: 24100.5, Volume: math.MaxUint64, OpenInterest: 1, Time: tickAt.UTC(), Instrument: niftyFut},
		{Token: niftyIndex.Token, LastPrice: 24000, Change: 0.25, Instrument: niftyIndex},
		{Token: math.MaxUint32, LastPrice: 1e21, Bid: 5e-324, Ask: math.MaxFloat64, BidQty: math.MaxUint32, Delta: -1},
		{Token: 9, LastPrice: 0.05, IV: 1.5, Gamma: 1e-9, Time: time.Unix(0, 1), Instrument: odd},
	}
	for _, tk := range ticks {
		payload := redispub.AppendPayload(nil, &tk)
		if !json.Valid(payload) {
			t.Fatalf("not valid JSON: %s", payload)
		}
		got, err := redispub.Decode(payload)
		if err != nil {
			t.Fatalf("Decode(%s): %v", payload, err)
		}
		if want := wantMessage(tk); !sameMessage(got, want) {
			t.Errorf("Decode(%s)\n got %+v\nwant %+v", payload, got, want)
		}
	}
}

func TestPayloadInvalidUTF8AndNonFinite(t *testing.T) {
	in := &ticker.Instrument{Token: 1, Symbol: "a\xffb", Underlying: "N", Kind: ticker.KindCall}
	tk := ticker.Tick{Token: 1, LastPrice: 2, Bid: math.NaN(), Ask: math.Inf(1), Delta: math.Inf(-1), Instrument: in}
	payload := redispub.AppendPayload(nil, &tk)
	if !json.Valid(payload) {
		t.Fatalf("not valid JSON: %s", payload)
	}
	if !strings.Contains(string(payload), `"bid":null,`) {
		t.Errorf("NaN not written as null: %s", payload)
	}
	m, err := redispub.Decode(payload)
	if err != nil {
		t.Fatal(err)
	}
	if m.Instrument.Symbol != "a\uFFFDb" {
		t.Errorf("symbol %q, want the invalid byte replaced", m.Instrument.Symbol)
	}
	if !math.IsNaN(m.Tick.Bid) || !math.IsNaN(m.Tick.Ask) || !math.IsNaN(m.Tick.Delta) {
		t.Errorf("non-finite values decode as %v %v %v, want NaN", m.Tick.Bid, m.Tick.Ask, m.Tick.Delta)
	}
}

// A price below the segment's unit rounds to zero; one too large to round
// exactly is written in its shortest form, with an exponent from 1e21.
func TestPayloadExtremeNumbers(t *testing.T) {
	for f, want := range map[float64]string{
		1e-7: `"ltp":0,`, -0.001: `"ltp":0,`, 0.005000001: `"ltp":0.01,`, 1e21: `"ltp":1e+21,`,
		123456789012: `"ltp":123456789012,`, 1 << 60: `"ltp":1152921504606847000,`, -0.5: `"ltp":-0.5,`, 0: `"ltp":0,`,
	} {
		tk := ticker.Tick{Token: 1, LastPrice: f}
		if p := redispub.AppendPayload(nil, &tk); !strings.Contains(string(p), want) {
			t.Errorf("%g: %s lacks %s", f, p, want)
		}
	}
}

func TestDecodeRefuses(t *testing.T) {
	cases := []struct {
		payload string
		want    error
		says    string
	}{
		{``, redispub.ErrMalformed, ""},
		{`not json`, redispub.ErrMalformed, ""},
		{`[1]`, redispub.ErrMalformed, ""},
		{`null`, redispub.ErrMalformed, `"v"`},
		{`{"token":1,"ltp":1}`, redispub.ErrMalformed, `no "v"`},
		{`{"v":2,"token":1,"ltp":1}`, redispub.ErrVersion, `"v" is 2`},
		{`{"v":"1","token":1,"ltp":1}`, redispub.ErrVersion, ""},
		{`{"v":1.0,"token":1,"ltp":1}`, redispub.ErrVersion, ""},
		{`{"v":2,"token":"x"}`, redispub.ErrVersion, ""},
		{`{"v":1,"ltp":1}`, redispub.ErrMalformed, `no "token"`},
		{`{"v":1,"token":0,"ltp":1}`, redispub.ErrMalformed, `"token" is 0`},
		{`{"v":1,"token":-1,"ltp":1}`, redispub.ErrMalformed, ""},
		{`{"v":1,"token":4294967296,"ltp":1}`, redispub.ErrMalformed, ""},
		{`{"v":1,"token":1}`, redispub.ErrMalformed, `no "ltp"`},
		{`{"v":1,"token":1,"ltp":null}`, redispub.ErrMalformed, `no "ltp"`},
		{`{"v":1,"token":1,"ltp":"1"}`, redispub.ErrMalformed, ""},
		{`{"v":1,"token":1,"ltp":1,"kind":"swap"}`, redispub.ErrMalformed, `"swap"`},
		{`{"v":1,"token":1,"ltp":1,"expiry":"30-12-2025"}`, redispub.ErrMalformed, "YYYY-MM-DD"},
		{`{"v":1,"token":1,"ltp":1,"ts":"yesterday"}`, redispub.ErrMalformed, "RFC 3339"},
		{`{"v":1,"token":1,"ltp":1,"volume":-5}`, redispub.ErrMalformed, ""},
		{`{"v":1,"token":1,"ltp":1,"mock":"yes"}`, redispub.ErrMalformed, ""},
		{`{"v":1,"token":1,"ltp":1} {}`, redispub.ErrMalformed, ""},
	}
	for _, c := range cases {
		m, err := redispub.Decode([]byte(c.payload))
		if !errors.Is(err, c.want) {
			t.Errorf("Decode(%s) = %+v, %v; want %v", c.payload, m, err, c.want)
			continue
		}
		if !strings.Contains(err.Error(), c.says) {
			t.Errorf("Decode(%s) error %q does not say %q", c.payload, err, c.says)
		}
	}
}

func TestDecodeIgnoresUnknownFields(t *testing.T) {
	m, err := redispub.Decode([]byte(`{"v":1,"token":5,"ltp":2.5,"future_field":{"a":[1]}}`))
	if err != nil || m.Tick.Token != 5 || m.Tick.LastPrice != 2.5 {
		t.Fatalf("Decode = %+v, %v", m, err)
	}
}

func FuzzDecode(f *testing.F) {
	tk := optionTick()
	f.Add([]byte(sample))
	f.Add(redispub.AppendPayload(nil, &tk))
	f.Add([]byte(`{"v":1,"token":1,"ltp":null,"bid":null}`))
	f.Add([]byte(`{"v":1}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := redispub.Decode(b)
		if err != nil {
			return
		}
		// What decodes encodes to a payload that decodes the same.
		m.Tick.Instrument = &m.Instrument
		again, err := redispub.Decode(redispub.AppendPayload(nil, &m.Tick))
		if err != nil {
			t.Fatalf("re-encoded %+v does not decode: %v", m, err)
		}
		if again.Tick.Token != m.Tick.Token || again.Instrument.Symbol != m.Instrument.Symbol {
			t.Fatalf("re-encoded payload decodes as %+v, want %+v", again, m)
		}
	})
}

func TestAppendPayloadAllocatesNothing(t *testing.T) {
	tk := optionTick()
	buf := make([]byte, 0, 1024)
	if n := testing.AllocsPerRun(100, func() { buf = redispub.AppendPayload(buf[:0], &tk) }); n != 0 {
		t.Errorf("AppendPayload allocates %v times per tick, want 0", n)
	}
}

// A price is written as its shortest decimal form (strconv's) rounded to
// two places and trimmed; a decimal exactly halfway between two paise (off
// any price grid) may go either way.
func TestPayloadNumbersMatchStrconv(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	values := []float64{0.05, 0.1, 0.3, 1.5, 100, 182.35, 24000, 99999.95, 1e-4, 0.0001, 0.00041, 123456789.1234, 1e13 - 0.5, -3.42}
	for range 50_000 {
		scale := math.Pow10(r.IntN(6))
		values = append(values,
			math.Round(r.Float64()*1e6*scale)/scale,  // a price with up to 5 decimals
			r.NormFloat64()*math.Pow10(r.IntN(20)-8), // anything
			float64(r.IntN(2_000_000))*0.05)          // a multiple of a tick size
	}
	for _, f := range values {
		tk := ticker.Tick{Token: 1, LastPrice: f}
		p := string(redispub.AppendPayload(nil, &tk))
		got := p[strings.Index(p, `"ltp":`)+6 : strings.Index(p, `,"change"`)]
		short := strconv.FormatFloat(f, 'f', -1, 64)
		want := roundDecimal(short, 2)
		if _, frac, _ := strings.Cut(short, "."); len(frac) == 3 && frac[2] == '5' {
			if down := roundDecimal(short[:len(short)-1], 2); got == down {
				want = down
			}
		}
		if math.Abs(f)*100 >= 1<<53 {
			want = strconv.FormatFloat(f, 'f', -1, 64)
			if math.Abs(f) >= 1e21 {
				want = strconv.FormatFloat(f, 'e', -1, 64)
			}
		}
		if got != want {
			t.Fatalf("%v written as %s, want %s", f, got, want)
		}
	}
}

// roundDecimal rounds the decimal s ("-12.345") to places, half away from
// zero, by its digits, and trims trailing zeros, a bare point and "-0".
func roundDecimal(s string, places int) string {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	whole, frac, _ := strings.Cut(s, ".")
	frac += strings.Repeat("0", places+1)
	digits := []byte(whole + frac[:places])
	if frac[places] >= '5' { // carry
		i := len(digits) - 1
		for ; i >= 0 && digits[i] == '9'; i-- {
			digits[i] = '0'
		}
		if i < 0 {
			digits = append([]byte{'1'}, digits...)
		} else {
			digits[i]++
		}
	}
	n := len(digits) - places
	out := strings.TrimLeft(string(digits[:n]), "0")
	if out == "" {
		out = "0"
	}
	if f := strings.TrimRight(string(digits[n:]), "0"); f != "" {
		out += "." + f
	}
	if neg && out != "0" {
		out = "-" + out
	}
	return out
}

// Version's documentation shows the sample the encoder writes.
func TestDocShowsSample(t *testing.T) {
	src, err := os.ReadFile("encode.go")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(src)
	i, j := strings.Index(doc, "//\t{\"v\":1"), strings.Index(doc, "// (on the wire")
	if i < 0 || j < i {
		t.Fatal("no sample payload in encode.go")
	}
	shown := strings.NewReplacer("//\t", "", "\n", "", " ", "", "//", "").Replace(doc[i:j])
	if shown != sample {
		t.Errorf("encode.go shows\n%s\nthe encoder writes\n%s", shown, sample)
	}
}

// A *PublishError marshals with its cause as a message, not {}.
func TestPublishErrorMarshalJSON(t *testing.T) {
	pe := &redispub.PublishError{Ticks: 3, Commands: 4, Failed: 4, Command: "publish ticks:NIFTY", Err: errors.New("connection refused")}
	b, err := json.Marshal(pe)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"ticks":3,"commands":4,"failed":4,"command":"publish ticks:NIFTY","error":"connection refused"}`
	if string(b) != want {
		t.Fatalf("got %s, want %s", b, want)
	}
}

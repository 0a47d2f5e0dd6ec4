package redispub_test

import (
	"math"
	"strings"
	"testing"

	"github.com/steadfast-go/steadfast/ticker"
	"github.com/steadfast-go/steadfast/ticker/redispub"
)

// Payloads carry prices as exact decimals in the segment's unit and the
// analytics at fixed places, never float noise: golden bytes per segment.
func TestPayloadDecimalsGolden(t *testing.T) {
	usdinr := &ticker.Instrument{
		Token: 0x25F303, Symbol: "USDINR25DECFUT", Exchange: "CDS", Segment: "CDS-FUT",
		Underlying: "USDINR", Kind: ticker.KindFuture, Expiry: expiry, LotSize: 1000, TickSize: 0.0025,
	}
	bseCurr := &ticker.Instrument{
		Token: 0x4A1206, Symbol: "USDINR25D3083.25CE", Exchange: "BCD", Segment: "BCD-OPT",
		Underlying: "USDINR", Kind: ticker.KindCall, Strike: 83.25, Expiry: expiry, LotSize: 1000, TickSize: 0.0025,
	}
	bankIndex := &ticker.Instrument{ // an index row: tick size 0, prices in paise
		Token: 260105, Symbol: "NIFTY BANK", Exchange: "NSE", Segment: "INDICES",
		Underlying: "BANKNIFTY", Kind: ticker.KindIndex,
	}
	for _, c := range []struct {
		name string
		tick ticker.Tick
		want string
	}{
		{"NFO option with float noise", ticker.Tick{
			Token: niftyCall.Token, LastPrice: 413.40000000000003, Bid: 413.25 + 0.1, Ask: 59458.200000000004, // as seen on the wire
			Change: -3.4212345678, IV: 0.14321987654321, Delta: 0.5213456789012345, Gamma: 0.000412345678901,
			Theta: -12.871234567891, Vega: 8.931234567891, Instrument: niftyCall,
		}, `{"v":1,"token":3688442301,"symbol":"NIFTY25D3024000CE","exchange":"NFO","underlying":"NIFTY","kind":"call","strike":24000,"expiry":"2025-12-30","ltp":413.4,"change":-3.421235,"volume":0,"oi":0,"bid":413.35,"bid_qty":0,"ask":59458.2,"ask_qty":0,"iv":0.14322,"delta":0.521346,"gamma":0.00041235,"theta":-12.871235,"vega":8.931235,"mock":false}`},
		{"index row, tick size 0", ticker.Tick{
			Token: bankIndex.Token, LastPrice: 51234.55 + 0.1, Change: 0.25, Instrument: bankIndex,
		}, `{"v":1,"token":260105,"symbol":"NIFTY BANK","exchange":"NSE","underlying":"BANKNIFTY","kind":"index","ltp":51234.65,"change":0.25,"volume":0,"oi":0,"bid":0,"bid_qty":0,"ask":0,"ask_qty":0,"mock":false}`},
		{"CDS future, 7 places", ticker.Tick{
			Token: usdinr.Token, LastPrice: 83.2525 + 0.0025, Bid: 832525000 / 1e7, Ask: 83.2550001, Instrument: usdinr,
		}, `{"v":1,"token":2487043,"symbol":"USDINR25DECFUT","exchange":"CDS","underlying":"USDINR","kind":"future","expiry":"2025-12-30","ltp":83.255,"change":0,"volume":0,"oi":0,"bid":83.2525,"bid_qty":0,"ask":83.2550001,"ask_qty":0,"mock":false}`},
		{"BCD option, 4 places", ticker.Tick{
			Token: bseCurr.Token, LastPrice: 0.1 + 0.2, Bid: 0.29999, Ask: 0.30005, Instrument: bseCurr,
		}, `{"v":1,"token":4854278,"symbol":"USDINR25D3083.25CE","exchange":"BCD","underlying":"USDINR","kind":"call","strike":83.25,"expiry":"2025-12-30","ltp":0.3,"change":0,"volume":0,"oi":0,"bid":0.3,"bid_qty":0,"ask":0.3001,"ask_qty":0,"iv":0,"delta":0,"gamma":0,"theta":0,"vega":0,"mock":false}`},
		{"no instrument: the token's segment", ticker.Tick{Token: 0x25F303, LastPrice: 83.2525 + 0.0025}, // CDS
			`{"v":1,"token":2487043,"ltp":83.255,"change":0,"volume":0,"oi":0,"bid":0,"bid_qty":0,"ask":0,"ask_qty":0,"mock":false}`},
		{"no instrument: paise", ticker.Tick{Token: 7, LastPrice: 0.1 + 0.2, Delta: 1.0 / 3},
			`{"v":1,"token":7,"ltp":0.3,"change":0,"volume":0,"oi":0,"bid":0,"bid_qty":0,"ask":0,"ask_qty":0,"iv":0,"delta":0.333333,"gamma":0,"theta":0,"vega":0,"mock":false}`},
		{"negative future price", ticker.Tick{Token: niftyFut.Token, LastPrice: -37.63 + 0.0000001, Instrument: niftyFut},
			`{"v":1,"token":13368834,"symbol":"NIFTY25DECFUT","exchange":"NFO","underlying":"NIFTY","kind":"future","expiry":"2025-12-30","ltp":-37.63,"change":0,"volume":0,"oi":0,"bid":0,"bid_qty":0,"ask":0,"ask_qty":0,"mock":false}`},
		{"beyond exact range, non-finite", ticker.Tick{Token: 7, LastPrice: 1e300, Bid: math.NaN(), Ask: math.Inf(-1)},
			`{"v":1,"token":7,"ltp":1e+300,"change":0,"volume":0,"oi":0,"bid":null,"bid_qty":0,"ask":null,"ask_qty":0,"mock":false}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := string(redispub.AppendPayload(nil, &c.tick))
			if got != c.want {
				t.Errorf("payload\n got %s\nwant %s", got, c.want)
			}
		})
	}
}

// No payload of a realistic stream carries float noise: prices built by
// adding tick-size steps, as a feed's updates are, come out with at most
// the segment's places.
func TestPayloadNoFloatNoise(t *testing.T) {
	tk := ticker.Tick{Token: niftyCall.Token, Instrument: niftyCall}
	price := 100.0
	noisy := 0
	for i := range 7040 {
		price += 0.05 * float64(i%7-3)
		tk.LastPrice, tk.Bid, tk.Ask = price, price-0.05, price+0.05
		p := string(redispub.AppendPayload(nil, &tk))
		for _, key := range []string{`"ltp":`, `"bid":`, `"ask":`} {
			v := p[strings.Index(p, key)+len(key):]
			v = v[:strings.IndexByte(v, ',')]
			if dot := strings.IndexByte(v, '.'); dot >= 0 && len(v)-dot-1 > 2 {
				noisy++
				if noisy < 5 {
					t.Errorf("%s%s in %s", key, v, p)
				}
			}
		}
	}
	if noisy > 0 {
		t.Errorf("%d of %d prices with more than 2 decimals", noisy, 3*7040)
	}
}

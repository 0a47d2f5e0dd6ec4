package redispub_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/steadfast-go/steadfast/ticker"
	"github.com/steadfast-go/steadfast/ticker/redispub"
)

// A consumer decodes what it receives on "ticks:NIFTY" (or reads from the
// stream or the latest-value hash).
func ExampleDecode() {
	payload := []byte(`{"v":1,"token":3688442301,"symbol":"NIFTY25D3024000CE","exchange":"NFO",` +
		`"underlying":"NIFTY","kind":"call","strike":24000,"expiry":"2025-12-30","ltp":182.35,` +
		`"change":-3.42,"volume":1234500,"oi":5678925,"bid":182.3,"bid_qty":750,"ask":182.4,` +
		`"ask_qty":1125,"iv":0.1432,"delta":0.5213,"gamma":0.00041,"theta":-12.87,"vega":8.93,` +
		`"ts":"2025-12-01T10:15:30.123456789+05:30","mock":true}`)
	m, err := redispub.Decode(payload)
	if err != nil {
		fmt.Println(err)
		return
	}
	in, tk := m.Instrument, m.Tick
	fmt.Printf("%s %s %s strike %.0f expiry %s\n", in.Symbol, in.Underlying, in.Kind, in.Strike, in.Expiry.Format("2006-01-02"))
	fmt.Printf("ltp %.2f bid %.2f x %d ask %.2f x %d iv %.2f%% delta %.4f\n",
		tk.LastPrice, tk.Bid, tk.BidQty, tk.Ask, tk.AskQty, tk.IV*100, tk.Delta)
	fmt.Println("at", tk.Time.UTC().Format("15:04:05.000 MST"), "mock", tk.Mock)

	_, err = redispub.Decode([]byte(`{"v":2,"token":1,"ltp":1}`))
	fmt.Println(errors.Is(err, redispub.ErrVersion), err)
	// Output:
	// NIFTY25D3024000CE NIFTY call strike 24000 expiry 2025-12-30
	// ltp 182.35 bid 182.30 x 750 ask 182.40 x 1125 iv 14.32% delta 0.5213
	// at 04:45:30.123 UTC mock true
	// true redispub: unsupported payload version: "v" is 2, this decoder reads 1
}

// A Publisher over a local Redis, writing the latest-value hash too. (Not
// run as a test: it needs a Redis.)
func ExampleNew() {
	client := redis.NewClient(&redis.Options{
		Addr:                  "127.0.0.1:6379",
		ContextTimeoutEnabled: true,
		MaxRetries:            -1,
		DialerRetries:         1,
	})
	defer client.Close()
	pub, err := redispub.New(redispub.Config{Client: client, LatestKey: "ticks:latest", Name: "nse"})
	if err != nil {
		fmt.Println(err)
		return
	}
	in := &ticker.Instrument{Token: 256265, Symbol: "NIFTY 50", Exchange: "NSE", Underlying: "NIFTY", Kind: ticker.KindIndex}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	err = pub.Publish(ctx, []ticker.Tick{{Token: in.Token, LastPrice: 24012.5, Time: time.Now(), Instrument: in}})
	fmt.Println(err) // to "ticks:NIFTY", and field "256265" of "ticks:latest"
}

package kite_test

import (
	"errors"
	"fmt"

	"github.com/steadfast-go/steadfast/ticker"
	"github.com/steadfast-go/steadfast/ticker/kite"
)

func ExampleParser() {
	ticks := []ticker.Tick{
		{Token: 408065, LastPrice: 1450.25, Close: 1440},   // NSE: paise on the wire
		{Token: 0x123403, LastPrice: 83.4512, Close: 83.5}, // CDS (segment 3)
	}
	frame, err := kite.AppendFrame(nil, ticks, kite.ModeQuote)
	if err != nil {
		panic(err)
	}
	var p kite.Parser
	n, err := p.Parse(frame, func(t ticker.Tick) {
		fmt.Printf("%d %.4f %+.2f%%\n", t.Token, t.LastPrice, t.Change)
	})
	fmt.Println(n, err)

	_, err = p.Parse(frame[:len(frame)-1], func(ticker.Tick) {})
	var fe *kite.FrameError
	fmt.Println(errors.As(err, &fe), fe.Reason, p.Rejected(kite.ReasonTruncated))
	// Output:
	// 408065 1450.2500 +0.71%
	// 1192963 83.4512 -0.06%
	// 2 <nil>
	// true truncated 1
}

func ExampleNew() {
	_, err := kite.New(kite.Config{AccessToken: "token"})
	fmt.Println(err)
	src, err := kite.New(kite.Config{APIKey: "key", AccessToken: "token", Mode: kite.ModeFull})
	if err != nil {
		panic(err)
	}
	fmt.Println(len(src.Health().Conns), src.Subscribe([]ticker.Instrument{{Token: 256265}}, nil))
	// Output:
	// kite: Config.APIKey is required
	// 3 <nil>
}

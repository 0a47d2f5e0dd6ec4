package kite_test

import (
	"errors"
	"fmt"
	"time"

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

// An order update, as the Source hands it to Config.OnOrder; ParseOrder
// reads an HTTP postback's body the same way. Kite sends its times in IST.
func ExampleParseOrder() {
	o, err := kite.ParseOrder([]byte(`{"order_id":"220303000308932","status":"COMPLETE","tradingsymbol":"SBIN",
		"exchange":"NSE","instrument_token":779521,"transaction_type":"BUY","quantity":1,"filled_quantity":1,
		"average_price":470,"order_timestamp":"2022-03-03 09:24:25","parent_order_id":null}`))
	fmt.Println(err)
	fmt.Println(o.OrderID, o.Status, o.TransactionType, o.FilledQuantity, o.TradingSymbol, o.AveragePrice)
	fmt.Println(o.OrderTimestamp.UTC().Format(time.RFC3339), o.ParentOrderID == "")
	// Output:
	// <nil>
	// 220303000308932 COMPLETE BUY 1 SBIN 470
	// 2022-03-03T03:54:25Z true
}

package kite

import (
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/steadfast-go/steadfast/internal/logtest"
	"github.com/steadfast-go/steadfast/ticker"
)

// postback is Kite's documented sample of an order update's data.
const postback = `{"user_id":"AB1234","unfilled_quantity":0,"app_id":1234,
"checksum":"2011845d9348bd6795151bf4258102a03431e3bb12a79c0df73fcb4b7fde4b5d","placed_by":"AB1234",
"order_id":"220303000308932","exchange_order_id":"1000000001482421","parent_order_id":null,"status":"COMPLETE",
"status_message":null,"status_message_raw":null,"order_timestamp":"2022-03-03 09:24:25",
"exchange_update_timestamp":"2022-03-03 09:24:25","exchange_timestamp":"2022-03-03 09:24:25","variety":"regular",
"exchange":"NSE","tradingsymbol":"SBIN","instrument_token":779521,"order_type":"MARKET","transaction_type":"BUY",
"validity":"DAY","product":"CNC","quantity":1,"disclosed_quantity":0,"price":0,"trigger_price":0,"average_price":470,
"filled_quantity":1,"pending_quantity":0,"cancelled_quantity":0,"market_protection":0,"meta":{},"tag":null,"guid":"XXXXXX"}`

// TestOrderUpdatesAndMessages: order updates reach OnOrder with Kite's
// documented fields typed, errors and messages reach OnMessage redacted;
// a panic in either is contained and counted; junk is counted, not
// delivered; ticks stream on throughout. Before, order updates were logged
// at debug level and dropped.
func TestOrderUpdatesAndMessages(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeKite()
		var (
			logs   logtest.Buffer
			orders []Order
			msgs   []Message
			prices []float64
		)
		s, stopServer := pipeSource(t, f, Config{AccessToken: secret, Logger: debugLogger(&logs),
			OnOrder: func(o Order) {
				if o.Status == "REJECTED" {
					panic("order handler bug")
				}
				orders = append(orders, o)
			},
			OnMessage: func(m Message) { msgs = append(msgs, m) },
		}, tokNSE)
		defer stopServer()
		stop := running(t, s, func(tk ticker.Tick) { prices = append(prices, tk.LastPrice) })
		sc := <-f.accepted
		tick := func(p float64) {
			b, err := AppendFrame(nil, []ticker.Tick{{Token: tokNSE, LastPrice: p}}, ModeLTP)
			require.NoError(t, err)
			sc.send(b)
		}
		tick(1)
		sc.sendText(`{"type":"order","data":` + postback + `}`)
		sc.sendText(`{"type":"order","data":` + strings.Replace(postback, `"COMPLETE"`, `"REJECTED"`, 1) + `}`)
		sc.sendText(`{"type":"order","data":` + strings.Replace(postback, `"quantity":1,`, `"quantity":"one",`, 1) + `}`)
		tick(2)
		sc.sendText(`{"type":"error","data":"token ` + secret + ` is invalid"}`)
		sc.sendText(`{"type":"message","data":"Markets close early today"}`)
		sc.sendText(`{"type":"order","data":[1,2]}`)
		sc.sendText(`not json`)
		sc.sendText(`{"type":"new kind","data":1}`)
		tick(3)
		synctest.Wait()
		require.NoError(t, stop())

		require.Equal(t, []float64{1, 2, 3}, prices, "ticks and texts in arrival order, none lost")
		require.Len(t, orders, 2, "the documented one, and the one with a mistyped quantity")
		o := orders[0]
		require.Equal(t, "220303000308932", o.OrderID)
		require.Equal(t, "1000000001482421", o.ExchangeOrderID)
		require.Equal(t, "COMPLETE", o.Status)
		require.Equal(t, "SBIN", o.TradingSymbol)
		require.Equal(t, uint32(779521), o.InstrumentToken)
		require.Equal(t, "BUY", o.TransactionType)
		require.Equal(t, 1, o.Quantity)
		require.Equal(t, 1, o.FilledQuantity)
		require.Equal(t, 470.0, o.AveragePrice)
		require.Equal(t, int64(1234), o.AppID)
		require.Equal(t, "XXXXXX", o.GUID)
		require.Empty(t, o.ParentOrderID, "null is empty")
		require.Equal(t, time.Date(2022, 3, 3, 3, 54, 25, 0, time.UTC), o.OrderTimestamp.UTC(), "09:24:25 IST")
		require.True(t, o.ExchangeTimestamp.Equal(o.OrderTimestamp))
		require.JSONEq(t, postback, string(o.Raw))
		require.Equal(t, "COMPLETE", orders[1].Status)
		require.Zero(t, orders[1].Quantity, "a mistyped field is left zero, the rest read")
		require.Equal(t, 1, orders[1].FilledQuantity)

		require.Equal(t, []Message{
			{Conn: 0, Type: "error", Text: "token REDACTED is invalid"},
			{Conn: 0, Type: "message", Text: "Markets close early today"},
		}, msgs)
		st := s.Stats()
		require.Equal(t, uint64(3), st.Orders)
		require.Equal(t, uint64(1), st.ServerErrors)
		require.Equal(t, uint64(1), st.Messages)
		require.Equal(t, uint64(2), st.BadTexts, "an order whose data is no object, and text that is no JSON")
		require.Equal(t, uint64(8), st.TextMessages)
		require.Equal(t, uint64(1), st.Panics)
		require.Contains(t, logs.String(), `msg="OnOrder panicked"`)
		require.Contains(t, logs.String(), `panic="order handler bug"`)
		require.NotContains(t, logs.String(), "s3cr3t")
	})
}

// TestTextQueueBounded: a flood of text messages while the consumer is
// slow is dropped and counted beyond the text queue, never buffered
// without bound and never blocking the reading (heartbeats still count).
func TestTextQueueBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeKite()
		release := make(chan struct{})
		var got int
		s, stopServer := pipeSource(t, f, Config{Logger: debugLogger(&logtest.Buffer{}),
			OnMessage: func(Message) { got++; <-release }}, tokNSE)
		defer stopServer()
		stop := running(t, s, func(ticker.Tick) {})
		sc := <-f.accepted
		for range 200 {
			sc.sendText(`{"type":"message","data":"hello"}`)
		}
		sc.send([]byte{0})
		synctest.Wait()
		st := s.Stats()
		require.Equal(t, uint64(200), st.TextMessages)
		require.Equal(t, uint64(1), st.Heartbeats, "reading went on")
		require.Equal(t, uint64(200-1-textQueue), st.DroppedTexts, "one in the callback, the queue full")
		close(release)
		synctest.Wait()
		require.Equal(t, 1+textQueue, got)
		require.NoError(t, stop())
	})
}

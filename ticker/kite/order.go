package kite

import (
	"encoding/json"
	"log/slog"
	"time"

	"github.com/steadfast-go/steadfast/internal/logattr"
)

// Order is an order update as Kite streams it: a text message
// {"type":"order","data":{...}} whose data has the fields of its order
// postbacks (https://kite.trade/docs/connect/v3/postbacks/). The WebSocket
// carries every order of the user, placed from any platform. Fields the
// message lacks, or has as null, are zero; a field of another JSON type
// than documented is left zero and the rest is still read.
//
// Verify Checksum before acting on an update: it is the SHA-256 of
// OrderID, the order_timestamp as sent and the app's API secret, which
// this package never holds.
type Order struct {
	OrderID          string `json:"order_id"`
	ExchangeOrderID  string `json:"exchange_order_id"` // empty until the order reaches the exchange
	ParentOrderID    string `json:"parent_order_id"`   // for the legs of a multi-legged order
	Status           string `json:"status"`            // e.g. "OPEN", "COMPLETE", "CANCELLED", "REJECTED", "UPDATE"
	StatusMessage    string `json:"status_message"`    // why it was rejected or cancelled
	StatusMessageRaw string `json:"status_message_raw"`
	UserID           string `json:"user_id"`
	PlacedBy         string `json:"placed_by"`
	AppID            int64  `json:"app_id"`
	Checksum         string `json:"checksum"`

	// The times, sent as "2006-01-02 15:04:05" in Indian Standard Time;
	// zero when absent or not in that form.
	OrderTimestamp          time.Time `json:"order_timestamp"`
	ExchangeTimestamp       time.Time `json:"exchange_timestamp"`        // when the exchange registered it
	ExchangeUpdateTimestamp time.Time `json:"exchange_update_timestamp"` // when its state last changed there

	Variety         string `json:"variety"` // e.g. "regular", "amo", "co", "iceberg", "auction"
	Exchange        string `json:"exchange"`
	TradingSymbol   string `json:"tradingsymbol"`
	InstrumentToken uint32 `json:"instrument_token"`
	OrderType       string `json:"order_type"`       // "MARKET", "LIMIT", "SL" or "SL-M"
	TransactionType string `json:"transaction_type"` // "BUY" or "SELL"
	Validity        string `json:"validity"`         // e.g. "DAY", "IOC", "TTL"
	Product         string `json:"product"`          // e.g. "CNC", "NRML", "MIS"

	Quantity          int `json:"quantity"`
	DisclosedQuantity int `json:"disclosed_quantity"`
	FilledQuantity    int `json:"filled_quantity"`
	PendingQuantity   int `json:"pending_quantity"`
	CancelledQuantity int `json:"cancelled_quantity"`
	UnfilledQuantity  int `json:"unfilled_quantity"`

	Price            float64 `json:"price"`
	TriggerPrice     float64 `json:"trigger_price"`
	AveragePrice     float64 `json:"average_price"` // of the filled quantity
	MarketProtection float64 `json:"market_protection"`

	Tag  string          `json:"tag"`
	GUID string          `json:"guid"`
	Meta json.RawMessage `json:"meta,omitempty"` // whatever the system attached, as received

	// Conn is the index of the connection the update came on.
	Conn int `json:"-"`
	// Raw is the data object as received (at most 64 KiB), for fields this
	// type does not name. The callee may keep it.
	Raw json.RawMessage `json:"-"`
}

// Message is a text message from the server other than an order update:
// an error ("error", e.g. a subscription beyond the limits) or a message or
// alert from the broker ("message").
type Message struct {
	Conn int    `json:"conn"` // the connection it came on
	Type string `json:"type"` // "error" or "message"
	// Text is the message's data: its string, or its JSON when it is not a
	// string; any credential replaced by REDACTED, cut to 1,000 bytes.
	Text string `json:"text"`
}

// maxMessageText bounds Message.Text.
const maxMessageText = 1000

// textQueue is how many text messages may wait for the emitting
// goroutine; beyond it they are dropped and counted.
const textQueue = 64

// text is a text message handed from a reading goroutine to the emitting
// one.
type text struct {
	conn int
	b    []byte
}

// queueText hands a text message of n bytes, of which b holds the first
// maxText, to the emitting goroutine. It never waits: a message too long
// or with no room in the queue is dropped, counted and logged.
func (r *run) queueText(sl *slot, b []byte, n int64) {
	s := r.s
	s.c.texts.Add(1)
	if n > int64(len(b)) {
		c := s.c.droppedTexts.Add(1)
		s.log(slog.LevelWarn, "text message too long, dropped", slog.Int("conn", sl.idx), slog.Int64("bytes", n),
			slog.Int("limit", maxText), slog.Uint64("count", c))
		return
	}
	select {
	case r.texts <- text{conn: sl.idx, b: b}:
	default:
		if c := s.c.droppedTexts.Add(1); c&(c-1) == 0 { // the 1st, 2nd, 4th, 8th ...
			s.log(slog.LevelWarn, "text message dropped: the queue is full", slog.Int("conn", sl.idx), slog.Uint64("count", c))
		}
	}
}

// handleText reads one text message on the emitting goroutine: an order
// update goes to OnOrder, an error or a message to OnMessage, each logged
// and counted. Nothing in it is parsed as ticks.
func (r *run) handleText(t text) {
	s := r.s
	var m struct {
		Type string          `json:"type"`
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(t.b, &m); err != nil {
		s.c.badTexts.Add(1)
		s.log(slog.LevelDebug, "text message not understood", slog.Int("conn", t.conn), slog.Int("bytes", len(t.b)))
		return
	}
	switch m.Type {
	case "order":
		o, err := ParseOrder(m.Data)
		if err != nil && o.OrderID == "" {
			s.c.badTexts.Add(1)
			s.log(slog.LevelWarn, "order update not understood", slog.Int("conn", t.conn), slog.Int("bytes", len(m.Data)),
				slog.String(logattr.Error, cut(s.redact(err.Error()), maxServerMsg)))
			return
		}
		o.Conn = t.conn
		s.c.orders.Add(1)
		s.log(slog.LevelDebug, "order update", slog.Int("conn", t.conn), slog.String("order_id", o.OrderID),
			slog.String("status", o.Status))
		if f := s.cfg.OnOrder; f != nil {
			s.contain("OnOrder", func() { f(o) })
		}
	case "error", "message":
		var msg string
		if json.Unmarshal(m.Data, &msg) != nil {
			msg = string(m.Data)
		}
		msg = cut(s.redact(msg), maxMessageText) // redact first, then cut
		level := slog.LevelInfo
		if m.Type == "error" {
			s.c.serverErrors.Add(1)
			level = slog.LevelWarn
			s.log(level, "server error", slog.Int("conn", t.conn), slog.String(logattr.Error, cut(msg, maxServerMsg)))
		} else {
			s.c.messages.Add(1)
			s.log(level, "server message", slog.Int("conn", t.conn), slog.String("text", cut(msg, maxServerMsg)))
		}
		if f := s.cfg.OnMessage; f != nil {
			s.contain("OnMessage", func() { f(Message{Conn: t.conn, Type: m.Type, Text: msg}) })
		}
	default:
		s.log(slog.LevelDebug, "text message", slog.Int("conn", t.conn), slog.String("type", cut(m.Type, 64)),
			slog.Int("bytes", len(t.b)))
	}
}

// contain calls a user's callback, containing its panic (or Goexit): it is
// logged with its stack, its value redacted, and counted in Stats.Panics.
func (s *Source) contain(what string, fn func()) {
	logattr.Contain(fn, func(v any, stack []byte) {
		s.c.emitPanics.Add(1)
		a := logattr.PanicAttrs(v, stack)
		a[0] = slog.String(logattr.Panic, s.redact(a[0].Value.String()))
		s.log(slog.LevelError, what+" panicked", a[0], a[1])
	})
}

// ParseOrder reads an order update's data: the object under "data" in a
// WebSocket order message, or the body of an HTTP postback, which has the
// same fields. It returns what it could read and the first error: a field
// of another JSON type than documented is left zero and the rest is read;
// malformed JSON yields an Order with no OrderID. Raw gets a copy of data.
func ParseOrder(data []byte) (Order, error) {
	var w struct {
		Order
		OrderTimestamp          string `json:"order_timestamp"`
		ExchangeTimestamp       string `json:"exchange_timestamp"`
		ExchangeUpdateTimestamp string `json:"exchange_update_timestamp"`
	}
	err := json.Unmarshal(data, &w)
	o := w.Order
	o.OrderTimestamp = kiteTime(w.OrderTimestamp)
	o.ExchangeTimestamp = kiteTime(w.ExchangeTimestamp)
	o.ExchangeUpdateTimestamp = kiteTime(w.ExchangeUpdateTimestamp)
	o.Raw = append(json.RawMessage(nil), data...)
	return o, err
}

// kiteTime parses a time as Kite sends it, "2006-01-02 15:04:05" in
// Indian Standard Time (UTC+05:30); anything else is the zero time.
func kiteTime(v string) time.Time {
	t, err := time.ParseInLocation(time.DateTime, v, time.FixedZone("IST", 5*3600+1800))
	if err != nil {
		return time.Time{}
	}
	return t
}

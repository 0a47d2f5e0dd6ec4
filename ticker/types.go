package ticker

import (
	"time"
)

// Kind is the kind of an instrument.
type Kind uint8

// The kinds of instrument.
const (
	KindUnknown Kind = iota
	KindIndex        // an index such as NIFTY 50; not tradable itself
	KindEquity       // a cash-market stock
	KindFuture       // a futures contract
	KindCall         // a call option (CE)
	KindPut          // a put option (PE)
)

// String returns the kind's lower-case name: "index", "equity", "future",
// "call" or "put"; "unknown" for any other value.
func (k Kind) String() string {
	switch k {
	case KindIndex:
		return "index"
	case KindEquity:
		return "equity"
	case KindFuture:
		return "future"
	case KindCall:
		return "call"
	case KindPut:
		return "put"
	}
	return "unknown"
}

// IsOption reports whether k is a call or a put.
func (k Kind) IsOption() bool { return k == KindCall || k == KindPut }

// Instrument describes one tradable (or, for an index, quoted) instrument.
type Instrument struct {
	Token      uint32  // the broker's instrument token; never zero for a valid instrument
	Symbol     string  // trading symbol, e.g. "NIFTY25DEC24000CE"
	Exchange   string  // e.g. "NSE", "NFO"
	Segment    string  // e.g. "NFO-OPT", "INDICES"
	Underlying string  // underlying name, e.g. "NIFTY"; the instrument's own name for an index or equity
	Kind       Kind    // index, equity, future, call or put
	Strike     float64 // strike price in rupees; zero unless an option
	// Expiry is the instant trading in the contract ends; the zero time
	// for an index or equity. The engine reloads its subscriptions at that
	// instant and knows no exchange rule: whoever lists the instrument sets
	// it (for NSE and BSE options and futures, 15:30 IST on the expiry day,
	// as market.Universe and kite.ParseInstruments do).
	Expiry   time.Time
	LotSize  int     // contract size in units of the underlying; 1 for an equity
	TickSize float64 // minimum price step in rupees, e.g. 0.05

	// ExchangeToken is the exchange's own number for the instrument; a Kite
	// token is ExchangeToken<<8 | SegmentCode(Exchange, Segment). Zero when
	// unknown.
	ExchangeToken uint32
}

// Tick is one market update for an instrument. Prices are in rupees. Validate
// reports whether a tick is fit to publish.
type Tick struct {
	Token        uint32    // the instrument's token; never zero in a valid tick
	LastQty      uint32    // quantity of the last trade (beside Token: two uint32 share a word)
	LastPrice    float64   // last traded price; zero before the first trade
	Volume       uint64    // cumulative traded volume for the day; never decreases within a day
	OpenInterest uint64    // open contracts, for derivatives
	Bid          float64   // best bid price; zero when no one bids
	Ask          float64   // best ask price; zero when no one offers
	BidQty       uint32    // quantity at the best bid
	AskQty       uint32    // quantity at the best ask
	Change       float64   // change from the previous close, in percent: (LastPrice-Close)×100/Close (see kite.Parser.Parse)
	Time         time.Time // exchange timestamp

	// Option analytics; zero for non-options.
	IV    float64 // implied volatility, annualised, as a fraction (0.15 = 15%)
	Delta float64
	Gamma float64
	Theta float64 // per calendar day, in rupees
	Vega  float64 // per 1 percentage point of volatility, in rupees

	Mock bool // produced by the mock source, not by an exchange

	// Quote fields: zero when the source does not carry them (the mock, or
	// a Kite LTP-mode packet).
	Open          float64   // the day's open price
	High          float64   // the day's high price
	Low           float64   // the day's low price
	Close         float64   // the previous session's close price
	AvgPrice      float64   // volume-weighted average traded price of the day
	TotalBuyQty   uint64    // total quantity bid across the book
	TotalSellQty  uint64    // total quantity offered across the book
	LastTradeTime time.Time // time of the last trade; zero when unknown
	OIDayHigh     uint64    // the day's highest open interest
	OIDayLow      uint64    // the day's lowest open interest

	// Depth is the five best bids and offers, or nil when the source does
	// not carry the book (a Kite full-mode packet does). It is a pointer so
	// that ticks stay small to copy on the engine's emit path. A Source must
	// not modify a Depth after emitting the tick that points at it, and a
	// consumer must treat it as read-only: several ticks and goroutines may
	// share it.
	Depth *Depth

	// Instrument describes the tick's instrument. A Source leaves it nil;
	// the Engine sets it on the ticks it hands to a Publisher and returns
	// from Latest, pointing at its own description of the subscription,
	// which it never modifies (treat it as read-only). It lets a publisher
	// put the symbol, underlying, kind, strike and expiry in its payload
	// without an instrument lookup of its own.
	Instrument *Instrument

	// Epoch is the fencing token of the replica that published the tick
	// (package ticker/replica): strictly increasing per partition of the
	// universe, zero outside replicas. A consumer of several replicas keeps,
	// per instrument, the tick with the highest Epoch and drops older ones.
	Epoch uint64
}

// Depth is an order book snapshot of five levels a side, best first. An
// empty level has a zero price and quantity.
type Depth struct {
	Buy  [5]DepthLevel // bids, highest price first
	Sell [5]DepthLevel // offers, lowest price first
}

// DepthLevel is one price level of a Depth.
type DepthLevel struct {
	Price  float64 // in rupees
	Qty    uint32  // total quantity at the price
	Orders uint16  // number of orders at the price
}

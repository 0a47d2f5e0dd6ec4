package redispub

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/steadfast-go/steadfast/ticker"
)

// Errors reported by this package. Match them with errors.Is.
var (
	// ErrMalformed is wrapped by Decode's error for a payload that is not a
	// JSON object of the documented shape: bad JSON, a field of the wrong
	// type, a required field missing or an unknown kind.
	ErrMalformed = errors.New("redispub: malformed payload")
	// ErrVersion is wrapped by Decode's error for a payload whose "v" is not
	// Version; a consumer should skip such a message, or upgrade.
	ErrVersion = errors.New("redispub: unsupported payload version")
)

// Message is a decoded payload.
type Message struct {
	// Version is the payload's "v"; always Version after a successful
	// Decode.
	Version int
	// Tick holds the market data. Its Instrument is nil: the instrument's
	// fields are in Instrument.
	Tick ticker.Tick
	// Instrument holds the fields of the instrument the payload carries:
	// Token, Symbol, Exchange, Underlying, Kind, Strike and Expiry (midnight
	// IST of the expiry date, since the payload carries the date only; the
	// publisher's Instrument.Expiry is the instant trading ends on that
	// date). Segment, LotSize and TickSize are not in the
	// payload and stay zero; all but Token stay zero when the publisher did
	// not know the instrument.
	Instrument ticker.Instrument
}

// wire is the payload's JSON shape. Pointers mark the required fields so
// that their absence is told from a zero value.
type wire struct {
	V          *int    `json:"v"`
	Token      *uint32 `json:"token"`
	Symbol     string  `json:"symbol"`
	Exchange   string  `json:"exchange"`
	Underlying string  `json:"underlying"`
	Kind       string  `json:"kind"`
	Strike     number  `json:"strike"`
	Expiry     string  `json:"expiry"`
	LastPrice  *number `json:"ltp"`
	Change     number  `json:"change"`
	Volume     uint64  `json:"volume"`
	OI         uint64  `json:"oi"`
	Bid        number  `json:"bid"`
	BidQty     uint32  `json:"bid_qty"`
	Ask        number  `json:"ask"`
	AskQty     uint32  `json:"ask_qty"`
	IV         number  `json:"iv"`
	Delta      number  `json:"delta"`
	Gamma      number  `json:"gamma"`
	Theta      number  `json:"theta"`
	Vega       number  `json:"vega"`
	Time       string  `json:"ts"`
	Mock       bool    `json:"mock"`
	Epoch      uint64  `json:"epoch"`
}

// number is a float64 that reads JSON null (a non-finite value on the
// publishing side) as NaN.
type number float64

// UnmarshalJSON implements json.Unmarshaler.
func (n *number) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*n = number(math.NaN())
		return nil
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return fmt.Errorf("not a number: %s", b)
	}
	*n = number(f)
	return nil
}

// Decode parses a payload written by this package (by AppendPayload or a
// Publisher). It requires "v" to be Version (else an error wrapping
// ErrVersion) and "token" (non-zero) and "ltp" to be present (else an error
// wrapping ErrMalformed), and checks the type of every documented field.
// Fields it does not know are ignored, so a version 1 payload may gain
// fields without breaking a consumer. Decode never panics.
func Decode(payload []byte) (Message, error) {
	// The version first, alone, so that a payload of another version is
	// reported as such even if its other fields changed shape.
	var head struct {
		V json.RawMessage `json:"v"`
	}
	if err := json.Unmarshal(payload, &head); err != nil {
		return Message{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if head.V == nil {
		return Message{}, fmt.Errorf("%w: no \"v\" field", ErrMalformed)
	}
	if !bytes.Equal(head.V, []byte("1")) {
		return Message{}, fmt.Errorf("%w: \"v\" is %s, this decoder reads %d", ErrVersion, head.V, Version)
	}

	var w wire
	if err := json.Unmarshal(payload, &w); err != nil {
		return Message{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	switch {
	case w.Token == nil:
		return Message{}, fmt.Errorf("%w: no \"token\" field", ErrMalformed)
	case *w.Token == 0:
		return Message{}, fmt.Errorf("%w: \"token\" is 0", ErrMalformed)
	case w.LastPrice == nil:
		return Message{}, fmt.Errorf("%w: no \"ltp\" field", ErrMalformed)
	}
	m := Message{
		Version: Version,
		Tick: ticker.Tick{
			Token:        *w.Token,
			LastPrice:    float64(*w.LastPrice),
			Volume:       w.Volume,
			OpenInterest: w.OI,
			Bid:          float64(w.Bid),
			Ask:          float64(w.Ask),
			BidQty:       w.BidQty,
			AskQty:       w.AskQty,
			Change:       float64(w.Change),
			IV:           float64(w.IV),
			Delta:        float64(w.Delta),
			Gamma:        float64(w.Gamma),
			Theta:        float64(w.Theta),
			Vega:         float64(w.Vega),
			Mock:         w.Mock,
			Epoch:        w.Epoch,
		},
		Instrument: ticker.Instrument{
			Token:      *w.Token,
			Symbol:     w.Symbol,
			Exchange:   w.Exchange,
			Underlying: w.Underlying,
			Strike:     float64(w.Strike),
		},
	}
	if w.Kind != "" {
		k, ok := parseKind(w.Kind)
		if !ok {
			return Message{}, fmt.Errorf("%w: unknown \"kind\" %q", ErrMalformed, w.Kind)
		}
		m.Instrument.Kind = k
	}
	if w.Expiry != "" {
		d, err := time.ParseInLocation(time.DateOnly, w.Expiry, time.FixedZone("IST", int(istOffset/time.Second)))
		if err != nil {
			return Message{}, fmt.Errorf("%w: \"expiry\" %q is not a YYYY-MM-DD date", ErrMalformed, w.Expiry)
		}
		m.Instrument.Expiry = d
	}
	if w.Time != "" {
		t, err := time.Parse(time.RFC3339Nano, w.Time)
		if err != nil {
			return Message{}, fmt.Errorf("%w: \"ts\" %q is not an RFC 3339 time", ErrMalformed, w.Time)
		}
		m.Tick.Time = t
	}
	return m, nil
}

// parseKind reads the word Kind.String writes.
func parseKind(s string) (ticker.Kind, bool) {
	for k := ticker.KindIndex; k <= ticker.KindPut; k++ {
		if k.String() == s {
			return k, true
		}
	}
	return ticker.KindUnknown, s == ticker.KindUnknown.String()
}

package kite

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/steadfast-go/steadfast/ticker"
)

// The wire format, from the Kite Connect v3 WebSocket documentation
// (https://kite.trade/docs/connect/v3/websocket/#message-structure and the
// sections after it). Every number is big-endian.
//
// A binary message (a frame) is a uint16 count of packets, then for each
// packet a uint16 length and that many bytes. A frame of one byte is a
// heartbeat. A packet starts with the uint32 instrument token; its length
// says what it carries:
//
//	 8  LTP mode:           token, last price
//	28  index, quote mode:  token, last price, high, low, open, close, price change
//	32  index, full mode:   the 28 bytes, then the exchange timestamp
//	44  quote mode:         token, last price, last quantity, average price,
//	                        volume, total buy quantity, total sell quantity,
//	                        open, high, low, close
//	184 full mode:          the 44 bytes, then last trade time, OI, OI day high,
//	                        OI day low, exchange timestamp (bytes 44-64), and
//	                        ten market depth entries of 12 bytes (five bids,
//	                        then five offers): quantity int32, price int32,
//	                        orders int16, 2 bytes of padding
//
// Prices are int32 in paise (divide by 100), except for currency derivatives
// (segment 3, CDS: divide by 10,000,000) and BSE currency derivatives
// (segment 6, BCD: divide by 10,000). The segment is the token's low byte
// (token & 0xFF); segment 9 holds the indices, which are not tradable.
// Timestamps are uint32 Unix seconds.
const (
	LenLTP        = 8   // an LTP-mode packet
	LenIndexQuote = 28  // an index packet in quote mode
	LenIndexFull  = 32  // an index packet in full mode
	LenQuote      = 44  // a quote-mode packet
	LenFull       = 184 // a full-mode packet, with market depth
)

// The segments (token & 0xFF) whose prices are not in paise, and the index
// segment, from the Kite Connect documentation and its official clients'
// exchange maps.
const (
	SegmentCDS     = 3 // NSE currency derivatives: prices ÷ 10,000,000
	SegmentBCD     = 6 // BSE currency derivatives: prices ÷ 10,000
	SegmentIndices = 9 // indices: not tradable; index packets (28 or 32 bytes)
)

// MaxFrame is the longest valid frame: 65,535 full packets with their
// length prefixes, after the count.
const MaxFrame = 2 + math.MaxUint16*(2+LenFull)

const depthLevels = 5

// Divisor returns the number a price on the wire is divided by to give
// rupees for token's segment.
func Divisor(token uint32) float64 {
	switch token & 0xFF {
	case SegmentCDS:
		return 1e7
	case SegmentBCD:
		return 1e4
	}
	return 100
}

// Mode is a Kite streaming mode: how much each packet carries.
type Mode uint8

// The modes. The zero Mode means the default, ModeQuote (the server's own
// default for a new subscription).
const (
	ModeLTP   Mode = iota + 1 // last price only (8 bytes)
	ModeQuote                 // quote without depth (44 bytes; 28 for an index)
	ModeFull                  // quote, times, OI and 5-level depth (184; 32 for an index)
)

// String returns the mode's wire name: "ltp", "quote" or "full"; "unknown"
// for any other value.
func (m Mode) String() string {
	switch m {
	case ModeLTP:
		return "ltp"
	case ModeQuote:
		return "quote"
	case ModeFull:
		return "full"
	}
	return "unknown"
}

// MarshalText returns the mode's String form; an unknown mode is an error.
func (m Mode) MarshalText() ([]byte, error) {
	if m < ModeLTP || m > ModeFull {
		return nil, fmt.Errorf("kite: unknown mode %d", uint8(m))
	}
	return []byte(m.String()), nil
}

// UnmarshalText parses "ltp", "quote" or "full".
func (m *Mode) UnmarshalText(b []byte) error {
	for c := ModeLTP; c <= ModeFull; c++ {
		if string(b) == c.String() {
			*m = c
			return nil
		}
	}
	return fmt.Errorf("kite: unknown mode %q", b)
}

// Reason says why a frame or packet was rejected. Its String form is short
// and stable, suitable as a metric label value.
type Reason uint8

// The reasons a frame or a packet is rejected. ReasonBadLength and
// ReasonZeroToken reject one packet, and the frame's other packets are
// still emitted; the others reject the whole frame (nothing of it is
// emitted).
const (
	ReasonEmpty       Reason = iota + 1 // a frame of zero bytes
	ReasonShortHeader                   // a frame shorter than its count or a packet's length prefix
	ReasonTruncated                     // a packet runs past the end of the frame
	ReasonTrailing                      // bytes left after the counted packets
	ReasonBadLength                     // a packet length that is no known kind (8, 28, 32, 44, 184)
	ReasonZeroToken                     // a packet whose instrument token is zero
	// ReasonOversized: a frame longer than its connection can carry (2 +
	// MaxPerConn × 186 bytes). A Source counts it; a Parser never returns it.
	ReasonOversized
	numReasons
)

// String returns the reason's name: "empty", "short_header", "truncated",
// "trailing", "bad_length", "zero_token" or "oversized"; "unknown" for other
// values.
func (r Reason) String() string {
	switch r {
	case ReasonEmpty:
		return "empty"
	case ReasonShortHeader:
		return "short_header"
	case ReasonTruncated:
		return "truncated"
	case ReasonTrailing:
		return "trailing"
	case ReasonBadLength:
		return "bad_length"
	case ReasonZeroToken:
		return "zero_token"
	case ReasonOversized:
		return "oversized"
	}
	return "unknown"
}

// MarshalText returns the reason's String form.
func (r Reason) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// UnmarshalText parses a reason's String form.
func (r *Reason) UnmarshalText(b []byte) error {
	for i := Reason(1); i < numReasons; i++ {
		if string(b) == i.String() {
			*r = i
			return nil
		}
	}
	return fmt.Errorf("kite: unknown reason %q", b)
}

// ErrMalformed is wrapped by every *FrameError.
var ErrMalformed = errors.New("kite: malformed frame")

// FrameError reports a rejected frame or packet. It wraps ErrMalformed.
type FrameError struct {
	Reason Reason // why
	Offset int    // byte offset in the frame where the problem was found
	Packet int    // index of the packet (0-based); -1 for a frame-level problem
	Length int    // the packet's length (ReasonBadLength, ReasonTruncated), else 0
}

// Error describes the problem, e.g.
// "kite: malformed frame: bad_length (packet 3 at byte 70, length 12)".
func (e *FrameError) Error() string {
	b := []byte("kite: malformed frame: ")
	b = append(b, e.Reason.String()...)
	b = append(b, " ("...)
	if e.Packet >= 0 {
		b = append(b, "packet "...)
		b = strconv.AppendInt(b, int64(e.Packet), 10)
		b = append(b, " at "...)
	}
	b = append(b, "byte "...)
	b = strconv.AppendInt(b, int64(e.Offset), 10)
	if e.Length != 0 {
		b = append(b, ", length "...)
		b = strconv.AppendInt(b, int64(e.Length), 10)
	}
	b = append(b, ')')
	return string(b)
}

// Unwrap returns ErrMalformed.
func (e *FrameError) Unwrap() error { return ErrMalformed }

// IsHeartbeat reports whether b is a heartbeat: a binary message of one
// byte, which Kite sends every couple of seconds when it has no data.
func IsHeartbeat(b []byte) bool { return len(b) == 1 }

// DefaultDepthBlock is how many Depth values a Parser allocates at once
// when its DepthBlock is zero.
const DefaultDepthBlock = 32

// Parser decodes frames into ticks. Its zero value is ready to use. A
// Parser is not safe for concurrent use: give each reading goroutine its
// own.
//
// # Depth ownership
//
// A full-mode packet's book goes into a Depth that the tick points at. The
// Parser carves those Depths out of blocks of DepthBlock (default 32) that
// it allocates at once and never reuses: once a tick is emitted its Depth
// belongs to whoever holds the tick, for as long as they like, and the
// Parser never writes to it again. That makes one allocation per DepthBlock
// full-mode packets (none for the other kinds). The cost: a Depth still
// referenced keeps its whole block (5 KiB at 32) from the garbage collector,
// so a consumer that keeps the last tick of many rarely traded instruments
// may hold up to DepthBlock times the memory their books need. DepthBlock 1
// allocates each Depth alone (no such overhead, one allocation per full
// packet); NoDepth skips the book and allocates nothing.
type Parser struct {
	// NoDepth, when set, leaves Tick.Depth nil (and Bid, Ask, BidQty and
	// AskQty, which come from the book, zero) for full-mode packets.
	NoDepth bool
	// DepthBlock is how many Depths are allocated at once; zero means
	// DefaultDepthBlock. See "Depth ownership" above.
	DepthBlock int

	block    []depth // the current block; block[next:] is not handed out yet
	next     int
	rejected [numReasons]uint64
}

// depth is ticker.Depth, for brevity.
type depth = ticker.Depth

// Rejected returns how many frames or packets this Parser has rejected for
// reason r.
func (p *Parser) Rejected(r Reason) uint64 {
	if r >= numReasons {
		return 0
	}
	return p.rejected[r]
}

// Parse decodes one binary frame, calling fn for each tick in it, in order,
// and returns how many ticks it passed to fn. A heartbeat (one byte) yields
// no tick and no error. A malformed frame yields no tick and a *FrameError;
// a malformed packet is skipped, the frame's other packets are decoded, and
// the first such problem is returned. Every rejection is counted (Rejected).
// Parse never panics whatever b holds, and allocates nothing except the
// Depth blocks described on Parser. fn must not retain b.
//
// Ticks carry the fields their packet kind has; Time is the exchange
// timestamp when the packet has one (index full and full mode) and zero
// otherwise; Change is the percent change of LastPrice from Close,
// (LastPrice - Close) × 100 / Close, zero when Close is zero. Kite's
// official Python and JavaScript clients compute the same percentage; its
// official Go client gives the absolute difference, LastPrice - Close.
func (p *Parser) Parse(b []byte, fn func(ticker.Tick)) (int, error) {
	if len(b) == 1 {
		return 0, nil
	}
	if err := p.check(b); err != nil {
		return 0, err
	}
	count := int(binary.BigEndian.Uint16(b))
	off := 2
	n := 0
	var first error
	for i := 0; i < count; i++ {
		l := int(binary.BigEndian.Uint16(b[off:]))
		pk := b[off+2 : off+2+l]
		t, err := p.decode(pk)
		if err != nil {
			err.Packet, err.Offset = i, off
			if first == nil {
				first = err
			}
		} else {
			fn(t)
			n++
		}
		off += 2 + l
	}
	return n, first
}

// check validates a frame's structure: its count and every length prefix
// against its size, and that nothing trails the last packet.
func (p *Parser) check(b []byte) *FrameError {
	reject := func(r Reason, off, pk, l int) *FrameError {
		p.rejected[r]++
		return &FrameError{Reason: r, Offset: off, Packet: pk, Length: l}
	}
	if len(b) == 0 {
		return reject(ReasonEmpty, 0, -1, 0)
	}
	if len(b) < 2 {
		return reject(ReasonShortHeader, 0, -1, 0)
	}
	count := int(binary.BigEndian.Uint16(b))
	off := 2
	for i := 0; i < count; i++ {
		if len(b)-off < 2 {
			return reject(ReasonShortHeader, off, i, 0)
		}
		l := int(binary.BigEndian.Uint16(b[off:]))
		if len(b)-off-2 < l {
			return reject(ReasonTruncated, off, i, l)
		}
		off += 2 + l
	}
	if off != len(b) {
		return reject(ReasonTrailing, off, -1, 0)
	}
	return nil
}

// decode returns the tick of one packet whose bounds check has verified.
// It builds the tick in a local variable and returns it by value: stores
// into a stack variable need no GC write barrier, stores through a pointer
// do.
func (p *Parser) decode(pk []byte) (t ticker.Tick, _ *FrameError) {
	l := len(pk)
	switch l {
	case LenLTP, LenIndexQuote, LenIndexFull, LenQuote, LenFull:
	default:
		p.rejected[ReasonBadLength]++
		return t, &FrameError{Reason: ReasonBadLength, Length: l}
	}
	be := binary.BigEndian
	token := be.Uint32(pk)
	if token == 0 {
		p.rejected[ReasonZeroToken]++
		return t, &FrameError{Reason: ReasonZeroToken, Length: l}
	}
	div := Divisor(token)
	price := func(at int) float64 { return float64(int32(be.Uint32(pk[at:]))) / div }
	t.Token = token
	t.LastPrice = price(4)
	switch l {
	case LenLTP:
		return t, nil
	case LenIndexQuote, LenIndexFull:
		t.High, t.Low, t.Open, t.Close = price(8), price(12), price(16), price(20)
		if l == LenIndexFull {
			t.Time = unixTime(be.Uint32(pk[28:]))
		}
	default: // LenQuote, LenFull
		t.LastQty = be.Uint32(pk[8:])
		t.AvgPrice = price(12)
		t.Volume = uint64(be.Uint32(pk[16:]))
		t.TotalBuyQty = uint64(be.Uint32(pk[20:]))
		t.TotalSellQty = uint64(be.Uint32(pk[24:]))
		t.Open, t.High, t.Low, t.Close = price(28), price(32), price(36), price(40)
		if l == LenFull {
			t.LastTradeTime = unixTime(be.Uint32(pk[44:]))
			t.OpenInterest = uint64(be.Uint32(pk[48:]))
			t.OIDayHigh = uint64(be.Uint32(pk[52:]))
			t.OIDayLow = uint64(be.Uint32(pk[56:]))
			t.Time = unixTime(be.Uint32(pk[60:]))
			if !p.NoDepth {
				d := p.newDepth()
				for i := 0; i < 2*depthLevels; i++ {
					e := pk[64+12*i:]
					lv := ticker.DepthLevel{
						Qty:    be.Uint32(e),
						Price:  float64(int32(be.Uint32(e[4:]))) / div,
						Orders: be.Uint16(e[8:]),
					}
					if i < depthLevels {
						d.Buy[i] = lv
					} else {
						d.Sell[i-depthLevels] = lv
					}
				}
				t.Depth = d
				t.Bid, t.BidQty = d.Buy[0].Price, d.Buy[0].Qty
				t.Ask, t.AskQty = d.Sell[0].Price, d.Sell[0].Qty
			}
		}
	}
	if t.Close != 0 {
		t.Change = (t.LastPrice - t.Close) * 100 / t.Close
	}
	return t, nil
}

// newDepth returns a zeroed Depth that nothing else points at.
func (p *Parser) newDepth() *depth {
	// An index, not a reslice: no pointer is written (and no GC write
	// barrier run) per packet, only per block.
	if p.next == len(p.block) {
		n := p.DepthBlock
		if n <= 0 {
			n = DefaultDepthBlock
		}
		p.block, p.next = make([]depth, n), 0
	}
	d := &p.block[p.next]
	p.next++
	return d
}

// unixTime converts a packet's Unix seconds; zero stays the zero time.
func unixTime(s uint32) time.Time {
	if s == 0 {
		return time.Time{}
	}
	return time.Unix(int64(s), 0)
}

// ErrEncode is wrapped by the errors of AppendFrame.
var ErrEncode = errors.New("kite: cannot encode")

// AppendFrame appends to dst one binary frame holding a packet for each
// tick, in the packet kind mode gives for the tick's segment (an index
// packet for segment 9), and returns the extended slice. Prices are scaled
// by the segment's Divisor and rounded to the nearest unit; Change is not
// sent (the parser derives it); an index packet's price change field gets
// LastPrice - Close. A full-mode packet's book comes from Depth, or from
// Bid, Ask, BidQty and AskQty as its first level when Depth is nil.
//
// It returns an error wrapping ErrEncode, and dst unchanged, for more than
// 65,535 ticks, an unknown mode, a zero token, a price that is not finite or
// does not fit an int32 once scaled, or a quantity or time that does not fit
// a uint32.
func AppendFrame(dst []byte, ticks []ticker.Tick, mode Mode) ([]byte, error) {
	if len(ticks) > math.MaxUint16 {
		return dst, fmt.Errorf("%w: %d ticks in one frame (at most %d)", ErrEncode, len(ticks), math.MaxUint16)
	}
	if mode < ModeLTP || mode > ModeFull {
		return dst, fmt.Errorf("%w: unknown mode %d", ErrEncode, uint8(mode))
	}
	start := len(dst)
	be := binary.BigEndian
	dst = be.AppendUint16(dst, uint16(len(ticks)))
	for i := range ticks {
		var err error
		if dst, err = appendPacket(dst, &ticks[i], mode); err != nil {
			return dst[:start], fmt.Errorf("%w: tick %d (token %d): %v", ErrEncode, i, ticks[i].Token, err)
		}
	}
	return dst, nil
}

// packetLen returns the packet length mode gives token's segment.
func packetLen(token uint32, mode Mode) int {
	index := token&0xFF == SegmentIndices
	switch {
	case mode == ModeLTP:
		return LenLTP
	case mode == ModeQuote && index:
		return LenIndexQuote
	case mode == ModeQuote:
		return LenQuote
	case index:
		return LenIndexFull
	}
	return LenFull
}

// appendPacket appends one tick's length prefix and packet.
func appendPacket(dst []byte, t *ticker.Tick, mode Mode) ([]byte, error) {
	if t.Token == 0 {
		return dst, errors.New("zero token")
	}
	e := encoder{div: Divisor(t.Token)}
	l := packetLen(t.Token, mode)
	be := binary.BigEndian
	dst = be.AppendUint16(dst, uint16(l))
	dst = be.AppendUint32(dst, t.Token)
	dst = e.price(dst, t.LastPrice)
	switch l {
	case LenIndexQuote, LenIndexFull:
		dst = e.price(e.price(e.price(e.price(dst, t.High), t.Low), t.Open), t.Close)
		dst = e.price(dst, t.LastPrice-t.Close)
		if l == LenIndexFull {
			dst = e.time(dst, t.Time)
		}
	case LenQuote, LenFull:
		dst = e.qty(dst, uint64(t.LastQty))
		dst = e.price(dst, t.AvgPrice)
		dst = e.qty(e.qty(e.qty(dst, t.Volume), t.TotalBuyQty), t.TotalSellQty)
		dst = e.price(e.price(e.price(e.price(dst, t.Open), t.High), t.Low), t.Close)
		if l == LenFull {
			dst = e.time(dst, t.LastTradeTime)
			dst = e.qty(e.qty(e.qty(dst, t.OpenInterest), t.OIDayHigh), t.OIDayLow)
			dst = e.time(dst, t.Time)
			d := t.Depth
			if d == nil {
				d = &depth{}
				d.Buy[0] = ticker.DepthLevel{Price: t.Bid, Qty: t.BidQty}
				d.Sell[0] = ticker.DepthLevel{Price: t.Ask, Qty: t.AskQty}
			}
			for _, side := range [2]*[depthLevels]ticker.DepthLevel{&d.Buy, &d.Sell} {
				for _, lv := range side {
					dst = e.qty(dst, uint64(lv.Qty))
					dst = e.price(dst, lv.Price)
					dst = be.AppendUint16(dst, lv.Orders)
					dst = append(dst, 0, 0)
				}
			}
		}
	}
	return dst, e.err
}

// encoder scales and range-checks the values of one packet, keeping the
// first error.
type encoder struct {
	div float64
	err error
}

func (e *encoder) price(dst []byte, v float64) []byte {
	s := math.Round(v * e.div)
	if !(s >= math.MinInt32 && s <= math.MaxInt32) { // also false for NaN
		if e.err == nil {
			e.err = fmt.Errorf("price %v out of range", v)
		}
		s = 0
	}
	return binary.BigEndian.AppendUint32(dst, uint32(int32(s)))
}

func (e *encoder) qty(dst []byte, v uint64) []byte {
	if v > math.MaxUint32 {
		if e.err == nil {
			e.err = fmt.Errorf("quantity %d out of range", v)
		}
		v = 0
	}
	return binary.BigEndian.AppendUint32(dst, uint32(v))
}

func (e *encoder) time(dst []byte, t time.Time) []byte {
	var s int64
	if !t.IsZero() {
		s = t.Unix()
	}
	if s < 0 || s > math.MaxUint32 {
		if e.err == nil {
			e.err = fmt.Errorf("time %v out of range", t)
		}
		s = 0
	}
	return binary.BigEndian.AppendUint32(dst, uint32(s))
}

package kite

import (
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/steadfast-go/steadfast/ticker"
	"github.com/steadfast-go/steadfast/ticker/internal/nse"
	"github.com/steadfast-go/steadfast/ticker/market"
)

// The columns of the broker's instrument dump. The columns are found by
// name, in any order; extra columns are ignored. exchange_token and
// last_price are optional (checked when present; exchange_token is kept in
// Instrument.ExchangeToken, last_price is not stored); the others are
// required.
const (
	colToken         = "instrument_token"
	colExchangeToken = "exchange_token"
	colSymbol        = "tradingsymbol"
	colName          = "name"
	colLastPrice     = "last_price"
	colExpiry        = "expiry"
	colStrike        = "strike"
	colTickSize      = "tick_size"
	colLotSize       = "lot_size"
	colType          = "instrument_type"
	colSegment       = "segment"
	colExchange      = "exchange"
)

// Column indexes; the first csvRequired are the required columns.
const (
	iToken = iota
	iSymbol
	iName
	iExpiry
	iStrike
	iTickSize
	iLotSize
	iType
	iSegment
	iExchange
	iExchangeToken
	iLastPrice
	nColumns

	csvRequired = iExchangeToken
)

// columnName returns the header name of column index i.
func columnName(i int) string {
	switch i {
	case iToken:
		return colToken
	case iSymbol:
		return colSymbol
	case iName:
		return colName
	case iExpiry:
		return colExpiry
	case iStrike:
		return colStrike
	case iTickSize:
		return colTickSize
	case iLotSize:
		return colLotSize
	case iType:
		return colType
	case iSegment:
		return colSegment
	case iExchange:
		return colExchange
	case iExchangeToken:
		return colExchangeToken
	case iLastPrice:
		return colLastPrice
	}
	return ""
}

// ErrBadHeader is returned by ParseInstruments when the dump's header is
// missing, lacks a required column or names a column twice.
var ErrBadHeader = errors.New("kite: bad instrument dump header")

// RowReason says why a row of an instrument dump was skipped. Its String form
// is short and stable.
type RowReason uint8

// The reasons a row is skipped.
const (
	RowFieldCount    RowReason = iota + 1 // the row does not have as many fields as the header
	RowSyntax                             // CSV syntax error, such as a stray quote
	RowBadToken                           // instrument_token empty, not a number, zero or above 4294967295
	RowMissingSymbol                      // tradingsymbol empty
	RowBadType                            // instrument_type not EQ, FUT, CE or PE
	RowBadExpiry                          // expiry not a valid YYYY-MM-DD date, or empty for a future or option
	RowBadStrike                          // strike not a decimal number, negative, or not positive for an option
	RowBadNumber                          // tick_size not a non-negative decimal, lot_size not an integer in [0, 2^31), last_price not a decimal, or exchange_token not below 2^24
	RowDuplicate                          // the token of a row already kept
	RowKeepPanic                          // ParseConfig.Keep panicked on the row
	RowTokenMismatch                      // instrument_token is not exchange_token<<8 | segment code
	RowTooLong                            // the row is longer than ParseConfig.MaxRowBytes
	RowBadText                            // tradingsymbol, name, segment or exchange holds a control or format character, or bytes that are not UTF-8
	rowReasons
)

// String returns the reason's name: "field_count", "syntax", "bad_token",
// "missing_symbol", "bad_type", "bad_expiry", "bad_strike", "bad_number",
// "duplicate", "keep_panic", "token_mismatch", "too_long" or "bad_text".
func (r RowReason) String() string {
	switch r {
	case RowFieldCount:
		return "field_count"
	case RowSyntax:
		return "syntax"
	case RowBadToken:
		return "bad_token"
	case RowMissingSymbol:
		return "missing_symbol"
	case RowBadType:
		return "bad_type"
	case RowBadExpiry:
		return "bad_expiry"
	case RowBadStrike:
		return "bad_strike"
	case RowBadNumber:
		return "bad_number"
	case RowDuplicate:
		return "duplicate"
	case RowKeepPanic:
		return "keep_panic"
	case RowTokenMismatch:
		return "token_mismatch"
	case RowTooLong:
		return "too_long"
	case RowBadText:
		return "bad_text"
	}
	return "unknown"
}

// RowProblem is one skipped row.
type RowProblem struct {
	Line   int       // line of the input on which the row starts; the header is line 1
	Reason RowReason // why it was skipped
	// Detail says what was wrong, e.g. `strike "24k" is not a number`. It
	// quotes at most 64 bytes of a field, escaped (no control byte of the
	// input reaches it), and is at most 512 bytes long.
	Detail string
}

// String formats the problem as "line 7: bad_strike: strike "24k" is not a number".
func (p RowProblem) String() string {
	return "line " + strconv.Itoa(p.Line) + ": " + p.Reason.String() + ": " + p.Detail
}

// ParseReport accounts for every data row of a dump:
// Rows = Kept + Filtered + Skipped.
type ParseReport struct {
	Rows     int // data rows read (the header excluded)
	Kept     int // rows returned
	Filtered int // well-formed rows that ParseConfig.Keep declined
	Skipped  int // rows skipped for a problem; the sum of ByReason

	// ByReason counts the skipped rows by reason.
	ByReason map[RowReason]int
	// Problems lists the skipped rows in input order, at most
	// ParseConfig.MaxProblems of them.
	Problems []RowProblem
	// ProblemsOmitted counts the skipped rows not listed in Problems.
	ProblemsOmitted int
}

// String summarises the report in one line, e.g.
// "rows 12, kept 10, filtered 0, skipped 2 (bad_strike 1, duplicate 1)".
func (r ParseReport) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "rows %d, kept %d, filtered %d, skipped %d", r.Rows, r.Kept, r.Filtered, r.Skipped)
	if len(r.ByReason) > 0 {
		b.WriteString(" (")
		first := true
		for reason := RowReason(1); reason < rowReasons; reason++ {
			if n := r.ByReason[reason]; n > 0 {
				if !first {
					b.WriteString(", ")
				}
				first = false
				fmt.Fprintf(&b, "%s %d", reason, n)
			}
		}
		b.WriteString(")")
	}
	return b.String()
}

func (r *ParseReport) skip(line int, reason RowReason, detail string, maxProblems int) {
	r.Skipped++
	if r.ByReason == nil {
		r.ByReason = make(map[RowReason]int)
	}
	r.ByReason[reason]++
	if len(r.Problems) < maxProblems {
		r.Problems = append(r.Problems, RowProblem{Line: line, Reason: reason, Detail: capDetail(detail)})
	} else {
		r.ProblemsOmitted++
	}
}

// capDetail bounds a problem's detail to maxDetail bytes.
func capDetail(s string) string {
	if len(s) <= maxDetail {
		return s
	}
	return cutText(s, maxDetail-3) + "..."
}

// ParseConfig configures ParseInstruments. The zero value keeps every
// well-formed row of up to 4096 bytes and lists up to 1000 problems.
type ParseConfig struct {
	// Keep, when set, is called with each well-formed row; only the rows it
	// returns true for are kept (and checked for duplicate tokens). Memory
	// then grows with the kept rows only, so a caller that wants one
	// underlying's options out of a 100k-row dump pays for those alone.
	// Keep runs on the caller's goroutine; a panic in it is recovered and
	// the row is skipped with reason RowKeepPanic.
	Keep func(ticker.Instrument) bool
	// MaxProblems caps how many skipped rows Problems lists (the counts
	// continue). Default 1000; negative lists none; above 100000 is an
	// error. Each problem's Detail is at most 512 bytes, so the list stays
	// under about 60 MB at the maximum, whatever the input.
	MaxProblems int
	// MaxRowBytes caps the size of a row, the header included (its bytes
	// between line ends, quotes and commas counted). A longer row is read
	// to its end without being kept and skipped as RowTooLong, so memory
	// never follows the length of a line. Default 4096, some 30 times a
	// real dump's longest row; negative or above 1 MiB (1048576) is an
	// error.
	MaxRowBytes int
}

// Limits of ParseConfig.
const (
	defaultMaxProblems = 1000
	maxMaxProblems     = 100000
	defaultMaxRowBytes = 4096
	maxMaxRowBytes     = 1 << 20
)

// normalize returns cfg with its defaults applied, or an error naming the
// field that is out of range.
func (cfg ParseConfig) normalize() (ParseConfig, error) {
	switch {
	case cfg.MaxProblems > maxMaxProblems:
		return cfg, fmt.Errorf("kite: ParseConfig.MaxProblems must be at most %d, got %d", maxMaxProblems, cfg.MaxProblems)
	case cfg.MaxRowBytes < 0 || cfg.MaxRowBytes > maxMaxRowBytes:
		return cfg, fmt.Errorf("kite: ParseConfig.MaxRowBytes must be in [0, %d], got %d", maxMaxRowBytes, cfg.MaxRowBytes)
	}
	if cfg.MaxProblems == 0 {
		cfg.MaxProblems = defaultMaxProblems
	}
	if cfg.MaxRowBytes == 0 {
		cfg.MaxRowBytes = defaultMaxRowBytes
	}
	return cfg, nil
}

// ParseInstruments reads the broker's CSV instrument dump from r, streaming
// it row by row. The first row is the header; columns are found by name
// (case-insensitive, surrounding spaces and a UTF-8 byte-order mark
// ignored). A row that cannot be parsed is skipped and listed in the
// report with its line number and reason, and a row whose token repeats a
// kept row's is skipped as RowDuplicate (the first one stays; duplicates are
// found once the input is read); no single row makes the call fail.
//
// The input is untrusted. A row longer than ParseConfig.MaxRowBytes is
// skipped (RowTooLong) without being held, so memory follows the kept rows,
// never the length of a line. Numbers must be decimal: Go's hexadecimal
// floats ("0x1p4"), "Inf", "NaN", signs other than a price's minus and
// underscores are refused. Text fields (tradingsymbol, name, segment,
// exchange) must be UTF-8 without control or format characters, so no
// terminal escape or invisible character reaches a symbol (RowBadText).
//
// How a row becomes an Instrument: instrument_type EQ is an equity, or an
// index when segment is INDICES; FUT, CE and PE are futures, calls and puts
// and need an expiry. Underlying is the name column (the trading symbol
// when name is empty), except for an index that has derivatives, whose
// Underlying is the name its derivatives carry (IndexUnderlying: the row
// "NIFTY 50" gets "NIFTY"), so that SelectChain's underlying finds its index
// too. Expiry is the instant trading ends: 15:30 IST on the given date, the
// close of NSE's and BSE's derivatives, for every exchange (the dump carries
// the date only; the later closes of MCX and CDS are not modelled). ExchangeToken is the
// exchange_token column; when both it and the segment code (SegmentCode) are
// known, the row's instrument_token must be exchange_token<<8 | code, or the
// row is skipped as RowTokenMismatch. last_price is checked, not kept; it
// may be negative, as a commodity future's price may be.
//
// ParseInstruments returns an error only when cfg is out of range (naming
// the field), when the header is missing or lacks a required column
// (wrapping ErrBadHeader) or when reading r fails; it then still returns the
// rows kept and the report up to that point.
func ParseInstruments(r io.Reader, cfg ParseConfig) ([]ticker.Instrument, ParseReport, error) {
	cfg, err := cfg.normalize()
	if err != nil {
		return nil, ParseReport{}, err
	}
	rr := newRowReader(r, cfg.MaxRowBytes)
	var cols [nColumns]int
	width, err := readHeader(rr, &cols)
	if err != nil {
		return nil, ParseReport{}, err
	}
	d := dumpParser{
		maxProblems: cfg.MaxProblems,
		p:           rowParser{cols: cols, loc: market.IST(), width: width},
	}
	var (
		kept    chunks
		lines   []int // line of each kept row
		readErr error
	)
	for {
		row, err := rr.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			readErr = fmt.Errorf("kite: reading instrument dump: %w", err)
			break
		}
		d.rep.Rows++
		if in, ok := d.take(row, cfg.Keep); ok {
			kept.add(in)
			lines = append(lines, row.line)
		}
	}
	out := dropDuplicates(kept.slice(), lines, &d.rep, d.maxProblems)
	d.rep.Kept = len(out)
	return out, d.rep, readErr
}

// dumpParser decides the rows of one ParseInstruments call past the
// header, and reports them.
type dumpParser struct {
	maxProblems int
	p           rowParser
	share       sharer
	rep         ParseReport
}

// take decides one row: it returns the row's Instrument and true when the
// row is kept; false when it is skipped for a problem or filtered out by
// keep. (Keep is not stored in d, so that it does not escape.)
func (d *dumpParser) take(row row, keep func(ticker.Instrument) bool) (ticker.Instrument, bool) {
	if row.reason != 0 {
		d.rep.skip(row.line, row.reason, row.detail, d.maxProblems)
		return ticker.Instrument{}, false
	}
	in, reason, detail := d.p.parse(row.fields)
	if reason != 0 {
		d.rep.skip(row.line, reason, detail, d.maxProblems)
		return ticker.Instrument{}, false
	}
	if !d.keep(row.line, keep, in) {
		return ticker.Instrument{}, false
	}
	return d.detach(in), true
}

// keep reports whether keep, if not nil, keeps in, counting the rows it
// filters out and skipping the row when it panics.
func (d *dumpParser) keep(line int, keep func(ticker.Instrument) bool, in ticker.Instrument) bool {
	if keep == nil {
		return true
	}
	ok, perr := callKeep(keep, in)
	if perr != "" {
		d.rep.skip(line, RowKeepPanic, perr, d.maxProblems)
		return false
	}
	if !ok {
		d.rep.Filtered++
	}
	return ok
}

// detach returns in with its strings detached from the row's buffer,
// sharing the repetitive ones, so memory follows the kept rows only.
func (d *dumpParser) detach(in ticker.Instrument) ticker.Instrument {
	in.Symbol = strings.Clone(in.Symbol)
	if in.Kind == ticker.KindEquity || in.Kind == ticker.KindIndex {
		in.Underlying = strings.Clone(in.Underlying) // a company's own name: rarely repeated
	} else {
		in.Underlying = d.share.get(0, in.Underlying)
	}
	in.Exchange = d.share.get(1, in.Exchange)
	in.Segment = d.share.get(2, in.Segment)
	return in
}

// readHeader reads the header row and finds the known columns in it; it
// returns the number of columns.
func readHeader(rr *rowReader, cols *[nColumns]int) (int, error) {
	row, err := rr.next()
	switch {
	case err == io.EOF:
		return 0, fmt.Errorf("%w: empty input", ErrBadHeader)
	case err != nil:
		return 0, fmt.Errorf("kite: reading instrument dump: %w", err)
	case row.reason != 0:
		return 0, fmt.Errorf("%w: line %d: %s", ErrBadHeader, row.line, row.detail)
	}
	if err := locateColumns(row.fields, cols); err != nil {
		return 0, err
	}
	return len(row.fields), nil
}

// dropDuplicates removes from out every row whose token an earlier row
// has, and reports it. Sorting the tokens once at the end is cheaper than a
// map probed on every row, and needs 8 bytes per kept row.
func dropDuplicates(out []ticker.Instrument, lines []int, rep *ParseReport, maxProblems int) []ticker.Instrument {
	if len(out) < 2 {
		return out
	}
	keys := make([]uint64, len(out)) // token, then index in out
	for i := range out {
		keys[i] = uint64(out[i].Token)<<32 | uint64(i)
	}
	slices.Sort(keys)
	var dups []duplicate
	first := 0
	for i := 1; i < len(keys); i++ {
		if keys[i]>>32 != keys[i-1]>>32 {
			first = i
			continue
		}
		dups = append(dups, duplicate{idx: int(uint32(keys[i])), first: int(uint32(keys[first]))})
	}
	if len(dups) == 0 {
		return out
	}
	slices.SortFunc(dups, func(a, b duplicate) int { return a.idx - b.idx })
	reportDuplicates(dups, out, lines, rep, maxProblems)
	return removeRows(out, dups)
}

// duplicate names a row of out (idx) that repeats the token of an earlier
// row (first).
type duplicate struct{ idx, first int }

// reportDuplicates counts dups in rep and merges them into its problems,
// which are in line order, capping the list again: only the first
// maxProblems of them can be listed.
func reportDuplicates(dups []duplicate, out []ticker.Instrument, lines []int, rep *ParseReport, maxProblems int) {
	found := make([]RowProblem, min(len(dups), max(maxProblems, 0)))
	for i, d := range dups[:len(found)] {
		found[i] = RowProblem{Line: lines[d.idx], Reason: RowDuplicate,
			Detail: "token " + strconv.FormatUint(uint64(out[d.idx].Token), 10) + " already on line " + strconv.Itoa(lines[d.first])}
	}
	merged := make([]RowProblem, 0, min(len(rep.Problems)+len(found), max(maxProblems, 0)))
	i, j := 0, 0
	for len(merged) < cap(merged) && (i < len(rep.Problems) || j < len(found)) {
		if j == len(found) || (i < len(rep.Problems) && rep.Problems[i].Line < found[j].Line) {
			merged = append(merged, rep.Problems[i])
			i++
		} else {
			merged = append(merged, found[j])
			j++
		}
	}
	rep.Skipped += len(dups)
	if rep.ByReason == nil {
		rep.ByReason = make(map[RowReason]int)
	}
	rep.ByReason[RowDuplicate] += len(dups)
	rep.Problems = merged
	rep.ProblemsOmitted = rep.Skipped - len(merged)
}

// removeRows removes the rows dups names from out, keeping the order.
func removeRows(out []ticker.Instrument, dups []duplicate) []ticker.Instrument {
	w, next := 0, 0
	for r := range out {
		if next < len(dups) && dups[next].idx == r {
			next++
			continue
		}
		out[w] = out[r]
		w++
	}
	clear(out[w:])
	return out[:w]
}

// chunks collects the kept rows in fixed-size blocks, then copies them once
// into a slice of the exact size: cheaper than growing one slice by
// doubling, and the result holds no spare capacity.
type chunks struct {
	full [][]ticker.Instrument
	cur  []ticker.Instrument
	n    int
}

const chunkLen = 1024

func (c *chunks) add(in ticker.Instrument) {
	if len(c.cur) == cap(c.cur) {
		if c.cur != nil {
			c.full = append(c.full, c.cur)
		}
		c.cur = make([]ticker.Instrument, 0, chunkLen)
	}
	c.cur = append(c.cur, in)
	c.n++
}

// slice returns the rows in order; nil if there are none.
func (c *chunks) slice() []ticker.Instrument {
	if c.n == 0 {
		return nil
	}
	out := make([]ticker.Instrument, 0, c.n)
	for _, f := range c.full {
		out = append(out, f...)
	}
	return append(out, c.cur...)
}

// sharer shares repeated strings among kept rows: dumps list thousands of
// contracts per underlying, exchange and segment, usually in runs.
type sharer struct {
	last [3]string
	m    map[string]string
}

// get returns a copy of s detached from the row's buffer, the same copy for
// equal strings. slot names the column, for the one-entry cache of runs.
func (sh *sharer) get(slot int, s string) string {
	if s == sh.last[slot] {
		return sh.last[slot]
	}
	v, ok := sh.m[s]
	if !ok {
		if sh.m == nil {
			sh.m = make(map[string]string)
		}
		v = strings.Clone(s)
		sh.m[v] = v
	}
	sh.last[slot] = v
	return v
}

// locateColumns finds the known columns in header.
func locateColumns(header []string, cols *[nColumns]int) error {
	for i := range cols {
		cols[i] = -1
	}
	for j, h := range header {
		if j == 0 {
			h = strings.TrimPrefix(h, "\ufeff")
		}
		h = strings.ToLower(strings.TrimSpace(h))
		i := -1
		for k := range nColumns {
			if columnName(k) == h {
				i = k
				break
			}
		}
		if i < 0 {
			continue
		}
		if cols[i] >= 0 {
			return fmt.Errorf("%w: column %q appears twice", ErrBadHeader, h)
		}
		cols[i] = j
	}
	for i := range csvRequired {
		if cols[i] < 0 {
			return fmt.Errorf("%w: no column %q", ErrBadHeader, columnName(i))
		}
	}
	return nil
}

// callKeep calls keep, turning a panic into a description.
func callKeep(keep func(ticker.Instrument) bool, in ticker.Instrument) (ok bool, panicked string) {
	defer func() {
		if v := recover(); v != nil {
			ok, panicked = false, fmt.Sprintf("Keep panicked: %v", v)
		}
	}()
	return keep(in), ""
}

// rowParser turns one record into an Instrument.
type rowParser struct {
	cols  [nColumns]int
	loc   *time.Location
	width int

	// The last expiry parsed: dumps list many rows per expiry.
	lastExpiry     string
	lastExpiryTime time.Time
}

func (p *rowParser) field(rec []string, i int) string {
	if p.cols[i] < 0 {
		return ""
	}
	return rec[p.cols[i]]
}

// parse returns the row's Instrument, or the reason and detail of its first
// problem. The checks run in a fixed order, so a row with several problems
// is always reported by the same one.
func (p *rowParser) parse(rec []string) (ticker.Instrument, RowReason, string) {
	var in ticker.Instrument
	if len(rec) != p.width {
		return in, RowFieldCount, "got " + strconv.Itoa(len(rec)) + " fields, want " + strconv.Itoa(p.width)
	}
	if reason, detail := p.names(rec, &in); reason != 0 {
		return in, reason, detail
	}
	if reason, detail := p.kind(rec, &in); reason != 0 {
		return in, reason, detail
	}
	if reason, detail := p.numbers(rec, &in); reason != 0 {
		return in, reason, detail
	}
	if reason, detail := p.exchangeToken(rec, &in); reason != 0 {
		return in, reason, detail
	}
	if in.Kind == ticker.KindIndex {
		if name, ok := market.IndexUnderlying(in.Symbol); ok {
			in.Underlying = name
		}
	}
	return in, 0, ""
}

// names sets in's token, symbol, exchange, segment and underlying from rec,
// or returns the reason and detail of the first problem: a token that is
// not a non-zero 32-bit number, an empty symbol, or text that may not be
// shown as it is.
func (p *rowParser) names(rec []string, in *ticker.Instrument) (RowReason, string) {
	s := p.field(rec, iToken)
	tok, err := strconv.ParseUint(s, 10, 32)
	if err != nil || tok == 0 {
		return RowBadToken, "instrument_token " + quoteField(s) + " is not a non-zero 32-bit number"
	}
	in.Token = uint32(tok)

	if in.Symbol = p.field(rec, iSymbol); in.Symbol == "" {
		return RowMissingSymbol, "tradingsymbol is empty"
	}
	for _, i := range [...]int{iSymbol, iName, iSegment, iExchange} {
		if s := p.field(rec, i); !textOK(s) {
			return RowBadText, columnName(i) + " " + quoteField(s) + " holds a control or format character, or bytes that are not UTF-8"
		}
	}
	in.Exchange = p.field(rec, iExchange)
	in.Segment = p.field(rec, iSegment)
	if in.Underlying = p.field(rec, iName); in.Underlying == "" {
		in.Underlying = in.Symbol
	}
	return 0, ""
}

// kind sets in's kind and expiry from rec, or returns the reason and detail
// of the first problem: an unknown instrument_type, an expiry that is not a
// date, or a future or option without one. An equity or index may carry an
// expiry; it is kept.
func (p *rowParser) kind(rec []string, in *ticker.Instrument) (RowReason, string) {
	switch t := p.field(rec, iType); t {
	case "EQ":
		in.Kind = ticker.KindEquity
		if in.Segment == "INDICES" {
			in.Kind = ticker.KindIndex
		}
	case "FUT":
		in.Kind = ticker.KindFuture
	case "CE":
		in.Kind = ticker.KindCall
	case "PE":
		in.Kind = ticker.KindPut
	default:
		return RowBadType, "instrument_type " + quoteField(t) + " is not EQ, FUT, CE or PE"
	}

	if s := p.field(rec, iExpiry); s != "" {
		exp, ok := p.expiry(s)
		if !ok {
			return RowBadExpiry, "expiry " + quoteField(s) + " is not a YYYY-MM-DD date"
		}
		in.Expiry = exp
	} else if in.Kind == ticker.KindFuture || in.Kind.IsOption() {
		return RowBadExpiry, "expiry is empty for a " + in.Kind.String()
	}
	return 0, ""
}

// numbers sets in's strike, tick size and lot size from rec and checks
// last_price, or returns the reason and detail of the first problem.
func (p *rowParser) numbers(rec []string, in *ticker.Instrument) (RowReason, string) {
	s := p.field(rec, iStrike)
	strike, ok := parseAmount(s, false)
	if !ok {
		return RowBadStrike, "strike " + quoteField(s) + " is not a finite non-negative decimal number"
	}
	if in.Kind.IsOption() && strike == 0 {
		return RowBadStrike, "strike is zero for a " + in.Kind.String()
	}
	in.Strike = strike

	s = p.field(rec, iTickSize)
	if in.TickSize, ok = parseAmount(s, false); !ok {
		return RowBadNumber, "tick_size " + quoteField(s) + " is not a finite non-negative decimal number"
	}
	s = p.field(rec, iLotSize)
	lot, err := strconv.ParseUint(s, 10, 31) // digits only: no sign, no prefix
	if s == "" {
		lot, err = 0, nil
	}
	if err != nil {
		return RowBadNumber, "lot_size " + quoteField(s) + " is not an integer in [0, 2^31)"
	}
	in.LotSize = int(lot)
	if p.cols[iLastPrice] >= 0 {
		if s = p.field(rec, iLastPrice); !optionalAmount(s) {
			return RowBadNumber, "last_price " + quoteField(s) + " is not a finite decimal number"
		}
	}
	return 0, ""
}

// exchangeToken sets in's exchange token from rec, when the dump has the
// column and the row a value, and checks that it agrees with the
// instrument token: when the segment code is known, the instrument token
// must be exchange_token<<8 | code.
func (p *rowParser) exchangeToken(rec []string, in *ticker.Instrument) (RowReason, string) {
	if p.cols[iExchangeToken] < 0 {
		return 0, ""
	}
	s := p.field(rec, iExchangeToken)
	if s == "" {
		return 0, ""
	}
	ex, err := strconv.ParseUint(s, 10, 32)
	if err != nil || ex > 0xFFFFFF {
		return RowBadNumber, "exchange_token " + quoteField(s) + " is not a number below 2^24"
	}
	in.ExchangeToken = uint32(ex)
	if seg := market.SegmentCode(in.Exchange, in.Segment); seg != 0 && ex != 0 && in.Token != in.ExchangeToken<<8|seg {
		return RowTokenMismatch, "instrument_token " + strconv.FormatUint(uint64(in.Token), 10) +
			" is not exchange_token " + s + "<<8 | segment code " + strconv.FormatUint(uint64(seg), 10)
	}
	return 0, ""
}

// expiry parses a YYYY-MM-DD date to the instant trading ends on it: 15:30
// IST.
func (p *rowParser) expiry(s string) (time.Time, bool) {
	if s == p.lastExpiry {
		return p.lastExpiryTime, true
	}
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return time.Time{}, false
	}
	y, ok1 := digits(s[0:4])
	m, ok2 := digits(s[5:7])
	d, ok3 := digits(s[8:10])
	if !ok1 || !ok2 || !ok3 || m < 1 || m > 12 || d < 1 || d > daysIn(time.Month(m), y) {
		return time.Time{}, false
	}
	t := nse.Civil(y, time.Month(m), d).At(nse.SessionClose, p.loc)
	p.lastExpiry, p.lastExpiryTime = s, t
	return t, true
}

func digits(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

func daysIn(m time.Month, y int) int {
	return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// parseAmount parses a finite decimal number, not negative unless signed;
// empty means zero.
func parseAmount(s string, signed bool) (float64, bool) {
	if s == "" {
		return 0, true
	}
	if !isDecimal(s, signed) {
		return 0, false
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || (v < 0 && !signed) || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, false
	}
	return v, true
}

// optionalAmount reports whether s is a price the dump may carry: empty, or
// a finite decimal, negative too.
func optionalAmount(s string) bool {
	_, ok := parseAmount(s, true)
	return ok
}

// MarshalText returns the reason's String form.
func (r RowReason) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// UnmarshalText sets r from its String form.
func (r *RowReason) UnmarshalText(b []byte) error {
	for v := RowFieldCount; v.String() != "unknown"; v++ {
		if v.String() == string(b) {
			*r = v
			return nil
		}
	}
	return fmt.Errorf("kite: unknown row reason %q", b)
}

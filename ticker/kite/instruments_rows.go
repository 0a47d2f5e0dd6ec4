package kite

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strconv"
	"unicode"
	"unicode/utf8"
)

// The CSV syntax errors, worded as encoding/csv words them.
const (
	errBareQuote = `bare " in non-quoted-field`
	errQuote     = `extraneous or missing " in quoted-field`
)

// rowReader reads the rows of a CSV file as encoding/csv reads them (RFC
// 4180: fields separated by commas, rows ended by \n or \r\n, a quoted field
// may hold commas, newlines and doubled quotes; empty lines are skipped),
// but holds at most max bytes of a row. A longer row is read to its end and
// reported, never kept, so a line of any length costs the reader's buffer
// and no more. Its memory is bounded by max and the read buffer.
type rowReader struct {
	br   *bufio.Reader
	max  int
	line int // physical lines consumed so far

	buf    []byte   // the current row's field bytes
	ends   []int    // where each field ends in buf
	fields []string // the last row's fields, reused

	// stops marks the bytes that end a run of field data: stops[0] in an
	// unquoted field (comma, quote, \r, \n), stops[1] in a quoted one
	// (quote, \r).
	stops [2][256]bool
}

// rowReadSize is the read buffer's size: large enough to read a dump in few
// calls, small enough to cost nothing beside one.
const rowReadSize = 64 << 10

func newRowReader(r io.Reader, max int) *rowReader { return newRowReaderSize(r, max, rowReadSize) }

// newRowReaderSize returns a rowReader whose read buffer holds size bytes
// (at least 16): tests use a small one to cut lines anywhere.
func newRowReaderSize(r io.Reader, max, size int) *rowReader {
	rr := &rowReader{br: bufio.NewReaderSize(r, size), max: max}
	for _, c := range []byte{',', '"', '\r', '\n'} {
		rr.stops[0][c] = true
	}
	rr.stops[1]['"'], rr.stops[1]['\r'] = true, true
	return rr
}

// The states of the row scanner.
const (
	stFieldStart = iota // at the start of a field
	stUnquoted          // in a field that did not start with a quote
	stQuoted            // in a quoted field
	stQuote             // just after a quote in a quoted field
	stSkipLine          // after a syntax error: up to the end of the line
)

// row is what next reads: a row's fields, or the reason it cannot be used.
type row struct {
	line   int      // the line the row starts on; the first is 1
	fields []string // valid until the next call
	reason RowReason
	detail string
}

// scan is the state of the row being read.
type scan struct {
	st      int
	started bool // the row has begun: an empty line has not
	raw     int  // the row's bytes so far
	tooLong bool
	syntax  string
	// pendingCR is set when the read buffer cut a line just after a \r:
	// whether it ends the line depends on the next byte, read next.
	pendingCR bool
}

// count adds n bytes to the row's size; past max, the row is too long and
// nothing more of it is kept.
func (r *rowReader) count(sc *scan, n int) {
	sc.raw += n
	if sc.raw > r.max && !sc.tooLong {
		sc.tooLong = true
		r.buf, r.ends = r.buf[:0], r.ends[:0]
	}
}

// take adds b to the field being read, unless the row is too long.
func (r *rowReader) take(sc *scan, b []byte) {
	r.count(sc, len(b))
	if !sc.tooLong {
		r.buf = append(r.buf, b...)
	}
}

// endField closes the field being read; sep counts the comma that ends it.
func (r *rowReader) endField(sc *scan, sep bool) {
	if sep {
		r.count(sc, 1)
	}
	if !sc.tooLong {
		r.ends = append(r.ends, len(r.buf))
	}
}

// next reads the next row. It returns io.EOF when the input ends before a
// row begins, or the reader's error; a row that is too long or breaks the
// syntax comes back with a reason and no fields.
func (r *rowReader) next() (row, error) {
	r.buf, r.ends = r.buf[:0], r.ends[:0]
	out := row{line: r.line + 1}
	sc := scan{st: stFieldStart}
	for {
		chunk, err := r.br.ReadSlice('\n')
		if sc.pendingCR {
			sc.pendingCR = false
			// A \r before \n, or at the end of the input, ends a line;
			// another is data.
			if !(len(chunk) > 0 && chunk[0] == '\n' || len(chunk) == 0 && err == io.EOF) {
				r.scanChunk(&sc, []byte{'\r'}, nil)
			}
		}
		if n := len(chunk); errors.Is(err, bufio.ErrBufferFull) && chunk[n-1] == '\r' {
			sc.pendingCR, chunk = true, chunk[:n-1]
		}
		if !sc.started && isEmptyLine(chunk, err) {
			r.line++ // an empty line is not a row
			out.line = r.line + 1
			chunk = nil
		}
		if len(chunk) > 0 {
			sc.started = true
		}
		if r.scanChunk(&sc, chunk, err) {
			r.line++
			return r.finish(out, &sc), nil
		}
		if len(chunk) > 0 && chunk[len(chunk)-1] == '\n' {
			r.line++ // a newline inside a quoted field
		}
		switch {
		case err == nil, errors.Is(err, bufio.ErrBufferFull):
			continue
		case err != io.EOF:
			return row{}, err
		case !sc.started:
			return row{}, io.EOF
		}
		// The input ends inside the row: it ends the row, unless a quote
		// is still open.
		switch sc.st {
		case stQuoted:
			sc.syntax = errQuote
		case stFieldStart, stUnquoted, stQuote:
			r.endField(&sc, false)
		}
		return r.finish(out, &sc), nil
	}
}

// scanChunk reads one chunk of a line (all of it, or up to the read
// buffer's size) into the row, and reports whether the row ended at the
// chunk's newline. err is the error that came with the chunk.
func (r *rowReader) scanChunk(sc *scan, chunk []byte, err error) (ended bool) {
	for i := 0; i < len(chunk); {
		if sc.st == stFieldStart {
			if n, ended := r.fastField(sc, chunk[i:]); n > 0 {
				if ended {
					return true
				}
				i += n
				continue
			}
		}
		if chunk[i] == '\r' && crlf(chunk, i, err) {
			i++ // \r\n ends a line as \n does
			continue
		}
		if n := r.run(sc, chunk[i:]); n > 0 {
			i += n
			continue
		}
		i++
		if r.step(sc, chunk[i-1:i]) {
			return true
		}
	}
	return false
}

// run reads, in a field or a line being skipped, the leading bytes of b
// that change no state, and returns how many.
func (r *rowReader) run(sc *scan, b []byte) int {
	switch sc.st {
	case stSkipLine:
		n := bytes.IndexByte(b, '\n')
		if n < 0 {
			n = len(b)
		}
		r.count(sc, n)
		return n
	case stUnquoted, stQuoted:
		stops := &r.stops[0]
		if sc.st == stQuoted {
			stops = &r.stops[1]
		}
		n := plainRun(b, stops)
		r.take(sc, b[:n])
		return n
	}
	return 0
}

// step reads one byte b[0] that may change the state, and reports whether
// it ended the row.
func (r *rowReader) step(sc *scan, b []byte) (ended bool) {
	c := b[0]
	switch sc.st {
	case stFieldStart:
		switch c {
		case '"':
			r.count(sc, 1)
			sc.st = stQuoted
		case ',':
			r.endField(sc, true)
		case '\n':
			r.endField(sc, false)
			return true
		default: // a lone \r starts an unquoted field
			sc.st = stUnquoted
			r.take(sc, b)
		}
	case stUnquoted:
		switch c {
		case ',':
			r.endField(sc, true)
			sc.st = stFieldStart
		case '\n':
			r.endField(sc, false)
			return true
		case '"':
			sc.syntax, sc.st = errBareQuote, stSkipLine
		default: // a lone \r is data
			r.take(sc, b)
		}
	case stQuoted: // a quote, or a lone \r
		if c == '"' {
			r.count(sc, 1)
			sc.st = stQuote
		} else {
			r.take(sc, b)
		}
	case stQuote:
		switch c {
		case '"':
			r.take(sc, b)
			sc.st = stQuoted
		case ',':
			r.endField(sc, true)
			sc.st = stFieldStart
		case '\n':
			r.endField(sc, false)
			return true
		default:
			sc.syntax, sc.st = errQuote, stSkipLine
		}
	case stSkipLine: // the newline
		return true
	}
	return false
}

// fastField reads, at the start of a field, a field of the common kinds in
// a few scans: unquoted without quote or \r, or quoted without doubled
// quote or \r, ended by a comma or the line's end within b. It returns the
// bytes it read and whether the row ended, or 0 to leave the field to the
// byte-by-byte scan.
func (r *rowReader) fastField(sc *scan, b []byte) (n int, ended bool) {
	if len(b) > 0 && b[0] == '"' {
		q := bytes.IndexByte(b[1:], '"')
		if q < 0 || 2+q >= len(b) {
			return 0, false
		}
		field, after := b[1:1+q], b[2+q:]
		if bytes.IndexByte(field, '\r') >= 0 {
			return 0, false
		}
		var sep bool
		switch {
		case after[0] == ',':
			sep = true
		case after[0] == '\n':
		case after[0] == '\r' && len(after) > 1 && after[1] == '\n':
		default:
			return 0, false // a doubled quote, or a syntax error
		}
		r.take(sc, field)
		r.count(sc, 2)
		r.endField(sc, sep)
		if sep {
			return 3 + q, false
		}
		return len(b), true
	}
	k := bytes.IndexByte(b, ',')
	end := k
	if k < 0 {
		if len(b) == 0 || b[len(b)-1] != '\n' {
			return 0, false // the line goes on past b
		}
		end = len(b) - 1
		if end > 0 && b[end-1] == '\r' {
			end--
		}
	}
	field := b[:end]
	if bytes.IndexByte(field, '"') >= 0 || bytes.IndexByte(field, '\r') >= 0 {
		return 0, false
	}
	r.take(sc, field)
	if k >= 0 {
		r.endField(sc, true)
		return k + 1, false
	}
	r.endField(sc, false)
	return len(b), true
}

// plainRun returns the length of b's leading run of bytes not in stops.
func plainRun(b []byte, stops *[256]bool) int {
	for j, c := range b {
		if stops[c] {
			return j
		}
	}
	return len(b)
}

// crlf reports whether the \r at chunk[i] ends a line: it is followed by
// \n, or it is the input's last byte, which encoding/csv drops too. (A \r
// at the end of a chunk the read buffer cut is held back by next.)
func crlf(chunk []byte, i int, err error) bool {
	if i+1 < len(chunk) {
		return chunk[i+1] == '\n'
	}
	return err == io.EOF
}

// isEmptyLine reports whether a whole line read by ReadSlice is empty: a
// line end alone, or a \r alone at the end of the input.
func isEmptyLine(b []byte, err error) bool {
	switch len(b) {
	case 1:
		return b[0] == '\n' || b[0] == '\r' && err == io.EOF
	case 2:
		return b[0] == '\r' && b[1] == '\n'
	}
	return false
}

// finish fills out with the row's fields, or the reason it is refused.
func (r *rowReader) finish(out row, sc *scan) row {
	switch {
	case sc.tooLong:
		out.reason, out.detail = RowTooLong, "row longer than "+strconv.Itoa(r.max)+" bytes"
		return out
	case sc.syntax != "":
		out.reason, out.detail = RowSyntax, sc.syntax
		return out
	}
	s := string(r.buf) // one allocation per row; the fields share it
	r.fields = r.fields[:0]
	start := 0
	for _, end := range r.ends {
		r.fields = append(r.fields, s[start:end])
		start = end
	}
	out.fields = r.fields
	return out
}

// textOK reports whether s is text a symbol, name, segment or exchange may
// hold: valid UTF-8 of graphic characters (letters, marks, numbers,
// punctuation, symbols and spaces). Control characters (C0, DEL, C1: the
// bytes of an ANSI escape), format characters such as a right-to-left
// override, and line or paragraph separators are refused.
func textOK(s string) bool {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == 0x7F {
				return false
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 || !unicode.IsGraphic(r) {
			return false
		}
		i += n
	}
	return true
}

// isDecimal reports whether s is a decimal number as a dump writes one:
// digits with an optional fraction and exponent ("24000", "0.05", "1e-05",
// ".5"), and a leading minus when signed. Go's other float syntaxes that
// strconv.ParseFloat accepts are refused: hexadecimal ("0x1p4"), "Inf",
// "NaN", underscores, a plus sign, spaces.
func isDecimal(s string, signed bool) bool {
	i := 0
	if signed && i < len(s) && s[i] == '-' {
		i++
	}
	digits := 0
	for ; i < len(s) && '0' <= s[i] && s[i] <= '9'; i++ {
		digits++
	}
	if i < len(s) && s[i] == '.' {
		for i++; i < len(s) && '0' <= s[i] && s[i] <= '9'; i++ {
			digits++
		}
	}
	if digits == 0 {
		return false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		exp := 0
		for ; i < len(s) && '0' <= s[i] && s[i] <= '9'; i++ {
			exp++
		}
		if exp == 0 {
			return false
		}
	}
	return i == len(s)
}

// maxQuoted bounds how much of a field a problem's detail quotes, and
// maxDetail the detail itself.
const (
	maxQuoted = 64
	maxDetail = 512
)

// quoteField quotes s for a problem's detail: at most maxQuoted of its
// bytes, escaped by strconv.Quote (no control byte passes), with its length
// when it is cut.
func quoteField(s string) string {
	if len(s) <= maxQuoted {
		return strconv.Quote(s)
	}
	return strconv.Quote(cutText(s, maxQuoted)) + "... (" + strconv.Itoa(len(s)) + " bytes)"
}

// cutText returns at most n bytes of s, cut at a character boundary.
func cutText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

package kite

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/steadfast-go/steadfast/ticker"
	"github.com/stretchr/testify/require"
)

// repeatReader yields head, then n bytes of fill, then tail, without
// holding them: a hostile input of any size in constant memory.
type repeatReader struct {
	head, tail string
	fill       byte
	n          int64
	pos        int64
}

func (r *repeatReader) Read(p []byte) (int, error) {
	total := int64(len(r.head)) + r.n + int64(len(r.tail))
	if r.pos >= total {
		return 0, io.EOF
	}
	i := 0
	for i < len(p) && r.pos < total {
		switch {
		case r.pos < int64(len(r.head)):
			p[i] = r.head[r.pos]
		case r.pos < int64(len(r.head))+r.n:
			p[i] = r.fill
		default:
			p[i] = r.tail[r.pos-int64(len(r.head))-r.n]
		}
		i++
		r.pos++
	}
	return i, nil
}

// allocated returns the bytes f allocates.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestParseInstrumentsHugeLine: a 100 MB line once allocated about 850 MiB
// in passing. Lines are read through a bounded reader: the row is skipped,
// the rows after it kept, and the parse allocates a small constant.
func TestParseInstrumentsHugeLine(t *testing.T) {
	const size = 100 << 20
	var (
		ins []string
		rep ParseReport
		err error
	)
	alloc := allocated(func() {
		r := &repeatReader{
			head: dumpHeader + "408065,1594,INFY,INFOSYS,0,,0,0.05,1,EQ,NSE,NSE\n" + "738561,2885,RELIANCE,",
			fill: 'R',
			n:    size,
			tail: ",0,,0,0.05,1,EQ,NSE,NSE\n2953217,11536,TCS,TCS,0,,0,0.05,1,EQ,NSE,NSE\n",
		}
		var got []ticker.Instrument
		got, rep, err = ParseInstruments(r, ParseConfig{})
		ins = symbols(got)
	})
	require.NoError(t, err)
	t.Logf("a %d MiB line: %.1f MiB allocated", size>>20, float64(alloc)/(1<<20))
	require.Less(t, alloc, uint64(16<<20), "the parse allocates a bounded amount, not the line")
	require.Equal(t, []string{"INFY", "TCS"}, ins)
	require.Equal(t, 3, rep.Rows)
	require.Equal(t, 1, rep.Skipped)
	require.Equal(t, 3, rep.Problems[0].Line)
}

// TestParseInstrumentsHostileReport: 97 MiB of hostile rows once left
// 390 MiB of problem details in the report (4× the input: each detail
// quoted its whole field, escaped). Rows longer than MaxRowBytes are not
// quoted at all, and a detail quotes at most 64 bytes of a field, so the
// report stays small whatever the input.
func TestParseInstrumentsHostileReport(t *testing.T) {
	const rows, field = 1000, 100 << 10
	row := strings.Repeat("\x01", field) + ",1,A,A,0,,0,0.05,1,EQ,NSE,NSE\n"
	for _, tt := range []struct {
		maxRow int
		reason RowReason
	}{
		{0, RowTooLong},        // the default, 4096 bytes
		{1 << 20, RowBadToken}, // rows within the cap: the detail is cut
	} {
		pr, pw := io.Pipe()
		go func() {
			_, _ = pw.Write([]byte(dumpHeader))
			for range rows {
				if _, err := pw.Write([]byte(row)); err != nil {
					return
				}
			}
			_ = pw.Close()
		}()
		ins, rep, err := ParseInstruments(pr, ParseConfig{MaxRowBytes: tt.maxRow})
		require.NoError(t, err)
		require.Empty(t, ins)
		require.Equal(t, rows, rep.Rows)
		require.Equal(t, map[RowReason]int{tt.reason: rows}, rep.ByReason)
		require.Len(t, rep.Problems, rows, "every problem listed: not more than MaxProblems")
		var detail int
		for i, p := range rep.Problems {
			require.Equal(t, i+2, p.Line)
			detail += len(p.Detail)
		}
		t.Logf("MaxRowBytes %d: %.1f MiB of rows, %d bytes of problem details (%s)", tt.maxRow,
			float64(rows*len(row))/(1<<20), detail, rep.Problems[0].Detail)
		require.Less(t, detail, 1<<20, "details are capped")
	}
}

// TestParseInstrumentsRefusesHexFloats: strconv.ParseFloat reads Go's
// hexadecimal floats, so "0x1p4" once became a strike of 16. Numbers in a
// dump are decimal.
func TestParseInstrumentsRefusesHexFloats(t *testing.T) {
	good := "13240578,51721,NIFTY25DEC24200CE,NIFTY,0,2025-12-30,24200,0.05,75,CE,NFO-OPT,NFO"
	for _, tt := range []struct {
		name, row string
		reason    RowReason
	}{
		{"hex strike", strings.Replace(good, ",24200,", ",0x1p4,", 1), RowBadStrike},
		{"hex mantissa", strings.Replace(good, ",24200,", ",0x5E9C,", 1), RowBadStrike},
		{"hex tick size", strings.Replace(good, ",0.05,", ",0x1p-4,", 1), RowBadNumber},
		{"hex last price", strings.Replace(good, ",0,2025", ",0x10,2025", 1), RowBadNumber},
		{"infinity", strings.Replace(good, ",24200,", ",infinity,", 1), RowBadStrike},
		{"underscores", strings.Replace(good, ",24200,", ",24_200,", 1), RowBadStrike},
		{"signed lot", strings.Replace(good, ",75,", ",+75,", 1), RowBadNumber},
		{"spaced strike", strings.Replace(good, ",24200,", ", 24200,", 1), RowBadStrike},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ins, rep, err := ParseInstruments(strings.NewReader(dumpHeader+tt.row+"\n"), ParseConfig{})
			require.NoError(t, err)
			require.Empty(t, ins, "%+v", ins)
			require.Len(t, rep.Problems, 1)
			require.Equal(t, tt.reason, rep.Problems[0].Reason, rep.Problems[0].String())
			require.Equal(t, 2, rep.Problems[0].Line)
		})
	}
}

// TestParseInstrumentsRefusesControlBytes: control bytes and ANSI escapes
// once passed into symbols, where a log or a terminal would act on them.
func TestParseInstrumentsRefusesControlBytes(t *testing.T) {
	good := "408065,1594,INFY,INFOSYS,0,,0,0.05,1,EQ,NSE,NSE"
	for _, tt := range []struct{ name, row string }{
		{"ANSI escape in the symbol", strings.Replace(good, "INFY", "INFY\x1b[31m", 1)},
		{"NUL in the name", strings.Replace(good, "INFOSYS", "INFO\x00SYS", 1)},
		{"DEL in the exchange", strings.Replace(good, ",NSE,NSE", ",NSE,NS\x7fE", 1)},
		{"C1 CSI in the segment", strings.Replace(good, ",NSE,NSE", ",NS\u009bE,NSE", 1)},
		{"raw 8-bit CSI", strings.Replace(good, "INFY", "INFY\x9b31m", 1)},
		{"invalid UTF-8", strings.Replace(good, "INFY", "IN\xffFY", 1)},
		{"right-to-left override", strings.Replace(good, "INFY", "IN\u202eFY", 1)},
		{"tab", strings.Replace(good, "INFOSYS", "INFO\tSYS", 1)},
		{"newline in a quoted name", strings.Replace(good, "INFOSYS", "\"INFO\nSYS\"", 1)},
		{"carriage return", strings.Replace(good, "INFY", "IN\rFY", 1)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ins, rep, err := ParseInstruments(strings.NewReader(dumpHeader+tt.row+"\n2953217,11536,TCS,TCS,0,,0,0.05,1,EQ,NSE,NSE\n"), ParseConfig{})
			require.NoError(t, err)
			require.Equal(t, []string{"TCS"}, symbols(ins))
			require.Len(t, rep.Problems, 1)
			require.Equal(t, 2, rep.Problems[0].Line)
			require.NotContains(t, rep.Problems[0].Detail, "\x1b", "the detail quotes the field safely")
		})
	}
	// Non-ASCII text that is printable stays.
	ins, rep, err := ParseInstruments(strings.NewReader(dumpHeader+strings.Replace(good, "INFOSYS", "INFOSYS ₹ LTD", 1)+"\n"), ParseConfig{})
	require.NoError(t, err)
	require.Zero(t, rep.Skipped)
	require.Equal(t, "INFOSYS ₹ LTD", ins[0].Underlying)
}

// csvRows reads data with encoding/csv as ParseInstruments once did, into
// one line per row: its start line and fields, or its syntax error.
func csvRows(data []byte) []string {
	cr := csv.NewReader(bytes.NewReader(data))
	cr.FieldsPerRecord = -1
	var out []string
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return out
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			out = append(out, fmt.Sprintf("%d: syntax: %v", pe.StartLine, pe.Err))
			continue
		}
		if err != nil {
			return append(out, "error: "+err.Error())
		}
		line, _ := cr.FieldPos(0)
		out = append(out, fmt.Sprintf("%d: %q", line, rec))
	}
}

// ourRows reads data with the bounded row reader, in csvRows's form, with
// a read buffer of size bytes.
func ourRows(data []byte, max, size int) []string {
	rr := newRowReaderSize(bytes.NewReader(data), max, size)
	var out []string
	for {
		row, err := rr.next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			return append(out, "error: "+err.Error())
		}
		switch row.reason {
		case RowSyntax:
			out = append(out, fmt.Sprintf("%d: syntax: %s", row.line, row.detail))
		case RowTooLong:
			out = append(out, fmt.Sprintf("%d: too long", row.line))
		default:
			out = append(out, fmt.Sprintf("%d: %q", row.line, row.fields))
		}
	}
}

// FuzzRowReader checks the bounded row reader against encoding/csv: the
// same rows, fields, lines and syntax errors, for any input whose rows fit
// in the bound; and with a small bound, rows are cut, never their
// neighbours.
func FuzzRowReader(f *testing.F) {
	for _, s := range []string{
		dumpHeader + "1,2,A,B,0,,0,0.05,1,EQ,NSE,NSE\n",
		"a,b\r\n\r\nc,\"d\"\"e\",\"f\ng\"\n,\n",
		"a,\"b\r\nc\"\r\nd\r",
		"a\"b,c\nd,e\n",
		"\"a\"x,b\nc\n",
		"\"a,b\nc",
		"a,b\r",
		"\r",
		"\n\n\"\"\n",
		"x\ry,\"\r\"\n",
		"0123456789abcde\r\n0123456789abcd\r\n\"0123456789abcd\r\nx\"\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		want := csvRows(data)
		require.Equal(t, want, ourRows(data, 1<<20, rowReadSize), "input %q", data)
		// A read buffer of 16 bytes cuts lines anywhere, \r\n too.
		require.Equal(t, want, ourRows(data, 1<<20, 16), "input %q, 16-byte buffer", data)

		// With a bound of 8 bytes, a row is either as csv reads it or
		// too long, on the same line.
		small := ourRows(data, 8, 16)
		require.Len(t, small, len(want), "input %q", data)
		for i := range small {
			if strings.HasSuffix(small[i], ": too long") {
				require.True(t, strings.HasPrefix(want[i], strings.TrimSuffix(small[i], "too long")), "row %d of %q: %s, want %s", i, data, small[i], want[i])
				continue
			}
			require.Equal(t, want[i], small[i], "input %q", data)
		}
	})
}

func TestParseConfigLimits(t *testing.T) {
	for _, tt := range []struct {
		cfg   ParseConfig
		field string
	}{
		{ParseConfig{MaxRowBytes: -1}, "kite: ParseConfig.MaxRowBytes must be in [0, 1048576], got -1"},
		{ParseConfig{MaxRowBytes: 1<<20 + 1}, "kite: ParseConfig.MaxRowBytes"},
		{ParseConfig{MaxProblems: 100001}, "kite: ParseConfig.MaxProblems must be at most 100000"},
	} {
		ins, _, err := ParseInstruments(strings.NewReader(dumpHeader), tt.cfg)
		require.ErrorContains(t, err, tt.field)
		require.NotErrorIs(t, err, ErrBadHeader)
		require.Nil(t, ins)
	}

	// A row of MaxRowBytes bytes is kept, one byte longer is too long; so
	// is a header. Line ends do not count.
	header := strings.TrimSuffix(dumpHeader, "\n")
	max := len(header)
	fit := func(ex, extra int) string {
		row := strconv.Itoa(ex<<8|1) + "," + strconv.Itoa(ex) + ",INFY,INFOSYS,0,,0,0.05,1,EQ,NSE,NSE"
		return strings.Replace(row, "INFOSYS", "INFOSYS"+strings.Repeat("X", max-len(row)+extra), 1)
	}
	in := header + "\r\n" + fit(1, 0) + "\r\n" + fit(2, 1) + "\n" + fit(3, 0) + "\n"
	_, rep, err := ParseInstruments(strings.NewReader(in), ParseConfig{MaxRowBytes: max})
	require.NoError(t, err)
	require.Equal(t, 2, rep.Kept)
	require.Equal(t, []RowProblem{{Line: 3, Reason: RowTooLong, Detail: "row longer than 127 bytes"}}, rep.Problems)
	_, _, err = ParseInstruments(strings.NewReader(in), ParseConfig{MaxRowBytes: max - 1})
	require.ErrorIs(t, err, ErrBadHeader)
	require.ErrorContains(t, err, "line 1: row longer than 126 bytes")

}

package kite

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/steadfast-go/steadfast/ticker"
	"github.com/steadfast-go/steadfast/ticker/market"
	"github.com/stretchr/testify/require"
)

const dumpHeader = "instrument_token,exchange_token,tradingsymbol,name,last_price,expiry,strike,tick_size,lot_size,instrument_type,segment,exchange\n"

// ymd returns midnight IST on y-m-d.
func ymd(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, market.IST()) }

// ymdhms returns hh:mm:ss IST on y-m-d.
func ymdhms(y int, m time.Month, d, hh, mm, ss int) time.Time {
	return time.Date(y, m, d, hh, mm, ss, 0, market.IST())
}

// symbols returns the trading symbols of ins, in order.
func symbols(ins []ticker.Instrument) []string {
	out := make([]string, len(ins))
	for i, in := range ins {
		out[i] = in.Symbol
	}
	return out
}

func parseFile(t *testing.T, name string, cfg ParseConfig) ([]ticker.Instrument, ParseReport) {
	t.Helper()
	f, err := os.Open(name)
	require.NoError(t, err)
	defer f.Close()
	ins, rep, err := ParseInstruments(f, cfg)
	require.NoError(t, err)
	return ins, rep
}

func TestParseInstrumentsFixture(t *testing.T) {
	ins, rep := parseFile(t, "testdata/instruments.csv", ParseConfig{})
	require.Equal(t, ParseReport{Rows: 47, Kept: 47}, rep)
	require.Len(t, ins, 47)

	kinds := map[ticker.Kind]int{}
	for _, in := range ins {
		kinds[in.Kind]++
	}
	require.Equal(t, map[ticker.Kind]int{ticker.KindIndex: 3, ticker.KindEquity: 4, ticker.KindFuture: 4, ticker.KindCall: 18, ticker.KindPut: 18}, kinds)

	// The index row gets its derivatives' underlying (IndexUnderlying).
	require.Equal(t, ticker.Instrument{Token: 256265, ExchangeToken: 1001, Symbol: "NIFTY 50", Exchange: "NSE", Segment: "INDICES",
		Underlying: "NIFTY", Kind: ticker.KindIndex}, ins[0])
	require.Equal(t, "BANKNIFTY", ins[1].Underlying)
	require.Equal(t, "FINNIFTY", ins[2].Underlying)
	require.Equal(t, ticker.Instrument{Token: 738561, ExchangeToken: 2885, Symbol: "RELIANCE", Exchange: "NSE", Segment: "NSE",
		Underlying: "RELIANCE INDUSTRIES", Kind: ticker.KindEquity, LotSize: 1, TickSize: 0.1}, ins[3])

	byName := map[string]ticker.Instrument{}
	for _, in := range ins {
		byName[in.Symbol] = in
	}
	fut := byName["NIFTY26DECFUT"]
	require.Equal(t, ticker.KindFuture, fut.Kind)
	require.Equal(t, "NIFTY", fut.Underlying)
	require.True(t, ymdhms(2026, 12, 29, 15, 30, 0).Equal(fut.Expiry), fut.Expiry.String())
	require.Equal(t, 0.1, fut.TickSize)
	require.Equal(t, 65, fut.LotSize)
	require.Equal(t, 0.2, byName["BANKNIFTY26DECFUT"].TickSize)
	sensex := byName["SENSEX26DECFUT"]
	require.Equal(t, "BFO", sensex.Exchange)
	require.Equal(t, sensex.ExchangeToken<<8|5, sensex.Token)

	ce := byName["NIFTY26D0825950CE"] // strike written "25950.0"
	require.Equal(t, ticker.KindCall, ce.Kind)
	require.Equal(t, 25950.0, ce.Strike)
	require.Equal(t, 65, ce.LotSize)
	require.Equal(t, ce.ExchangeToken<<8|2, ce.Token)
	require.Equal(t, "NFO-OPT", ce.Segment)
	require.Equal(t, "NFO", ce.Exchange)
	require.True(t, ymdhms(2026, 12, 8, 15, 30, 0).Equal(ce.Expiry))

	// The parsed dump feeds chain selection.
	chain := market.SelectChain(ins, "NIFTY", 26010, ymdhms(2026, 12, 3, 9, 30, 0), 2, 1)
	require.Equal(t, []string{
		"NIFTY26D0825950CE", "NIFTY26D0825950PE", "NIFTY26D0826000CE", "NIFTY26D0826000PE",
		"NIFTY26D0826050CE", "NIFTY26D0826050PE",
		"NIFTY26DEC25950CE", "NIFTY26DEC25950PE", "NIFTY26DEC26000CE", "NIFTY26DEC26000PE",
		"NIFTY26DEC26050CE", "NIFTY26DEC26050PE",
	}, symbols(chain))

	// The index is found by its derivatives' underlying, as in Universe.
	var idx []string
	for _, in := range ins {
		if in.Kind == ticker.KindIndex && in.Underlying == "NIFTY" {
			idx = append(idx, in.Symbol)
		}
	}
	require.Equal(t, []string{"NIFTY 50"}, idx)
}

func TestParseInstrumentsTokenMismatch(t *testing.T) {
	in := dumpHeader +
		"13235458,51701,NIFTY26DECFUT,NIFTY,0,2026-12-29,0,0.1,65,FUT,NFO-FUT,NFO\n" + // 51701<<8|2
		"13235459,51701,NIFTY26JANFUT,NIFTY,0,2027-01-26,0,0.1,65,FUT,NFO-FUT,NFO\n" + // low byte 3, not NFO's 2
		"13235714,51702,X,X,0,,0,0.05,1,EQ,NSE,SOMEWHERE\n" + // unknown exchange: not checked
		"99,16777216,Y,Y,0,,0,0.05,1,EQ,NSE,NSE\n" // exchange token above 24 bits
	ins, rep, err := ParseInstruments(strings.NewReader(in), ParseConfig{})
	require.NoError(t, err)
	require.Equal(t, []string{"NIFTY26DECFUT", "X"}, symbols(ins))
	require.Equal(t, uint32(51701), ins[0].ExchangeToken)
	require.Equal(t, 1, rep.ByReason[RowTokenMismatch])
	require.Equal(t, 1, rep.ByReason[RowBadNumber])
	require.Equal(t, 3, rep.Problems[0].Line)
}

func TestParseInstrumentsMalformed(t *testing.T) {
	ins, rep := parseFile(t, "testdata/instruments_malformed.csv", ParseConfig{})
	require.Equal(t, []string{"NIFTY 50", "RELIANCE", "NIFTY25DEC24200CE"}, symbols(ins))
	want := []struct {
		line   int
		reason RowReason
		detail string
	}{
		{4, RowFieldCount, "got 11 fields, want 12"},
		{5, RowSyntax, `bare " in non-quoted-field`},
		{6, RowBadToken, `instrument_token "12ab"`},
		{7, RowBadToken, `instrument_token "0"`},
		{8, RowMissingSymbol, "tradingsymbol is empty"},
		{9, RowBadType, `instrument_type "XX"`},
		{10, RowBadExpiry, `expiry "2025-12-31x"`},
		{11, RowBadExpiry, "expiry is empty for a call"},
		{12, RowBadStrike, `strike "24k"`},
		{13, RowBadNumber, `tick_size "-0.05"`},
		{14, RowDuplicate, "token 256265 already on line 2"},
	}
	require.Len(t, rep.Problems, len(want))
	for i, w := range want {
		p := rep.Problems[i]
		require.Equal(t, w.line, p.Line, "problem %d: %v", i, p)
		require.Equal(t, w.reason, p.Reason, "problem %d: %v", i, p)
		require.Contains(t, p.Detail, w.detail, "problem %d: %v", i, p)
	}
	require.Equal(t, 14, rep.Rows)
	require.Equal(t, 3, rep.Kept)
	require.Equal(t, 11, rep.Skipped)
	require.Equal(t, map[RowReason]int{
		RowFieldCount: 1, RowSyntax: 1, RowBadToken: 2, RowMissingSymbol: 1, RowBadType: 1,
		RowBadExpiry: 2, RowBadStrike: 1, RowBadNumber: 1, RowDuplicate: 1,
	}, rep.ByReason)
	require.Equal(t, "rows 14, kept 3, filtered 0, skipped 11 (field_count 1, syntax 1, bad_token 2, "+
		"missing_symbol 1, bad_type 1, bad_expiry 2, bad_strike 1, bad_number 1, duplicate 1)", rep.String())
	require.Equal(t, `line 12: bad_strike: strike "24k" is not a finite non-negative decimal number`, rep.Problems[8].String())
}

func TestParseInstrumentsRowProblems(t *testing.T) {
	good := "13240578,51721,NIFTY25DEC24200CE,NIFTY,0,2025-12-30,24200,0.05,75,CE,NFO-OPT,NFO"
	tests := []struct {
		name   string
		row    string
		reason RowReason
	}{
		{"good", good, 0},
		{"token above 32 bits", strings.Replace(good, "13240578", "4294967296", 1), RowBadToken},
		{"negative token", strings.Replace(good, "13240578", "-5", 1), RowBadToken},
		{"empty token", strings.Replace(good, "13240578", "", 1), RowBadToken},
		{"lower-case type", strings.Replace(good, ",CE,", ",ce,", 1), RowBadType},
		{"february 30", strings.Replace(good, "2025-12-30", "2025-02-30", 1), RowBadExpiry},
		{"month 13", strings.Replace(good, "2025-12-30", "2025-13-01", 1), RowBadExpiry},
		{"day-first date", strings.Replace(good, "2025-12-30", "30-12-2025", 1), RowBadExpiry},
		{"zero strike for an option", strings.Replace(good, ",24200,", ",0,", 1), RowBadStrike},
		{"NaN strike", strings.Replace(good, ",24200,", ",NaN,", 1), RowBadStrike},
		{"negative strike", strings.Replace(good, ",24200,", ",-24200,", 1), RowBadStrike},
		{"Inf tick size", strings.Replace(good, ",0.05,", ",Inf,", 1), RowBadNumber},
		{"fractional lot", strings.Replace(good, ",75,", ",7.5,", 1), RowBadNumber},
		{"negative lot", strings.Replace(good, ",75,", ",-75,", 1), RowBadNumber},
		{"bad last price", strings.Replace(good, ",0,2025", ",x,2025", 1), RowBadNumber},
		{"bad exchange token", strings.Replace(good, ",51721,", ",5a,", 1), RowBadNumber},
		{"future without expiry", "13238786,51714,NIFTY25DECFUT,NIFTY,0,,0,0.1,75,FUT,NFO-FUT,NFO", RowBadExpiry},
		{"too many fields", good + ",extra", RowFieldCount},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ins, rep, err := ParseInstruments(strings.NewReader(dumpHeader+tt.row+"\n"), ParseConfig{})
			require.NoError(t, err)
			if tt.reason == 0 {
				require.Len(t, ins, 1)
				require.Empty(t, rep.Problems)
				return
			}
			require.Empty(t, ins)
			require.Len(t, rep.Problems, 1)
			require.Equal(t, tt.reason, rep.Problems[0].Reason, rep.Problems[0].String())
			require.Equal(t, 2, rep.Problems[0].Line)
		})
	}
}

func TestParseInstrumentsHeader(t *testing.T) {
	row := "256265,1001,NIFTY 50,NIFTY 50,0,,0,0,0,EQ,INDICES,NSE\n"
	tests := []struct {
		name  string
		input string
		err   string // empty: parses
	}{
		{"empty input", "", "empty input"},
		{"missing column", strings.Replace(dumpHeader, ",strike", "", 1) + row, `no column "strike"`},
		{"repeated column", strings.Replace(dumpHeader, "exchange\n", "exchange,strike\n", 1) + row, `column "strike" appears twice`},
		{"broken header", "instrument_token,\"tradingsymbol\n", "kite: bad instrument dump header"},
		{"only a header", dumpHeader, ""},
		{"CRLF line ends", strings.ReplaceAll(dumpHeader+row, "\n", "\r\n"), ""},
		{"byte-order mark, spaces and upper case", "\ufeff" + strings.Replace(strings.ToUpper(dumpHeader), "NAME,", " name ,", 1) + row, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, rep, err := ParseInstruments(strings.NewReader(tt.input), ParseConfig{})
			if tt.err == "" {
				require.NoError(t, err)
				require.Zero(t, rep.Skipped)
				return
			}
			require.ErrorIs(t, err, ErrBadHeader)
			require.Contains(t, err.Error(), tt.err)
		})
	}

	// Columns are found by name: a reordered header without the optional
	// columns, with an extra one.
	in := "exchange,segment,instrument_type,lot_size,tick_size,strike,expiry,name,tradingsymbol,instrument_token,extra\n" +
		"NFO,NFO-OPT,PE,75,0.05,24000,2025-12-30,NIFTY,NIFTY25DEC24000PE,13240066,whatever\n"
	ins, rep, err := ParseInstruments(strings.NewReader(in), ParseConfig{})
	require.NoError(t, err)
	require.Equal(t, 1, rep.Kept)
	require.Equal(t, ticker.Instrument{Token: 13240066, Symbol: "NIFTY25DEC24000PE", Exchange: "NFO", Segment: "NFO-OPT",
		Underlying: "NIFTY", Kind: ticker.KindPut, Strike: 24000, Expiry: ins[0].Expiry, LotSize: 75, TickSize: 0.05}, ins[0])
	require.True(t, ymdhms(2025, 12, 30, 15, 30, 0).Equal(ins[0].Expiry))
}

func TestParseInstrumentsKeep(t *testing.T) {
	var seen int
	keep := func(in ticker.Instrument) bool {
		seen++
		return in.Underlying == "BANKNIFTY" && in.Kind.IsOption()
	}
	ins, rep := parseFile(t, "testdata/instruments.csv", ParseConfig{Keep: keep})
	require.Equal(t, 47, seen)
	require.Len(t, ins, 6)
	require.Equal(t, ParseReport{Rows: 47, Kept: 6, Filtered: 41}, rep)

	// Duplicates are looked for among kept rows only, so a filter that
	// drops the first occurrence keeps the second.
	in := dumpHeader +
		"256265,1001,NIFTY 50,NIFTY 50,0,,0,0,0,EQ,INDICES,NSE\n" +
		"256265,1001,NIFTY 50 AGAIN,NIFTY 50,0,,0,0,0,EQ,INDICES,NSE\n" +
		"256265,1001,NIFTY 50 THIRD,NIFTY 50,0,,0,0,0,EQ,INDICES,NSE\n"
	ins, rep, err := ParseInstruments(strings.NewReader(in), ParseConfig{Keep: func(in ticker.Instrument) bool { return in.Symbol != "NIFTY 50" }})
	require.NoError(t, err)
	require.Equal(t, []string{"NIFTY 50 AGAIN"}, symbols(ins))
	require.Equal(t, 1, rep.Filtered)
	require.Equal(t, []RowProblem{{Line: 4, Reason: RowDuplicate, Detail: "token 256265 already on line 3"}}, rep.Problems)
	require.Equal(t, rep.Rows, rep.Kept+rep.Filtered+rep.Skipped)
}

func TestParseInstrumentsKeepPanic(t *testing.T) {
	keep := func(in ticker.Instrument) bool {
		if in.Symbol == "INFY" {
			panic("boom")
		}
		return true
	}
	ins, rep := parseFile(t, "testdata/instruments.csv", ParseConfig{Keep: keep})
	require.Len(t, ins, 46)
	require.Equal(t, []RowProblem{{Line: 7, Reason: RowKeepPanic, Detail: "Keep panicked: boom"}}, rep.Problems)
	require.Equal(t, map[RowReason]int{RowKeepPanic: 1}, rep.ByReason)
}

func TestParseInstrumentsMaxProblems(t *testing.T) {
	var b strings.Builder
	b.WriteString(dumpHeader)
	for range 5 {
		b.WriteString("x,,A,A,0,,0,0,0,EQ,NSE,NSE\n")
	}
	b.WriteString("1,,A,A,0,,0,0,0,EQ,NSE,NSE\n")
	for _, tt := range []struct{ max, listed, omitted int }{{0, 5, 0}, {2, 2, 3}, {-1, 0, 5}} {
		ins, rep, err := ParseInstruments(strings.NewReader(b.String()), ParseConfig{MaxProblems: tt.max})
		require.NoError(t, err)
		require.Len(t, ins, 1)
		require.Len(t, rep.Problems, tt.listed, "MaxProblems %d", tt.max)
		require.Equal(t, tt.omitted, rep.ProblemsOmitted, "MaxProblems %d", tt.max)
		require.Equal(t, 5, rep.Skipped)
		require.Equal(t, 5, rep.ByReason[RowBadToken])
	}
}

func TestParseInstrumentsLineNumbers(t *testing.T) {
	// A quoted field spanning two lines (a newline is a control byte: the
	// row is refused), then a blank line: later rows still report the line
	// they are on.
	in := dumpHeader +
		"738561,2885,RELIANCE,\"RELIANCE\nINDUSTRIES\",0,,0,0.05,1,EQ,NSE,NSE\n" + // lines 2-3
		"\r\n" + // line 4
		"0,1594,INFY,INFOSYS,0,,0,0.05,1,EQ,NSE,NSE\n" + // line 5
		"\"1\"\"\",2,\"A,B\"\"C\",D,0,,0,0.05,1,EQ,NSE,NSE" // line 6, no newline at the end
	ins, rep, err := ParseInstruments(strings.NewReader(in), ParseConfig{})
	require.NoError(t, err)
	require.Empty(t, ins)
	require.Equal(t, []RowProblem{
		{Line: 2, Reason: RowBadText, Detail: `name "RELIANCE\nINDUSTRIES" holds a control or format character, or bytes that are not UTF-8`},
		{Line: 5, Reason: RowBadToken, Detail: `instrument_token "0" is not a non-zero 32-bit number`},
		{Line: 6, Reason: RowBadToken, Detail: `instrument_token "1\"" is not a non-zero 32-bit number`},
	}, rep.Problems)
	require.Equal(t, 3, rep.Rows)

	// A quote opened and never closed swallows the rest of the input:
	// reported once, at the line where it began.
	in = dumpHeader +
		"1,1,A,\"A,0,,0,0,0,EQ,NSE,NSE\n" +
		"2,1,B,B,0,,0,0,0,EQ,NSE,NSE\n"
	ins, rep, err = ParseInstruments(strings.NewReader(in), ParseConfig{})
	require.NoError(t, err)
	require.Empty(t, ins)
	require.Equal(t, []RowProblem{{Line: 2, Reason: RowSyntax, Detail: `extraneous or missing " in quoted-field`}}, rep.Problems)
}

func TestParseInstrumentsReadError(t *testing.T) {
	boom := errors.New("connection reset")
	data, err := os.ReadFile("testdata/instruments.csv")
	require.NoError(t, err)
	// The reader fails after the first 600 bytes: what was read is kept.
	r := io.MultiReader(bytes.NewReader(data[:600]), iotest.ErrReader(boom))
	ins, rep, err := ParseInstruments(r, ParseConfig{})
	require.ErrorIs(t, err, boom)
	require.Contains(t, err.Error(), "kite: reading instrument dump")
	require.NotEmpty(t, ins)
	require.Equal(t, rep.Kept, len(ins))
	require.Equal(t, "NIFTY 50", ins[0].Symbol)

	// A read error at the very start is not a header problem.
	_, _, err = ParseInstruments(iotest.ErrReader(boom), ParseConfig{})
	require.ErrorIs(t, err, boom)
	require.NotErrorIs(t, err, ErrBadHeader)

	// One byte at a time changes nothing.
	ins, rep, err = ParseInstruments(iotest.OneByteReader(bytes.NewReader(data)), ParseConfig{})
	require.NoError(t, err)
	require.Len(t, ins, 47)
	require.Zero(t, rep.Skipped)
}

func TestRowReasonString(t *testing.T) {
	names := map[string]bool{}
	for r := RowReason(1); r < rowReasons; r++ {
		require.NotEqual(t, "unknown", r.String(), "reason %d", r)
		names[r.String()] = true
	}
	require.Len(t, names, int(rowReasons)-1)
	require.Equal(t, "unknown", RowReason(0).String())
	require.Equal(t, "unknown", rowReasons.String())
}

// syntheticDump returns an n-row dump in the broker's format that looks like
// the real one: a few hundred stocks and their futures, and options on them
// and on the indices, about 2% of rows being NIFTY options.
func syntheticDump(n int) []byte {
	var b bytes.Buffer
	b.Grow(n * 100)
	b.WriteString(dumpHeader)
	expiries := [...]string{"2026-12-29", "2027-01-26", "2027-02-23"}
	codes := [...]string{"26DEC", "27JAN", "27FEB"}
	for i := range n {
		tok := 100000 + i
		switch {
		case i%50 == 0: // NIFTY option
			k, e := 20000+50*(i/100%200), i/50%3
			t := "CE"
			if i%100 == 50 {
				t = "PE"
			}
			fmt.Fprintf(&b, "%d,%d,NIFTY%s%d%s,\"NIFTY\",0,%s,%d.0,0.05,65,%s,NFO-OPT,NFO\n", tok<<8|2, tok, codes[e], k, t, expiries[e], k, t)
		case i%10 == 1: // equity
			fmt.Fprintf(&b, "%d,%d,STOCK%d,\"STOCK %d LIMITED\",0,,0,0.05,1,EQ,NSE,NSE\n", tok<<8|1, tok, i, i)
		case i%10 == 2: // stock future
			e := i % 3
			fmt.Fprintf(&b, "%d,%d,STK%d%sFUT,\"STK%d\",0,%s,0,0.1,500,FUT,NFO-FUT,NFO\n", tok<<8|2, tok, i%300, codes[e], i%300, expiries[e])
		default: // stock option
			k, e := 100+10*(i%97), i%3
			fmt.Fprintf(&b, "%d,%d,STK%d%s%dCE,\"STK%d\",0,%s,%d,0.05,500,CE,NFO-OPT,NFO\n", tok<<8|2, tok, i%300, codes[e], k, i%300, expiries[e], k)
		}
	}
	return b.Bytes()
}

func TestSyntheticDumpParses(t *testing.T) {
	data := syntheticDump(10000)
	ins, rep, err := ParseInstruments(bytes.NewReader(data), ParseConfig{})
	require.NoError(t, err)
	require.Equal(t, ParseReport{Rows: 10000, Kept: 10000}, rep)
	require.Len(t, ins, 10000)
}

// BenchmarkParseInstruments parses a 100k-row dump held in memory. rows/s is
// the throughput; retained-B/kept is the heap still held per kept row once
// the parse is over (the Instrument and its strings), which stays flat when
// Keep discards most rows.
func BenchmarkParseInstruments(b *testing.B) {
	const rows = 100_000
	data := syntheticDump(rows)
	for _, bc := range []struct {
		name string
		keep func(ticker.Instrument) bool
	}{
		{"all", nil},
		{"nifty_options", func(in ticker.Instrument) bool { return in.Underlying == "NIFTY" && in.Kind.IsOption() }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			var kept int
			var retained uint64
			for b.Loop() {
				var before, after runtime.MemStats
				measure := kept == 0
				if measure {
					b.StopTimer()
					runtime.GC()
					runtime.ReadMemStats(&before)
					b.StartTimer()
				}
				ins, rep, err := ParseInstruments(bytes.NewReader(data), ParseConfig{Keep: bc.keep})
				if err != nil || rep.Skipped != 0 {
					b.Fatal(err, rep)
				}
				if measure {
					b.StopTimer()
					runtime.GC()
					runtime.ReadMemStats(&after)
					retained = after.HeapAlloc - before.HeapAlloc
					runtime.KeepAlive(ins)
					b.StartTimer()
				}
				kept = len(ins)
			}
			b.ReportMetric(float64(b.N)*rows/b.Elapsed().Seconds(), "rows/s")
			b.ReportMetric(float64(retained)/float64(kept), "retained-B/kept")
			b.ReportMetric(float64(kept), "kept")
		})
	}
}

func TestParseInstrumentsDuplicatesAmongProblems(t *testing.T) {
	in := dumpHeader +
		"7,,A,A,0,,0,0,1,EQ,NSE,NSE\n" + // 2: kept
		"x,,B,B,0,,0,0,1,EQ,NSE,NSE\n" + // 3: bad token
		"7,,C,C,0,,0,0,1,EQ,NSE,NSE\n" + // 4: duplicate of 2
		"8,,D,D,0,,0,0,1,EQ,NSE,NSE\n" + // 5: kept
		"y,,E,E,0,,0,0,1,EQ,NSE,NSE\n" + // 6: bad token
		"7,,F,F,0,,0,0,1,EQ,NSE,NSE\n" + // 7: duplicate of 2
		"8,,G,G,0,,0,0,1,EQ,NSE,NSE\n" //   8: duplicate of 5
	ins, rep, err := ParseInstruments(strings.NewReader(in), ParseConfig{})
	require.NoError(t, err)
	require.Equal(t, []string{"A", "D"}, symbols(ins))
	var got []string
	for _, p := range rep.Problems {
		got = append(got, p.String())
	}
	require.Equal(t, []string{
		`line 3: bad_token: instrument_token "x" is not a non-zero 32-bit number`,
		"line 4: duplicate: token 7 already on line 2",
		`line 6: bad_token: instrument_token "y" is not a non-zero 32-bit number`,
		"line 7: duplicate: token 7 already on line 2",
		"line 8: duplicate: token 8 already on line 5",
	}, got)
	require.Equal(t, ParseReport{Rows: 7, Kept: 2, Skipped: 5, ByReason: map[RowReason]int{RowBadToken: 2, RowDuplicate: 3},
		Problems: rep.Problems}, rep)

	_, rep, err = ParseInstruments(strings.NewReader(in), ParseConfig{MaxProblems: 2})
	require.NoError(t, err)
	require.Len(t, rep.Problems, 2)
	require.Equal(t, []int{3, 4}, []int{rep.Problems[0].Line, rep.Problems[1].Line})
	require.Equal(t, 3, rep.ProblemsOmitted)

	_, rep, err = ParseInstruments(strings.NewReader(in), ParseConfig{MaxProblems: -1})
	require.NoError(t, err)
	require.Empty(t, rep.Problems)
	require.Equal(t, 5, rep.ProblemsOmitted)

	// Cut off by a read error, the rows read so far are still deduplicated.
	boom := errors.New("boom")
	cut := strings.Index(in, "y,,E")
	ins, rep, err = ParseInstruments(io.MultiReader(strings.NewReader(in[:cut]), iotest.ErrReader(boom)), ParseConfig{})
	require.ErrorIs(t, err, boom)
	require.Equal(t, []string{"A", "D"}, symbols(ins))
	require.Equal(t, 1, rep.ByReason[RowDuplicate])
}

// FuzzParseInstruments checks, for any input, that parsing never panics and
// that the report accounts for every row.
func FuzzParseInstruments(f *testing.F) {
	for _, name := range []string{"testdata/instruments.csv", "testdata/instruments_malformed.csv"} {
		data, err := os.ReadFile(name)
		require.NoError(f, err)
		f.Add(data)
	}
	f.Add([]byte(dumpHeader + "1,1,\"A\"\"B\",\"X\nY\",0,,0,0,0,EQ,INDICES,NSE\n1,1,A,A,0,,0,0,0,EQ,NSE,NSE\r\n"))
	f.Add([]byte("instrument_token,tradingsymbol,name,expiry,strike,tick_size,lot_size,instrument_type,segment,exchange\n" +
		"5,S,N,2024-02-29,1,0.05,1,CE,NFO-OPT,NFO\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, maxRow := range []int{0, 64} {
			checkParse(t, data, ParseConfig{MaxProblems: 3, MaxRowBytes: maxRow})
		}
	})
}

// checkParse parses data and checks that the report accounts for every row
// and that what is kept is well-formed.
func checkParse(t *testing.T, data []byte, cfg ParseConfig) {
	ins, rep, err := ParseInstruments(bytes.NewReader(data), cfg)
	if err != nil {
		require.ErrorIs(t, err, ErrBadHeader)
		return
	}
	require.Equal(t, rep.Rows, rep.Kept+rep.Filtered+rep.Skipped)
	require.Equal(t, rep.Kept, len(ins))
	sum := 0
	for _, n := range rep.ByReason {
		sum += n
	}
	require.Equal(t, rep.Skipped, sum)
	require.Equal(t, rep.Skipped, len(rep.Problems)+rep.ProblemsOmitted)
	for i := 1; i < len(rep.Problems); i++ {
		require.Less(t, rep.Problems[i-1].Line, rep.Problems[i].Line)
	}
	for _, p := range rep.Problems {
		require.LessOrEqual(t, len(p.Detail), maxDetail)
	}
	seen := map[uint32]bool{}
	for _, in := range ins {
		require.NotZero(t, in.Token)
		require.False(t, seen[in.Token])
		seen[in.Token] = true
		require.NotEmpty(t, in.Symbol)
		for _, s := range []string{in.Symbol, in.Underlying, in.Exchange, in.Segment} {
			require.True(t, textOK(s), "%q", s)
		}
		if in.Kind.IsOption() {
			require.Positive(t, in.Strike)
			require.False(t, in.Expiry.IsZero())
		}
	}
}

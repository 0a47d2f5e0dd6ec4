package kite_test

import (
	"fmt"
	"strings"
	"time"

	"github.com/steadfast-go/steadfast/ticker"
	"github.com/steadfast-go/steadfast/ticker/kite"
)

// expiry formats an instrument's expiry date, "-" for none.
func expiry(in ticker.Instrument) string {
	if in.Expiry.IsZero() {
		return "-"
	}
	return in.Expiry.Format(time.DateOnly)
}

// Malformed rows are skipped and reported; the call fails only for a bad
// header or a read error.
func ExampleParseInstruments() {
	dump := `instrument_token,exchange_token,tradingsymbol,name,last_price,expiry,strike,tick_size,lot_size,instrument_type,segment,exchange
256265,1001,NIFTY 50,NIFTY 50,0,,0,0,0,EQ,INDICES,NSE
13240066,51719,NIFTY25DEC24000PE,"NIFTY",0,2025-12-30,24000,0.05,75,PE,NFO-OPT,NFO
13240322,51720,NIFTY25DEC24100CE,"NIFTY",0,2025-12-31x,24100,0.05,75,CE,NFO-OPT,NFO
13240066,51719,NIFTY25DEC24000PE,"NIFTY",0,2025-12-30,24000,0.05,75,PE,NFO-OPT,NFO
`
	ins, report, err := kite.ParseInstruments(strings.NewReader(dump), kite.ParseConfig{})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, in := range ins {
		fmt.Println(in.Token, in.Symbol, in.Kind, in.Underlying, expiry(in))
	}
	fmt.Println(report)
	for _, p := range report.Problems {
		fmt.Println(p)
	}
	// Output:
	// 256265 NIFTY 50 index NIFTY -
	// 13240066 NIFTY25DEC24000PE put NIFTY 2025-12-30
	// rows 4, kept 2, filtered 0, skipped 2 (bad_expiry 1, duplicate 1)
	// line 4: bad_expiry: expiry "2025-12-31x" is not a YYYY-MM-DD date
	// line 5: duplicate: token 13240066 already on line 3
}

// Keep selects rows while streaming, so memory follows the kept rows only.
func ExampleParseConfig() {
	dump := `instrument_token,tradingsymbol,name,expiry,strike,tick_size,lot_size,instrument_type,segment,exchange
738561,RELIANCE,RELIANCE INDUSTRIES,,0,0.05,1,EQ,NSE,NSE
13240066,NIFTY25DEC24000PE,NIFTY,2025-12-30,24000,0.05,75,PE,NFO-OPT,NFO
13240322,BANKNIFTY25DEC51000CE,BANKNIFTY,2025-12-30,51000,0.05,35,CE,NFO-OPT,NFO
`
	cfg := kite.ParseConfig{
		Keep: func(in ticker.Instrument) bool { return in.Kind.IsOption() && in.Underlying == "NIFTY" },
	}
	ins, report, err := kite.ParseInstruments(strings.NewReader(dump), cfg)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(ins[0].Symbol, ins[0].Strike, ins[0].LotSize)
	fmt.Println(report)
	// Output:
	// NIFTY25DEC24000PE 24000 75
	// rows 3, kept 1, filtered 2, skipped 0
}

// ParseReport accounts for every row; ByReason says what went wrong how often.
func ExampleParseReport() {
	dump := `instrument_token,tradingsymbol,name,expiry,strike,tick_size,lot_size,instrument_type,segment,exchange
738561,RELIANCE,RELIANCE INDUSTRIES,,0,0.05,1,EQ,NSE,NSE
0,INFY,INFOSYS,,0,0.05,1,EQ,NSE,NSE
408065,INFY,INFOSYS,,0,0.05,1,XX,NSE,NSE
408066,TCS,TCS,,0,0.05,1,XX,NSE,NSE
`
	_, report, err := kite.ParseInstruments(strings.NewReader(dump), kite.ParseConfig{MaxProblems: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(report.Rows == report.Kept+report.Filtered+report.Skipped)
	fmt.Println(report.ByReason[kite.RowBadToken], report.ByReason[kite.RowBadType])
	fmt.Println(len(report.Problems), "listed,", report.ProblemsOmitted, "omitted")
	// Output:
	// true
	// 1 2
	// 1 listed, 2 omitted
}

func ExampleRowProblem() {
	dump := "instrument_token,tradingsymbol,name,expiry,strike,tick_size,lot_size,instrument_type,segment,exchange\n" +
		"13240066,NIFTY25DEC24000PE,NIFTY,30-12-2025,24000,0.05,75,PE,NFO-OPT,NFO\n"
	_, report, _ := kite.ParseInstruments(strings.NewReader(dump), kite.ParseConfig{})
	p := report.Problems[0]
	fmt.Println(p.Line, p.Reason)
	fmt.Println(p.Detail)
	// Output:
	// 2 bad_expiry
	// expiry "30-12-2025" is not a YYYY-MM-DD date
}

func ExampleRowReason() {
	for r := kite.RowFieldCount; r <= kite.RowBadText; r++ {
		fmt.Print(r, " ")
	}
	fmt.Println()
	// Output:
	// field_count syntax bad_token missing_symbol bad_type bad_expiry bad_strike bad_number duplicate keep_panic token_mismatch too_long bad_text
}

// A dump is untrusted input: rows longer than MaxRowBytes, numbers that are
// not decimal and text with control bytes are skipped with their line.
func ExampleParseConfig_maxRowBytes() {
	dump := "instrument_token,tradingsymbol,name,expiry,strike,tick_size,lot_size,instrument_type,segment,exchange\n" +
		"738561,RELIANCE," + strings.Repeat("R", 300) + ",,0,0.05,1,EQ,NSE,NSE\n" +
		"13240066,NIFTY25DEC24000PE,NIFTY,2025-12-30,0x1p4,0.05,75,PE,NFO-OPT,NFO\n" +
		"408065,INFY\x1b[31m,INFOSYS,,0,0.05,1,EQ,NSE,NSE\n" +
		"2953217,TCS,TCS,,0,0.05,1,EQ,NSE,NSE\n"
	ins, report, err := kite.ParseInstruments(strings.NewReader(dump), kite.ParseConfig{MaxRowBytes: 256})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(len(ins), ins[0].Symbol)
	for _, p := range report.Problems {
		fmt.Println(p)
	}
	// Output:
	// 1 TCS
	// line 2: too_long: row longer than 256 bytes
	// line 3: bad_strike: strike "0x1p4" is not a finite non-negative decimal number
	// line 4: bad_text: tradingsymbol "INFY\x1b[31m" holds a control or format character, or bytes that are not UTF-8
}

package main

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/steadfast-go/steadfast/internal/progtest"
)

// Every flag is checked before anything starts, and its error names the flag
// and what it accepts.
func TestFlagErrors(t *testing.T) {
	dump := filepath.Join(t.TempDir(), "instruments.csv")
	if err := os.WriteFile(dump, []byte("instrument_token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-strikes", "0"}, "-strikes must be in [1, 100], got 0"},
		{[]string{"-strikes", "-5"}, "-strikes must be in [1, 100], got -5"},
		{[]string{"-strikes", "10000"}, "-strikes must be in [1, 100], got 10000"},
		{[]string{"-expiries", "0"}, "-expiries must be in [1, 8], got 0"},
		{[]string{"-expiries", "9"}, "-expiries must be in [1, 8], got 9"},
		{[]string{"-speed", "0"}, "-speed must be in (0, 100000], got 0"},
		{[]string{"-speed", "NaN"}, "-speed must be in (0, 100000], got NaN"},
		{[]string{"-speed", "1e9"}, "-speed must be in (0, 100000], got 1e+09"},
		{[]string{"-interval", "1ms"}, "-interval must be in [10ms, 1m0s], got 1ms"},
		{[]string{"-interval", "2m"}, "-interval must be in [10ms, 1m0s], got 2m0s"},
		{[]string{"-duration", "-1s"}, "-duration must be 0 (until Ctrl-C) or positive, got -1s"},
		{[]string{"-view", "10ms"}, "-view must be 0 (never) or in [1s, 1h0m0s], got 10ms"},
		{[]string{"-open-timeout", "10ms"}, "-open-timeout must be 0 (the engine's default) or in [100ms, 10m0s], got 10ms"},
		{[]string{"-open-timeout", "1h"}, "-open-timeout must be 0 (the engine's default) or in [100ms, 10m0s], got 1h0m0s"},
		{[]string{"-replica-id", "a"}, "-replica-id is for -replica"},
		{[]string{"-capacity", "3"}, "-capacity is for -replica"},
		{[]string{"-standby"}, "-standby is for -replica"},
		{[]string{"-replica", "localhost"}, "-replica: want host:port"},
		{[]string{"-replica", "127.0.0.1:6379", "-replica-id", "a b"}, `-replica-id must be printable, without spaces, | or /, got "a b"`},
		{[]string{"-replica", "127.0.0.1:6379", "-replica-id", strings.Repeat("x", 129)}, "-replica-id must be at most 128 bytes, got 129"},
		{[]string{"-replica", "127.0.0.1:6379", "-capacity", "65"}, "-capacity must be in [0, 64], got 65"},
		{[]string{"-log-level", "loud"}, `-log-level must be debug, info, warn or error, got "loud"`},
		{[]string{"-underlyings", "NIFTY,TCS"}, `-underlyings: unknown underlying "TCS" (known: NIFTY, BANKNIFTY, FINNIFTY, MIDCPNIFTY, NIFTYNXT50, SENSEX, BANKEX)`},
		{[]string{"-underlyings", "nifty,NIFTY"}, "-underlyings: NIFTY is named twice"},
		{[]string{"-underlyings", " , "}, "-underlyings: none given"},
		{[]string{"-http", "8080"}, `-http must be host:port, e.g. 127.0.0.1:8080, got "8080"`},
		{[]string{"-http", "127.0.0.1:http"}, `-http: the port must be a number in [0, 65535], got "http"`},
		{[]string{"-http", "127.0.0.1:70000"}, `-http: the port must be a number in [0, 65535], got "70000"`},
		{[]string{"-redis", "127.0.0.1"}, "-redis: want host:port"},
		{[]string{"-latest-hash", "ticks:latest"}, "-latest-hash needs -redis"},
		{[]string{"-spublish"}, "-spublish needs -redis"},
		{[]string{"-stream"}, "-stream needs -redis"},
		{[]string{"-redis", "127.0.0.1:6379", "-spublish", "-stream"}, "-spublish and -stream exclude each other"},
		{[]string{"-redis", "127.0.0.1:6379", "-stream", "-stream-maxlen", "0"}, "-stream-maxlen must be in [1, 10000000], got 0"},
		{[]string{"-redis", "127.0.0.1:6379", "-latest-hash", strings.Repeat("k", 513)}, "-latest-hash must be at most 512 bytes, got 513"},
		{[]string{"-at", "yesterday"}, `-at: want RFC 3339 or 2006-01-02T15:04 (IST), got "yesterday"`},
		{[]string{"-at", "1999-12-31T10:00"}, "-at must be in the years 2000 to 2099, got 1999"},
		{[]string{"-source", "live"}, `-source must be mock or kite, got "live"`},
		{[]string{"-api-key", "k"}, "-api-key is for -source kite"},
		{[]string{"-instruments", dump}, "-instruments is for -source kite"},
		{[]string{"-source", "kite", "-instruments", dump + ".missing"}, "-instruments: open " + dump + ".missing: no such file or directory"},
		{[]string{"-strikes", "many"}, `invalid value "many" for flag -strikes`},
		{[]string{"-no-such-flag"}, "flag provided but not defined: -no-such-flag"},
		{[]string{"10"}, `unexpected argument "10"`},
	} {
		_, err := parseFlags(c.args, io.Discard)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: got %v, want an error holding %q", c.args, err, c.want)
		}
	}
	if _, err := parseFlags([]string{"-source", "kite", "-instruments", dump, "-api-key", "k", "-at", "2026-12-02T10:00",
		"-redis", "127.0.0.1:6379", "-latest-hash", "ticks:latest", "-spublish", "-http", "127.0.0.1:0",
		"-log-level", "debug", "-view", "0", "-open-timeout", "2s",
		"-replica", "127.0.0.1:6379", "-replica-id", "r1", "-capacity", "8", "-standby"}, io.Discard); err != nil {
		t.Errorf("valid flags refused: %v", err)
	}
}

// A bad flag stops the program with status 2 before it streams anything, and
// the message names the flag once, with no doubled prefix.
func TestBadFlagStopsTheProgram(t *testing.T) {
	out, code, _ := progtest.Run(t, time.Minute, "-strikes", "-5")
	if code != 2 || out != "ticker: -strikes must be in [1, 100], got -5\n" {
		t.Errorf("exit %d, output:\n%s", code, out)
	}
}

// The README's flag list is the program's -h, character for character.
func TestREADMEListsTheFlagsOfHelp(t *testing.T) {
	var help bytes.Buffer
	if _, err := parseFlags([]string{"-h"}, &help); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("-h: %v", err)
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	const begin, end = "<!-- go run ./examples/ticker -h -->\n```\n", "```\n<!-- end -->"
	_, rest, ok := strings.Cut(string(readme), begin)
	listed, _, ok2 := strings.Cut(rest, end)
	if !ok || !ok2 {
		t.Fatalf("README.md has no block between %q and %q", begin, end)
	}
	if listed != help.String() {
		t.Errorf("README.md's flag list differs from -h; paste this between the markers:\n%s", help.String())
	}
}

// -at is a simulated clock, never "live time"; with no -at, live time in
// session and a replay outside it.
func TestBannerSaysWhichClock(t *testing.T) {
	c, err := parseFlags([]string{"-at", "2020-01-01T10:00"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	at := c.at
	if got := banner(c, false, at, at); !strings.Contains(got, "on a simulated clock from Wed 1 Jan 2020 10:00 IST (-at)") {
		t.Errorf("-at in session: %s", got)
	}
	c.at = time.Time{}
	if got := banner(c, false, at, at); !strings.Contains(got, "on live time") {
		t.Errorf("now, in session: %s", got)
	}
	if got := banner(c, false, at.Add(10*time.Hour), at); !strings.Contains(got, "a replay of the session that opened Wed 1 Jan 2020 10:00 IST") {
		t.Errorf("now, closed: %s", got)
	}
}

// The largest values the flags accept stream, and log at debug level in
// lines of bounded length. (-strikes 10000 was accepted and made every
// reload log a line of 8.5 MB.)
func TestLargestFlagsLogBoundedLines(t *testing.T) {
	out, code, _ := progtest.Run(t, 2*time.Minute, "-underlyings", strings.Join(knownNames(), ","),
		"-expiries", "8", "-strikes", "100", "-interval", "1m", "-speed", "600", "-duration", "3s",
		"-log-level", "debug", "-view", "0")
	if code != 0 || !strings.Contains(out, "(identity holds)") {
		t.Fatalf("exit %d, want 0 and the identity:\n%s", code, out)
	}
	for line := range strings.SplitSeq(out, "\n") {
		if len(line) > 8<<10 {
			t.Errorf("a line of %d bytes: %.300s…", len(line), line)
		}
	}
}

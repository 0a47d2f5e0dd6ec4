package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/steadfast-go/steadfast/internal/progtest"
	"github.com/steadfast-go/steadfast/ticker/market"
)

// -source kite without credentials streams the mock, as the README
// promises, and says why. (It stopped with "Config.Instruments is
// required": the fallback kept the kite path's nil subscriptions.)
func TestKiteFallsBackToTheMock(t *testing.T) {
	t.Setenv("KITE_ACCESS_TOKEN", "")
	for _, c := range []struct {
		name string
		args []string
		env  string
		why  string
	}{
		{"no credentials", nil, "", "-source kite: no -api-key or KITE_ACCESS_TOKEN; using the mock"},
		{"no API key", nil, "token", "-source kite: no -api-key or KITE_ACCESS_TOKEN; using the mock"},
		{"no dump", []string{"-api-key", "key"}, "token", "-source kite: no -instruments dump to subscribe from; using the mock"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Setenv("KITE_ACCESS_TOKEN", c.env)
			args := append([]string{"-source", "kite", "-duration", "2s", "-view", "0", "-at", "2026-12-02T10:00"}, c.args...)
			out, code, _ := progtest.Run(t, time.Minute, args...)
			published := regexp.MustCompile(`final: produced \d+ = published (\d+) .*\(identity holds\)`).FindStringSubmatch(out)
			if code != 0 || !strings.Contains(out, c.why) || !strings.Contains(out, "streaming the mock NIFTY and BANKNIFTY chains") ||
				published == nil || published[1] == "0" {
				t.Errorf("exit %d, want 0, %q, the mock streaming and a final line with ticks published:\n%s", code, c.why, out)
			}
		})
	}
}

// With credentials and a dump, the live feed is used only in market hours;
// outside them the mock stands in.
func TestKiteSourceOutsideMarketHours(t *testing.T) {
	t.Setenv("KITE_ACCESS_TOKEN", "token")
	dump := filepath.Join(t.TempDir(), "instruments.csv")
	if err := os.WriteFile(dump, []byte("instrument_token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := parseFlags([]string{"-source", "kite", "-api-key", "key", "-instruments", dump}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	hours := market.Hours{Holidays: market.Holidays2026()}
	sunday := time.Date(2026, 12, 6, 11, 0, 0, 0, market.IST())
	var out bytes.Buffer
	src, ins, live, err := kiteSource(c, sunday, hours, nil, slog.New(slog.DiscardHandler), nil, &out)
	if err != nil || live || src != nil || ins != nil || out.String() != "-source kite: the market is closed; using the mock\n" {
		t.Errorf("kiteSource on a Sunday: live %v, err %v, said %q", live, err, out.String())
	}
}

// Whatever -source kite falls back from, the engine gets the mock's
// subscriptions.
func TestFallbackListsTheMockUniverse(t *testing.T) {
	t.Setenv("KITE_ACCESS_TOKEN", "")
	c, err := parseFlags([]string{"-source", "kite", "-strikes", "3", "-expiries", "1", "-underlyings", "NIFTY"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	hours := market.Hours{Holidays: market.Holidays2026()}
	clock := market.SessionClock(time.Date(2026, 12, 2, 10, 0, 0, 0, market.IST()), hours, 1)
	src, instruments, live, err := newSource(c, hours, clock, nil, io.Discard, slog.New(slog.DiscardHandler), nil)
	if err != nil || live || src == nil || instruments == nil {
		t.Fatalf("newSource: src %v, instruments nil %v, live %v, err %v", src, instruments == nil, live, err)
	}
	ins, err := instruments(context.Background())
	// The index, 3 futures, 1 expiry of 7 strikes with a call and a put.
	if err != nil || len(ins) != 1+3+14 {
		t.Errorf("instruments: %d, %v; want %s", len(ins), err, strconv.Itoa(1+3+14))
	}
}

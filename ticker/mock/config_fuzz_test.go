package mock_test

import (
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/steadfast-go/steadfast/ticker"
	"github.com/steadfast-go/steadfast/ticker/market"
	"github.com/steadfast-go/steadfast/ticker/mock"
)

// namesField reports whether err names one of fields.
func namesField(err error, fields ...string) bool {
	for _, f := range fields {
		if strings.Contains(err.Error(), f) {
			return true
		}
	}
	return false
}

// FuzzNew checks that any Config is either refused with an
// error naming one of its fields or gives a source that steps; never a
// panic. The seed corpus is in testdata/fuzz/FuzzNew.
func FuzzNew(f *testing.F) {
	f.Fuzz(func(t *testing.T, interval int64, rate, dividend float64, maxSize, roll int, spot, vol, step float64) {
		u := market.NIFTY()
		u.Spot, u.Volatility, u.StrikeStep = spot, vol, step
		m, err := mock.New(mock.Config{
			Interval: time.Duration(interval), Rate: &rate, DividendYield: &dividend,
			MaxSize: maxSize, RollStrikesPerSide: roll, Underlyings: []market.UnderlyingSpec{u},
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		})
		if err != nil {
			if !namesField(err, "Interval", "Rate", "DividendYield", "MaxSize", "RollStrikesPerSide", "Spot", "Volatility", "StrikeStep", "Underlyings") {
				t.Fatalf("error names no field: %v", err)
			}
			return
		}
		at := time.Date(2026, 12, 2, 10, 0, 0, 0, market.IST())
		_ = m.Subscribe([]ticker.Instrument{{Token: 1, Symbol: "NIFTY 50", Underlying: "NIFTY", Kind: ticker.KindIndex}}, nil)
		m.Step(at, func(tk ticker.Tick) {
			if err := tk.Validate(ticker.KindUnknown); err != nil {
				t.Fatalf("the mock emitted an invalid tick: %v", err)
			}
		})
	})
}

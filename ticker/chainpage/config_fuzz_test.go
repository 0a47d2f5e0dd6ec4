package chainpage_test

import (
	"strings"
	"testing"
	"time"

	"github.com/steadfast-go/steadfast/ticker"
	"github.com/steadfast-go/steadfast/ticker/chainpage"
)

type noEngine struct{}

func (noEngine) Instruments() []ticker.Instrument  { return nil }
func (noEngine) Latest(uint32) (ticker.Tick, bool) { return ticker.Tick{}, false }
func (noEngine) Health() ticker.Health             { return ticker.Health{} }

// FuzzNew checks that any Config is either refused with an error naming
// one of its fields or accepted; never a panic. The seed corpus is in
// testdata/fuzz/FuzzNew.
func FuzzNew(f *testing.F) {
	f.Fuzz(func(t *testing.T, withEngine bool, frame, health int64, maxStreams int, write int64) {
		cfg := chainpage.Config{FrameInterval: time.Duration(frame), HealthInterval: time.Duration(health),
			MaxStreams: maxStreams, WriteTimeout: time.Duration(write)}
		if withEngine {
			cfg.Engine = noEngine{}
		}
		_, err := chainpage.New(cfg)
		if err == nil {
			return
		}
		for _, field := range []string{"Engine", "FrameInterval", "HealthInterval", "MaxStreams", "WriteTimeout"} {
			if strings.Contains(err.Error(), "Config."+field) {
				return
			}
		}
		t.Fatalf("error names no field: %v", err)
	})
}

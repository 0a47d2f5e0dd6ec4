package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/steadfast-go/steadfast/ticker"
	"github.com/steadfast-go/steadfast/ticker/kite"
	"github.com/steadfast-go/steadfast/ticker/market"
)

// kiteSource returns the live Kite Connect source and the subscriptions it
// streams (each underlying's index and its nearest chains, read from the
// instrument dump), or live == false when the live feed cannot be used at
// now: no credentials, no dump, or the market is closed; it then prints why
// on out, and the caller streams the mock instead. The access token is read
// from the environment, never from a flag.
//
// The chains are centred on each index's latest level, read with latest
// (the engine's Latest, once it runs), or on the spec's reference level
// before the first index tick.
func kiteSource(c config, now time.Time, hours market.Hours, latest func(uint32) (ticker.Tick, bool), logger *slog.Logger,
	reg prometheus.Registerer, out io.Writer) (ticker.Source, instrumentsFunc, bool, error) {
	token := os.Getenv("KITE_ACCESS_TOKEN")
	switch {
	case c.apiKey == "" || token == "":
		fmt.Fprintln(out, "-source kite: no -api-key or KITE_ACCESS_TOKEN; using the mock")
		return nil, nil, false, nil
	case c.dump == "":
		fmt.Fprintln(out, "-source kite: no -instruments dump to subscribe from; using the mock")
		return nil, nil, false, nil
	case !hours.Open(now):
		fmt.Fprintln(out, "-source kite: the market is closed; using the mock")
		return nil, nil, false, nil
	}
	src, err := kite.New(kite.Config{APIKey: c.apiKey, AccessToken: token, Mode: kite.ModeFull,
		MarketHours: hours, Name: "example", Logger: logger, Registerer: reg})
	if err != nil {
		return nil, nil, false, err
	}
	specs := c.specs
	unders := names(specs)
	instruments := func(context.Context) ([]ticker.Instrument, error) {
		f, err := os.Open(c.dump)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		all, rep, err := kite.ParseInstruments(f, kite.ParseConfig{Keep: func(in ticker.Instrument) bool {
			return slices.Contains(unders, in.Underlying) && (in.Kind == ticker.KindIndex || in.Kind.IsOption())
		}})
		if err != nil {
			return nil, err
		}
		if n := rep.Skipped; n > 0 {
			logger.Warn("instrument dump rows skipped", "count", n)
		}
		var subs []ticker.Instrument
		now := time.Now()
		for _, name := range unders {
			spot := 0.0
			for _, in := range all {
				if in.Kind == ticker.KindIndex && in.Underlying == name {
					subs = append(subs, in)
					if t, ok := latest(in.Token); ok && t.LastPrice > 0 {
						spot = t.LastPrice
					}
				}
			}
			if spot == 0 {
				spot = specFor(specs, name).Spot
			}
			subs = append(subs, market.SelectChain(all, name, spot, now, c.expiries, c.strikes)...)
		}
		return subs, nil
	}
	return src, instruments, true, nil
}

func specFor(specs []market.UnderlyingSpec, name string) market.UnderlyingSpec {
	for _, s := range specs {
		if s.Name == name {
			return s
		}
	}
	return market.UnderlyingSpec{}
}

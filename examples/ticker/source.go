package main

import (
	"context"
	"io"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/steadfast-go/steadfast/ticker"
	"github.com/steadfast-go/steadfast/ticker/market"
	"github.com/steadfast-go/steadfast/ticker/mock"
)

// instrumentsFunc lists the wanted subscriptions (ticker.Config.Instruments).
type instrumentsFunc = func(context.Context) ([]ticker.Instrument, error)

// newSource returns the engine's Source and the subscriptions it wants. With
// -source kite that is the live feed when it can be used now (live is then
// true); otherwise, and always with -source mock, the mock market on clock.
// When the mock stands in for kite, a line on out says why.
func newSource(c config, hours market.Hours, clock func() time.Time, latest func(uint32) (ticker.Tick, bool),
	out io.Writer, logger *slog.Logger, reg prometheus.Registerer) (ticker.Source, instrumentsFunc, bool, error) {
	if c.source == "kite" {
		src, instruments, live, err := kiteSource(c, time.Now(), hours, latest, logger, reg, out)
		if err != nil || live {
			return src, instruments, live, err
		}
	}
	src, instruments, err := mockSource(c, hours, clock, logger, reg)
	return src, instruments, false, err
}

// mockSource returns the mock market and its subscriptions: the universe
// listed for the simulated date, plus the contracts the mock has rolled in
// by itself (at the strikes around its simulated spot) since the last
// reload, so that their ticks are streamed rather than dropped as
// unsubscribed.
func mockSource(c config, hours market.Hours, clock func() time.Time, logger *slog.Logger,
	reg prometheus.Registerer) (ticker.Source, instrumentsFunc, error) {
	universe := func() ([]ticker.Instrument, error) {
		return market.Universe(market.UniverseConfig{
			Seed: c.seed, Date: clock(), Underlyings: c.specs, Holidays: hours.Holidays,
			Expiries: c.expiries, StrikesPerSide: c.strikes,
		})
	}
	ins, err := universe()
	if err != nil {
		return nil, nil, err
	}
	m, err := mock.New(mock.Config{
		Seed: c.seed, Now: clock, Interval: c.interval, Underlyings: c.specs, Holidays: hours.Holidays,
		RollStrikesPerSide: c.strikes,
		// Room for the listed universe and the expiries the mock rolls in
		// before the next reload drops the expired ones.
		MaxSize:    max(5000, 2*len(ins)+1000),
		Logger:     logger,
		Registerer: reg,
	})
	if err != nil {
		return nil, nil, err
	}
	instruments := func(context.Context) ([]ticker.Instrument, error) {
		ins, err := universe()
		if err != nil {
			return nil, err
		}
		listed := make(map[uint32]bool, len(ins))
		for _, in := range ins {
			listed[in.Token] = true
		}
		for _, in := range m.Instruments() {
			if !listed[in.Token] {
				ins = append(ins, in)
			}
		}
		return ins, nil
	}
	return m, instruments, nil
}

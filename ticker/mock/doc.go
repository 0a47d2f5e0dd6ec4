// Package mock implements a simulated Indian index-options market as a
// ticker.Source, for use outside market hours or without live credentials:
// underlyings follow geometric Brownian motion, options are priced with
// Black–Scholes (package ticker/bs) from a volatility smile, so put–call
// parity holds and ticks carry IV and the Greeks. It trades in the NSE session
// only (package market) and keeps per-instrument state in a mockstate store.
//
// A minimal use streams a synthetic chain, replaying the latest session when
// the market is closed:
//
//	hours := market.Hours{Holidays: market.Holidays2026()}
//	clock := market.SessionClock(time.Now(), hours, 1)
//	ins, err := market.Universe(market.UniverseConfig{Date: clock(), Holidays: hours.Holidays})
//	if err != nil {
//		return err
//	}
//	src, err := mock.New(mock.Config{Now: clock, Holidays: hours.Holidays})
//	if err != nil {
//		return err
//	}
//	_ = src.Subscribe(ins, nil)
//	_ = src.Run(ctx, func(t ticker.Tick) { fmt.Println(t.Token, t.LastPrice) })
//
// A Source is what a ticker.Engine streams from: pass it as Config.Source.
//
// Config documents each default on its field.
//
// A Source is safe for concurrent use (Subscribe while Run streams). It
// starts no goroutine: Run works in the caller's and returns when its
// context ends. Step produces one round for a given simulated time, so the
// output is a pure function of the Seed, the configuration, the
// subscriptions and the times stepped. A contract leaves the source at its
// Instrument.Expiry; the synthetic universe's contracts are replaced by the
// next expiries. The Source documentation gives the model in detail.
//
// # How realistic is the mock
//
// Modelled: the session and holidays (no ticks outside, volume and open
// interest frozen, an overnight gap at the open, Change against the previous
// session's close, volume restarting at the open); the exchanges' contract
// specifications as of December 2026 (lots by series, strike steps, expiry
// days, futures tick bands) and Kite-shaped tokens; a volatility skew and
// smile with a term structure, sticky to strikes within a session, whose
// at-the-money level moves against the index from one session to the next;
// Black–Scholes prices and Greeks that agree with how the mock's own prices
// move with the index (tested by repricing at S±ε); spreads of one or two
// ticks at the money, wider away from it and near expiry; quantities in
// whole lots; volume concentrated at the money with wings that still trade;
// open interest that walks with the trades of each contract.
//
// Not modelled: order books beyond the best level, trades and their sizes
// (volume is a rate), intraday volatility patterns (the open and close are
// as calm as midday), jumps and volatility clustering within a session,
// pre-open, closing and Muhurat sessions, circuit limits, the expiry-day
// settlement, dividends as cash amounts, early exercise, interest-rate
// curves (one flat rate), and any link between indices (each moves
// independently). Theta is the calendar-time Black–Scholes theta; the mock's
// prices decay on the trading-time clock, so over a weekend they lose one
// trading day's worth, not three calendar days'.
package mock

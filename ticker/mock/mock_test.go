package mock_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/steadfast-go/steadfast/internal/logtest"
	"github.com/steadfast-go/steadfast/internal/metrictest"
	"github.com/steadfast-go/steadfast/mockstate"
	"github.com/steadfast-go/steadfast/ticker"
	"github.com/steadfast-go/steadfast/ticker/bs"
	"github.com/steadfast-go/steadfast/ticker/kite"
	"github.com/steadfast-go/steadfast/ticker/market"
	"github.com/steadfast-go/steadfast/ticker/mock"
)

var mockQuiet = logtest.Quiet()

// mockMonday is 10:00 IST on Monday 1 December 2025; NIFTY's nearest expiries
// are Tuesday 2 December (weekly) and 9 December.
var mockMonday = time.Date(2025, 12, 1, 10, 0, 0, 0, market.IST())

func newTestMock(t *testing.T, cfg mock.Config) *mock.Source {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = mockQuiet
	}
	if cfg.Now == nil {
		cfg.Now = func() time.Time { return mockMonday }
	}
	m, err := mock.New(cfg)
	require.NoError(t, err)
	return m
}

func mockUniverse(t *testing.T, seed uint64, date time.Time, expiries, strikes int) []ticker.Instrument {
	t.Helper()
	ins, err := market.Universe(market.UniverseConfig{
		Seed: seed, Date: date, Expiries: expiries, StrikesPerSide: strikes, Futures: -1,
	})
	require.NoError(t, err)
	return ins
}

// mockCollect steps m through n rounds, interval apart from start, returning
// the ticks of each round.
func mockCollect(m *mock.Source, start time.Time, interval time.Duration, n int) [][]ticker.Tick {
	rounds := make([][]ticker.Tick, n)
	for i := range n {
		m.Step(start.Add(time.Duration(i)*interval), func(tk ticker.Tick) {
			rounds[i] = append(rounds[i], tk)
		})
	}
	return rounds
}

func TestMockConfigValidation(t *testing.T) {
	for _, tc := range []struct {
		cfg  mock.Config
		want string
	}{
		{mock.Config{Interval: -time.Second}, "Config.Interval"},
		{mock.Config{MaxSize: -1}, "Config.MaxSize"},
		{mock.Config{RollStrikesPerSide: -1}, "Config.RollStrikesPerSide"},
		{mock.Config{RollStrikesPerSide: 10001}, "Config.RollStrikesPerSide"},
		{mock.Config{MaxSize: 1<<30 + 1}, "Config.MaxSize"},
		{mock.Config{Rate: new(math.NaN())}, "Config.Rate"},
		{mock.Config{Rate: new(-1.5)}, "Config.Rate"},
		{mock.Config{DividendYield: new(2.0)}, "Config.DividendYield"},
		{mock.Config{Underlyings: []market.UnderlyingSpec{{Name: "X"}}}, "Config.Underlyings[0]: market: UnderlyingSpec.Token"},
		{mock.Config{Underlyings: []market.UnderlyingSpec{market.NIFTY(), market.NIFTY()}}, "listed twice"},
	} {
		_, err := mock.New(tc.cfg)
		require.ErrorContains(t, err, tc.want)
		require.ErrorContains(t, err, "mock: ")
	}
	m, err := mock.New(mock.Config{})
	require.NoError(t, err)
	require.Empty(t, m.Instruments())
	spot, ok := m.Spot("BANKNIFTY")
	require.True(t, ok)
	require.Equal(t, market.BANKNIFTY().Spot, spot)
	_, ok = m.Spot("SENSEX")
	require.False(t, ok)
}

func TestMockDeterministic(t *testing.T) {
	run := func(seed uint64) [][]ticker.Tick {
		m := newTestMock(t, mock.Config{Seed: seed, Now: func() time.Time { return mockMonday }})
		require.NoError(t, m.Subscribe(mockUniverse(t, 3, mockMonday, 2, 5), nil))
		return mockCollect(m, mockMonday, 500*time.Millisecond, 40)
	}
	a, b := run(7), run(7)
	require.Len(t, a[0], 2+2*2*11*2) // two indices, two underlyings × two expiries × 11 strikes × call and put
	require.Equal(t, a, b)
	c := run(8)
	require.NotEqual(t, a[len(a)-1], c[len(c)-1])
	// The first round is at the reference spot for every seed; it moves after.
	require.Equal(t, a[0][0].LastPrice, c[0][0].LastPrice)
	require.NotEqual(t, a[39][0].LastPrice, c[39][0].LastPrice)
}

func TestMockTicksValid(t *testing.T) {
	m := newTestMock(t, mock.Config{Seed: 1})
	ins := mockUniverse(t, 1, mockMonday, 3, 10)
	require.NoError(t, m.Subscribe(ins, nil))
	byToken := map[uint32]ticker.Instrument{}
	for _, in := range ins {
		byToken[in.Token] = in
	}
	// Steps of seven minutes through a day and a half, across expiry and close.
	rounds := mockCollect(m, mockMonday, 7*time.Minute, 36*60/7)
	for _, in := range m.Instruments() { // contracts rolled in after the expiry
		byToken[in.Token] = in
	}
	for i, round := range rounds {
		now := mockMonday.Add(time.Duration(i) * 7 * time.Minute)
		if !(market.Hours{}).Open(now) {
			require.Empty(t, round, "round %d at %v is outside the session", i, now)
		}
		for _, tk := range round {
			if err := checkMockTick(tk, byToken[tk.Token], now); err != nil {
				t.Fatalf("round %d: %v\n%+v", i, err, tk)
			}
		}
	}
}

// checkMockTick returns what is wrong with a mock tick, or nil.
func checkMockTick(tk ticker.Tick, in ticker.Instrument, now time.Time) error {
	onGrid := func(x float64) bool {
		n := x / in.TickSize
		return math.Abs(n-math.Round(n)) < 1e-6
	}
	switch {
	case tk.Validate(ticker.KindUnknown) != nil:
		return tk.Validate(ticker.KindUnknown)
	case !tk.Mock || !tk.Time.Equal(now):
		return fmt.Errorf("Mock %v, Time %v", tk.Mock, tk.Time)
	case !(tk.LastPrice > 0) || !onGrid(tk.LastPrice):
		return fmt.Errorf("LastPrice %v not a positive multiple of %v", tk.LastPrice, in.TickSize)
	case in.Kind == ticker.KindIndex:
		if tk.Bid != 0 || tk.Ask != 0 || tk.IV != 0 || tk.Volume != 0 {
			return errors.New("an index has no quotes, volume or analytics")
		}
		return nil
	case !onGrid(tk.Bid) || !onGrid(tk.Ask):
		return errors.New("quote off the tick grid")
	case !(tk.Bid <= tk.LastPrice && tk.LastPrice <= tk.Ask && tk.Bid < tk.Ask):
		return errors.New("bid <= last <= ask, bid < ask violated")
	case !(tk.IV > 0) || tk.OpenInterest == 0:
		return errors.New("IV and open interest must be positive")
	case tk.OpenInterest%uint64(in.LotSize) != 0 || tk.Volume%uint64(in.LotSize) != 0:
		return errors.New("open interest and volume must be whole lots")
	case tk.BidQty == 0 || tk.AskQty == 0 || tk.BidQty%uint32(in.LotSize) != 0 || tk.AskQty%uint32(in.LotSize) != 0:
		return fmt.Errorf("bid and ask quantities %d, %d must be whole lots of %d", tk.BidQty, tk.AskQty, in.LotSize)
	case tk.Gamma < 0 || tk.Vega < 0: // may underflow to zero far from the money
		return errors.New("negative gamma or vega")
	case in.Kind == ticker.KindCall && !(tk.Delta > 0 && tk.Delta < 1):
		return fmt.Errorf("call delta %v", tk.Delta)
	case in.Kind == ticker.KindPut && !(tk.Delta < 0 && tk.Delta > -1):
		return fmt.Errorf("put delta %v", tk.Delta)
	}
	return nil
}

// mockParityRound checks put–call parity in one round's ticks, at the spot the
// mock reports. Each last price is the model price rounded to the tick (at
// most half a tick away) and never below one tick (at most a tick away).
func mockParityRound(t *testing.T, m *mock.Source, now time.Time, round []ticker.Tick, ins []ticker.Instrument) int {
	t.Helper()
	type pair struct{ call, put *ticker.Tick }
	byToken := map[uint32]ticker.Instrument{}
	for _, in := range ins {
		byToken[in.Token] = in
	}
	type key struct {
		under  string
		expiry time.Time
		strike float64
	}
	pairs := map[key]*pair{}
	for i := range round {
		in := byToken[round[i].Token]
		if !in.Kind.IsOption() {
			continue
		}
		k := key{in.Underlying, in.Expiry, in.Strike}
		if pairs[k] == nil {
			pairs[k] = &pair{}
		}
		if in.Kind == ticker.KindCall {
			pairs[k].call = &round[i]
		} else {
			pairs[k].put = &round[i]
		}
	}
	n := 0
	for k, p := range pairs {
		require.NotNil(t, p.call)
		require.NotNil(t, p.put)
		spot, ok := m.Spot(k.under)
		require.True(t, ok)
		cutoff := time.Date(k.expiry.Year(), k.expiry.Month(), k.expiry.Day(), 15, 30, 0, 0, market.IST())
		years := float64(cutoff.Sub(now)) / float64(365*24*time.Hour)
		want := spot*math.Exp(-mock.DefaultDividendYield*years) - k.strike*math.Exp(-mock.DefaultRate*years)
		slack := func(tk *ticker.Tick) float64 {
			if tk.LastPrice <= 0.05+1e-9 {
				return 0.05
			}
			return 0.025
		}
		got := p.call.LastPrice - p.put.LastPrice
		require.InDelta(t, want, got, slack(p.call)+slack(p.put)+1e-9, "%+v", k)
		// The analytics are the model's: delta parity holds exactly.
		require.InDelta(t, math.Exp(-mock.DefaultDividendYield*years), p.call.Delta-p.put.Delta, 1e-9)
		require.InDelta(t, p.call.IV, p.put.IV, 1e-15)
		n++
	}
	return n
}

func TestMockPutCallParity(t *testing.T) {
	m := newTestMock(t, mock.Config{Seed: 5})
	ins := mockUniverse(t, 5, mockMonday, 3, 10)
	require.NoError(t, m.Subscribe(ins, nil))
	checked := 0
	for i := range 200 {
		now := mockMonday.Add(time.Duration(i) * 90 * time.Second) // within Monday's session
		var round []ticker.Tick
		m.Step(now, func(tk ticker.Tick) { round = append(round, tk) })
		checked += mockParityRound(t, m, now, round, ins)
	}
	require.Greater(t, checked, 200*2*21)
}

func TestMockImpliedVolMatchesPrice(t *testing.T) {
	m := newTestMock(t, mock.Config{Seed: 2})
	ins := mockUniverse(t, 2, mockMonday, 2, 10)
	require.NoError(t, m.Subscribe(ins, nil))
	byToken := map[uint32]ticker.Instrument{}
	for _, in := range ins {
		byToken[in.Token] = in
	}
	var round []ticker.Tick
	m.Step(mockMonday, func(tk ticker.Tick) { round = append(round, tk) })
	checked := 0
	for _, tk := range round {
		in := byToken[tk.Token]
		if !in.Kind.IsOption() || tk.Vega < 1 { // vega per point: a tick moves IV by < 0.05 points
			continue
		}
		spot, _ := m.Spot(in.Underlying)
		cutoff := in.Expiry
		k := bs.Call
		if in.Kind == ticker.KindPut {
			k = bs.Put
		}
		calYears := float64(cutoff.Sub(mockMonday)) / float64(365*24*time.Hour)
		p := bs.Params{Spot: spot, Strike: in.Strike, T: calYears,
			Rate: mock.DefaultRate, Yield: mock.DefaultDividendYield}
		iv, err := bs.ImpliedVol(k, p, tk.LastPrice)
		require.NoError(t, err)
		// The quoted IV is in trading time: its total variance over the
		// trading years left is the calendar-time IV's over calendar years.
		scale := math.Sqrt(market.TradingYears(mockMonday, cutoff, market.Holidays{}) / calYears)
		// Rounding the price to the tick moves the IV by at most half a tick over vega.
		require.InDelta(t, tk.IV*scale, iv, 0.025*scale/(tk.Vega*100)+1e-9, "%s", in.Symbol)
		checked++
	}
	require.Greater(t, checked, 20)
}

func TestMockSmileAndOpenInterest(t *testing.T) {
	m := newTestMock(t, mock.Config{Seed: 4})
	ins := mockUniverse(t, 4, mockMonday, 1, 20)
	require.NoError(t, m.Subscribe(ins, nil))
	var round []ticker.Tick
	m.Step(mockMonday, func(tk ticker.Tick) { round = append(round, tk) })
	at := func(under string, strike float64, kind ticker.Kind) ticker.Tick {
		for i, in := range ins {
			if in.Underlying == under && in.Strike == strike && in.Kind == kind {
				return round[i]
			}
		}
		t.Fatalf("no %s %v %v", under, strike, kind)
		return ticker.Tick{}
	}
	atm := at("NIFTY", 26000, ticker.KindCall)
	farPut := at("NIFTY", 25000, ticker.KindPut)
	farCall := at("NIFTY", 27000, ticker.KindCall)
	require.Greater(t, farPut.IV, atm.IV, "deep OTM put IV above ATM")
	require.Greater(t, farCall.IV, atm.IV, "deep OTM call IV above ATM")
	require.Greater(t, atm.OpenInterest, 10*farPut.OpenInterest)
	require.Greater(t, atm.OpenInterest, 10*farCall.OpenInterest)
}

func TestMockVolumeMonotone(t *testing.T) {
	m := newTestMock(t, mock.Config{Seed: 9})
	ins := mockUniverse(t, 9, mockMonday, 2, 5)
	require.NoError(t, m.Subscribe(ins, nil))
	last := map[uint32]uint64{}
	for i := range 1000 {
		m.Step(mockMonday.Add(time.Duration(i)*2*time.Second), func(tk ticker.Tick) {
			if tk.Volume < last[tk.Token] {
				t.Errorf("token %d: volume fell from %d to %d", tk.Token, last[tk.Token], tk.Volume)
			}
			last[tk.Token] = tk.Volume
		})
	}
	grew := 0
	for _, in := range ins {
		if in.Kind.IsOption() && last[in.Token] > 0 {
			grew++
		}
	}
	require.Greater(t, grew, len(ins)/2)

	// A new IST day starts a new cumulative volume.
	var next []ticker.Tick
	m.Step(mockMonday.Add(24*time.Hour), func(tk ticker.Tick) { next = append(next, tk) })
	for _, tk := range next {
		require.LessOrEqual(t, tk.Volume, last[tk.Token])
	}
}

func TestMockSubscribe(t *testing.T) {
	m := newTestMock(t, mock.Config{Seed: 1, MaxSize: 10, Now: func() time.Time { return mockMonday }})
	ins := mockUniverse(t, 1, mockMonday, 1, 1) // NIFTY index + 6 options, BANKNIFTY index + 6
	nifty := ins[:7]
	require.NoError(t, m.Subscribe(nifty, nil))
	require.NoError(t, m.Subscribe(nifty[:2], nil), "adding again is a no-op")
	require.Len(t, m.Instruments(), 7)
	require.Equal(t, 7, m.Len())

	err := m.Subscribe(ins[7:], nil) // 7 more, room for 3
	require.ErrorIs(t, err, mock.ErrFull)
	require.Len(t, m.Instruments(), 10)

	tokens := func() map[uint32]bool {
		got := map[uint32]bool{}
		m.Step(mockMonday, func(tk ticker.Tick) { got[tk.Token] = true })
		return got
	}
	require.Len(t, tokens(), 10)
	require.NoError(t, m.Subscribe(nil, nifty[1:3]))
	got := tokens()
	require.Len(t, got, 8)
	require.False(t, got[nifty[1].Token])
	require.False(t, got[nifty[2].Token])
	require.Equal(t, 8, m.Len())

	// Bad instruments are reported one by one; good ones in the same call apply.
	expired := nifty[3]
	expired.Token, expired.Expiry = 42, mockMonday.AddDate(0, 0, -7)
	unknown := ticker.Instrument{Token: 43, Symbol: "RELIANCE", Underlying: "RELIANCE", Kind: ticker.KindEquity}
	noStrike := nifty[3]
	noStrike.Token, noStrike.Strike = 44, 0
	zero := nifty[3]
	zero.Token = 0
	err = m.Subscribe([]ticker.Instrument{expired, unknown, noStrike, zero, nifty[1]}, nil)
	require.ErrorIs(t, err, mock.ErrExpiredInstrument)
	require.ErrorIs(t, err, mock.ErrUnknownUnderlying)
	require.ErrorIs(t, err, mock.ErrUnsupportedInstrument)
	require.ErrorContains(t, err, "RELIANCE")
	require.ErrorContains(t, err, "token 42")
	got = tokens()
	require.True(t, got[nifty[1].Token])
	require.False(t, got[42])
	require.Len(t, got, 9)
}

func TestMockRolloverOnFakeClock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// The bubble's clock starts at 2000-01-01 00:00 UTC, a Saturday;
		// NIFTY's weekly expiries are Tuesdays 4, 11 and 18 January.
		start := time.Now()
		ins, err := market.Universe(market.UniverseConfig{
			Seed: 11, Date: start, Underlyings: []market.UnderlyingSpec{market.NIFTY()},
			Expiries: 2, StrikesPerSide: 2, Futures: -1,
		})
		require.NoError(t, err)
		require.Len(t, ins, 1+2*5*2)
		first := ins[1].Expiry
		require.Equal(t, time.Date(2000, 1, 4, 15, 30, 0, 0, market.IST()), first)

		m := newTestMock(t, mock.Config{
			Seed: 11, Interval: time.Hour, Now: time.Now,
			Underlyings: []market.UnderlyingSpec{market.NIFTY()}, RollStrikesPerSide: 2,
		})
		require.NoError(t, m.Subscribe(ins, nil))
		require.Equal(t, 21, m.Len())

		var mu sync.Mutex
		seen := map[uint32]time.Time{} // token → time of its last tick
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() {
			done <- m.Run(ctx, func(tk ticker.Tick) {
				mu.Lock()
				seen[tk.Token] = tk.Time
				mu.Unlock()
			})
		}()

		cutoff := time.Date(2000, 1, 4, 15, 30, 0, 0, market.IST())
		time.Sleep(cutoff.Sub(start) - time.Minute)
		synctest.Wait()
		require.Equal(t, 21, m.Len(), "nothing expires before 15:30 IST")

		time.Sleep(2 * time.Hour) // past the cutoff: a step has run
		synctest.Wait()
		time.Sleep(18 * time.Hour) // into Wednesday's session, where the new contracts trade
		synctest.Wait()
		require.Equal(t, 21, m.Len(), "ten expired, ten rolled in")
		expiries := map[string]int{}
		for _, in := range m.Instruments() {
			if in.Kind.IsOption() {
				expiries[in.Expiry.In(market.IST()).Format(time.DateOnly)]++
			}
		}
		require.Equal(t, map[string]int{"2000-01-11": 10, "2000-01-18": 10}, expiries)

		mu.Lock()
		for _, in := range ins[1:] {
			last := seen[in.Token]
			if in.Expiry.Equal(first) {
				require.True(t, last.Before(cutoff), "%s ticked after expiry at %v", in.Symbol, last)
			} else {
				require.True(t, last.After(cutoff), "%s stopped", in.Symbol)
			}
		}
		for _, in := range m.Instruments() {
			require.True(t, seen[in.Token].After(cutoff), "%s not ticking", in.Symbol)
		}
		mu.Unlock()

		cancel()
		require.NoError(t, <-done)
	})
}

func TestMockRolloverAfterLongGap(t *testing.T) {
	m := newTestMock(t, mock.Config{Seed: 3, Underlyings: []market.UnderlyingSpec{market.BANKNIFTY()}, RollStrikesPerSide: 3})
	ins, err := market.Universe(market.UniverseConfig{
		Seed: 3, Date: mockMonday, Underlyings: []market.UnderlyingSpec{market.BANKNIFTY()}, Expiries: 2, StrikesPerSide: 1, Futures: -1,
	})
	require.NoError(t, err)
	require.NoError(t, m.Subscribe(ins, nil))
	later := mockMonday.AddDate(0, 3, 1) // Monday 2 March 2026: every subscribed expiry has passed
	var round []ticker.Tick
	m.Step(later, func(tk ticker.Tick) { round = append(round, tk) })
	got := m.Instruments()
	require.Len(t, got, 1+2*7*2, "index kept, two fresh monthly expiries of seven strikes")
	require.Len(t, round, len(got))
	require.Equal(t, len(got), m.Len())
	spot, _ := m.Spot("BANKNIFTY")
	for _, in := range got[1:] {
		require.True(t, in.Expiry.After(later))
		require.InDelta(t, spot, in.Strike, 400, "new strikes centre on the simulated spot")
	}
	// Tokens agree with the mockUniverse listed for that date with the same seed.
	want, err := market.Universe(market.UniverseConfig{
		Seed: 3, Date: later, Underlyings: []market.UnderlyingSpec{market.BANKNIFTY()}, Expiries: 2, StrikesPerSide: 10,
	})
	require.NoError(t, err)
	tokens := map[uint32]string{}
	for _, in := range want {
		tokens[in.Token] = in.Symbol
	}
	for _, in := range got {
		require.Equal(t, in.Symbol, tokens[in.Token])
	}
}

func TestMockRunStopsAndRefusesSecondRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// The bubble's clock starts on a Saturday: replay a session.
		clock := market.SessionClock(mockMonday, market.Hours{}, 1)
		m := newTestMock(t, mock.Config{Interval: 250 * time.Millisecond, Now: clock})
		ins := mockUniverse(t, 0, clock(), 1, 1)
		require.NoError(t, m.Subscribe(ins, nil))
		var mu sync.Mutex
		n := 0
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() {
			done <- m.Run(ctx, func(ticker.Tick) { mu.Lock(); n++; mu.Unlock() })
		}()
		synctest.Wait()
		require.ErrorIs(t, m.Run(ctx, func(ticker.Tick) {}), mock.ErrRunning)
		time.Sleep(time.Second)
		synctest.Wait()
		mu.Lock()
		require.Equal(t, 5*len(ins), n, "a round at start and one per interval")
		mu.Unlock()
		cancel()
		require.NoError(t, <-done)
		// It can run again after it stopped; a done ctx returns at once.
		require.NoError(t, m.Run(ctx, func(ticker.Tick) {}))
		require.Error(t, m.Run(t.Context(), nil))
	})
}

func TestMockEmitPanicContained(t *testing.T) {
	reg := prometheus.NewRegistry()
	var logs bytes.Buffer
	m := newTestMock(t, mock.Config{Name: "p", Registerer: reg, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	ins := mockUniverse(t, 0, mockMonday, 1, 1)
	require.NoError(t, m.Subscribe(ins, nil))
	n := 0
	m.Step(mockMonday, func(tk ticker.Tick) {
		n++
		if n == 2 {
			panic("boom")
		}
	})
	require.Equal(t, len(ins), n, "the round continued")
	value := func(name string) float64 {
		v, err := metrictest.Value(reg, name, metrictest.Labels{"name": "p"})
		require.NoError(t, err)
		return v
	}
	require.Equal(t, 1.0, value("steadfast_ticker_mock_emit_panics_total"))
	require.Equal(t, float64(len(ins)-1), value("steadfast_ticker_mock_ticks_total"))
	require.Equal(t, float64(len(ins)), value("steadfast_ticker_mock_instruments"))
	// Logged with the shared keys, the panic's value and its stack.
	require.Contains(t, logs.String(), `msg="emit panicked" component=ticker name=p`)
	require.Contains(t, logs.String(), "panic=boom stack=")
	require.Contains(t, logs.String(), "goroutine")
	require.NotContains(t, logs.String(), "ticker: ")

	_, err := mock.New(mock.Config{Name: "p", Registerer: reg})
	require.EqualError(t, err, `mock: metrics for name "p" are already registered: `+errors.Unwrap(err).Error())
	_, err = mock.New(mock.Config{Name: "q", Registerer: reg, Logger: mockQuiet})
	require.NoError(t, err)
	// The hidden state store registers under "<name>/state", so a user's
	// store named like the source does not clash with it.
	_, err = mockstate.New(func(*int) *int { return new(0) }, mockstate.Config[int, int]{Name: "q", Registerer: reg})
	require.NoError(t, err)
	entries, err := metrictest.Value(reg, "steadfast_mockstate_entries", metrictest.Labels{"name": "p/state"})
	require.NoError(t, err)
	require.Equal(t, float64(len(ins)), entries)
}

// The mock trades in the session only: nothing ticks before the open, after
// the close or on a holiday; the first tick of a session carries no volume
// from the night, and Change is against the previous session's close.
func TestMockSessionVolumeAndChange(t *testing.T) {
	holidays := market.Holidays2026()
	monday := time.Date(2026, 12, 21, 9, 15, 0, 0, market.IST())
	m := newTestMock(t, mock.Config{Seed: 12, Holidays: holidays, Underlyings: []market.UnderlyingSpec{market.NIFTY()}})
	ins, err := market.Universe(market.UniverseConfig{Seed: 12, Date: monday, Underlyings: []market.UnderlyingSpec{market.NIFTY()},
		Expiries: 2, StrikesPerSide: 2, Holidays: holidays})
	require.NoError(t, err)
	require.NoError(t, m.Subscribe(ins, nil))
	type state struct {
		last   float64
		volume uint64
		oi     uint64
	}
	closeOf := map[uint32]state{}
	for now := monday; now.Before(monday.Add(6*time.Hour + 15*time.Minute)); now = now.Add(30 * time.Second) {
		m.Step(now, func(tk ticker.Tick) { closeOf[tk.Token] = state{tk.LastPrice, tk.Volume, tk.OpenInterest} })
	}
	opt := ins[len(ins)-1]
	require.Positive(t, closeOf[opt.Token].volume)
	// From 15:30 to the next open: silent.
	for _, quiet := range []time.Time{
		monday.Add(6*time.Hour + 15*time.Minute), monday.Add(10 * time.Hour), monday.Add(23*time.Hour + 59*time.Minute),
	} {
		m.Step(quiet, func(tk ticker.Tick) { t.Errorf("ticked at %v: %+v", quiet, tk) })
	}
	spot, _ := m.Spot("NIFTY")
	var first []ticker.Tick
	tuesdayOpen := monday.AddDate(0, 0, 1)
	m.Step(tuesdayOpen, func(tk ticker.Tick) { first = append(first, tk) })
	require.Len(t, first, len(ins))
	for _, tk := range first {
		prev := closeOf[tk.Token]
		require.Zero(t, tk.Volume, "volume restarts at the open")
		require.InDelta(t, (tk.LastPrice-prev.last)/prev.last*100, tk.Change, 1e-9, "change against the previous close")
		if tk.OpenInterest > 0 {
			require.Equal(t, prev.oi, tk.OpenInterest, "open interest carried over the night")
		}
	}
	gapped, _ := m.Spot("NIFTY")
	require.NotEqual(t, spot, gapped, "the index gaps at the open")
	// Christmas (Friday 25 December) and the weekend after it: silent.
	for _, quiet := range []time.Time{time.Date(2026, 12, 25, 11, 0, 0, 0, market.IST()), time.Date(2026, 12, 26, 11, 0, 0, 0, market.IST())} {
		m.Step(quiet, func(tk ticker.Tick) { t.Errorf("ticked at %v: %+v", quiet, tk) })
	}
}

// Spreads: one or two ticks at the money on a distant expiry, wider away
// from the money and on the expiry day; bid and ask quantities in whole lots.
func TestMockSpreadsWiden(t *testing.T) {
	tuesday := time.Date(2026, 12, 8, 10, 0, 0, 0, market.IST()) // a weekly expiry day
	nifty := []market.UnderlyingSpec{market.NIFTY()}
	m := newTestMock(t, mock.Config{Seed: 4, Underlyings: nifty})
	ins, err := market.Universe(market.UniverseConfig{Seed: 4, Date: tuesday, Underlyings: nifty, Expiries: 4, StrikesPerSide: 30, Futures: -1})
	require.NoError(t, err)
	require.NoError(t, m.Subscribe(ins, nil))
	byToken := map[uint32]ticker.Instrument{}
	for _, in := range ins {
		byToken[in.Token] = in
	}
	type bucket struct{ sum, n float64 }
	spreads := map[string]*bucket{}
	add := func(k string, v float64) {
		if spreads[k] == nil {
			spreads[k] = &bucket{}
		}
		spreads[k].sum += v
		spreads[k].n++
	}
	for i := range 50 {
		now := tuesday.Add(time.Duration(i) * time.Minute)
		spot := 0.0
		m.Step(now, func(tk ticker.Tick) {
			in := byToken[tk.Token]
			if in.Kind == ticker.KindIndex {
				spot = tk.LastPrice
				return
			}
			require.Zero(t, tk.BidQty%65)
			require.Zero(t, tk.AskQty%65)
			ticks := math.Round((tk.Ask - tk.Bid) / in.TickSize)
			near := in.Expiry.Equal(time.Date(2026, 12, 8, 15, 30, 0, 0, market.IST()))
			far := in.Expiry.Equal(time.Date(2026, 12, 29, 15, 30, 0, 0, market.IST()))
			atm := math.Abs(in.Strike-spot) <= 25
			switch {
			case far && atm:
				require.True(t, ticks == 1 || ticks == 2, "ATM spread %v ticks", ticks)
				add("far atm", ticks)
			case near && atm:
				add("near atm", ticks)
			case far && math.Abs(in.Strike-spot) >= 1200 && tk.Bid > 0:
				add("far otm", ticks)
			}
		})
	}
	mean := func(k string) float64 { require.NotNil(t, spreads[k], k); return spreads[k].sum / spreads[k].n }
	require.Greater(t, mean("near atm"), mean("far atm")+0.5)
	require.Greater(t, mean("far otm"), mean("far atm")+0.5)
}

// Open interest is a per-contract walk moved by trades, not a function of
// moneyness recomputed on each tick; deep out-of-the-money strikes still
// trade now and then.
func TestMockOpenInterestWalksAndWingsTrade(t *testing.T) {
	nifty := []market.UnderlyingSpec{market.NIFTY()}
	m := newTestMock(t, mock.Config{Seed: 5, Underlyings: nifty})
	ins, err := market.Universe(market.UniverseConfig{Seed: 5, Date: mockMonday, Underlyings: nifty, Expiries: 1, StrikesPerSide: 40, Futures: -1})
	require.NoError(t, err)
	require.NoError(t, m.Subscribe(ins, nil))
	type prev struct{ vol, oi uint64 }
	last := map[uint32]prev{}
	changed := map[uint32]bool{}
	for i := range 600 {
		m.Step(mockMonday.Add(time.Duration(i)*time.Second), func(tk ticker.Tick) {
			if p, ok := last[tk.Token]; ok && tk.IV > 0 {
				traded := (tk.Volume - p.vol) / 65
				moved := math.Abs(float64(tk.OpenInterest)-float64(p.oi)) / 65
				require.LessOrEqual(t, moved, float64(traded)*0.6+1, "open interest moves with trades only")
				if moved > 0 {
					changed[tk.Token] = true
				}
			}
			last[tk.Token] = prev{tk.Volume, tk.OpenInterest}
		})
	}
	require.Greater(t, len(changed), len(ins)/2)
	wing := ins[1] // the lowest strike's call: deep in the money; ins[2], its put, deep out
	require.Positive(t, last[ins[2].Token].vol, "deep OTM put %s printed no volume", ins[2].Symbol)
	require.Positive(t, last[wing.Token].vol)
}

func TestMockEmitMaySubscribe(t *testing.T) {
	m := newTestMock(t, mock.Config{})
	ins := mockUniverse(t, 0, mockMonday, 1, 1)
	require.NoError(t, m.Subscribe(ins[:1], nil))
	m.Step(mockMonday, func(tk ticker.Tick) {
		require.NoError(t, m.Subscribe(ins[1:3], nil)) // would deadlock if emit ran under a lock
	})
	n := 0
	m.Step(mockMonday.Add(time.Second), func(ticker.Tick) { n++ })
	require.Equal(t, 3, n)
}

func TestMockExtremeMarketsStayValid(t *testing.T) {
	spec := market.NIFTY()
	spec.Volatility = 1.5 // a wild market: the spot wanders far from the strikes
	m := newTestMock(t, mock.Config{Seed: 13, Underlyings: []market.UnderlyingSpec{spec}})
	ins, err := market.Universe(market.UniverseConfig{Seed: 13, Date: mockMonday, Underlyings: []market.UnderlyingSpec{spec}, Expiries: 4})
	require.NoError(t, err)
	require.NoError(t, m.Subscribe(ins, nil))
	for i := range 500 {
		m.Step(mockMonday.Add(time.Duration(i)*time.Hour), func(tk ticker.Tick) {
			require.NoError(t, tk.Validate(ticker.KindUnknown))
			require.False(t, errors.Is(tk.Validate(ticker.KindUnknown), ticker.ErrInvalidTick))
			require.Greater(t, tk.LastPrice, 0.0)
		})
	}
}

func TestMockSubscribeDumpStyleIndex(t *testing.T) {
	m := newTestMock(t, mock.Config{Underlyings: []market.UnderlyingSpec{market.NIFTY()}})
	// The broker's dump names the index's underlying after the index itself.
	idx := ticker.Instrument{Token: 256265, Symbol: "NIFTY 50", Underlying: "NIFTY 50", Kind: ticker.KindIndex, TickSize: 0.05}
	byName := ticker.Instrument{Token: 7, Symbol: "NIFTY 50", Underlying: "NIFTY 50", Kind: ticker.KindIndex}
	require.NoError(t, m.Subscribe([]ticker.Instrument{idx, byName}, nil))
	var got []ticker.Tick
	m.Step(mockMonday, func(tk ticker.Tick) { got = append(got, tk) })
	require.Len(t, got, 2)
	require.Equal(t, market.NIFTY().Spot, got[1].LastPrice)
}

func TestMockRollHonoursHolidays(t *testing.T) {
	holidays := market.NewHolidays(time.Date(2025, 12, 9, 0, 0, 0, 0, time.UTC))
	nifty := []market.UnderlyingSpec{market.NIFTY()}
	m := newTestMock(t, mock.Config{Seed: 6, Underlyings: nifty, Holidays: holidays, RollStrikesPerSide: 1})
	ins, err := market.Universe(market.UniverseConfig{
		Seed: 6, Date: mockMonday, Underlyings: nifty, Expiries: 1, StrikesPerSide: 1, Holidays: holidays, Futures: -1,
	})
	require.NoError(t, err)
	require.NoError(t, m.Subscribe(ins, nil))
	n := 0
	m.Step(time.Date(2025, 12, 2, 15, 29, 59, 0, market.IST()), func(ticker.Tick) { n++ })
	require.Equal(t, 7, n, "still open one second before the close")
	m.Step(time.Date(2025, 12, 2, 15, 30, 0, 0, market.IST()), nil)
	got := m.Instruments()
	require.Len(t, got, 7)
	for _, in := range got[1:] {
		// Tuesday 9 December is a holiday: that expiry moves to Monday 8th.
		require.Equal(t, "2025-12-08", in.Expiry.In(market.IST()).Format(time.DateOnly), in.Symbol)
		require.NotContains(t, ins, in)
	}
}

// The underlying's moves are GBM steps on the trading-time variance clock:
// returns over uneven intervals, some across a close and the next open (the
// overnight gap), scaled by the square root of the trading time elapsed, have
// the configured volatility; steps wholly outside a session move nothing.
func TestMockUnderlyingFollowsGBM(t *testing.T) {
	spec := market.NIFTY()
	m := newTestMock(t, mock.Config{Seed: 21, Underlyings: []market.UnderlyingSpec{spec}})
	const n = 20000
	now := mockMonday
	m.Step(now, nil)
	prev, _ := m.Spot("NIFTY")
	var sum, sumsq float64
	count, gaps, frozen := 0, 0, 0
	for i := range n {
		dt := time.Minute
		if i%3 == 0 {
			dt = 7 * time.Minute
		}
		if i%500 == 0 {
			dt = 5 * time.Hour
		}
		next := now.Add(dt)
		m.Step(next, nil)
		s, _ := m.Spot("NIFTY")
		years := market.TradingYears(now, next, market.Holidays{})
		now = next
		if years == 0 {
			require.Equal(t, prev, s, "moved outside the session at %v", next)
			frozen++
			continue
		}
		if market.TradingYears(next.Add(-dt), next, market.Holidays{}) >= 0.2/252 {
			gaps++
		}
		z := math.Log(s/prev) / math.Sqrt(years) // ~ N((μ−σ²/2)√T, σ²)
		sum += z
		sumsq += z * z
		prev = s
		count++
	}
	mean := sum / float64(count)
	variance := sumsq/float64(count) - mean*mean
	sigma := spec.Volatility
	require.InDelta(t, sigma*sigma, variance, 3*sigma*sigma*math.Sqrt(2.0/float64(count-1)))
	require.InDelta(t, 0, mean, 3*sigma/math.Sqrt(float64(count)))
	require.Positive(t, gaps, "some steps crossed an open")
	require.Positive(t, frozen, "some steps lay outside the session")
}

func TestMockTimeGoingBackwards(t *testing.T) {
	m := newTestMock(t, mock.Config{Seed: 2})
	ins := mockUniverse(t, 2, mockMonday, 1, 2)
	require.NoError(t, m.Subscribe(ins, nil))
	last := map[uint32]uint64{}
	record := func(tk ticker.Tick) {
		require.GreaterOrEqual(t, tk.Volume, last[tk.Token])
		last[tk.Token] = tk.Volume
	}
	m.Step(mockMonday.Add(time.Hour), record)
	spot, _ := m.Spot("NIFTY")
	m.Step(mockMonday, record) // earlier: nothing moves, nothing accrues
	again, _ := m.Spot("NIFTY")
	require.Equal(t, spot, again)
	m.Step(mockMonday.Add(2*time.Hour), record)
}

func TestMockConcurrentUse(t *testing.T) {
	m := newTestMock(t, mock.Config{Seed: 8})
	ins := mockUniverse(t, 8, mockMonday, 2, 5)
	var wg sync.WaitGroup
	for w := range 2 {
		wg.Go(func() {
			for i := range 200 {
				m.Step(mockMonday.Add(time.Duration(2*i+w)*time.Second), func(tk ticker.Tick) {
					if err := tk.Validate(ticker.KindUnknown); err != nil {
						t.Error(err)
					}
				})
			}
		})
	}
	wg.Go(func() {
		for i := range 200 {
			k := i % len(ins)
			if err := m.Subscribe(ins[k:k+1], nil); err != nil {
				t.Error(err)
			}
			if i%3 == 0 {
				if err := m.Subscribe(nil, ins[k:k+1]); err != nil {
					t.Error(err)
				}
			}
			_ = m.Instruments()
			_, _ = m.Spot("NIFTY")
		}
	})
	wg.Wait()
	require.Equal(t, len(m.Instruments()), m.Len())
}

// A Step at an earlier IST day (a clock stepped back across midnight) must not
// restart the day's cumulative volume: it never falls within a day.
func TestMockVolumeSurvivesStepBackAcrossMidnight(t *testing.T) {
	m := newTestMock(t, mock.Config{Seed: 2})
	ins := mockUniverse(t, 2, mockMonday, 1, 2)
	require.NoError(t, m.Subscribe(ins, nil))
	tuesday := mockMonday.Add(24 * time.Hour)
	for i := range 60 {
		m.Step(tuesday.Add(time.Duration(i)*time.Minute), nil)
	}
	high := map[uint32]uint64{}
	m.Step(tuesday.Add(time.Hour), func(tk ticker.Tick) { high[tk.Token] = tk.Volume })
	m.Step(mockMonday, nil) // back to Monday
	grew := 0
	m.Step(tuesday.Add(time.Hour+time.Second), func(tk ticker.Tick) {
		require.GreaterOrEqual(t, tk.Volume, high[tk.Token], "token %d", tk.Token)
		if tk.Volume > 0 {
			grew++
		}
	})
	require.Positive(t, grew)
}

// A rate and a dividend yield of exactly zero can be set (nil means the
// defaults): the forward is then the spot, so a future trades at the index
// level and C − P = S − K.
func TestMockZeroRateAndYield(t *testing.T) {
	nifty := []market.UnderlyingSpec{market.NIFTY()}
	m := newTestMock(t, mock.Config{Seed: 3, Underlyings: nifty, Rate: new(0.0), DividendYield: new(0.0)})
	ins := mockUniverse(t, 3, mockMonday, 2, 3)[:1+2*2*7] // NIFTY only
	fut := ticker.Instrument{Token: 77, Symbol: "NIFTY25DECFUT", Underlying: "NIFTY", Kind: ticker.KindFuture,
		Expiry: time.Date(2025, 12, 30, 15, 30, 0, 0, market.IST())}
	require.NoError(t, m.Subscribe(append(ins, fut), nil))
	for i := range 20 {
		now := mockMonday.Add(time.Duration(i) * 5 * time.Minute)
		var round []ticker.Tick
		m.Step(now, func(tk ticker.Tick) { round = append(round, tk) })
		require.Len(t, round, len(ins)+1)
		index, future := round[0], round[len(round)-1]
		require.Equal(t, index.LastPrice, future.LastPrice, "no carry: the future is at the spot")
		spot, _ := m.Spot("NIFTY")
		for j := 1; j+1 < len(ins); j += 2 { // call, put of one strike
			call, put := round[j], round[j+1]
			require.InDelta(t, spot-ins[j].Strike, call.LastPrice-put.LastPrice, 0.05+1e-9)
			require.InDelta(t, 1, call.Delta-put.Delta, 1e-12, "no dividend: Δc − Δp = 1")
		}
	}

	// The defaults apply when the fields are nil: the future is at a premium.
	d := newTestMock(t, mock.Config{Seed: 3, Underlyings: nifty})
	require.NoError(t, d.Subscribe([]ticker.Instrument{ins[0], fut}, nil))
	var round []ticker.Tick
	d.Step(mockMonday, func(tk ticker.Tick) { round = append(round, tk) })
	years := float64(time.Date(2025, 12, 30, 15, 30, 0, 0, market.IST()).Sub(mockMonday)) / float64(365*24*time.Hour)
	want := market.NIFTY().Spot * math.Exp((mock.DefaultRate-mock.DefaultDividendYield)*years)
	require.InDelta(t, want, round[1].LastPrice, 0.025+1e-9)
}

// Extreme but valid inputs: the highest volatility allowed, rounds years
// apart (time to expiry far beyond, then past, every contract), a future
// with no strike, huge and tiny lot sizes. Nothing NaN, infinite or
// negative is ever emitted, the spot stays positive and finite, and the
// options rolled in keep ticking.
func TestMockExtremeInputsNeverEmitBadPrices(t *testing.T) {
	spec := market.NIFTY()
	spec.Volatility = 2.5
	for _, seed := range []uint64{1, 2, 3} {
		m := newTestMock(t, mock.Config{Seed: seed, Underlyings: []market.UnderlyingSpec{spec}, RollStrikesPerSide: 2})
		ins, err := market.Universe(market.UniverseConfig{Seed: seed, Date: mockMonday, Underlyings: []market.UnderlyingSpec{spec}, Expiries: 2, StrikesPerSide: 2})
		require.NoError(t, err)
		ins = append(ins,
			ticker.Instrument{Token: 91, Underlying: "NIFTY", Kind: ticker.KindFuture, Expiry: mockMonday.AddDate(150, 0, 0)},
			ticker.Instrument{Token: 92, Underlying: "NIFTY", Kind: ticker.KindEquity, LotSize: 1 << 24},
		)
		require.NoError(t, m.Subscribe(ins, nil))
		// Out of range: a lot size whose volume could overflow, an expiry
		// beyond the years the mock's clock can count in nanoseconds.
		huge := ins[1]
		huge.Token, huge.LotSize = 93, 1<<24+1
		far := ins[1]
		far.Token, far.Expiry = 94, time.Date(2263, 1, 1, 0, 0, 0, 0, market.IST())
		err = m.Subscribe([]ticker.Instrument{huge, far}, nil)
		require.ErrorIs(t, err, mock.ErrUnsupportedInstrument)
		require.NotErrorIs(t, err, mock.ErrExpiredInstrument)
		require.ErrorContains(t, err, "token 93")
		require.ErrorContains(t, err, "token 94")
		// Times from 1700, when every contract is centuries from expiry,
		// to 2256, the gap of 1995 from 1700 as long as a Duration allows.
		start := time.Date(1700, 1, 1, 10, 0, 0, 0, market.IST())
		for _, now := range []time.Time{
			start, start.Add(time.Second), start.Add(time.Hour), start.AddDate(0, 0, 1),
			time.Date(1995, 6, 1, 10, 0, 0, 0, market.IST()), mockMonday, mockMonday.AddDate(1, 0, 0),
			mockMonday.AddDate(201, 0, 0), mockMonday.AddDate(201, 0, 0).Add(time.Minute), mockMonday.AddDate(231, 0, 0),
		} {
			options := 0
			open := market.Hours{}.Open(now)
			m.Step(now, func(tk ticker.Tick) {
				require.True(t, open, "ticked outside the session at %v", now)
				require.NoError(t, tk.Validate(ticker.KindUnknown))
				for _, v := range []float64{tk.LastPrice, tk.Bid, tk.Ask, tk.IV} {
					require.False(t, math.IsNaN(v) || math.IsInf(v, 0) || v < 0, "%+v", tk)
				}
				if tk.IV > 0 {
					options++
				}
			})
			spot, _ := m.Spot("NIFTY")
			require.True(t, spot > 0 && !math.IsInf(spot, 0), "seed %d at %v: spot %v", seed, now, spot)
			if open {
				require.Positive(t, options, "seed %d at %v: no option ticked", seed, now)
			}
		}
	}
	// Volatility beyond what the smile and bs.ImpliedVol can represent is refused.
	spec.Volatility = 2.6
	_, err := mock.New(mock.Config{Underlyings: []market.UnderlyingSpec{spec}})
	require.ErrorContains(t, err, "Config.Underlyings[0].Volatility")
}

// A refused configuration leaves nothing registered: the caller can retry
// with the same Name on the same registry.
func TestMockConfigRefusedRegistersNothing(t *testing.T) {
	reg := prometheus.NewRegistry()
	_, err := mock.New(mock.Config{Name: "r", Registerer: reg, MaxSize: 1<<30 + 1})
	require.ErrorContains(t, err, "Config.MaxSize")
	// A metric of the store's taken: the mock registers its own, then the store fails.
	clash := prometheus.NewGauge(prometheus.GaugeOpts{Namespace: "steadfast", Subsystem: "mockstate", Name: "entries", Help: "Entries in the store.",
		ConstLabels: prometheus.Labels{"name": "r/state"}})
	require.NoError(t, reg.Register(clash))
	_, err = mock.New(mock.Config{Name: "r", Registerer: reg, Logger: mockQuiet})
	require.Error(t, err)
	require.True(t, reg.Unregister(clash))
	m, err := mock.New(mock.Config{Name: "r", Registerer: reg, Logger: mockQuiet})
	require.NoError(t, err, "the failed attempts left nothing registered")
	require.NotNil(t, m)
}

// Run, Step, Subscribe and the readers at once, on the bubble's clock: the
// race detector watches, and every emitted tick is valid.
func TestMockRunConcurrentWithStepAndSubscribe(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		clock := market.SessionClock(mockMonday, market.Hours{}, 1)
		m := newTestMock(t, mock.Config{Seed: 8, Interval: 10 * time.Millisecond, Now: clock})
		ins := mockUniverse(t, 8, clock(), 2, 3)
		require.NoError(t, m.Subscribe(ins[:len(ins)/2], nil))
		ctx, cancel := context.WithCancel(t.Context())
		var ticks sync.WaitGroup
		var wg sync.WaitGroup
		var n sync.Map
		emit := func(tk ticker.Tick) {
			if err := tk.Validate(ticker.KindUnknown); err != nil {
				t.Error(err)
			}
			n.Store(tk.Token, true)
		}
		ticks.Go(func() { require.NoError(t, m.Run(ctx, emit)) })
		wg.Go(func() {
			for range 100 {
				m.Step(clock(), emit)
				time.Sleep(3 * time.Millisecond)
			}
		})
		wg.Go(func() {
			for i := range 100 {
				k := i % len(ins)
				_ = m.Subscribe(ins[k:k+1], ins[(k+7)%len(ins):(k+7)%len(ins)+1])
				_ = m.Instruments()
				_, _ = m.Spot("BANKNIFTY")
				_ = m.Len()
				time.Sleep(7 * time.Millisecond)
			}
		})
		wg.Wait()
		cancel()
		ticks.Wait()
		require.Equal(t, len(m.Instruments()), m.Len())
		seen := 0
		n.Range(func(any, any) bool { seen++; return true })
		require.Greater(t, seen, len(ins)/2)
	})
}

// A tick that fails Tick.Validate is withheld and counted, the rest of the
// round is delivered, and the instrument's state is not corrupted by it.
func TestMockInvalidTicksWithheldAndCounted(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := newTestMock(t, mock.Config{Name: "w", Registerer: reg, Underlyings: []market.UnderlyingSpec{market.NIFTY()}})
	// A tick size so small that every price overflows to +Inf on its grid.
	bad := ticker.Instrument{Token: 5, Symbol: "TINY", Underlying: "NIFTY", Kind: ticker.KindEquity, TickSize: 1e-310}
	good := ticker.Instrument{Token: 6, Symbol: "FINE", Underlying: "NIFTY", Kind: ticker.KindEquity}
	require.NoError(t, m.Subscribe([]ticker.Instrument{bad, good}, nil))
	for i := range 3 {
		var got []uint32
		m.Step(mockMonday.Add(time.Duration(i)*time.Second), func(tk ticker.Tick) {
			require.NoError(t, tk.Validate(ticker.KindUnknown))
			got = append(got, tk.Token)
		})
		require.Equal(t, []uint32{6}, got)
	}
	invalid, err := metrictest.Value(reg, "steadfast_ticker_mock_invalid_ticks_total", metrictest.Labels{"name": "w"})
	require.NoError(t, err)
	require.Equal(t, 3.0, invalid)
	ticks, err := metrictest.Value(reg, "steadfast_ticker_mock_ticks_total", metrictest.Labels{"name": "w"})
	require.NoError(t, err)
	require.Equal(t, 3.0, ticks)
	require.Len(t, m.Instruments(), 2, "an instrument whose tick is withheld stays subscribed")
}

// The seam between the two halves: the broker's dump, parsed, feeds the mock.
// Its index (underlying "NIFTY 50"), futures and options tick; instruments
// the mock has no model for are refused one by one; when the weekly expiry
// passes, the next one the dump already lists is kept and no duplicate of it
// is rolled in.
func TestMockStreamsParsedDump(t *testing.T) {
	f, err := os.Open("../kite/testdata/instruments.csv")
	require.NoError(t, err)
	defer f.Close()
	ins, rep, err := kite.ParseInstruments(f, kite.ParseConfig{})
	require.NoError(t, err)
	require.Zero(t, rep.Skipped)
	monday := time.Date(2026, 11, 30, 10, 0, 0, 0, market.IST())
	var logs bytes.Buffer
	m, err := mock.New(mock.Config{Seed: 1, Now: func() time.Time { return monday },
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	require.NoError(t, err)
	err = m.Subscribe(ins, nil)
	require.ErrorIs(t, err, mock.ErrUnknownUnderlying)
	for _, name := range []string{"RELIANCE INDUSTRIES", "HDFC BANK", "INFOSYS", "TATA CONSULTANCY SERV LT", "FINNIFTY", "SENSEX"} {
		require.ErrorContains(t, err, strconv.Quote(name))
	}
	require.Len(t, m.Instruments(), len(ins)-6)

	byToken := map[uint32]ticker.Instrument{}
	for _, in := range ins {
		byToken[in.Token] = in
	}
	check := func(now time.Time) map[string]bool {
		expiries := map[string]bool{}
		m.Step(now, func(tk ticker.Tick) {
			require.NoError(t, tk.Validate(ticker.KindUnknown))
			in, ok := byToken[tk.Token]
			if !ok {
				t.Errorf("token %d ticked but is not in the dump", tk.Token)
				return
			}
			require.Positive(t, tk.LastPrice, in.Symbol)
			if in.Kind.IsOption() {
				require.Positive(t, tk.IV, in.Symbol)
				expiries[in.Expiry.Format(time.DateOnly)] = true
			}
		})
		return expiries
	}
	require.Equal(t, map[string]bool{"2026-12-01": true, "2026-12-08": true, "2026-12-29": true}, check(monday))
	// After Tuesday's close the 1 December options are gone and, since they
	// came from a dump, nothing is invented in their place: the mock cannot
	// know the tokens and lots of the exchange's next contracts.
	after := time.Date(2026, 12, 1, 15, 31, 0, 0, market.IST())
	m.Step(after, nil)
	require.Contains(t, logs.String(), "expired contracts of another listing not replaced")
	got := check(time.Date(2026, 12, 2, 10, 0, 0, 0, market.IST()))
	require.Equal(t, map[string]bool{"2026-12-08": true, "2026-12-29": true}, got)
	for _, in := range m.Instruments() {
		_, ok := byToken[in.Token]
		require.True(t, ok, "%s is not from the dump", in.Symbol)
	}
}

// A Subscribe that refuses many instruments returns an error of bounded
// size: ten named, the rest counted, every kind still found by errors.Is.
// (It listed every one: 84,448 refused instruments made an 8 MB error, logged
// whole by the engine's reload on every retry.)
func TestMockSubscribeErrorIsBounded(t *testing.T) {
	m := newTestMock(t, mock.Config{Seed: 1, MaxSize: 10, Now: func() time.Time { return mockMonday }})
	ins := mockUniverse(t, 1, mockMonday, 1, 50) // 2 indices and 404 options
	unknown := ticker.Instrument{Token: 7, Symbol: "RELIANCE", Underlying: "RELIANCE", Kind: ticker.KindEquity}
	err := m.Subscribe(append(ins, unknown), nil)
	require.ErrorIs(t, err, mock.ErrFull)
	require.ErrorIs(t, err, mock.ErrUnknownUnderlying, "a kind among the counted refusals")
	require.Less(t, len(err.Error()), 2000, "%d bytes", len(err.Error()))
	require.Equal(t, 11, strings.Count(err.Error(), "\n")+1, "ten named and one count:\n%v", err)
	require.ErrorContains(t, err, fmt.Sprintf("and %d more instruments not subscribed (source is full; no such underlying)", len(ins)+1-10-10))
	require.Len(t, m.Instruments(), 10)
}

// TestMockTradesOnBudgetSunday2026: with market.Holidays2026 the mock trades
// on Sunday 1 February 2026, a special session of the exchanges, and not on
// the Saturday before.
func TestMockTradesOnBudgetSunday2026(t *testing.T) {
	sunday := time.Date(2026, 2, 1, 11, 0, 0, 0, market.IST())
	m := newTestMock(t, mock.Config{Seed: 1, Holidays: market.Holidays2026(), Now: func() time.Time { return sunday }})
	ins, err := market.Universe(market.UniverseConfig{Seed: 1, Date: sunday, Expiries: 1, StrikesPerSide: 1, Holidays: market.Holidays2026()})
	require.NoError(t, err)
	require.NoError(t, m.Subscribe(ins, nil))
	var n int
	m.Step(sunday.AddDate(0, 0, -1), func(ticker.Tick) { n++ })
	require.Zero(t, n, "Saturday 31 January is closed")
	m.Step(sunday, func(ticker.Tick) { n++ })
	require.Equal(t, len(ins), n, "every instrument ticks on the Sunday")
}

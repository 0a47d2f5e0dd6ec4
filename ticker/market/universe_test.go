package market

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/steadfast-go/steadfast/ticker"
	"github.com/steadfast-go/steadfast/ticker/internal/nse"
	"github.com/stretchr/testify/require"
)

func TestExpiries(t *testing.T) {
	nifty, bank := NIFTY(), BANKNIFTY()
	thursday := NIFTY()
	thursday.ExpiryWeekday = time.Thursday
	tests := []struct {
		name     string
		spec     UnderlyingSpec
		from     time.Time
		n        int
		holidays Holidays
		want     []time.Time
	}{
		{
			name: "weekly through a month end",
			spec: nifty, from: ymdhms(2025, 12, 17, 14, 0, 0), n: 4,
			want: []time.Time{ymd(2025, 12, 23), ymd(2025, 12, 30), ymd(2026, 1, 6), ymd(2026, 1, 13)},
		},
		{
			name: "from an expiry day includes it",
			spec: nifty, from: ymdhms(2025, 12, 2, 15, 0, 0), n: 2,
			want: []time.Time{ymd(2025, 12, 2), ymd(2025, 12, 9)},
		},
		{
			name: "from the day after an expiry",
			spec: nifty, from: ymd(2025, 12, 3), n: 1,
			want: []time.Time{ymd(2025, 12, 9)},
		},
		{
			name: "from given in UTC counts its IST date",
			spec: nifty, from: time.Date(2025, 12, 1, 19, 0, 0, 0, time.UTC), n: 1, // 00:30 IST on Tuesday the 2nd
			want: []time.Time{ymd(2025, 12, 2)},
		},
		{
			name: "weekly expiry on a holiday moves to Monday",
			spec: nifty, from: ymd(2025, 12, 15), n: 3, holidays: NewHolidays(ymd(2025, 12, 23)),
			want: []time.Time{ymd(2025, 12, 16), ymd(2025, 12, 22), ymd(2025, 12, 30)},
		},
		{
			name: "holiday move lands before from: skipped",
			spec: nifty, from: ymd(2025, 12, 23), n: 1, holidays: NewHolidays(ymd(2025, 12, 23)),
			want: []time.Time{ymd(2025, 12, 30)},
		},
		{
			name: "holiday on Tuesday and Monday moves to Friday",
			spec: nifty, from: ymd(2025, 12, 17), n: 1, holidays: NewHolidays(ymd(2025, 12, 22), ymd(2025, 12, 23)),
			want: []time.Time{ymd(2025, 12, 19)},
		},
		{
			name: "weekly holiday move crosses into the previous month",
			spec: nifty, from: ymd(2026, 8, 26), n: 2, holidays: NewHolidays(ymd(2026, 8, 31), ymd(2026, 9, 1)),
			want: []time.Time{ymd(2026, 8, 28), ymd(2026, 9, 8)},
		},
		{
			name: "monthly only: last Tuesdays",
			spec: bank, from: ymd(2025, 12, 31), n: 4,
			want: []time.Time{ymd(2026, 1, 27), ymd(2026, 2, 24), ymd(2026, 3, 31), ymd(2026, 4, 28)},
		},
		{
			name: "monthly only from within the expiry week",
			spec: bank, from: ymd(2025, 12, 29), n: 2,
			want: []time.Time{ymd(2025, 12, 30), ymd(2026, 1, 27)},
		},
		{
			name: "monthly expiry on a holiday moves back",
			spec: bank, from: ymd(2026, 3, 1), n: 2, holidays: NewHolidays(ymd(2026, 3, 31)),
			want: []time.Time{ymd(2026, 3, 30), ymd(2026, 4, 28)},
		},
		{
			name: "monthly expiry on the 31st holiday, from the 31st: next month",
			spec: bank, from: ymd(2026, 3, 31), n: 1, holidays: NewHolidays(ymd(2026, 3, 31)),
			want: []time.Time{ymd(2026, 4, 28)},
		},
		{
			name: "Thursday expiries, as NSE listed them until 2025",
			spec: thursday, from: ymd(2024, 12, 20), n: 3, holidays: NewHolidays(ymd(2024, 12, 25)),
			want: []time.Time{ymd(2024, 12, 26), ymd(2025, 1, 2), ymd(2025, 1, 9)},
		},
		{
			name: "leap February",
			spec: bank, from: ymd(2028, 2, 1), n: 1,
			want: []time.Time{ymd(2028, 2, 29)},
		},
		{name: "n zero", spec: nifty, from: ymd(2025, 12, 1), n: 0, want: nil},
		{name: "n negative", spec: nifty, from: ymd(2025, 12, 1), n: -1, want: nil},
		{name: "no series", spec: UnderlyingSpec{ExpiryWeekday: time.Tuesday}, from: ymd(2025, 12, 1), n: 2, want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Expiries(tt.spec, tt.from, tt.n, tt.holidays)
			require.Len(t, got, len(tt.want))
			for i := range got {
				want := tt.want[i].Add(15*time.Hour + 30*time.Minute) // the close of the expiry date
				require.True(t, want.Equal(got[i]), "expiry %d = %v, want %v", i, got[i], want)
				require.Equal(t, "IST", got[i].Location().String())
				require.True(t, TradingDay(got[i], tt.holidays))
			}
		})
	}
}

func TestUniverseDefaults(t *testing.T) {
	ins, err := Universe(UniverseConfig{Date: ymdhms(2026, 12, 1, 10, 0, 0)})
	require.NoError(t, err)
	// Two underlyings, each an index, 3 futures and 2 expiries × 21 strikes × 2.
	require.Len(t, ins, 2*(1+3+2*21*2))

	nifty, bank := ins[0], ins[88]
	require.Equal(t, ticker.Instrument{Token: 256265, ExchangeToken: 1001, Symbol: "NIFTY 50", Exchange: "NSE", Segment: "INDICES",
		Underlying: "NIFTY", Kind: ticker.KindIndex}, nifty, "an index row has tick size and lot 0, as in the dump")
	require.Equal(t, ticker.Instrument{Token: 260105, ExchangeToken: 1016, Symbol: "NIFTY BANK", Exchange: "NSE", Segment: "INDICES",
		Underlying: "BANKNIFTY", Kind: ticker.KindIndex}, bank)

	// Futures: the near three months, tick by price band, lot of the series.
	var futs []string
	for _, in := range ins[1:4] {
		require.Equal(t, ticker.KindFuture, in.Kind)
		require.Equal(t, "NFO-FUT", in.Segment)
		require.Equal(t, 65, in.LotSize)
		require.Equal(t, 0.1, in.TickSize)
		futs = append(futs, in.Symbol+" "+in.Expiry.Format(time.DateOnly))
	}
	require.Equal(t, []string{"NIFTY26DECFUT 2026-12-29", "NIFTY27JANFUT 2027-01-26", "NIFTY27FEBFUT 2027-02-23"}, futs)
	require.Equal(t, 0.2, ins[89].TickSize, ins[89].Symbol)

	first := ins[4]
	require.Equal(t, "NIFTY26D0125500CE", first.Symbol)
	require.Equal(t, ticker.KindCall, first.Kind)
	require.Equal(t, 25500.0, first.Strike)
	require.True(t, ymdhms(2026, 12, 1, 15, 30, 0).Equal(first.Expiry))
	require.Equal(t, 65, first.LotSize)
	require.Equal(t, "NFO", first.Exchange)
	require.Equal(t, "NFO-OPT", first.Segment)
	require.Equal(t, first.ExchangeToken<<8|2, first.Token)
	require.Equal(t, "NIFTY26D0125500PE", ins[5].Symbol)
	require.Equal(t, "NIFTY26D0826500PE", ins[87].Symbol)

	require.Equal(t, "BANKNIFTY26DEC58000CE", ins[92].Symbol)
	require.Equal(t, 30, ins[92].LotSize)
	require.True(t, ymdhms(2026, 12, 29, 15, 30, 0).Equal(ins[92].Expiry))
	require.Equal(t, "BANKNIFTY27JAN60000PE", ins[len(ins)-1].Symbol)

	tokens := map[uint32]string{}
	for i, in := range ins {
		require.NotZero(t, in.Token, in.Symbol)
		prev, dup := tokens[in.Token]
		require.False(t, dup, "token %d of %s already used by %s", in.Token, in.Symbol, prev)
		tokens[in.Token] = in.Symbol
		if i > 0 && in.Kind.IsOption() && ins[i-1].Kind.IsOption() && in.Underlying == ins[i-1].Underlying {
			require.LessOrEqual(t, compareOptions(ins[i-1], in), 0, "%s after %s", in.Symbol, ins[i-1].Symbol)
		}
	}
}

func TestUniverseSymbols(t *testing.T) {
	// The last Tuesday of December 2025 is the monthly expiry; the ones
	// before it are weekly; January's weekly ones use month code 1.
	ins, err := Universe(UniverseConfig{
		Date: ymd(2025, 12, 22), Underlyings: legacySpecs()[:1], Expiries: 3, StrikesPerSide: 1,
	})
	require.NoError(t, err)
	var syms []string
	for _, in := range ins[1:] {
		if in.Kind == ticker.KindCall && in.Strike == 24000 {
			syms = append(syms, in.Symbol)
		}
	}
	require.Equal(t, []string{"NIFTY25D2324000CE", "NIFTY25DEC24000CE", "NIFTY2610624000CE"}, syms)

	// Fractional strikes keep their decimals.
	spec := NIFTY()
	spec.Spot, spec.StrikeStep = 100, 2.5
	ins, err = Universe(UniverseConfig{Date: ymd(2025, 12, 22), Underlyings: []UnderlyingSpec{spec}, Expiries: 1, StrikesPerSide: 1, Futures: -1})
	require.NoError(t, err)
	require.Equal(t, "NIFTY25D2397.5CE", ins[1].Symbol)

	// A step that is not exact in binary still gives clean strikes.
	spec.Spot, spec.StrikeStep = 0.3, 0.1
	ins, err = Universe(UniverseConfig{Date: ymd(2025, 12, 22), Underlyings: []UnderlyingSpec{spec}, Expiries: 1, StrikesPerSide: 2, Futures: -1})
	require.NoError(t, err)
	require.Equal(t, []string{"NIFTY25D230.1CE", "NIFTY25D230.1PE", "NIFTY25D230.2CE", "NIFTY25D230.2PE",
		"NIFTY25D230.3CE", "NIFTY25D230.3PE", "NIFTY25D230.4CE", "NIFTY25D230.4PE",
		"NIFTY25D230.5CE", "NIFTY25D230.5PE"}, symbols(ins[1:]))
}

func TestHugeCountsDoNotPanic(t *testing.T) {
	require.Len(t, Expiries(NIFTY(), ymd(2025, 12, 1), 3, Holidays{}), 3)
	ins, err := Universe(UniverseConfig{Date: ymd(2025, 12, 1), Expiries: 1, StrikesPerSide: 1})
	require.NoError(t, err)
	require.Len(t, SelectChain(ins, "NIFTY", 24000, ymd(2025, 12, 1), math.MaxInt, math.MaxInt), 6)
}

func TestUniverseSkipsNonPositiveStrikes(t *testing.T) {
	spec := NIFTY()
	spec.Spot = 100 // ATM 100: strikes 50..250, not 0 or -50
	ins, err := Universe(UniverseConfig{Date: ymd(2025, 12, 1), Underlyings: []UnderlyingSpec{spec}, Expiries: 1, StrikesPerSide: 3})
	require.NoError(t, err)
	var strikes []float64
	for _, in := range ins {
		if in.Kind == ticker.KindCall {
			strikes = append(strikes, in.Strike)
		}
	}
	require.Equal(t, []float64{50, 100, 150, 200, 250}, strikes)
}

func TestUniverseTokensStable(t *testing.T) {
	tokens := func(seed uint64, d time.Time, side int) map[string]uint32 {
		ins, err := Universe(UniverseConfig{Seed: seed, Date: d, Expiries: 3, StrikesPerSide: side})
		require.NoError(t, err)
		m := map[string]uint32{}
		for _, in := range ins {
			m[in.Symbol] = in.Token
		}
		return m
	}
	a := tokens(7, ymd(2025, 12, 1), 10)
	require.Equal(t, a, tokens(7, ymd(2025, 12, 1), 10), "same seed, same universe")

	// A later date and fewer strikes: every contract both list keeps its token.
	b := tokens(7, ymd(2025, 12, 9), 4)
	common := 0
	for sym, tok := range b {
		if old, ok := a[sym]; ok {
			require.Equal(t, old, tok, sym)
			common++
		}
	}
	require.Greater(t, common, 20)

	// Another seed changes the option tokens, not the index tokens.
	c := tokens(8, ymd(2025, 12, 1), 10)
	same := 0
	for sym, tok := range c {
		if a[sym] == tok && !strings.HasPrefix(sym, "NIFTY ") {
			same++
		}
	}
	require.Equal(t, 0, same)
	require.Equal(t, uint32(256265), c["NIFTY 50"])
}

func TestContractTokenCollision(t *testing.T) {
	d := nse.Civil(2025, 12, 2)
	natural := contractToken(1, "NIFTY", d, 24000, ticker.KindCall, 2, map[uint32]struct{}{})
	used := map[uint32]struct{}{natural: {}}
	got := contractToken(1, "NIFTY", d, 24000, ticker.KindCall, 2, used)
	require.NotEqual(t, natural, got)
	require.NotZero(t, got)
	require.Contains(t, used, got)
	// Deterministic: the same collision resolves the same way.
	require.Equal(t, got, contractToken(1, "NIFTY", d, 24000, ticker.KindCall, 2, map[uint32]struct{}{natural: {}}))
	require.Equal(t, uint32(2), got&0xFF)
}

func TestUniverseConfigErrors(t *testing.T) {
	d := ymd(2025, 12, 1)
	mod := func(f func(*UnderlyingSpec)) []UnderlyingSpec {
		s := NIFTY()
		f(&s)
		return []UnderlyingSpec{s}
	}
	tests := []struct {
		name string
		cfg  UniverseConfig
		want string
	}{
		{"no date", UniverseConfig{}, "market: UniverseConfig.Date must be set"},
		{"negative expiries", UniverseConfig{Date: d, Expiries: -1}, "UniverseConfig.Expiries"},
		{"negative strikes", UniverseConfig{Date: d, StrikesPerSide: -2}, "UniverseConfig.StrikesPerSide"},
		{"too many expiries", UniverseConfig{Date: d, Expiries: 1 << 40}, "UniverseConfig.Expiries must be in [0, 1000]"},
		{"too many strikes", UniverseConfig{Date: d, StrikesPerSide: 1 << 62}, "UniverseConfig.StrikesPerSide must be in [0, 10000]"},
		{"empty name", UniverseConfig{Date: d, Underlyings: mod(func(s *UnderlyingSpec) { s.Name = "" })}, "Underlyings[0].Name"},
		{"zero token", UniverseConfig{Date: d, Underlyings: mod(func(s *UnderlyingSpec) { s.Token = 0 })}, "Underlyings[0].Token"},
		{"zero spot", UniverseConfig{Date: d, Underlyings: mod(func(s *UnderlyingSpec) { s.Spot = 0 })}, "Underlyings[0].Spot"},
		{"bad step", UniverseConfig{Date: d, Underlyings: mod(func(s *UnderlyingSpec) { s.StrikeStep = -50 })}, "Underlyings[0].StrikeStep"},
		{"step below the strike resolution", UniverseConfig{Date: d, Underlyings: mod(func(s *UnderlyingSpec) { s.StrikeStep = 1e-5 })}, "Underlyings[0].StrikeStep"},
		{"spot too many steps out", UniverseConfig{Date: d, Underlyings: mod(func(s *UnderlyingSpec) { s.Spot, s.StrikeStep = 1e300, 1e-4 })}, "Underlyings[0].Spot"},
		{"bad lot", UniverseConfig{Date: d, Underlyings: mod(func(s *UnderlyingSpec) { s.LotSize = 0 })}, "Underlyings[0].LotSize"},
		{"bad tick", UniverseConfig{Date: d, Underlyings: mod(func(s *UnderlyingSpec) { s.TickSize = 0 })}, "Underlyings[0].TickSize"},
		{"bad weekday", UniverseConfig{Date: d, Underlyings: mod(func(s *UnderlyingSpec) { s.ExpiryWeekday = 9 })}, "Underlyings[0].ExpiryWeekday"},
		{"no series", UniverseConfig{Date: d, Underlyings: mod(func(s *UnderlyingSpec) { s.Weekly, s.Monthly = false, false })}, "Underlyings[0] lists no series"},
		{"bad vol", UniverseConfig{Date: d, Underlyings: mod(func(s *UnderlyingSpec) { s.Volatility = -0.1 })}, "Underlyings[0].Volatility"},
		{"past lots out of order", UniverseConfig{Date: d, Underlyings: mod(func(s *UnderlyingSpec) { s.PastLots[1].Before = ymd(2024, 12, 1) })},
			"Underlyings[0].PastLots[1].Before must be after PastLots[0].Before"},
		{"monthly past lots out of order", UniverseConfig{Date: d, Underlyings: mod(func(s *UnderlyingSpec) { s.PastLots[1].MonthlyBefore = ymd(2025, 1, 1) })},
			"Underlyings[0].PastLots[1].MonthlyBefore must be after PastLots[0].MonthlyBefore"},
		{"past lot without a date", UniverseConfig{Date: d, Underlyings: mod(func(s *UnderlyingSpec) { s.PastLots[0].Before = time.Time{} })},
			"Underlyings[0].PastLots[0].Before must be set"},
		{"duplicate name", UniverseConfig{Date: d, Underlyings: []UnderlyingSpec{NIFTY(), NIFTY()}}, "Underlyings[1].Name \"NIFTY\" is listed twice"},
		{"duplicate token", UniverseConfig{Date: d, Underlyings: []UnderlyingSpec{NIFTY(), func() UnderlyingSpec {
			s := BANKNIFTY()
			s.Token = NIFTY().Token
			return s
		}()}}, "Underlyings[1].Token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ins, err := Universe(tt.cfg)
			require.Error(t, err)
			require.Nil(t, ins)
			require.Contains(t, err.Error(), tt.want)
			require.True(t, strings.HasPrefix(err.Error(), "market: "), err.Error())
		})
	}
}

// TestExpiriesAgainstReference compares Expiries with a direct day-by-day
// construction in time.Time arithmetic, over random dates and holidays.
func TestExpiriesAgainstReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	isTrading := func(d time.Time, hs map[time.Time]bool) bool {
		return d.Weekday() != time.Saturday && d.Weekday() != time.Sunday && !hs[d]
	}
	for range 300 {
		spec := NIFTY()
		spec.ExpiryWeekday = time.Weekday(rng.IntN(7))
		spec.Weekly = rng.IntN(2) == 0
		spec.Monthly = !spec.Weekly || rng.IntN(2) == 0
		from := ymd(2024, 1, 1).AddDate(0, 0, rng.IntN(900))
		hs := map[time.Time]bool{}
		var list []time.Time
		for range rng.IntN(40) {
			d := from.AddDate(0, 0, rng.IntN(200)-10)
			hs[d] = true
			list = append(list, d)
		}
		n := 1 + rng.IntN(8)

		// Reference: walk nominal expiry days from `from`, move each back to
		// a trading day, keep those on or after from, without repeats.
		var want []time.Time
		for d := from; len(want) < n; d = d.AddDate(0, 0, 1) {
			if d.Weekday() != spec.ExpiryWeekday {
				continue
			}
			lastOfMonth := d.AddDate(0, 0, 7).Month() != d.Month()
			if !spec.Weekly && !lastOfMonth {
				continue
			}
			a := d
			for !isTrading(a, hs) {
				a = a.AddDate(0, 0, -1)
			}
			if !a.Before(from) && (len(want) == 0 || a.After(want[len(want)-1])) {
				want = append(want, a)
			}
		}
		got := Expiries(spec, from.Add(13*time.Hour), n, NewHolidays(list...))
		require.Len(t, got, n)
		for i := range want {
			w := want[i].Add(15*time.Hour + 30*time.Minute) // the close of the expiry date
			require.True(t, w.Equal(got[i]), "spec %+v from %v: expiry %d = %v, want %v", spec, from, i, got[i], w)
		}
	}
}

// legacySpecs returns NIFTY and BANKNIFTY centred where the older tests
// expect them (24000 and 51000), with no futures listed by default.
func legacySpecs() []UnderlyingSpec {
	n, b := NIFTY(), BANKNIFTY()
	n.Spot, b.Spot = 24000, 51000
	return []UnderlyingSpec{n, b}
}

func TestLotSizeAtFollowsTheSeries(t *testing.T) {
	nifty := NIFTY()
	require.Equal(t, 25, nifty.LotSizeAt(ymd(2024, 11, 28), true))
	require.Equal(t, 25, nifty.LotSizeAt(ymd(2024, 12, 19), false))
	require.Equal(t, 75, nifty.LotSizeAt(ymd(2025, 1, 2), false), "the first weekly of 2025")
	require.Equal(t, 25, nifty.LotSizeAt(ymd(2025, 1, 30), true), "January 2025's monthly, listed in October 2024")
	require.Equal(t, 75, nifty.LotSizeAt(ymd(2025, 2, 27), true))
	require.Equal(t, 75, nifty.LotSizeAt(ymd(2025, 12, 30), true))
	require.Equal(t, 75, nifty.LotSizeAt(ymd(2025, 12, 23), false))
	require.Equal(t, 65, nifty.LotSizeAt(ymd(2026, 1, 6), false))
	require.Equal(t, 65, nifty.LotSizeAt(ymd(2026, 1, 27), true))
	bank := BANKNIFTY()
	require.Equal(t, 15, bank.LotSizeAt(ymd(2025, 1, 29), true))
	require.Equal(t, 30, bank.LotSizeAt(ymd(2025, 2, 26), true))
	require.Equal(t, 30, bank.LotSizeAt(ymd(2025, 6, 26), true))
	require.Equal(t, 35, bank.LotSizeAt(ymd(2025, 7, 31), true))
	require.Equal(t, 30, bank.LotSizeAt(ymd(2026, 1, 27), true))
	sensex := SENSEX()
	require.Equal(t, 10, sensex.LotSizeAt(ymd(2025, 1, 3), false))
	require.Equal(t, 20, sensex.LotSizeAt(ymd(2025, 1, 10), false))
	require.Equal(t, 10, sensex.LotSizeAt(ymd(2025, 1, 31), true))
	require.Equal(t, 20, sensex.LotSizeAt(ymd(2025, 2, 28), true))

	// A universe listed on 1 December 2025 has December's contracts at 75
	// and January's at 65, as the exchange listed them then.
	ins, err := Universe(UniverseConfig{Date: ymdhms(2025, 12, 1, 10, 0, 0), Underlyings: []UnderlyingSpec{nifty}, Expiries: 1, StrikesPerSide: 1})
	require.NoError(t, err)
	lots := map[string]int{}
	for _, in := range ins[1:] {
		lots[in.Symbol] = in.LotSize
	}
	require.Equal(t, 75, lots["NIFTY25DECFUT"])
	require.Equal(t, 65, lots["NIFTY26JANFUT"])
	require.Equal(t, 75, lots["NIFTY25D0226000CE"])
}

func TestUniverseAllSpecsOnTheirExchanges(t *testing.T) {
	specs := []UnderlyingSpec{NIFTY(), BANKNIFTY(), FINNIFTY(), MIDCPNIFTY(), NIFTYNXT50(), SENSEX(), BANKEX()}
	ins, err := Universe(UniverseConfig{Date: ymdhms(2026, 12, 2, 10, 0, 0), Underlyings: specs, Holidays: Holidays2026()})
	require.NoError(t, err)
	firstExpiry := map[string]string{}
	for _, in := range ins {
		seg := in.Token & 0xFF
		switch in.Kind {
		case ticker.KindIndex:
			require.Equal(t, uint32(9), seg, in.Symbol)
			require.Equal(t, in.ExchangeToken<<8|9, in.Token, in.Symbol)
			require.Zero(t, in.TickSize, "%s: an index row has no tick size in Kite's dump", in.Symbol)
			require.Zero(t, in.LotSize, "%s: nor a lot", in.Symbol)
			continue
		case ticker.KindFuture:
			require.Equal(t, IndexFuturesTickSize(specOf(t, specs, in.Underlying).Spot), in.TickSize, in.Symbol)
		}
		require.Equal(t, in.ExchangeToken<<8|SegmentCode(in.Exchange, in.Segment), in.Token, in.Symbol)
		require.Equal(t, specOf(t, specs, in.Underlying).LotSize, in.LotSize, in.Symbol)
		if in.Underlying == "SENSEX" || in.Underlying == "BANKEX" {
			require.Equal(t, "BFO", in.Exchange, in.Symbol)
			require.Equal(t, uint32(5), seg, in.Symbol)
		} else {
			require.Equal(t, "NFO", in.Exchange, in.Symbol)
			require.Equal(t, uint32(2), seg, in.Symbol)
		}
		if _, ok := firstExpiry[in.Underlying]; !ok && in.Kind.IsOption() {
			firstExpiry[in.Underlying] = in.Expiry.Format(time.DateOnly)
		}
	}
	require.Equal(t, map[string]string{
		"NIFTY": "2026-12-08", "SENSEX": "2026-12-03", // weekly
		"BANKNIFTY": "2026-12-29", "FINNIFTY": "2026-12-29", "MIDCPNIFTY": "2026-12-29", "NIFTYNXT50": "2026-12-29",
		"BANKEX": "2026-12-31", // last Thursday
	}, firstExpiry)
}

func specOf(t *testing.T, specs []UnderlyingSpec, name string) UnderlyingSpec {
	for _, s := range specs {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no spec %q", name)
	return UnderlyingSpec{}
}

func TestExpiryLeavesTheListingAtTheClose(t *testing.T) {
	nifty := []UnderlyingSpec{NIFTY()}
	before, err := Universe(UniverseConfig{Date: ymdhms(2026, 12, 1, 15, 29, 59), Underlyings: nifty, Expiries: 1, StrikesPerSide: 0, Futures: -1})
	require.NoError(t, err)
	after, err := Universe(UniverseConfig{Date: ymdhms(2026, 12, 1, 15, 30, 0), Underlyings: nifty, Expiries: 1, StrikesPerSide: 0, Futures: -1})
	require.NoError(t, err)
	require.Equal(t, "2026-12-01", before[1].Expiry.Format(time.DateOnly))
	require.Equal(t, "2026-12-08", after[1].Expiry.Format(time.DateOnly))
	require.Len(t, SelectChain(before, "NIFTY", 26000, ymdhms(2026, 12, 1, 15, 30, 0), 1, 0), 0)
}

func TestHolidays2026(t *testing.T) {
	h := Holidays2026()
	require.Equal(t, 16, h.Len())
	require.True(t, h.Contains(ymd(2026, 1, 26)))
	require.True(t, h.Contains(ymd(2026, 1, 15)))
	require.False(t, h.Contains(ymd(2026, 1, 27)))
	for _, d := range h.Dates() {
		require.False(t, d.Weekday() == time.Saturday || d.Weekday() == time.Sunday, d)
	}
	more := h.With(ymd(2026, 2, 2))
	require.Equal(t, 17, more.Len())
	require.Equal(t, 16, h.Len(), "With must not change the receiver")
	// A monthly expiry on a holiday moves to the trading day before it:
	// BANKNIFTY's March 2026 expiry (last Tuesday, 31 March, Mahavir Jayanti).
	require.Equal(t, "2026-03-30", Expiries(BANKNIFTY(), ymd(2026, 3, 2), 1, h)[0].Format(time.DateOnly))
}

// TestLotsOfJanuary2025 checks the rule exchanges apply when they revise a
// lot: a contract keeps the lot in force when it was listed. The November
// 2024 revision reached weekly contracts weeks before monthly ones, which
// had been listed three months ahead: in January 2025 NIFTY's weeklies had
// 75 while its monthly kept 25, BANKNIFTY's monthly kept 15, and SENSEX's
// first weekly and its monthly kept 10. (The specs expire on their 2026
// weekdays, so the dates below are Tuesdays and Thursdays.)
func TestLotsOfJanuary2025(t *testing.T) {
	ins, err := Universe(UniverseConfig{
		Date:        ymdhms(2025, 1, 1, 10, 0, 0),
		Underlyings: []UnderlyingSpec{NIFTY(), BANKNIFTY(), SENSEX(), FINNIFTY(), MIDCPNIFTY(), NIFTYNXT50(), BANKEX()},
		Expiries:    6, StrikesPerSide: 0, Futures: 2,
	})
	require.NoError(t, err)
	// The lot of each underlying's options and futures by expiry date.
	lots := map[string]int{}
	for _, in := range ins {
		if in.Kind == ticker.KindIndex {
			continue
		}
		kind := " opt"
		if in.Kind == ticker.KindFuture {
			kind = " fut"
		}
		lots[in.Underlying+" "+in.Expiry.Format(time.DateOnly)+kind] = in.LotSize
	}
	for key, want := range map[string]int{
		// NIFTY: weeklies listed after 20 November 2024 have 75; the
		// January monthly and future, listed before, keep 25.
		"NIFTY 2025-01-07 opt": 75, "NIFTY 2025-01-14 opt": 75, "NIFTY 2025-01-21 opt": 75,
		"NIFTY 2025-01-28 opt": 25, "NIFTY 2025-01-28 fut": 25,
		"NIFTY 2025-02-04 opt": 75, "NIFTY 2025-02-25 fut": 75,
		// BANKNIFTY: the January monthly keeps 15, February's has 30.
		"BANKNIFTY 2025-01-28 opt": 15, "BANKNIFTY 2025-01-28 fut": 15,
		"BANKNIFTY 2025-02-25 opt": 30, "BANKNIFTY 2025-02-25 fut": 30,
		// SENSEX: the first January weekly and the monthly keep 10.
		"SENSEX 2025-01-02 opt": 10, "SENSEX 2025-01-09 opt": 20, "SENSEX 2025-01-23 opt": 20,
		"SENSEX 2025-01-30 opt": 10, "SENSEX 2025-01-30 fut": 10, "SENSEX 2025-02-27 fut": 20,
		// The other indices' January monthlies keep the old lot too.
		"FINNIFTY 2025-01-28 fut": 25, "FINNIFTY 2025-02-25 fut": 65,
		"MIDCPNIFTY 2025-01-28 fut": 50, "MIDCPNIFTY 2025-02-25 fut": 120,
		"NIFTYNXT50 2025-01-28 fut": 10, "NIFTYNXT50 2025-02-25 fut": 25,
		"BANKEX 2025-01-30 fut": 15, "BANKEX 2025-02-27 fut": 30,
	} {
		got, ok := lots[key]
		require.True(t, ok, "no contract %s", key)
		require.Equal(t, want, got, key)
	}
}

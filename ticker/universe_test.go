package ticker

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

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
				require.True(t, tt.want[i].Equal(got[i]), "expiry %d = %v, want %v", i, got[i], tt.want[i])
				require.Equal(t, "IST", got[i].Location().String())
				require.True(t, TradingDay(got[i], tt.holidays))
			}
		})
	}
}

func TestUniverseDefaults(t *testing.T) {
	ins, err := Universe(UniverseConfig{Date: ymdhms(2025, 12, 1, 10, 0, 0)})
	require.NoError(t, err)
	// Two underlyings, each an index plus 2 expiries × 21 strikes × 2.
	require.Len(t, ins, 2*(1+2*21*2))

	nifty, bank := ins[0], ins[85]
	require.Equal(t, Instrument{Token: 256265, Symbol: "NIFTY 50", Exchange: "NSE", Segment: "INDICES",
		Underlying: "NIFTY", Kind: KindIndex, TickSize: 0.05}, nifty)
	require.Equal(t, Instrument{Token: 260105, Symbol: "NIFTY BANK", Exchange: "NSE", Segment: "INDICES",
		Underlying: "BANKNIFTY", Kind: KindIndex, TickSize: 0.05}, bank)

	first := ins[1]
	require.Equal(t, "NIFTY25D0223500CE", first.Symbol)
	require.Equal(t, KindCall, first.Kind)
	require.Equal(t, 23500.0, first.Strike)
	require.True(t, ymd(2025, 12, 2).Equal(first.Expiry))
	require.Equal(t, 75, first.LotSize)
	require.Equal(t, "NFO", first.Exchange)
	require.Equal(t, "NFO-OPT", first.Segment)
	require.Equal(t, "NIFTY25D0223500PE", ins[2].Symbol)
	require.Equal(t, "NIFTY25D0924500PE", ins[84].Symbol)

	require.Equal(t, "BANKNIFTY25DEC50000CE", ins[86].Symbol)
	require.Equal(t, 35, ins[86].LotSize)
	require.True(t, ymd(2025, 12, 30).Equal(ins[86].Expiry))
	require.Equal(t, "BANKNIFTY26JAN52000PE", ins[len(ins)-1].Symbol)

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
		Date: ymd(2025, 12, 22), Underlyings: []UnderlyingSpec{NIFTY()}, Expiries: 3, StrikesPerSide: 1,
	})
	require.NoError(t, err)
	var syms []string
	for _, in := range ins[1:] {
		if in.Kind == KindCall && in.Strike == 24000 {
			syms = append(syms, in.Symbol)
		}
	}
	require.Equal(t, []string{"NIFTY25D2324000CE", "NIFTY25DEC24000CE", "NIFTY2610624000CE"}, syms)

	// Fractional strikes keep their decimals.
	spec := NIFTY()
	spec.Spot, spec.StrikeStep = 100, 2.5
	ins, err = Universe(UniverseConfig{Date: ymd(2025, 12, 22), Underlyings: []UnderlyingSpec{spec}, Expiries: 1, StrikesPerSide: 1})
	require.NoError(t, err)
	require.Equal(t, "NIFTY25D2397.5CE", ins[1].Symbol)

	// A step that is not exact in binary still gives clean strikes.
	spec.Spot, spec.StrikeStep = 0.3, 0.1
	ins, err = Universe(UniverseConfig{Date: ymd(2025, 12, 22), Underlyings: []UnderlyingSpec{spec}, Expiries: 1, StrikesPerSide: 2})
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
		if in.Kind == KindCall {
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
	d := civilDay(2025, 12, 2)
	natural := contractToken(1, "NIFTY", d, 24000, KindCall, map[uint32]struct{}{})
	used := map[uint32]struct{}{natural: {}}
	got := contractToken(1, "NIFTY", d, 24000, KindCall, used)
	require.NotEqual(t, natural, got)
	require.NotZero(t, got)
	require.Contains(t, used, got)
	// Deterministic: the same collision resolves the same way.
	require.Equal(t, got, contractToken(1, "NIFTY", d, 24000, KindCall, map[uint32]struct{}{natural: {}}))
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
		{"no date", UniverseConfig{}, "ticker: UniverseConfig.Date must be set"},
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
			require.True(t, strings.HasPrefix(err.Error(), "ticker: "), err.Error())
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
			require.True(t, want[i].Equal(got[i]), "spec %+v from %v: expiry %d = %v, want %v", spec, from, i, got[i], want[i])
		}
	}
}

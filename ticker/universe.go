package ticker

import (
	"fmt"
	"math"
	"strconv"
	"time"
)

// UnderlyingSpec describes an index whose options the synthetic universe
// lists. Every field is a parameter because exchanges change them: NSE has
// moved expiry days and lot sizes several times. NIFTY and BANKNIFTY return
// the current values.
type UnderlyingSpec struct {
	Name          string       // underlying name used in option symbols and Instrument.Underlying, e.g. "NIFTY"
	Symbol        string       // the index's trading symbol, e.g. "NIFTY 50"
	Token         uint32       // the index's token; must be non-zero
	Spot          float64      // reference spot level the strikes are centred on, e.g. 24000
	StrikeStep    float64      // distance between listed strikes: 50 for NIFTY, 100 for BANKNIFTY; at least 0.0001, and Spot at most 1e9 steps
	LotSize       int          // contract size: 75 for NIFTY, 35 for BANKNIFTY
	TickSize      float64      // minimum price step of the options, e.g. 0.05
	ExpiryWeekday time.Weekday // weekly expiries fall on this day; monthly ones on its last occurrence in the month
	Weekly        bool         // weekly series listed (NIFTY yes, BANKNIFTY no)
	Monthly       bool         // monthly series listed
	Volatility    float64      // annualised volatility, e.g. 0.13; the mock source uses it for the index's moves and the ATM implied volatility (zero: 0.15; at most 2.5)
}

// NIFTY returns the NIFTY 50 index as NSE lists its options today: strike
// step 50, lot 75, weekly and monthly expiries on Tuesdays.
func NIFTY() UnderlyingSpec {
	return UnderlyingSpec{
		Name:          "NIFTY",
		Symbol:        "NIFTY 50",
		Token:         256265,
		Spot:          24000,
		StrikeStep:    50,
		LotSize:       75,
		TickSize:      0.05,
		ExpiryWeekday: time.Tuesday,
		Weekly:        true,
		Monthly:       true,
		Volatility:    0.13,
	}
}

// BANKNIFTY returns the NIFTY BANK index as NSE lists its options today:
// strike step 100, lot 35, monthly expiries only, on the last Tuesday.
func BANKNIFTY() UnderlyingSpec {
	return UnderlyingSpec{
		Name:          "BANKNIFTY",
		Symbol:        "NIFTY BANK",
		Token:         260105,
		Spot:          51000,
		StrikeStep:    100,
		LotSize:       35,
		TickSize:      0.05,
		ExpiryWeekday: time.Tuesday,
		Weekly:        false,
		Monthly:       true,
		Volatility:    0.15,
	}
}

// validate checks the fields Universe and Expiries rely on; field is the
// name to report, such as "Underlyings[1]".
func (s UnderlyingSpec) validate(field string) error {
	switch {
	case s.Name == "":
		return fmt.Errorf("ticker: %s.Name must not be empty", field)
	case s.Token == 0:
		return fmt.Errorf("ticker: %s.Token must not be zero", field)
	case !(s.Spot > 0) || math.IsInf(s.Spot, 0):
		return fmt.Errorf("ticker: %s.Spot must be positive and finite, got %v", field, s.Spot)
	case !(s.StrikeStep >= minStrikeStep) || math.IsInf(s.StrikeStep, 0):
		return fmt.Errorf("ticker: %s.StrikeStep must be finite and at least %v, got %v", field, minStrikeStep, s.StrikeStep)
	case s.Spot/s.StrikeStep > maxSpotSteps:
		return fmt.Errorf("ticker: %s.Spot must be at most %g strike steps, got %v with StrikeStep %v", field, float64(maxSpotSteps), s.Spot, s.StrikeStep)
	case s.LotSize <= 0:
		return fmt.Errorf("ticker: %s.LotSize must be positive, got %d", field, s.LotSize)
	case !(s.TickSize > 0) || math.IsInf(s.TickSize, 0):
		return fmt.Errorf("ticker: %s.TickSize must be positive and finite, got %v", field, s.TickSize)
	case s.ExpiryWeekday < time.Sunday || s.ExpiryWeekday > time.Saturday:
		return fmt.Errorf("ticker: %s.ExpiryWeekday must be a day of the week, got %d", field, int(s.ExpiryWeekday))
	case !s.Weekly && !s.Monthly:
		return fmt.Errorf("ticker: %s lists no series: set Weekly or Monthly", field)
	case s.Volatility < 0 || math.IsNaN(s.Volatility) || math.IsInf(s.Volatility, 0):
		return fmt.Errorf("ticker: %s.Volatility must be finite and not negative, got %v", field, s.Volatility)
	}
	return nil
}

// Limits on UnderlyingSpec: strikes are rounded to 1/10000 of a rupee, so a
// finer step would list one strike several times; and a spot more than a
// billion strike steps from zero is certainly a mistaken step (from about
// 10¹⁵ steps on, strikes would lose the step to rounding, and then overflow).
const (
	minStrikeStep = 1e-4
	maxSpotSteps  = 1e9
)

// listedExpiry is one listed expiry date and the series it belongs to.
type listedExpiry struct {
	day     calDay
	monthly bool
}

// lastOfMonth reports whether d is the last occurrence of its weekday in its
// month.
func lastOfMonth(d calDay) bool {
	_, m1, _ := d.date()
	_, m2, _ := (d + 7).date()
	return m1 != m2
}

// listExpiries returns the nearest n expiries of spec on or after start. A
// nominal expiry that is not a trading day moves to the trading day before
// it; if two nominal expiries move onto the same day it is listed once.
func listExpiries(spec UnderlyingSpec, start calDay, n int, h Holidays) []listedExpiry {
	if n <= 0 || (!spec.Weekly && !spec.Monthly) ||
		spec.ExpiryWeekday < time.Sunday || spec.ExpiryWeekday > time.Saturday {
		return nil
	}
	out := make([]listedExpiry, 0, min(n, 64))
	last := calDay(math.MinInt64)
	// The first nominal expiry weekday on or after start. A nominal day
	// before start can only move earlier, so it never qualifies.
	d := start + calDay((int(spec.ExpiryWeekday)-int(start.weekday())+7)%7)
	for ; len(out) < n; d += 7 {
		monthly := lastOfMonth(d)
		if !spec.Weekly && !monthly {
			continue
		}
		a := h.onOrBefore(d)
		if a < start || a <= last {
			continue
		}
		out = append(out, listedExpiry{day: a, monthly: spec.Monthly && monthly})
		last = a
	}
	return out
}

// Expiries returns the nearest n expiry dates of spec, each at midnight IST,
// on or after the IST calendar date of from, in ascending order. Weekly
// expiries fall on spec.ExpiryWeekday when spec.Weekly is set; the monthly
// expiry is the last such weekday of the month. An expiry that falls on a
// holiday or a weekend moves to the previous trading day (and is dropped if
// that day is before from's date). It returns nil when n ≤ 0, when spec
// lists no series or when its ExpiryWeekday is not a day of the week.
func Expiries(spec UnderlyingSpec, from time.Time, n int, h Holidays) []time.Time {
	es := listExpiries(spec, dayOf(from), n, h)
	if es == nil {
		return nil
	}
	loc := IST()
	out := make([]time.Time, len(es))
	for i, e := range es {
		out[i] = e.day.at(0, loc)
	}
	return out
}

// UniverseConfig configures Universe. The zero value of every field but Date
// means its documented default.
type UniverseConfig struct {
	// Seed derives the option tokens: the same Seed gives the same token to
	// the same contract on every call, whatever Date or the other
	// contracts. Zero is a valid seed.
	Seed uint64
	// Date is the trading date the universe is listed for (its IST calendar
	// date counts); expiries are the nearest on or after it. Required.
	Date time.Time
	// Underlyings lists the indices. Default: NIFTY() and BANKNIFTY().
	Underlyings []UnderlyingSpec
	// Expiries is the number of nearest expiries listed per underlying.
	// Default 2; negative or above 1000 is an error.
	Expiries int
	// StrikesPerSide is the number of strikes listed on each side of the ATM
	// strike, so each expiry has 2·StrikesPerSide+1 strikes (fewer if some
	// would not be positive). Default 10; negative or above 10000 is an
	// error.
	StrikesPerSide int
	// Holidays are the exchange holidays; the zero value means none.
	Holidays Holidays
}

// Limits on UniverseConfig, far above any listing, that keep a mistaken
// value from exhausting memory.
const (
	maxUniverseExpiries = 1000
	maxStrikesPerSide   = 10000
)

// Universe lists a synthetic set of instruments, so that nothing needs a data
// file. For each underlying, in the order given, it lists the index (with the
// spec's Token) and then, for each of the nearest expiries in ascending
// order, a call and a put at every strike from ATM−StrikesPerSide·StrikeStep
// to ATM+StrikesPerSide·StrikeStep, where ATM is Spot rounded to the nearest
// StrikeStep; options are sorted by expiry, strike, call before put.
//
// Option tokens are non-zero, distinct from each other and from the index
// tokens, and stable: the same Seed gives the same contract the same token in
// every universe (a hash of the seed and the contract; a collision, rare
// at 32 bits, is resolved by rehashing in listing order). Symbols follow
// the broker's style: NIFTY25DEC24000CE for a monthly expiry and
// NIFTY25D0924000CE (year, month code 1–9/O/N/D, day) for a weekly one.
//
// Universe returns an error naming the field when the configuration is
// invalid.
func Universe(cfg UniverseConfig) ([]Instrument, error) {
	if cfg.Date.IsZero() {
		return nil, fmt.Errorf("ticker: UniverseConfig.Date must be set")
	}
	if cfg.Expiries < 0 || cfg.Expiries > maxUniverseExpiries {
		return nil, fmt.Errorf("ticker: UniverseConfig.Expiries must be in [0, %d], got %d", maxUniverseExpiries, cfg.Expiries)
	}
	if cfg.StrikesPerSide < 0 || cfg.StrikesPerSide > maxStrikesPerSide {
		return nil, fmt.Errorf("ticker: UniverseConfig.StrikesPerSide must be in [0, %d], got %d", maxStrikesPerSide, cfg.StrikesPerSide)
	}
	if cfg.Expiries == 0 {
		cfg.Expiries = 2
	}
	if cfg.StrikesPerSide == 0 {
		cfg.StrikesPerSide = 10
	}
	specs := cfg.Underlyings
	if len(specs) == 0 {
		specs = []UnderlyingSpec{NIFTY(), BANKNIFTY()}
	}
	used := make(map[uint32]struct{}, len(specs)*(1+2*cfg.Expiries*(2*cfg.StrikesPerSide+1)))
	names := make(map[string]struct{}, len(specs))
	for i, s := range specs {
		field := fmt.Sprintf("UniverseConfig.Underlyings[%d]", i)
		if err := s.validate(field); err != nil {
			return nil, err
		}
		if _, dup := names[s.Name]; dup {
			return nil, fmt.Errorf("ticker: %s.Name %q is listed twice", field, s.Name)
		}
		names[s.Name] = struct{}{}
		if _, dup := used[s.Token]; dup {
			return nil, fmt.Errorf("ticker: %s.Token %d is listed twice", field, s.Token)
		}
		used[s.Token] = struct{}{}
	}

	loc := IST()
	start := dayOf(cfg.Date)
	var out []Instrument
	for _, s := range specs {
		out = append(out, Instrument{
			Token:      s.Token,
			Symbol:     s.Symbol,
			Exchange:   "NSE",
			Segment:    "INDICES",
			Underlying: s.Name,
			Kind:       KindIndex,
			TickSize:   s.TickSize,
		})
		atm := math.Round(s.Spot/s.StrikeStep) * s.StrikeStep
		for _, e := range listExpiries(s, start, cfg.Expiries, cfg.Holidays) {
			exp := e.day.at(0, loc)
			prefix := expiryPrefix(s.Name, e)
			for k := -cfg.StrikesPerSide; k <= cfg.StrikesPerSide; k++ {
				// Rounded to 1/10000 of a rupee so that a fractional
				// step gives clean strikes (0.3, not 0.30000000000000004).
				strike := math.Round((atm+float64(k)*s.StrikeStep)*1e4) / 1e4
				if strike <= 0 {
					continue
				}
				for _, kind := range [2]Kind{KindCall, KindPut} {
					out = append(out, Instrument{
						Token:      contractToken(cfg.Seed, s.Name, e.day, strike, kind, used),
						Symbol:     optionSymbol(prefix, strike, kind),
						Exchange:   "NFO",
						Segment:    "NFO-OPT",
						Underlying: s.Name,
						Kind:       kind,
						Strike:     strike,
						Expiry:     exp,
						LotSize:    s.LotSize,
						TickSize:   s.TickSize,
					})
				}
			}
		}
	}
	return out, nil
}

// monthCodes are the one-character month codes of weekly option symbols.
const monthCodes = "123456789OND"

// expiryPrefix returns the symbol up to the strike: NIFTY25DEC for a monthly
// expiry, NIFTY25D09 for a weekly one.
func expiryPrefix(name string, e listedExpiry) string {
	y, m, d := e.day.date()
	b := make([]byte, 0, len(name)+5)
	b = append(b, name...)
	b = append(b, byte('0'+y/10%10), byte('0'+y%10))
	if e.monthly {
		for _, c := range m.String()[:3] {
			b = append(b, byte(c&^0x20)) // ASCII upper case
		}
	} else {
		b = append(b, monthCodes[m-1], byte('0'+d/10), byte('0'+d%10))
	}
	return string(b)
}

// optionSymbol appends the strike and CE or PE to prefix.
func optionSymbol(prefix string, strike float64, kind Kind) string {
	b := make([]byte, 0, len(prefix)+10)
	b = append(b, prefix...)
	b = strconv.AppendFloat(b, strike, 'f', -1, 64)
	if kind == KindCall {
		b = append(b, "CE"...)
	} else {
		b = append(b, "PE"...)
	}
	return string(b)
}

// contractToken derives the token of one option contract from the seed and
// the contract's identity, rehashing until it is non-zero and not in used,
// which it then joins.
func contractToken(seed uint64, name string, d calDay, strike float64, kind Kind, used map[uint32]struct{}) uint32 {
	// FNV-1a over the contract's identity, then a splitmix64 finaliser
	// keyed by the seed.
	const offset64, prime64 = 14695981039346656037, 1099511628211
	h := uint64(offset64)
	for i := 0; i < len(name); i++ {
		h = (h ^ uint64(name[i])) * prime64
	}
	for _, v := range [3]uint64{uint64(d), uint64(int64(math.Round(strike * 100))), uint64(kind)} {
		for i := 0; i < 8; i++ {
			h = (h ^ (v & 0xff)) * prime64
			v >>= 8
		}
	}
	for round := uint64(0); ; round++ {
		x := h ^ seed ^ (round * 0x9e3779b97f4a7c15)
		x = tokenMix(x)
		tok := uint32(x) ^ uint32(x>>32)
		if tok == 0 {
			continue
		}
		if _, taken := used[tok]; taken {
			continue
		}
		used[tok] = struct{}{}
		return tok
	}
}

// tokenMix is the splitmix64 finaliser.
func tokenMix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

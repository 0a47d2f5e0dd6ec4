package market

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/steadfast-go/steadfast/ticker"
	"github.com/steadfast-go/steadfast/ticker/internal/nse"
)

// UnderlyingSpec describes an index whose derivatives the synthetic universe
// lists. Every field is a parameter because exchanges change them: NSE has
// moved expiry days and lot sizes several times. NIFTY, BANKNIFTY, FINNIFTY,
// MIDCPNIFTY, NIFTYNXT50, SENSEX and BANKEX return the values in force in
// December 2026, each with its source (see specs.go).
type UnderlyingSpec struct {
	Name   string // underlying name used in symbols and ticker.Instrument.Underlying, e.g. "NIFTY"
	Symbol string // the index's trading symbol, e.g. "NIFTY 50"
	// Token is the index's instrument token; must be non-zero. The index
	// row's ExchangeToken is Token>>8 when Token's low byte is 9 (Kite's
	// INDICES segment), zero otherwise.
	Token uint32
	// Exchange is the derivatives exchange: "NFO" (NSE, the default when
	// empty) or "BFO" (BSE). Futures are listed in segment Exchange+"-FUT",
	// options in Exchange+"-OPT", and their tokens carry the exchange's
	// segment code (SegmentCode).
	Exchange string
	// IndexExchange is the cash exchange of the index row: "NSE" (the
	// default when empty) or "BSE".
	IndexExchange string
	Spot          float64 // reference spot level the strikes are centred on, e.g. 26000
	StrikeStep    float64 // distance between listed strikes: 50 for NIFTY, 100 for BANKNIFTY; at least 0.0001, and Spot at most 1e9 steps
	// LotSize is the contract size of the current series: 65 for NIFTY, 30
	// for BANKNIFTY.
	LotSize int
	// PastLots lists the lot sizes of earlier series, in ascending order
	// of their dates: a weekly contract expiring before PastLots[i].Before
	// (and on or after PastLots[i-1].Before) has PastLots[i].LotSize, and a
	// monthly contract or future the same by MonthlyBefore; one expiring on
	// or after the last entry's date has LotSize. Empty means LotSize for
	// every expiry. See PastLot for the rule the dates follow.
	PastLots []PastLot
	TickSize float64 // minimum price step of the options, e.g. 0.05
	// FuturesTickSize is the minimum price step of the futures. Zero means
	// IndexFuturesTickSize(Spot).
	FuturesTickSize float64
	ExpiryWeekday   time.Weekday // weekly expiries fall on this day; monthly ones (and futures) on its last occurrence in the month
	Weekly          bool         // weekly series listed (NIFTY and SENSEX yes, the others no)
	Monthly         bool         // monthly series listed
	Volatility      float64      // annualised volatility, e.g. 0.13; the mock source uses it for the index's moves and the ATM implied volatility (zero: 0.15; at most 2.5)
}

// LotSizeAt returns the lot size of the contracts expiring on the calendar
// date of expiry (its IST date): the PastLots entry in force then for the
// series, or LotSize. monthly is true for a contract of the monthly series
// (quarterly and half-yearly ones included) and for a future, false for a
// weekly contract.
func (s UnderlyingSpec) LotSizeAt(expiry time.Time, monthly bool) int {
	d := nse.DayOf(expiry)
	for _, p := range s.PastLots {
		if d < p.before(monthly) {
			return p.LotSize
		}
	}
	return s.LotSize
}

// exchanges returns the derivatives and index exchanges, defaults applied.
func (s UnderlyingSpec) exchanges() (deriv, index string) {
	deriv, index = s.Exchange, s.IndexExchange
	if deriv == "" {
		deriv = "NFO"
	}
	if index == "" {
		index = "NSE"
	}
	return deriv, index
}

// futuresTick returns the futures' tick size, the default applied.
func (s UnderlyingSpec) futuresTick() float64 {
	if s.FuturesTickSize > 0 {
		return s.FuturesTickSize
	}
	return IndexFuturesTickSize(s.Spot)
}

// Validate reports the first field of s that Universe, Expiries and the mock
// source cannot use, in an error that names it ("market:
// UnderlyingSpec.Token must not be zero"); nil when s is usable.
func (s UnderlyingSpec) Validate() error { return s.validate("UnderlyingSpec") }

// validate checks the fields Universe and Expiries rely on; field is the
// name to report, such as "Underlyings[1]".
func (s UnderlyingSpec) validate(field string) error {
	switch {
	case s.Name == "":
		return fmt.Errorf("market: %s.Name must not be empty", field)
	case s.Token == 0:
		return fmt.Errorf("market: %s.Token must not be zero", field)
	case !(s.Spot > 0) || math.IsInf(s.Spot, 0):
		return fmt.Errorf("market: %s.Spot must be positive and finite, got %v", field, s.Spot)
	case !(s.StrikeStep >= minStrikeStep) || math.IsInf(s.StrikeStep, 0):
		return fmt.Errorf("market: %s.StrikeStep must be finite and at least %v, got %v", field, minStrikeStep, s.StrikeStep)
	case s.Spot/s.StrikeStep > maxSpotSteps:
		return fmt.Errorf("market: %s.Spot must be at most %g strike steps, got %v with StrikeStep %v", field, float64(maxSpotSteps), s.Spot, s.StrikeStep)
	case s.LotSize <= 0:
		return fmt.Errorf("market: %s.LotSize must be positive, got %d", field, s.LotSize)
	case s.Exchange != "" && s.Exchange != "NFO" && s.Exchange != "BFO":
		return fmt.Errorf("market: %s.Exchange must be \"NFO\" or \"BFO\", got %q", field, s.Exchange)
	case s.IndexExchange != "" && s.IndexExchange != "NSE" && s.IndexExchange != "BSE":
		return fmt.Errorf("market: %s.IndexExchange must be \"NSE\" or \"BSE\", got %q", field, s.IndexExchange)
	case s.FuturesTickSize < 0 || math.IsNaN(s.FuturesTickSize) || math.IsInf(s.FuturesTickSize, 0):
		return fmt.Errorf("market: %s.FuturesTickSize must be finite and not negative, got %v", field, s.FuturesTickSize)
	case !(s.TickSize > 0) || math.IsInf(s.TickSize, 0):
		return fmt.Errorf("market: %s.TickSize must be positive and finite, got %v", field, s.TickSize)
	case s.ExpiryWeekday < time.Sunday || s.ExpiryWeekday > time.Saturday:
		return fmt.Errorf("market: %s.ExpiryWeekday must be a day of the week, got %d", field, int(s.ExpiryWeekday))
	case !s.Weekly && !s.Monthly:
		return fmt.Errorf("market: %s lists no series: set Weekly or Monthly", field)
	case s.Volatility < 0 || math.IsNaN(s.Volatility) || math.IsInf(s.Volatility, 0):
		return fmt.Errorf("market: %s.Volatility must be finite and not negative, got %v", field, s.Volatility)
	}
	for i, p := range s.PastLots {
		switch {
		case p.LotSize <= 0:
			return fmt.Errorf("market: %s.PastLots[%d].LotSize must be positive, got %d", field, i, p.LotSize)
		case p.Before.IsZero():
			return fmt.Errorf("market: %s.PastLots[%d].Before must be set", field, i)
		case i > 0 && p.before(false) <= s.PastLots[i-1].before(false):
			return fmt.Errorf("market: %s.PastLots[%d].Before must be after PastLots[%d].Before", field, i, i-1)
		case i > 0 && p.before(true) <= s.PastLots[i-1].before(true):
			return fmt.Errorf("market: %s.PastLots[%d].MonthlyBefore must be after PastLots[%d].MonthlyBefore", field, i, i-1)
		}
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
	day     nse.Day
	monthly bool
}

// lastOfMonth reports whether d is the last occurrence of its weekday in its
// month.
func lastOfMonth(d nse.Day) bool {
	_, m1, _ := d.Date()
	_, m2, _ := (d + 7).Date()
	return m1 != m2
}

// listExpiries returns the nearest n expiries of spec on or after start. A
// nominal expiry that is not a trading day moves to the trading day before
// it; if two nominal expiries move onto the same day it is listed once.
func listExpiries(spec UnderlyingSpec, start nse.Day, n int, h Holidays) []listedExpiry {
	if n <= 0 || (!spec.Weekly && !spec.Monthly) ||
		spec.ExpiryWeekday < time.Sunday || spec.ExpiryWeekday > time.Saturday {
		return nil
	}
	out := make([]listedExpiry, 0, min(n, 64))
	last := nse.Day(math.MinInt64)
	// The first nominal expiry weekday on or after start. A nominal day
	// before start can only move earlier, so it never qualifies.
	d := start + nse.Day((int(spec.ExpiryWeekday)-int(start.Weekday())+7)%7)
	for ; len(out) < n; d += 7 {
		monthly := lastOfMonth(d)
		if !spec.Weekly && !monthly {
			continue
		}
		a := h.onOrBefore(d, true)
		if a < start || a <= last {
			continue
		}
		out = append(out, listedExpiry{day: a, monthly: spec.Monthly && monthly})
		last = a
	}
	return out
}

// Expiries returns the nearest n expiries of spec, each the instant trading
// in its contracts ends (15:30 IST on the expiry date, as Instrument.Expiry),
// that have not expired at from, in ascending order: those on or after from's
// IST calendar date, less that date itself once its session has closed
// (15:30 IST), when the contracts expiring that day have expired. Weekly
// expiries fall on spec.ExpiryWeekday when spec.Weekly is set; the monthly
// expiry is the last such weekday of the month. An expiry that falls on a
// holiday or a weekend moves to the previous trading day, a weekday whose
// session closes at 15:30 (a special session on a weekend, or a Muhurat
// hour, never takes an expiry); it is dropped if that day is before from's
// date. It returns nil when n ≤ 0, when spec
// lists no series or when its ExpiryWeekday is not a day of the week.
func Expiries(spec UnderlyingSpec, from time.Time, n int, h Holidays) []time.Time {
	es := listExpiries(spec, listingDay(from), n, h)
	if es == nil {
		return nil
	}
	loc := IST()
	out := make([]time.Time, len(es))
	for i, e := range es {
		out[i] = e.day.At(nse.SessionClose, loc)
	}
	return out
}

// listingDay returns the first expiry date still open at t: t's IST date,
// or the next day once 15:30 IST has passed (the contracts expiring on t's
// date expire at the close).
func listingDay(t time.Time) nse.Day {
	d := nse.DayOf(t)
	if nse.SecondOfDay(t) >= nse.SessionClose {
		d++
	}
	return d
}

// UniverseConfig configures Universe. The zero value of every field but Date
// means its documented default.
type UniverseConfig struct {
	// Seed derives the option tokens: the same Seed gives the same token to
	// the same contract on every call, whatever Date or the other
	// contracts. Zero is a valid seed.
	Seed uint64
	// Date is the instant the universe is listed for; expiries are the
	// nearest that have not expired then (on or after its IST calendar
	// date, that date itself only before 15:30 IST). Required.
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
	// Futures is the number of monthly futures listed per underlying (the
	// near, next and far month by default). Default 3; negative lists none;
	// above 1000 is an error.
	Futures int
	// Holidays are the exchange holidays; the zero value means none
	// (Holidays2026 gives NSE's for 2026).
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
// spec's Token, and tick size and lot 0 as in Kite's dump), its futures of the nearest Futures monthly expiries, and
// then, for each of the nearest Expiries expiries in ascending order, a call
// and a put at every strike from ATM−StrikesPerSide·StrikeStep to
// ATM+StrikesPerSide·StrikeStep, where ATM is Spot rounded to the nearest
// StrikeStep; options are sorted by expiry, strike, call before put. Futures
// and options are on the spec's Exchange (segments "NFO-FUT", "NFO-OPT" or
// "BFO-FUT", "BFO-OPT"), with the lot size of their series and expiry
// (LotSizeAt); the
// index row is on IndexExchange, segment "INDICES".
//
// Tokens are shaped as Kite's: ExchangeToken<<8 | SegmentCode, where the
// exchange token (24 bits, non-zero) is a hash of the seed and the contract
// (underlying, expiry date, strike, kind), so the same Seed gives the same
// contract the same token in every universe; a collision, rare, is resolved
// by rehashing in listing order. Contract tokens never equal an index token:
// their low byte is the derivatives segment (2 or 5), an index's is 9.
// Symbols follow the broker's style: NIFTY25DEC24000CE for a monthly expiry,
// NIFTY25D0924000CE (year, month code 1–9/O/N/D, day) for a weekly one and
// NIFTY25DECFUT for a future.
//
// Universe returns an error naming the field when the configuration is
// invalid.
func Universe(cfg UniverseConfig) ([]ticker.Instrument, error) {
	if cfg.Date.IsZero() {
		return nil, fmt.Errorf("market: UniverseConfig.Date must be set")
	}
	if cfg.Expiries < 0 || cfg.Expiries > maxUniverseExpiries {
		return nil, fmt.Errorf("market: UniverseConfig.Expiries must be in [0, %d], got %d", maxUniverseExpiries, cfg.Expiries)
	}
	if cfg.StrikesPerSide < 0 || cfg.StrikesPerSide > maxStrikesPerSide {
		return nil, fmt.Errorf("market: UniverseConfig.StrikesPerSide must be in [0, %d], got %d", maxStrikesPerSide, cfg.StrikesPerSide)
	}
	if cfg.Futures > maxUniverseExpiries {
		return nil, fmt.Errorf("market: UniverseConfig.Futures must be at most %d, got %d", maxUniverseExpiries, cfg.Futures)
	}
	switch {
	case cfg.Futures == 0:
		cfg.Futures = 3
	case cfg.Futures < 0:
		cfg.Futures = 0
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
			return nil, fmt.Errorf("market: %s.Name %q is listed twice", field, s.Name)
		}
		names[s.Name] = struct{}{}
		if _, dup := used[s.Token]; dup {
			return nil, fmt.Errorf("market: %s.Token %d is listed twice", field, s.Token)
		}
		used[s.Token] = struct{}{}
	}

	start := listingDay(cfg.Date)
	var out []ticker.Instrument
	for _, s := range specs {
		out = appendListing(out, cfg.Seed, s, start, cfg.Futures, cfg.Expiries, cfg.StrikesPerSide, cfg.Holidays, used)
	}
	return out, nil
}

// appendListing appends to out what Universe lists for one underlying: the
// index, futures of the nearest nFut monthly expiries, and options of the
// nearest nExp expiries with side strikes on each side of the money.
func appendListing(out []ticker.Instrument, seed uint64, s UnderlyingSpec, start nse.Day, nFut, nExp, side int, h Holidays, used map[uint32]struct{}) []ticker.Instrument {
	loc := IST()
	deriv, index := s.exchanges()
	idx := ticker.Instrument{
		Token:      s.Token,
		Symbol:     s.Symbol,
		Exchange:   index,
		Segment:    "INDICES",
		Underlying: s.Name,
		Kind:       ticker.KindIndex,
		// TickSize and LotSize stay 0, as in Kite's dump: an index is
		// not traded, so it has no price step and no lot.
	}
	if s.Token&0xFF == segIndices {
		idx.ExchangeToken = s.Token >> 8
	}
	out = append(out, idx)
	seg := SegmentCode(deriv, "")
	monthly := s
	monthly.Weekly, monthly.Monthly = false, true
	for _, e := range listExpiries(monthly, start, nFut, h) {
		exp := e.day.At(nse.SessionClose, loc)
		tok := contractToken(seed, s.Name, e.day, 0, ticker.KindFuture, seg, used)
		out = append(out, ticker.Instrument{
			Token:         tok,
			ExchangeToken: tok >> 8,
			Symbol:        expiryPrefix(s.Name, e) + "FUT",
			Exchange:      deriv,
			Segment:       deriv + "-FUT",
			Underlying:    s.Name,
			Kind:          ticker.KindFuture,
			Expiry:        exp,
			LotSize:       s.LotSizeAt(exp, true),
			TickSize:      s.futuresTick(),
		})
	}
	atm := math.Round(s.Spot/s.StrikeStep) * s.StrikeStep
	for _, e := range listExpiries(s, start, nExp, h) {
		exp := e.day.At(nse.SessionClose, loc)
		prefix := expiryPrefix(s.Name, e)
		lot := s.LotSizeAt(exp, e.monthly)
		for k := -side; k <= side; k++ {
			// Rounded to 1/10000 of a rupee so that a fractional
			// step gives clean strikes (0.3, not 0.30000000000000004).
			strike := math.Round((atm+float64(k)*s.StrikeStep)*1e4) / 1e4
			if strike <= 0 {
				continue
			}
			for _, kind := range [2]ticker.Kind{ticker.KindCall, ticker.KindPut} {
				tok := contractToken(seed, s.Name, e.day, strike, kind, seg, used)
				out = append(out, ticker.Instrument{
					Token:         tok,
					ExchangeToken: tok >> 8,
					Symbol:        optionSymbol(prefix, strike, kind),
					Exchange:      deriv,
					Segment:       deriv + "-OPT",
					Underlying:    s.Name,
					Kind:          kind,
					Strike:        strike,
					Expiry:        exp,
					LotSize:       lot,
					TickSize:      s.TickSize,
				})
			}
		}
	}
	return out
}

// monthCodes are the one-character month codes of weekly option symbols.
const monthCodes = "123456789OND"

// expiryPrefix returns the symbol up to the strike: NIFTY25DEC for a monthly
// expiry, NIFTY25D09 for a weekly one.
func expiryPrefix(name string, e listedExpiry) string {
	y, m, d := e.day.Date()
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
func optionSymbol(prefix string, strike float64, kind ticker.Kind) string {
	b := make([]byte, 0, len(prefix)+10)
	b = append(b, prefix...)
	b = strconv.AppendFloat(b, strike, 'f', -1, 64)
	if kind == ticker.KindCall {
		b = append(b, "CE"...)
	} else {
		b = append(b, "PE"...)
	}
	return string(b)
}

// contractToken derives the token of one contract from the seed and the
// contract's identity, shaped as Kite's: a non-zero 24-bit exchange token
// shifted left by 8 bits, with the segment code seg in the low byte. It
// rehashes until the token is not in used, which it then joins. A segment
// code other than 9 keeps every such token apart from the index tokens.
func contractToken(seed uint64, name string, d nse.Day, strike float64, kind ticker.Kind, seg uint32, used map[uint32]struct{}) uint32 {
	h := nse.ContractHash(name, d, strike, kind)
	for round := uint64(0); ; round++ {
		tok := nse.TokenRound(seed, h, round)<<8 | seg
		if _, taken := used[tok]; taken {
			continue
		}
		used[tok] = struct{}{}
		return tok
	}
}

package mock

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/steadfast-go/steadfast/internal/contain"
	"github.com/steadfast-go/steadfast/internal/logs"
	"github.com/steadfast-go/steadfast/internal/periodic"
	"github.com/steadfast-go/steadfast/internal/promreg"
	"github.com/steadfast-go/steadfast/mockstate"
	"github.com/steadfast-go/steadfast/ticker"
	"github.com/steadfast-go/steadfast/ticker/bs"
	"github.com/steadfast-go/steadfast/ticker/internal/nse"
	"github.com/steadfast-go/steadfast/ticker/market"
)

// Errors reported by this package. Source.Subscribe wraps the first four,
// once per rejected instrument, in the error it returns; match them with
// errors.Is.
var (
	// ErrUnknownUnderlying: the instrument's underlying is not one of
	// Config.Underlyings, so the mock has no price process for it.
	ErrUnknownUnderlying = errors.New("mock: no such underlying")
	// ErrExpiredInstrument: the contract has already expired at the mock's
	// current time.
	ErrExpiredInstrument = errors.New("mock: instrument has expired")
	// ErrUnsupportedInstrument: the instrument lacks what the mock needs to
	// price it: a non-zero token, a known kind, a positive strike (options)
	// or an expiry date (options and futures).
	ErrUnsupportedInstrument = errors.New("mock: cannot price instrument")
	// ErrFull: subscribing would exceed Config.MaxSize instruments.
	ErrFull = errors.New("mock: source is full")
	// ErrRunning is returned by Source.Run while another Run of the same
	// source is in progress.
	ErrRunning = errors.New("mock: source is already running")
)

// Defaults of Config's zero fields.
const (
	DefaultInterval      = time.Second
	DefaultRate          = 0.065
	DefaultDividendYield = 0.012
	DefaultVolatility    = 0.15
	DefaultRollStrikes   = 10
	DefaultName          = "mock"
)

// Config configures New. The zero value is valid: every zero
// field means the default documented on it.
type Config struct {
	// Seed makes the simulation reproducible: two sources with the same
	// Seed and configuration that are stepped through the same times with
	// the same subscriptions emit identical ticks. It also derives the
	// tokens of contracts the mock lists itself when it rolls expiries (as
	// market.UniverseConfig.Seed does), so use the same value for both.
	Seed uint64
	// Now is the mock's clock: Run steps the simulation to Now() on every
	// Interval, and Subscribe judges expiry against it before the first step.
	// The mock trades only in the session, so outside market hours use a
	// market.SessionClock, which replays the latest session (faster than real time
	// if asked). Default time.Now.
	Now func() time.Time
	// Interval is how often Run produces a round of ticks (one per
	// subscribed instrument). Default 1s; negative is an error.
	Interval time.Duration
	// Rate is the risk-free rate, continuously compounded, used to price
	// options and futures. Nil means DefaultRate (6.5%); any other
	// value, zero included, is used as given: Rate: new(0.0) simulates a
	// zero rate. Must be in [-1, 1]. New reads the value once.
	Rate *float64
	// DividendYield is the underlyings' continuous dividend yield. Nil
	// means DefaultDividendYield (1.2%); DividendYield: new(0.0) means
	// none. Must be in [-1, 1]. New reads the value once.
	DividendYield *float64
	// Underlyings are the indices the mock simulates. Each follows
	// geometric Brownian motion on the trading-time clock from its Spot
	// with its Volatility (zero means 0.15; above 2.5 is an error) and the
	// risk-neutral drift Rate − DividendYield; its options are priced off a
	// volatility smile whose at-the-money level starts at the same
	// Volatility and moves against the index from session to session.
	// Default market.NIFTY() and market.BANKNIFTY().
	Underlyings []market.UnderlyingSpec
	// Holidays are the exchange holidays and special sessions: the mock
	// does not trade on the holidays, trades in the special sessions, and
	// lists the expiries that replace expired ones as market.Expiries does.
	// The zero value means none; market.Holidays2026 gives NSE's for 2026.
	Holidays market.Holidays
	// MaxSize bounds the number of subscribed instruments and of entries
	// in the mock's state store. Default 5000 (mockstate.DefaultMaxSize);
	// negative or above 1<<30 is an error.
	MaxSize int
	// RollStrikesPerSide is the number of strikes on each side of the money
	// that the mock lists for an expiry it adds to replace an expired one.
	// Default 10; negative or above 10000 (as for
	// market.UniverseConfig.StrikesPerSide) is an error.
	RollStrikesPerSide int
	// Name labels the source's metrics (constant label "name") and its log
	// records (key "name", with component "ticker"). Its state store is
	// named Name+"/state", so that a user's mockstate store with the same
	// Name does not clash with it. Default "mock".
	Name string
	// Logger receives contained failures: invalid ticks withheld, a panic
	// in emit, contracts rolled. Nil means slog.Default().
	Logger *slog.Logger
	// Registerer receives the metrics: steadfast_ticker_mock_ticks_total,
	// steadfast_ticker_mock_invalid_ticks_total,
	// steadfast_ticker_mock_emit_panics_total,
	// steadfast_ticker_mock_expired_total,
	// steadfast_ticker_mock_rolled_total (counters) and
	// steadfast_ticker_mock_instruments (gauge), all with the label
	// name=Name, plus the state store's steadfast_mockstate_* series with
	// name=Name+"/state". A second source with the same Name on the same
	// Registerer is refused ("mock: metrics for name ... are already
	// registered"). Nil means no metrics.
	Registerer prometheus.Registerer
}

// Price formation of the mock, fixed rather than configurable.
const (
	mockOILots    = 100_000 // open interest, in lots, of an at-the-money contract when first quoted
	mockOIMinLots = 50      // open interest floor far from the money
	mockVolLots   = 40.0    // mean lots traded per second at the money
	mockMaxTickDt = 60.0    // seconds of volume one tick can accumulate at most
	mockYear      = 365 * 24 * time.Hour
	// mockTradingDays is the number of trading days in a year of the
	// trading-time variance clock (see the Source documentation).
	mockTradingDays = 252
	// mockOvernight is the share of a trading day's variance that falls
	// between the close and the next open, and is paid as a gap at the open.
	mockOvernight = 0.2
	// mockSpotVolBeta is how strongly the at-the-money level moves against
	// the index from one session to the next: a 1% fall lifts it by about
	// mockSpotVolBeta percent (of itself).
	mockSpotVolBeta = 2.0
	// mockOIWalk scales how much of the traded lots change open interest.
	mockOIWalk = 0.5
	// mockSpotRange bounds how far an underlying may wander from its
	// reference Spot, as a factor either way: GBM would otherwise let an
	// extreme volatility or a gap of years between rounds absorb the level
	// at zero (no option could be priced again) or overflow it.
	mockSpotRange = 1e6
	// mockMaxVolatility is the largest market.UnderlyingSpec.Volatility the mock
	// accepts: the smile reaches four times that level, so every IV the mock
	// quotes stays within bs.MaxVol, the range bs.ImpliedVol searches.
	mockMaxVolatility = bs.MaxVol / 4
	// mockMaxLotSize bounds an instrument's LotSize, so that open interest
	// and cumulative volume, counted in units, cannot overflow.
	mockMaxLotSize = 1 << 24
	// maxRollStrikes is the largest RollStrikesPerSide, the bound of
	// market.UniverseConfig.StrikesPerSide.
	maxRollStrikes = 10000
	// mockMaxMaxSize is the largest MaxSize mockstate accepts.
	mockMaxMaxSize = 1 << 30
)

// Source is a simulated market. It implements Source: Run streams, on
// every Interval, one tick for each subscribed instrument, and Subscribe
// changes the set. Step produces one round for a given time without a
// goroutine. A Source is safe for concurrent use; it starts no
// goroutine (Run works in the caller's).
//
// # Session
//
// The mock trades in the sessions of market.Hours with Config.Holidays:
// 09:15 to 15:30 IST on trading days, and the special sessions the holidays
// declare (Sunday 1 February 2026 in market.Holidays2026). A Step outside
// them emits
// nothing, and volume and open interest stay as they were; it still removes
// contracts that expired. Volume restarts at zero at the open; Change is
// against the previous session's close (an index's, and each contract's
// last price of the previous session).
//
// # Prices
//
// Each underlying follows geometric Brownian motion with its Volatility and
// the risk-neutral drift Rate − DividendYield on a trading-time variance
// clock (market.TradingYears): a trading day is 1/252 of a year, of which 0.8 is
// spread evenly over the session and 0.2 paid as a gap at the open (the
// overnight share, however long the night, weekend or holidays); time outside
// the session adds nothing. So the realised volatility of in-session returns
// plus opening gaps is the quoted volatility in trading time. The level is
// kept within a factor of 10⁶ of its reference Spot either way, so that no
// volatility or gap between rounds can drive it to zero or infinity.
//
// Options are priced with Black–Scholes (package ticker/bs) with Rate and
// DividendYield over calendar time and a total variance IV²·T, T the trading
// years to the instant of Instrument.Expiry; futures at the calendar-time
// forward. The IV of a strike comes from bs.DefaultSmile anchored at the
// first level of the session (sticky strike: within a session a strike's
// IV does not move with the index, so the quoted delta is how the mock's
// price moves with it); at each open the smile is re-anchored and its
// at-the-money level moves against the index's change since the previous
// open (twice the log return, pulled a quarter back to Volatility, within
// [½, 2]·Volatility): a negative spot–volatility correlation, as index
// options show. An option tick carries IV (annualised in trading time), the
// model's delta, gamma, theta (per calendar day) and vega (per point of IV).
//
// LastPrice is the model price rounded to the tick size, and never below one
// tick. The spread is one or two ticks (at random) times a factor that grows
// with the distance from the money (1 + ½·|moneyness in standard
// deviations|) and as expiry nears (1 + ½/√(trading days left + ¼)),
// rounded to whole ticks, never crossing LastPrice (a bid that would fall
// below zero is zero: no bid). Bid and ask quantities are 1 to 50 lots, in
// units. Volume, in units and whole lots, accrues at a rate that peaks at
// the money and keeps 2% of that far from it, rounded at random so that deep
// out-of-the-money strikes still print now and then. Open interest starts
// at a level that peaks at the money and then walks with the trades (each
// trade opens or closes a little; it never goes below zero). An index tick
// has a last price and change only. Every tick passes ticker.Tick.Validate before it
// is published; one that does not is withheld, counted and logged.
//
// # Determinism
//
// The ticks are a function of the Seed, the configuration, the
// subscriptions and the sequence of times stepped: two sources given the
// same ones emit identical ticks. The underlyings draw from one seeded PCG
// stream; per-instrument noise (volume, quantities, open-interest jitter) is
// a hash of the seed, the token and the time, so it does not depend on the
// other subscriptions.
//
// # Expiry and rollover
//
// A contract expires at its Instrument.Expiry (15:30 IST on the expiry date,
// as market.Universe and kite.ParseInstruments set it), judged on the
// simulated clock. The first Step at or after an expiry removes the expired
// contracts from the state store (mockstate Cleanup) and from the
// subscriptions, so they never tick again, and then rolls the contracts of
// the synthetic universe only: those whose token is the one market.Universe gives
// them for Config.Seed. Contracts from another listing (a parsed
// instrument dump) are removed and not replaced, since the mock cannot know
// the exchange's tokens and lot sizes of their successors; it logs how many,
// and the caller subscribes the next contracts from a fresh instrument list.
// For each underlying whose synthetic options lost n of their expiry dates, it
// subscribes the calls and puts of the n nearest expiries that are still
// open and not already subscribed, at RollStrikesPerSide strikes on each side
// of the simulated spot, with the tokens market.Universe gives them for
// Config.Seed (use the same seed for both) and Config.Holidays.
// Expired futures are removed and not replaced. Instruments lists the
// current subscriptions, including contracts rolled in. The store's own Run
// (a wall-clock cleanup) is not used.
//
// The simulated clock counts in nanoseconds since 1970 in an int64, which
// spans the years 1678 to 2262: Subscribe refuses a contract expiring
// outside them, and a Step at a time beyond 2262 finds every contract
// expired.
type Source struct {
	cfg    Config
	rate   float64 // resolved Config.Rate
	yield  float64 // resolved Config.DividendYield
	store  *mockstate.Store[uint32, mockSnap, mockBuilder]
	met    *mockMetrics
	pool   sync.Pool // *mockRound
	maxLen int
	hours  market.Hours // the session the mock trades in
	run    atomic.Bool

	mu      sync.Mutex
	unders  []mockUnderlying
	rng     *rand.Rand
	last    time.Time    // simulated time of the last step; zero before the first
	subs    []*mockInstr // emission order; replaced, never modified in place
	byToken map[uint32]*mockInstr
	next    int64 // earliest expiry cutoff (Unix ns) among subs; MaxInt64 if none
}

// Source implements ticker.Source.
var _ ticker.Source = (*Source)(nil)

// mockUnderlying is the price process of one underlying.
type mockUnderlying struct {
	spec      market.UnderlyingSpec
	gbm       bs.GBM
	smile     bs.Smile // the session's smile: its ATM level is set at each open
	spot      float64
	prevClose float64 // spot at the end of the previous session
	day       nse.Day // day of the last step
	lo, hi    float64 // bounds of spot: the reference Spot ÷ and × mockSpotRange
	// anchor is the spot at which the session's smile is fixed (sticky
	// strike): the level of the first step of the session.
	anchor float64
	// session is the trading day whose session anchor belongs to.
	session nse.Day
}

// mockInstr is a subscribed instrument; immutable once made.
type mockInstr struct {
	ins     ticker.Instrument
	under   int     // index into Source.unders
	kind    bs.Kind // for options
	cutoff  int64   // Instrument.Expiry in Unix ns; 0 = never
	oiScale float64 // per-contract factor of the open interest, in [0.75, 1.25)
	synth   bool    // listed by market.Universe for Config.Seed: the mock may roll it
}

// mockBuilder is the mutable per-instrument state in the store.
type mockBuilder struct {
	in        *mockInstr
	day       nse.Day // market.IST day of the last tick; volume and prevClose reset when it changes
	prevClose float64 // last price of the previous day
	volume    uint64
	oiLots    float64 // open interest in lots; negative before the first tick
	lastNano  int64   // time of the last tick, for the volume accrued since
	tick      ticker.Tick
}

// mockSnap is the published state of an instrument: its latest tick.
type mockSnap struct {
	tick   ticker.Tick
	cutoff int64
}

func buildMockSnap(b *mockBuilder) *mockSnap {
	return &mockSnap{tick: b.tick, cutoff: b.in.cutoff}
}

func mockExpired(s *mockSnap, now time.Time) (bool, error) {
	return s.cutoff != 0 && unixNano(now) >= s.cutoff, nil
}

// New returns a mock source with no subscriptions, or an error
// naming the first invalid field of cfg.
func New(cfg Config) (*Source, error) {
	cfg, rate, yield, err := normalize(cfg)
	if err != nil {
		return nil, err
	}
	unders, err := newUnderlyings(cfg.Underlyings, rate, yield)
	if err != nil {
		return nil, err
	}
	m := &Source{
		cfg:     cfg,
		rate:    rate,
		yield:   yield,
		unders:  unders,
		byToken: make(map[uint32]*mockInstr),
		hours:   market.Hours{Holidays: cfg.Holidays},
		next:    math.MaxInt64,
		rng:     rand.New(rand.NewPCG(cfg.Seed, 0x6d6f636b)), // "mock"
	}
	met, err := newMockMetrics(cfg.Name, cfg.Registerer)
	if err != nil {
		return nil, err
	}
	m.met = met
	store, err := mockstate.New(buildMockSnap, mockstate.Config[uint32, mockSnap]{
		MaxSize:    cfg.MaxSize,
		Expired:    mockExpired,
		OnEvict:    m.onEvict,
		Name:       cfg.Name + "/state",
		Logger:     cfg.Logger,
		Registerer: cfg.Registerer,
	})
	if err != nil {
		met.unregister(cfg.Registerer)
		return nil, fmt.Errorf("mock: mock source state store: %w", err)
	}
	m.store = store
	m.maxLen = cfg.MaxSize
	if m.maxLen == 0 {
		m.maxLen = mockstate.DefaultMaxSize
	}
	m.pool.New = func() any {
		r := &mockRound{m: m}
		r.fn = r.update
		return r
	}
	return m, nil
}

// normalize checks cfg's scalar fields and fills in their defaults. It
// returns the rate and dividend yield apart, read once.
func normalize(cfg Config) (_ Config, rate, yield float64, _ error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	switch {
	case cfg.Interval < 0:
		return cfg, 0, 0, fmt.Errorf("mock: Config.Interval must not be negative, got %v", cfg.Interval)
	case cfg.MaxSize < 0 || cfg.MaxSize > mockMaxMaxSize:
		return cfg, 0, 0, fmt.Errorf("mock: Config.MaxSize must be in [0, %d], got %d", mockMaxMaxSize, cfg.MaxSize)
	case cfg.RollStrikesPerSide < 0 || cfg.RollStrikesPerSide > maxRollStrikes:
		return cfg, 0, 0, fmt.Errorf("mock: Config.RollStrikesPerSide must be in [0, %d], got %d", maxRollStrikes, cfg.RollStrikesPerSide)
	}
	rate, yield = DefaultRate, DefaultDividendYield
	if cfg.Rate != nil {
		rate = *cfg.Rate
	}
	if cfg.DividendYield != nil {
		yield = *cfg.DividendYield
	}
	switch {
	case !(math.Abs(rate) <= 1):
		return cfg, 0, 0, fmt.Errorf("mock: Config.Rate must be in [-1, 1], got %v", rate)
	case !(math.Abs(yield) <= 1):
		return cfg, 0, 0, fmt.Errorf("mock: Config.DividendYield must be in [-1, 1], got %v", yield)
	}
	cfg.Rate, cfg.DividendYield = nil, nil // read once: use m.rate and m.yield
	if cfg.Interval == 0 {
		cfg.Interval = DefaultInterval
	}
	if cfg.RollStrikesPerSide == 0 {
		cfg.RollStrikesPerSide = DefaultRollStrikes
	}
	if cfg.Name == "" {
		cfg.Name = DefaultName
	}
	if len(cfg.Underlyings) == 0 {
		cfg.Underlyings = []market.UnderlyingSpec{market.NIFTY(), market.BANKNIFTY()}
	} else {
		cfg.Underlyings = slices.Clone(cfg.Underlyings)
	}
	return cfg, rate, yield, nil
}

// newUnderlyings checks the underlyings' specs, fills in their default
// volatility (in specs, which New owns) and returns their simulated state.
func newUnderlyings(specs []market.UnderlyingSpec, rate, yield float64) ([]mockUnderlying, error) {
	names := make(map[string]bool, len(specs))
	tokens := make(map[uint32]bool, len(specs))
	unders := make([]mockUnderlying, 0, len(specs))
	for i := range specs {
		s := &specs[i]
		field := fmt.Sprintf("Config.Underlyings[%d]", i)
		if err := s.Validate(); err != nil {
			return nil, fmt.Errorf("mock: %s: %w", field, err)
		}
		if names[s.Name] {
			return nil, fmt.Errorf("mock: %s.Name %q is listed twice", field, s.Name)
		}
		if tokens[s.Token] {
			return nil, fmt.Errorf("mock: %s.Token %d is listed twice", field, s.Token)
		}
		names[s.Name], tokens[s.Token] = true, true
		if s.Volatility == 0 {
			s.Volatility = DefaultVolatility
		}
		if s.Volatility > mockMaxVolatility {
			return nil, fmt.Errorf("mock: %s.Volatility must be at most %v for the mock source, got %v",
				field, mockMaxVolatility, s.Volatility)
		}
		unders = append(unders, mockUnderlying{
			spec:      *s,
			gbm:       bs.GBM{Drift: rate - yield, Vol: s.Volatility},
			smile:     bs.DefaultSmile(s.Volatility),
			spot:      s.Spot,
			prevClose: s.Spot,
			lo:        s.Spot / mockSpotRange,
			hi:        s.Spot * mockSpotRange,
		})
	}
	return unders, nil
}

// logger returns the Logger to write to now (slog.Default() unless one is
// configured), looked up on every record.
func (m *Source) logger() *slog.Logger { return logs.Logger(m.cfg.Logger) }

// attrs returns the source's component and name attributes followed by kv.
func (m *Source) attrs(kv ...any) []any {
	return append([]any{slog.String(logs.Component, "ticker"), slog.String(logs.Name, m.cfg.Name)}, kv...)
}

// onEvict runs when the store drops an entry. The mock never overfills its
// store, so an eviction by size means an instrument was lost: say so. It
// must not take m.mu, since the store calls it from Step and Subscribe.
func (m *Source) onEvict(token uint32, _ *mockSnap, r mockstate.Reason) {
	if r == mockstate.ReasonSize {
		m.logger().Warn("state store evicted an instrument; it stops ticking", m.attrs("token", token)...)
	}
}

// Run streams until ctx ends: it calls Step(Now(), emit) at once and then on
// every Interval, using a time.Ticker, and returns nil when ctx ends. It
// starts no goroutine. Only one Run of a source may be in progress; another
// returns ErrRunning at once.
func (m *Source) Run(ctx context.Context, emit func(ticker.Tick)) error {
	if emit == nil {
		return errors.New("mock: Source.Run: emit must not be nil")
	}
	if !m.run.CompareAndSwap(false, true) {
		return ErrRunning
	}
	defer m.run.Store(false)
	if ctx.Err() != nil {
		return nil
	}
	step := func() { m.Step(m.cfg.Now(), emit) }
	step()
	periodic.Run(ctx, m.cfg.Interval, step)
	return nil
}

// Subscribe removes the instruments in remove, then adds those in add, and
// returns an error for those it could not add: the first ten by token and
// symbol, the rest counted in one line, so that the error stays short
// however many were refused (errors.Is finds the sentinel of each kind of
// refusal); the others are applied. Adding an instrument already subscribed, or
// removing one that is not, does nothing. An added instrument ticks from
// the next Step on; one added twice keeps its first description.
//
// The mock accepts indices, equities and futures whose Underlying is the
// Name of one of Config.Underlyings (an index also by its Token or
// Symbol, for a list that names an index after itself), and calls
// and puts on them with a positive strike and an Expiry that has not
// passed (judged at the time of the last Step, or Now() before the first). A zero TickSize or
// LotSize is taken from the underlying's spec; a LotSize above 2²⁴ is
// refused, so that open interest and volume in units cannot overflow.
func (m *Source) Subscribe(add, remove []ticker.Instrument) error {
	// Now is the caller's code: call it before taking the lock, and only
	// while no Step has set the simulated time.
	m.mu.Lock()
	now := m.last
	m.mu.Unlock()
	if now.IsZero() {
		now = m.cfg.Now()
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.last.IsZero() {
		now = m.last // a Step ran meanwhile
	}
	changed := false
	for _, in := range remove {
		if _, ok := m.byToken[in.Token]; ok {
			delete(m.byToken, in.Token)
			m.store.Delete(in.Token)
			changed = true
		}
	}
	var errs subscribeErrors
	subs := m.subs
	if changed {
		subs = slices.DeleteFunc(slices.Clone(subs), func(mi *mockInstr) bool {
			return m.byToken[mi.ins.Token] != mi
		})
	}
	for _, in := range add {
		if _, ok := m.byToken[in.Token]; ok {
			continue
		}
		mi, err := m.prepare(in, now)
		if err == nil && len(m.byToken) >= m.maxLen {
			err = fmt.Errorf("%w: MaxSize is %d", ErrFull, m.maxLen)
		}
		if err != nil {
			errs.add(in, err)
			continue
		}
		if !changed {
			subs = slices.Clone(subs)
			changed = true
		}
		m.addLocked(mi)
		subs = append(subs, mi)
	}
	if changed {
		m.setSubsLocked(subs)
	}
	return errs.err()
}

// maxSubscribeErrors is how many refused instruments a Subscribe error names
// one by one; the rest are counted, so that a list of any length gives an
// error (and a log record) of bounded size.
const maxSubscribeErrors = 10

// subscribeErrors collects the refusals of one Subscribe call.
type subscribeErrors struct {
	named []error // the first maxSubscribeErrors
	more  moreErrors
}

func (e *subscribeErrors) add(in ticker.Instrument, err error) {
	if len(e.named) < maxSubscribeErrors {
		e.named = append(e.named, fmt.Errorf("mock: cannot subscribe token %d (%q): %w", in.Token, in.Symbol, err))
		return
	}
	e.more.n++
	for _, k := range subscribeKinds() {
		if errors.Is(err, k) && !slices.Contains(e.more.kinds, k) {
			e.more.kinds = append(e.more.kinds, k)
		}
	}
}

// err returns the refusals joined (nil for none): the named ones, then one
// error counting the rest.
func (e *subscribeErrors) err() error {
	if e.more.n == 0 {
		return errors.Join(e.named...)
	}
	more := e.more
	return errors.Join(append(e.named, &more)...)
}

// subscribeKinds returns the sentinels a refusal may wrap.
func subscribeKinds() [4]error {
	return [...]error{ErrUnknownUnderlying, ErrExpiredInstrument, ErrUnsupportedInstrument, ErrFull}
}

// moreErrors stands for the refusals beyond the named ones: it counts them
// and unwraps to each sentinel among them, so errors.Is still finds every
// kind of refusal.
type moreErrors struct {
	n     int
	kinds []error
}

func (e *moreErrors) Error() string {
	msgs := make([]string, len(e.kinds))
	for i, k := range e.kinds {
		msgs[i] = strings.TrimPrefix(k.Error(), "mock: ")
	}
	return fmt.Sprintf("mock: and %d more instruments not subscribed (%s)", e.n, strings.Join(msgs, "; "))
}

func (e *moreErrors) Unwrap() []error { return e.kinds }

// prepare checks in and returns its subscription record.
func (m *Source) prepare(in ticker.Instrument, now time.Time) (*mockInstr, error) {
	if in.Token == 0 {
		return nil, fmt.Errorf("%w: zero token", ErrUnsupportedInstrument)
	}
	u := -1
	for i := range m.unders {
		s := &m.unders[i].spec
		if in.Underlying == s.Name || (in.Kind == ticker.KindIndex && (in.Token == s.Token || in.Symbol == s.Symbol)) {
			u = i
			break
		}
	}
	if u < 0 {
		return nil, fmt.Errorf("%w: %q", ErrUnknownUnderlying, in.Underlying)
	}
	spec := &m.unders[u].spec
	if !(in.TickSize > 0) || math.IsInf(in.TickSize, 0) {
		in.TickSize = spec.TickSize
	}
	if in.LotSize <= 0 && in.Kind != ticker.KindIndex {
		in.LotSize = spec.LotSize
	}
	if in.LotSize > mockMaxLotSize {
		return nil, fmt.Errorf("%w: lot size %d above %d", ErrUnsupportedInstrument, in.LotSize, mockMaxLotSize)
	}
	mi := &mockInstr{ins: in, under: u}
	switch in.Kind {
	case ticker.KindIndex, ticker.KindEquity:
	case ticker.KindCall, ticker.KindPut:
		if !(in.Strike > 0) || math.IsInf(in.Strike, 0) {
			return nil, fmt.Errorf("%w: option strike %v", ErrUnsupportedInstrument, in.Strike)
		}
		mi.kind = bs.Call
		if in.Kind == ticker.KindPut {
			mi.kind = bs.Put
		}
		fallthrough
	case ticker.KindFuture:
		if in.Expiry.IsZero() {
			return nil, fmt.Errorf("%w: %v without an expiry date", ErrUnsupportedInstrument, in.Kind)
		}
		c := in.Expiry // the instant trading ends
		if !nanoFits(c) {
			return nil, fmt.Errorf("%w: expiry %s outside the years 1678 to 2262", ErrUnsupportedInstrument,
				in.Expiry.In(market.IST()).Format(time.DateOnly))
		}
		mi.cutoff = c.UnixNano()
		if unixNano(now) >= mi.cutoff {
			return nil, fmt.Errorf("%w: expired %s", ErrExpiredInstrument, in.Expiry.In(market.IST()).Format(time.DateOnly))
		}
	default:
		return nil, fmt.Errorf("%w: kind %v", ErrUnsupportedInstrument, in.Kind)
	}
	h := nse.Mix(m.cfg.Seed ^ uint64(in.Token)*0x9e3779b97f4a7c15)
	mi.oiScale = 0.75 + 0.5*float64(h>>11)/(1<<53)
	mi.synth = (in.Kind.IsOption() || in.Kind == ticker.KindFuture) && nse.IsSynthetic(m.cfg.Seed, &in)
	return mi, nil
}

// addLocked records mi and seeds its state in the store.
func (m *Source) addLocked(mi *mockInstr) {
	m.byToken[mi.ins.Token] = mi
	m.store.LoadOrInit(mi.ins.Token, func(b *mockBuilder) {
		*b = mockBuilder{in: mi, day: -1 << 62, oiLots: -1}
	})
}

// setSubsLocked publishes a new emission list.
func (m *Source) setSubsLocked(subs []*mockInstr) {
	m.subs = subs
	m.next = math.MaxInt64
	for _, mi := range subs {
		if mi.cutoff != 0 && mi.cutoff < m.next {
			m.next = mi.cutoff
		}
	}
	m.met.instruments.Set(float64(len(subs)))
}

// Instruments returns the subscribed instruments in the order their ticks
// are emitted (the order they were added, with contracts added by expiry
// rollover at the end).
func (m *Source) Instruments() []ticker.Instrument {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]ticker.Instrument, len(m.subs))
	for i, mi := range m.subs {
		out[i] = mi.ins
	}
	return out
}

// Spot returns the current simulated level of an underlying by name.
func (m *Source) Spot(underlying string) (float64, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := range m.unders {
		if m.unders[i].spec.Name == underlying {
			return m.unders[i].spot, true
		}
	}
	return 0, false
}

// priceAt returns the model price of a subscribed option or future at the
// given spot and time, computed as a Step at now would with the underlying at
// spot; for tests that reprice around the quoted greeks.
func (m *Source) priceAt(token uint32, spot float64, now time.Time) (float64, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	mi, ok := m.byToken[token]
	if !ok || !(mi.ins.Kind.IsOption() || mi.ins.Kind == ticker.KindFuture) {
		return 0, false
	}
	r := &mockRound{m: m, now: now, nano: unixNano(now)}
	tm := r.term(mi, spot)
	if mi.ins.Kind == ticker.KindFuture {
		return tm.term.Forward(), true
	}
	u := &m.unders[mi.under]
	vol := u.smile.VolAround(tm.atm, tm.anchor, mi.ins.Strike, tm.years)
	return tm.term.Compute(mi.kind, mi.ins.Strike, vol*tm.scale).Price, true
}

// Len returns the number of instruments held in the mock's state store.
func (m *Source) Len() int { return m.store.Len() }

// Step advances the simulation to now and calls emit once for each
// subscribed instrument, in the order of Instruments, with its new tick. It
// is what Run calls on every Interval; call it directly to drive the mock on
// a clock of your own, or to test it without goroutines. With a nil emit
// the round is computed and stored but not delivered.
//
// The underlyings move by one geometric Brownian motion step sized by the
// trading time elapsed since the previous Step (none on the first Step, when
// now is not after it, or when no session time or opening lies between).
// Contracts whose expiry has passed at now are removed first, and replaced
// as described under "Expiry and rollover" in the Source documentation.
// Outside the session (see "Session") nothing is emitted.
//
// A tick that fails ticker.Tick.Validate is withheld, counted and logged. emit,
// Config.Now and the Logger are called without the source's lock held;
// emit may call Subscribe. A panic in emit is
// recovered, logged and counted, and the round continues. Step is safe for
// concurrent use, but the output is deterministic only when the calls are
// made one at a time with non-decreasing times.
func (m *Source) Step(now time.Time, emit func(ticker.Tick)) {
	r := m.pool.Get().(*mockRound)
	m.mu.Lock()
	m.advanceLocked(now)
	var logRoll []func() // the roll's log records, written after unlocking
	if m.next != math.MaxInt64 && unixNano(now) >= m.next {
		logRoll = m.rollLocked(now)
	}
	r.subs = m.subs
	r.spots = r.spots[:0]
	r.prevClose = r.prevClose[:0]
	for i := range m.unders {
		r.spots = append(r.spots, m.unders[i].spot)
		r.prevClose = append(r.prevClose, m.unders[i].prevClose)
	}
	m.mu.Unlock()
	for _, log := range logRoll {
		log()
	}
	if !m.hours.Open(now) {
		// Outside the session nothing trades: no ticks, volume and open
		// interest stay as they were.
		r.subs = nil
		m.pool.Put(r)
		return
	}

	r.now = now
	r.nano = unixNano(now)
	r.day = nse.DayOf(now)
	open, _, _ := m.hours.Session(now)
	r.openNano = unixNano(open)
	r.terms, r.lastTerm = r.terms[:0], 0
	var emitted, invalid, gone int
	var firstErr error
	for _, mi := range r.subs {
		r.cur = mi
		snap, err := m.store.Update(mi.ins.Token, r.fn)
		if err != nil {
			if errors.Is(err, mockstate.ErrNotFound) {
				gone++ // removed meanwhile, or evicted
				continue
			}
			if invalid == 0 {
				firstErr = err
			}
			invalid++
			continue
		}
		if emit != nil && m.deliver(emit, &snap.tick) {
			emitted++
		}
	}
	r.subs, r.cur = nil, nil
	m.pool.Put(r)
	m.met.ticks.Add(float64(emitted))
	if invalid > 0 {
		m.met.invalid.Add(float64(invalid))
		m.logger().Warn("withheld invalid ticks", m.attrs("count", invalid, "first", firstErr)...)
	}
	if gone > 0 {
		m.dropMissing()
	}
}

// deliver calls emit, containing a panic (or a runtime.Goexit, which then
// goes on to end the goroutine).
func (m *Source) deliver(emit func(ticker.Tick), t *ticker.Tick) (ok bool) {
	return contain.Call(func() { emit(*t) }, func(v any, stack []byte) {
		m.met.panics.Inc()
		m.logger().Error("emit panicked", m.attrs("token", t.Token, logs.PanicValue(v), logs.StackTrace(stack))...)
	})
}

// dropMissing forgets subscriptions whose store entry has gone (evicted).
func (m *Source) dropMissing() {
	m.mu.Lock()
	defer m.mu.Unlock()
	subs := slices.DeleteFunc(slices.Clone(m.subs), func(mi *mockInstr) bool {
		if _, ok := m.store.Get(mi.ins.Token); ok {
			return false
		}
		delete(m.byToken, mi.ins.Token)
		return true
	})
	if len(subs) != len(m.subs) {
		m.setSubsLocked(subs)
	}
}

// advanceLocked moves the underlyings to now on the trading-time variance
// clock: they move only in the session, by the variance elapsed, and gap at
// an open by the overnight share. At the first step of a session the smile is
// re-anchored at the spot (sticky strike within the session) and its
// at-the-money level moved against the index's change since the previous
// anchor.
func (m *Source) advanceLocked(now time.Time) {
	var dt float64 // trading years elapsed
	if !m.last.IsZero() && now.After(m.last) {
		dt = market.TradingYears(m.last, now, m.cfg.Holidays)
	}
	if m.last.IsZero() || now.After(m.last) {
		m.last = now
	}
	day := nse.DayOf(now)
	open := m.hours.Open(now)
	for i := range m.unders {
		u := &m.unders[i]
		if day > u.day {
			if u.day != 0 {
				u.prevClose = u.spot
			}
			u.day = day
		}
		switch next := u.gbm.Step(u.spot, dt, m.rng); {
		case !(next >= u.lo): // also NaN, which a finite spot cannot produce
			u.spot = u.lo
		case next > u.hi:
			u.spot = u.hi
		default:
			u.spot = next
		}
		if open && day != u.session {
			// A new session: the ATM level moves against the index since
			// the last anchor, within [½, 2] of the spec's volatility (and
			// never above what the smile and bs.ImpliedVol can represent).
			vol := u.spec.Volatility
			if u.anchor > 0 {
				level := u.smile.ATM * math.Exp(-mockSpotVolBeta*math.Log(u.spot/u.anchor))
				// Pulled a quarter of the way back to the spec's level.
				vol = min(max(level+0.25*(u.spec.Volatility-level), u.spec.Volatility/2), 2*u.spec.Volatility, mockMaxVolatility)
			}
			u.smile = bs.DefaultSmile(vol)
			u.anchor, u.session = u.spot, day
		}
	}
}

// rollLocked removes the contracts that have expired at now and, for each
// underlying that lost option expiries, subscribes the options of as many
// next expiries. It returns the log calls to make once the lock is released,
// since the Logger's handler is the caller's code.
func (m *Source) rollLocked(now time.Time) (later []func()) {
	ex := m.expireLocked(now)
	m.met.expired.Add(float64(ex.expired))
	subs, rolled := ex.subs, 0
	for ui := range m.unders {
		need := ex.before.count(ui) - ex.after.count(ui)
		if need <= 0 {
			continue
		}
		var n int
		subs, n, later = m.rollUnderlyingLocked(ui, need, ex, subs, now, later)
		rolled += n
	}
	m.met.rolled.Add(float64(rolled))
	m.setSubsLocked(subs)
	if ex.foreign > 0 {
		later = append(later, func() {
			m.logger().Info("expired contracts of another listing not replaced; subscribe their successors from a fresh instrument list",
				m.attrs("expired", ex.foreign)...)
		})
	}
	return append(later, func() {
		m.logger().Info("rolled expiries", m.attrs(
			"expired", ex.expired, "removed_from_store", ex.removed, "added", rolled)...)
	})
}

// expiryKey is an underlying's option expiry day.
type expiryKey struct {
	under int
	day   nse.Day
}

// expirySet is a set of option expiries.
type expirySet map[expiryKey]bool

// count returns the number of expiries of underlying ui in the set.
func (s expirySet) count(ui int) int {
	n := 0
	for k := range s {
		if k.under == ui {
			n++
		}
	}
	return n
}

// expiry is what expireLocked found: the subscriptions left, the option
// expiries of the synthetic universe before and after, and the counts.
type expiry struct {
	subs                      []*mockInstr
	before, after             expirySet
	expired, foreign, removed int
}

// expireLocked drops the subscriptions whose contracts have expired at now
// from the token index and the store.
func (m *Source) expireLocked(now time.Time) expiry {
	nano := unixNano(now)
	ex := expiry{subs: m.subs[:0:0], before: expirySet{}, after: expirySet{}}
	for _, mi := range m.subs {
		// Only contracts of the synthetic universe are rolled: for one of
		// another listing (a real dump) the mock cannot know the next
		// contracts' tokens and lots.
		isOpt := mi.ins.Kind.IsOption() && mi.synth
		if mi.cutoff != 0 && nano >= mi.cutoff && mi.ins.Kind.IsOption() && !mi.synth {
			ex.foreign++
		}
		k := expiryKey{mi.under, nse.DayOf(mi.ins.Expiry)}
		if isOpt {
			ex.before[k] = true
		}
		if mi.cutoff != 0 && nano >= mi.cutoff {
			delete(m.byToken, mi.ins.Token)
			ex.expired++
			continue
		}
		if isOpt {
			ex.after[k] = true
		}
		ex.subs = append(ex.subs, mi)
	}
	ex.removed = m.store.Cleanup(now)
	// Cleanup leaves an entry updated while it judged; make sure.
	for _, mi := range m.subs {
		if mi.cutoff != 0 && nano >= mi.cutoff && m.store.Delete(mi.ins.Token) {
			ex.removed++
		}
	}
	return ex
}

// rollUnderlyingLocked subscribes the options of need next expiries of
// underlying ui, appending them to subs. It returns subs, how many it
// added, and later with the log calls it owes.
func (m *Source) rollUnderlyingLocked(ui, need int, ex expiry, subs []*mockInstr, now time.Time, later []func()) ([]*mockInstr, int, []func()) {
	u := &m.unders[ui]
	spec := u.spec
	spec.Spot = u.spot
	ins, err := market.Universe(market.UniverseConfig{
		Seed:           m.cfg.Seed,
		Date:           now,
		Underlyings:    []market.UnderlyingSpec{spec},
		Expiries:       ex.before.count(ui) + 1,
		StrikesPerSide: m.cfg.RollStrikesPerSide,
		Holidays:       m.cfg.Holidays,
	})
	if err != nil {
		return subs, 0, append(later, func() {
			m.logger().Error("cannot list next expiries", m.attrs("underlying", spec.Name, logs.Err(err))...)
		})
	}
	take := nextExpiries(ins, ui, need, ex.after, unixNano(now))
	rolled, full, refused := 0, 0, 0
	var firstErr error
	for _, in := range ins {
		if !in.Kind.IsOption() || !slices.Contains(take, nse.DayOf(in.Expiry)) {
			continue
		}
		if _, ok := m.byToken[in.Token]; ok {
			continue
		}
		if len(m.byToken) >= m.maxLen {
			full++
			continue
		}
		mi, err := m.prepare(in, now)
		if err != nil { // an expiry after 2262, say
			if refused == 0 {
				firstErr = err
			}
			refused++
			continue
		}
		m.addLocked(mi)
		subs = append(subs, mi)
		rolled++
	}
	if full > 0 {
		later = append(later, func() {
			m.logger().Warn("full; next-expiry contracts not added",
				m.attrs("underlying", spec.Name, "skipped", full, "max_size", m.maxLen)...)
		})
	}
	if refused > 0 {
		later = append(later, func() {
			m.logger().Error("cannot price next-expiry contracts; not added",
				m.attrs("underlying", spec.Name, "skipped", refused, "first", firstErr)...)
		})
	}
	return subs, rolled, later
}

// nextExpiries returns the first need option expiries in ins (listed in
// ascending order) of underlying ui that are not in after and have not
// expired at nano.
func nextExpiries(ins []ticker.Instrument, ui, need int, after expirySet, nano int64) []nse.Day {
	var take []nse.Day
	for _, in := range ins {
		if !in.Kind.IsOption() {
			continue
		}
		d := nse.DayOf(in.Expiry)
		if after[expiryKey{ui, d}] || slices.Contains(take, d) {
			continue
		}
		if nano >= unixNano(in.Expiry) {
			continue
		}
		if len(take) == need {
			break
		}
		take = append(take, d)
	}
	return take
}

// mockRound carries one Step's inputs to the per-instrument update, which
// runs under the store's lock. Rounds are pooled so that a Step allocates
// nothing but the snapshots.
type mockRound struct {
	m         *Source
	fn        func(*mockBuilder) error // r.update, bound once
	subs      []*mockInstr
	spots     []float64
	prevClose []float64
	cur       *mockInstr
	now       time.Time
	nano      int64
	day       nse.Day
	openNano  int64      // the opening of the day's session, unix nanoseconds
	terms     []mockTerm // per (underlying, expiry) for this round
	lastTerm  int
}

// mockTerm is what all options of one underlying and expiry share in a
// round, computed once: discount factors, forward, at-the-money vol.
type mockTerm struct {
	under    int
	cutoff   int64
	years    float64 // time to expiry on the variance clock, in trading years
	term     bs.Term // discounting and forward in calendar time
	scale    float64 // √(trading years / calendar years): turns a trading-time vol into the calendar one
	atm      float64 // smile level at this expiry
	anchor   float64 // forward at the session's anchor spot: the smile is sticky to strikes
	invWidth float64 // 1 / (ATM·√T), T at least a day: standardises moneyness
	spread   float64 // spread factor of this expiry: wider as expiry nears
}

// term returns the round's mockTerm for mi's underlying and expiry, making
// it on first use. Chains are usually listed expiry by expiry, so the last
// one used is tried first.
func (r *mockRound) term(mi *mockInstr, spot float64) *mockTerm {
	if r.lastTerm < len(r.terms) {
		if tm := &r.terms[r.lastTerm]; tm.under == mi.under && tm.cutoff == mi.cutoff {
			return tm
		}
	}
	for i := range r.terms {
		if tm := &r.terms[i]; tm.under == mi.under && tm.cutoff == mi.cutoff {
			r.lastTerm = i
			return tm
		}
	}
	m := r.m
	// Time to expiry on the trading-time variance clock, in years of
	// mockTradingDays: the volatility is quoted in trading time.
	years := market.TradingYears(r.now, time.Unix(0, mi.cutoff), m.cfg.Holidays)
	calYears := max(float64(mi.cutoff-r.nano)/float64(mockYear), 0)
	scale := 1.0
	if calYears > 0 {
		scale = math.Sqrt(years / calYears)
	}
	u := &m.unders[mi.under]
	anchor := u.anchor
	if anchor <= 0 {
		anchor = spot
	}
	r.terms = append(r.terms, mockTerm{
		under:    mi.under,
		cutoff:   mi.cutoff,
		years:    years,
		term:     bs.NewTerm(spot, calYears, m.rate, m.yield),
		scale:    scale,
		atm:      u.smile.ATMVol(years),
		anchor:   bs.NewTerm(anchor, calYears, m.rate, m.yield).Forward(),
		invWidth: 1 / (u.smile.ATM * math.Sqrt(max(years, 1.0/mockTradingDays))),
		spread:   (1 + 0.5/math.Sqrt(years*mockTradingDays+0.25)),
	})
	r.lastTerm = len(r.terms) - 1
	return &r.terms[r.lastTerm]
}

// update computes b's next tick.
func (r *mockRound) update(b *mockBuilder) error {
	mi, m := b.in, r.m
	in := &mi.ins
	spot := r.spots[mi.under]
	t := &b.tick
	dtSec := r.advance(b, t.LastPrice)
	*t = ticker.Tick{Token: in.Token, Time: r.now, Mock: true}
	h := nse.Mix(m.cfg.Seed ^ uint64(in.Token)<<32 ^ uint64(r.nano))
	u1 := unitFloat(h)
	h = nse.Mix(h)
	u2 := unitFloat(h)
	h = nse.Mix(h)
	tick := in.TickSize
	lot := uint64(in.LotSize)

	switch in.Kind {
	case ticker.KindIndex:
		t.LastPrice = roundTicks(spot, tick) * tick
		if b.prevClose == 0 {
			b.prevClose = r.prevClose[mi.under]
		}
	case ticker.KindEquity:
		t.LastPrice = roundTicks(spot, tick) * tick
		quote(t, spot, tick, 1, lot, h)
		b.volume += stochasticLots(u1*mockVolLots*dtSec, u2) * lot
	default:
		r.derivative(b, spot, dtSec, u1, u2, h)
	}
	t.Volume = b.volume
	if b.prevClose == 0 {
		b.prevClose = t.LastPrice
	}
	if b.prevClose > 0 {
		t.Change = (t.LastPrice - b.prevClose) / b.prevClose * 100
	}
	return t.Validate(in.Kind)
}

// advance moves b to the round's session day and time, and returns the
// seconds of trading since b's last tick, capped. last is b's last price,
// the previous session's close when the day changes.
func (r *mockRound) advance(b *mockBuilder, last float64) (dtSec float64) {
	if r.day > b.day { // only forward: a step back in time keeps the day's volume
		b.prevClose = last // the previous session's close
		b.volume = 0
		b.day = r.day
		if b.lastNano != 0 {
			// Trading restarts at the open: nothing accrued overnight.
			b.lastNano = max(b.lastNano, r.openNano)
		}
	}
	if b.lastNano != 0 && r.nano > b.lastNano {
		dtSec = min(float64(r.nano-b.lastNano)/1e9, mockMaxTickDt)
	}
	if r.nano > b.lastNano {
		b.lastNano = r.nano
	}
	return dtSec
}

// derivative prices b's future or option off spot, quotes it and trades
// it: volume and open interest, where the strike's activity decides how
// much. u1, u2 and h are the tick's random draws.
func (r *mockRound) derivative(b *mockBuilder, spot, dtSec, u1, u2 float64, h uint64) {
	mi, t := b.in, &b.tick
	in := &mi.ins
	tick, lot := in.TickSize, uint64(in.LotSize)
	tm := r.term(mi, spot)
	var price, z, activity float64
	if in.Kind == ticker.KindFuture {
		price = tm.term.Forward()
		activity = 1
	} else {
		und := &r.m.unders[mi.under]
		vol := und.smile.VolAround(tm.atm, tm.anchor, in.Strike, tm.years)
		g := tm.term.Compute(mi.kind, in.Strike, vol*tm.scale)
		price = g.Price
		t.IV = vol
		t.Delta = g.Delta
		t.Gamma = g.Gamma
		t.Theta = g.Theta / 365
		t.Vega = g.Vega * tm.scale / 100
		// Standardised moneyness: how many standard deviations away
		// the strike is; drives where trading concentrates.
		z = math.Log(in.Strike/tm.term.Forward()) * tm.invWidth
		activity = math.Exp(-0.5 * z * z)
	}
	t.LastPrice = max(roundTicks(price, tick), 1) * tick
	quote(t, price, tick, tm.spread*(1+0.5*math.Abs(z)), lot, h)
	// Deep out-of-the-money strikes keep 2% of the at-the-money rate, and
	// a fraction of a lot is traded with that probability, so they
	// print now and then.
	traded := stochasticLots(u1*mockVolLots*(0.02+activity)*dtSec, unitFloat(nse.Mix(h)))
	b.volume += traded * lot
	if b.oiLots < 0 {
		b.oiLots = math.Floor(mockOIMinLots + mockOILots*activity*mi.oiScale)
	}
	// Open interest walks with the trades: some open, some close.
	b.oiLots = max(b.oiLots+math.Round(float64(traded)*mockOIWalk*(2*u2-0.9)), 0)
	t.OpenInterest = uint64(b.oiLots) * lot
}

// stochasticLots returns x rounded to a whole number of lots, up with
// probability frac(x) (u uniform in [0, 1)), so that a rate below one lot
// per tick still trades now and then and the mean is x.
func stochasticLots(x, u float64) uint64 {
	n := math.Floor(x)
	if u < x-n {
		n++
	}
	return uint64(max(n, 0))
}

// quote sets the best bid and ask around price: a spread of one or two
// ticks (by h) times widen, rounded to whole ticks, never crossing the last
// price, with an empty bid (zero) when it would fall below zero; and
// quantities of 1–50 lots, in units.
func quote(t *ticker.Tick, price, tick, widen float64, lot uint64, h uint64) {
	spread := math.Max(math.Round((1+unitFloat(h))*widen), 1) // in ticks
	nl := math.Round(t.LastPrice / tick)
	nb := math.Floor(price/tick - spread/2)
	nb = max(min(nb, nl), 0)
	na := max(nb+spread, nl)
	if na <= nb {
		na = nb + 1
	}
	t.Bid = nb * tick
	t.Ask = na * tick
	t.BidQty = uint32((1 + (h>>16)%50) * lot)
	t.AskQty = uint32((1 + (h>>24)%50) * lot)
}

// roundTicks returns x/tick rounded to a whole number of ticks.
func roundTicks(x, tick float64) float64 { return math.Round(x / tick) }

// mockMaxSec bounds the Unix times, in seconds, whose nanosecond count fits
// in an int64 (the years 1678 to 2262): the mock keeps its times as such
// counts.
const mockMaxSec = math.MaxInt64 / int64(time.Second)

// nanoFits reports whether t.UnixNano() is exact.
func nanoFits(t time.Time) bool {
	s := t.Unix()
	return s > -mockMaxSec && s < mockMaxSec
}

// unixNano returns t.UnixNano(), saturated at the ends of the int64 range
// instead of wrapping around.
func unixNano(t time.Time) int64 {
	switch {
	case nanoFits(t):
		return t.UnixNano()
	case t.Unix() > 0:
		return math.MaxInt64
	}
	return math.MinInt64
}

// unitFloat maps a hash to [0, 1).
func unitFloat(h uint64) float64 { return float64(h>>11) / (1 << 53) }

// mockMetrics are the source's own metrics.
type mockMetrics struct {
	ticks, invalid, panics, expired, rolled prometheus.Counter
	instruments                             prometheus.Gauge
}

func newMockMetrics(name string, reg prometheus.Registerer) (*mockMetrics, error) {
	opts := func(metric, help string) prometheus.Opts {
		return prometheus.Opts{Namespace: "steadfast", Subsystem: "ticker", Name: metric, Help: help,
			ConstLabels: prometheus.Labels{"name": name}}
	}
	m := &mockMetrics{
		ticks:       prometheus.NewCounter(prometheus.CounterOpts(opts("mock_ticks_total", "Ticks the mock source emitted."))),
		invalid:     prometheus.NewCounter(prometheus.CounterOpts(opts("mock_invalid_ticks_total", "Ticks the mock source withheld because they failed validation."))),
		panics:      prometheus.NewCounter(prometheus.CounterOpts(opts("mock_emit_panics_total", "Panics recovered from the emit callback."))),
		expired:     prometheus.NewCounter(prometheus.CounterOpts(opts("mock_expired_total", "Subscribed contracts removed because they expired."))),
		rolled:      prometheus.NewCounter(prometheus.CounterOpts(opts("mock_rolled_total", "Contracts subscribed by the mock to replace expired expiries."))),
		instruments: prometheus.NewGauge(prometheus.GaugeOpts(opts("mock_instruments", "Instruments subscribed to the mock source."))),
	}
	if reg != nil {
		if err := promreg.Register(reg, "mock", name, m.collectors()...); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (m *mockMetrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{m.ticks, m.invalid, m.panics, m.expired, m.rolled, m.instruments}
}

// unregister undoes newMockMetrics' registration.
func (m *mockMetrics) unregister(reg prometheus.Registerer) {
	if reg != nil {
		for _, c := range m.collectors() {
			reg.Unregister(c)
		}
	}
}

package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/steadfast-go/steadfast/ticker/market"
	"github.com/steadfast-go/steadfast/ticker/replica"
)

// options holds the flags as given.
type options struct {
	underlyings  string
	strikes      int
	expiries     int
	seed         uint64
	speed        float64
	interval     time.Duration
	duration     time.Duration
	httpAddr     string
	redisURL     string
	latestHash   string
	spublish     bool
	stream       bool
	streamMaxLen int64
	openTimeout  time.Duration
	view         time.Duration
	logLevel     string
	at           string
	source       string
	apiKey       string
	dump         string
	replicaURL   string
	replicaID    string
	capacity     int
	standby      bool
}

// The ranges of the numeric flags. They keep the run to what one machine
// streams comfortably and refuse a value that would only exhaust memory.
const (
	minStrikes, maxStrikes           = 1, 100
	minExpiries, maxExpiries         = 1, 8
	maxSpeed                         = 100_000
	minInterval, maxInterval         = 10 * time.Millisecond, time.Minute
	minView, maxView                 = time.Second, time.Hour
	minOpenTimeout, maxOpenTimeout   = 100 * time.Millisecond, 10 * time.Minute
	minStreamMaxLen, maxStreamMaxLen = 1, 10_000_000
	maxKeyLen                        = 512
	maxReplicaID                     = 128 // as ticker/replica accepts
	minAtYear, maxAtYear             = 2000, 2099
)

// usageHead opens the -h text; the README quotes the whole of it.
const usageHead = `Usage: go run ./examples/ticker [flags]

Streams the mock NIFTY and BANKNIFTY option chains (or live ticks from Kite
Connect) through the streaming engine and prints one line of accounting a
second. Every flag is checked before anything starts.

Flags:
`

// newFlagSet returns the program's flags, bound to o, with their defaults.
func newFlagSet(o *options, out io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("ticker", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usageHead)
		fs.PrintDefaults()
	}
	fs.StringVar(&o.underlyings, "underlyings", "NIFTY,BANKNIFTY",
		"comma-separated underlyings to stream: "+strings.Join(knownNames(), ", "))
	fs.IntVar(&o.strikes, "strikes", 10,
		fmt.Sprintf("strikes on each side of the money, per expiry, in [%d, %d]", minStrikes, maxStrikes))
	fs.IntVar(&o.expiries, "expiries", 2,
		fmt.Sprintf("nearest expiries per underlying, in [%d, %d]", minExpiries, maxExpiries))
	fs.Uint64Var(&o.seed, "seed", 1, "seed of the mock market (same seed, same market)")
	fs.Float64Var(&o.speed, "speed", 1,
		fmt.Sprintf("simulated-clock multiplier, in (0, %d]: 60 runs a minute of market time a second", maxSpeed))
	fs.DurationVar(&o.interval, "interval", 250*time.Millisecond,
		fmt.Sprintf("how often the mock ticks every instrument (wall time), in [%v, %v]", minInterval, maxInterval))
	fs.DurationVar(&o.duration, "duration", 0, "stop after this long (0: run until Ctrl-C)")
	fs.StringVar(&o.httpAddr, "http", "",
		"serve the live option chain at /, and /metrics, /healthz and /livez, on this address, e.g. 127.0.0.1:8080")
	fs.StringVar(&o.redisURL, "redis", "",
		"publish to Redis: host:port, or a redis://, rediss:// or unix:// URL (default: an in-process publisher)")
	fs.StringVar(&o.latestHash, "latest-hash", "",
		"with -redis, also keep the latest payload of every instrument in the hash of this key (default: none)")
	fs.BoolVar(&o.spublish, "spublish", false, "with -redis, publish with SPUBLISH (sharded pub/sub, Redis 7) instead of PUBLISH")
	fs.BoolVar(&o.stream, "stream", false, "with -redis, append to a Redis stream per underlying (XADD) instead of publishing")
	fs.Int64Var(&o.streamMaxLen, "stream-maxlen", 10_000,
		fmt.Sprintf("with -stream, trim each stream to about this many entries, in [%d, %d]", minStreamMaxLen, maxStreamMaxLen))
	fs.DurationVar(&o.openTimeout, "open-timeout", 0,
		fmt.Sprintf("how long the breaker stays open after publishing fails before it probes again: 0 (the engine's default: 1s, growing 1.2x per failed probe up to 1m) or a fixed time in [%v, %v]",
			minOpenTimeout, maxOpenTimeout))
	fs.DurationVar(&o.view, "view", 5*time.Second,
		fmt.Sprintf("how often to print the at-the-money view: 0 (never) or in [%v, %v]", minView, maxView))
	fs.StringVar(&o.logLevel, "log-level", "info",
		"the least level logged: debug, info (state changes, recoveries), warn or error")
	fs.StringVar(&o.at, "at", "",
		fmt.Sprintf("start the simulated clock here: RFC 3339, or 2006-01-02T15:04 in IST, years %d to %d (default: now, or the latest session's open when the market is closed)",
			minAtYear, maxAtYear))
	fs.StringVar(&o.source, "source", "mock",
		"mock, or kite: live ticks, with -api-key, -instruments and KITE_ACCESS_TOKEN in the environment; the mock stands in without them or outside market hours")
	fs.StringVar(&o.apiKey, "api-key", "", "Kite Connect API key, for -source kite")
	fs.StringVar(&o.dump, "instruments", "", "the broker's instrument dump (CSV) to subscribe from, for -source kite")
	fs.StringVar(&o.replicaURL, "replica", "",
		"run as a replica (ticker/replica) coordinated on this Redis: host:port, or a redis://, rediss:// or unix:// URL")
	fs.StringVar(&o.replicaID, "replica-id", "",
		fmt.Sprintf("this replica's ID in its group, for -replica: printable, no spaces, | or /, at most %d bytes (default: the host name)", maxReplicaID))
	fs.IntVar(&o.capacity, "capacity", 0,
		fmt.Sprintf("most partitions this replica holds, for -replica, in [0, %d] (0: all)", replica.DefaultPartitions))
	fs.BoolVar(&o.standby, "standby", false, "for -replica: hold only what the other replicas cannot")
	return fs
}

// config is what the flags ask for, checked.
type config struct {
	options
	specs []market.UnderlyingSpec
	level slog.Level
	at    time.Time // zero: now
}

// parseFlags parses args and checks every flag. It returns flag.ErrHelp for
// -h, after printing the usage to out.
func parseFlags(args []string, out io.Writer) (config, error) {
	var o options
	fs := newFlagSet(&o, out)
	if err := fs.Parse(args); err != nil {
		return config{}, err
	}
	if fs.NArg() > 0 {
		return config{}, fmt.Errorf("unexpected argument %q: every setting is a flag (-h lists them)", fs.Arg(0))
	}
	return check(o)
}

// check checks every flag and returns the first problem, naming the flag and
// what it accepts.
func check(o options) (config, error) {
	c := config{options: o}
	var err error
	if c.specs, err = pickUnderlyings(o.underlyings); err != nil {
		return c, err
	}
	switch {
	case o.strikes < minStrikes || o.strikes > maxStrikes:
		return c, fmt.Errorf("-strikes must be in [%d, %d], got %d", minStrikes, maxStrikes, o.strikes)
	case o.expiries < minExpiries || o.expiries > maxExpiries:
		return c, fmt.Errorf("-expiries must be in [%d, %d], got %d", minExpiries, maxExpiries, o.expiries)
	case !(o.speed > 0) || o.speed > maxSpeed || math.IsInf(o.speed, 0):
		return c, fmt.Errorf("-speed must be in (0, %d], got %v", maxSpeed, o.speed)
	case o.interval < minInterval || o.interval > maxInterval:
		return c, fmt.Errorf("-interval must be in [%v, %v], got %v", minInterval, maxInterval, o.interval)
	case o.duration < 0:
		return c, fmt.Errorf("-duration must be 0 (until Ctrl-C) or positive, got %v", o.duration)
	case o.view != 0 && (o.view < minView || o.view > maxView):
		return c, fmt.Errorf("-view must be 0 (never) or in [%v, %v], got %v", minView, maxView, o.view)
	case o.openTimeout != 0 && (o.openTimeout < minOpenTimeout || o.openTimeout > maxOpenTimeout):
		return c, fmt.Errorf("-open-timeout must be 0 (the engine's default) or in [%v, %v], got %v",
			minOpenTimeout, maxOpenTimeout, o.openTimeout)
	}
	if c.level, err = parseLevel(o.logLevel); err != nil {
		return c, err
	}
	if err := checkHTTP(o.httpAddr); err != nil {
		return c, err
	}
	if err := checkRedisFlags(o); err != nil {
		return c, err
	}
	if err := checkReplicaFlags(o); err != nil {
		return c, err
	}
	if o.at != "" {
		if c.at, err = parseAt(o.at); err != nil {
			return c, err
		}
	}
	return c, checkSource(o)
}

// parseLevel reads -log-level.
func parseLevel(s string) (slog.Level, error) {
	switch strings.ToLower(s) {
	case "debug":
		return slog.LevelDebug, nil
	case "info":
		return slog.LevelInfo, nil
	case "warn":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	}
	return 0, fmt.Errorf("-log-level must be debug, info, warn or error, got %q", s)
}

// checkHTTP checks -http: empty, or host:port with a port in [0, 65535]
// (0: any free port).
func checkHTTP(addr string) error {
	if addr == "" {
		return nil
	}
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("-http must be host:port, e.g. 127.0.0.1:8080, got %q", addr)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("-http: the port must be a number in [0, 65535], got %q", port)
	}
	return nil
}

// checkRedisFlags checks -redis (its form; whether Redis answers is found
// out when the client is made, still before anything starts) and the flags
// that shape what is written there: they need -redis, and -spublish and
// -stream exclude each other.
func checkRedisFlags(o options) error {
	if o.redisURL == "" {
		switch {
		case o.latestHash != "":
			return errors.New("-latest-hash needs -redis")
		case o.spublish:
			return errors.New("-spublish needs -redis")
		case o.stream:
			return errors.New("-stream needs -redis")
		}
	}
	if o.redisURL != "" {
		if _, _, err := redisOptions(o.redisURL); err != nil {
			return err
		}
	}
	switch {
	case len(o.latestHash) > maxKeyLen:
		return fmt.Errorf("-latest-hash must be at most %d bytes, got %d", maxKeyLen, len(o.latestHash))
	case o.spublish && o.stream:
		return errors.New("-spublish and -stream exclude each other: pick one")
	case o.streamMaxLen < minStreamMaxLen || o.streamMaxLen > maxStreamMaxLen:
		return fmt.Errorf("-stream-maxlen must be in [%d, %d], got %d", minStreamMaxLen, maxStreamMaxLen, o.streamMaxLen)
	}
	return nil
}

// checkReplicaFlags checks -replica and the flags that go with it.
func checkReplicaFlags(o options) error {
	if o.replicaURL == "" {
		switch {
		case o.replicaID != "":
			return errors.New("-replica-id is for -replica")
		case o.capacity != 0:
			return errors.New("-capacity is for -replica")
		case o.standby:
			return errors.New("-standby is for -replica")
		}
		return nil
	}
	if _, _, err := redisOptions(o.replicaURL); err != nil {
		return fmt.Errorf("-replica%s", strings.TrimPrefix(err.Error(), "-redis"))
	}
	switch {
	case len(o.replicaID) > maxReplicaID:
		return fmt.Errorf("-replica-id must be at most %d bytes, got %d", maxReplicaID, len(o.replicaID))
	case strings.ContainsFunc(o.replicaID, func(r rune) bool { return !unicode.IsPrint(r) || r == ' ' || r == '|' || r == '/' }):
		return fmt.Errorf("-replica-id must be printable, without spaces, | or /, got %q", cut(o.replicaID, 40))
	case o.capacity < 0 || o.capacity > replica.DefaultPartitions:
		return fmt.Errorf("-capacity must be in [0, %d], got %d", replica.DefaultPartitions, o.capacity)
	}
	return nil
}

// checkSource checks -source and the flags that go with kite.
func checkSource(o options) error {
	switch o.source {
	case "mock":
		switch {
		case o.apiKey != "":
			return errors.New("-api-key is for -source kite")
		case o.dump != "":
			return errors.New("-instruments is for -source kite")
		}
	case "kite":
		if o.dump != "" {
			f, err := os.Open(o.dump)
			if err != nil {
				return fmt.Errorf("-instruments: %w", err)
			}
			f.Close()
		}
	default:
		return fmt.Errorf("-source must be mock or kite, got %q", o.source)
	}
	return nil
}

// knownUnderlyings are the specs -underlyings may name, in the order -h
// lists them.
func knownUnderlyings() []market.UnderlyingSpec {
	return []market.UnderlyingSpec{market.NIFTY(), market.BANKNIFTY(), market.FINNIFTY(),
		market.MIDCPNIFTY(), market.NIFTYNXT50(), market.SENSEX(), market.BANKEX()}
}

func knownNames() []string { return names(knownUnderlyings()) }

// pickUnderlyings maps -underlyings to the specs it names.
func pickUnderlyings(list string) ([]market.UnderlyingSpec, error) {
	var out []market.UnderlyingSpec
	for n := range strings.SplitSeq(list, ",") {
		n = strings.ToUpper(strings.TrimSpace(n))
		if n == "" {
			continue
		}
		i := slices.IndexFunc(knownUnderlyings(), func(s market.UnderlyingSpec) bool { return s.Name == n })
		switch {
		case i < 0:
			return nil, fmt.Errorf("-underlyings: unknown underlying %q (known: %s)", cut(n, 40), strings.Join(knownNames(), ", "))
		case slices.ContainsFunc(out, func(s market.UnderlyingSpec) bool { return s.Name == n }):
			return nil, fmt.Errorf("-underlyings: %s is named twice", n)
		}
		out = append(out, knownUnderlyings()[i])
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("-underlyings: none given (known: %s)", strings.Join(knownNames(), ", "))
	}
	return out, nil
}

// parseAt reads -at: RFC 3339, or a date and time in IST, in the years the
// flag accepts.
func parseAt(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		for _, layout := range []string{"2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02"} {
			if t, err = time.ParseInLocation(layout, s, market.IST()); err == nil {
				break
			}
		}
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("-at: want RFC 3339 or 2006-01-02T15:04 (IST), got %q", cut(s, 40))
	}
	if y := t.In(market.IST()).Year(); y < minAtYear || y > maxAtYear {
		return time.Time{}, fmt.Errorf("-at must be in the years %d to %d, got %d", minAtYear, maxAtYear, y)
	}
	return t, nil
}

// cut shortens s to at most n bytes for a message.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

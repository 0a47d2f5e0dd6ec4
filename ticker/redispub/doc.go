// Package redispub implements a ticker.Publisher that sends ticks to Redis:
// by pub/sub (PUBLISH, or SPUBLISH for Redis Cluster) or into streams
// (XADD), optionally keeping the latest tick of every instrument in a hash.
// Each tick becomes a small JSON object, documented below for consumers in
// any language; Decode reads it back in Go.
//
//	client := redis.NewClient(&redis.Options{
//		Addr:                  "127.0.0.1:6379",
//		ContextTimeoutEnabled: true, // required: Publish honours its deadline
//		MaxRetries:            -1,   // the engine's breaker decides about retries
//		DialerRetries:         1,
//	})
//	pub, err := redispub.New(redispub.Config{Client: client, LatestKey: "ticks:latest"})
//	// pass pub as ticker.Config.Publisher
//
// By default a tick is published to the channel "ticks:" + its underlying
// ("ticks:NIFTY", "ticks:BANKNIFTY"); a tick whose Instrument is nil goes to
// "ticks:unknown" (Prefix + Fallback). Config.Prefix changes the prefix and
// Config.Channel names the channel of each tick. No hash and no stream are
// written unless configured; a stream keeps about 10,000 entries
// (StreamMaxLen). Config.Name is the "name" of its log records (component
// "redispub") and the constant label of its steadfast_redispub_* metrics;
// Logger nil means slog.Default(), looked up at each record; Registerer nil
// means no metrics.
//
// # Batches and errors
//
// Publish sends one batch as one pipeline: a command per tick, then, with
// LatestKey, one HSET of every tick's payload. It returns when Redis has
// answered or the context's deadline has passed (go-redis notices a
// cancellation without a deadline only between commands). The per-tick
// commands alone decide the result: an error is a *PublishError that counts
// the failed commands and wraps the first one's cause (a Redis error reply
// such as NOAUTH, a network error such as connection refused), or says that
// the pipeline timed out when the context ended first. A refused HSET (OOM
// under noeviction, a key of another type) fails no batch: it is counted,
// logged when a run of failures starts and ends, and reported by
// LatestError, for a host's health report. A pipeline is not a transaction:
// commands before a failure may have taken effect. IsPermanent tells an
// error that retrying will not heal (a wrong password, an unknown host, a
// database index out of range) from an outage, so a host can stop at start.
//
// # Client settings
//
// Config.Client may be any redis.UniversalClient. A go-redis client must be
// made with ContextTimeoutEnabled, or it would hold a batch until its own
// ReadTimeout (3 s by default) whatever the batch's deadline; New refuses
// one without it. go-redis also retries a failed pipeline (MaxRetries, 3)
// and redials (DialerRetries, 5 attempts 100 ms apart): against a server
// that is down, a Publish then takes seconds before it fails, where with
// MaxRetries -1 and DialerRetries 1 it fails in milliseconds. Under a
// ticker.Engine, whose breaker and catch-up handle failures, prefer the
// latter.
//
// go-redis writes its own messages (a failed dial, several a second while
// Redis is down) to stderr through one logger per process. This package
// never sets it; a host routes them into its slog.Logger at start, at most
// 10 records a second:
//
//	redis.SetLogger(redispub.Logger(logger))
//
// With Config.Direct the Publisher writes each batch in Redis's wire
// protocol into one reused buffer and sends it on connections of its own,
// dialed with the client's Options: the same commands and errors, without
// go-redis's work per command (its hooks, retries and pool), at about two
// thirds of the client CPU per tick (bench/engine.md). It needs a
// single-node *redis.Client; Close closes its connections. A Cluster keeps
// the go-redis pipeline, which routes each SPUBLISH to its slot's shard.
//
// # Modes
//
//   - Pub/sub (the default): PUBLISH per tick; subscribers SUBSCRIBE (or
//     PSUBSCRIBE "ticks:*"). Delivery is at most once: a subscriber that is
//     away misses ticks, which the latest-value hash and streams make up for.
//   - Sharded (Config.Sharded): SPUBLISH per tick; subscribers SSUBSCRIBE.
//     Redis 7 or newer; on a Cluster a message stays within the shard that
//     owns its channel.
//   - Streams (Config.Stream): XADD <channel name> MAXLEN ~ N * data
//     <payload> per tick. Consumers read with XREAD (BLOCK for live data,
//     from an ID to replay) or consumer groups.
//   - Latest-value hash (Config.LatestKey, with any of the above): field =
//     the token in decimal, value = the latest payload. A consumer that
//     starts late reads HGETALL, then follows the channels.
//
// # Payload, version 1
//
// A payload is one JSON object in UTF-8. Sample (a call option):
//
//	{"v":1,"token":3688442301,"symbol":"NIFTY25D3024000CE","exchange":"NFO",
//	 "underlying":"NIFTY","kind":"call","strike":24000,"expiry":"2025-12-30",
//	 "ltp":182.35,"change":-3.42,"volume":1234500,"oi":5678925,
//	 "bid":182.3,"bid_qty":750,"ask":182.4,"ask_qty":1125,
//	 "iv":0.1432,"delta":0.5213,"gamma":0.00041,"theta":-12.87,"vega":8.93,
//	 "ts":"2025-12-01T10:15:30.123456789+05:30","mock":true}
//
// (on the wire it is one line with no spaces). The fields, in the order they
// are written:
//
//	v           integer  always; the payload version, 1. A consumer must
//	                     refuse (or skip) a version it does not know.
//	token       integer  always; the broker's instrument token, 1 to 2^32-1.
//	symbol      string   with the instrument; trading symbol.
//	exchange    string   with the instrument; e.g. "NSE", "NFO".
//	underlying  string   with the instrument; e.g. "NIFTY"; an index or a
//	                     stock names itself.
//	kind        string   with the instrument; "index", "equity", "future",
//	                     "call", "put" (or "unknown").
//	strike      number   options only; strike price in rupees.
//	expiry      string   futures and options; expiry date, "YYYY-MM-DD",
//	                     a calendar date in IST.
//	ltp         number   always; last traded price in rupees (0 before the
//	                     first trade).
//	change      number   always; change from the previous close, percent.
//	volume      integer  always; cumulative traded volume of the day.
//	oi          integer  always; open interest (0 for an index or stock).
//	bid         number   always; best bid price in rupees, 0 when none.
//	bid_qty     integer  always; quantity at the best bid.
//	ask         number   always; best ask price in rupees, 0 when none.
//	ask_qty     integer  always; quantity at the best ask.
//	iv          number   options only; implied volatility, annualised, as a
//	                     fraction (0.1432 = 14.32%).
//	delta       number   options only; per rupee of the underlying.
//	gamma       number   options only.
//	theta       number   options only; rupees per calendar day.
//	vega        number   options only; rupees per percentage point of IV.
//	ts          string   when the tick has one; exchange time, RFC 3339 in
//	                     IST (+05:30) with up to nine fraction digits,
//	                     trailing zeros (and an all-zero fraction) left out.
//	epoch       integer  from a replica (ticker/replica) only; the fencing
//	                     token, strictly increasing per partition: keep,
//	                     per token, the payload of the highest epoch.
//	mock        boolean  always; true for ticks of the mock source.
//
// "With the instrument" fields are left out when the publisher was handed a
// tick without one (Tick.Instrument nil; the Engine always sets it); such a
// payload carries the analytics (iv … vega) when any of them is non-zero.
// Numbers are exact decimals without float noise (413.4, never
// 413.40000000000003), trailing zeros left out (24000, 182.3). Prices (ltp,
// bid, ask, strike) have at most the places of the instrument's price unit,
// as Kite's wire divides: 2 (paise), 7 in NSE currency derivatives (segment
// "CDS-…") and 4 in BSE ones ("BCD-…"). The segment is Instrument.Segment,
// else Exchange, else the low byte of the token; a tick size is not the unit
// (it is 0 for index rows). change, iv, delta, theta and vega have at most
// 6 places, gamma 8. Rounding is half away from zero. A value too large to
// round exactly (2^53 units or more) is written in its shortest form; NaN
// and ±Inf, which JSON cannot hold and the Engine never publishes, as null.
// Version 1 may gain fields: a consumer must ignore keys
// it does not know; a change that breaks a consumer gets a new version.
//
// # Concurrency
//
// A Publisher is safe for concurrent use and starts no goroutines; Publish
// works on its caller's goroutine (where Config.Channel is called too) and
// reuses its buffers from one batch to the next. Encoding allocates nothing;
// through go-redis each command costs the allocation go-redis makes for it,
// and with Direct a batch allocates nothing (see the package's benchmarks).
// Prices and analytics are written with integer arithmetic: the value is
// scaled to an integer count of its unit, whose digits are written around a
// decimal point; no float formatting runs unless a value is out of range.
package redispub

// Package redispub implements a ticker.Publisher that sends ticks to Redis.
// It publishes by pub/sub (PUBLISH, or SPUBLISH for Redis Cluster) or into
// streams (XADD). It can also keep the latest tick of every instrument in a
// hash. Each tick becomes a small JSON object, specified on Version for
// consumers in any language. Decode reads it back in Go.
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
// A tick goes to the channel Prefix + its underlying ("ticks:NIFTY"), or
// to Config.Channel's name for it. Config documents each default on its
// field. No hash and no stream are written unless configured.
//
// # Modes
//
//   - Pub/sub (the default): PUBLISH per tick; subscribers SUBSCRIBE.
//     Delivery is at most once. A subscriber that is away misses ticks;
//     the latest-value hash and streams make up for it.
//   - Sharded (Config.Sharded): SPUBLISH per tick; subscribers SSUBSCRIBE.
//     Redis 7 or newer.
//   - Streams (Config.Stream): XADD <channel> MAXLEN ~ N * data <payload>.
//     Consumers read with XREAD or consumer groups.
//   - Latest-value hash (Config.LatestKey, with any of the above): field =
//     the token in decimal, value = the latest payload. A consumer that
//     starts late reads HGETALL, then follows the channels.
//
// # Batches and errors
//
// Publish sends one batch as one pipeline: a command per tick, then one
// HSET with LatestKey. It returns when Redis has answered or the context's
// deadline has passed. The per-tick commands alone decide the result. An
// error is a *PublishError: it counts the failed commands and wraps the
// first one's cause, or says the pipeline timed out. A refused HSET fails
// no batch. It is counted, logged when a run of failures starts and ends,
// and reported by LatestError. A pipeline is not a transaction: commands
// before a failure may have taken effect. IsPermanent tells an error that
// retrying will not heal (a wrong password, an unknown host) from an
// outage.
//
// # Client settings
//
// Config.Client may be any redis.UniversalClient. A go-redis client must be
// made with ContextTimeoutEnabled; New refuses one without it. go-redis
// retries a failed pipeline and redials, so against a server that is down
// a Publish takes seconds to fail. With MaxRetries -1 and DialerRetries 1
// it fails in milliseconds: prefer that under a ticker.Engine, whose
// breaker and catch-up handle failures.
//
// go-redis logs through one logger per process, which this package never
// sets. A host routes those messages into its slog.Logger, at most 10
// records a second:
//
//	redis.SetLogger(redispub.Logger(logger))
//
// With Config.Direct the Publisher writes each batch in Redis's wire
// protocol on connections of its own: the same commands and errors, at
// about two thirds of the client CPU per tick (bench/engine.md). It needs
// a single-node *redis.Client.
//
// # Concurrency
//
// A Publisher is safe for concurrent use and starts no goroutines. Publish
// works on its caller's goroutine, where Config.Channel is called too.
// Encoding allocates nothing; with Direct a batch allocates nothing.
package redispub

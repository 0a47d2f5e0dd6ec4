// Package chainpage serves a live option-chain page fed by a ticker.Engine.
// It is an http.Handler that a host mounts in its own mux. The page, its
// script and its stream are all served from the binary: no build step, no
// external fetches.
//
//	page, err := chainpage.New(chainpage.Config{Engine: eng}) // eng is a *ticker.Engine
//	if err != nil { ... }
//	mux.Handle("/", page) // or mux.Handle("/chain/", http.StripPrefix("/chain", page))
//	srv.RegisterOnShutdown(page.Close) // ends the streams on a graceful shutdown
//
// Config documents each default on its field. The handler answers GET and
// HEAD on a path ending in "/" with the page, on ".../app.js" and
// ".../style.css" with its assets, and on ".../events" with the stream. The
// page refers to the others by relative URLs, so it works under any prefix
// that ends in "/".
//
// The page shows, per underlying, the index's spot and the chain of one
// expiry: calls, strike, puts, each with last price, change, bid and ask,
// IV, delta, open interest and volume. It draws an implied-volatility
// smile, and a status strip shows the engine's Health.
//
// # The stream
//
// The page opens one Server-Sent Events stream with JSON events:
//
//   - "snapshot" on connect, and again whenever the engine's subscriptions
//     change: {"instruments": [...], "ticks": [...], "at": unix ms,
//     "health": {...}, "interval_ms": 250}. A browser that reconnects
//     starts again from a snapshot.
//   - "ticks": {"ticks": [...]}, the instruments whose tick changed since
//     the last frame sent to this client. A frame is sent at most every
//     FrameInterval, and none when nothing changed.
//   - "health": {"at": unix ms, "health": {...}} (ticker.Health's JSON)
//     every HealthInterval.
//
// An instrument is {"token", "symbol", "underlying", "kind", "strike",
// "expiry" ("2006-01-02", empty for an index)}. A tick is {"token", "last",
// "change" (percent), "bid", "ask", "iv" (a fraction), "delta", "oi",
// "volume", "time" (unix ms), "mock"}.
//
// Each frame samples Engine.Latest, so the handler never queues ticks. A
// slow client makes its own frames rarer, and each carries only the newest
// values. The engine is never slowed, and a stream's memory is bounded by
// the number of instruments. A stream ends when its request's context
// ends, a write fails or times out, MaxStreamAge runs out, or Close is
// called.
//
// # Hostile clients and values
//
// Beyond MaxStreamsPerClient streams from one client (by default its IP
// address, an IPv6 address by its /64) a request gets 429. Beyond
// MaxStreams in all it gets 503. Both carry a Retry-After header. A value
// JSON cannot carry is left out, counted in Stats.Unencodable and logged,
// and the stream goes on.
//
// A Handler is safe for concurrent use. It starts no goroutines of its
// own: each stream runs in the goroutine net/http gave its request.
package chainpage

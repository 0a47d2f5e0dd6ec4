// Package chainpage serves a live option-chain page fed by a ticker.Engine:
// an http.Handler that a host mounts in its own mux, with the page, its
// script and its stream all served from the binary (no build step, no
// external fetches).
//
//	page, err := chainpage.New(chainpage.Config{Engine: eng}) // eng is a *ticker.Engine
//	if err != nil { ... }
//	mux.Handle("/", page)                  // or mux.Handle("/chain/", http.StripPrefix("/chain", page))
//
// Defaults: at most 4 frames a second per page (FrameInterval 250ms), the
// engine's Health sent once a second (HealthInterval), at most 32 open
// streams (MaxStreams) and 4 per client address (MaxStreamsPerClient), a
// stream lives at most 5 minutes (MaxStreamAge), and a stream whose client
// takes longer than 10s to accept a frame is closed (WriteTimeout). Name
// is the "name" of its log records (component "chainpage"); Logger nil
// means slog.Default().
//
// A host that shuts its server down gracefully registers Close, which ends
// the streams (requests that never end by themselves):
//
//	srv.RegisterOnShutdown(page.Close)
//
// The handler answers GET and HEAD on a path ending in "/" with the page,
// on ".../app.js" and ".../style.css" with its assets, and on ".../events"
// with the stream; the page refers to the others by relative URLs, so it
// works under any prefix that ends in "/".
//
// The page shows, per underlying (a selector), the index's spot and its
// change, and the chain of one expiry (a selector): calls on the left, the
// strike in the middle, puts on the right, each with last price, change,
// bid and ask, IV, delta, open interest and volume; the at-the-money strike
// is marked and changed cells flash. An implied-volatility smile (IV
// against strike, calls and puts) is drawn as inline SVG by the page's own
// script. A status strip shows the engine's Health: breaker state, ticks a
// second, published, conflated, dropped by reason, pending and the last
// reload; it turns amber when the engine is degraded and red when its
// breaker is open, its source gave up or it stopped, and it says whether
// the ticks are "mock" or "live".
//
// # The stream
//
// The page opens one Server-Sent Events stream (text/event-stream) with
// JSON events:
//
//   - "snapshot" on connect, and again whenever the engine's subscriptions
//     change: {"instruments": [...], "ticks": [...], "at": unix ms,
//     "health": {...}, "interval_ms": 250}. A browser that reconnects (EventSource does so by
//     itself) starts again from a snapshot.
//   - "ticks": {"ticks": [...]}, the instruments whose tick changed since
//     the last frame sent to this client; a frame is sent at most every
//     FrameInterval, and none when nothing changed.
//   - "health": {"at": unix ms, "health": {...}} (ticker.Health's JSON) every
//     HealthInterval.
//
// An instrument is {"token", "symbol", "underlying", "kind" ("index",
// "call", "put", ...), "strike", "expiry" ("2006-01-02", empty for an
// index)}; a tick is {"token", "last", "change" (percent), "bid", "ask",
// "iv" (a fraction), "delta", "oi", "volume", "time" (unix ms), "mock"}.
//
// Conflation is by construction: each frame samples Engine.Latest, so the
// handler never queues ticks. A slow or paused client makes its own frames
// rarer and each carries only the newest values; the engine is never
// slowed, and a stream's memory is bounded by the number of instruments
// (the values last sent, and one frame's buffer). A stream ends as soon as
// its request's context ends (the client went away), a write fails or
// times out, its MaxStreamAge runs out, or Close is called.
//
// # Hostile clients and values
//
// No client holds the page alone. Beyond MaxStreamsPerClient streams from
// one client (by default its IP address; an IPv6 address by its /64) a
// request gets 429 Too Many Requests, and beyond MaxStreams in all 503
// Service Unavailable, both with a Retry-After header; the page retries by
// itself. A client that reads slowly holds its slot until a write blocks
// for WriteTimeout, which the kernel's socket buffers may delay for
// minutes; MaxStreamAge bounds that. A value JSON cannot carry (a price of
// 1e307 is +Inf once rounded) is left out, counted in Stats.Unencodable
// and logged, and the stream goes on; a Health that cannot be marshalled
// is replaced by one of status "unknown" that says why.
//
// A Handler is safe for concurrent use. It starts no goroutines of its
// own: each stream runs in the goroutine net/http gave its request, and
// returns when the request's context ends, or Close.
package chainpage

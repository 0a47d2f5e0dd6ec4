// Package kite implements a ticker.Source for the Kite Connect v3 WebSocket
// API (Zerodha), written from its documentation
// (https://kite.trade/docs/connect/v3/websocket/), the parser and
// encoder of its binary market-data frames, and Server, a loopback-only
// double of the protocol fed by any ticker.Source (the mock, say), so that
// tests and demos drive the whole live path without credentials. Its
// ParseInstruments reads Kite's CSV instrument dump into ticker.Instruments
// (see "Instrument dump" below).
//
// Minimal use:
//
//	src, err := kite.New(kite.Config{
//		APIKey:      apiKey,
//		AccessToken: os.Getenv("KITE_ACCESS_TOKEN"),
//		Mode:        kite.ModeFull,
//	})
//	if err != nil { ... }
//	_ = src.Subscribe(instruments, nil)
//	err = src.Run(ctx, emit) // nil when ctx ends
//
// Defaults (Config's zero fields): endpoint wss://ws.kite.trade; quote mode;
// up to 3 connections of 3,000 instruments each (the documented limits per
// API key), filled in order; subscriptions sent in batches of 500 tokens;
// a connection with no frame at all for 5 s is replaced (Kite sends a
// heartbeat every couple of seconds when it has no data; its official Go
// and JavaScript clients wait 5 s too); a connection with heartbeats but
// no data for 60 s while the market is open is stalled: its subscriptions
// are sent again, and it is replaced if 60 s more bring no data;
// reconnects wait a delay drawn uniformly below a ceiling that starts at
// 1 s and doubles up to 60 s, and starts again only after a connection
// stayed up 60 s; 256 frames may wait for emit before frames are dropped.
// Durations below a floor (MinPingTimeout and the others) are refused.
// Config.Name is the "name" of its log records (component "kite") and the
// constant label of its steadfast_kite_* metrics; Logger nil means
// slog.Default(), looked up at each record; Registerer nil means no
// metrics. Order updates go to Config.OnOrder, and the server's errors
// and messages to Config.OnMessage.
//
// The Server, for tests and demos on loopback (an http.Handler):
//
//	srv, err := kite.NewServer(kite.ServerConfig{Source: mock, APIKey: "key", AccessToken: "token"})
//	hs := httptest.NewServer(srv) // on 127.0.0.1
//	go srv.Run(ctx)               // streams mock's ticks until ctx ends
//	src, err := kite.New(kite.Config{APIKey: "key", AccessToken: "token",
//		BaseURL: "ws" + strings.TrimPrefix(hs.URL, "http")})
//
// ServerConfig defaults: 3,000 instruments per connection and 3 connections
// (Kite's limits; a handshake beyond them gets HTTP 429), a heartbeat every
// 1 s (negative: none), ticks gathered for 50 ms per flush, 64 flushes
// queued per slow connection before they are dropped, Name "server" (the
// "name" of its log records), Logger nil meaning slog.Default(). The Server
// has no Registerer: its counters are in Server.Stats.
//
// # What it does that the official clients do not
//
//   - Every count and length of a frame is checked before any byte is read;
//     a malformed frame or packet is rejected with a Reason and counted, never
//     a panic. Decoding allocates nothing per packet (see Parser for the
//     market depth's ownership).
//   - The network is read on goroutines that never call emit: frames pass
//     through a bounded queue to one emitting goroutine, and when that queue
//     is full frames are dropped and counted, so a slow consumer cannot trip
//     the heartbeat watchdog.
//   - What a hostile or broken server can make it hold is bounded: a frame
//     by what a connection can legally carry (2 + MaxPerConn × 186 bytes;
//     a longer message is read through and rejected, or ends the
//     connection), a text message by 64 KiB, idle read buffers by 16 MiB
//     and frames waiting for emit by 32 MiB. The handshake follows no
//     redirect.
//   - The access token never appears in an error, a log record or a metric:
//     errors from the handshake (whose URL carries the token) are redacted
//     (the token, the API key and any credential parameter, before a
//     message is cut) and not wrapped, and a Config prints and logs with
//     its credentials hidden.
//   - A refused token (HTTP 401 or 403) is not retried in a loop: the
//     RefreshToken hook is called once for all connections and its token
//     used; failing that, Run returns an error wrapping ErrAuth.
//   - After a reconnect, subscriptions and modes are restored and a Gap
//     (when the connection was down, which instruments it carried) is
//     logged, counted and passed to Config.OnGap.
//
// A Source is safe for concurrent use. Run starts one goroutine per
// connection in use, one reading goroutine per open connection and one
// emitting goroutine; all of them end before Run returns. Stats and Health
// report counters and per-connection state; with a Registerer the same
// figures are exported as steadfast_kite_* metrics.
//
// # Instrument dump
//
// ParseInstruments reads the broker's CSV instrument dump as a stream, row
// by row, as encoding/csv reads CSV but through a bounded reader: a row
// longer than ParseConfig.MaxRowBytes (default 4096) is skipped without
// being held, a problem's detail quotes at most 64 bytes of a field, numbers
// must be decimal (no "0x1p4") and text fields hold no control or format
// character. Columns are found by header name
// in any order; exchange_token and last_price are optional and are checked;
// exchange_token is kept (ticker.Instrument.ExchangeToken) and must agree with the
// instrument token (token = exchange_token<<8 | segment code, for the
// segments market.SegmentCode knows). Expiry is the instant trading ends, 15:30 IST on the
// expiry date. EQ rows are equities, or indices when their
// segment is INDICES; FUT, CE and PE rows are futures, calls and puts and
// must have an expiry. Underlying is the name column as written, except that
// an index with listed derivatives gets its derivatives' name
// (market.IndexUnderlying: "NIFTY 50" becomes "NIFTY"), so a chain's index is found
// by underlying on a real dump as on the synthetic universe.
//
// No single row makes the call fail: a malformed row is skipped and reported
// in the ParseReport with its line number and a RowReason (counts by reason,
// and the first ParseConfig.MaxProblems rows in detail). A row repeating the
// token of a row already kept is reported as a duplicate and the first one
// stays; duplicates are looked for among kept rows only, so that memory grows
// with the kept rows, not with the dump. Only a bad header (ErrBadHeader) or
// a read error fails the call, which then still returns what it parsed. A
// quote left open swallows the lines up to the next quote; the CSV reader
// reports them as one syntax problem at the line where the quote opened.
package kite

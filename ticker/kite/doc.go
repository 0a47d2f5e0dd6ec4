// Package kite implements a ticker.Source for the Kite Connect v3 WebSocket
// API (Zerodha), written from its documentation
// (https://kite.trade/docs/connect/v3/websocket/). It also holds the parser
// and encoder of Kite's binary market-data frames, ParseInstruments for
// Kite's CSV instrument dump, and Server: a loopback-only double of the
// protocol fed by any ticker.Source, so tests and demos drive the whole
// live path without credentials.
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
// Config and ServerConfig document each default on their fields; the
// connection limits follow Kite's documented limits per API key. Order
// updates go to Config.OnOrder, and the server's errors and messages to
// Config.OnMessage.
//
// The Server, for tests and demos on loopback (an http.Handler):
//
//	srv, err := kite.NewServer(kite.ServerConfig{Source: mock, APIKey: "key", AccessToken: "token"})
//	hs := httptest.NewServer(srv) // on 127.0.0.1
//	go srv.Run(ctx)               // streams mock's ticks until ctx ends
//	src, err := kite.New(kite.Config{APIKey: "key", AccessToken: "token",
//		BaseURL: "ws" + strings.TrimPrefix(hs.URL, "http")})
//
// # What a user can rely on
//
//   - Every count and length of a frame is checked before a byte is read.
//     A malformed frame or packet is rejected with a Reason and counted,
//     never a panic.
//   - The network is read on goroutines that never call emit. Frames pass
//     through a bounded queue to one emitting goroutine. When it is full,
//     frames are dropped and counted, so a slow consumer cannot trip the
//     heartbeat watchdog.
//   - What a hostile server can make it hold is bounded: a frame by what a
//     connection can carry, a text message by 64 KiB, idle read buffers by
//     16 MiB and queued frames by 32 MiB. The handshake follows no redirect.
//   - The access token never appears in an error, a log record or a
//     metric. A Config prints and logs with its credentials hidden.
//   - A refused token (HTTP 401 or 403) is not retried in a loop. The
//     RefreshToken hook is called once for all connections. Failing that,
//     Run returns an error wrapping ErrAuth.
//   - After a reconnect, subscriptions and modes are restored. A Gap (when
//     the connection was down, which instruments it carried) is logged,
//     counted and passed to Config.OnGap.
//
// A connection with no frame for PingTimeout is replaced. One with
// heartbeats but no data for StallTimeout while the market is open gets its
// subscriptions again, and is replaced if as long again brings no data.
//
// A Source is safe for concurrent use. Run starts one goroutine per
// connection in use, one reader per open connection and one emitting
// goroutine. All of them end before Run returns. Stats and Health report
// counters and per-connection state; with a Registerer the same figures
// are exported as steadfast_kite_* metrics.
//
// ParseInstruments reads Kite's CSV instrument dump row by row through a
// bounded reader. A malformed row is skipped and reported with its line
// number and a RowReason. Only a bad header or a read error fails the call.
// ParseConfig documents the bounds.
package kite

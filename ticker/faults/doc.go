// Package faults holds the reliability tests of the streaming engine
// (ticker.Engine) against real Redis servers: it has no code of its own,
// only tests.
//
// Each test starts its own redis-server on a free loopback port
// (internal/redistest), streams the mock option chains (more than a
// thousand instruments) through ticker/redispub while a plain go-redis
// subscriber listens, injects one fault (SIGKILL and restart, Redis down
// at start, CLIENT PAUSE, DEBUG SLEEP, a wrong password, maxclients
// reached) and checks the engine's promises:
// emit never blocks, no batch waits past PublishTimeout, the breaker opens
// within its configured failures and closes within OpenTimeout plus one
// probe once the fault clears, the failure is logged once with its cause,
// the subscriber converges to Latest for every instrument, the accounting
// identity holds exactly when Run returns, and no goroutine leaks. A Redis
// at maxmemory with noeviction refuses only the latest-value hash: there the
// feed must go on, the breaker closed and nothing dropped.
//
// The tests use real time: sockets and processes do not run in
// testing/synctest's bubble. Every wait polls with a deadline. Without
// redis-server they are skipped, except under CI=true, where they fail.
// RELIABILITY.md at the module root lists what they check and what they
// measured.
package faults

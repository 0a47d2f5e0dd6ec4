// Package monitoring tests the alert rules and the Grafana dashboard of
// deploy/ against a real Prometheus, Debian's prometheus package, started
// on a loopback port with a temporary configuration and storage:
//
//	cd e2e && go test ./monitoring
//
// Prometheus scrapes examples/ticker every second while it publishes to a
// redis-server the test owns. The test checks that every PromQL expression
// of the dashboard and the rules evaluates, that each returns data where
// its metrics exist, that they name only metrics the scrape exposed, that
// the market-hours rules agree with the library's NSE calendar, and that
// killing redis-server fires the publisher circuit alert and restarting it
// resolves the alert.
//
// Without prometheus or redis-server on PATH the test is skipped, unless
// the environment variable CI is "true", where it fails.
package monitoring

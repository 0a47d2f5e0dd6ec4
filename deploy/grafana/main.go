// Command grafana writes the Grafana dashboard of a service that embeds the
// steadfast ticker engine, steadfast-ticker.json, from the Go code in this
// directory (github.com/grafana/grafana-foundation-sdk/go). It is a module
// of its own, so the library never depends on the SDK.
//
//	cd deploy/grafana && go run .
//
// The committed JSON is what this program writes: its test regenerates it
// and fails on any difference.
//
// The dashboard reads one Prometheus data source ($datasource) and selects
// each component by the constant label "name" its Config.Name sets:
//
//   - $name: the engine. Its parts are named after it: the publisher's
//     breaker "$name/publisher", the subscriptions' reloader
//     "$name/subscriptions", the task monitor "$name/tasks". The Go runtime
//     panels show the process (job and instance) that exports the engine.
//   - $publisher: the ticker/redispub Publisher.
//   - $kite: the ticker/kite Source, when the engine streams from Kite.
//   - $store: a mockstate store, e.g. the mock source's "mock/state".
//   - $page: the ticker/chainpage Handler.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
)

func main() {
	out := flag.String("o", "steadfast-ticker.json", "write the dashboard to this file")
	flag.Parse()
	b, err := render()
	if err == nil {
		err = os.WriteFile(*out, b, 0o644)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "grafana:", err)
		os.Exit(1)
	}
}

// render returns the dashboard as indented JSON with a final newline.
func render() ([]byte, error) {
	d, err := dashboardBuilder().Build()
	if err != nil {
		return nil, err
	}
	b, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

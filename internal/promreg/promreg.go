// Package promreg registers a package's Prometheus collectors as one unit.
package promreg

import "github.com/prometheus/client_golang/prometheus"

// RegisterAll registers every collector in cs with reg, in order. If one
// fails, it unregisters those it had registered and returns that error, so a
// constructor that gives up leaves the registry as it found it and can be
// retried with the same name.
func RegisterAll(reg prometheus.Registerer, cs ...prometheus.Collector) error {
	for i, c := range cs {
		if err := reg.Register(c); err != nil {
			for _, done := range cs[:i] {
				reg.Unregister(done)
			}
			return err
		}
	}
	return nil
}

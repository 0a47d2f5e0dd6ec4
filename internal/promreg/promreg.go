// Package promreg registers a package's Prometheus collectors as one unit.
package promreg

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

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

// Register is RegisterAll with the error every package reports the same way:
// when a collector of the same name is already registered, the error says
// "<pkg>: metrics for name %q are already registered" and wraps the
// registry's own error (a prometheus.AlreadyRegisteredError, to errors.As).
func Register(reg prometheus.Registerer, pkg, name string, cs ...prometheus.Collector) error {
	err := RegisterAll(reg, cs...)
	if err == nil {
		return nil
	}
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		return fmt.Errorf("%s: metrics for name %q are already registered: %w", pkg, name, err)
	}
	return fmt.Errorf("%s: cannot register metrics for name %q: %w", pkg, name, err)
}

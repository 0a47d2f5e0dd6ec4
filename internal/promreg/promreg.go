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

// Tracker is a Registerer that remembers what it registered, so that a
// constructor made of several parts, each registering its own collectors,
// can take them all back when a later part fails. The zero value is not
// usable: wrap a Registerer with Track.
type Tracker struct {
	reg  prometheus.Registerer
	done []prometheus.Collector
}

// Track returns a Tracker over reg, or nil when reg is nil (no metrics).
func Track(reg prometheus.Registerer) *Tracker {
	if reg == nil {
		return nil
	}
	return &Tracker{reg: reg}
}

// Register registers c and remembers it.
func (t *Tracker) Register(c prometheus.Collector) error {
	if err := t.reg.Register(c); err != nil {
		return err
	}
	t.done = append(t.done, c)
	return nil
}

// MustRegister registers each collector, panicking on an error as the
// prometheus.Registerer contract says.
func (t *Tracker) MustRegister(cs ...prometheus.Collector) {
	for _, c := range cs {
		if err := t.Register(c); err != nil {
			panic(err)
		}
	}
}

// Unregister unregisters c.
func (t *Tracker) Unregister(c prometheus.Collector) bool { return t.reg.Unregister(c) }

// Rollback unregisters, newest first, everything registered through t.
func (t *Tracker) Rollback() {
	if t == nil {
		return
	}
	for i := len(t.done) - 1; i >= 0; i-- {
		t.reg.Unregister(t.done[i])
	}
	t.done = nil
}

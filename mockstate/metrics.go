package mockstate

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/steadfast-go/steadfast/internal/promreg"
)

const (
	panicSeed = iota
	panicUpdate
	panicExpired
	panicOnEvict
	numPanics
)

// panicName is the callback label of a panic counter.
func panicName(i int) string {
	switch i {
	case panicSeed:
		return "seed"
	case panicUpdate:
		return "update"
	case panicExpired:
		return "expired"
	default:
		return "on_evict"
	}
}

// metrics are always created, so that the store's code never checks for
// nil; they are registered only when a Registerer is given.
type metrics struct {
	inserts      prometheus.Counter
	updates      prometheus.Counter
	expiryErrors prometheus.Counter
	evicted      [numReasons]prometheus.Counter
	panics       [numPanics]prometheus.Counter
}

func newMetrics(name string, reg prometheus.Registerer, size func() int) (*metrics, error) {
	labels := prometheus.Labels{"name": name}
	opts := func(metric, help string) prometheus.Opts {
		return prometheus.Opts{Namespace: "steadfast", Subsystem: "mockstate", Name: metric,
			Help: help, ConstLabels: labels}
	}
	m := &metrics{
		inserts: prometheus.NewCounter(prometheus.CounterOpts(opts("inserts_total",
			"Entries created by Seed."))),
		updates: prometheus.NewCounter(prometheus.CounterOpts(opts("updates_total",
			"Snapshots published by Update."))),
		expiryErrors: prometheus.NewCounter(prometheus.CounterOpts(opts("expiry_errors_total",
			"Expiry checks that could not judge an entry (Expired returned an error or panicked); the entry was kept."))),
	}
	evictions := prometheus.NewCounterVec(prometheus.CounterOpts(opts("evictions_total",
		"Entries removed, by reason: size (CLOCK eviction), expired, deleted, reset.")), []string{"reason"})
	for i := range m.evicted {
		m.evicted[i] = evictions.WithLabelValues(Reason(i).String())
	}
	panics := prometheus.NewCounterVec(prometheus.CounterOpts(opts("callback_panics_total",
		"Panics in user functions, by function: seed (init or build in Seed), update (fn or build in Update), expired, on_evict.")),
		[]string{"callback"})
	for i := range m.panics {
		m.panics[i] = panics.WithLabelValues(panicName(i))
	}
	entries := prometheus.NewGaugeFunc(prometheus.GaugeOpts(opts("entries",
		"Entries in the store.")), func() float64 { return float64(size()) })
	if reg == nil {
		return m, nil
	}
	cs := []prometheus.Collector{m.inserts, m.updates, m.expiryErrors, evictions, panics, entries}
	if err := promreg.RegisterAll(reg, cs...); err != nil {
		return nil, fmt.Errorf("mockstate: registering metrics for store %q: %w", name, err)
	}
	return m, nil
}

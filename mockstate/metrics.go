package mockstate

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/steadfast-go/steadfast/internal/promreg"
)

// The user functions whose panics are counted: the stages of applyLocked
// (init, fn, build), then the callbacks that run without the lock.
const (
	panicExpired = stageDone + iota
	panicOnEvict
	numPanics
)

// panicName is the callback label of a panic counter.
func panicName(i int) string {
	switch i {
	case stageInit:
		return "init"
	case stageFn:
		return "fn"
	case stageBuild:
		return "build"
	case panicExpired:
		return "expired"
	}
	return "on_evict"
}

// stageOf is the panic counter of a callback label.
func stageOf(name string) int {
	for i := range numPanics {
		if panicName(i) == name {
			return i
		}
	}
	return panicOnEvict
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
			"Entries created by LoadOrInit or Upsert."))),
		updates: prometheus.NewCounter(prometheus.CounterOpts(opts("updates_total",
			"Snapshots published by Update or Upsert."))),
		expiryErrors: prometheus.NewCounter(prometheus.CounterOpts(opts("expiry_errors_total",
			"Expiry checks that could not judge an entry (Expired returned an error or panicked); the entry was kept."))),
	}
	evictions := prometheus.NewCounterVec(prometheus.CounterOpts(opts("evictions_total",
		"Entries removed, by reason: size (CLOCK eviction), expired, deleted, reset.")), []string{"reason"})
	for i := range m.evicted {
		m.evicted[i] = evictions.WithLabelValues(Reason(i).String())
	}
	panics := prometheus.NewCounterVec(prometheus.CounterOpts(opts("callback_panics_total",
		"Panics (and runtime.Goexit calls) in user functions, by function: init, fn, build, expired, on_evict.")),
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
	if err := promreg.Register(reg, "mockstate", name, cs...); err != nil {
		return nil, err
	}
	return m, nil
}

package reloader

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/steadfast-go/steadfast/internal/logs"
	"github.com/steadfast-go/steadfast/internal/promreg"
)

// Values of the "result" label of steadfast_reloader_reloads_total.
const (
	resultSuccess  = logs.ResultSuccess
	resultFailure  = logs.ResultFailure
	resultPanic    = logs.ResultPanic
	resultCanceled = logs.ResultCanceled
)

// metrics are the collectors of one Reloader. The trigger counters are read
// from the Reloader's atomics at scrape time, so Trigger pays nothing for
// them.
type metrics struct {
	reloads        map[string]prometheus.Counter
	callbackPanics prometheus.Counter
	duration       prometheus.Histogram
	latency        prometheus.Histogram
	pending        prometheus.Gauge
	inFlight       prometheus.Gauge
	consecutive    prometheus.Gauge
	lastSuccess    prometheus.Gauge
}

func newMetrics(r *Reloader, reg prometheus.Registerer, name string) (*metrics, error) {
	labels := prometheus.Labels{"name": name}
	opts := func(n, help string) prometheus.Opts {
		return prometheus.Opts{Namespace: "steadfast", Subsystem: "reloader", Name: n, Help: help, ConstLabels: labels}
	}
	counterFunc := func(n, help string, f func() float64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts(opts(n, help)), f)
	}
	reloads := prometheus.NewCounterVec(prometheus.CounterOpts(opts("reloads_total",
		"Finished reloads by result: success, failure, panic, or canceled (the Run or Load context ended).")), []string{"result"})
	m := &metrics{
		reloads: make(map[string]prometheus.Counter, 4),
		callbackPanics: prometheus.NewCounter(prometheus.CounterOpts(opts("callback_panics_total",
			"Panics recovered from the OnError callback."))),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: "steadfast", Subsystem: "reloader", Name: "reload_duration_seconds",
			Help:        "How long each reload ran.",
			ConstLabels: labels,
			Buckets:     []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
		}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: "steadfast", Subsystem: "reloader", Name: "trigger_latency_seconds",
			Help:        "Time from the first trigger a reload serves to the start of that reload.",
			ConstLabels: labels,
			Buckets:     []float64{.01, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120},
		}),
		pending: prometheus.NewGauge(prometheus.GaugeOpts(opts("pending",
			"1 while a reload is wanted (triggered or retrying) but not started, else 0."))),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts(opts("in_flight",
			"1 while a reload runs, else 0."))),
		consecutive: prometheus.NewGauge(prometheus.GaugeOpts(opts("consecutive_failures",
			"Failed reloads since the latest successful one."))),
		lastSuccess: prometheus.NewGauge(prometheus.GaugeOpts(opts("last_success_timestamp_seconds",
			"Unix time at which the latest successful reload finished; 0 if none has."))),
	}
	for _, l := range []string{resultSuccess, resultFailure, resultPanic, resultCanceled} {
		m.reloads[l] = reloads.WithLabelValues(l)
	}
	cs := []prometheus.Collector{
		counterFunc("triggers_total", "Calls to Trigger and TriggerWait.", func() float64 {
			return float64(r.seq.Load())
		}),
		counterFunc("coalesced_total", "Triggers served by a reload that an earlier trigger, a retry or a Load had already asked for.", func() float64 {
			return float64(r.coalesced.Load())
		}),
		reloads, m.callbackPanics, m.duration, m.latency, m.pending, m.inFlight, m.consecutive, m.lastSuccess,
	}
	if err := promreg.Register(reg, "reloader", name, cs...); err != nil {
		return nil, err
	}
	return m, nil
}

package redispub

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/steadfast-go/steadfast/internal/promreg"
)

// metrics are a Publisher's own collectors. The engine counts publishes,
// failures and ticks; these add what only the publisher sees.
type metrics struct {
	payloadBytes   prometheus.Counter
	commandsFailed prometheus.Counter
	callbackPanics prometheus.Counter
	latestFailures prometheus.Counter
}

func newMetrics(reg prometheus.Registerer, name string) (*metrics, error) {
	opts := func(n, help string) prometheus.CounterOpts {
		return prometheus.CounterOpts{
			Namespace: "steadfast", Subsystem: "redispub", Name: n, Help: help,
			ConstLabels: prometheus.Labels{"name": name},
		}
	}
	m := &metrics{
		payloadBytes: prometheus.NewCounter(opts("payload_bytes_total",
			"Bytes of JSON payload in pipelines Redis accepted (latest-value hash writes included).")),
		commandsFailed: prometheus.NewCounter(opts("command_failures_total",
			"Redis commands of a pipeline that returned an error.")),
		callbackPanics: prometheus.NewCounter(opts("callback_panics_total",
			"Panics recovered from the Channel function.")),
		latestFailures: prometheus.NewCounter(opts("latest_failures_total",
			"HSETs of the latest-value hash that Redis refused in batches it published.")),
	}
	if err := promreg.Register(reg, "redispub", name, m.payloadBytes, m.commandsFailed, m.callbackPanics, m.latestFailures); err != nil {
		return nil, err
	}
	return m, nil
}

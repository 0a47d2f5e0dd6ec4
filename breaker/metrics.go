package breaker

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// collector exports a Breaker's own counters at scrape time, so the call
// path pays nothing for metrics.
type collector struct {
	b                                                  *Breaker
	calls, state, forced, transitions, skipped, panics *prometheus.Desc
	foreign, slow, period, disabled, metricsOnly       *prometheus.Desc
}

func newCollector(b *Breaker) *collector {
	l := prometheus.Labels{"name": b.cfg.Name}
	desc := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc("steadfast_breaker_"+name, help, labels, l)
	}
	return &collector{
		b: b,
		calls: desc("calls_total",
			"Calls by result: success, failure and ignored for admitted calls that finished, rejected for calls not admitted.", "result"),
		state:       desc("state", "Current state: 0 closed, 1 open, 2 half-open (closed while disabled or metrics-only)."),
		forced:      desc("forced", "1 while the breaker is held open by Trip, else 0."),
		transitions: desc("transitions_total", "State changes by from and to state (open to open: Trip while open).", "from", "to"),
		skipped: desc("state_changes_skipped_total",
			"State changes merged into the next one, not logged or passed to OnStateChange on their own, because 16 were waiting."),
		panics:      desc("callback_panics_total", "Panics recovered from OnStateChange, IsFailure and IsIgnored."),
		foreign:     desc("foreign_permits_total", "Permits of another breaker passed to Done, and ignored."),
		slow:        desc("slow_calls_total", "Admitted calls that took longer than SlowCallDuration, successes and failures."),
		period:      desc("open_period_seconds", "Length of the current open period while open or half-open; 0 while closed or forced open."),
		disabled:    desc("disabled", "1 while Disable holds the breaker closed and counting nothing, else 0."),
		metricsOnly: desc("metrics_only", "1 while MetricsOnly holds the breaker closed, counting but never opening, else 0."),
	}
}

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.calls, c.state, c.forced, c.transitions, c.skipped, c.panics, c.foreign,
		c.slow, c.period, c.disabled, c.metricsOnly} {
		ch <- d
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	b := c.b
	b.lock()
	w := b.word.Load()
	var calls [numResults]uint64
	for r := range calls {
		calls[r] = b.cum[r].Load() + b.sum(w, result(r))
	}
	trans, skipped, period := b.transitions, b.events.skipped, b.period
	b.unlock()

	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	for r, n := range calls {
		counter(c.calls, n, result(r).String())
	}
	gauge := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v)
	}
	bit := func(mask uint64) float64 {
		if w&mask != 0 {
			return 1
		}
		return 0
	}
	gauge(c.state, float64(stateOf(w)))
	gauge(c.forced, bit(forcedBit))
	gauge(c.disabled, bit(disabledBit))
	gauge(c.metricsOnly, bit(metricsOnlyBit))
	gauge(c.period, time.Duration(period).Seconds())
	// Every state change that can happen, exported from the start at zero.
	// Open to open is Trip on a breaker open by its own failures; closed to
	// closed a change of mode while closed (Disable, MetricsOnly, Reset).
	for _, t := range [...][2]State{
		{Closed, Open}, {Open, HalfOpen}, {HalfOpen, Closed}, {HalfOpen, Open}, {Open, Closed}, {Open, Open}, {Closed, Closed},
	} {
		counter(c.transitions, trans[t[0]][t[1]], t[0].String(), t[1].String())
	}
	counter(c.skipped, skipped)
	counter(c.panics, b.callbackPanics.Load())
	counter(c.foreign, b.foreign.Load())
	counter(c.slow, b.slowTotal.Load())
}

package breaker

import "github.com/prometheus/client_golang/prometheus"

// collector exports a Breaker's own counters at scrape time, so the call
// path pays nothing for metrics.
type collector struct {
	b                                 *Breaker
	calls, state, transitions, panics *prometheus.Desc
}

func newCollector(b *Breaker) *collector {
	l := prometheus.Labels{"name": b.cfg.Name}
	return &collector{
		b: b,
		calls: prometheus.NewDesc("steadfast_breaker_calls_total",
			"Calls by result: success, failure and ignored for admitted calls that finished, rejected for calls not admitted.",
			[]string{"result"}, l),
		state: prometheus.NewDesc("steadfast_breaker_state",
			"Current state: 0 closed, 1 open, 2 half-open.", nil, l),
		transitions: prometheus.NewDesc("steadfast_breaker_transitions_total",
			"State changes by from and to state.", []string{"from", "to"}, l),
		panics: prometheus.NewDesc("steadfast_breaker_callback_panics_total",
			"Panics recovered from OnStateChange, IsFailure and IsIgnored.", nil, l),
	}
}

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.calls
	ch <- c.state
	ch <- c.transitions
	ch <- c.panics
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	b := c.b
	b.mu.Lock()
	changed := b.maybeHalfOpen()
	w := b.word.Load()
	var calls [numResults]uint64
	for r := range calls {
		calls[r] = b.cum[r].Load() + b.sum(w, result(r))
	}
	trans := b.transitions
	b.mu.Unlock()
	if changed {
		b.deliver()
	}

	for r, n := range calls {
		ch <- prometheus.MustNewConstMetric(c.calls, prometheus.CounterValue, float64(n), result(r).String())
	}
	ch <- prometheus.MustNewConstMetric(c.state, prometheus.GaugeValue, float64(stateOf(w)))
	// Every transition that can happen, exported from the start at zero.
	for _, t := range [...][2]State{
		{Closed, Open}, {Open, HalfOpen}, {HalfOpen, Closed}, {HalfOpen, Open}, {Open, Closed},
	} {
		ch <- prometheus.MustNewConstMetric(c.transitions, prometheus.CounterValue,
			float64(trans[t[0]][t[1]]), t[0].String(), t[1].String())
	}
	ch <- prometheus.MustNewConstMetric(c.panics, prometheus.CounterValue, float64(b.callbackPanics.Load()))
}

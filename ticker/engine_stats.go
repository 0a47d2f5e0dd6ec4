package ticker

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/steadfast-go/steadfast/breaker"
	"github.com/steadfast-go/steadfast/internal/promreg"
)

// Stats counts the engine's ticks. Whenever the engine is quiescent (no
// tick being emitted or published; and always after Run has returned):
//
//	Produced == Published + Conflated + Invalid + Dropped.Total() + Pending
type Stats struct {
	Produced  uint64 `json:"produced"`  // ticks the source emitted
	Published uint64 `json:"published"` // ticks in batches that Publish accepted (catch-up excluded)
	Conflated uint64 `json:"conflated"` // ticks replaced in their pending slot by a newer tick of the same instrument
	Invalid   uint64 `json:"invalid"`   // ticks that failed Tick.Validate (never stored, never published)
	Dropped   Drops  `json:"dropped"`
	// Pending is the number of ticks waiting in slots or in a batch being
	// published.
	Pending uint64 `json:"pending"`
	CatchUp uint64 `json:"catch_up"` // latest ticks republished after publishing recovered
	Batches uint64 `json:"batches"`  // successful Publish calls, catch-up included
}

// Drops counts dropped ticks by reason.
type Drops struct {
	CircuitOpen   uint64 `json:"circuit_open"`   // refused by the breaker
	PublishFailed uint64 `json:"publish_failed"` // in a batch whose Publish returned an error or timed out
	Unsubscribed  uint64 `json:"unsubscribed"`   // for a token not (or no longer) subscribed
	Shutdown      uint64 `json:"shutdown"`       // still pending when the final flush ran out of time or failed, or emitted after it
}

// Total returns the sum of the drops.
func (d Drops) Total() uint64 { return d.CircuitOpen + d.PublishFailed + d.Unsubscribed + d.Shutdown }

// Stats returns the engine's counts. Each stripe's counts are read under its
// lock; while ticks flow, the identity between the fields holds only
// approximately.
func (e *Engine) Stats() Stats {
	var s Stats
	var pending uint64
	for i := range e.stripes {
		st := &e.stripes[i]
		st.mu.Lock()
		s.Produced += st.produced
		s.Conflated += st.conflated
		s.Invalid += st.invalid
		s.Dropped.Unsubscribed += st.unsub
		s.Dropped.Shutdown += st.late
		pending += uint64(len(st.dirty))
		st.mu.Unlock()
	}
	s.Pending = pending + uint64(max(e.inflight.Load(), 0))
	s.Published = e.published.Load()
	s.Dropped.CircuitOpen = e.circuitOpen.Load()
	s.Dropped.PublishFailed = e.publishFailed.Load()
	s.Dropped.Shutdown += e.shutdownDrops.Load()
	s.CatchUp = e.catchUp.Load()
	s.Batches = e.batches.Load()
	return s
}

// Health is the engine's state for a health endpoint; it marshals to JSON.
type Health struct {
	// Status is "ok"; "degraded" when the breaker is not closed, a Publish
	// has run for more than twice its PublishTimeout (a Publisher that
	// ignores its context), the source failed within the last minute or was
	// given up, or the last reload failed; "stopped" before Run and after it
	// returned.
	Status string `json:"status"`
	// Reasons says why the status is not "ok".
	Reasons     []string `json:"reasons,omitempty"`
	Breaker     string   `json:"breaker"`     // "closed", "open" or "half-open"
	Instruments int      `json:"instruments"` // subscribed instruments
	Stats       Stats    `json:"stats"`
	// LastTick is, per underlying, the exchange time of the newest tick of
	// its subscribed instruments.
	LastTick map[string]time.Time `json:"last_tick"`
	// LastReload is when the last reload finished; zero before the first.
	LastReload time.Time `json:"last_reload"`
	// ReloadError is the last reload's error; empty when it succeeded.
	ReloadError string `json:"reload_error"`
	// SourceError is the source's last failure, while it counts against
	// the status.
	SourceError string `json:"source_error,omitempty"`
	// RefusedInstruments counts instruments refused by reloads (zero token,
	// duplicate token).
	RefusedInstruments uint64 `json:"refused_instruments"`
}

// sourceDegradedFor is how long a source failure keeps the status degraded.
const sourceDegradedFor = time.Minute

// Health returns the engine's health.
func (e *Engine) Health() Health {
	h := Health{
		Status:      "ok",
		Breaker:     e.br.State().String(),
		Stats:       e.Stats(),
		LastTick:    map[string]time.Time{},
		Instruments: len(e.table.Load().list),
	}
	if e.state.Load() != engineRunning {
		h.Status = "stopped"
	}
	degrade := func(why string) {
		if h.Status == "ok" {
			h.Status = "degraded"
		}
		h.Reasons = append(h.Reasons, why)
	}
	if h.Breaker != breaker.Closed.String() {
		degrade("publisher circuit " + h.Breaker)
	}
	if at := e.publishing.Load(); at != 0 {
		if d := time.Since(time.Unix(0, at)); d > 2*e.cfg.PublishTimeout {
			degrade("a Publish has run for " + d.Round(time.Millisecond).String() + ", past twice its PublishTimeout")
		}
	}
	e.reloadMu.Lock()
	h.LastReload = e.lastReload
	h.RefusedInstruments = e.refused
	if e.reloadErr != nil {
		h.ReloadError = e.reloadErr.Error()
	}
	e.reloadMu.Unlock()
	if h.ReloadError != "" {
		degrade("last reload failed")
	}
	e.srcMu.Lock()
	switch {
	case e.srcGaveUp:
		h.SourceError = e.srcErr.Error()
		degrade("source gave up")
	case e.srcErr != nil && time.Since(e.srcFailedAt) < sourceDegradedFor:
		h.SourceError = e.srcErr.Error()
		degrade("source failed")
	}
	e.srcMu.Unlock()
	for _, s := range e.table.Load().list {
		t, ok := s.latest()
		if u := s.ins.Underlying; ok && t.Time.After(h.LastTick[u]) {
			h.LastTick[u] = t.Time
		}
	}
	return h
}

// engineMetrics are the engine's own metrics. Counters are read from Stats
// at scrape time, so the emit path pays nothing for them.
type engineMetrics struct {
	publishes  prometheus.Counter
	failures   prometheus.Counter
	batchSize  prometheus.Histogram
	latency    prometheus.Histogram
	collectors []prometheus.Collector
}

func newEngineMetrics(e *Engine, reg prometheus.Registerer) (*engineMetrics, error) {
	l := prometheus.Labels{"name": e.name}
	m := &engineMetrics{
		publishes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "redis_publish_total", ConstLabels: l,
			Help: "Publish calls (batches handed to the publisher), catch-up included.",
		}),
		failures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "redis_publish_failures_total", ConstLabels: l,
			Help: "Publish calls that returned an error or timed out.",
		}),
		batchSize: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: "steadfast", Subsystem: "ticker", Name: "publish_batch_size", ConstLabels: l,
			Help:    "Ticks per Publish call.",
			Buckets: prometheus.ExponentialBuckets(1, 2, 12),
		}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: "steadfast", Subsystem: "ticker", Name: "publish_duration_seconds", ConstLabels: l,
			Help:    "Duration of Publish calls.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16),
		}),
	}
	m.collectors = []prometheus.Collector{m.publishes, m.failures, m.batchSize, m.latency, newEngineCollector(e, l)}
	if reg != nil {
		if err := promreg.Register(reg, "ticker", e.name, m.collectors...); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (m *engineMetrics) observe(n uint64, d time.Duration, ok bool) {
	m.publishes.Inc()
	if !ok {
		m.failures.Inc()
	}
	m.batchSize.Observe(float64(n))
	m.latency.Observe(d.Seconds())
}

// engineCollector exports the Stats at scrape time.
type engineCollector struct {
	e                            *Engine
	ticks, pending, drops, state *prometheus.Desc
}

var (
	ticksResults = [...]string{"produced", "published", "conflated", "invalid", "circuit_open",
		"publish_failed", "unsubscribed", "shutdown", "catch_up"}
)

func newEngineCollector(e *Engine, labels prometheus.Labels) *engineCollector {
	return &engineCollector{e: e,
		ticks: prometheus.NewDesc("steadfast_ticker_ticks_total",
			"Ticks by result: produced = published + conflated + invalid + the drops (circuit_open, publish_failed, unsubscribed, shutdown) + pending; catch_up counts republished latest ticks.",
			[]string{"result"}, labels),
		pending: prometheus.NewDesc("steadfast_ticker_pending",
			"Ticks waiting in slots or in a batch being published.", nil, labels),
		drops: prometheus.NewDesc("redis_circuit_open_drops_total",
			"Ticks dropped because the circuit breaker refused their batch.", nil, labels),
		state: prometheus.NewDesc("redis_circuit_state",
			"State of the publisher's circuit breaker: 0 closed, 1 open, 2 half-open.", nil, labels),
	}
}

// Describe implements prometheus.Collector.
func (c *engineCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.ticks
	ch <- c.pending
	ch <- c.drops
	ch <- c.state
}

// Collect implements prometheus.Collector.
func (c *engineCollector) Collect(ch chan<- prometheus.Metric) {
	ticks, pending, drops, state := c.ticks, c.pending, c.drops, c.state
	s := c.e.Stats()
	vals := [...]uint64{s.Produced, s.Published, s.Conflated, s.Invalid, s.Dropped.CircuitOpen,
		s.Dropped.PublishFailed, s.Dropped.Unsubscribed, s.Dropped.Shutdown, s.CatchUp}
	for i, v := range vals {
		ch <- prometheus.MustNewConstMetric(ticks, prometheus.CounterValue, float64(v), ticksResults[i])
	}
	ch <- prometheus.MustNewConstMetric(pending, prometheus.GaugeValue, float64(s.Pending))
	ch <- prometheus.MustNewConstMetric(drops, prometheus.CounterValue, float64(s.Dropped.CircuitOpen))
	var st float64
	switch c.e.br.State() {
	case breaker.Open:
		st = 1
	case breaker.HalfOpen:
		st = 2
	}
	ch <- prometheus.MustNewConstMetric(state, prometheus.GaugeValue, st)
}

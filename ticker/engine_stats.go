package ticker

import (
	"fmt"
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
	for i := range e.stripes {
		st := &e.stripes[i]
		st.mu.Lock()
		s.Produced += st.produced
		s.Conflated += st.conflated
		s.Invalid += st.invalid
		s.Dropped.Unsubscribed += st.unsub
		s.Dropped.Shutdown += st.late
		st.mu.Unlock()
	}
	s.Pending = uint64(max(e.inflight.Load()+e.hot.pending.Load(), 0))
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
	// Status is "ok"; "degraded" when the breaker is not closed, the last
	// Publish failed, no Publish has succeeded for twice the PublishTimeout
	// while ticks wait, the source failed within the last minute or was
	// given up, a loop of the engine ended, or the last reload failed;
	// "stopped" before Run and after it returned.
	Status string `json:"status"`
	// Reasons says why the status is not "ok".
	Reasons []string `json:"reasons,omitempty"`
	Breaker string   `json:"breaker"` // "closed", "open" or "half-open"
	// NextProbe is when the breaker will next let a probe through, while
	// it is open; zero (and left out of the JSON) otherwise.
	NextProbe   time.Time `json:"next_probe,omitzero"`
	Instruments int       `json:"instruments"` // subscribed instruments
	Stats       Stats     `json:"stats"`
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
	// PublishError is the last Publish's error while publishing fails.
	PublishError string `json:"publish_error,omitempty"`
	// CacheError is the Publisher's report that a cache it keeps beside
	// the feed is failing (see Config.Publisher). It leaves Status alone:
	// the publish results alone say whether the feed works.
	CacheError string `json:"cache_error,omitempty"`
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
	h.NextProbe = e.br.NextProbe()
	e.publishHealth(&h, degrade)
	if c, ok := e.cfg.Publisher.(interface{ LatestError() error }); ok {
		if err := c.LatestError(); err != nil {
			h.CacheError = err.Error()
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
	e.taskMu.Lock()
	switch {
	case e.srcGaveUp:
		h.SourceError = e.srcErr.Error()
		degrade("source gave up")
	case e.srcErr != nil && time.Since(e.srcFailedAt) < sourceDegradedFor:
		h.SourceError = e.srcErr.Error()
		degrade("source failed")
	}
	for _, why := range e.ended {
		degrade(why)
	}
	e.taskMu.Unlock()
	for _, s := range e.table.Load().list {
		t, ok := s.latest()
		if u := s.ins.Load().Underlying; ok && t.Time.After(h.LastTick[u]) {
			h.LastTick[u] = t.Time
		}
	}
	return h
}

// publishHealth adds the publisher's part of h: the last Publish failed,
// or none has succeeded for twice the PublishTimeout while ticks wait
// (since the publish loop last found nothing to do). The latter also
// catches a Publisher that ignores its context.
func (e *Engine) publishHealth(h *Health, degrade func(string)) {
	if e.pubFailing.Load() {
		if b := e.lastPubErr.Load(); b != nil {
			h.PublishError = b.err.Error()
		}
		degrade("last Publish failed")
	}
	if h.Stats.Pending == 0 || e.state.Load() != engineRunning {
		return
	}
	since := time.Unix(0, max(e.lastOK.Load(), e.lastIdle.Load()))
	if d := time.Since(since); d > 2*e.cfg.PublishTimeout {
		degrade(fmt.Sprintf("no Publish has succeeded for %v while %d ticks wait", d.Round(time.Millisecond), h.Stats.Pending))
	}
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
	e                                               *Engine
	produced, ticks, catchUp, pending, drops, state *prometheus.Desc
}

// ticksResults are the values of steadfast_ticker_ticks_total's result
// label: the right side of the Stats identity, but Pending (a gauge).
var ticksResults = [...]string{"published", "conflated", "invalid", "circuit_open",
	"publish_failed", "unsubscribed", "shutdown"}

func newEngineCollector(e *Engine, labels prometheus.Labels) *engineCollector {
	return &engineCollector{e: e,
		produced: prometheus.NewDesc("steadfast_ticker_ticks_produced_total",
			"Ticks the source emitted: the sum of steadfast_ticker_ticks_total over result, plus steadfast_ticker_pending.",
			nil, labels),
		ticks: prometheus.NewDesc("steadfast_ticker_ticks_total",
			"Emitted ticks by what became of them: published, conflated, invalid, or dropped (circuit_open, publish_failed, unsubscribed, shutdown).",
			[]string{"result"}, labels),
		catchUp: prometheus.NewDesc("steadfast_ticker_catch_up_total",
			"Latest ticks republished once publishing recovered from a drop.", nil, labels),
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
	for _, d := range []*prometheus.Desc{c.produced, c.ticks, c.catchUp, c.pending, c.drops, c.state} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *engineCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.e.Stats()
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	counter(c.produced, s.Produced)
	vals := [...]uint64{s.Published, s.Conflated, s.Invalid, s.Dropped.CircuitOpen,
		s.Dropped.PublishFailed, s.Dropped.Unsubscribed, s.Dropped.Shutdown}
	for i, v := range vals {
		counter(c.ticks, v, ticksResults[i])
	}
	counter(c.catchUp, s.CatchUp)
	counter(c.drops, s.Dropped.CircuitOpen)
	ch <- prometheus.MustNewConstMetric(c.pending, prometheus.GaugeValue, float64(s.Pending))
	var st float64
	switch c.e.br.State() {
	case breaker.Open:
		st = 1
	case breaker.HalfOpen:
		st = 2
	}
	ch <- prometheus.MustNewConstMetric(c.state, prometheus.GaugeValue, st)
}

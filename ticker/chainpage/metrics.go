package chainpage

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/steadfast-go/steadfast/internal/promreg"
)

// collector exports a Handler's Stats, and its MaxStreams, at scrape time,
// so serving a stream pays nothing for metrics.
type collector struct {
	h                                   *Handler
	streams, maxStreams                 *prometheus.Desc
	opened, refused, snaps, frames, tks *prometheus.Desc
	refusedClient, expired, unencodable *prometheus.Desc
}

func newCollector(h *Handler) *collector {
	l := prometheus.Labels{"name": h.cfg.Name}
	desc := func(n, help string) *prometheus.Desc {
		return prometheus.NewDesc("steadfast_chainpage_"+n, help, nil, l)
	}
	return &collector{
		h:          h,
		streams:    desc("streams", "Event streams open now."),
		maxStreams: desc("max_streams", "Config.MaxStreams: event streams allowed open at once; one more gets 503."),
		opened:     desc("streams_opened_total", "Event streams accepted."),
		refused:    desc("streams_refused_total", "Event stream requests refused with 503: MaxStreams were open, or the handler was closed."),
		refusedClient: desc("streams_refused_per_client_total",
			"Event stream requests refused with 429 because their client held MaxStreamsPerClient."),
		expired:     desc("streams_expired_total", "Event streams ended at MaxStreamAge."),
		unencodable: desc("unencodable_total", "Values left out of a stream because JSON cannot carry them."),
		snaps:       desc("snapshots_total", "Snapshot events sent."),
		frames:      desc("frames_total", "Frames sent (a write and flush of one or more events), snapshots included."),
		tks:         desc("ticks_total", "Ticks sent, in snapshots and deltas."),
	}
}

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.streams, c.maxStreams, c.opened, c.refused, c.snaps, c.frames, c.tks,
		c.refusedClient, c.expired, c.unencodable} {
		ch <- d
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	s := c.h.Stats()
	ch <- prometheus.MustNewConstMetric(c.streams, prometheus.GaugeValue, float64(s.Open))
	ch <- prometheus.MustNewConstMetric(c.maxStreams, prometheus.GaugeValue, float64(c.h.cfg.MaxStreams))
	for _, m := range []struct {
		d *prometheus.Desc
		v uint64
	}{{c.opened, s.Opened}, {c.refused, s.Refused}, {c.snaps, s.Snapshots}, {c.frames, s.Frames}, {c.tks, s.Ticks},
		{c.refusedClient, s.RefusedPerClient}, {c.expired, s.Expired}, {c.unencodable, s.Unencodable}} {
		ch <- prometheus.MustNewConstMetric(m.d, prometheus.CounterValue, float64(m.v))
	}
}

// register registers the Handler's metrics with cfg.Registerer, if any.
func (h *Handler) register() error {
	if h.cfg.Registerer == nil {
		return nil
	}
	return promreg.Register(h.cfg.Registerer, "chainpage", h.cfg.Name, newCollector(h))
}

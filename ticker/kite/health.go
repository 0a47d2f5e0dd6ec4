package kite

import (
	"fmt"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// ConnState is the state of one of a Source's connections.
type ConnState uint8

// The connection states.
const (
	ConnIdle       ConnState = iota // no instruments, so not connected
	ConnConnecting                  // dialling
	ConnConnected                   // open, subscriptions sent
	ConnWaiting                     // waiting to reconnect after a failure
)

// String returns "idle", "connecting", "connected" or "waiting";
// "unknown" for other values.
func (c ConnState) String() string {
	switch c {
	case ConnIdle:
		return "idle"
	case ConnConnecting:
		return "connecting"
	case ConnConnected:
		return "connected"
	case ConnWaiting:
		return "waiting"
	}
	return "unknown"
}

// MarshalText returns the state's String form.
func (c ConnState) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// UnmarshalText parses a state's String form.
func (c *ConnState) UnmarshalText(b []byte) error {
	for s := ConnIdle; s <= ConnWaiting; s++ {
		if string(b) == s.String() {
			*c = s
			return nil
		}
	}
	return fmt.Errorf("kite: unknown connection state %q", b)
}

// Health is a snapshot of a Source's connections.
type Health struct {
	Running bool         `json:"running"` // a Run is in progress
	Stalled bool         `json:"stalled"` // some connection is stalled (see ConnHealth.Stalled)
	Err     string       `json:"error"`   // the permanent error that ended the last Run, if any
	Conns   []ConnHealth `json:"conns"`   // one per connection slot, MaxConns in all
}

// ConnHealth is the state of one connection.
type ConnHealth struct {
	Conn        int       `json:"conn"`        // index, from 0
	State       ConnState `json:"state"`       // what it is doing
	Since       time.Time `json:"since"`       // when it entered State
	Instruments int       `json:"instruments"` // instruments assigned to it
	LastFrame   time.Time `json:"last_frame"`  // last frame of any kind, heartbeats included
	LastData    time.Time `json:"last_data"`   // last frame with packets
	// Stalled: connected, and no data for StallTimeout while the market is
	// open; its subscriptions were sent again, and it is replaced if that
	// brings no data within another StallTimeout.
	Stalled   bool   `json:"stalled"`
	LastError string `json:"last_error"` // the last failure, token redacted; kept after recovery
}

// Health returns the state of the Source's connections.
func (s *Source) Health() Health {
	s.mu.Lock()
	defer s.mu.Unlock()
	h := Health{Running: s.running.Load(), Err: s.fatal}
	for _, sl := range s.slots {
		c := ConnHealth{
			Conn: sl.idx, State: sl.state, Since: sl.since, Instruments: len(sl.want),
			Stalled: sl.stalled, LastError: sl.lastErr,
			LastFrame: unixNano(sl.lastFrame.Load()), LastData: unixNano(sl.lastData.Load()),
		}
		h.Stalled = h.Stalled || c.Stalled
		h.Conns = append(h.Conns, c)
	}
	return h
}

func unixNano(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n)
}

// Gap describes a time when a connection was down: ticks of its
// instruments between Start and End were not received.
type Gap struct {
	Conn   int       `json:"conn"`   // the connection's index
	Start  time.Time `json:"start"`  // when the connection was lost
	End    time.Time `json:"end"`    // when it was restored and its subscriptions sent again
	Tokens []uint32  `json:"tokens"` // the instruments it carries, sorted (the callee may keep it)
}

// Stats are a Source's counters since New.
type Stats struct {
	Frames          uint64            `json:"frames"`           // binary frames with packets received
	Packets         uint64            `json:"packets"`          // ticks emitted
	Heartbeats      uint64            `json:"heartbeats"`       // heartbeat frames (one byte)
	TextMessages    uint64            `json:"text_messages"`    // text messages (order updates, errors, ...)
	Orders          uint64            `json:"orders"`           // order updates (type "order") read
	ServerErrors    uint64            `json:"server_errors"`    // text messages of type "error"
	Messages        uint64            `json:"messages"`         // text messages of type "message"
	DroppedTexts    uint64            `json:"dropped_texts"`    // text messages longer than 64 KiB, or with the text queue full
	BadTexts        uint64            `json:"bad_texts"`        // text messages that are not JSON, and order updates that cannot be read
	DroppedFrames   uint64            `json:"dropped_frames"`   // frames dropped because the emit queue was full
	Rejected        map[Reason]uint64 `json:"rejected"`         // malformed frames or packets, by reason
	Dials           uint64            `json:"dials"`            // connection attempts
	Connects        uint64            `json:"connects"`         // connections opened and subscribed
	DialErrors      uint64            `json:"dial_errors"`      // failed attempts other than 401/403/429
	Refused         uint64            `json:"refused"`          // attempts refused with HTTP 429 (too many connections)
	AuthErrors      uint64            `json:"auth_errors"`      // attempts refused with HTTP 401/403
	Refreshes       uint64            `json:"refreshes"`        // new tokens from RefreshToken
	Reconnects      uint64            `json:"reconnects"`       // open connections lost
	DeadPeers       uint64            `json:"dead_peers"`       // of which, lost to the PingTimeout watchdog
	Stalls          uint64            `json:"stalls"`           // times a connection became stalled
	Resubscribes    uint64            `json:"resubscribes"`     // subscriptions sent again on a stalled connection
	StallReconnects uint64            `json:"stall_reconnects"` // stalled connections replaced: still no data after resubscribing
	Gaps            uint64            `json:"gaps"`             // gaps reported after a reconnect
	Panics          uint64            `json:"panics"`           // panics recovered in emit, OnGap, OnOrder, OnMessage or RefreshToken
	Subscribed      int               `json:"subscribed"`       // instruments subscribed now
}

// counters hold the Stats.
type counters struct {
	frames, packets, heartbeats, texts, serverErrors, dropped  atomic.Uint64
	orders, messages, droppedTexts, badTexts                   atomic.Uint64
	rejected                                                   [numReasons]atomic.Uint64
	dials, connects, dialErrors, refused, authErrors           atomic.Uint64
	refreshes, reconnects, deadPeers, stalls, gaps, emitPanics atomic.Uint64
	resubscribes, stallReconnects                              atomic.Uint64
}

// Stats returns the Source's counters.
func (s *Source) Stats() Stats {
	c := &s.c
	st := Stats{
		Frames: c.frames.Load(), Packets: c.packets.Load(), Heartbeats: c.heartbeats.Load(),
		TextMessages: c.texts.Load(), ServerErrors: c.serverErrors.Load(), DroppedFrames: c.dropped.Load(),
		Orders: c.orders.Load(), Messages: c.messages.Load(), DroppedTexts: c.droppedTexts.Load(), BadTexts: c.badTexts.Load(),
		Rejected: map[Reason]uint64{},
		Dials:    c.dials.Load(), Connects: c.connects.Load(), DialErrors: c.dialErrors.Load(),
		Refused: c.refused.Load(), AuthErrors: c.authErrors.Load(), Refreshes: c.refreshes.Load(),
		Reconnects: c.reconnects.Load(), DeadPeers: c.deadPeers.Load(), Stalls: c.stalls.Load(),
		Gaps: c.gaps.Load(), Panics: c.emitPanics.Load(),
		Resubscribes: c.resubscribes.Load(), StallReconnects: c.stallReconnects.Load(),
	}
	for r := Reason(1); r < numReasons; r++ {
		st.Rejected[r] = c.rejected[r].Load()
	}
	s.mu.Lock()
	st.Subscribed = len(s.where)
	s.mu.Unlock()
	return st
}

// collector exports Stats and Health as metrics named steadfast_kite_...,
// with the constant label name.
type collector struct{ s *Source }

type metricDef struct {
	desc  *prometheus.Desc
	typ   prometheus.ValueType
	value func(Stats, Health) float64
}

func (c *collector) defs() []metricDef {
	name := prometheus.Labels{"name": c.s.cfg.Name}
	counter := func(n, help string, f func(Stats) uint64) metricDef {
		return metricDef{prometheus.NewDesc("steadfast_kite_"+n, help, nil, name), prometheus.CounterValue,
			func(s Stats, _ Health) float64 { return float64(f(s)) }}
	}
	gauge := func(n, help string, f func(Stats, Health) float64) metricDef {
		return metricDef{prometheus.NewDesc("steadfast_kite_"+n, help, nil, name), prometheus.GaugeValue, f}
	}
	return []metricDef{
		counter("frames_total", "Binary frames with packets received.", func(s Stats) uint64 { return s.Frames }),
		counter("packets_total", "Ticks emitted.", func(s Stats) uint64 { return s.Packets }),
		counter("heartbeats_total", "Heartbeat frames received.", func(s Stats) uint64 { return s.Heartbeats }),
		counter("text_messages_total", "Text messages received.", func(s Stats) uint64 { return s.TextMessages }),
		counter("orders_total", "Order updates received.", func(s Stats) uint64 { return s.Orders }),
		counter("server_errors_total", "Text messages of type error received.", func(s Stats) uint64 { return s.ServerErrors }),
		counter("dropped_texts_total", "Text messages dropped: too long, or the queue full.", func(s Stats) uint64 { return s.DroppedTexts }),
		counter("dropped_frames_total", "Frames dropped because the emit queue was full.", func(s Stats) uint64 { return s.DroppedFrames }),
		counter("dials_total", "Connection attempts.", func(s Stats) uint64 { return s.Dials }),
		counter("refused_total", "Connection attempts refused with HTTP 429.", func(s Stats) uint64 { return s.Refused }),
		counter("auth_errors_total", "Connection attempts refused with HTTP 401 or 403.", func(s Stats) uint64 { return s.AuthErrors }),
		counter("reconnects_total", "Open connections lost.", func(s Stats) uint64 { return s.Reconnects }),
		counter("dead_peers_total", "Connections lost to the ping watchdog.", func(s Stats) uint64 { return s.DeadPeers }),
		counter("gaps_total", "Gaps reported after a reconnect.", func(s Stats) uint64 { return s.Gaps }),
		counter("stalls_total", "Times a connection became stalled in market hours.", func(s Stats) uint64 { return s.Stalls }),
		counter("resubscribes_total", "Subscriptions sent again on a stalled connection.", func(s Stats) uint64 { return s.Resubscribes }),
		counter("stall_reconnects_total", "Stalled connections replaced after resubscribing did not help.",
			func(s Stats) uint64 { return s.StallReconnects }),
		counter("panics_total", "Panics recovered in emit, OnGap, OnOrder, OnMessage or RefreshToken.", func(s Stats) uint64 { return s.Panics }),
		gauge("subscribed", "Instruments subscribed.", func(s Stats, _ Health) float64 { return float64(s.Subscribed) }),
		gauge("connections", "Connections open.", func(_ Stats, h Health) float64 {
			return countConns(h, func(c ConnHealth) bool { return c.State == ConnConnected })
		}),
		gauge("stalled_connections", "Connections stalled in market hours.", func(_ Stats, h Health) float64 {
			return countConns(h, func(c ConnHealth) bool { return c.Stalled })
		}),
	}
}

func countConns(h Health, f func(ConnHealth) bool) float64 {
	n := 0
	for _, c := range h.Conns {
		if f(c) {
			n++
		}
	}
	return float64(n)
}

func (c *collector) rejectedDesc() *prometheus.Desc {
	return prometheus.NewDesc("steadfast_kite_rejected_total", "Malformed frames or packets, by reason.",
		[]string{"reason"}, prometheus.Labels{"name": c.s.cfg.Name})
}

// Describe implements prometheus.Collector.
func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.defs() {
		ch <- d.desc
	}
	ch <- c.rejectedDesc()
}

// Collect implements prometheus.Collector.
func (c *collector) Collect(ch chan<- prometheus.Metric) {
	st, h := c.s.Stats(), c.s.Health()
	for _, d := range c.defs() {
		ch <- prometheus.MustNewConstMetric(d.desc, d.typ, d.value(st, h))
	}
	rd := c.rejectedDesc()
	for r := Reason(1); r < numReasons; r++ {
		ch <- prometheus.MustNewConstMetric(rd, prometheus.CounterValue, float64(st.Rejected[r]), r.String())
	}
}

package replica

import (
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/steadfast-go/steadfast/internal/promreg"
	"github.com/steadfast-go/steadfast/ticker"
)

// counters are the cumulative counts behind Stats and the metrics.
type counters struct {
	acquired, takenOver, renewed, lost, released, fenced atomic.Uint64
}

// status is what the last rounds found, for Health; guarded by Replica.mu.
type status struct {
	lastRenew  time.Time // start of the last round that reached Redis
	members    int       // members read by the last heartbeat
	total      int       // members in the set
	unassigned int       // partitions no member has room for
	mismatch   []string  // members with another Partitions: "id=N"
	redisErr   error     // the last round's failure; nil when it reached Redis
	redisSince time.Time // start of the first failed round in a row
	idInUse    bool
	universe   int // instruments in the universe at the last reload
	subscribed int // of which in held partitions
}

// Stats are the replica's cumulative counts.
type Stats struct {
	Acquired  uint64 `json:"acquired"`   // leases acquired, taken over included
	TakenOver uint64 `json:"taken_over"` // acquired after another holder's lease lapsed unreleased
	Renewed   uint64 `json:"renewed"`    // lease renewals that succeeded
	Lost      uint64 `json:"lost"`       // leases lost: renewal refused, or lapsed unrenewed
	Released  uint64 `json:"released"`   // leases given up: moved to another member, or at shutdown
	// FencedTicks counts ticks the Publisher wrapper dropped because their
	// partition was not (or no longer validly) held. The engine counts
	// them as published.
	FencedTicks uint64 `json:"fenced_ticks"`
}

// Stats returns the cumulative counts.
func (r *Replica) Stats() Stats {
	s := &r.stats
	return Stats{
		Acquired: s.acquired.Load(), TakenOver: s.takenOver.Load(), Renewed: s.renewed.Load(),
		Lost: s.lost.Load(), Released: s.released.Load(), FencedTicks: s.fenced.Load(),
	}
}

// Health is the replica's state; it marshals to JSON.
type Health struct {
	// Status is "ok"; "degraded" when Redis cannot be reached, another
	// live replica has this ID, members disagree on Partitions, some
	// partitions have no member with room, or the engine is degraded;
	// "starting" until the first round reached Redis; "stopped" before Run
	// and after it returned.
	Status  string   `json:"status"`
	Reasons []string `json:"reasons,omitempty"`
	ID      string   `json:"id"`
	Standby bool     `json:"standby"`
	// Partitions is Config.Partitions; Owned how many of them this
	// replica holds; Capacity the most it takes.
	Partitions int `json:"partitions"`
	Owned      int `json:"partitions_owned"`
	Capacity   int `json:"capacity"`
	// Members is how many live members (this one included) the last
	// round saw.
	Members int `json:"members"`
	// Universe and Instruments count the universe's instruments and those
	// in held partitions, at the engine's last reload.
	Universe    int `json:"universe"`
	Instruments int `json:"instruments"`
	// LastRenew is when the last round that reached Redis started: its
	// membership and every held lease were renewed then. SinceRenew is the
	// time since, in seconds.
	LastRenew  time.Time `json:"last_renew,omitzero"`
	SinceRenew float64   `json:"since_last_renew_seconds"`
	// LeasesValidUntil is when this replica stops publishing its held
	// partitions if no renewal succeeds before then; zero when it holds
	// none.
	LeasesValidUntil time.Time `json:"leases_valid_until,omitzero"`
	// RedisError is the last round's failure while Redis cannot be
	// reached, since RedisErrorSince.
	RedisError      string        `json:"redis_error,omitempty"`
	RedisErrorSince time.Time     `json:"redis_error_since,omitzero"`
	Stats           Stats         `json:"stats"`
	Engine          ticker.Health `json:"engine"`
}

// Health returns the replica's health.
func (r *Replica) Health() Health {
	now := time.Now()
	h := Health{
		ID: r.id, Standby: r.cfg.Standby, Partitions: r.cfg.Partitions, Capacity: r.cfg.Capacity,
		Stats: r.Stats(), Engine: r.eng.Health(),
	}
	for p := range r.owned {
		if l := r.owned[p].Load(); l != nil {
			h.Owned++
			if l.validUntil.After(h.LeasesValidUntil) {
				h.LeasesValidUntil = l.validUntil
			}
		}
	}
	r.mu.Lock()
	st := r.st
	r.mu.Unlock()
	h.Members, h.Universe, h.Instruments = st.members, st.universe, st.subscribed
	h.LastRenew = st.lastRenew
	if !st.lastRenew.IsZero() {
		h.SinceRenew = now.Sub(st.lastRenew).Seconds()
	}
	if st.redisErr != nil {
		h.RedisError, h.RedisErrorSince = st.redisErr.Error(), st.redisSince
		h.Reasons = append(h.Reasons, r.unreachable(st, h.LeasesValidUntil, now))
	}
	if st.idInUse {
		h.Reasons = append(h.Reasons, fmt.Sprintf("another live replica of group %q has ID %q; waiting for its entry to lapse", r.cfg.Group, r.id))
	}
	if len(st.mismatch) > 0 {
		h.Reasons = append(h.Reasons, fmt.Sprintf("members disagree on Partitions (this one has %d): %s",
			r.cfg.Partitions, strings.Join(st.mismatch, ", ")))
	}
	if st.total > st.members {
		h.Reasons = append(h.Reasons, fmt.Sprintf("%d members in the group; only the first %d are read", st.total, st.members))
	}
	if st.unassigned > 0 {
		h.Reasons = append(h.Reasons, fmt.Sprintf("%d of %d partitions have no member with room: add capacity or replicas", st.unassigned, r.cfg.Partitions))
	}
	for _, why := range h.Engine.Reasons {
		h.Reasons = append(h.Reasons, "engine: "+why)
	}
	switch {
	case r.state.Load() != stateRunning:
		h.Status = "stopped"
	case len(h.Reasons) > 0 || h.Engine.Status == "degraded":
		h.Status = "degraded"
	case st.lastRenew.IsZero():
		h.Status = "starting"
	default:
		h.Status = "ok"
	}
	return h
}

// unreachable words the reason of a replica that cannot reach Redis.
func (r *Replica) unreachable(st status, validUntil, now time.Time) string {
	msg := fmt.Sprintf("redis unreachable since %s: %v", st.redisSince.Format(time.RFC3339Nano), st.redisErr)
	switch {
	case validUntil.After(now):
		return msg + fmt.Sprintf("; publishing its %s stops at %s, when their leases can lapse",
			plural(r.countOwned(), "partition"), validUntil.Format(time.RFC3339Nano))
	case st.lastRenew.IsZero():
		return msg + "; it holds no partition"
	default:
		return msg + fmt.Sprintf("; its leases lapsed by %s and it publishes nothing",
			st.lastRenew.Add(r.cfg.LeaseTTL).Format(time.RFC3339Nano))
	}
}

func (r *Replica) countOwned() int {
	n := 0
	for p := range r.owned {
		if r.owned[p].Load() != nil {
			n++
		}
	}
	return n
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// metrics are the replica's collectors, read at scrape time.
type metrics struct {
	reg prometheus.Registerer
	cs  []prometheus.Collector
}

// newMetrics registers r's metrics with cfg.Registerer, if any.
func newMetrics(r *Replica) (*metrics, error) {
	m := &metrics{reg: r.cfg.Registerer}
	if m.reg == nil {
		return m, nil
	}
	labels := prometheus.Labels{"name": r.cfg.Name}
	counter := func(name, help string, v *atomic.Uint64) {
		m.cs = append(m.cs, prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "steadfast_replica_" + name, Help: help, ConstLabels: labels,
		}, func() float64 { return float64(v.Load()) }))
	}
	gauge := func(name, help string, f func() float64) {
		m.cs = append(m.cs, prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "steadfast_replica_" + name, Help: help, ConstLabels: labels,
		}, f))
	}
	s := &r.stats
	counter("leases_acquired_total", "Leases acquired, taken over included.", &s.acquired)
	counter("leases_taken_over_total", "Leases acquired after another holder's lease lapsed unreleased.", &s.takenOver)
	counter("leases_renewed_total", "Lease renewals that succeeded.", &s.renewed)
	counter("leases_lost_total", "Leases lost: renewal refused, or lapsed unrenewed.", &s.lost)
	counter("leases_released_total", "Leases given up to another member or at shutdown.", &s.released)
	counter("fenced_ticks_total", "Ticks dropped because their partition was not validly held.", &s.fenced)
	gauge("partitions_owned", "Partitions this replica holds a lease on.", func() float64 { return float64(r.countOwned()) })
	gauge("members", "Live members of the group seen by the last round.", func() float64 {
		r.mu.Lock()
		defer r.mu.Unlock()
		return float64(r.st.members)
	})
	gauge("seconds_since_renew", "Seconds since the last round that renewed the membership and every held lease; -1 before the first.", func() float64 {
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.st.lastRenew.IsZero() {
			return -1
		}
		return time.Since(r.st.lastRenew).Seconds()
	})
	gauge("redis_unreachable", "1 while the last round could not reach Redis, else 0.", func() float64 {
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.st.redisErr != nil {
			return 1
		}
		return 0
	})
	if err := promreg.Register(m.reg, "replica", r.cfg.Name, m.cs...); err != nil {
		return nil, err
	}
	return m, nil
}

// unregister takes the metrics back (New failed after registering them).
func (m *metrics) unregister() {
	if m.reg == nil {
		return
	}
	for _, c := range m.cs {
		m.reg.Unregister(c)
	}
}

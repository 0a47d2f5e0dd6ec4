package replica

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/steadfast-go/steadfast/ticker"
)

// instruments is the engine's Instruments: the universe's instruments whose
// partitions r holds. It also records every token's partition for the
// Publisher wrapper and the counts Health shows. A token whose underlying
// and expiry are as at the last call keeps its partition without hashing.
func (r *Replica) instruments(ctx context.Context, universe func(context.Context) ([]ticker.Instrument, error)) ([]ticker.Instrument, error) {
	all, err := universe(ctx)
	if err != nil {
		return nil, err
	}
	prev := r.parts.Load()
	parts := make(map[uint32]placed, len(all))
	var out []ticker.Instrument
	for i := range all {
		in := &all[i]
		at, ok := placed{}, false
		if prev != nil {
			at, ok = (*prev)[in.Token]
		}
		if !ok || at.underlying != in.Underlying || !at.expiry.Equal(in.Expiry) {
			at = placed{underlying: in.Underlying, expiry: in.Expiry, partition: uint16(PartitionOf(in, r.cfg.Partitions))}
		}
		parts[in.Token] = at
		if r.owned[at.partition].Load() != nil {
			out = append(out, *in)
		}
	}
	r.parts.Store(&parts)
	r.mu.Lock()
	r.st.universe, r.st.subscribed = len(all), len(out)
	r.mu.Unlock()
	r.log(slog.LevelDebug, "instruments of the held partitions", slog.Int("universe", len(all)), slog.Int("held", len(out)))
	return out, nil
}

// placed is a token's partition and what it was computed from.
type placed struct {
	underlying string
	expiry     time.Time
	partition  uint16
}

// partition returns the partition of a tick's instrument.
func (r *Replica) partition(t *ticker.Tick) (int, bool) {
	if m := r.parts.Load(); m != nil {
		if at, ok := (*m)[t.Token]; ok {
			return int(at.partition), true
		}
	}
	if t.Instrument == nil {
		return 0, false
	}
	return PartitionOf(t.Instrument, r.cfg.Partitions), true
}

// fencedPublisher is the engine's Publisher: it passes on the ticks of the
// partitions r holds, stamped with their epochs, and drops (and counts) the
// others. The Publish it makes has a deadline no later than the earliest
// validity of the leases of its ticks, so no write of a batch starts after a
// lease it relies on may have lapsed.
type fencedPublisher struct {
	r    *Replica
	next ticker.Publisher
}

// fenceBuf is the wrapper's reusable batch.
type fenceBuf struct {
	mu    sync.Mutex
	ticks []ticker.Tick
}

// Publish implements ticker.Publisher.
func (f *fencedPublisher) Publish(ctx context.Context, ticks []ticker.Tick) error {
	r := f.r
	b := &r.pub
	b.mu.Lock()
	defer b.mu.Unlock()
	out := b.ticks[:0]
	now := time.Now()
	var deadline time.Time
	for i := range ticks {
		p, ok := r.partition(&ticks[i])
		var h *holding
		if ok {
			h = r.owned[p].Load()
		}
		if h == nil || !now.Before(h.validUntil) {
			continue
		}
		out = append(out, ticks[i])
		out[len(out)-1].Epoch = h.epoch
		if deadline.IsZero() || h.validUntil.Before(deadline) {
			deadline = h.validUntil
		}
	}
	b.ticks = out
	defer clear(out) // let go of the Instrument and Depth pointers
	if dropped := len(ticks) - len(out); dropped > 0 {
		r.stats.fenced.Add(uint64(dropped))
	}
	if len(out) == 0 {
		return nil
	}
	if d, ok := ctx.Deadline(); !ok || deadline.Before(d) {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, deadline)
		defer cancel()
	}
	return f.next.Publish(ctx, out)
}

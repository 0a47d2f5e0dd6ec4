package replica

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/steadfast-go/steadfast/internal/logattr"
)

// A round is what the replica does every LeaseTTL/3 (sooner when a lease it
// wants or a member it depends on is about to lapse): renew its membership
// and read the others', compute the assignment, release what is no longer
// its own, renew what it holds, acquire what is its own and free, drop what
// has lapsed, and reload the engine if ownership changed. Only the loop
// goroutine runs rounds.

// roundState is the loop goroutine's own state.
type roundState struct {
	assignKey string   // the members the assignment was computed for
	owners    []string // the assignment: partition → member ID
	reachable bool     // the last round reached Redis
	idInUse   bool     // the last round found the ID in use
	tried     bool     // a round has run
}

// minWait is the shortest pause between rounds.
const minWait = 2 * time.Millisecond

// round runs one round and returns how long to wait for the next.
func (r *Replica) round(ctx context.Context) time.Duration {
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, r.renewI)
	defer cancel()
	wait := r.renewI
	changed := false
	v, err := r.heartbeat(ctx)
	if err == nil {
		var w time.Duration
		changed, w, err = r.sync(ctx, v)
		wait = min(wait, w)
		for _, m := range v.members {
			if m.ID != r.id && m.expires > 0 {
				// A member about to lapse: look again just after, so that
				// its partitions are taken over at once.
				wait = min(wait, m.expires-time.Since(start)+minWait)
			}
		}
	}
	if err != nil {
		// Try again soon: Redis may be back in a moment, and a lease
		// whose renewal failed is valid for less than two renew
		// intervals.
		wait = r.renewI / 4
	}
	now := time.Now()
	if r.lapse(now) {
		changed = true
	}
	for p := range r.owned {
		if h := r.owned[p].Load(); h != nil {
			wait = min(wait, h.validUntil.Sub(now))
		}
	}
	if changed {
		r.eng.Reload()
	}
	r.report(ctx, start, v, err)
	return max(wait, minWait)
}

// sync releases, renews and acquires leases after a heartbeat that read v.
// It reports whether ownership changed and how soon a wanted lease held by
// another may lapse.
func (r *Replica) sync(ctx context.Context, v view) (changed bool, wake time.Duration, err error) {
	owners := r.assign(v.members)
	wake = r.renewI
	var ps []int
	var values []string
	for p := range r.owned {
		if h := r.owned[p].Load(); h != nil && owners[p] != r.id {
			r.owned[p].Store(nil) // fenced before it is released
			ps, values = append(ps, p), append(values, h.value)
		}
	}
	if len(ps) > 0 {
		changed = true
		r.log(slog.LevelInfo, "partitions released to other members", slog.String("partitions", list(ps)))
		if err := r.release(ctx, ps, values); err != nil {
			return changed, wake, err // they lapse after LeaseTTL
		}
		r.stats.released.Add(uint64(len(ps)))
	}
	lost, err := r.renewHeld(ctx)
	if err != nil {
		return changed, wake, err
	}
	changed = changed || lost
	got, wake, err := r.acquireWanted(ctx, owners)
	return changed || got, wake, err
}

// renewHeld renews every held lease and reports whether any was lost.
func (r *Replica) renewHeld(ctx context.Context) (bool, error) {
	var ps []int
	var values []string
	for p := range r.owned {
		if h := r.owned[p].Load(); h != nil {
			ps, values = append(ps, p), append(values, h.value)
		}
	}
	if len(ps) == 0 {
		return false, nil
	}
	sent := time.Now()
	ok, err := r.renew(ctx, ps, values)
	if err != nil {
		return false, err
	}
	var lost []int
	for i, p := range ps {
		h := r.owned[p].Load()
		if h == nil || h.value != values[i] {
			continue // changed meanwhile; only this goroutine changes it, so never
		}
		if ok[i] {
			r.owned[p].Store(&holding{epoch: h.epoch, value: h.value, validUntil: r.validUntil(sent)})
			r.stats.renewed.Add(1)
		} else {
			r.owned[p].Store(nil)
			lost = append(lost, p)
		}
	}
	if len(lost) > 0 {
		r.stats.lost.Add(uint64(len(lost)))
		r.log(slog.LevelWarn, "leases lost: Redis no longer has them as this replica's",
			slog.String("partitions", list(lost)))
	}
	return len(lost) > 0, nil
}

// acquireWanted tries to acquire every partition assigned to r that it does
// not hold. It reports whether it got any and when to try again: soon if
// another holds one of them (renewI if none does).
func (r *Replica) acquireWanted(ctx context.Context, owners []string) (bool, time.Duration, error) {
	wake := r.renewI
	var ps []int
	for p, o := range owners {
		if o == r.id && r.owned[p].Load() == nil {
			ps = append(ps, p)
		}
	}
	if len(ps) == 0 {
		return false, wake, nil
	}
	sent := time.Now()
	res, err := r.acquire(ctx, ps)
	if err != nil {
		return false, wake, err
	}
	var got, taken []int
	for i, p := range ps {
		a := res[i]
		if !a.ok {
			// Held by another: a member that lost it to the assignment
			// releases it at its next round, so look again soon, and just
			// after the lease would lapse.
			wake = min(wake, r.renewI/4)
			if a.pttl >= 0 {
				wake = min(wake, a.pttl+minWait)
			}
			continue
		}
		if a.pttl < 0 || a.pttl > r.cfg.LeaseTTL {
			continue // not a lease of ours: one without expiry, or longer
		}
		r.owned[p].Store(&holding{
			epoch:      a.epoch,
			value:      r.holder + "/" + strconv.FormatUint(a.epoch, 10),
			validUntil: sent.Add(a.pttl - r.cfg.FenceMargin),
		})
		got = append(got, p)
		if a.takeover {
			taken = append(taken, p)
		}
	}
	if len(got) > 0 {
		r.stats.acquired.Add(uint64(len(got)))
		r.stats.takenOver.Add(uint64(len(taken)))
		r.log(slog.LevelInfo, "partitions acquired", slog.String("partitions", list(got)),
			slog.String("taken_over", list(taken)))
	}
	return len(got) > 0, wake, nil
}

// validUntil is when a lease renewed or acquired by a call sent at sent
// stops being published: Redis started its LeaseTTL no earlier than sent.
func (r *Replica) validUntil(sent time.Time) time.Time {
	return sent.Add(r.cfg.LeaseTTL - r.cfg.FenceMargin)
}

// lapse drops every lease whose validity has passed (it could not be
// renewed in time) and reports whether it dropped any.
func (r *Replica) lapse(now time.Time) bool {
	var ps []int
	for p := range r.owned {
		if h := r.owned[p].Load(); h != nil && !now.Before(h.validUntil) {
			r.owned[p].Store(nil)
			ps = append(ps, p)
		}
	}
	if len(ps) == 0 {
		return false
	}
	r.stats.lost.Add(uint64(len(ps)))
	r.log(slog.LevelWarn, "leases lapsed unrenewed; publishing of their partitions stopped",
		slog.String("partitions", list(ps)))
	return true
}

// assign returns the assignment for the members, recomputing it only when
// they changed.
func (r *Replica) assign(members []seen) []string {
	ms := make([]Member, len(members))
	for i, m := range members {
		ms[i] = m.Member
	}
	slices.SortFunc(ms, func(a, b Member) int { return strings.Compare(a.ID, b.ID) })
	var b strings.Builder
	for _, m := range ms {
		b.WriteString(m.ID)
		b.WriteByte('|')
		b.WriteString(strconv.Itoa(m.Capacity))
		if m.Standby {
			b.WriteString("|s")
		}
		b.WriteByte('\n')
	}
	if key := b.String(); key != r.rs.assignKey || r.rs.owners == nil {
		r.rs.assignKey, r.rs.owners = key, Assign(ms, r.cfg.Partitions)
	}
	return r.rs.owners
}

// report records the round's outcome for Health and logs a change between
// reaching Redis and not.
func (r *Replica) report(ctx context.Context, start time.Time, v view, err error) {
	unassigned := 0
	if err == nil {
		for _, o := range r.rs.owners {
			if o == "" {
				unassigned++
			}
		}
	}
	var mismatch []string
	for _, m := range v.members {
		if m.partitions != r.cfg.Partitions {
			mismatch = append(mismatch, m.ID+"="+strconv.Itoa(m.partitions))
		}
	}
	idInUse := errors.Is(err, ErrIDInUse)
	r.mu.Lock()
	switch {
	case err == nil || idInUse:
		r.st.redisErr = nil
		r.st.idInUse = idInUse
		if err == nil {
			r.st.lastRenew = start
			r.st.members, r.st.total = len(v.members), v.total
			r.st.unassigned, r.st.mismatch = unassigned, mismatch
		}
	case r.st.redisErr == nil:
		r.st.redisErr, r.st.redisSince = err, start
	default:
		r.st.redisErr = err
	}
	r.mu.Unlock()

	switch {
	case err != nil && ctx.Err() != nil && errors.Is(err, context.Canceled):
		// The replica is stopping.
	case idInUse:
		if !r.rs.idInUse {
			r.log(slog.LevelWarn, "another live replica of the group has this ID; waiting for its entry to lapse")
		}
	case err != nil && (r.rs.reachable || !r.rs.tried):
		r.log(slog.LevelWarn, "redis unreachable; publishing what is held until its leases lapse", logattr.Err(err))
	case err == nil && !r.rs.reachable && r.rs.tried:
		r.log(slog.LevelInfo, "redis reachable again")
	}
	r.rs.reachable, r.rs.tried, r.rs.idInUse = err == nil || idInUse, true, idInUse
}

// list writes partitions as "1,5,9".
func list(ps []int) string {
	var b []byte
	for i, p := range ps {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, int64(p), 10)
	}
	return string(b)
}

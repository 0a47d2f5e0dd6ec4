package ticker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/steadfast-go/steadfast/internal/logattr"
)

// reload is the reloader's function: it asks Instruments for the wanted
// subscriptions, refuses the unusable ones, applies the difference to the
// Source and then to the subscription table. A failed or panicking
// Instruments leaves the subscriptions as they are; its panic goes on to
// the reloader, which logs it with its stack and counts it.
//
// The table is the one record of what is subscribed, and it matches what
// the Source has accepted: the difference is taken against it, and after
// Subscribe fails the table stays as it was, so the next reload sends the
// same difference again (a Source's Subscribe must be idempotent).
//
// Reloads run one at a time (the reloader sees to that, and the first one
// runs before the reloader starts); reloadMu guards only the results, so
// Health never waits for an Instruments call. The failure itself is logged
// by the reloader.
func (e *Engine) reload(ctx context.Context) (err error) {
	refused, returned := 0, false
	defer func() {
		v := recover()
		switch {
		case v != nil:
			err = fmt.Errorf("ticker: Instruments panicked: %v", v)
		case !returned: // runtime.Goexit, which goes on to the reloader
			err = errors.New("ticker: Instruments or Source.Subscribe called runtime.Goexit")
		}
		if ctx.Err() == nil || err == nil { // a reload cut off by shutdown changes nothing
			e.reloadMu.Lock()
			e.lastReload = time.Now()
			e.refused += uint64(refused)
			e.reloadErr = err
			e.reloadMu.Unlock()
		}
		if v != nil {
			panic(v) // the reloader recovers it, with the stack
		}
	}()
	refused, err = e.reloadOnce(ctx)
	returned = true
	return err
}

// reloadOnce does the reload and returns how many instruments it refused.
func (e *Engine) reloadOnce(ctx context.Context) (int, error) {
	list, err := e.cfg.Instruments(ctx)
	if err != nil {
		return 0, fmt.Errorf("ticker: Instruments: %w", err)
	}
	old := e.table.Load()
	c, refused := e.compare(old, list)
	if len(refused) > 0 {
		e.log(slog.LevelWarn, "instruments refused", slog.Int("count", len(refused)),
			slog.String("first", refused[0]))
	}
	if !c.changed {
		e.setNextExpiry(old) // after an expiry's reload, the one after it
		return len(refused), nil
	}
	if err := e.subscribe(old, c); err != nil {
		return len(refused), err
	}
	// Accepted: the kept slots take their new descriptions, with their
	// ticks and catch-up state, and the removed ones retire.
	for i, s := range c.slots {
		if s.ins.Load() != c.descs[i] {
			s.ins.Store(c.descs[i])
		}
	}
	next := newSubTable(c.slots)
	e.table.Store(next)
	e.retire(c.gone)
	e.setNextExpiry(next)
	return len(refused), nil
}

// change is the difference between the subscription table and a new list.
type change struct {
	slots   []*slot       // the new table's slots, in list order
	descs   []*Instrument // the description each of slots takes
	fresh   []*slot       // slots of instruments not subscribed before
	gone    []*slot       // slots the new list does not keep
	add     []Instrument  // for Subscribe: fresh, and kept with a new description
	remove  []Instrument  // for Subscribe: gone, and kept with a new description (old one)
	changed bool          // anything differs, the order included
}

// compare returns the difference between t and list, and a description of
// each refused instrument (zero token, repeated token).
func (e *Engine) compare(t *subTable, list []Instrument) (change, []string) {
	c := change{slots: make([]*slot, 0, len(list)), descs: make([]*Instrument, 0, len(list))}
	var refused []string
	seen := make(map[uint32]bool, len(list))
	for i := range list {
		in := &list[i]
		switch {
		case in.Token == 0:
			refused = append(refused, fmt.Sprintf("#%d %q: zero token", i, in.Symbol))
			continue
		case seen[in.Token]:
			refused = append(refused, fmt.Sprintf("#%d %q: duplicate token %d", i, in.Symbol, in.Token))
			continue
		}
		seen[in.Token] = true
		desc := new(Instrument)
		*desc = *in
		s := t.get(in.Token)
		switch {
		case s == nil:
			s = newSlot(desc)
			c.fresh = append(c.fresh, s)
			c.add = append(c.add, *desc)
		case !sameInstrument(s.ins.Load(), desc):
			c.add = append(c.add, *desc)
			c.remove = append(c.remove, *s.ins.Load())
		default:
			desc = s.ins.Load()
		}
		if len(c.slots) >= len(t.list) || t.list[len(c.slots)] != s || desc != s.ins.Load() {
			c.changed = true
		}
		c.slots = append(c.slots, s)
		c.descs = append(c.descs, desc)
	}
	if n := len(t.list) - (len(c.slots) - len(c.fresh)); n > 0 {
		c.gone = make([]*slot, 0, n)
		c.remove = slices.Grow(c.remove, n)
		for _, s := range t.list {
			if !seen[s.token] {
				c.gone = append(c.gone, s)
				c.remove = append(c.remove, *s.ins.Load())
			}
		}
	}
	c.changed = c.changed || len(c.slots) != len(t.list)
	return c, refused
}

// subscribe applies c to the Source. While Subscribe runs, the table holds
// the fresh slots as well as the old ones, so a source that streams an
// added instrument at once loses no tick; when Subscribe fails, the old
// table is put back and the fresh slots retire.
func (e *Engine) subscribe(old *subTable, c change) (err error) {
	if len(c.add) == 0 && len(c.remove) == 0 {
		return nil
	}
	if len(c.fresh) > 0 {
		e.table.Store(newSubTable(append(slices.Clip(old.list), c.fresh...)))
	}
	accepted := false
	defer func() {
		if !accepted {
			e.table.Store(old)
			e.retire(c.fresh)
		}
	}()
	if err := e.callSubscribe(c.add, c.remove); err != nil {
		return fmt.Errorf("ticker: Source.Subscribe (%d to add, %d to remove; sent again on the next reload): %w",
			len(c.add), len(c.remove), err)
	}
	accepted = true
	return nil
}

// sameInstrument reports whether two descriptions are equal, comparing the
// expiry as an instant.
func sameInstrument(a, b *Instrument) bool {
	x, y := *a, *b
	x.Expiry, y.Expiry = time.Time{}, time.Time{}
	return x == y && a.Expiry.Equal(b.Expiry)
}

// callSubscribe calls Source.Subscribe, turning a panic into an error. A
// runtime.Goexit is logged the same way and ends the reload, which the
// reloader counts as a failure; subscribe then puts the old table back.
func (e *Engine) callSubscribe(add, remove []Instrument) (err error) {
	logattr.Contain(func() { err = e.cfg.Source.Subscribe(add, remove) }, func(v any, stack []byte) {
		a := logattr.PanicAttrs(v, stack)
		e.log(slog.LevelError, "Source.Subscribe panicked", a[0], a[1])
		err = fmt.Errorf("ticker: Source.Subscribe panicked: %v", v)
	})
	return err
}

// expiryInstant is when a contract expires: its Expiry, the instant trading
// in it ends; zero for an instrument that does not expire.
func expiryInstant(in *Instrument) time.Time {
	if in.Expiry.IsZero() || !(in.Kind.IsOption() || in.Kind == KindFuture) {
		return time.Time{}
	}
	return in.Expiry
}

// setNextExpiry records the earliest expiry after now among the
// subscriptions and wakes the expiry loop. It compares instants, not
// nanosecond counts, so a "never" such as 9999-12-31 is just far away.
func (e *Engine) setNextExpiry(t *subTable) {
	now := time.Now()
	var next *time.Time
	for _, s := range t.list {
		if x := expiryInstant(s.ins.Load()); !x.IsZero() && x.After(now) && (next == nil || x.Before(*next)) {
			next = &x
		}
	}
	e.nextExpiry.Store(next)
	select {
	case e.expiryChange <- struct{}{}:
	default:
	}
}

// expiryLoop triggers a reload when a subscribed contract expires, so that
// an Instruments function listing the nearest expiries rolls the chain.
func (e *Engine) expiryLoop(ctx context.Context) error {
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	for {
		var fire <-chan time.Time
		if next := e.nextExpiry.Load(); next != nil {
			timer.Reset(time.Until(*next)) // at most 292 years: Until saturates
			fire = timer.C
		}
		select {
		case <-ctx.Done():
			return nil
		case <-e.expiryChange:
			timer.Stop()
		case <-fire:
			e.log(slog.LevelInfo, "a subscribed contract expired; reloading")
			e.nextExpiry.Store(nil) // the reload sets the next one
			e.Reload()
		}
	}
}

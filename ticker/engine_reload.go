package ticker

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"runtime/debug"
	"slices"
	"time"

	"github.com/steadfast-go/steadfast/internal/logattr"
)

// reload is the reloader's function: it asks Instruments for the wanted
// subscriptions, refuses the unusable ones, swaps in a new subscription
// table and applies the difference to the Source. A failed or panicking
// Instruments leaves the subscriptions as they are; its panic goes on to the
// reloader, which logs it with its stack and counts it.
//
// The difference is taken against what the Source has accepted (applied),
// not against the table: after Subscribe fails, the next reload sends the
// part it did not take again, so a Source's Subscribe must be idempotent.
//
// Reloads run one at a time (the reloader sees to that, and the first one
// runs before the reloader starts); reloadMu guards only the results, so
// Health never waits for an Instruments call. The failure itself is logged
// by the reloader.
func (e *Engine) reload(ctx context.Context) (err error) {
	refused := 0
	defer func() {
		v := recover()
		if v != nil {
			err = fmt.Errorf("ticker: Instruments panicked: %v", v)
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
	return err
}

// reloadOnce does the reload and returns how many instruments it refused.
func (e *Engine) reloadOnce(ctx context.Context) (int, error) {
	list, err := e.cfg.Instruments(ctx)
	if err != nil {
		return 0, fmt.Errorf("ticker: Instruments: %w", err)
	}
	old := e.table.Load()
	kept := make(map[uint32]*slot, len(list))
	slots := make([]*slot, 0, len(list))
	var refused []string
	for i := range list {
		in := list[i]
		switch {
		case in.Token == 0:
			refused = append(refused, fmt.Sprintf("#%d %q: zero token", i, in.Symbol))
			continue
		case kept[in.Token] != nil:
			refused = append(refused, fmt.Sprintf("#%d %q: duplicate token %d", i, in.Symbol, in.Token))
			continue
		}
		s := old.get(in.Token)
		if s == nil || !sameInstrument(s.ins, &in) {
			s = &slot{ins: &in, live: true}
		}
		kept[in.Token] = s
		slots = append(slots, s)
	}
	next := newSubTable(slots)
	if len(refused) > 0 {
		e.log(slog.LevelWarn, "instruments refused", slog.Int("count", len(refused)),
			slog.String("first", refused[0]))
	}
	e.swapTable(old, next)
	e.setNextExpiry(next)

	// The diff against what the Source holds: an instrument whose
	// description changed is in both lists (remove is applied first).
	var add, remove []Instrument
	for _, s := range next.list {
		if in, ok := e.applied[s.ins.Token]; !ok || !sameInstrument(in, s.ins) {
			add = append(add, *s.ins)
		}
	}
	for tok, in := range e.applied {
		if s := kept[tok]; s == nil || !sameInstrument(in, s.ins) {
			remove = append(remove, *in)
		}
	}
	if len(add) == 0 && len(remove) == 0 {
		return len(refused), nil
	}
	if err := e.callSubscribe(add, remove); err != nil {
		return len(refused), fmt.Errorf("ticker: Source.Subscribe (%d to add, %d to remove; sent again on the next reload): %w",
			len(add), len(remove), err)
	}
	for _, in := range remove {
		delete(e.applied, in.Token)
	}
	for _, s := range next.list {
		e.applied[s.ins.Token] = s.ins
	}
	return len(refused), nil
}

// sameInstrument reports whether two descriptions are equal, comparing the
// expiry as an instant.
func sameInstrument(a, b *Instrument) bool {
	x, y := *a, *b
	x.Expiry, y.Expiry = time.Time{}, time.Time{}
	return x == y && a.Expiry.Equal(b.Expiry)
}

// swapTable publishes next. Slots of old that next does not keep stop being
// live; a tick of theirs still pending is dropped as unsubscribed.
func (e *Engine) swapTable(old, next *subTable) {
	for i := range e.stripes {
		e.stripes[i].mu.Lock()
	}
	for _, s := range old.list {
		if next.get(s.ins.Token) == s {
			continue
		}
		s.live = false
		if s.dirty {
			s.dirty = false
			st := e.stripeOf(s.ins.Token)
			st.unsub++
			st.dirty = slices.DeleteFunc(st.dirty, func(d *slot) bool { return d == s })
		}
	}
	e.table.Store(next)
	for i := range e.stripes {
		e.stripes[i].mu.Unlock()
	}
}

// callSubscribe calls Source.Subscribe, turning a panic into an error.
func (e *Engine) callSubscribe(add, remove []Instrument) (err error) {
	defer func() {
		if v := recover(); v != nil {
			a := logattr.PanicAttrs(v, debug.Stack())
			e.log(slog.LevelError, "Source.Subscribe panicked", a[0], a[1])
			err = fmt.Errorf("ticker: Source.Subscribe panicked: %v", v)
		}
	}()
	return e.cfg.Source.Subscribe(add, remove)
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
// subscriptions and wakes the expiry loop.
func (e *Engine) setNextExpiry(t *subTable) {
	now := time.Now()
	next := int64(math.MaxInt64)
	for _, s := range t.list {
		if x := expiryInstant(s.ins); !x.IsZero() && x.After(now) && x.UnixNano() < next {
			next = x.UnixNano()
		}
	}
	if next == math.MaxInt64 {
		next = 0
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
		if next := e.nextExpiry.Load(); next != 0 {
			timer.Reset(time.Until(time.Unix(0, next)))
			fire = timer.C
		}
		select {
		case <-ctx.Done():
			return nil
		case <-e.expiryChange:
			timer.Stop()
		case <-fire:
			e.log(slog.LevelInfo, "a subscribed contract expired; reloading")
			e.nextExpiry.Store(0) // the reload sets the next one
			e.Reload()
		}
	}
}

package breaker

import (
	"context"
	"log/slog"

	"github.com/steadfast-go/steadfast/internal/logattr"
)

// maxPending bounds the state changes waiting to be delivered.
const maxPending = 16

// event is a state change waiting to be logged and passed to OnStateChange.
type event struct {
	from, to      State
	mode          Mode   // the mode after the change
	probeTimedOut bool   // a probe outlasted HalfOpenMaxWait
	skipped       uint64 // changes merged into this one because the queue was full
}

// events is the queue of state changes, guarded by the breaker's mu.
type events struct {
	pending    []event
	delivering bool   // a goroutine is delivering pending events
	skipped    uint64 // cumulative, for the metrics
}

// push queues ev. When maxPending events are already waiting it merges ev
// into the last one instead, which then spans both changes (the chain of
// from and to stays unbroken), and counts the change that will not be
// delivered on its own.
func (q *events) push(ev event) {
	if len(q.pending) < maxPending {
		q.pending = append(q.pending, ev)
		return
	}
	last := q.last()
	last.to, last.mode, last.probeTimedOut = ev.to, ev.mode, ev.probeTimedOut
	last.skipped++
	q.skipped++
}

// last returns the newest waiting event; one must be waiting.
func (q *events) last() *event { return &q.pending[len(q.pending)-1] }

// waiting reports whether events wait and nobody is delivering them.
func (q *events) waiting() bool { return len(q.pending) > 0 && !q.delivering }

// deliver logs the pending state changes and passes them to OnStateChange,
// in order, outside mu. The goroutine that finds nobody delivering delivers
// them all, including those queued meanwhile by other goroutines or by the
// callback itself, until none is left.
func (b *Breaker) deliver() {
	b.mu.Lock()
	if b.events.delivering {
		b.mu.Unlock()
		return
	}
	b.events.delivering = true
	for len(b.events.pending) > 0 {
		ev := b.events.pending[0]
		b.events.pending = append(b.events.pending[:0], b.events.pending[1:]...)
		b.mu.Unlock()
		b.announce(ev)
		b.mu.Lock()
	}
	b.events.delivering = false
	b.mu.Unlock()
}

// announce logs one state change (to open at Warn, the others at Info) and
// calls OnStateChange with it. A change of mode alone (Disable while
// closed, say) is a change from a state to itself.
func (b *Breaker) announce(ev event) {
	level := slog.LevelInfo
	if ev.to == Open {
		level = slog.LevelWarn
	}
	in := logattr.Instance("breaker", b.cfg.Name)
	attrs := append(make([]slog.Attr, 0, 8), in[0], in[1], slog.String("from", ev.from.String()), slog.String("to", ev.to.String()))
	switch ev.mode {
	case ForcedOpen:
		attrs = append(attrs, slog.Bool("forced", true))
	case Disabled, MetricsOnly:
		attrs = append(attrs, slog.String("mode", ev.mode.String()))
	}
	if ev.probeTimedOut {
		attrs = append(attrs, slog.Bool("probe_timed_out", true))
	}
	if ev.skipped > 0 {
		attrs = append(attrs, slog.Uint64("skipped", ev.skipped))
	}
	logattr.Logger(b.cfg.Logger).LogAttrs(context.Background(), level, "state changed", attrs...)

	if b.cfg.OnStateChange != nil {
		b.contain("OnStateChange", func() { b.cfg.OnStateChange(b.cfg.Name, ev.from, ev.to) }, func() {
			// This goroutine ends: hand the rest of the queue on, or no
			// later change would ever be delivered.
			b.mu.Lock()
			b.events.delivering = false
			b.mu.Unlock()
			b.deliver()
		})
	}
}

// contain calls fn, a user callback. A panic in it is recovered, logged with
// its stack and counted. A runtime.Goexit in it
// (t.FailNow calls it) is logged and counted the same way, and then goexit
// runs, before the goroutine ends.
func (b *Breaker) contain(callback string, fn, goexit func()) {
	logattr.Contain(fn, func(v any, stack []byte) {
		b.callbackPanics.Add(1)
		in := logattr.Instance("breaker", b.cfg.Name)
		p := logattr.PanicAttrs(v, stack)
		logattr.Logger(b.cfg.Logger).LogAttrs(context.Background(), slog.LevelError, "callback panicked",
			in[0], in[1], slog.String("callback", callback), p[0], p[1])
		if v == logattr.Goexit {
			goexit()
		}
	})
}

// foreignPermit counts a Permit of another breaker passed to Done, and logs
// the first one: it is a bug in the caller.
func (b *Breaker) foreignPermit() {
	if b.foreign.Add(1) != 1 {
		return
	}
	in := logattr.Instance("breaker", b.cfg.Name)
	logattr.Logger(b.cfg.Logger).LogAttrs(context.Background(), slog.LevelError,
		"permit of another breaker passed to Done; ignored (only the first is logged)", in[0], in[1])
}

package ticker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"time"

	"github.com/steadfast-go/steadfast/breaker"
	"github.com/steadfast-go/steadfast/internal/logattr"
)

// publishLoop takes pending ticks in batches and publishes them through the
// breaker until flush is closed; then it runs the final flush and returns.
//
// It sleeps while nothing is pending; the first emit that makes a slot
// pending wakes it. Awake, it waits Linger for the batch to fill (unless a
// full batch is already pending), then publishes batches until no tick is
// pending. After a batch the breaker refused, it waits a probe interval
// before it takes another, so that while the breaker is open the slots
// conflate (latest wins) rather than being taken only to be dropped, and
// the loop leaves the stripes to the source. While some instrument is owed a catch-up tick, it tries a
// catch-up batch after every successful publish and, while publishing does
// not work, every probe interval, so the half-open breaker gets its probe
// even when no new tick arrives.
func (e *Engine) publishLoop(ctx context.Context, flush <-chan struct{}) {
	b := &batch{
		ticks: make([]Tick, 0, e.cfg.BatchSize),
		slots: make([]*slot, 0, e.cfg.BatchSize),
		seqs:  make([]uint64, 0, e.cfg.BatchSize),
	}
	next := 0
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	wait := func(d time.Duration) (flushing bool) {
		timer.Reset(d)
		select {
		case <-timer.C:
			return false
		case <-flush:
			timer.Stop()
			return true
		}
	}
	okSinceDrop := false // a publish succeeded since the last catch-up attempt failed
	for {
		e.sleeping.Store(true)
		if e.pending() == 0 {
			var retry <-chan time.Time
			if e.owed.Load() > 0 {
				if okSinceDrop {
					e.sleeping.Store(false)
					okSinceDrop = e.catchUpRound(ctx, b)
					continue
				}
				timer.Reset(e.probeInterval())
				retry = timer.C
			}
			select {
			case <-e.wake:
				if retry != nil {
					timer.Stop()
				}
			case <-retry:
				e.sleeping.Store(false)
				okSinceDrop = e.catchUpRound(ctx, b)
				continue
			case <-flush:
				e.sleeping.Store(false)
				e.finalFlush(ctx, b, &next)
				return
			}
		}
		e.sleeping.Store(false)
		// Linger at most Linger for a batch to fill, looking again every
		// quarter of it, so that a batch that fills sooner goes at once.
		for step := 0; e.cfg.Linger > 0 && step < 4 && e.pending() < e.cfg.BatchSize; step++ {
			if wait(max(e.cfg.Linger/4, time.Microsecond)) {
				e.finalFlush(ctx, b, &next)
				return
			}
		}
		for e.take(b, e.cfg.BatchSize, &next) > 0 {
			ok, refused := e.publish(ctx, b, false)
			if ok {
				okSinceDrop = true
				if e.owed.Load() > 0 {
					// One catch-up batch after each published one, so
					// that a steady flow of new ticks never starves an
					// instrument that is owed one and ticks no more.
					e.catchUpBatch(ctx, b)
				}
			}
			if refused && wait(e.probeInterval()) {
				// While the breaker refuses, taking batches only to drop
				// them would compete with the source for the stripes:
				// let the slots conflate until the next probe instead.
				e.finalFlush(ctx, b, &next)
				return
			}
			select {
			case <-flush:
				e.finalFlush(ctx, b, &next)
				return
			default:
			}
		}
	}
}

// probeInterval is how often the loop retries a catch-up while publishing
// does not work: an eighth of the breaker's open timeout, within [10ms, 1s].
func (e *Engine) probeInterval() time.Duration {
	ot := e.cfg.Breaker.OpenTimeout
	if ot <= 0 {
		ot = breaker.DefaultOpenTimeout
	}
	return min(max(ot/8, 10*time.Millisecond), time.Second)
}

// catchUpBatch publishes one batch of owed catch-up ticks, if any.
func (e *Engine) catchUpBatch(ctx context.Context, b *batch) {
	if e.takeOwed(b, e.cfg.BatchSize) > 0 {
		e.publish(ctx, b, true)
	}
}

// catchUpRound publishes the owed catch-up ticks in batches and reports
// whether every batch it tried was published.
func (e *Engine) catchUpRound(ctx context.Context, b *batch) bool {
	for e.takeOwed(b, e.cfg.BatchSize) > 0 {
		if ok, _ := e.publish(ctx, b, true); !ok {
			return false
		}
		if e.pending() > 0 {
			return true // new ticks first; the catch-up goes on after them
		}
	}
	return true
}

// publish sends b through the breaker, accounts for its ticks and resets it.
// A catch-up batch's ticks were produced and accounted before, so only its
// success is counted (CatchUp). It reports whether the Publisher took the
// batch, and whether the breaker refused it.
func (e *Engine) publish(ctx context.Context, b *batch, catchUp bool) (ok, refused bool) {
	n := uint64(len(b.ticks))
	defer func() {
		if !catchUp {
			e.inflight.Add(-int64(n))
		}
		b.reset()
	}()
	p, err := e.br.Allow()
	if err != nil {
		if !catchUp {
			e.circuitOpen.Add(n)
			e.settle(b, false)
		}
		return false, true
	}
	pctx, cancel := context.WithTimeout(ctx, e.cfg.PublishTimeout)
	start := time.Now()
	e.publishing.Store(start.UnixNano())
	err = e.callPublisher(pctx, b.ticks)
	e.publishing.Store(0)
	if err == nil && pctx.Err() != nil && ctx.Err() == nil {
		// The batch missed its deadline: whatever the Publisher says, it
		// may not have arrived in time.
		err = fmt.Errorf("ticker: publish timed out after %v: %w", e.cfg.PublishTimeout, pctx.Err())
	}
	cancel()
	e.br.Done(p, err)
	e.met.observe(n, time.Since(start), err == nil)
	if err != nil {
		if !catchUp {
			e.publishFailed.Add(n)
			e.settle(b, false)
		}
		e.noteFailure(err)
		return false, false
	}
	e.batches.Add(1)
	if catchUp {
		e.catchUp.Add(n)
	} else {
		e.published.Add(n)
	}
	e.settle(b, true)
	e.noteSuccess()
	return true, false
}

// callPublisher calls the Publisher, turning a panic into an error.
func (e *Engine) callPublisher(ctx context.Context, ticks []Tick) (err error) {
	defer func() {
		if v := recover(); v != nil {
			a := logattr.PanicAttrs(v, debug.Stack())
			e.log(slog.LevelError, "publisher panicked", a[0], a[1])
			err = fmt.Errorf("ticker: publisher panicked: %v", v)
		}
	}()
	return e.cfg.Publisher.Publish(ctx, ticks)
}

// noteFailure logs a publish failure once per change from working to
// failing, with the error that names the cause.
func (e *Engine) noteFailure(err error) {
	e.lastPubErr.Store(&errBox{err})
	if !e.pubFailing.Swap(true) {
		e.log(slog.LevelError, "publish failed; ticks are dropped and caught up once publishing works",
			logattr.Err(err), slog.String("breaker_state", e.br.State().String()))
	}
}

// noteSuccess logs the recovery after a failure.
func (e *Engine) noteSuccess() {
	if e.pubFailing.Load() && e.pubFailing.Swap(false) {
		e.log(slog.LevelInfo, "publishing recovered")
	}
}

type errBox struct{ err error }

// finalFlush publishes what is pending until ctx ends (Run cancels it when
// ShutdownTimeout has passed since its own context ended), then tries
// the owed catch-up ticks with the time left, and finally closes the slots:
// a tick still pending then, or arriving later, is a shutdown drop, and so
// is every tick of a batch the breaker refuses or the Publisher fails
// during the flush.
func (e *Engine) finalFlush(ctx context.Context, b *batch, next *int) {
	fctx := ctx // canceled by Run when the shutdown timeout runs out
	for fctx.Err() == nil && e.take(b, e.cfg.BatchSize, next) > 0 {
		n := uint64(len(b.ticks))
		if !e.flushBatch(fctx, b) {
			e.shutdownDrops.Add(n)
		} else {
			e.published.Add(n)
		}
		e.inflight.Add(-int64(n))
		b.reset()
	}
	for fctx.Err() == nil && e.owed.Load() > 0 && e.takeOwed(b, e.cfg.BatchSize) > 0 {
		n := uint64(len(b.ticks))
		ok := e.flushBatch(fctx, b)
		b.reset()
		if !ok {
			break
		}
		e.catchUp.Add(n)
	}
	e.closeStripes()
}

// flushBatch publishes one batch of the final flush through the breaker.
func (e *Engine) flushBatch(ctx context.Context, b *batch) bool {
	p, err := e.br.Allow()
	if err != nil {
		return false
	}
	pctx, cancel := context.WithTimeout(ctx, e.cfg.PublishTimeout)
	start := time.Now()
	err = e.callPublisher(pctx, b.ticks)
	if err == nil && pctx.Err() != nil {
		err = pctx.Err()
	}
	cancel()
	e.br.Done(p, err)
	e.met.observe(uint64(len(b.ticks)), time.Since(start), err == nil)
	if err != nil {
		if !errors.Is(err, context.DeadlineExceeded) || ctx.Err() == nil {
			e.noteFailure(err)
		}
		return false
	}
	e.batches.Add(1)
	e.settle(b, true)
	return true
}

package ticker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/steadfast-go/steadfast/breaker"
	"github.com/steadfast-go/steadfast/internal/logattr"
)

// publishLoop takes pending ticks in batches and publishes them until flush
// is closed; then it runs the final flush and returns.
//
// It waits for work: a pending tick (the first emit that makes a slot
// pending wakes it), a catch-up that is due, or the shutdown. It lingers
// for a batch to fill, takes one per lane (Config.PublishConcurrency) and
// publishes them at once (a round); after a round with a batch the
// breaker refused it pauses a probe interval, so that while the breaker is
// open the slots conflate (latest wins) rather than being taken only to be
// dropped. Then, while an instrument is owed a catch-up, it publishes one
// catch-up batch: at once after a successful publish, so a steady flow of
// new ticks never starves an instrument that ticks no more, and every
// probe interval while publishing fails, so the half-open breaker gets its
// probe even when no new tick arrives.
func (e *Engine) publishLoop(ctx context.Context, flush <-chan struct{}) {
	l := e.newLoop(ctx, flush)
	defer l.close()
	for l.waitForWork() {
		if e.hot.pending.Load() > 0 {
			if !l.linger() {
				break
			}
			if l.round() == refused && !l.pause(e.probeInterval()) {
				break
			}
		}
		if e.owed.Load() > 0 && l.catchUpDue() {
			e.takeOwed(l.lanes[0].b, e.cfg.BatchSize)
			l.publish(true)
		}
	}
	l.finalFlush()
}

// loop is the publish loop's own state.
type loop struct {
	e       *Engine
	ctx     context.Context
	flush   <-chan struct{}
	lanes   []lane // lane 0 also carries the catch-up and the final flush
	next    int    // the stripe the next take starts at
	timer   *time.Timer
	final   bool      // the final flush is running
	healthy bool      // the last Publish succeeded: a catch-up may go at once
	probeAt time.Time // when a catch-up may be tried again while not healthy
}

// lane is one batch in flight: a batch and the worker that publishes it.
type lane struct {
	b      *batch
	worker worker

	// The batch in flight, between begin and end.
	res    result
	permit breaker.Permit
	cancel context.CancelFunc
	ctx    context.Context
	start  time.Time
}

func (e *Engine) newLoop(ctx context.Context, flush <-chan struct{}) *loop {
	l := &loop{e: e, ctx: ctx, flush: flush, timer: time.NewTimer(time.Hour), healthy: true}
	l.timer.Stop()
	l.lanes = make([]lane, e.cfg.PublishConcurrency)
	for i := range l.lanes {
		l.lanes[i].b = newBatch(e.cfg.BatchSize)
		l.lanes[i].worker.e = e
	}
	return l
}

func (l *loop) close() {
	l.timer.Stop()
	for i := range l.lanes {
		l.lanes[i].worker.stop()
	}
}

// waitForWork returns true when a tick is pending or a catch-up is due,
// and false once flush is closed.
func (l *loop) waitForWork() bool {
	e := l.e
	for {
		select {
		case <-l.flush:
			return false
		default:
		}
		owed := e.owed.Load() > 0
		if e.hot.pending.Load() > 0 || owed && l.catchUpDue() {
			return true
		}
		var probe <-chan time.Time
		if owed {
			l.timer.Reset(time.Until(l.probeAt))
			probe = l.timer.C
		}
		e.hot.sleeping.Store(true)
		if e.hot.pending.Load() == 0 { // an emit after this sees sleeping and wakes us
			e.lastIdle.Store(time.Now().UnixNano())
			select {
			case <-e.wake:
			case <-probe:
			case <-l.flush:
			}
		}
		e.hot.sleeping.Store(false)
		l.timer.Stop()
	}
}

// catchUpDue reports whether a catch-up batch may go now.
func (l *loop) catchUpDue() bool { return l.healthy || !time.Now().Before(l.probeAt) }

// linger waits at most Linger for a batch to fill, looking again every
// quarter of it, so that a batch that fills sooner goes at once. It
// returns false when flush closes meanwhile.
func (l *loop) linger() bool {
	e := l.e
	full := int64(e.cfg.BatchSize * len(l.lanes))
	for step := 0; e.cfg.Linger > 0 && step < 4 && e.hot.pending.Load() < full; step++ {
		if !l.pause(max(e.cfg.Linger/4, time.Microsecond)) {
			return false
		}
	}
	return true
}

// pause waits d; it returns false when flush closes first.
func (l *loop) pause(d time.Duration) bool {
	l.timer.Reset(d)
	select {
	case <-l.timer.C:
		return true
	case <-l.flush:
		l.timer.Stop()
		return false
	}
}

// probeInterval is how often the loop retries while publishing does not
// work: an eighth of the breaker's current open period, within [10ms, 1s].
func (e *Engine) probeInterval() time.Duration {
	ot := e.br.Counts().OpenPeriod
	if ot <= 0 {
		ot = e.openTimeout
	}
	return min(max(ot/8, 10*time.Millisecond), time.Second)
}

// finalFlush publishes what is pending until the loop's context ends (Run
// cancels it when ShutdownTimeout has passed since its own context ended),
// then the owed catch-up ticks with the time left, and closes the slots: a
// tick still pending then, or arriving later, is a shutdown drop, and so is
// every tick of a batch the breaker refuses or the Publisher fails during
// the flush.
func (l *loop) finalFlush() {
	e := l.e
	l.final = true
	b := l.lanes[0].b
	for l.ctx.Err() == nil && e.take(b, e.cfg.BatchSize, &l.next) > 0 {
		l.publish(false)
	}
	for l.ctx.Err() == nil && e.takeOwed(b, e.cfg.BatchSize) > 0 {
		if l.publish(true) != published {
			break
		}
	}
	e.closeStripes()
}

// result is what became of a batch.
type result uint8

const (
	published result = iota // the Publisher accepted it
	refused                 // the breaker refused it
	failed                  // the Publisher failed, timed out, panicked or called runtime.Goexit
)

// round takes a batch for each lane and publishes them at once, then
// waits for all of them. A round holds at most one tick of an instrument
// (its slot holds one pending tick, and a take clears it) and ends before
// the next begins, so each instrument's ticks stay in order, and the
// rounds of a steady flow are full batches whatever the instruments. It
// returns refused when the breaker refused any batch, published when
// every one was published (or empty), and failed otherwise. With one lane
// it is publish(false) of one take.
func (l *loop) round() result {
	e := l.e
	for i := range l.lanes {
		ln := &l.lanes[i]
		e.take(ln.b, e.cfg.BatchSize, &l.next)
		l.begin(ln)
	}
	res := published
	for i := range l.lanes {
		switch r := l.end(&l.lanes[i], false); {
		case r == refused:
			res = refused
		case r == failed && res == published:
			res = failed
		}
	}
	if res != published && l.healthy { // a later lane's success does not hide a failure
		l.healthy = false
		l.probeAt = time.Now().Add(e.probeInterval())
	}
	return res
}

// publish sends lane 0's batch through the breaker to the Publisher and
// accounts for it (see end). A catch-up batch's ticks were produced and
// accounted before: only its success is counted. An empty batch is a
// no-op.
func (l *loop) publish(catchUp bool) result {
	l.begin(&l.lanes[0])
	return l.end(&l.lanes[0], catchUp)
}

// begin asks the breaker for a permit and, given one, hands the lane's
// batch to its worker with a PublishTimeout deadline. An empty batch is
// published at once; a refused one is settled by end.
func (l *loop) begin(ln *lane) {
	e := l.e
	ln.res = published
	if len(ln.b.ticks) == 0 {
		return
	}
	p, err := e.br.Allow()
	if err != nil {
		ln.res = refused
		return
	}
	ln.res, ln.permit = failed, p
	ln.ctx, ln.cancel = context.WithTimeout(l.ctx, e.cfg.PublishTimeout)
	ln.start = time.Now()
	ln.worker.begin(ln.ctx, ln.b.ticks)
}

// end waits for the lane's batch and accounts for it (see account) in a
// deferred call, as it completes the breaker's permit, so that neither is
// skipped whatever ends the call.
func (l *loop) end(ln *lane, catchUp bool) (res result) {
	e := l.e
	if len(ln.b.ticks) == 0 {
		return published
	}
	res = ln.res
	var err error
	defer func() { l.account(ln.b, res, catchUp, err) }()
	if res == refused {
		return refused
	}
	err = errPublishCut
	defer func() { e.br.Done(ln.permit, err) }()
	ctx := ln.ctx
	err = ln.worker.wait()
	if err == nil && ctx.Err() != nil && l.ctx.Err() == nil {
		// The batch missed its deadline: whatever the Publisher says, it
		// may not have arrived in time.
		err = fmt.Errorf("ticker: publish timed out after %v: %w", e.cfg.PublishTimeout, ctx.Err())
	} else if err == nil && ctx.Err() != nil {
		err = ctx.Err() // the final flush ran out of time
	}
	ln.cancel()
	ln.ctx, ln.cancel = nil, nil
	e.met.observe(uint64(len(ln.b.ticks)), time.Since(ln.start), err == nil)
	if err == nil {
		res = published
	}
	return res
}

// errPublishCut is the error a Publish is counted with if the publish loop
// ends before the call returns.
var errPublishCut = errors.New("ticker: publish cut short")

// account counts a batch's ticks by what became of them, records the
// outcome in their slots (settle) and resets the batch; then it notes the
// publisher's health.
func (l *loop) account(b *batch, res result, catchUp bool, err error) {
	e := l.e
	n := uint64(len(b.ticks))
	switch {
	case res == published && catchUp:
		e.catchUp.Add(n)
	case res == published:
		e.published.Add(n)
	case catchUp: // still owed: tried again later
	case l.final:
		e.shutdownDrops.Add(n)
	case res == refused:
		e.circuitOpen.Add(n)
	default:
		e.publishFailed.Add(n)
	}
	e.settle(b, res == published)
	if !catchUp {
		e.inflight.Add(-int64(n))
	}
	b.reset()
	l.healthy = res == published
	if !l.healthy {
		l.probeAt = time.Now().Add(e.probeInterval())
	}
	switch {
	case res == published:
		e.batches.Add(1)
		e.lastOK.Store(time.Now().UnixNano())
		e.noteSuccess()
	case res == failed && (!l.final || l.ctx.Err() == nil):
		e.noteFailure(err)
	}
}

// noteFailure records a publish failure for Health, and logs it once per
// change from working to failing, with the error that names the cause.
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

// worker calls the Publisher on a goroutine of its own, started on demand
// and kept for the next batch, so that a Publisher calling runtime.Goexit
// ends that goroutine, not the publish loop: its batch fails, as it would
// for a panic, and the next batch gets a new goroutine. The loop waits for
// each call, so a lane's Publisher calls never overlap: with one lane
// (Config.PublishConcurrency 1, the default) the Publisher is never called
// concurrently.
type worker struct {
	e       *Engine
	jobs    chan job
	results chan error
	exited  chan struct{}
	running bool
}

type job struct {
	ctx   context.Context
	ticks []Tick
}

// errGoexit is the error of a batch whose Publisher called runtime.Goexit.
var errGoexit = errors.New("ticker: publisher called runtime.Goexit")

// begin hands ticks to the worker's goroutine, starting one if need be;
// wait returns the result.
func (w *worker) begin(ctx context.Context, ticks []Tick) {
	if !w.running {
		w.jobs, w.results, w.exited = make(chan job), make(chan error), make(chan struct{})
		w.running = true
		go w.serve(w.jobs, w.results, w.exited)
	}
	w.jobs <- job{ctx, ticks}
}

// wait returns the result of the job begin handed over.
func (w *worker) wait() error {
	select {
	case err := <-w.results:
		return err
	case <-w.exited: // runtime.Goexit: the goroutine is gone
		w.running = false
		return errGoexit
	}
}

// stop ends the worker's goroutine and waits for it.
func (w *worker) stop() {
	if w.running {
		close(w.jobs)
		<-w.exited
		w.running = false
	}
}

// serve calls the Publisher for each job until jobs is closed or the
// Publisher calls runtime.Goexit; exited closes when it returns.
func (w *worker) serve(jobs <-chan job, results chan<- error, exited chan<- struct{}) {
	defer close(exited)
	for j := range jobs {
		results <- w.e.callPublisher(j.ctx, j.ticks)
	}
}

// callPublisher calls the Publisher, turning a panic into an error and
// logging a panic or a runtime.Goexit with its stack.
func (e *Engine) callPublisher(ctx context.Context, ticks []Tick) (err error) {
	logattr.Contain(func() { err = e.cfg.Publisher.Publish(ctx, ticks) }, func(v any, stack []byte) {
		a := logattr.PanicAttrs(v, stack)
		if v == logattr.Goexit {
			e.log(slog.LevelError, "publisher called runtime.Goexit; its batch failed", a[0], a[1])
			return
		}
		e.log(slog.LevelError, "publisher panicked; its batch failed", a[0], a[1])
		err = fmt.Errorf("ticker: publisher panicked: %v", v)
	})
	return err
}

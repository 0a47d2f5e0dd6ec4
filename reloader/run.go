package reloader

import (
	"context"
	"log/slog"
	"math"
	"time"

	"github.com/steadfast-go/steadfast/internal/backoff"
	"github.com/steadfast-go/steadfast/internal/contain"
	"github.com/steadfast-go/steadfast/internal/logs"
)

// Run drives the reloader until ctx ends: it watches the triggers and Load
// calls, starts each reload on a goroutine of its own when the debounce,
// MaxDelay, MinInterval and retry rules allow, and retries failed reloads.
// At most one reload runs at a time.
//
// When ctx ends, Run stops its timer, cancels the running reload's context,
// waits for that reload (and its OnError call) to return, answers pending
// TriggerWait calls with ErrStopped, and returns nil. Run returns ErrRunning
// at once while another Run is active, and never another error.
//
// Run may be called again after it returned, so a supervisor can restart
// it: triggers made in between are served by the next Run, a retry that was
// pending (or a reload canceled by the end of ctx) is made by it, and
// MinInterval counts from the last reload of the earlier Run. A Run called
// while a Load runs a reload of its own waits for that reload first.
func (r *Reloader) Run(ctx context.Context) error {
	if !r.lockUnlessLoading(ctx) {
		return nil
	}
	if r.mode == modeRunning {
		r.mu.Unlock()
		return ErrRunning
	}
	r.mode = modeRunning
	r.mu.Unlock()
	s := &r.sched
	s.timer = time.NewTimer(time.Hour)
	s.timer.Stop()
	s.armed = time.Time{}
	defer s.timer.Stop()

	// Triggers made while no Run was active count as arriving now.
	s.pendingSince, s.lastTrigger = time.Time{}, time.Time{}
	s.observe(time.Now())
	for {
		if ctx.Err() != nil {
			return s.stop()
		}
		now := time.Now()
		if due, ok := s.due(); ok && !due.After(now) {
			s.start(ctx, now)
			continue
		}
		s.arm(now)
		select {
		case <-ctx.Done():
			return s.stop()
		case <-r.wake:
			s.observe(time.Now())
		case <-s.timer.C:
			s.armed = time.Time{}
		case res := <-s.done:
			s.finish(res)
		}
	}
}

// scheduler is the reload state of a Reloader, owned by the active Run's
// goroutine (or by a Load that runs a reload itself). The retry and
// rate-limit state outlives a Run, so that a restarted Run honours them.
type scheduler struct {
	r     *Reloader
	timer *time.Timer // the active Run's
	armed time.Time   // when timer fires; zero when stopped

	// Unserved triggers (seq > r.served) as seen by Run: the time it first
	// noticed one and the time it last noticed one.
	pendingSince time.Time
	lastTrigger  time.Time
	load         bool // a Load call waits for a reload

	retry    bool      // the latest reload failed or was canceled
	retryAt  time.Time // earliest start of the retry
	failures int       // consecutive failures

	lastStart time.Time // start of the latest reload; zero before the first
	inFlight  bool
	batch     []*waiter // TriggerWait and Load calls answered by the running reload
	done      chan result
}

// result is what a reload goroutine hands back.
type result struct {
	err      error
	end      time.Time
	canceled bool // failed because the Run's or Load's context ended
}

// observe records that Run noticed, at now, that triggers or Load calls may
// be pending.
func (s *scheduler) observe(now time.Time) {
	r := s.r
	r.mu.Lock()
	s.load = len(r.loads) > 0
	r.mu.Unlock()
	if r.seq.Load() != r.served.Load() {
		if s.pendingSince.IsZero() {
			s.pendingSince = now
		}
		s.lastTrigger = now
	}
	s.setPending()
}

// due reports when the next reload may start, and whether one is wanted.
func (s *scheduler) due() (time.Time, bool) {
	if s.inFlight {
		return time.Time{}, false
	}
	if s.load {
		return time.Time{}, true // Load waits for neither Debounce nor MinInterval
	}
	cfg := &s.r.cfg
	var at time.Time
	switch {
	case s.retry:
		// Pending triggers are served by the retry.
		at = s.retryAt
	case !s.pendingSince.IsZero():
		at = s.lastTrigger.Add(cfg.Debounce)
		if limit := s.pendingSince.Add(cfg.MaxDelay); limit.Before(at) {
			at = limit
		}
	default:
		return time.Time{}, false
	}
	if !s.lastStart.IsZero() {
		if floor := s.lastStart.Add(cfg.MinInterval); floor.After(at) {
			at = floor
		}
	}
	return at, true
}

// arm sets the timer to the next due time, if any.
func (s *scheduler) arm(now time.Time) {
	due, ok := s.due()
	if !ok {
		if !s.armed.IsZero() {
			s.timer.Stop()
			s.armed = time.Time{}
		}
		return
	}
	if due.Equal(s.armed) {
		return
	}
	s.timer.Reset(due.Sub(now))
	s.armed = due
}

// start begins a reload for Run at now, unless nothing is left to serve (a
// Load that asked for it gave up).
func (s *scheduler) start(ctx context.Context, now time.Time) {
	if !s.begin(now, false) {
		return
	}
	go s.reload(ctx, now)
}

// loadNow runs a reload for a Load while no Run is active, and returns its
// error.
func (s *scheduler) loadNow(ctx context.Context) error {
	now := time.Now()
	s.begin(now, true)
	go s.reload(ctx, now)
	res := <-s.done
	s.finish(res)
	return res.err
}

// begin does the bookkeeping of a reload starting at now: it takes the
// TriggerWait and Load calls it answers and marks the pending triggers
// served. It reports false, and starts nothing, when there is nothing to
// serve and load is false.
func (s *scheduler) begin(now time.Time, load bool) bool {
	r := s.r
	r.mu.Lock()
	seq := r.seq.Load()
	n := seq - r.served.Load() // triggers this reload serves
	load = load || len(r.loads) > 0
	retry := s.retry
	if !load && !retry && n == 0 {
		r.mu.Unlock()
		s.pendingSince, s.load = time.Time{}, false
		s.setPending()
		return false
	}
	s.batch = append(r.waiters, r.loads...)
	r.waiters, r.loads = nil, nil
	switch {
	case load:
		r.stats.Loads++
	case retry:
		r.stats.Retries++
	}
	r.mu.Unlock()

	switch {
	case retry || load:
		r.coalesced.Add(n)
	case n > 0:
		r.coalesced.Add(n - 1)
	}
	r.served.Store(seq)
	if m := r.met; m != nil && !s.pendingSince.IsZero() {
		m.latency.Observe(now.Sub(s.pendingSince).Seconds())
	}
	s.pendingSince = time.Time{}
	s.retry, s.load = false, false
	s.lastStart = now
	s.inFlight = true
	s.setPending()
	if m := r.met; m != nil {
		m.inFlight.Set(1)
	}
	return true
}

// reload runs the reload function once and reports to s.done. It runs on
// its own goroutine, so that Run keeps watching triggers and ctx meanwhile
// and a runtime.Goexit in fn ends only this goroutine.
func (s *scheduler) reload(parent context.Context, start time.Time) {
	r := s.r
	var res result
	// Deferred first so that it runs last, even when fn or OnError calls
	// runtime.Goexit.
	defer func() { s.done <- res }()

	ctx, cancel := parent, context.CancelFunc(func() {})
	if r.cfg.Timeout > 0 {
		ctx, cancel = context.WithTimeout(parent, r.cfg.Timeout)
	}
	defer cancel()

	defer func() {
		res.end = time.Now()
		r.record(res, res.end.Sub(start))
	}()
	if contain.Call(func() { res.err = r.fn(ctx) }, func(v any, stack []byte) {
		if v == contain.Goexit {
			v = ErrGoexit
		}
		res.err = &PanicError{Value: v, Stack: stack}
	}) {
		res.canceled = res.err != nil && parent.Err() != nil
	}
}

// record counts a finished reload, logs a failure and calls OnError.
func (r *Reloader) record(res result, d time.Duration) {
	label := resultSuccess
	pe, _ := res.err.(*PanicError)
	if pe != nil && pe.Value == ErrGoexit {
		pe = nil // a Goexit is a failure, not a panic: result "failure"
	}
	r.mu.Lock()
	st := &r.stats
	st.Reloads++
	st.LastDuration = d
	switch {
	case res.err == nil:
		st.LastError = nil
		st.LastSuccess = res.end
		st.ConsecutiveFailures = 0
	case res.canceled:
		st.Canceled++
		label = resultCanceled
	default:
		st.LastError = res.err
		st.Failures++
		st.ConsecutiveFailures++
		label = resultFailure
		if pe != nil {
			st.Panics++
			label = resultPanic
		}
	}
	consecutive := st.ConsecutiveFailures
	r.mu.Unlock()

	if m := r.met; m != nil {
		m.reloads[label].Inc()
		m.duration.Observe(d.Seconds())
		m.consecutive.Set(float64(consecutive))
		if res.err == nil {
			m.lastSuccess.Set(float64(res.end.UnixNano()) / 1e9)
		}
	}

	attrs := []slog.Attr{slog.String(logs.Result, label), logs.Err(res.err), slog.Duration("duration", d)}
	switch label {
	case resultSuccess:
		return
	case resultCanceled:
		r.log(slog.LevelDebug, "reload canceled", attrs...)
		return
	case resultPanic:
		r.log(slog.LevelError, "reload panicked", append(attrs, slog.Int("consecutive_failures", consecutive),
			logs.PanicValue(pe.Value), logs.StackTrace(pe.Stack))...)
	default:
		r.log(slog.LevelError, "reload failed", append(attrs, slog.Int("consecutive_failures", consecutive))...)
	}
	r.callOnError(res.err)
}

// callOnError calls cfg.OnError, containing a panic or runtime.Goexit in it.
func (r *Reloader) callOnError(err error) {
	if r.cfg.OnError == nil {
		return
	}
	contain.Call(func() { r.cfg.OnError(err) }, func(v any, stack []byte) {
		r.mu.Lock()
		r.stats.CallbackPanics++
		r.mu.Unlock()
		if m := r.met; m != nil {
			m.callbackPanics.Inc()
		}
		r.log(slog.LevelError, "OnError panicked", logs.PanicValue(v), logs.StackTrace(stack))
	})
}

// finish handles a reload's result: it answers the TriggerWait and Load
// calls the reload served and schedules a retry after a failure, or after a
// cancellation (for the next Run).
func (s *scheduler) finish(res result) {
	s.inFlight = false
	if m := s.r.met; m != nil {
		m.inFlight.Set(0)
	}
	for _, w := range s.batch {
		w.ch <- res.err
	}
	s.batch = nil
	switch {
	case res.err == nil:
		s.failures = 0
	case res.canceled:
		// What it was to load is still to be loaded, by the next Run.
		s.retry, s.retryAt = true, res.end
	default:
		cfg := &s.r.cfg
		s.retry = true
		// backoff.Full draws from [0, ceiling] inclusive, so the ceiling
		// must leave room for one more nanosecond.
		ceiling := min(cfg.MaxRetryBackoff, math.MaxInt64-1)
		s.retryAt = res.end.Add(backoff.Full(cfg.RetryBackoff, ceiling, s.failures))
		s.failures++
	}
	s.setPending()
}

// setPending updates the pending gauge: 1 while a reload is wanted but not
// started.
func (s *scheduler) setPending() {
	m := s.r.met
	if m == nil {
		return
	}
	if !s.inFlight && (s.retry || s.load || !s.pendingSince.IsZero()) {
		m.pending.Set(1)
	} else {
		m.pending.Set(0)
	}
}

// stop ends Run: it waits for the running reload, answers every TriggerWait
// still waiting with ErrStopped, hands the Load calls back to their callers
// and leaves the Reloader idle.
func (s *scheduler) stop() error {
	s.timer.Stop()
	if s.inFlight {
		s.finish(<-s.done)
	}
	s.load = false
	r := s.r
	r.mu.Lock()
	r.mode = modeIdle
	ws, ls := r.waiters, r.loads
	r.waiters, r.loads = nil, nil
	r.mu.Unlock()
	for _, w := range ws {
		w.ch <- ErrStopped
	}
	for _, w := range ls {
		w.ch <- errRetry
	}
	if m := r.met; m != nil {
		m.pending.Set(0)
	}
	return nil
}

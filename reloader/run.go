package reloader

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"runtime/debug"
	"time"

	"github.com/steadfast-go/steadfast/internal/backoff"
)

// Run drives the reloader until ctx ends: it watches the triggers, starts
// each reload on a goroutine of its own when the debounce, MaxDelay,
// MinInterval and retry rules allow, and retries failed reloads. At most one
// reload runs at a time.
//
// When ctx ends, Run stops its timer, cancels the running reload's context,
// waits for that reload (and its OnError call) to return, answers pending
// TriggerWait calls with ErrStopped, and returns ctx.Err(). A Reloader runs
// once: Run returns ErrRunning while another Run is active and ErrStopped
// after one has returned.
func (r *Reloader) Run(ctx context.Context) error {
	if !r.state.CompareAndSwap(stateIdle, stateRunning) {
		if r.state.Load() == stateRunning {
			return ErrRunning
		}
		return ErrStopped
	}
	s := &scheduler{r: r, done: make(chan result, 1)}
	s.timer = time.NewTimer(time.Hour)
	s.timer.Stop()
	defer s.timer.Stop()

	// Triggers made before Run count as arriving now.
	s.observe(time.Now())
	for {
		if err := ctx.Err(); err != nil {
			return s.stop(ctx)
		}
		now := time.Now()
		if due, ok := s.due(); ok && !due.After(now) {
			s.start(ctx, now)
			continue
		}
		s.arm(now)
		select {
		case <-ctx.Done():
			return s.stop(ctx)
		case <-r.wake:
			s.observe(time.Now())
		case <-s.timer.C:
			s.armed = time.Time{}
		case res := <-s.done:
			s.finish(res)
		}
	}
}

// scheduler is the state of one Run, owned by Run's goroutine.
type scheduler struct {
	r     *Reloader
	timer *time.Timer
	armed time.Time // when timer fires; zero when stopped

	// Unserved triggers (seq > r.served) as seen by Run: the time it first
	// noticed one and the time it last noticed one.
	pendingSince time.Time
	lastTrigger  time.Time

	retry    bool      // the latest reload failed
	retryAt  time.Time // earliest start of the retry
	failures int       // consecutive failures

	lastStart time.Time // start of the latest reload; zero before the first
	inFlight  bool
	batch     []*waiter // TriggerWait calls answered by the running reload
	done      chan result
}

// result is what a reload goroutine hands back to Run.
type result struct {
	err      error
	end      time.Time
	canceled bool // failed because Run's context ended
}

// observe records that Run noticed, at now, that triggers may be pending.
func (s *scheduler) observe(now time.Time) {
	if s.r.seq.Load() == s.r.served.Load() {
		return // already served by a reload that started after it
	}
	if s.pendingSince.IsZero() {
		s.pendingSince = now
	}
	s.lastTrigger = now
	s.setPending()
}

// due reports when the next reload may start, and whether one is wanted.
func (s *scheduler) due() (time.Time, bool) {
	if s.inFlight {
		return time.Time{}, false
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

// start begins a reload at now.
func (s *scheduler) start(ctx context.Context, now time.Time) {
	r := s.r
	r.mu.Lock()
	seq := r.seq.Load()
	s.batch, r.waiters = r.waiters, nil
	retry := s.retry
	if retry {
		r.stats.Retries++
	}
	r.mu.Unlock()

	n := seq - r.served.Load() // triggers this reload serves
	switch {
	case retry:
		r.coalesced.Add(n)
	case n > 0:
		r.coalesced.Add(n - 1)
	}
	r.served.Store(seq)
	if m := r.met; m != nil && !s.pendingSince.IsZero() {
		m.latency.Observe(now.Sub(s.pendingSince).Seconds())
	}
	s.pendingSince = time.Time{}
	s.retry = false
	s.lastStart = now
	s.inFlight = true
	s.setPending()
	if m := r.met; m != nil {
		m.inFlight.Set(1)
	}
	go s.reload(ctx, now)
}

// reload runs the reload function once and reports to Run. It runs on its
// own goroutine, so that Run keeps watching triggers and ctx meanwhile.
func (s *scheduler) reload(runCtx context.Context, start time.Time) {
	r := s.r
	var res result
	// Deferred first so that it runs last, even when fn or OnError calls
	// runtime.Goexit.
	defer func() { s.done <- res }()

	ctx, cancel := runCtx, context.CancelFunc(func() {})
	if r.cfg.Timeout > 0 {
		ctx, cancel = context.WithTimeout(runCtx, r.cfg.Timeout)
	}
	defer cancel()

	returned := false
	defer func() {
		if !returned {
			res.err = &PanicError{Value: recover(), Stack: debug.Stack()}
		}
		res.end = time.Now()
		res.canceled = res.err != nil && runCtx.Err() != nil && !isPanic(res.err)
		r.record(res, res.end.Sub(start))
	}()
	res.err = r.fn(ctx)
	returned = true
}

func isPanic(err error) bool {
	var pe *PanicError
	return errors.As(err, &pe)
}

// record counts a finished reload, logs a failure and calls OnError.
func (r *Reloader) record(res result, d time.Duration) {
	label := resultSuccess
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
		label = resultError
		if isPanic(res.err) {
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

	switch label {
	case resultSuccess:
		return
	case resultCanceled:
		r.log.Debug("reloader: reload cancelled", slog.Any("error", res.err), slog.Duration("duration", d))
		return
	case resultPanic:
		pe, _ := res.err.(*PanicError)
		var stack []byte
		if pe != nil {
			stack = pe.Stack
		}
		r.log.Error("reloader: reload panicked", slog.Any("error", res.err),
			slog.Int("consecutive_failures", consecutive), slog.String("stack", string(stack)))
	default:
		r.log.Error("reloader: reload failed", slog.Any("error", res.err),
			slog.Int("consecutive_failures", consecutive), slog.Duration("duration", d))
	}
	r.callOnError(res.err)
}

// callOnError calls cfg.OnError, containing a panic or runtime.Goexit in it.
func (r *Reloader) callOnError(err error) {
	if r.cfg.OnError == nil {
		return
	}
	returned := false
	defer func() {
		if returned {
			return
		}
		v := recover()
		r.mu.Lock()
		r.stats.CallbackPanics++
		r.mu.Unlock()
		if m := r.met; m != nil {
			m.callbackPanics.Inc()
		}
		r.log.Error("reloader: OnError panicked", slog.Any("panic", v),
			slog.String("stack", string(debug.Stack())))
	}()
	r.cfg.OnError(err)
	returned = true
}

// finish handles a reload's result on Run's goroutine: it answers the
// TriggerWait calls the reload served and schedules a retry after a failure.
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
		// Run is ending; nothing to retry.
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
	if !s.inFlight && (s.retry || !s.pendingSince.IsZero()) {
		m.pending.Set(1)
	} else {
		m.pending.Set(0)
	}
}

// stop ends Run: it waits for the running reload, then answers every
// TriggerWait still waiting with ErrStopped.
func (s *scheduler) stop(ctx context.Context) error {
	s.timer.Stop()
	if s.inFlight {
		s.finish(<-s.done)
	}
	r := s.r
	r.mu.Lock()
	r.state.Store(stateStopped)
	ws := r.waiters
	r.waiters = nil
	r.mu.Unlock()
	for _, w := range ws {
		w.ch <- ErrStopped
	}
	if m := r.met; m != nil {
		m.pending.Set(0)
	}
	return ctx.Err()
}

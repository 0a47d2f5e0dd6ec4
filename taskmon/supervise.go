package taskmon

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/steadfast-go/steadfast/internal/backoff"
	"github.com/steadfast-go/steadfast/internal/logattr"
)

// Policy says when a supervised task is restarted.
type Policy uint8

// The restart policies. The zero value is OnFailure.
const (
	// OnFailure restarts the task after a failed, panicked or exited run,
	// and ends it after a successful one (Erlang/OTP's "transient").
	OnFailure Policy = iota
	// Always restarts the task after every run, successful ones included,
	// until its context is done (Erlang/OTP's "permanent").
	Always
	// Never runs the task once, like Go (Erlang/OTP's "temporary").
	Never
)

var policyNames = enum{"Policy", []string{"on-failure", "always", "never"}}

// String returns "on-failure", "always" or "never".
func (p Policy) String() string { return policyNames.String(uint8(p)) }

// MarshalText returns the policy's String; an unknown policy is an error.
func (p Policy) MarshalText() ([]byte, error) { return policyNames.MarshalText(uint8(p)) }

// UnmarshalText parses what MarshalText returns.
func (p *Policy) UnmarshalText(b []byte) error { return policyNames.UnmarshalText((*uint8)(p), b) }

// Defaults of the Spec fields.
const (
	DefaultBackoff     = 100 * time.Millisecond
	DefaultMaxBackoff  = 30 * time.Second
	DefaultHealthy     = 10 * time.Second
	DefaultMaxRestarts = 10
	DefaultPeriod      = time.Minute
)

// Spec describes a supervised task. Zero fields take the documented
// defaults; only Run is required.
type Spec struct {
	// Name names the task; it need not be unique.
	Name string

	// Run is the task's function. It is called again for each restart, with
	// the same context. Required.
	Run func(context.Context) error

	// Restart says which runs are followed by a restart. Default OnFailure.
	// No run is restarted once the task's context is done.
	Restart Policy

	// Backoff and MaxBackoff bound the delay before a restart: before the
	// n-th restart since the task's last healthy run (n = 0, 1, ...) the
	// supervisor waits a duration drawn uniformly from
	// [0, min(MaxBackoff, Backoff·2ⁿ)] ("full jitter"). Defaults
	// DefaultBackoff (100ms, or MaxBackoff when that is set and smaller)
	// and DefaultMaxBackoff (30s, or Backoff when that is larger). Negative
	// values, or MaxBackoff below Backoff when both are set, are invalid.
	// The delay starts when the run's callbacks have returned.
	Backoff    time.Duration
	MaxBackoff time.Duration

	// Healthy is how long a run must last to count as healthy: a restart
	// that follows a healthy run starts the backoff over (n = 0). Default
	// DefaultHealthy (10s). Negative is invalid.
	Healthy time.Duration

	// MaxRestarts and Period set the restart intensity (Erlang/OTP's MaxR
	// and MaxT): when a run ends and MaxRestarts restarts have already
	// happened within the Period before that moment, the task is given up:
	// it ends with an error wrapping ErrGaveUp and the last run's error, which
	// is logged, counted (Stats.GaveUp) and passed to the callbacks. A
	// restart counts when its run starts, after a successful run too.
	// Defaults DefaultMaxRestarts (10) and DefaultPeriod (1m). A negative
	// MaxRestarts means no limit; a negative Period is invalid.
	MaxRestarts int
	Period      time.Duration

	// OnError is called once for each failed, panicked or exited run of this
	// task, before Config.OnError and under the same rules: its own
	// goroutine, panics recovered and counted, and it delays only this task
	// (its restart and its Done). When the task is given up, the call for its
	// last run carries an error wrapping ErrGaveUp (also after a successful run,
	// under Always). Default nil.
	OnError func(TaskError)
}

// Validate returns nil when Supervise would accept s, or the error
// Supervise would return: one naming the first invalid field. It starts
// nothing, so a caller can check a Spec it takes in its own Config before
// it runs anything.
func (s Spec) Validate() error {
	_, err := s.validate()
	return err
}

// validate returns s with its defaults filled in, or an error naming the
// first invalid field. A default yields to the fields the user set.
func (s Spec) validate() (Spec, error) {
	bad := func(field string, v any, want string) (Spec, error) {
		return s, fmt.Errorf("taskmon: Spec.%s %s, got %v (task %q)", field, want, v, s.Name)
	}
	switch {
	case s.Run == nil:
		return s, fmt.Errorf("taskmon: Spec.Run must not be nil (task %q)", s.Name)
	case s.Restart > Never:
		return bad("Restart", s.Restart, "must be OnFailure, Always or Never")
	case s.Backoff < 0:
		return bad("Backoff", s.Backoff, "must not be negative")
	case s.MaxBackoff < 0:
		return bad("MaxBackoff", s.MaxBackoff, "must not be negative")
	case s.Backoff > 0 && s.MaxBackoff > 0 && s.MaxBackoff < s.Backoff:
		return bad("MaxBackoff", s.MaxBackoff, fmt.Sprintf("must not be below Backoff (%v)", s.Backoff))
	case s.Healthy < 0:
		return bad("Healthy", s.Healthy, "must not be negative")
	case s.Period < 0:
		return bad("Period", s.Period, "must not be negative")
	}
	s.Backoff, s.MaxBackoff, _ = backoff.Bounds(s.Backoff, DefaultBackoff, s.MaxBackoff, DefaultMaxBackoff) // in order: checked above
	if s.Healthy == 0 {
		s.Healthy = DefaultHealthy
	}
	if s.MaxRestarts == 0 {
		s.MaxRestarts = DefaultMaxRestarts
	}
	if s.Period == 0 {
		s.Period = DefaultPeriod
	}
	return s, nil
}

// Supervise starts spec.Run on a new goroutine as a supervised task and
// returns it at once: the task is run, and restarted under spec.Restart with
// jittered exponential backoff, until a run ends without calling for a
// restart, the task's context is done (Task.Cancel, Shutdown, or ctx), or
// the restart intensity is exceeded. Each run is counted, logged, and
// (when it fails) passed to spec.OnError and Config.OnError; the task's Done
// closes after its last run's callbacks have returned.
//
// An invalid spec (or a nil ctx) returns a nil task and an error naming the
// field. After Shutdown, Supervise returns a task that is already done with
// ErrClosed, and a nil error.
func (m *Monitor) Supervise(ctx context.Context, spec Spec) (*Task, error) {
	if ctx == nil {
		return nil, fmt.Errorf("taskmon: Supervise %q: nil Context", spec.Name)
	}
	spec, err := spec.validate()
	if err != nil {
		return nil, err
	}
	t, ctx := m.start(ctx, spec.Name, true)
	if t == nil {
		return m.reject(spec.Name, ErrClosed), nil
	}
	go m.supervise(ctx, t, spec)
	return t, nil
}

// supervise is the goroutine that owns a supervised task: it runs each
// attempt on a goroutine of its own (so that runtime.Goexit ends only that
// attempt), waits for it, reports it, and decides on and waits out the
// restart. Each supervised task has its own loop and timer, so one task's
// restarts, backoff or blocking callbacks never delay another's.
func (m *Monitor) supervise(ctx context.Context, t *Task, s Spec) {
	sv := supervisor{m: m, t: t, s: s, results: make(chan run, 1)}
	for {
		r, end, d := sv.runOnce(ctx)
		if sv.final(ctx, r) {
			sv.notify(ctx, r)
			m.finish(t, r.outcome, r.taskErr())
			return
		}
		if n, over := sv.overIntensity(end); over {
			m.giveUp(ctx, t, s, r, n)
			return
		}
		sv.notify(ctx, r)
		if !sv.restart(ctx, r, d) {
			// Canceled while waiting to restart: the failure was reported
			// already; the task ends as canceled.
			m.finish(t, OutcomeCanceled, nil)
			return
		}
	}
}

// supervisor is the state of the goroutine that owns a supervised task.
type supervisor struct {
	m        *Monitor
	t        *Task
	s        Spec
	results  chan run
	attempt  int         // restarts since the last healthy run
	restarts []time.Time // restart times within the last Period, oldest first
}

// runOnce runs one attempt, waits for it, and logs and counts its outcome.
// It returns the run, when it ended and how long it took.
func (sv *supervisor) runOnce(ctx context.Context) (r run, end time.Time, d time.Duration) {
	m, t := sv.m, sv.t
	start := time.Now()
	go t.run(ctx, sv.s.Run, sv.results)
	r = <-sv.results
	end = time.Now()
	d = end.Sub(start)
	m.report(ctx, t.name, r, d)
	m.mu.Lock()
	m.stats.count(r.outcome)
	if r.outcome.failure() {
		t.lastErr = r.err
	}
	m.mu.Unlock()
	return r, end, d
}

// final reports whether run r ends the task: its context is done, the run
// was canceled, or the restart policy does not call for another run.
func (sv *supervisor) final(ctx context.Context, r run) bool {
	return ctx.Err() != nil || r.outcome == OutcomeCanceled || sv.s.Restart == Never ||
		(sv.s.Restart == OnFailure && r.outcome == OutcomeSuccess)
}

// overIntensity forgets the restarts older than Period before end, and
// reports how many remain and whether they reach MaxRestarts.
func (sv *supervisor) overIntensity(end time.Time) (int, bool) {
	if sv.s.MaxRestarts < 0 {
		return 0, false
	}
	cutoff := end.Add(-sv.s.Period)
	i := 0
	for i < len(sv.restarts) && !sv.restarts[i].After(cutoff) {
		i++
	}
	sv.restarts = sv.restarts[i:]
	return len(sv.restarts), len(sv.restarts) >= sv.s.MaxRestarts
}

// notify passes a failed, panicked or exited run to the callbacks.
func (sv *supervisor) notify(ctx context.Context, r run) {
	if r.outcome.failure() {
		sv.m.notify(ctx, sv.s.OnError, TaskError{Name: sv.t.name, Err: r.err, Outcome: r.outcome})
	}
}

// restart waits out the backoff after run r, which lasted d, and counts the
// restart. It reports false when the task's context ended during the wait.
func (sv *supervisor) restart(ctx context.Context, r run, d time.Duration) bool {
	m, t, s := sv.m, sv.t, sv.s
	if d >= s.Healthy {
		sv.attempt = 0
	}
	jitter := m.jitter
	if jitter == nil { // a zero Monitor
		jitter = backoff.Full
	}
	delay := jitter(s.Backoff, s.MaxBackoff, sv.attempt)
	sv.attempt++
	m.logger().LogAttrs(ctx, slog.LevelInfo, "restarting task",
		m.attrs(t.name, slog.String(logattr.Result, r.outcome.String()), slog.Duration("delay", delay))...)
	if !sleep(ctx, delay) {
		return false
	}
	if s.MaxRestarts >= 0 { // with no limit, nothing reads them: keep none
		sv.restarts = append(sv.restarts, time.Now())
	}
	m.mu.Lock()
	m.stats.Restarts++
	t.restarts++
	m.mu.Unlock()
	if m.met != nil {
		m.met.restart(t.name)
	}
	return true
}

// giveUp finishes a supervised task that exceeded its restart intensity.
func (m *Monitor) giveUp(ctx context.Context, t *Task, s Spec, r run, n int) {
	err := fmt.Errorf("%w: task %q restarted %d times within %v; last run %s",
		ErrGaveUp, t.name, n, s.Period, r.outcome.verb())
	if r.err != nil {
		err = fmt.Errorf("%w: %w", err, r.err)
	}
	m.mu.Lock()
	m.stats.GaveUp++
	m.mu.Unlock()
	if m.met != nil {
		m.met.giveUp(t.name)
	}
	m.logger().LogAttrs(ctx, slog.LevelError, "gave up on task",
		m.attrs(t.name, slog.String(logattr.Result, r.outcome.String()), logattr.Err(err))...)
	m.notify(ctx, s.OnError, TaskError{Name: t.name, Err: err, Outcome: r.outcome})
	m.finish(t, r.outcome, err)
}

// sleep waits for d or until ctx is done; it reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return ctx.Err() == nil
	case <-ctx.Done():
		return false
	}
}

package taskmon

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"
)

// awaitDone spins until t is marked done, so that what follows runs as
// soon as possible after: on a single P it yields now and then, and it
// gives up after a bounded number of rounds.
func awaitDone(t *Task) {
	for n := 0; n < 1e6 && !t.isDone(); n++ {
		if n%1024 == 1023 {
			runtime.Gosched()
		}
	}
}

// The task's context is cancelled before its Done channel closes, also when
// Done is first asked for only after the task has been marked done: a
// channel made then must not be closed before the end of the task has
// cancelled the context and the contexts derived from it.
func TestTaskDoneMadeLateClosesAfterContextCancelled(t *testing.T) {
	m := newMon(Config{})
	for i := range 1000 {
		task, ctx, release := startIdle(m, context.Background())
		child, cancelChild := context.WithCancel(ctx) // makes the standard context
		close(release)
		// Ask for Done as soon as the task is marked done: the first call
		// then makes the channel, which the task's end will not close.
		awaitDone(task)
		<-task.Done()
		require.Error(t, ctx.Err(), "iteration %d: Done closed before the task's context was cancelled", i)
		require.Error(t, child.Err(), "iteration %d: Done closed before the derived context was cancelled", i)
		cancelChild()
	}
}

// Wait waits for every task started before the call to be done, and
// Shutdown for every task not done at its first call, also for one that is
// finishing then: when they return, its Done is closed and its context
// cancelled.
func TestWaitAndShutdownWaitForFinishingTask(t *testing.T) {
	for name, wait := range map[string]func(*Monitor) error{
		"Wait":     func(m *Monitor) error { m.Wait(); return nil },
		"Shutdown": func(m *Monitor) error { return m.Shutdown(context.Background()) },
	} {
		t.Run(name, func(t *testing.T) {
			for i := range 1000 {
				m := newMon(Config{})
				task, ctx, release := startIdle(m, context.Background())
				done := task.Done()
				child, cancelChild := context.WithCancel(ctx)
				close(release)
				awaitDone(task)
				require.NoError(t, wait(m))
				select {
				case <-done:
				default:
					t.Fatalf("iteration %d: %s returned before the task's Done closed", i, name)
				}
				require.Error(t, child.Err(), "iteration %d", i)
				cancelChild()
			}
		})
	}
}

// lockProbe is a parent context that records whether one of a monitor's
// shard locks is held when its methods are called: a parent whose methods
// use the monitor (Stats, Tasks, Go of a task in the same shard) would
// deadlock then.
type lockProbe struct {
	context.Context
	m     *Monitor
	calls atomic.Int32
	held  atomic.Int32
}

func (p *lockProbe) probe() {
	p.calls.Add(1)
	for i := range p.m.shards {
		s := &p.m.shards[i]
		if !s.mu.TryLock() {
			p.held.Add(1)
			continue
		}
		s.mu.Unlock()
	}
}

func (p *lockProbe) Err() error            { p.probe(); return p.Context.Err() }
func (p *lockProbe) Done() <-chan struct{} { p.probe(); return p.Context.Done() }
func (p *lockProbe) Value(key any) any     { p.probe(); return p.Context.Value(key) }

// The end of a task calls its parent's methods (to learn whether the
// parent was cancelled first) with none of the monitor's locks held.
func TestTaskEndCallsParentOutsideLocks(t *testing.T) {
	m := newMon(Config{})
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	for _, probeCancelled := range []bool{false, true} {
		var inner context.Context = context.Background()
		if probeCancelled {
			inner = cancelled
		}
		p := &lockProbe{Context: inner, m: m}
		task := m.Go(p, "x", func(context.Context) error { return nil })
		require.NoError(t, task.Wait())
		require.NotZero(t, p.calls.Load(), "the end of the task looks at the parent")
		require.Zero(t, p.held.Load(), "parent called with a shard lock held (parent cancelled: %v)", probeCancelled)
	}
}

// The stress test below runs random sequences of operations on a task's
// context. In sequential mode one goroutine runs them and every step is
// compared with a context.WithCancelCause child of the same parent, given
// the same cancellations. In concurrent mode several goroutines run them
// at once and the invariants of a context are checked: Err and Cause never
// change once non-nil, Err non-nil if and only if Done is closed, Cause
// non-nil if and only if Err is, a cause that one of the operations (or
// the parent) can give, the cause of a cancellation that completed before
// any other began, and derived contexts cancelled with the task's context.
// Set TASKMON_STRESS_SEED to replay a seed (the interleavings differ).

// stressParent is the kind of parent a task of the stress test starts with.
type stressParent int

const (
	spBackground  stressParent = iota // Background with a value: never cancelled
	spCancel                          // WithCancel
	spCancelCause                     // WithCancelCause, cancelled with errParent
	spDeadline                        // WithDeadline an hour away, cancelled by its CancelFunc
	spExpired                         // WithDeadline in the past: DeadlineExceeded from the start
	spTimer                           // WithTimeout of a few microseconds: DeadlineExceeded sometime
	spTask                            // another task's context, cancelled by Task.Cancel
	nStressParents
)

var stressParentNames = [nStressParents]string{
	"Background", "WithCancel", "WithCancelCause", "WithDeadline", "expired", "timer", "task",
}

// stressOp is an operation of the stress test.
type stressOp int

const (
	opCancel       stressOp = iota // Task.Cancel
	opShutdown                     // Monitor.Shutdown with a context already done
	opCancelParent                 // cancels the parent
	opEnd                          // lets the task's function return, waits for Done
	opErr                          // ctx.Err
	opDone                         // ctx.Done
	opCause                        // context.Cause(ctx)
	opDerive                       // context.WithCancel(ctx)
	opDeriveValue                  // context.WithCancel(context.WithValue(ctx, ...))
	opAfterFunc                    // context.AfterFunc(ctx, ...)
	opWatch                        // ctx.Err in a loop until non-nil (bounded)
	nStressOps
)

var stressOpNames = [nStressOps]string{
	"Cancel", "Shutdown", "cancelParent", "end", "Err", "Done", "Cause",
	"WithCancel", "WithValue+WithCancel", "AfterFunc", "watch",
}

func (op stressOp) String() string { return stressOpNames[op] }

// stressCase is one iteration: a task, its parent, and how to cancel them.
type stressCase struct {
	kind         stressParent
	parent       context.Context
	cancelParent func()
	parentCause  error // the parent's cause once cancelParent is called; nil: not cancellable
	endParent    func()

	m           *Monitor
	task        *Task
	ctx         context.Context
	release     chan struct{}
	releaseOnce sync.Once
	doneCtx     context.Context // done already: Shutdown only cancels
}

func newStressCase(rng *rand.Rand, kind stressParent) *stressCase {
	c := &stressCase{kind: kind, endParent: func() {}, cancelParent: func() {}}
	base := context.WithValue(context.Background(), ctxKey{}, "v")
	switch kind {
	case spBackground:
		c.parent = base
	case spCancel:
		ctx, cancel := context.WithCancel(base)
		c.parent, c.cancelParent, c.parentCause, c.endParent = ctx, cancel, context.Canceled, cancel
	case spCancelCause:
		ctx, cancel := context.WithCancelCause(base)
		c.parent, c.parentCause = ctx, errParent
		c.cancelParent = func() { cancel(errParent) }
		c.endParent = func() { cancel(nil) }
	case spDeadline:
		ctx, cancel := context.WithDeadline(base, time.Now().Add(time.Hour))
		c.parent, c.cancelParent, c.parentCause, c.endParent = ctx, cancel, context.Canceled, cancel
	case spExpired:
		ctx, cancel := context.WithDeadline(base, time.Now().Add(-time.Second))
		c.parent, c.endParent = ctx, cancel
	case spTimer:
		ctx, cancel := context.WithTimeout(base, time.Duration(rng.IntN(100))*time.Microsecond)
		c.parent, c.endParent = ctx, cancel
	case spTask:
		outerM := newMon(Config{})
		got := make(chan context.Context, 1)
		release := make(chan struct{})
		outer := outerM.Go(base, "outer", func(ctx context.Context) error {
			got <- ctx
			<-release
			return nil
		})
		c.parent, c.cancelParent, c.parentCause = <-got, outer.Cancel, context.Canceled
		c.endParent = func() {
			close(release)
			<-outer.Done()
		}
	}

	c.m = newMon(Config{})
	got := make(chan context.Context, 1)
	c.release = make(chan struct{})
	waits := rng.IntN(2) == 0 // whether the function waits on its context
	fn := func(ctx context.Context) error {
		select {
		case got <- ctx:
		default: // a later run of a supervised task
		}
		if !waits {
			<-c.release
			return nil
		}
		select {
		case <-c.release:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if rng.IntN(4) == 0 {
		var err error
		c.task, err = c.m.Supervise(c.parent, Spec{Name: "stress", Run: fn, Restart: Never})
		if err != nil {
			panic(err)
		}
	} else {
		c.task = c.m.Go(c.parent, "stress", fn)
	}
	c.ctx = <-got
	done, cancel := context.WithCancel(context.Background())
	cancel()
	c.doneCtx = done
	return c
}

// end lets the task's function return and waits until the task is done.
func (c *stressCase) end() {
	c.releaseOnce.Do(func() { close(c.release) })
	<-c.task.Done()
}

func (c *stressCase) shutdown() error {
	if err := c.m.Shutdown(c.doneCtx); err != nil && !errors.Is(err, ErrNotStopped) {
		return err
	}
	return nil
}

// errOf is the Err that goes with a cause.
func errOf(cause error) error {
	if cause == context.DeadlineExceeded {
		return context.DeadlineExceeded
	}
	return context.Canceled
}

func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

func TestTaskContextStress(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("TASKMON_STRESS_SEED"); s != "" {
		var err error
		seed, err = strconv.ParseUint(s, 10, 64)
		require.NoError(t, err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("seed %d: rerun with TASKMON_STRESS_SEED=%d", seed, seed)
		}
	})
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	budget := time.Now().Add(1500 * time.Millisecond)
	iterations := 0
	for ; iterations < 4000 && time.Now().Before(budget); iterations++ {
		kind := stressParent(rng.IntN(int(nStressParents)))
		if rng.IntN(3) == 0 && kind != spTimer {
			stressSequential(t, rng, iterations, kind)
		} else {
			stressConcurrent(t, rng, iterations, kind)
		}
		if t.Failed() {
			return
		}
	}
	t.Logf("%d iterations", iterations)
}

func randomOps(rng *rand.Rand, n int) []stressOp {
	ops := make([]stressOp, n)
	for i := range ops {
		ops[i] = stressOp(rng.IntN(int(nStressOps)))
	}
	return ops
}

// stressSequential runs random operations on a task's context and on a
// reference child of the same parent, and compares them after each.
func stressSequential(t *testing.T, rng *rand.Rand, iter int, kind stressParent) {
	c := newStressCase(rng, kind)
	ref, refCancel := context.WithCancelCause(c.parent)
	ops := randomOps(rng, 1+rng.IntN(8))
	where := func(i int) string {
		return fmt.Sprintf("iteration %d, parent %s, ops %v, after op %d", iter, stressParentNames[kind], ops, i)
	}
	type pair struct{ got, want context.Context }
	var (
		pairs   []pair
		cancels []context.CancelFunc
		afters  []chan error // what each AfterFunc's f saw: task, then reference
		stops   []func() bool
	)
	defer func() {
		c.end()
		refCancel(nil)
		for _, cancel := range cancels {
			cancel()
		}
		c.endParent()
		c.cancelParent()
	}()
	for i, op := range ops {
		switch op {
		case opCancel:
			c.task.Cancel()
			refCancel(nil)
		case opShutdown:
			require.NoError(t, c.shutdown(), where(i))
			refCancel(ErrShutdown)
		case opCancelParent:
			c.cancelParent()
		case opEnd:
			c.end()
			refCancel(nil)
		case opErr, opWatch:
			require.Equal(t, ref.Err(), c.ctx.Err(), where(i))
		case opDone:
			require.Equal(t, isClosed(ref.Done()), isClosed(c.ctx.Done()), where(i))
		case opCause:
			require.Equal(t, context.Cause(ref), context.Cause(c.ctx), where(i))
		case opDerive, opDeriveValue:
			got, want := c.ctx, context.Context(ref)
			if op == opDeriveValue {
				got = context.WithValue(got, ctxKey{}, i)
				want = context.WithValue(want, ctxKey{}, i)
			}
			got, cancel1 := context.WithCancel(got)
			want, cancel2 := context.WithCancel(want)
			pairs = append(pairs, pair{got, want})
			cancels = append(cancels, cancel1, cancel2)
		case opAfterFunc:
			for _, ctx := range []context.Context{c.ctx, ref} {
				ch := make(chan error, 1)
				stops = append(stops, context.AfterFunc(ctx, func() { ch <- context.Cause(ctx) }))
				afters = append(afters, ch)
			}
		}
		for j, p := range pairs {
			require.Equal(t, p.want.Err(), p.got.Err(), "%s: derived context %d", where(i), j)
			require.Equal(t, context.Cause(p.want), context.Cause(p.got), "%s: derived context %d", where(i), j)
		}
	}
	// Both end the same way.
	c.end()
	refCancel(nil)
	require.Equal(t, observe(ref), observe(c.ctx), where(len(ops)))
	for j, p := range pairs {
		require.Equal(t, observe(p.want), observe(p.got), "%s: derived context %d", where(len(ops)), j)
	}
	for j := 0; j < len(afters); j += 2 {
		require.Equal(t, stops[j+1](), stops[j](), "%s: AfterFunc %d stopped", where(len(ops)), j/2)
		require.Equal(t, <-afters[j+1], <-afters[j], "%s: AfterFunc %d", where(len(ops)), j/2)
	}
}

// stressConcurrent runs random operations on a task's context from a few
// goroutines at once and checks the invariants of a context.
func stressConcurrent(t *testing.T, rng *rand.Rand, iter int, kind stressParent) {
	c := newStressCase(rng, kind)
	workers := make([][]stressOp, 2+rng.IntN(3))
	for i := range workers {
		workers[i] = randomOps(rng, 1+rng.IntN(8))
	}
	where := fmt.Sprintf("iteration %d, parent %s, ops %v", iter, stressParentNames[kind], workers)

	var (
		started    atomic.Int32 // cancelling operations begun
		mu         sync.Mutex
		first      error // the cause of a cancellation complete before any other began
		shutdowns  atomic.Bool
		parentDone atomic.Bool
		seen       []error // every non-nil Err and Cause observed
		children   []context.Context
		cancels    []context.CancelFunc
		afters     []chan error
		stops      []func() bool
	)
	// cancelling runs op, which cancels the context with cause, and records
	// cause as the first when no other cancellation began meanwhile.
	cancelling := func(cause error, op func()) {
		started.Add(1)
		op()
		if started.Load() == 1 && kind != spExpired && kind != spTimer {
			mu.Lock()
			first = cause
			mu.Unlock()
		}
	}
	begin := make(chan struct{})
	var wg sync.WaitGroup
	for w, ops := range workers {
		wg.Go(func() {
			<-begin
			var mine []context.Context // derived by this goroutine
			var saw []error
			fail := func(i int, format string, args ...any) {
				t.Errorf("%s: worker %d, op %d (%v): %s", where, w, i, ops[i], fmt.Sprintf(format, args...))
			}
			// afterCancel checks what must hold once a cancellation returned.
			afterCancel := func(i int) {
				if c.ctx.Err() == nil {
					fail(i, "Err is nil after the cancellation returned")
				}
				if !isClosed(c.ctx.Done()) {
					fail(i, "Done is open after the cancellation returned")
				}
				for j, child := range mine {
					if child.Err() == nil {
						fail(i, "derived context %d not cancelled", j)
					}
				}
			}
			for i, op := range ops {
				switch op {
				case opCancel:
					cancelling(context.Canceled, c.task.Cancel)
					afterCancel(i)
				case opShutdown:
					shutdowns.Store(true)
					cancelling(ErrShutdown, func() {
						if err := c.shutdown(); err != nil {
							fail(i, "Shutdown: %v", err)
						}
					})
					afterCancel(i)
				case opCancelParent:
					if c.parentCause == nil {
						continue
					}
					parentDone.Store(true)
					cancelling(c.parentCause, c.cancelParent)
					afterCancel(i)
				case opEnd:
					cancelling(context.Canceled, c.end)
					afterCancel(i)
				case opErr:
					if err := c.ctx.Err(); err != nil {
						saw = append(saw, err)
						if !isClosed(c.ctx.Done()) {
							fail(i, "Err is %v and Done is open", err)
						}
					} else if len(saw) > 0 {
						fail(i, "Err is nil after %v", saw[0])
					}
				case opWatch:
					// Sees the first value of Err, when a cancellation
					// happens meanwhile: the one every later call returns.
					for n := 0; n < 2000; n++ {
						if err := c.ctx.Err(); err != nil {
							saw = append(saw, err)
							break
						}
					}
				case opDone:
					if isClosed(c.ctx.Done()) {
						err := c.ctx.Err()
						if err == nil {
							fail(i, "Done is closed and Err is nil")
						}
						saw = append(saw, err)
					}
				case opCause:
					cause := context.Cause(c.ctx)
					err := c.ctx.Err()
					switch {
					case cause == nil && len(saw) > 0:
						fail(i, "Cause is nil after %v", saw[0])
					case cause != nil && err == nil:
						fail(i, "Cause is %v and Err is nil", cause)
					case cause != nil && err != errOf(cause):
						fail(i, "Cause is %v and Err is %v", cause, err)
					}
					if cause != nil {
						saw = append(saw, cause)
					}
				case opDerive, opDeriveValue:
					var parent context.Context = c.ctx
					if op == opDeriveValue {
						parent = context.WithValue(parent, ctxKey{}, i)
					}
					child, cancel := context.WithCancel(parent)
					mine = append(mine, child)
					mu.Lock()
					cancels = append(cancels, cancel)
					mu.Unlock()
				case opAfterFunc:
					ch := make(chan error, 1)
					stop := context.AfterFunc(c.ctx, func() {
						if c.ctx.Err() == nil {
							ch <- errors.New("AfterFunc's f called with Err nil")
							return
						}
						ch <- context.Cause(c.ctx)
					})
					mu.Lock()
					afters, stops = append(afters, ch), append(stops, stop)
					mu.Unlock()
				}
			}
			mu.Lock()
			seen = append(seen, saw...)
			children = append(children, mine...)
			mu.Unlock()
		})
	}
	close(begin)
	wg.Wait()
	defer func() {
		for _, cancel := range cancels {
			cancel()
		}
		c.endParent()
		c.cancelParent()
	}()

	c.end()
	err, cause := c.ctx.Err(), context.Cause(c.ctx)
	require.Error(t, err, where)
	require.True(t, isClosed(c.ctx.Done()), where)
	require.Equal(t, errOf(cause), err, "%s: cause %v", where, cause)
	for _, e := range seen {
		if e != err && e != cause {
			t.Fatalf("%s: saw %v; Err is %v, Cause %v", where, e, err, cause)
		}
	}
	allowed := []error{context.Canceled} // the end of the task
	if shutdowns.Load() {
		allowed = append(allowed, ErrShutdown)
	}
	if parentDone.Load() {
		allowed = append(allowed, c.parentCause)
	}
	switch kind {
	case spExpired:
		allowed = []error{context.DeadlineExceeded}
	case spTimer:
		allowed = append(allowed, context.DeadlineExceeded)
	}
	require.Contains(t, allowed, cause, where)
	if first != nil {
		require.Equal(t, first, cause, "%s: the first cancellation's cause", where)
	}
	for j, child := range children {
		require.Equal(t, err, child.Err(), "%s: derived context %d", where, j)
		require.Equal(t, cause, context.Cause(child), "%s: derived context %d", where, j)
	}
	for j, stop := range stops {
		require.False(t, stop(), "%s: AfterFunc %d stopped after the cancellation", where, j)
		require.Equal(t, cause, <-afters[j], "%s: AfterFunc %d", where, j)
	}
	require.NoError(t, c.task.Err(), where)
	require.Zero(t, c.m.Stats().Running, where)
	require.Empty(t, c.m.Tasks(), where)
}

// A task done but not yet ended (its end has marked it done and is about
// to release Wait) when Shutdown is first called is not reported, since it
// was done before; but Shutdown, like Wait, returns only once it has ended.
// The task is made and ended by hand here, to stop between the two steps.
func TestShutdownWaitsForEndingTask(t *testing.T) {
	for _, name := range []string{"Wait", "Shutdown"} {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				m := newMon(Config{})
				task, _ := newTask(context.Background(), "ending")
				require.True(t, m.add(task))
				task.end(OutcomeFailed, errors.New("failed before Shutdown"))

				returned := make(chan error, 1)
				go func() {
					if name == "Wait" {
						m.Wait()
						returned <- nil
						return
					}
					returned <- m.Shutdown(context.Background())
				}()
				synctest.Wait()
				require.Empty(t, returned, "returned before the task ended")

				task.wait.Done() // the rest of finish
				task.flags.Or(flagEnded)
				require.NoError(t, <-returned)
				require.Equal(t, Stats{Failed: 1}, m.Stats())
			})
		})
	}
}

package taskmon

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The task's context must be indistinguishable from a context.WithCancelCause
// child of the context given to Go: every scenario below runs once against
// such a child (the reference) and once against a task's context, and the
// two must observe the same things.

// subject is a context under test and the ways to cancel it.
type subject struct {
	ctx          context.Context
	cancel       func() // Task.Cancel, or cancel(nil)
	shutdown     func() // Monitor.Shutdown, or cancel(ErrShutdown)
	cancelParent func() // cancels the parent, if it can be
	end          func() // releases everything at the end of the scenario
}

// parityParents are the parent contexts scenarios run with: parents that
// can never be cancelled and parents that can. Each comes with a function
// that cancels it (a no-op for those that cannot be).
func parityParents() map[string]func(t *testing.T) (context.Context, func()) {
	base := func() context.Context { return context.WithValue(context.Background(), ctxKey{}, "v") }
	return map[string]func(t *testing.T) (context.Context, func()){
		"Background": func(*testing.T) (context.Context, func()) { return base(), func() {} },
		"WithoutCancel": func(t *testing.T) (context.Context, func()) {
			ctx, cancel := context.WithCancel(base())
			t.Cleanup(cancel)
			return context.WithoutCancel(ctx), cancel
		},
		"WithCancel": func(t *testing.T) (context.Context, func()) {
			ctx, cancel := context.WithCancel(base())
			t.Cleanup(cancel)
			return ctx, cancel
		},
		"WithDeadline": func(t *testing.T) (context.Context, func()) {
			ctx, cancel := context.WithDeadline(base(), time.Now().Add(time.Hour))
			t.Cleanup(cancel)
			return ctx, cancel
		},
		"WithCancelCause": func(t *testing.T) (context.Context, func()) {
			ctx, cancel := context.WithCancelCause(base())
			t.Cleanup(func() { cancel(nil) })
			return ctx, func() { cancel(errParent) }
		},
	}
}

var errParent = errors.New("parent's cause")

func reference(parent context.Context, cancelParent func()) subject {
	ctx, cancel := context.WithCancelCause(parent)
	return subject{
		ctx:          ctx,
		cancel:       func() { cancel(nil) },
		shutdown:     func() { cancel(ErrShutdown) },
		cancelParent: cancelParent,
		end:          func() { cancel(nil) },
	}
}

// taskSubject is the context of a task that waits on it (and so has asked
// for its Done channel).
func taskSubject(parent context.Context, cancelParent func()) subject {
	m := newMon(Config{})
	task, ctx, release := startBlocked(m, parent)
	var once sync.Once
	return subject{
		ctx:          ctx,
		cancel:       task.Cancel,
		shutdown:     func() { _ = m.Shutdown(context.Background()) },
		cancelParent: cancelParent,
		end: func() {
			once.Do(func() { close(release) })
			<-task.Done()
		},
	}
}

// idleTaskSubject is the context of a task that never looks at it: nothing
// has asked for its Done channel or a value when the scenario starts.
func idleTaskSubject(parent context.Context, cancelParent func()) subject {
	m := newMon(Config{})
	task, ctx, release := startIdle(m, parent)
	var once sync.Once
	end := func() {
		once.Do(func() { close(release) })
		<-task.Done()
	}
	return subject{
		ctx:    ctx,
		cancel: task.Cancel,
		shutdown: func() {
			// The task does not return when cancelled: Shutdown is given a
			// context that is already done, so that it cancels and returns.
			done, cancel := context.WithCancel(context.Background())
			cancel()
			_ = m.Shutdown(done)
		},
		cancelParent: cancelParent,
		end:          end,
	}
}

// observe describes everything a user can see of ctx, except Done's
// identity.
func observe(ctx context.Context) string {
	done := "open"
	select {
	case <-ctx.Done():
		done = "closed"
	default:
	}
	if ctx.Done() == nil {
		done = "nil"
	}
	d, ok := ctx.Deadline()
	return fmt.Sprintf("done=%s err=%v cause=%v value=%v deadline=%v,%v",
		done, ctx.Err(), context.Cause(ctx), ctx.Value(ctxKey{}), !d.IsZero(), ok)
}

// derive makes every kind of context derived from ctx and returns a
// function that observes them, after waiting for AfterFunc's f.
func derive(ctx context.Context) (observeAll func() []string, end func()) {
	wc, cancel1 := context.WithCancel(ctx)
	wcc, cancel2 := context.WithCancelCause(ctx)
	wt, cancel3 := context.WithTimeout(ctx, time.Hour)
	wtc, cancel4 := context.WithTimeoutCause(ctx, time.Hour, errBoom)
	wv := context.WithValue(ctx, ctxKey{}, "derived")
	wvc, cancel5 := context.WithCancel(wv)
	wo := context.WithoutCancel(ctx)
	// The errgroup.WithContext shape: a WithCancelCause child cancelled
	// with the group's first error once the group is done.
	group, cancelGroup := context.WithCancelCause(ctx)
	after := make(chan string, 1)
	stopAfter := context.AfterFunc(ctx, func() { after <- "after: " + observe(ctx) })
	// Stopped at once: f is called only if ctx was already cancelled.
	unusedCalled := make(chan struct{})
	unused := context.AfterFunc(ctx, func() { close(unusedCalled) })
	stoppedUnused := unused()
	if !stoppedUnused {
		<-unusedCalled
	}
	observeAll = func() []string {
		cancelGroup(errBoom) // after the parent's cancellation, a no-op
		obs := []string{
			"WithCancel: " + observe(wc),
			"WithCancelCause: " + observe(wcc),
			"WithTimeout: " + observe(wt),
			"WithTimeoutCause: " + observe(wtc),
			"WithValue: " + observe(wv),
			"WithValue+WithCancel: " + observe(wvc),
			"WithoutCancel: " + observe(wo),
			"group: " + observe(group),
			fmt.Sprintf("stop at once: %v, again: %v", stoppedUnused, unused()),
		}
		if ctx.Err() == nil { // f is called only once ctx is cancelled
			return append(obs, fmt.Sprintf("not cancelled; stop: %v", stopAfter()))
		}
		select {
		case s := <-after:
			obs = append(obs, s, fmt.Sprintf("stop after f: %v", stopAfter()))
		case <-time.After(10 * time.Second):
			obs = append(obs, "AfterFunc's f not called")
		}
		return obs
	}
	end = func() {
		cancel1()
		cancel2(nil)
		cancel3()
		cancel4()
		cancel5()
		cancelGroup(nil)
		stopAfter()
	}
	return observeAll, end
}

// scenarios each return what they observed of s.
var parityScenarios = map[string]func(s subject) []string{
	"before cancellation": func(s subject) []string {
		// String names the parent, then WithCancel (a WithDeadline
		// parent's String has the time left, which differs by the run).
		str := fmt.Sprint(s.ctx)
		return []string{observe(s.ctx), str[strings.LastIndexByte(str, '.'):]}
	},
	"Cancel, with derived contexts made before": func(s subject) []string {
		obs, end := derive(s.ctx)
		defer end()
		s.cancel()
		return append(obs(), observe(s.ctx))
	},
	"Shutdown, with derived contexts made before": func(s subject) []string {
		obs, end := derive(s.ctx)
		defer end()
		s.shutdown()
		return append(obs(), observe(s.ctx))
	},
	"Shutdown, derived contexts made after": func(s subject) []string {
		s.shutdown()
		obs, end := derive(s.ctx)
		defer end()
		return append(obs(), observe(s.ctx))
	},
	"parent cancelled, then Cancel: the parent's cancellation stays": func(s subject) []string {
		s.cancelParent()
		first := observe(s.ctx)
		s.cancel()
		return []string{first, observe(s.ctx)}
	},
	"parent cancelled, then Shutdown, nothing asked for in between": func(s subject) []string {
		s.cancelParent()
		s.shutdown()
		return []string{observe(s.ctx)}
	},
	"parent cancelled, then Shutdown, Err asked for first": func(s subject) []string {
		s.cancelParent()
		err := fmt.Sprint(s.ctx.Err())
		s.shutdown()
		return []string{err, observe(s.ctx)}
	},
	"Shutdown, then parent cancelled: the shutdown stays": func(s subject) []string {
		s.shutdown()
		s.cancelParent()
		obs, end := derive(s.ctx)
		defer end()
		return append(obs(), observe(s.ctx))
	},
	"Cancel, then parent cancelled, Err asked for in between": func(s subject) []string {
		s.cancel()
		err := fmt.Sprint(s.ctx.Err())
		s.cancelParent()
		return []string{err, observe(s.ctx)}
	},
	"parent cancelled, derived contexts made before": func(s subject) []string {
		obs, end := derive(s.ctx)
		defer end()
		s.cancelParent()
		return append(obs(), observe(s.ctx))
	},
	"Cancel then Shutdown: the first cause stays": func(s subject) []string {
		s.cancel()
		s.shutdown()
		return []string{observe(s.ctx)}
	},
	"Shutdown then Cancel: the first cause stays": func(s subject) []string {
		s.shutdown()
		s.cancel()
		obs, end := derive(s.ctx)
		defer end()
		return append(obs(), observe(s.ctx))
	},
	"Done asked for only after the cancellation": func(s subject) []string {
		s.shutdown()
		return []string{observe(s.ctx)}
	},
	"a derived context cancelled on its own first": func(s subject) []string {
		child, cancel := context.WithCancelCause(s.ctx)
		cancel(errBoom)
		s.shutdown()
		return []string{observe(child), observe(s.ctx)}
	},
	"the AfterFunc method after the cancellation": func(s subject) []string {
		s.shutdown()
		called := make(chan struct{})
		stop := context.AfterFunc(s.ctx, func() { close(called) })
		<-called
		return []string{fmt.Sprintf("stop: %v", stop())}
	},
	"derived contexts made while it is cancelled": func(s subject) []string {
		var wg sync.WaitGroup
		children := make([]context.Context, 50)
		cancels := make([]context.CancelFunc, len(children))
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range children {
				children[i], cancels[i] = context.WithCancel(s.ctx)
			}
		}()
		s.shutdown()
		wg.Wait()
		var obs []string
		for i, c := range children {
			<-c.Done()
			obs = append(obs, observe(c))
			cancels[i]()
		}
		return obs
	},
	"Err is non-nil only once Done is closed": func(s subject) []string {
		var wg sync.WaitGroup
		violations := 0
		wg.Add(1)
		go func() {
			defer wg.Done()
			for s.ctx.Err() == nil {
			}
			select {
			case <-s.ctx.Done():
			default:
				violations++
			}
		}()
		done := s.ctx.Done() // the channel is made before the cancellation
		s.cancel()
		wg.Wait()
		<-done
		return []string{fmt.Sprint("violations: ", violations)}
	},
}

func TestTaskContextParity(t *testing.T) {
	subjects := map[string]func(context.Context, func()) subject{
		"waiting": taskSubject,
		"idle":    idleTaskSubject,
	}
	for kind, mkSubject := range subjects {
		for pname, mkParent := range parityParents() {
			for sname, scenario := range parityScenarios {
				t.Run(kind+"/"+pname+"/"+sname, func(t *testing.T) {
					ref := reference(mkParent(t))
					want := scenario(ref)
					ref.end()
					sub := mkSubject(mkParent(t))
					got := scenario(sub)
					sub.end()
					require.Equal(t, want, got)
					require.NotEmpty(t, want)
				})
			}
		}
	}
}

package taskmon_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"time"

	"github.com/steadfast-go/steadfast/taskmon"
)

// Go starts tasks; Wait waits for them; Stats counts how they ended.
func ExampleMonitor_Go() {
	// The examples discard the log; a service passes its own logger, or nil
	// for slog.Default().
	m := taskmon.New(taskmon.Config{Name: "example", Logger: slog.New(slog.DiscardHandler)})
	ctx := context.Background()

	for _, name := range []string{"warm-cache", "load-config", "ping-db"} {
		m.Go(ctx, name, func(context.Context) error {
			if name == "ping-db" {
				return errors.New("connection refused")
			}
			return nil
		})
	}
	m.Wait()

	st := m.Stats()
	fmt.Printf("succeeded %d, failed %d, running %d\n", st.Succeeded, st.Failed, st.Running)
	// Output:
	// succeeded 2, failed 1, running 0
}

// Config.OnError is the monitor-wide handler: it hears about every failure,
// panic and runtime.Goexit of every task, and never about cancellations.
func ExampleConfig() {
	m := taskmon.New(taskmon.Config{
		Logger: slog.New(slog.DiscardHandler),
		OnError: func(te taskmon.TaskError) {
			fmt.Printf("%s: %s: %v\n", te.Name, te.Outcome, te.Err)
		},
	})
	ctx := context.Background()

	<-m.Go(ctx, "fetch", func(context.Context) error { return errors.New("timeout") }).Done()
	<-m.Go(ctx, "parse", func(context.Context) error { panic("index out of range") }).Done()
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	<-m.Go(canceled, "stopped", func(ctx context.Context) error { return ctx.Err() }).Done()
	// Output:
	// fetch: failure: timeout
	// parse: panic: taskmon: task "parse" panicked: index out of range
}

// A TaskError names the task and says how its run ended; it is also an
// error that unwraps to the run's error.
func ExampleTaskError() {
	errDisk := errors.New("disk full")
	m := taskmon.New(taskmon.Config{
		Logger: slog.New(slog.DiscardHandler),
		OnError: func(te taskmon.TaskError) {
			fmt.Println(te)
			fmt.Println(errors.Is(te, errDisk))
		},
	})
	<-m.Go(context.Background(), "snapshot", func(context.Context) error { return errDisk }).Done()
	// Output:
	// taskmon: task "snapshot" failed: disk full
	// true
}

// A panic becomes a *PanicError carrying the stack; it unwraps to the panic
// value when that is an error.
func ExamplePanicError() {
	m := taskmon.New(taskmon.Config{Logger: slog.New(slog.DiscardHandler)})
	task := m.Go(context.Background(), "decoder", func(context.Context) error {
		var table map[string]int
		table["x"] = 1 // assignment to entry in nil map
		return nil
	})
	<-task.Done()

	var pe *taskmon.PanicError
	if errors.As(task.Err(), &pe) {
		fmt.Println("task:", pe.Task)
		fmt.Println("value:", pe.Value)
		fmt.Println("has stack:", len(pe.Stack) > 0)
	}
	// Output:
	// task: decoder
	// value: assignment to entry in nil map
	// has stack: true
}

// Supervise restarts a task under a policy; here OnFailure (the default)
// restarts it after each failure, with jittered exponential backoff, until
// a run succeeds.
func ExampleMonitor_Supervise() {
	m := taskmon.New(taskmon.Config{Logger: slog.New(slog.DiscardHandler)})
	attempt := 0
	task, err := m.Supervise(context.Background(), taskmon.Spec{
		Name:    "connect",
		Restart: taskmon.OnFailure,
		Backoff: time.Millisecond,
		Run: func(context.Context) error {
			attempt++
			fmt.Println("attempt", attempt)
			if attempt < 3 {
				return errors.New("no route to host")
			}
			return nil
		},
		OnError: func(te taskmon.TaskError) { fmt.Println("  failed:", te.Err) },
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	<-task.Done()
	fmt.Println("err:", task.Err(), "restarts:", m.Stats().Restarts)
	// Output:
	// attempt 1
	//   failed: no route to host
	// attempt 2
	//   failed: no route to host
	// attempt 3
	// err: <nil> restarts: 2
}

// With MaxRestarts and Period, a task that keeps failing is given up: its
// error wraps ErrGaveUp and the last failure.
func ExampleSpec() {
	m := taskmon.New(taskmon.Config{Logger: slog.New(slog.DiscardHandler)})
	task, err := m.Supervise(context.Background(), taskmon.Spec{
		Name:        "feed",
		Backoff:     time.Millisecond,
		MaxRestarts: 2,
		Period:      time.Minute,
		Run:         func(context.Context) error { return errors.New("bad credentials") },
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	<-task.Done()
	fmt.Println(errors.Is(task.Err(), taskmon.ErrGaveUp))
	fmt.Println(task.Err())
	st := m.Stats()
	fmt.Printf("runs failed %d, restarts %d, gave up %d\n", st.Failed, st.Restarts, st.GaveUp)

	_, err = m.Supervise(context.Background(), taskmon.Spec{Name: "bad", Backoff: -time.Second,
		Run: func(context.Context) error { return nil }})
	fmt.Println(err)
	// Output:
	// true
	// taskmon: gave up restarting: task "feed" restarted 2 times within 1m0s; last run failed: bad credentials
	// runs failed 3, restarts 2, gave up 1
	// taskmon: Spec.Backoff must not be negative, got -1s (task "bad")
}

// Always restarts a task after successful runs too, until it is canceled.
func ExamplePolicy() {
	m := taskmon.New(taskmon.Config{Logger: slog.New(slog.DiscardHandler)})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	runs := 0
	task, _ := m.Supervise(ctx, taskmon.Spec{
		Name:        "poll",
		Restart:     taskmon.Always,
		Backoff:     time.Millisecond,
		MaxRestarts: -1,
		Run: func(ctx context.Context) error {
			runs++
			if runs == 3 {
				cancel()
				return ctx.Err()
			}
			return nil
		},
	})
	<-task.Done()
	st := m.Stats()
	fmt.Println(taskmon.Always, "runs:", runs, "succeeded:", st.Succeeded, "canceled:", st.Canceled)
	// Output:
	// always runs: 3 succeeded: 2 canceled: 1
}

// Shutdown cancels every task with cause ErrShutdown and waits for them;
// afterwards Go returns tasks that failed with ErrClosed.
func ExampleMonitor_Shutdown() {
	m := taskmon.New(taskmon.Config{Logger: slog.New(slog.DiscardHandler)})
	ctx := context.Background()
	started := make(chan struct{})
	m.Go(ctx, "consumer", func(ctx context.Context) error {
		close(started)
		<-ctx.Done()
		fmt.Println("consumer stopping:", context.Cause(ctx))
		return ctx.Err()
	})
	<-started

	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	fmt.Println("shutdown:", m.Shutdown(sctx))

	late := m.Go(ctx, "late", func(context.Context) error { return nil })
	fmt.Println("late:", late.Err())
	// Output:
	// consumer stopping: taskmon: monitor shut down
	// shutdown: <nil>
	// late: taskmon: monitor closed
}

// Task.Cancel stops one task; its cancellation is not an error.
func ExampleTask() {
	m := taskmon.New(taskmon.Config{Logger: slog.New(slog.DiscardHandler)})
	task := m.Go(context.Background(), "ticker", func(ctx context.Context) error {
		<-ctx.Done()
		return ctx.Err()
	})
	task.Cancel()
	<-task.Done()
	fmt.Println(task.Name(), task.Err(), m.Stats().Canceled)
	// Output:
	// ticker <nil> 1
}

// Task.Wait waits for one task and returns its error, as Done and then Err
// would.
func ExampleTask_Wait() {
	m := taskmon.New(taskmon.Config{Logger: slog.New(slog.DiscardHandler)})
	task := m.Go(context.Background(), "migrate", func(context.Context) error {
		return errors.New("schema is newer than this binary")
	})
	fmt.Println(task.Wait())
	// Output:
	// schema is newer than this binary
}

// Tasks lists the tasks still running, for a health endpoint.
func ExampleMonitor_Tasks() {
	m := taskmon.New(taskmon.Config{Logger: slog.New(slog.DiscardHandler)})
	block := make(chan struct{})
	m.Go(context.Background(), "stream", func(context.Context) error { <-block; return nil })
	m.Go(context.Background(), "stream", func(context.Context) error { <-block; return nil })
	for _, info := range m.Tasks() {
		fmt.Println(info.ID, info.Name, info.Supervised)
	}
	close(block)
	m.Wait()
	fmt.Println(len(m.Tasks()))
	// Output:
	// 1 stream false
	// 2 stream false
	// 0
}

// Stats is exact once Wait returns: a task's counts are updated before its
// Done channel closes.
func ExampleStats() {
	m := taskmon.New(taskmon.Config{Logger: slog.New(slog.DiscardHandler)})
	ctx := context.Background()
	for i := range 10 {
		m.Go(ctx, "job", func(context.Context) error {
			if i%5 == 0 {
				panic("bad job")
			}
			return nil
		})
	}
	m.Wait()
	fmt.Printf("%+v\n", m.Stats())
	// Output:
	// {Running:0 Succeeded:8 Failed:0 Panicked:2 Canceled:0 Restarts:0 GaveUp:0 Rejected:0 CallbackPanics:0}
}

// Each run ends with one Outcome; exited means the function called
// runtime.Goexit, which counts as a failure.
func ExampleOutcome() {
	m := taskmon.New(taskmon.Config{
		Logger:  slog.New(slog.DiscardHandler),
		OnError: func(te taskmon.TaskError) { fmt.Println(te.Outcome, errors.Is(te.Err, taskmon.ErrGoexit)) },
	})
	<-m.Go(context.Background(), "quits", func(context.Context) error {
		quit()
		return nil
	}).Done()
	// Output:
	// exited true
}

// quit stands for code that ends its goroutine with runtime.Goexit, as
// testing.T.FailNow does.
func quit() { runtime.Goexit() }

// Spec.Validate checks a Spec without starting anything, as a constructor
// that takes a Spec in its own Config does before it runs.
func ExampleSpec_Validate() {
	run := func(context.Context) error { return nil }
	fmt.Println(taskmon.Spec{Name: "feed", Run: run}.Validate())
	fmt.Println(taskmon.Spec{Name: "feed", Run: run, Backoff: -time.Second}.Validate())
	// Output:
	// <nil>
	// taskmon: Spec.Backoff must not be negative, got -1s (task "feed")
}

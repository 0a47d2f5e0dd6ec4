// Command taskmon shows the task monitor at work: a supervised task that
// fails twice and is restarted with backoff, a task that keeps failing and
// is given up, a task that panics, and a clean shutdown of what is left.
// It finishes by itself in about a second (-run-for); -max-restarts sets
// when the failing task is given up, and -h lists the flags:
//
//	go run ./examples/taskmon
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/steadfast-go/steadfast/taskmon"
)

func main() {
	fs := flag.NewFlagSet("taskmon", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: go run ./examples/taskmon [flags]

Shows the task monitor: a supervised task that fails twice and is restarted
with backoff, a task that keeps failing and is given up after -max-restarts,
a task that panics, and after -run-for a clean shutdown of what is left,
with the monitor's stats.

Flags:
`)
		fs.PrintDefaults()
	}
	maxRestarts := fs.Int("max-restarts", 3, "restarts of the failing task before it is given up, in [1, 100]")
	runFor := fs.Duration("run-for", time.Second, "how long the tasks run before the shutdown, in [100ms, 1m]")
	switch err := fs.Parse(os.Args[1:]); {
	case errors.Is(err, flag.ErrHelp):
		return
	case err != nil:
		os.Exit(2)
	case fs.NArg() > 0:
		fmt.Fprintf(os.Stderr, "taskmon example: unexpected argument %q (-h lists the flags)\n", fs.Arg(0))
		os.Exit(2)
	}
	switch {
	case *maxRestarts < 1 || *maxRestarts > 100:
		fmt.Fprintf(os.Stderr, "taskmon example: -max-restarts must be in [1, 100], got %d\n", *maxRestarts)
		os.Exit(2)
	case *runFor < 100*time.Millisecond || *runFor > time.Minute:
		fmt.Fprintf(os.Stderr, "taskmon example: -run-for must be in [100ms, 1m], got %v\n", *runFor)
		os.Exit(2)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	m := taskmon.New(taskmon.Config{
		Name:   "demo",
		Logger: logger,
		OnError: func(te taskmon.TaskError) {
			fmt.Printf("OnError: %-8s %-8s %v\n", te.Name, te.Outcome, te.Err)
		},
	})
	ctx := context.Background()

	// A stream that fails twice on connect, then runs until it is stopped.
	attempts := 0
	if _, err := m.Supervise(ctx, taskmon.Spec{
		Name:    "stream",
		Restart: taskmon.OnFailure,
		Backoff: 50 * time.Millisecond,
		Run: func(ctx context.Context) error {
			attempts++
			if attempts <= 2 {
				return fmt.Errorf("connect attempt %d: connection refused", attempts)
			}
			fmt.Println("stream: connected on attempt", attempts)
			<-ctx.Done()
			fmt.Println("stream: stopping,", context.Cause(ctx))
			return ctx.Err()
		},
	}); err != nil {
		fmt.Println(err)
		os.Exit(1)
	}

	// A task with a permanent error: given up after -max-restarts restarts.
	if _, err := m.Supervise(ctx, taskmon.Spec{
		Name:        "auth",
		Backoff:     10 * time.Millisecond,
		MaxRestarts: *maxRestarts,
		Period:      time.Minute,
		Run:         func(context.Context) error { return errors.New("invalid API key") },
	}); err != nil {
		fmt.Println(err)
		os.Exit(1)
	}

	// A one-shot task with a bug.
	m.Go(ctx, "report", func(context.Context) error {
		var totals map[string]int
		totals["x"]++ // panics: assignment to entry in nil map
		return nil
	})

	time.Sleep(*runFor)
	for _, info := range m.Tasks() {
		fmt.Printf("running: %s (restarts %d, last error: %v)\n", info.Name, info.Restarts, info.LastErr)
	}

	sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := m.Shutdown(sctx); err != nil {
		fmt.Println("shutdown:", err)
		os.Exit(1)
	}
	fmt.Printf("stats: %+v\n", m.Stats())
}

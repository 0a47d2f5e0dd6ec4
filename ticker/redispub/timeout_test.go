package redispub_test

import (
	"context"
	"errors"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/steadfast-go/steadfast/internal/redistest"
	"github.com/steadfast-go/steadfast/ticker"
	"github.com/steadfast-go/steadfast/ticker/redispub"
)

// When the batch's context ends first, the error says the pipeline timed
// out; it does not blame the first command for it.
func TestPublishTimeoutBlamesThePipeline(t *testing.T) {
	s := redistest.Start(t)
	c := newClient(t, s.Addr(), failFast)
	p := newPublisher(t, c, redispub.Config{})
	ins := chain("NIFTY", 100)
	batch := []ticker.Tick{tickOf(ins[0], 1), tickOf(ins[1], 1)}
	if err := publish(p, batch); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(s.Pid(), syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Kill(s.Pid(), syscall.SIGCONT) })

	for _, c := range []struct {
		name string
		ctx  func() (context.Context, context.CancelFunc)
		says string
		is   error
	}{
		{"deadline", func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 200*time.Millisecond)
		}, "redispub: pipeline of 2 commands (2 ticks) timed out: context deadline exceeded", context.DeadlineExceeded},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := c.ctx()
			defer cancel()
			err := p.Publish(ctx, batch)
			var pe *redispub.PublishError
			if !errors.As(err, &pe) || !errors.Is(err, c.is) {
				t.Fatalf("Publish to a stopped server = %v, want a *PublishError wrapping %v", err, c.is)
			}
			if err.Error() != c.says || strings.Contains(err.Error(), "first") || pe.Command != "" {
				t.Errorf("error %q (Command %q), want %q", err, pe.Command, c.says)
			}
			if pe.Commands != 2 || pe.Failed != 2 {
				t.Errorf("Commands %d, Failed %d; want 2 and 2", pe.Commands, pe.Failed)
			}
		})
	}
}

// A batch whose context was canceled (not timed out) says so. go-redis
// notices a cancellation only between commands, so this case is built by
// hand rather than on a stopped server.
func TestPublishErrorCanceledPipeline(t *testing.T) {
	pe := &redispub.PublishError{Ticks: 3, Commands: 4, Failed: 4, Err: context.Canceled}
	if got, want := pe.Error(), "redispub: pipeline of 4 commands (3 ticks) canceled: context canceled"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

package redistest

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"
)

// Bounds of the log lines kept for a test and for the test binary.
const (
	maxTestLines   = 200 // per test: the last ones
	maxOrphanLines = 50  // between tests: the last ones
	maxLineBytes   = 2 << 10
)

// Logged wraps m for a package whose tests talk to Redis:
//
//	func TestMain(m *testing.M) { goleak.VerifyTestMain(redistest.Logged(m)) }
//
// It routes go-redis's log lines (go-redis has one logger per process, set
// by redis.SetLogger) away from stderr: a line goes to the tests capturing
// them (CaptureLogs; Addr and Start capture for their test), which print
// the lines they got only if they fail. Lines logged while no test captures
// are printed only if the run fails.
func Logged(m *testing.M) goleak.TestingM { return logged{m} }

// logged is a goleak.TestingM that routes go-redis's logs while m runs.
type logged struct{ m *testing.M }

func (l logged) Run() int {
	redis.SetLogger(logs)
	code := l.m.Run()
	if code != 0 {
		logs.dumpOrphans(os.Stderr)
	}
	return code
}

// CaptureLogs sends go-redis's log lines to tb until it ends, and prints
// them in tb's log only if tb has failed by then (the last 200 lines). A
// line that names the address of a server tb started (Start) goes to tb
// alone; any other line goes to every capturing test. It does nothing
// unless the package's TestMain is Main.
func CaptureLogs(tb testing.TB) { logs.capture(tb, "") }

// logs is go-redis's logger in a test binary whose TestMain is Main. It is
// process-wide state, as go-redis's logger itself is, and exists only in
// test binaries.
var logs = &router{}

// router delivers go-redis's log lines to the tests that capture them.
type router struct {
	mu      sync.Mutex
	sinks   []*sink
	orphans []string
	lost    int // orphan lines beyond the bound
}

// sink is one capturing test and the lines it got.
type sink struct {
	tb    testing.TB
	addr  string // of a server the test owns; "" for none
	lines []string
	lost  int
}

// Printf implements go-redis's logging interface.
func (r *router) Printf(_ context.Context, format string, v ...any) {
	line := fmt.Sprintf(format, v...)
	if len(line) > maxLineBytes {
		line = line[:maxLineBytes] + "…"
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	var to []*sink
	for _, s := range r.sinks {
		if s.addr != "" && strings.Contains(line, s.addr) {
			to = append(to, s)
		}
	}
	if len(to) == 0 {
		to = r.sinks
	}
	if len(to) == 0 {
		r.orphans, r.lost = keep(r.orphans, r.lost, line, maxOrphanLines)
		return
	}
	for _, s := range to {
		s.lines, s.lost = keep(s.lines, s.lost, line, maxTestLines)
	}
}

// keep appends line to lines, dropping the oldest beyond max.
func keep(lines []string, lost int, line string, max int) ([]string, int) {
	if len(lines) == max {
		copy(lines, lines[1:])
		lines = lines[:max-1]
		lost++
	}
	return append(lines, line), lost
}

// capture registers tb, with the address of a server it owns, until it
// ends.
func (r *router) capture(tb testing.TB, addr string) {
	s := &sink{tb: tb, addr: addr}
	r.mu.Lock()
	r.sinks = append(r.sinks, s)
	r.mu.Unlock()
	tb.Cleanup(func() {
		r.mu.Lock()
		for i, x := range r.sinks {
			if x == s {
				r.sinks = append(r.sinks[:i], r.sinks[i+1:]...)
				break
			}
		}
		lines, lost := s.lines, s.lost
		r.mu.Unlock()
		if !tb.Failed() || len(lines) == 0 {
			return
		}
		var b strings.Builder
		fmt.Fprintf(&b, "go-redis logged %d lines during the test", len(lines)+lost)
		if lost > 0 {
			fmt.Fprintf(&b, " (the first %d left out)", lost)
		}
		b.WriteString(":")
		for _, l := range lines {
			b.WriteString("\n\t")
			b.WriteString(strings.TrimSuffix(l, "\n"))
		}
		tb.Log(b.String())
	})
}

// dumpOrphans writes the lines no test captured.
func (r *router) dumpOrphans(w io.Writer) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.orphans) == 0 {
		return
	}
	fmt.Fprintf(w, "go-redis logged %d lines outside the tests that capture them", len(r.orphans)+r.lost)
	if r.lost > 0 {
		fmt.Fprintf(w, " (the first %d left out)", r.lost)
	}
	fmt.Fprintln(w, ":")
	for _, l := range r.orphans {
		fmt.Fprintf(w, "\t%s\n", strings.TrimSuffix(l, "\n"))
	}
}

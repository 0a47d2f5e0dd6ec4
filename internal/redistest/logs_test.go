package redistest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// logTB is a test whose log, failure and cleanups the router test reads.
type logTB struct {
	testing.TB
	mu       sync.Mutex
	failed   bool
	logged   []string
	cleanups []func()
}

func (l *logTB) Cleanup(fn func()) { l.cleanups = append(l.cleanups, fn) }
func (l *logTB) Failed() bool      { return l.failed }
func (l *logTB) Log(args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.logged = append(l.logged, fmt.Sprint(args...))
}
func (l *logTB) end() {
	for i := len(l.cleanups) - 1; i >= 0; i-- {
		l.cleanups[i]()
	}
}

// A line naming a test's own server goes to that test alone; other lines
// go to every capturing test; lines with no test capturing wait for the
// end of the run; a test prints its lines only if it failed, the oldest cut.
func TestRouter(t *testing.T) {
	r := &router{}
	ctx := context.Background()
	r.Printf(ctx, "before any test: %d", 1)

	owner := &logTB{TB: t}
	other := &logTB{TB: t}
	r.capture(owner, "127.0.0.1:7001")
	r.capture(other, "")
	r.Printf(ctx, "dial tcp %s: connection refused", "127.0.0.1:7001")
	r.Printf(ctx, "something about %s", "127.0.0.1:7002")
	for i := range maxTestLines {
		r.Printf(ctx, "flood %d", i)
	}
	owner.failed = true
	owner.end()
	other.end()
	if len(other.logged) != 0 {
		t.Errorf("a passing test printed %q", other.logged)
	}
	if len(owner.logged) != 1 {
		t.Fatalf("a failed test printed %d records, want 1: %q", len(owner.logged), owner.logged)
	}
	got := owner.logged[0]
	for _, want := range []string{"go-redis logged 202 lines during the test (the first 2 left out):", "\n\tflood 0\n", "\n\tflood 199"} {
		if !strings.Contains(got, want) {
			t.Errorf("the failed test's record lacks %q:\n%s", want, got)
		}
	}

	r.Printf(ctx, "after the tests: %s", strings.Repeat("x", 3*maxLineBytes))
	var out strings.Builder
	r.dumpOrphans(&out)
	if s := out.String(); !strings.Contains(s, "go-redis logged 2 lines outside") ||
		!strings.Contains(s, "\tbefore any test: 1\n") || len(s) > 3*maxLineBytes/2 {
		t.Errorf("orphans:\n%.300s", s)
	}
}

// envHelper selects TestHelperDialsClosedPort's mode in a child process.
const envHelper = "REDISTEST_HELPER"

// TestHelperDialsClosedPort runs only in the child process of
// TestGoRedisNoiseStaysInTheTestLog: it makes go-redis log a failed dial,
// and fails when asked to.
func TestHelperDialsClosedPort(t *testing.T) {
	mode := os.Getenv(envHelper)
	if mode == "" {
		t.Skip("run by TestGoRedisNoiseStaysInTheTestLog")
	}
	CaptureLogs(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, DialerRetries: 1})
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err == nil {
		t.Fatal("PING of a closed port succeeded")
	}
	if mode == "fail" {
		t.Error("failing on purpose")
	}
}

// go-redis's dial errors do not reach the output of a passing test, even
// with -v; a failing test shows them in its own log.
func TestGoRedisNoiseStaysInTheTestLog(t *testing.T) {
	const line = "connection pool: failed to dial"
	for _, mode := range []string{"pass", "fail"} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperDialsClosedPort$", "-test.v", "-test.count=1")
		cmd.Env = append(os.Environ(), envHelper+"="+mode)
		out, err := cmd.CombinedOutput()
		s := string(out)
		switch mode {
		case "pass":
			if err != nil || strings.Contains(s, line) || strings.Contains(s, "pool.go") {
				t.Errorf("passing run (%v) printed go-redis's lines:\n%s", err, s)
			}
		case "fail":
			j := strings.Index(s, "go-redis logged 1 lines during the test:")
			if err == nil || !strings.Contains(s, "--- FAIL: TestHelperDialsClosedPort") || j < 0 ||
				!strings.Contains(s[j:], line) || strings.Contains(s, "pool.go") {
				t.Errorf("failing run (%v) does not show go-redis's line in the test's log:\n%s", err, s)
			}
		}
	}
}

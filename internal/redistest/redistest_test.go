package redistest

import (
	"fmt"
	"net"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// fakeTB records what a helper does to its test: Fatalf and Skipf end the
// helper's goroutine as the real ones do, and cleanups run when the fake
// test ends (run returns them to the caller to run).
type fakeTB struct {
	testing.TB // the real test, for TempDir and Helper

	mu       sync.Mutex
	failed   bool
	skipped  bool
	msg      string
	cleanups []func()
}

func (f *fakeTB) Cleanup(fn func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cleanups = append(f.cleanups, fn)
}

func (f *fakeTB) Errorf(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failed, f.msg = true, fmt.Sprintf(format, args...)
}

func (f *fakeTB) Fatalf(format string, args ...any) {
	f.Errorf(format, args...)
	runtime.Goexit()
}

func (f *fakeTB) Skipf(format string, args ...any) {
	f.mu.Lock()
	f.skipped, f.msg = true, fmt.Sprintf(format, args...)
	f.mu.Unlock()
	runtime.Goexit()
}

func (f *fakeTB) Failed() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.failed
}

// runCleanups runs the recorded cleanups last-first, as testing does.
func (f *fakeTB) runCleanups() {
	f.mu.Lock()
	cs := f.cleanups
	f.cleanups = nil
	f.mu.Unlock()
	for i := len(cs) - 1; i >= 0; i-- {
		cs[i]()
	}
}

// run calls fn with a fake test on a goroutine of its own (so that Fatalf
// and Skipf can end it) and waits for it.
func run(t *testing.T, fn func(tb testing.TB)) *fakeTB {
	f := &fakeTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(f)
	}()
	<-done
	return f
}

// alive reports whether a process with this pid exists (and is not a
// zombie waiting to be reaped by someone else: the Server reaps its own).
func alive(pid int) bool {
	return syscall.Kill(pid, 0) == nil
}

// closedAddr returns a loopback address where nothing listens.
func closedAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// Without a Redis, Addr skips the test saying how to start one; under CI it
// fails it.
func TestAddrWithoutRedis(t *testing.T) {
	for _, ci := range []string{"", "true"} {
		t.Setenv(EnvCI, ci)
		t.Setenv(EnvAddr, closedAddr(t))
		f := run(t, func(tb testing.TB) { Addr(tb) })
		if f.failed != (ci == "true") || f.skipped == (ci == "true") {
			t.Errorf("CI=%q: skipped=%v failed=%v", ci, f.skipped, f.failed)
		}
		if !strings.Contains(f.msg, StartHint) || !strings.Contains(f.msg, EnvAddr) {
			t.Errorf("CI=%q: message %q does not say how to start Redis", ci, f.msg)
		}
	}
}

func TestStartSkipsOrFailsWithoutBinary(t *testing.T) {
	t.Setenv("PATH", t.TempDir()) // no redis-server on it
	t.Setenv(EnvCI, "")
	f := run(t, func(tb testing.TB) { Start(tb) })
	if !f.skipped || !strings.Contains(f.msg, "apt-get install -y redis-server") {
		t.Errorf("skipped=%v msg=%q, want a skip saying how to install", f.skipped, f.msg)
	}
	t.Setenv(EnvCI, "true")
	f = run(t, func(tb testing.TB) { Start(tb) })
	if !f.failed {
		t.Errorf("failed=%v msg=%q, want a failure under CI", f.failed, f.msg)
	}
}

func TestAddrFindsServer(t *testing.T) {
	s := Start(t)
	t.Setenv(EnvAddr, s.Addr())
	if got := Addr(t); got != s.Addr() {
		t.Fatalf("Addr = %q, want %q", got, s.Addr())
	}
}

func TestServerKillRestart(t *testing.T) {
	s := Start(t, "--maxmemory", "16mb")
	addr, pid := s.Addr(), s.Pid()
	if !strings.HasPrefix(addr, "127.0.0.1:") || pid <= 0 {
		t.Fatalf("Addr %q, Pid %d", addr, pid)
	}
	if err := Ping(addr, time.Second); err != nil {
		t.Fatalf("PING after Start: %v", err)
	}

	s.Kill()
	if s.Pid() != 0 {
		t.Errorf("Pid after Kill = %d, want 0", s.Pid())
	}
	if alive(pid) {
		t.Errorf("process %d still exists after Kill", pid)
	}
	if err := Ping(addr, time.Second); err == nil {
		t.Fatal("PING answered after Kill")
	}
	s.Kill() // a second Kill does nothing

	s.Restart()
	if s.Addr() != addr {
		t.Errorf("Addr after Restart = %q, want %q", s.Addr(), addr)
	}
	if s.Pid() == pid || s.Pid() <= 0 {
		t.Errorf("Pid after Restart = %d (was %d)", s.Pid(), pid)
	}
	if err := Ping(addr, time.Second); err != nil {
		t.Fatalf("PING after Restart: %v", err)
	}
	s.Restart() // restarting a running server kills the old process first
	if err := Ping(addr, time.Second); err != nil {
		t.Fatalf("PING after second Restart: %v", err)
	}
}

// The server is killed when its test ends, and when the test failed too.
func TestCleanupKillsServer(t *testing.T) {
	for _, fail := range []bool{false, true} {
		var pid int
		f := run(t, func(tb testing.TB) {
			s := Start(tb)
			pid = s.Pid()
			if fail {
				tb.Fatalf("the test fails")
			}
		})
		if pid == 0 || !alive(pid) {
			t.Fatalf("fail=%v: server not running before cleanup (pid %d, msg %q)", fail, pid, f.msg)
		}
		f.runCleanups()
		if alive(pid) {
			t.Errorf("fail=%v: process %d still exists after the test's cleanup", fail, pid)
		}
	}
}

// A server that cannot start (a bad argument) fails the test with its log.
func TestStartReportsServerLog(t *testing.T) {
	t.Setenv(EnvCI, "")
	f := run(t, func(tb testing.TB) { Start(tb, "--no-such-option", "1") })
	f.runCleanups()
	if !f.failed || !strings.Contains(f.msg, "no-such-option") {
		t.Errorf("failed=%v msg=%q, want a failure quoting the server's log", f.failed, f.msg)
	}
}

func TestPingRefusesOtherAnswer(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	done := make(chan struct{})
	go func() {
		defer close(done)
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		c.Write([]byte("-NOAUTH Authentication required.\r\n"))
	}()
	err = Ping(l.Addr().String(), time.Second)
	<-done
	if err == nil || !strings.Contains(err.Error(), "NOAUTH") {
		t.Errorf("Ping = %v, want an error quoting the answer", err)
	}
}

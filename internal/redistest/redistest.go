// Package redistest gives tests a Redis to talk to: the shared local server
// (Addr) or a server the test owns and may kill and restart (Start). Main,
// the TestMain of a package that talks to Redis, keeps go-redis's own log
// lines out of a passing run's output: each test that captures them
// (CaptureLogs, Addr, Start) prints them only if it fails.
//
// Where no Redis can be had, a test is skipped with a message saying how to
// get one, except under CI (the environment variable CI is "true"), where it
// fails: CI must run every integration test.
//
// A Server started by Start is stopped by its process id when the test ends,
// passed or failed, so no redis-server outlives the test binary's tests. On
// Linux the server is also killed if the test binary itself dies.
package redistest

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Environment variables read by the package.
const (
	// EnvAddr overrides the address Addr checks (default DefaultAddr).
	EnvAddr = "STEADFAST_REDIS_ADDR"
	// EnvCI, when "true", turns every skip for want of Redis into a failure.
	EnvCI = "CI"
)

// DefaultAddr is the shared local Redis that Addr uses unless EnvAddr is set.
const DefaultAddr = "127.0.0.1:6379"

// StartHint is the command that starts a suitable local Redis.
const StartHint = "redis-server --save '' --appendonly no --daemonize yes"

// startTimeout bounds the wait for a started server to answer PING.
const startTimeout = 10 * time.Second

// Addr returns the address of a reachable Redis: EnvAddr's value, or
// DefaultAddr. When none answers PING, the test is skipped with a message
// saying how to start one, or fails when EnvCI is "true".
func Addr(tb testing.TB) string {
	tb.Helper()
	addr := os.Getenv(EnvAddr)
	if addr == "" {
		addr = DefaultAddr
	}
	if err := Ping(addr, time.Second); err != nil {
		unavailable(tb, fmt.Sprintf("no Redis answers at %s (%v); start one with `%s`, or set %s to the address of one",
			addr, err, StartHint, EnvAddr))
	}
	CaptureLogs(tb)
	return addr
}

// Ping sends PING to the Redis at addr over a new connection and reports an
// error unless it answers PONG within timeout. It speaks the protocol
// itself, with no client library.
func Ping(addr string, timeout time.Duration) error {
	line, err := ping(addr, timeout)
	if err == nil && line != "+PONG" {
		err = fmt.Errorf("redistest: PING answered %q", line)
	}
	return err
}

// ping sends PING and returns the first line of the answer.
func ping(addr string, timeout time.Duration) (string, error) {
	c, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return "", err
	}
	defer c.Close()
	if err := c.SetDeadline(time.Now().Add(timeout)); err != nil {
		return "", err
	}
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return "", err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	return strings.TrimRight(line, "\r\n"), err
}

// serving reports whether the server at addr answers commands: PONG, or
// NOAUTH from a server started with --requirepass.
func serving(addr string, timeout time.Duration) error {
	line, err := ping(addr, timeout)
	if err == nil && line != "+PONG" && !strings.HasPrefix(line, "-NOAUTH") {
		err = fmt.Errorf("PING answered %q", line)
	}
	return err
}

// unavailable skips the test, or fails it under CI.
func unavailable(tb testing.TB, msg string) {
	tb.Helper()
	if os.Getenv(EnvCI) == "true" {
		tb.Fatalf("redistest: %s (%s=true: integration tests must not skip)", msg, EnvCI)
	}
	tb.Skipf("redistest: %s", msg)
}

// Server is a redis-server process owned by one test. Its methods are safe
// for concurrent use.
type Server struct {
	tb   testing.TB
	bin  string
	dir  string
	args []string
	addr string

	mu     sync.Mutex
	cmd    *exec.Cmd     // nil while not running
	exited chan struct{} // closed once cmd's process has been reaped
	starts int
}

// Start starts a redis-server on a free loopback port with no persistence
// (--port N --bind 127.0.0.1 --save "" --appendonly no, then args), waits
// until it answers PING (PONG, or NOAUTH when args set a password), and
// arranges for it to be killed when the test ends. When the redis-server
// binary is missing the test is skipped (failed under CI) with a message
// saying how to install it.
func Start(tb testing.TB, args ...string) *Server {
	tb.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		unavailable(tb, fmt.Sprintf("redis-server not found (%v); install it with `apt-get install -y redis-server`", err))
	}
	s := &Server{tb: tb, bin: bin, dir: tb.TempDir(), args: args}
	tb.Cleanup(s.Kill)
	var lastErr error
	for range 3 { // another process may take the free port first
		port, err := freePort()
		if err != nil {
			tb.Fatalf("redistest: no free port: %v", err)
		}
		s.addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		if lastErr = s.start(); lastErr == nil {
			logs.capture(tb, s.addr)
			return s
		}
	}
	tb.Fatalf("redistest: %v", lastErr)
	return nil
}

// Addr returns the server's address, "127.0.0.1:PORT". It stays the same
// across Restart.
func (s *Server) Addr() string { return s.addr }

// Pid returns the process id of the running server, or 0 after Kill.
func (s *Server) Pid() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return 0
	}
	return s.cmd.Process.Pid
}

// Kill kills the server with SIGKILL (no shutdown, no goodbye to clients) and
// waits for the process to end. It does nothing when the server is not
// running.
func (s *Server) Kill() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.kill()
}

// Restart starts the server again on the same port with the same arguments,
// killing it first if it runs, and waits until it answers PING. The test
// fails if it cannot.
func (s *Server) Restart() {
	s.tb.Helper()
	s.Kill()
	if err := s.start(); err != nil {
		s.tb.Fatalf("redistest: restart: %v", err)
	}
}

func (s *Server) kill() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Kill() // fails only when it has exited already
	<-s.exited
	s.cmd, s.exited = nil, nil
}

// start starts the process on s.addr and waits for PING; on failure the
// process is gone and the error quotes the end of its log.
func (s *Server) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.starts++
	logPath := filepath.Join(s.dir, fmt.Sprintf("redis-%d.log", s.starts))
	logFile, err := os.Create(logPath)
	if err != nil {
		return err
	}
	defer logFile.Close() // the child has its own descriptor
	_, port, _ := net.SplitHostPort(s.addr)
	argv := append([]string{
		"--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", s.dir,
	}, s.args...)
	argv = append(argv, "--daemonize", "no") // a daemon would escape the pid we kill
	cmd := exec.Command(s.bin, argv...)
	cmd.Stdout = logFile // an *os.File: no copying goroutine
	cmd.Stderr = logFile
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan struct{})
	go func() { // ends when the process does: on its own, or by kill
		_ = cmd.Wait()
		close(exited)
	}()
	s.cmd, s.exited = cmd, exited
	deadline := time.Now().Add(startTimeout)
	for {
		err := serving(s.addr, 200*time.Millisecond)
		if err == nil {
			return nil
		}
		select {
		case <-exited:
			err = fmt.Errorf("exited (%v)", cmd.ProcessState)
		case <-time.After(20 * time.Millisecond):
			if time.Now().Before(deadline) {
				continue
			}
		}
		s.kill()
		return fmt.Errorf("redis-server on %s did not answer PING: %v; log: %s", s.addr, err, tail(logPath))
	}
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// tail returns the last lines of the log at path, for an error message.
func tail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	const max = 1 << 10
	if len(b) > max {
		b = b[len(b)-max:]
	}
	if len(b) == 0 {
		return "(empty)"
	}
	return string(b)
}

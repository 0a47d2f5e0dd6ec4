package monitoring

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// need returns the path of a program on PATH, or skips the test (fails it
// when CI=true) with a message saying how to install it.
func need(t *testing.T, program, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(program)
	if err == nil {
		return p
	}
	msg := fmt.Sprintf("no %s on PATH; install it with apt-get install -y %s", program, pkg)
	if os.Getenv("CI") == "true" {
		t.Fatal(msg + " (CI=true: this test must run)")
	}
	t.Skip(msg)
	return ""
}

// freeAddr returns a loopback address whose port was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// logBuffer collects a process's output for the test's log; exec copies
// into it from its own goroutine.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.b.Len() > 1<<20 { // bounded: keep the start, which says why it failed to start
		return len(p), nil
	}
	return l.b.Write(p)
}

// tail returns the last n lines.
func (l *logBuffer) tail(n int) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	lines := strings.Split(strings.TrimSpace(l.b.String()), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// proc is a process the test started. It is stopped by its pid when the
// test ends (and dies with the test binary on Linux).
type proc struct {
	name string
	cmd  *exec.Cmd
	log  *logBuffer
	done chan struct{}
	err  error // valid once done is closed
}

// start runs bin with args and stops it when the test ends: stop (a signal
// asking it to end) and, if it has not ended 10 s later, SIGKILL.
func start(t *testing.T, name string, stop os.Signal, bin string, args ...string) *proc {
	t.Helper()
	p := &proc{name: name, log: &logBuffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Stdout, p.cmd.Stderr = p.log, p.log
	p.cmd.SysProcAttr = dieWithParent()
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", name, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.end(stop)
		if t.Failed() {
			t.Logf("the end of %s's output:\n%s", name, p.log.tail(40))
		}
	})
	return p
}

// end stops the process with sig, then SIGKILL after 10 s, and waits.
func (p *proc) end(sig os.Signal) {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(sig)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// exited fails the test if the process has ended.
func (p *proc) exited(t *testing.T) {
	t.Helper()
	select {
	case <-p.done:
		t.Fatalf("%s exited: %v\n%s", p.name, p.err, p.log.tail(40))
	default:
	}
}

// redisServer is a redis-server on a fixed loopback port that the test
// kills and starts again.
type redisServer struct {
	t    *testing.T
	bin  string
	addr string
	p    *proc
}

func startRedis(t *testing.T) *redisServer {
	t.Helper()
	r := &redisServer{t: t, bin: need(t, "redis-server", "redis-server"), addr: freeAddr(t)}
	r.start()
	return r
}

func (r *redisServer) start() {
	r.t.Helper()
	_, port, _ := net.SplitHostPort(r.addr)
	r.p = start(r.t, "redis-server", syscall.SIGKILL, r.bin,
		"--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no")
	err := poll(20*time.Second, func() error { return redisPing(r.addr) })
	if err != nil {
		r.p.exited(r.t)
		r.t.Fatalf("redis-server on %s does not answer PING: %v", r.addr, err)
	}
}

// kill ends redis-server with SIGKILL: no goodbye to its clients.
func (r *redisServer) kill() { r.p.end(syscall.SIGKILL) }

// redisPing sends PING and wants +PONG.
func redisPing(addr string) error {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if !strings.HasPrefix(line, "+PONG") {
		return fmt.Errorf("PING answered %q", line)
	}
	return nil
}

// startExample builds examples/ticker and runs it publishing to redisAddr,
// serving /metrics on a free loopback port, whose address it returns once
// /healthz answers.
func startExample(t *testing.T, redisAddr string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "ticker")
	build := exec.Command("go", "build", "-o", bin, "./examples/ticker")
	build.Dir = filepath.Join("..", "..")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./examples/ticker: %v\n%s", err, out)
	}
	addr := freeAddr(t)
	// -duration bounds its life should the cleanup never run.
	p := start(t, "examples/ticker", os.Interrupt, bin,
		"-http", addr, "-redis", redisAddr, "-view", "0", "-duration", "5m")
	err := poll(30*time.Second, func() error {
		p.exited(t)
		resp, err := http.Get("http://" + addr + "/healthz")
		if err != nil {
			return err
		}
		return resp.Body.Close()
	})
	if err != nil {
		t.Fatalf("examples/ticker does not answer on %s: %v", addr, err)
	}
	return addr
}

// poll calls f every 200 ms until it returns nil, and returns f's last
// error if that takes longer than timeout. It waits in real time: it
// watches other processes (prometheus, redis-server, the example).
func poll(timeout time.Duration, f func() error) error {
	deadline := time.Now().Add(timeout)
	for {
		err := f()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("still after %v: %w", timeout, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

var errNotYet = errors.New("not yet")

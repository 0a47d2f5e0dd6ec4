package kite

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// fakeKite is an in-test Kite WebSocket server. Each accepted connection is
// handed to the test on accepted; the messages the client sends arrive on
// the connection's msgs. refuse, if set, may refuse a handshake with an
// HTTP status.
type fakeKite struct {
	accepted chan *serverConn

	mu         sync.Mutex
	handshakes []handshake
	refuse     func(n int, token string) int // n counts handshakes from 0
}

type handshake struct {
	at     time.Time
	apiKey string
	token  string
	status int
}

type serverConn struct {
	ws   *websocket.Conn
	msgs chan string
	done chan struct{} // closed when the client's side is gone
}

func newFakeKite() *fakeKite { return &fakeKite{accepted: make(chan *serverConn, 16)} }

func (f *fakeKite) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f.mu.Lock()
	n := len(f.handshakes)
	h := handshake{at: time.Now(), apiKey: q.Get("api_key"), token: q.Get("access_token")}
	if f.refuse != nil {
		h.status = f.refuse(n, h.token)
	}
	f.handshakes = append(f.handshakes, h)
	f.mu.Unlock()
	if h.status != 0 {
		http.Error(w, "refused", h.status)
		return
	}
	ws, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	sc := &serverConn{ws: ws, msgs: make(chan string, 1024), done: make(chan struct{})}
	f.accepted <- sc
	defer close(sc.done)
	for {
		typ, b, err := ws.Read(context.Background())
		if err != nil {
			ws.CloseNow()
			return
		}
		if typ == websocket.MessageText {
			sc.msgs <- string(b)
		}
	}
}

func (f *fakeKite) shakes() []handshake {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]handshake(nil), f.handshakes...)
}

// send writes a binary frame, ignoring a closed connection.
func (sc *serverConn) send(b []byte) {
	_ = sc.ws.Write(context.Background(), websocket.MessageBinary, b)
}

func (sc *serverConn) sendText(s string) {
	_ = sc.ws.Write(context.Background(), websocket.MessageText, []byte(s))
}

// next returns the next message the client sent.
func (sc *serverConn) next(t testing.TB) string {
	t.Helper()
	select {
	case m := <-sc.msgs:
		return m
	case <-time.After(10 * time.Second):
		t.Fatal("no message from the client")
		return ""
	}
}

// loopback serves f over TCP on 127.0.0.1 and returns its ws:// URL.
func loopback(t *testing.T, f *fakeKite) string {
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return "ws" + strings.TrimPrefix(srv.URL, "http")
}

// pipeListener is a net.Listener of in-memory connections, so that a
// client and server run inside a synctest bubble.
type pipeListener struct {
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

func newPipeListener() *pipeListener {
	return &pipeListener{conns: make(chan net.Conn), done: make(chan struct{})}
}

func (l *pipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *pipeListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

func (l *pipeListener) Addr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1} }

// dial is a Config.Dial that connects to the listener.
func (l *pipeListener) dial(ctx context.Context, _, _ string) (net.Conn, error) {
	c, s := net.Pipe()
	select {
	case l.conns <- s:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// inMemory serves f over pipes; call it inside a synctest bubble. The
// returned stop must run before the bubble ends.
func inMemory(f *fakeKite) (dial func(context.Context, string, string) (net.Conn, error), stop func()) {
	l := newPipeListener()
	srv := &http.Server{Handler: f}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(l)
	}()
	return l.dial, func() {
		_ = srv.Close()
		<-done
	}
}

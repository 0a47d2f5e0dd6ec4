package chainpage_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/steadfast-go/steadfast/internal/logtest"
	"github.com/steadfast-go/steadfast/ticker"
	"github.com/steadfast-go/steadfast/ticker/chainpage"
)

// serveFrom runs one stream of h for a request from remote (an IP:port)
// and returns its writer, a cancel that ends the request, and a channel
// closed when ServeHTTP returns.
func serveFrom(h http.Handler, remote string, gate chan struct{}) (*memWriter, context.CancelFunc, <-chan struct{}) {
	ctx, cancel := context.WithCancel(context.Background())
	w := newMemWriter(ctx)
	w.gate = gate
	r := httptest.NewRequestWithContext(ctx, http.MethodGet, "/events", nil)
	r.RemoteAddr = remote
	done := make(chan struct{})
	go func() {
		defer close(done)
		h.ServeHTTP(w, r)
	}()
	return w, cancel, done
}

// TestTinyIntervalsRefused: FrameInterval and HealthInterval of 250 (ns)
// passed New and sent 249,989 frames in 2 s; durations below their floor
// are refused, naming the field and the floor.
func TestTinyIntervalsRefused(t *testing.T) {
	eng := newFakeEngine()
	for _, tc := range []struct {
		cfg  chainpage.Config
		want string
	}{
		{chainpage.Config{Engine: eng, FrameInterval: 250}, "chainpage: Config.FrameInterval (250ns) is below its floor of 10ms"},
		{chainpage.Config{Engine: eng, HealthInterval: 250}, "chainpage: Config.HealthInterval (250ns) is below its floor of 100ms"},
		{chainpage.Config{Engine: eng, WriteTimeout: 5}, "chainpage: Config.WriteTimeout (5ns) is below its floor of 100ms"},
		{chainpage.Config{Engine: eng, MaxStreamAge: time.Second}, "chainpage: Config.MaxStreamAge (1s) is below its floor of 10s"},
		{chainpage.Config{Engine: eng, MaxStreamsPerClient: -1}, "chainpage: Config.MaxStreamsPerClient must not be negative, got -1"},
		{chainpage.Config{Engine: eng, MaxStreams: 2, MaxStreamsPerClient: 3}, "chainpage: Config.MaxStreamsPerClient (3) is above Config.MaxStreams (2)"},
	} {
		_, err := chainpage.New(tc.cfg)
		require.EqualError(t, err, tc.want)
	}
	_, err := chainpage.New(chainpage.Config{Engine: eng, FrameInterval: chainpage.MinFrameInterval,
		HealthInterval: chainpage.MinHealthInterval, WriteTimeout: -1, MaxStreamAge: -1})
	require.NoError(t, err, "the floors themselves, and negatives meaning none")
}

// TestOneClientCannotTakeEveryStream: one address opening 32 streams that
// it reads slowly took all of MaxStreams, and every other viewer got 503.
// Now an address holds at most MaxStreamsPerClient streams (429 beyond),
// and another address still gets in.
func TestOneClientCannotTakeEveryStream(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		eng := newFakeEngine(chain()...)
		h, err := chainpage.New(chainpage.Config{Engine: eng})
		require.NoError(t, err)
		type stream struct {
			w      *memWriter
			cancel context.CancelFunc
			done   <-chan struct{}
		}
		var hog []stream
		for i := range chainpage.DefaultMaxStreams {
			w, cancel, done := serveFrom(h, fmt.Sprintf("127.0.0.2:%d", 1000+i), make(chan struct{})) // never reads
			hog = append(hog, stream{w, cancel, done})
		}
		synctest.Wait()
		w, cancel, done := serveFrom(h, "127.0.0.3:1000", nil)
		synctest.Wait()
		require.Equal(t, http.StatusOK, w.code(), "another viewer gets a stream")
		require.Equal(t, "snapshot", w.events()[0].name)
		cancel()
		<-done

		refused := 0
		for _, s := range hog {
			if s.w.code() == http.StatusTooManyRequests {
				refused++
				require.NotEmpty(t, s.w.header.Get("Retry-After"))
			}
		}
		require.Equal(t, chainpage.DefaultMaxStreams-chainpage.DefaultMaxStreamsPerClient, refused)
		st := h.Stats()
		require.Equal(t, uint64(refused), st.RefusedPerClient)
		require.Equal(t, chainpage.DefaultMaxStreamsPerClient, st.Open)

		// IPv6 clients are told apart by their /64: one host's many
		// addresses count as one client.
		for i := range chainpage.DefaultMaxStreamsPerClient + 1 {
			w, cancel, done := serveFrom(h, fmt.Sprintf("[2001:db8:1:2::%x]:443", i+1), nil)
			synctest.Wait()
			if i < chainpage.DefaultMaxStreamsPerClient {
				require.Equal(t, http.StatusOK, w.code())
			} else {
				require.Equal(t, http.StatusTooManyRequests, w.code())
			}
			defer func() { cancel(); <-done }()
		}
		for _, s := range hog {
			s.cancel()
			<-s.done
		}
	})
}

// TestStreamLifetime: a stream ends after MaxStreamAge (less up to a
// tenth, so that streams opened together do not all reconnect at once),
// freeing its slot; the browser's EventSource reconnects by itself.
func TestStreamLifetime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		eng := newFakeEngine(chain()...)
		h, err := chainpage.New(chainpage.Config{Engine: eng, MaxStreamAge: time.Minute})
		require.NoError(t, err)
		start := time.Now()
		_, cancel, done := serveFrom(h, "127.0.0.2:1", nil)
		defer cancel()
		<-done
		took := time.Since(start)
		require.LessOrEqual(t, took, time.Minute)
		require.GreaterOrEqual(t, took, 54*time.Second)
		st := h.Stats()
		require.Equal(t, uint64(1), st.Expired)
		require.Equal(t, 0, st.Open)
	})
}

// TestUnencodableValuesSkipped: a tick whose price passed validation but
// cannot be encoded (1e307 becomes +Inf in the page's rounding) made every
// /events response empty, for every viewer; a Health that cannot be
// marshalled (a time in year 10000) did too. Now the value is skipped and
// counted, the failure logged, and the stream goes on.
func TestUnencodableValuesSkipped(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		eng := newFakeEngine(chain()...)
		eng.set(1, 24000)
		eng.set(2, 1e307)
		eng.set(3, 90)
		eng.setHealth(ticker.Health{Status: "ok", LastTick: map[string]time.Time{"NIFTY": time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}})
		var logs logtest.Buffer
		h, err := chainpage.New(chainpage.Config{Engine: eng, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
		require.NoError(t, err)
		w, cancel, done := serveFrom(h, "127.0.0.2:1", nil)
		synctest.Wait()
		ev := w.events()
		require.Len(t, ev, 1)
		snap := decode[snapshot](t, ev[0])
		require.Equal(t, []wireTick{{1, 24000, true}, {3, 90, true}}, snap.Ticks, "the unencodable tick left out")
		require.Equal(t, "unknown", snap.Health.Status)
		require.Contains(t, strings.Join(snap.Health.Reasons, " "), "health cannot be encoded")

		eng.set(3, 91)
		eng.setHealth(ticker.Health{Status: "ok"})
		time.Sleep(chainpage.DefaultHealthInterval)
		synctest.Wait()
		ev = w.events()
		require.Equal(t, "ticks", ev[1].name)
		require.Equal(t, []wireTick{{3, 91, true}}, decode[delta](t, ev[1]).Ticks)
		require.Equal(t, "health", ev[len(ev)-1].name)
		cancel()
		<-done
		require.GreaterOrEqual(t, h.Stats().Unencodable, uint64(2))
		require.Contains(t, logs.String(), "value cannot be encoded")
		require.Contains(t, logs.String(), "LastPrice")
		require.Contains(t, logs.String(), "component=chainpage")
	})
}

// TestCloseEndsStreams: an open page held graceful HTTP shutdown until its
// deadline. Close (registered with http.Server.RegisterOnShutdown) ends the
// streams, so Shutdown returns at once; later stream requests get 503.
func TestCloseEndsStreams(t *testing.T) {
	eng := newFakeEngine(chain()...)
	h, err := chainpage.New(chainpage.Config{Engine: eng})
	require.NoError(t, err)
	srv := httptest.NewUnstartedServer(h)
	srv.Config.RegisterOnShutdown(h.Close)
	srv.Start()
	defer srv.Close()

	resp, r, closeStream := open(t, srv.URL)
	defer closeStream()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	_, err = readEvent(r)
	require.NoError(t, err)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	require.NoError(t, srv.Config.Shutdown(ctx), "Shutdown within its deadline")
	t.Logf("Shutdown took %v with a page open", time.Since(start))
	for err == nil { // the stream ends
		_, err = readEvent(r)
	}

	w := newMemWriter(context.Background())
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/events", nil))
	require.Equal(t, http.StatusServiceUnavailable, w.code())
	h.Close() // idempotent
}

package main

import (
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/steadfast-go/steadfast/ticker"
	"github.com/steadfast-go/steadfast/ticker/chainpage"
)

// serveHTTP serves, on addr, the live option chain at /, the metrics at
// /metrics, and the engine's health at /healthz and /livez.
func serveHTTP(addr string, eng *ticker.Engine, reg *prometheus.Registry, logger *slog.Logger) (*http.Server, error) {
	page, err := chainpage.New(chainpage.Config{Engine: eng, Name: "example", Registerer: reg, Logger: logger})
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Addr: ln.Addr().String(), Handler: newMux(page, eng.Health, reg, logger),
		ReadHeaderTimeout: 5 * time.Second}
	srv.RegisterOnShutdown(page.Close) // open pages end their streams, so Shutdown does not wait on them
	go func() { _ = srv.Serve(ln) }()
	return srv, nil
}

// newMux routes the program's pages. health is the engine's Health.
func newMux(page http.Handler, health func() ticker.Health, reg *prometheus.Registry, logger *slog.Logger) *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("GET /", page) // the live option-chain page and its event stream
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		h := health()
		writeHealth(w, healthzCode(h.Status), h, logger)
	})
	mux.HandleFunc("GET /livez", func(w http.ResponseWriter, _ *http.Request) {
		h := health()
		writeHealth(w, livezCode(h.Status), h, logger)
	})
	return mux
}

// healthzCode is /healthz's status code, for a readiness probe or a load
// balancer: 200 while the engine is ok, 503 while it is degraded (an open
// breaker during a Redis outage, say) or stopped.
func healthzCode(status string) int {
	if status == "ok" {
		return http.StatusOK
	}
	return http.StatusServiceUnavailable
}

// livezCode is /livez's status code, for a liveness probe: 200 unless the
// engine has stopped. A degraded engine is alive and recovers by itself, so
// its orchestrator must not restart it.
func livezCode(status string) int {
	if status == "stopped" {
		return http.StatusServiceUnavailable
	}
	return http.StatusOK
}

// writeHealth writes h as JSON with the status code; the body says why.
// Health that cannot be encoded is a 500 that says so, never an empty
// answer.
func writeHealth(w http.ResponseWriter, code int, h ticker.Health, logger *slog.Logger) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	b, err := json.Marshal(h)
	if err != nil {
		logger.Error("health cannot be encoded", "error", err.Error())
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = io.WriteString(w, `{"status":"unknown","reasons":["health cannot be encoded"]}`+"\n")
		return
	}
	w.WriteHeader(code)
	_, _ = w.Write(append(b, '\n'))
}

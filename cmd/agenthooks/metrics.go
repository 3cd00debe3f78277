package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/agenthooks/agenthooks"
)

// processName names this process in the heartbeats table: host and pid.
func processName() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown"
	}
	return fmt.Sprintf("%s:%d", host, os.Getpid())
}

// errDraining is readiness's answer once SIGTERM came.
var errDraining = errors.New("shutting down")

// ready is the readiness check: the process is not shutting down and the
// store takes a write (a heartbeat upsert, durable like every write), not
// only a read, so that a full disk or a read-only database shows.
func (a *app) ready(ctx context.Context) error {
	if a.draining.Load() {
		return errDraining
	}
	return a.store.Write(ctx, func(tx agenthooks.Tx) error { return tx.Heartbeat(a.process, a.cfg.Role, tx.Now()) })
}

// opsHandler serves a worker's listener: /healthz, /readyz and /metrics
// only, with the API's answers.
func (a *app) opsHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeStatus(w, http.StatusOK, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := a.ready(ctx); err != nil {
			writeStatus(w, http.StatusServiceUnavailable, "unavailable")
			return
		}
		writeStatus(w, http.StatusOK, "ok")
	})
	mux.Handle("GET /metrics", a.metrics.Handler())
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"detail":"Not Found: a worker serves /healthz, /readyz and /metrics only"}` + "\n"))
	})
	return mux
}

func writeStatus(w http.ResponseWriter, code int, status string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]string{"status": status})
}

// registerPoolMetrics exposes the pool's own totals beside the metrics
// package's series.
func (a *app) registerPoolMetrics() {
	pool := a.pool
	a.metrics.Registry().MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "agenthooks_deliveries_succeeded_total",
			Help: "Deliveries that succeeded in this process.",
		}, func() float64 { return float64(pool.Stats().Delivered) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "agenthooks_deliveries_failed_total",
			Help: "Deliveries that ended failed in this process.",
		}, func() float64 { return float64(pool.Stats().Failed) }),
	)
}

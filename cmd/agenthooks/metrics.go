package main

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/agenthooks/agenthooks"
)

// metricsHandler serves Prometheus' text format: this process's delivery
// counters and the store's deliveries by status (shared by every process).
func (a *app) metricsHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		defer cancel()
		var counts map[string]int
		err := a.store.Read(ctx, func(tx agenthooks.Tx) error {
			var err error
			counts, err = tx.CountDeliveries()
			return err
		})
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		fmt.Fprintf(w, "# HELP agenthooks_build_info The running version.\n# TYPE agenthooks_build_info gauge\n")
		fmt.Fprintf(w, "agenthooks_build_info{version=%q,store=%q,role=%q} 1\n", version(), a.store.Engine(), a.cfg.Role)
		if a.pool != nil {
			st := a.pool.Stats()
			for _, m := range []struct {
				name, help string
				v          int64
			}{
				{"agenthooks_delivery_attempts_total", "HTTP attempts made by this process.", st.Attempts},
				{"agenthooks_deliveries_succeeded_total", "Deliveries that succeeded in this process.", st.Delivered},
				{"agenthooks_deliveries_failed_total", "Deliveries that ended failed in this process.", st.Failed},
			} {
				fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s counter\n%s %d\n", m.name, m.help, m.name, m.name, m.v)
			}
		}
		fmt.Fprintf(w, "# HELP agenthooks_up Whether the store answered this scrape.\n# TYPE agenthooks_up gauge\n")
		if err != nil {
			fmt.Fprintf(w, "agenthooks_up 0\n")
			return
		}
		fmt.Fprintf(w, "agenthooks_up 1\n")
		fmt.Fprintf(w, "# HELP agenthooks_deliveries Deliveries in the store by status.\n# TYPE agenthooks_deliveries gauge\n")
		for _, s := range []string{agenthooks.DeliveryPending, agenthooks.DeliverySucceeded, agenthooks.DeliveryFailed} {
			fmt.Fprintf(w, "agenthooks_deliveries{status=%q} %d\n", s, counts[s])
		}
	})
}

package main

import (
	"net/http"
	"strings"
	"time"

	"github.com/agenthooks/agenthooks/dashboard"
)

// newDashboard builds the dashboard over the app's service.
func (a *app) newDashboard() (*dashboard.Dashboard, error) {
	return dashboard.New(dashboard.Options{
		Service:          a.svc,
		Logger:           a.log,
		PublicURL:        a.cfg.PublicURL,
		FrameAncestors:   a.cfg.FrameAncestors,
		TrustedProxies:   a.cfg.TrustedProxies,
		SessionRateLimit: a.cfg.DashRateLimit,
		TestWait:         a.cfg.DeliveryTimeout + 5*time.Second,
		DisableAfter:     a.cfg.DisableAfter,
		UserAgent:        "agenthooks/" + version(),
	})
}

// routeHandler sends the API's paths (/api/..., /healthz, /readyz, /metrics)
// to the API and every other path to the dashboard.
func routeHandler(api, dash http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		if p == "/api" || strings.HasPrefix(p, "/api/") || p == "/healthz" || p == "/readyz" || p == "/metrics" {
			api.ServeHTTP(w, r)
			return
		}
		dash.ServeHTTP(w, r)
	})
}

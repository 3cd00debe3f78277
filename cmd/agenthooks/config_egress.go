package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/agenthooks/agenthooks/tracing"
	"net/http"

	"fmt"
	"github.com/agenthooks/agenthooks"
	"github.com/agenthooks/agenthooks/delivery"
	"net/url"
	"os"
	"strconv"
	"strings"

	"github.com/agenthooks/agenthooks/egress"
)

// egressSettings are the settings of issue 22 (egress proxy, traceparent),
// appended to settings in init so that they stay in a block of their own.
var egressSettings = []setting{
	{"AGENTHOOKS_EGRESS_PROXY", "", "forward proxy (http:// or https://) every delivery goes through (empty: none)", func(c *Config, v string) error {
		if _, err := egress.ParseProxy(v, ""); err != nil {
			return err
		}
		c.egressProxyRaw = strings.TrimSpace(v)
		return nil
	}},
	{"AGENTHOOKS_EGRESS_PROXY_FILE", "", "file holding the proxy's user:password (or its whole URL)", func(c *Config, v string) error {
		c.egressProxyFile = strings.TrimSpace(v)
		return nil
	}},
	{"AGENTHOOKS_TRACEPARENT", "false", "send a W3C traceparent header with each delivery", func(c *Config, v string) error {
		b, err := strconv.ParseBool(strings.TrimSpace(v))
		if err != nil {
			return fmt.Errorf("must be true or false")
		}
		c.Traceparent = b
		return nil
	}},
}

func init() {
	settings = append(settings, egressSettings...)
	settingKinds["AGENTHOOKS_EGRESS_PROXY"] = "url"
	settingKinds["AGENTHOOKS_EGRESS_PROXY_FILE"] = "path"
	settingKinds["AGENTHOOKS_TRACEPARENT"] = "bool"
	secretSettings["AGENTHOOKS_EGRESS_PROXY"] = true // its URL may carry the proxy's password
}

// resolveEgressProxy builds c.EgressProxy from AGENTHOOKS_EGRESS_PROXY and
// the credentials file, once every setting is read. The file is read here,
// not by the generic _FILE rule, because it may hold only the credentials
// beside a URL given in the variable.
func resolveEgressProxy(c *Config) error {
	creds := ""
	if c.egressProxyFile != "" {
		b, err := os.ReadFile(c.egressProxyFile)
		if err != nil {
			return fmt.Errorf("AGENTHOOKS_EGRESS_PROXY_FILE: %w", err)
		}
		creds = string(b)
	}
	u, err := egress.ParseProxy(c.egressProxyRaw, creds)
	if err != nil {
		return fmt.Errorf("invalid AGENTHOOKS_EGRESS_PROXY (with AGENTHOOKS_EGRESS_PROXY_FILE): %w", err)
	}
	c.EgressProxy = u
	return nil
}

// proxyForLog names the proxy without its credentials.
func proxyForLog(u *url.URL) string {
	return u.Scheme + "://" + u.Host
}

// webhookClients is the pool's ClientFor: a bounded cache of clients for
// webhooks with TLS settings of their own, built like the shared client.
func webhookClients(o egress.Options) delivery.ClientForFunc {
	cs := egress.NewClients(o, egress.DefaultMaxClients)
	return func(w *agenthooks.Webhook) (*http.Client, error) {
		return cs.Client(w.ID, egress.TLS{ClientCertificate: w.TLS.ClientCertificate, ClientKey: w.TLS.ClientKey, CACertificates: w.TLS.CACertificates})
	}
}

// startTracing starts OpenTelemetry traces when the OTEL_* variables ask
// for them (tracing.Enabled), else returns nil (and nothing is traced).
func startTracing(ctx context.Context, cfg *Config, log *slog.Logger) (*tracing.Tracing, error) {
	getenv := cfg.getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	t, err := tracing.New(ctx, tracing.Options{Getenv: getenv, Role: cfg.Role, Version: version(), Traceparent: cfg.Traceparent})
	if err != nil {
		return nil, fmt.Errorf("OpenTelemetry (OTEL_*): %w", err)
	}
	if t != nil {
		log.Info("OpenTelemetry traces on (OTEL_EXPORTER_OTLP_*)")
	}
	return t, nil
}

// stopTracing flushes the spans still batched.
func (a *app) stopTracing() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := a.tracing.Shutdown(ctx); err != nil {
		a.log.Warn("flush traces", slog.Any("error", err))
	}
}

// withEnv is getenv with name set to value (bench's --egress-proxy).
func withEnv(getenv func(string) string, name, value string) func(string) string {
	return func(k string) string {
		if k == name {
			return value
		}
		return getenv(k)
	}
}

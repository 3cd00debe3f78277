package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/agenthooks/agenthooks"
	"github.com/agenthooks/agenthooks/delivery"
	"github.com/agenthooks/agenthooks/destination"
	"github.com/agenthooks/agenthooks/egress"
	"github.com/agenthooks/agenthooks/httpapi"
	"github.com/agenthooks/agenthooks/metrics"
	"github.com/agenthooks/agenthooks/service"
	"github.com/agenthooks/agenthooks/tracing"
)

func newLogger(cfg *Config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// serveHelp is serve's --help.
var serveHelp = help{"agenthooks serve [--role all|api|worker] [flags]",
	`Runs the API, the dashboard and the delivery workers (--role api or worker
splits them, on PostgreSQL). On an empty database it creates a first account
and prints it once on stdout, key included. Each flag also reads the
AGENTHOOKS_* variable it names; a flag wins over its variable.`}

// serveCmd runs agenthooks until ctx ends. It exits 1 when the server cannot
// start or its HTTP server fails, 0 after a clean shutdown.
func serveCmd(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	fs := newFlagSet("serve", stderr)
	load := configFlags(fs, getenv)
	if code, done := parseFlags(fs, args, serveHelp, stdout, stderr); done {
		return code
	}
	cfg, err := load()
	if err != nil {
		fmt.Fprintf(stderr, "agenthooks: %v\n", err)
		return 2
	}
	log := newLogger(cfg, stderr)
	a, err := newApp(ctx, cfg, log, stdout)
	if err != nil {
		fmt.Fprintf(stderr, "agenthooks: %v\n", err)
		return 1
	}
	if len(cfg.EncryptionKeys) == 0 {
		log.Warn("webhook secrets are stored unencrypted: set AGENTHOOKS_ENCRYPTION_KEY to encrypt them at rest (docs/security.md)")
	}
	a.start()
	return a.run(ctx)
}

// run waits until ctx ends or the HTTP server fails, stops the app, and
// returns the exit code: 1 when the server failed.
func (a *app) run(ctx context.Context) int {
	code := 0
	select {
	case <-ctx.Done():
		if errors.Is(context.Cause(ctx), errInterrupted) {
			// Ctrl-C: no load balancer to wait for; deliveries in flight
			// still finish in stop, so an idle serve exits at once.
			a.draining.Store(true)
			a.log.Info("shutting down (Ctrl-C): no readiness grace")
			break
		}
		// Readiness says no first, so that load balancers stop sending
		// traffic while the API still serves what they already send.
		if a.drains() {
			a.log.Info("shutting down: /readyz answers 503 while the API drains", slog.Duration("grace", a.cfg.ShutdownGrace))
		} else {
			a.log.Info("shutting down") // no grace to wait: a worker, or AGENTHOOKS_SHUTDOWN_GRACE=0s
		}
		if err := a.drain(); err != nil {
			a.log.Error("http server failed", slog.Any("error", err))
			code = 1
		}
	case err := <-a.serveErr:
		a.log.Error("http server failed", slog.Any("error", err))
		code = 1
	}
	a.stop()
	a.log.Info("stopped")
	return code
}

// app is a running agenthooks: store, API, workers and sweeps.
type app struct {
	cfg   *Config
	log   *slog.Logger
	store agenthooks.Store
	svc   *service.Service
	api   *httpapi.Server
	pool  *delivery.Pool
	// senders publishes to broker destinations (destination package).
	senders *destination.Senders
	srv     *http.Server
	ln      net.Listener

	serveErr  chan error
	sweepStop chan struct{}
	sweeps    sync.WaitGroup

	metrics  *metrics.Metrics
	unlock   func() error // releases the SQLite database's lock (nil on PostgreSQL)
	process  string       // this process in the heartbeats table
	draining atomic.Bool  // set on SIGTERM: /readyz answers 503

	tracing *tracing.Tracing // nil when OTEL_* leave traces off (cmd/agenthooks/config_egress.go)
}

// newApp binds the listener, takes the SQLite file's lock, opens the store
// and creates the first account on an empty database (printing it on
// stdout), in that order, so that every start-up error comes back here,
// before anything runs: a port that is taken stops serve before it creates an
// account whose key would be lost, and a second serve on an SQLite file stops
// before it writes anything to it.
func newApp(ctx context.Context, cfg *Config, log *slog.Logger, stdout io.Writer) (_ *app, err error) {
	var ln net.Listener
	var store agenthooks.Store
	var unlock func() error
	defer func() {
		if err == nil {
			return
		}
		if ln != nil {
			ln.Close()
		}
		if store != nil {
			store.Close()
		}
		if unlock != nil {
			_ = unlock()
		}
	}()
	path, isSQLite := sqlitePath(cfg.DatabaseURL)
	if isSQLite && cfg.Role != "all" {
		return nil, errors.New("--role api and --role worker need PostgreSQL: an embedded SQLite database is used by one process; run 'serve' without --role, or set AGENTHOOKS_DATABASE_URL to a postgres:// URL")
	}
	// Every role listens: a worker for /healthz, /readyz and /metrics only,
	// so that a dead or stuck worker is seen.
	if ln, err = net.Listen("tcp", cfg.Addr); err != nil {
		return nil, fmt.Errorf("listen on %s (AGENTHOOKS_ADDR): %w", cfg.Addr, err)
	}
	if isSQLite {
		// Before anything is written (migrations, released claims).
		if unlock, err = lockSQLite(path); err != nil {
			return nil, err
		}
	}
	if store, err = openStoreKeys(ctx, cfg.DatabaseURL, log, true, cfg.EncryptionKeys); err != nil {
		return nil, err
	}
	policy := egress.Policy{AllowPrivate: cfg.AllowPrivateEndpoints}
	svc := service.New(store, policy, log)
	svc.MaxWebhooks = cfg.MaxWebhooks
	a := &app{cfg: cfg, log: log, store: store, svc: svc, serveErr: make(chan error, 1), sweepStop: make(chan struct{}),
		ln: ln, unlock: unlock, process: processName()}
	a.metrics = metrics.New(metrics.Options{Store: store, Version: version(), Role: cfg.Role, Logger: log})
	if a.tracing, err = startTracing(ctx, cfg, log); err != nil {
		return nil, err
	}
	if tr := a.tracing.Tracer(); tr != nil {
		svc.Tracer = tr
	}
	svc.Events = a.metrics
	var handler http.Handler
	if cfg.Role == "worker" {
		handler = a.opsHandler()
	} else {
		first, err := svc.EnsureFirstAccount(ctx)
		if err != nil {
			return nil, fmt.Errorf("create first account: %w", err)
		}
		if first != nil {
			printJSON(stdout, first)
			log.Info("created the first account; its API key is printed once on stdout", slog.String("account_id", first.ID))
		}
		a.api = httpapi.New(svc, log)
		a.api.TestWait = cfg.DeliveryTimeout + 5*time.Second
		a.api.AdminKey = cfg.AdminKey
		a.api.SetRateLimit(cfg.APIRateLimit)
		if cfg.AdminKey != "" {
			log.Info("admin API on (/api/v1/admin, AGENTHOOKS_ADMIN_KEY)")
		}
		a.api.Ready = a.ready
		a.api.Metrics = a.metrics.Handler()
		if cfg.PublicURL == "http://"+cfg.Addr {
			// The default public URL names the listener's real address
			// (with port 0, the one it got).
			cfg.PublicURL = a.URL()
		}
		svc.PublicURL = cfg.PublicURL
		dash, err := a.newDashboard()
		if err != nil {
			return nil, err
		}
		handler = routeHandler(a.tracing.Handler(a.api), dash)
	}
	a.srv = &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	if cfg.Role != "api" {
		// Many webhooks can share one host (a CRM's, an automation
		// service's): keep a warm connection for every attempt that can be
		// in flight, or each one past the pool's size pays for a new
		// connection (and leaves a socket in TIME_WAIT).
		clientOptions := egress.Options{
			Policy:              policy,
			Timeout:             cfg.DeliveryTimeout,
			MaxIdleConnsPerHost: max(cfg.Workers, 64),
			UserAgent:           "agenthooks/" + version(),
			Proxy:               cfg.EgressProxy,
		}
		if cfg.EgressProxy != nil {
			log.Info("deliveries go through the egress proxy (AGENTHOOKS_EGRESS_PROXY)", slog.String("proxy", proxyForLog(cfg.EgressProxy)))
		}
		client := egress.NewClient(clientOptions)
		a.senders = destination.New(destination.Options{Policy: policy, Timeout: cfg.DeliveryTimeout, Log: log})
		a.pool = delivery.New(delivery.Options{
			Store:                 store,
			Client:                client,
			Senders:               a.senders,
			Policy:                &delivery.Policy{Schedule: cfg.RetrySchedule, Jitter: 0.2, RetryAfterMax: cfg.RetryAfterMax},
			Workers:               cfg.Workers,
			MaxInFlightPerWebhook: cfg.WebhookMaxInFlight,
			Timeout:               cfg.DeliveryTimeout,
			UserAgent:             "agenthooks/" + version(),
			Logger:                log,
			Notifier:              svc,
			Observer:              a.metrics,
			ClientFor:             webhookClients(clientOptions),
			Tracer:                a.tracing.AttemptTracer(),
		})
		// Deliveries stored by this process go straight to its workers
		// when one is free (service/handoff.go).
		svc.Handoff = a.pool
		a.registerPoolMetrics()
	}
	return a, nil
}

// URL returns the base URL of the process's listener.
func (a *app) URL() string {
	if a.ln == nil {
		return ""
	}
	return "http://" + a.ln.Addr().String()
}

func (a *app) start() {
	if a.pool != nil {
		if err := a.pool.Start(context.Background()); err != nil {
			a.log.Error("start delivery workers", slog.Any("error", err))
		}
		if a.cfg.IdleClose > 0 {
			a.sweep("idle close", sweepEvery(a.cfg.IdleClose), func(ctx context.Context) error {
				_, err := a.svc.CloseIdle(ctx, time.Now().Add(-a.cfg.IdleClose))
				return err
			})
		}
		a.sweep("auto-disable", sweepEvery(a.cfg.DisableAfter), func(ctx context.Context) error {
			_, err := a.svc.DisableFailing(ctx, time.Now().Add(-a.cfg.DisableAfter))
			return err
		})
		a.sweep("retention", sweepEvery(a.cfg.Retention), func(ctx context.Context) error {
			_, err := a.svc.DeleteExpired(ctx, time.Now().Add(-a.cfg.Retention))
			return err
		})
	}
	if a.api != nil {
		a.sweep("sessions", 10*time.Minute, func(ctx context.Context) error {
			_, err := a.svc.DeleteExpiredSessions(ctx)
			return err
		})
	}
	a.log.Info("agenthooks listening", slog.String("url", a.URL()), slog.String("store", a.store.Engine()), slog.String("role", a.cfg.Role), slog.String("version", version()))
	go func() {
		if err := a.srv.Serve(a.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			a.serveErr <- err
		}
	}()
}

// sweepEvery is how often a background sweep for a setting runs: at least
// every minute, and ten times per the setting's period.
func sweepEvery(d time.Duration) time.Duration {
	return max(min(time.Minute, d/10), 10*time.Millisecond)
}

func (a *app) sweep(name string, every time.Duration, fn func(ctx context.Context) error) {
	a.sweeps.Add(1)
	go func() {
		defer a.sweeps.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-a.sweepStop:
				return
			case <-t.C:
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				if err := fn(ctx); err != nil {
					a.log.Error("sweep failed", slog.String("sweep", name), slog.Any("error", err))
				}
				cancel()
			}
		}
	}()
}

// drain makes /readyz answer 503 for ShutdownGrace while the API keeps
// serving, so that load balancers take the process out before its listener
// closes. A worker, which no load balancer sends requests to, does not wait.
// It returns the HTTP server's error if the server fails meanwhile.
func (a *app) drain() error {
	a.draining.Store(true)
	if !a.drains() {
		return nil
	}
	t := time.NewTimer(a.cfg.ShutdownGrace)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case err := <-a.serveErr:
		return err
	}
}

// drains reports whether drain waits ShutdownGrace: a worker serves no API
// to drain.
func (a *app) drains() bool {
	return a.cfg.Role != "worker" && a.cfg.ShutdownGrace > 0
}

// stop shuts down in order: the listener stops taking connections and the
// API finishes its requests, the workers stop claiming and let attempts in
// flight finish (up to ShutdownTimeout, then cancel them: they are released
// for retry), the sweeps stop, the store closes, and the SQLite lock goes.
func (a *app) stop() {
	a.draining.Store(true)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	if err := a.srv.Shutdown(ctx); err != nil {
		a.log.Warn("http shutdown", slog.Any("error", err))
	}
	cancel()
	if a.pool != nil {
		ctx, cancel := context.WithTimeout(context.Background(), a.cfg.ShutdownTimeout)
		if err := a.pool.Stop(ctx); err != nil {
			a.log.Warn("delivery workers stopped with attempts cut short; they will be retried", slog.Any("error", err))
		}
		cancel()
		if err := a.senders.Close(); err != nil {
			a.log.Warn("close broker connections", slog.Any("error", err))
		}
	}
	close(a.sweepStop)
	a.sweeps.Wait()
	a.stopTracing()
	if err := a.store.Close(); err != nil {
		a.log.Warn("close store", slog.Any("error", err))
	}
	if a.unlock != nil {
		if err := a.unlock(); err != nil {
			a.log.Warn("release the SQLite lock", slog.Any("error", err))
		}
	}
}

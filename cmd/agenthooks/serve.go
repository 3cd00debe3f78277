package main

import (
	"context"
	"errors"
	"flag"
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
	"github.com/agenthooks/agenthooks/egress"
	"github.com/agenthooks/agenthooks/httpapi"
	"github.com/agenthooks/agenthooks/metrics"
	"github.com/agenthooks/agenthooks/service"
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

func serveCmd(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	load := configFlags(fs, getenv)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "agenthooks: serve takes no arguments, got %q\n", fs.Args())
		return 2
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
	a.start()
	code := 0
	select {
	case <-ctx.Done():
		// Readiness says no first, so that load balancers stop sending
		// traffic while the API still serves what they already send.
		log.Info("shutting down: /readyz answers 503 while the API drains", slog.Duration("grace", cfg.ShutdownGrace))
		if err := a.drain(); err != nil {
			log.Error("http server failed", slog.Any("error", err))
			code = 1
		}
	case err := <-a.serveErr:
		log.Error("http server failed", slog.Any("error", err))
		code = 1
	}
	a.stop()
	log.Info("stopped")
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
	srv   *http.Server
	ln    net.Listener

	serveErr  chan error
	sweepStop chan struct{}
	sweeps    sync.WaitGroup

	metrics  *metrics.Metrics
	unlock   func() error // releases the SQLite database's lock (nil on PostgreSQL)
	process  string       // this process in the heartbeats table
	draining atomic.Bool  // set on SIGTERM: /readyz answers 503
}

// newApp opens the store, creates the first account on an empty database
// (printing it on stdout), and binds the listener, so that every start-up
// error comes back here, before anything runs.
func newApp(ctx context.Context, cfg *Config, log *slog.Logger, stdout io.Writer) (a *app, err error) {
	var unlock func() error
	if path, ok := sqlitePath(cfg.DatabaseURL); ok {
		if cfg.Role != "all" {
			return nil, errors.New("--role api and --role worker need PostgreSQL: an embedded SQLite database is used by one process; run 'serve' without --role, or set AGENTHOOKS_DATABASE_URL=postgres://...")
		}
		// Before anything is written (migrations, released claims).
		if unlock, err = lockSQLite(path); err != nil {
			return nil, err
		}
		defer func() {
			if err != nil {
				_ = unlock()
			}
		}()
	}
	store, err := openStore(ctx, cfg.DatabaseURL, log)
	if err != nil {
		return nil, err
	}
	policy := egress.Policy{AllowPrivate: cfg.AllowPrivateEndpoints}
	svc := service.New(store, policy, log)
	a = &app{cfg: cfg, log: log, store: store, svc: svc, serveErr: make(chan error, 1), sweepStop: make(chan struct{}),
		unlock: unlock, process: processName()}
	a.metrics = metrics.New(metrics.Options{Store: store, Version: version(), Role: cfg.Role, Logger: log})
	svc.Events = a.metrics
	if store.Engine() == "sqlite" {
		// One process owns an SQLite database: no claim of a previous run can
		// still be alive, so its leases need not be waited out.
		var n int
		if err := store.Write(ctx, func(tx agenthooks.Tx) error { n, err = tx.ReleaseClaims(); return err }); err != nil {
			store.Close()
			return nil, fmt.Errorf("release claims: %w", err)
		}
		if n > 0 {
			log.Info("released deliveries claimed by a previous run", slog.Int("count", n))
		}
	}
	if cfg.Role != "worker" {
		first, err := svc.EnsureFirstAccount(ctx)
		if err != nil {
			store.Close()
			return nil, fmt.Errorf("create first account: %w", err)
		}
		if first != nil {
			printJSON(stdout, first)
			log.Info("created the first account; its API key is printed once on stdout", slog.String("account_id", first.ID))
		}
	}
	// Every role listens: a worker for /healthz, /readyz and /metrics only,
	// so that a dead or stuck worker is seen.
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		store.Close()
		return nil, fmt.Errorf("listen on %s (AGENTHOOKS_ADDR): %w", cfg.Addr, err)
	}
	a.ln = ln
	var handler http.Handler
	if cfg.Role != "worker" {
		a.api = httpapi.New(svc, log)
		a.api.TestWait = cfg.DeliveryTimeout + 5*time.Second
		a.api.Ready = a.ready
		a.api.Metrics = a.metrics.Handler()
		handler = a.api
	} else {
		handler = a.opsHandler()
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
		client := egress.NewClient(egress.Options{
			Policy:              policy,
			Timeout:             cfg.DeliveryTimeout,
			MaxIdleConnsPerHost: max(cfg.Workers, 64),
			UserAgent:           "agenthooks/" + version(),
		})
		a.pool = delivery.New(delivery.Options{
			Store:                 store,
			Client:                client,
			Policy:                &delivery.Policy{Schedule: cfg.RetrySchedule, Jitter: 0.2, RetryAfterMax: cfg.RetryAfterMax},
			Workers:               cfg.Workers,
			MaxInFlightPerWebhook: cfg.WebhookMaxInFlight,
			Timeout:               cfg.DeliveryTimeout,
			UserAgent:             "agenthooks/" + version(),
			Logger:                log,
			// Observer: a.metrics, once delivery.Options has it (attempts
			// by outcome, their duration, circuits open).
		})
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
		a.pool.Start()
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
	if a.cfg.Role == "worker" || a.cfg.ShutdownGrace <= 0 {
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
		a.pool.Stop(ctx)
		cancel()
	}
	close(a.sweepStop)
	a.sweeps.Wait()
	if err := a.store.Close(); err != nil {
		a.log.Warn("close store", slog.Any("error", err))
	}
	if a.unlock != nil {
		if err := a.unlock(); err != nil {
			a.log.Warn("release the SQLite lock", slog.Any("error", err))
		}
	}
}

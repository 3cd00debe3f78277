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
	"time"

	"github.com/agenthooks/agenthooks"
	"github.com/agenthooks/agenthooks/delivery"
	"github.com/agenthooks/agenthooks/egress"
	"github.com/agenthooks/agenthooks/httpapi"
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
	if len(cfg.EncryptionKeys) == 0 {
		log.Warn("webhook secrets are stored unencrypted: set AGENTHOOKS_ENCRYPTION_KEY to encrypt them at rest (docs/security.md)")
	}
	a.start()
	select {
	case <-ctx.Done():
		log.Info("shutting down")
	case err := <-a.serveErr:
		log.Error("http server failed", slog.Any("error", err))
	}
	a.stop()
	log.Info("stopped")
	return 0
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
}

// newApp opens the store, creates the first account on an empty database
// (printing it on stdout), and binds the listener, so that every start-up
// error comes back here, before anything runs.
func newApp(ctx context.Context, cfg *Config, log *slog.Logger, stdout io.Writer) (*app, error) {
	store, err := openStoreKeys(ctx, cfg.DatabaseURL, log, cfg.EncryptionKeys)
	if err != nil {
		return nil, err
	}
	if store.Engine() == "sqlite" && cfg.Role != "all" {
		store.Close()
		return nil, errors.New("--role api and --role worker need PostgreSQL: an embedded SQLite database is used by one process; run 'serve' without --role, or set AGENTHOOKS_DATABASE_URL=postgres://...")
	}
	policy := egress.Policy{AllowPrivate: cfg.AllowPrivateEndpoints}
	svc := service.New(store, policy, log)
	svc.MaxWebhooks = cfg.MaxWebhooks
	a := &app{cfg: cfg, log: log, store: store, svc: svc, serveErr: make(chan error, 1), sweepStop: make(chan struct{})}
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
		ln, err := net.Listen("tcp", cfg.Addr)
		if err != nil {
			store.Close()
			return nil, fmt.Errorf("listen on %s (AGENTHOOKS_ADDR): %w", cfg.Addr, err)
		}
		a.ln = ln
		a.api = httpapi.New(svc, log)
		a.api.TestWait = cfg.DeliveryTimeout + 5*time.Second
		a.api.SetRateLimit(cfg.APIRateLimit)
		a.api.Ready = func(ctx context.Context) error {
			return store.Read(ctx, func(tx agenthooks.Tx) error { _, err := tx.CountAccounts(); return err })
		}
		a.api.Metrics = a.metricsHandler()
		a.srv = &http.Server{
			Handler:           a.api,
			ReadHeaderTimeout: 10 * time.Second,
			ReadTimeout:       60 * time.Second,
			WriteTimeout:      60 * time.Second,
			IdleTimeout:       120 * time.Second,
			ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		}
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
		})
	}
	return a, nil
}

// URL returns the API's base URL ("" for a worker).
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
	if a.srv != nil {
		a.log.Info("agenthooks listening", slog.String("url", a.URL()), slog.String("store", a.store.Engine()), slog.String("role", a.cfg.Role), slog.String("version", version()))
		go func() {
			if err := a.srv.Serve(a.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				a.serveErr <- err
			}
		}()
	} else {
		a.log.Info("agenthooks worker running", slog.String("store", a.store.Engine()), slog.String("version", version()))
	}
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

// stop shuts down in order: the API stops accepting and finishes its
// requests, the workers stop claiming and let attempts in flight finish (up to
// ShutdownTimeout, then cancel them: they are released for retry), the sweeps
// stop, and the store closes.
func (a *app) stop() {
	if a.srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if err := a.srv.Shutdown(ctx); err != nil {
			a.log.Warn("http shutdown", slog.Any("error", err))
		}
		cancel()
	}
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
}

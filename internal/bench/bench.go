// Package bench is `agenthooks bench`, the throughput benchmark
// (docs/api.md gives its command line and output, docs/benchmarks.md its
// figures). It drives an agenthooks started in this process by the command
// (cmd/agenthooks/bench.go): bench.go runs the phases, load.go is the load
// generator, receiver.go the webhook endpoint, procfs.go reads the CPU and
// memory figures, profile.go writes the profiles.
package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"path/filepath"
	runtimepprof "runtime/pprof"
	"strconv"
	"sync"
	"time"

	"github.com/agenthooks/agenthooks"
	"github.com/agenthooks/agenthooks/internal/apiclient"
	"github.com/agenthooks/agenthooks/postgres"
	"github.com/agenthooks/agenthooks/service"
	"github.com/agenthooks/agenthooks/sqlite"
)

// Options are the bench's flags (docs/api.md lists the contract's; the
// others serve docs/benchmarks.md).
type Options struct {
	Events      int
	Webhooks    int
	DatabaseURL string        // "" is a fresh SQLite file in a temporary directory
	Rate        float64       // closes per second; 0 is full speed
	Timeout     time.Duration // the whole run; 0 is 2m + 2ms per event
	Clients     int           // concurrent API clients closing conversations
	RawPosts    int           // POSTs per raw run; 0 is min(max(events, 50000), 100000)

	ReceiverLatency time.Duration // the receiver waits this long before it answers
	BadEndpoints    int           // extra webhooks whose endpoint hangs until the timeout
	CPUProfile      string        // CPU profile of the end-to-end and drain phases
	MemProfile      string        // allocation profile of the whole run
	PprofAddr       string        // serve net/http/pprof here (loopback) while running
	Transform       string        // a template every webhook runs (transform.go); "" for none
	// Filter gives every webhook a filter that every bench event matches
	// (BenchFilter), so that the figures carry the cost of evaluating it.
	Filter bool

	// WorkerProcesses > 0 runs the server under test as the API only and
	// delivers with that many `serve --role worker` child processes of
	// Executable (PostgreSQL only); 0 runs the workers in this process.
	WorkerProcesses int
	Executable      string   // the agenthooks binary; "" is os.Executable()
	Environ         []string // the children's environment; nil is os.Environ()

	Getenv   func(string) string // the environment: the workers' AGENTHOOKS_* tuning
	Progress io.Writer           // progress lines; nil discards them
	Start    StartFunc           // starts the server under test
}

// Result is the JSON line the bench prints last; its keys are the ones
// docs/api.md lists.
type Result struct {
	Store          string  `json:"store"`
	Events         int     `json:"events"`
	Webhooks       int     `json:"webhooks"`
	RawPostsPerS   float64 `json:"raw_posts_per_s"`
	IngestPerS     float64 `json:"ingest_per_s"`
	DeliveriesPerS float64 `json:"deliveries_per_s"`
	DrainPerS      float64 `json:"drain_per_s"`
	Ratio          float64 `json:"ratio"`
	DrainRatio     float64 `json:"drain_ratio"`
	P50MS          float64 `json:"p50_ms"`
	P99MS          float64 `json:"p99_ms"`
	PeakRSSMB      float64 `json:"peak_rss_mb"`
	Transform      string  `json:"transform,omitempty"` // --transform

	// The CPU (user and system) spent per event of the end-to-end phase
	// and per delivery of the drain, in µs rounded to 0.1: this process's,
	// the local PostgreSQL server's (0 on SQLite), the worker processes'
	// (0 without), so that progress reads apart from the host's speed.
	CPUMicrosPerEvent            float64 `json:"cpu_us_per_event"`
	CPUMicrosPerDelivery         float64 `json:"cpu_us_per_delivery"`
	PostgresCPUMicrosPerEvent    float64 `json:"postgres_cpu_us_per_event"`
	PostgresCPUMicrosPerDelivery float64 `json:"postgres_cpu_us_per_delivery"`

	Filter                      bool    `json:"filter"`              // --filter
	WorkerProcesses             int     `json:"worker_processes"`    // --worker-processes
	WorkersPeakRSSMB            float64 `json:"workers_peak_rss_mb"` // the sum of the worker processes' peak RSS (0 without)
	WorkersCPUMicrosPerEvent    float64 `json:"workers_cpu_us_per_event"`
	WorkersCPUMicrosPerDelivery float64 `json:"workers_cpu_us_per_delivery"`
}

// Server is the agenthooks under test, running in this process.
type Server struct {
	URL                   string           // its base URL, e.g. http://127.0.0.1:40123
	APIKey, AccountID     string           // the first account it created
	Store                 agenthooks.Store // its store (the SQLite one reports its group commits)
	Service               *service.Service // to create conversations without timing them
	Delivery              Pauser           // its delivery workers (nil when it runs as the API only)
	Workers               int              // AGENTHOOKS_WORKERS in force
	MaxInFlightPerWebhook int              // AGENTHOOKS_WEBHOOK_MAX_IN_FLIGHT in force
	UserAgent             string           // the User-Agent of its deliveries
	Stop                  func()           // stops it
}

// Pauser pauses and resumes delivery (the drain phase accepts its events
// while delivery is paused).
type Pauser interface {
	Pause()
	Resume()
}

// StartFunc starts the server under test in role "all" (API and workers)
// or "api" (the API only), configured by getenv (AGENTHOOKS_* variables),
// logging to logs.
type StartFunc func(ctx context.Context, role string, getenv func(string) string, logs io.Writer) (*Server, error)

// Validate checks the options' ranges; the message names the flag.
func (o *Options) Validate() error {
	switch {
	case o.Events < 1 || o.Events > 10_000_000:
		return errors.New("--events must be from 1 to 10000000")
	case o.Webhooks < 1 || o.Webhooks > 10_000:
		return errors.New("--webhooks must be from 1 to 10000")
	case o.Rate < 0 || math.IsInf(o.Rate, 0) || math.IsNaN(o.Rate):
		return errors.New("--rate must be a positive number of events per second, or 0")
	case o.Clients < 1 || o.Clients > 4096:
		return errors.New("--clients must be from 1 to 4096")
	case o.BadEndpoints < 0 || o.BadEndpoints > 1000:
		return errors.New("--bad-endpoints must be from 0 to 1000")
	case o.Timeout < 0 || o.ReceiverLatency < 0 || o.RawPosts < 0:
		return errors.New("--timeout, --receiver-latency and --raw-posts cannot be negative")
	case o.DatabaseURL != "" && !postgres.IsURL(o.DatabaseURL):
		return errors.New("--database-url must be a postgres:// server (the default is a fresh SQLite file)")
	case o.PprofAddr != "" && !loopback(o.PprofAddr):
		return errors.New("--pprof must be a loopback address such as 127.0.0.1:6060")
	case o.WorkerProcesses < 0 || o.WorkerProcesses > 64:
		return errors.New("--worker-processes must be from 0 to 64")
	case o.Transform != "" && !knownTemplate(o.Transform):
		return errors.New("--transform must name a template: slack, discord, teams or google_chat")
	case o.WorkerProcesses > 0 && o.DatabaseURL == "":
		return errors.New("--worker-processes needs --database-url postgres://...: worker processes share a PostgreSQL database (an SQLite file is used by one process)")
	}
	return nil
}

// loopback reports whether addr is a loopback host:port.
func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// bench is one run's state.
type bench struct {
	o        Options
	srv      *Server
	key      string // the API key
	account  string // its account id
	client   *apiclient.Client
	recv     *receiver
	api      *http.Client
	base     time.Time // monotonic origin of the recorded times
	hooks    []target
	bad      []target
	workers  *workers // the worker processes; nil with workers in process
	progress func(format string, args ...any)
}

// target is one webhook of the bench: its secret, and the assistant and
// widget whose conversations are routed to it.
type target struct {
	webhook, secret, assistant, widget string
}

// Run runs the three phases and returns the figures.
func Run(ctx context.Context, o Options) (res *Result, err error) {
	if o.Timeout == 0 {
		o.Timeout = 2*time.Minute + time.Duration(o.Events)*2*time.Millisecond
	}
	if o.RawPosts == 0 {
		o.RawPosts = min(max(o.Events, 50000), 100000)
	}
	if o.Progress == nil {
		o.Progress = io.Discard
	}
	if o.Getenv == nil {
		o.Getenv = func(string) string { return "" }
	}
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	b := &bench{o: o, base: time.Now()}
	var pmu sync.Mutex
	b.progress = func(format string, args ...any) {
		pmu.Lock()
		defer pmu.Unlock()
		fmt.Fprintf(o.Progress, "bench: "+format+"\n", args...)
	}

	// The database: a fresh SQLite file, or a database of our own on the
	// PostgreSQL server, dropped at the end.
	databaseURL := ""
	if o.DatabaseURL == "" {
		dir, err := os.MkdirTemp("", "agenthooks-bench-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(dir)
		databaseURL = "sqlite:" + filepath.Join(dir, "bench.db")
	} else {
		name := "agenthooks_bench_" + strconv.Itoa(os.Getpid()) + "_" + randomSuffix()
		u, err := postgres.CreateDatabase(ctx, o.DatabaseURL, name)
		if err != nil {
			return nil, err
		}
		defer func() {
			dctx, dcancel := context.WithTimeout(context.Background(), time.Minute)
			defer dcancel()
			if derr := postgres.DropDatabase(dctx, o.DatabaseURL, name); derr != nil && err == nil {
				err = derr
			}
		}()
		databaseURL = u
	}

	// The bench's own settings, whatever the environment says about where
	// the data lives; the workers' tuning comes from the environment.
	fixed := map[string]string{
		"AGENTHOOKS_DATABASE_URL":            databaseURL,
		"AGENTHOOKS_ADDR":                    "127.0.0.1:0",
		"AGENTHOOKS_ALLOW_PRIVATE_ENDPOINTS": "true", // the receiver is on loopback
		"AGENTHOOKS_IDLE_CLOSE":              "0",
		// The load must not be throttled by the API's per-account limits.
		"AGENTHOOKS_API_RATE_LIMIT": "0",
		"AGENTHOOKS_MAX_WEBHOOKS":   strconv.Itoa(max(100, o.Webhooks+o.BadEndpoints)),
	}
	defaults := map[string]string{
		"AGENTHOOKS_LOG_LEVEL":        "warn",
		"AGENTHOOKS_SHUTDOWN_TIMEOUT": "2s",
	}
	getenv := func(k string) string {
		if v, ok := fixed[k]; ok {
			return v
		}
		if k == "AGENTHOOKS_DATABASE_URL_FILE" {
			return ""
		}
		if v := o.Getenv(k); v != "" {
			return v
		}
		return defaults[k]
	}

	if o.PprofAddr != "" {
		stop, err := servePprof(o.PprofAddr)
		if err != nil {
			return nil, err
		}
		defer stop()
	}

	b.recv, err = newReceiver(o.ReceiverLatency, b.base)
	if err != nil {
		return nil, err
	}
	defer b.recv.close()

	role := "all"
	if o.WorkerProcesses > 0 {
		role = "api"
	}
	srv, err := o.Start(ctx, role, getenv, o.Progress)
	if err != nil {
		return nil, err
	}
	defer srv.Stop()
	if o.WorkerProcesses > 0 {
		exe, environ := o.Executable, o.Environ
		if exe == "" {
			if exe, err = os.Executable(); err != nil {
				return nil, fmt.Errorf("--worker-processes: %w", err)
			}
		}
		if environ == nil {
			environ = os.Environ()
		}
		b.workers, err = startWorkers(ctx, exe, o.WorkerProcesses, environ, getenv, o.Progress, b.progress)
		if err != nil {
			return nil, b.failed(ctx, "start worker processes", err)
		}
		// Stopped on every return; on success before the figures, which
		// hold their peak RSS.
		defer func() {
			if serr := b.workers.stop(); serr != nil && err == nil {
				err = serr
			}
		}()
		srv.Delivery = b.workers
	}
	b.srv, b.key, b.account = srv, srv.APIKey, srv.AccountID
	b.api = &http.Client{Timeout: time.Minute, Transport: &http.Transport{
		MaxIdleConns: o.Clients + 16, MaxIdleConnsPerHost: o.Clients + 16, IdleConnTimeout: time.Minute,
	}}
	defer b.api.CloseIdleConnections()
	b.client = apiclient.New(srv.URL, srv.APIKey, b.api)
	where := "in this process"
	if o.WorkerProcesses > 0 {
		where = fmt.Sprintf("in each of %d worker processes", o.WorkerProcesses)
	}
	b.progress("store %s, %d events, %d webhooks, %d workers %s (at most %d in flight per webhook), receiver %s",
		srv.Store.Engine(), o.Events, o.Webhooks, srv.Workers, where, srv.MaxInFlightPerWebhook, b.recv.url)

	if err := b.setup(ctx); err != nil {
		return nil, b.failed(ctx, "set up", err)
	}

	raw, err := b.raw(ctx)
	if err != nil {
		return nil, b.failed(ctx, "raw", err)
	}

	e2e, err := b.endToEnd(ctx)
	if err != nil {
		return nil, b.failed(ctx, "end to end", err)
	}
	drain, err := b.drain(ctx)
	if err != nil {
		return nil, b.failed(ctx, "drain", err)
	}

	if o.MemProfile != "" {
		f, err := os.Create(o.MemProfile)
		if err != nil {
			return nil, err
		}
		err = runtimepprof.Lookup("allocs").WriteTo(f, 0)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("--memprofile: %w", err)
		}
	}
	workersRSS := 0.0
	if b.workers != nil {
		if err := b.workers.stop(); err != nil {
			return nil, err
		}
		workersRSS = b.workers.peakRSS
	}
	res = &Result{
		Store: srv.Store.Engine(), Events: o.Events, Webhooks: o.Webhooks, Transform: o.Transform,
		RawPostsPerS:   round(raw, 1),
		IngestPerS:     round(e2e.ingest, 1),
		DeliveriesPerS: round(e2e.deliveries, 1),
		DrainPerS:      round(drain.rate, 1),
		Ratio:          round(e2e.deliveries/raw, 4),
		DrainRatio:     round(drain.rate/raw, 4),
		P50MS:          round(e2e.p50.Seconds()*1000, 2),
		P99MS:          round(e2e.p99.Seconds()*1000, 2),
		PeakRSSMB:      round(peakRSSMB(), 1),

		CPUMicrosPerEvent:            e2e.cpu.perMicros(e2e.cpu.self),
		CPUMicrosPerDelivery:         drain.cpu.perMicros(drain.cpu.self),
		PostgresCPUMicrosPerEvent:    e2e.cpu.perMicros(e2e.cpu.postgres),
		PostgresCPUMicrosPerDelivery: drain.cpu.perMicros(drain.cpu.postgres),

		WorkerProcesses:             o.WorkerProcesses,
		Filter:                      o.Filter,
		WorkersPeakRSSMB:            round(workersRSS, 1),
		WorkersCPUMicrosPerEvent:    e2e.cpu.perMicros(e2e.cpu.workers),
		WorkersCPUMicrosPerDelivery: drain.cpu.perMicros(drain.cpu.workers),
	}
	b.progress("done: %d duplicate arrivals, %d requests to hanging endpoints", b.recv.duplicates.Load(), b.recv.hung.Load())
	return res, nil
}

// benchSettings are the settings the bench fixes or defaults in Run; a
// worker process is given them too.
var benchSettings = []string{
	"AGENTHOOKS_DATABASE_URL", "AGENTHOOKS_ALLOW_PRIVATE_ENDPOINTS", "AGENTHOOKS_IDLE_CLOSE",
	"AGENTHOOKS_API_RATE_LIMIT", "AGENTHOOKS_MAX_WEBHOOKS", "AGENTHOOKS_LOG_LEVEL", "AGENTHOOKS_SHUTDOWN_TIMEOUT",
}

// writerStats is the SQLite store's group-commit counters.
type writerStats interface{ Stats() sqlite.Stats }

// commits describes the group commits since before (SQLite only).
func (b *bench) commits(before sqlite.Stats) (string, sqlite.Stats) {
	ws, ok := b.srv.Store.(writerStats)
	if !ok {
		return "", before
	}
	now := ws.Stats()
	n := now.Commits - before.Commits
	if n == 0 {
		return "", now
	}
	return fmt.Sprintf("; %d commits (%d with fsync) of %.1f writes each, writer busy %s",
		n, now.Synced-before.Synced, float64(now.Writes-before.Writes)/float64(n), (now.Busy - before.Busy).Round(time.Millisecond)), now
}

func randomSuffix() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func round(v float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(v*p) / p
}

// failed names the phase that failed, and says so when the cause is the
// --timeout bound on the whole run, whatever step it hit.
func (b *bench) failed(ctx context.Context, phase string, err error) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("%s: timed out (--timeout %s): %w", phase, b.o.Timeout, err)
	}
	return fmt.Errorf("%s: %w", phase, err)
}

// call makes one API request and returns its data.
func (b *bench) call(ctx context.Context, method, path string, body any) (map[string]any, error) {
	var data map[string]any
	if err := b.client.Do(ctx, method, path, body, &data); err != nil {
		return nil, err
	}
	return data, nil
}

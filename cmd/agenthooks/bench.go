package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"path/filepath"
	runtimepprof "runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/google/uuid"

	"github.com/agenthooks/agenthooks"
	"github.com/agenthooks/agenthooks/payload"
	"github.com/agenthooks/agenthooks/postgres"
	"github.com/agenthooks/agenthooks/service"
	"github.com/agenthooks/agenthooks/signature"
	"github.com/agenthooks/agenthooks/sqlite"
)

// benchOptions are bench's flags (CONTRACT section 6, plus a few extras for
// docs/benchmarks.md).
type benchOptions struct {
	events      int
	webhooks    int
	databaseURL string        // "" is a fresh SQLite file in a temporary directory
	rate        float64       // closes per second; 0 is full speed
	timeout     time.Duration // the whole run; 0 is 2m + 2ms per event
	clients     int           // concurrent API clients closing conversations
	rawPosts    int           // POSTs per raw run; 0 is min(max(events, 50000), 100000)

	receiverLatency time.Duration // the receiver waits this long before it answers
	badEndpoints    int           // extra webhooks whose endpoint hangs until the timeout
	cpuProfile      string        // CPU profile of the end-to-end and drain phases
	memProfile      string        // allocation profile of the whole run
	pprofAddr       string        // serve net/http/pprof here (loopback) while running

	getenv   func(string) string
	progress io.Writer
}

// benchResult is the JSON line bench prints last; the keys are CONTRACT's.
type benchResult struct {
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
}

const benchUsage = `Usage: agenthooks bench --events N --webhooks M [--database-url URL] [--rate R] [flags]

The throughput benchmark (CONTRACT section 6). It starts its own server in this
process (on a fresh SQLite file by default; on a postgres:// server it creates
a database of its own and drops it after) and a receiver on loopback, and
measures:
  raw         plain keep-alive POSTs of the same bodies to the receiver, best of
              16, 64 and 256 connections: the machine's ceiling;
  end to end  N conversations closed through the API by concurrent clients, each
              close one conversation.closed event delivered to one of the M
              webhooks; from the first close to the last arrival;
  drain       N more events accepted while delivery is paused, then from
              resuming to the last arrival.
Progress goes to stderr; the last line of stdout is one JSON object. The
AGENTHOOKS_* settings of the delivery workers (AGENTHOOKS_WORKERS,
AGENTHOOKS_WEBHOOK_MAX_IN_FLIGHT, AGENTHOOKS_DELIVERY_TIMEOUT, ...) apply.

Flags:
`

func benchCmd(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	o := benchOptions{getenv: getenv, progress: stderr}
	fs.IntVar(&o.events, "events", 20000, "events per phase (end to end, and drain)")
	fs.IntVar(&o.webhooks, "webhooks", 10, "webhooks, one per assistant, each receiving 1/M of the events")
	fs.StringVar(&o.databaseURL, "database-url", "", "a postgres:// server to create the bench's database on (default: a fresh SQLite file)")
	fs.Float64Var(&o.rate, "rate", 0, "close calls per second in the end-to-end phase (0: as fast as the clients go)")
	fs.DurationVar(&o.timeout, "timeout", 0, "bound on the whole run (0: 2m plus 2ms per event)")
	fs.IntVar(&o.clients, "clients", 64, "concurrent API clients closing conversations")
	fs.IntVar(&o.rawPosts, "raw-posts", 0, "POSTs per raw run (0: the number of events, at least 50000, at most 100000)")
	fs.DurationVar(&o.receiverLatency, "receiver-latency", 0, "the receiver waits this long before answering each request (e.g. 50ms)")
	fs.IntVar(&o.badEndpoints, "bad-endpoints", 0, "extra webhooks whose endpoint hangs until the delivery timeout; they get 1/M of the events each, not counted in the figures")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the end-to-end and drain phases to this file")
	fs.StringVar(&o.memProfile, "memprofile", "", "write an allocation profile (all allocations of the run) to this file at the end")
	fs.StringVar(&o.pprofAddr, "pprof", "", "serve net/http/pprof on this loopback address while running (e.g. 127.0.0.1:6060)")
	fs.Usage = func() {
		fmt.Fprint(stderr, benchUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "agenthooks bench: takes no arguments, got %q\n", fs.Args())
		return 2
	}
	switch {
	case o.events < 1 || o.events > 10_000_000:
		fmt.Fprintln(stderr, "agenthooks bench: --events must be from 1 to 10000000")
		return 2
	case o.webhooks < 1 || o.webhooks > 10_000:
		fmt.Fprintln(stderr, "agenthooks bench: --webhooks must be from 1 to 10000")
		return 2
	case o.rate < 0 || math.IsInf(o.rate, 0) || math.IsNaN(o.rate):
		fmt.Fprintln(stderr, "agenthooks bench: --rate must be a positive number of events per second, or 0")
		return 2
	case o.clients < 1 || o.clients > 4096:
		fmt.Fprintln(stderr, "agenthooks bench: --clients must be from 1 to 4096")
		return 2
	case o.badEndpoints < 0 || o.badEndpoints > 1000:
		fmt.Fprintln(stderr, "agenthooks bench: --bad-endpoints must be from 0 to 1000")
		return 2
	case o.timeout < 0 || o.receiverLatency < 0 || o.rawPosts < 0:
		fmt.Fprintln(stderr, "agenthooks bench: --timeout, --receiver-latency and --raw-posts cannot be negative")
		return 2
	case o.databaseURL != "" && !postgres.IsURL(o.databaseURL):
		fmt.Fprintln(stderr, "agenthooks bench: --database-url must be a postgres:// server (the default is a fresh SQLite file)")
		return 2
	case o.pprofAddr != "" && !loopbackAddr(o.pprofAddr):
		fmt.Fprintln(stderr, "agenthooks bench: --pprof must be a loopback address such as 127.0.0.1:6060")
		return 2
	}
	res, err := runBench(ctx, o)
	if err != nil {
		fmt.Fprintf(stderr, "agenthooks bench: %v\n", err)
		return 1
	}
	return printJSON(stdout, res)
}

func loopbackAddr(addr string) bool {
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
	o        benchOptions
	app      *app
	key      string // the API key
	account  string // its account id
	recv     *benchReceiver
	api      *http.Client
	base     time.Time // monotonic origin of the recorded times
	hooks    []benchHook
	bad      []benchHook
	progress func(format string, args ...any)
}

// profile starts a CPU profile of a phase when --cpuprofile is set: the end
// to end phase goes to the file named, the drain phase to that name with
// ".drain" added. The returned function stops it.
func (b *bench) profile(phase string) (func(), error) {
	if b.o.cpuProfile == "" {
		return func() {}, nil
	}
	name := b.o.cpuProfile
	if phase == "drain" {
		name += ".drain"
	}
	f, err := os.Create(name)
	if err != nil {
		return nil, err
	}
	if err := runtimepprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			runtimepprof.StopCPUProfile()
			f.Close()
		})
	}, nil
}

type benchHook struct {
	webhook, secret, assistant, widget string
}

// runBench runs the three phases and returns the figures.
func runBench(ctx context.Context, o benchOptions) (res *benchResult, err error) {
	if o.timeout == 0 {
		o.timeout = 2*time.Minute + time.Duration(o.events)*2*time.Millisecond
	}
	if o.rawPosts == 0 {
		o.rawPosts = min(max(o.events, 50000), 100000)
	}
	if o.progress == nil {
		o.progress = io.Discard
	}
	if o.getenv == nil {
		o.getenv = func(string) string { return "" }
	}
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	b := &bench{o: o, base: time.Now()}
	var pmu sync.Mutex
	b.progress = func(format string, args ...any) {
		pmu.Lock()
		defer pmu.Unlock()
		fmt.Fprintf(o.progress, "bench: "+format+"\n", args...)
	}

	// The database: a fresh SQLite file, or a database of our own on the
	// PostgreSQL server, dropped at the end.
	databaseURL := ""
	if o.databaseURL == "" {
		dir, err := os.MkdirTemp("", "agenthooks-bench-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(dir)
		databaseURL = "sqlite:" + filepath.Join(dir, "bench.db")
	} else {
		name := "agenthooks_bench_" + strconv.Itoa(os.Getpid()) + "_" + randomSuffix()
		u, err := postgres.CreateDatabase(ctx, o.databaseURL, name)
		if err != nil {
			return nil, err
		}
		defer func() {
			dctx, dcancel := context.WithTimeout(context.Background(), time.Minute)
			defer dcancel()
			if derr := postgres.DropDatabase(dctx, o.databaseURL, name); derr != nil && err == nil {
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
		"AGENTHOOKS_API_RATE_LIMIT":          "0",       // the bench measures the server, not the limit
		"AGENTHOOKS_MAX_WEBHOOKS":            "1000000", // --webhooks may ask for more than an account's default
	}
	defaults := map[string]string{
		"AGENTHOOKS_LOG_LEVEL":        "warn",
		"AGENTHOOKS_SHUTDOWN_TIMEOUT": "2s",
	}
	cfgFlags := flag.NewFlagSet("bench", flag.ContinueOnError)
	cfgFlags.SetOutput(io.Discard)
	cfg, err := configFlags(cfgFlags, func(k string) string {
		if v, ok := fixed[k]; ok {
			return v
		}
		if k == "AGENTHOOKS_DATABASE_URL_FILE" {
			return ""
		}
		if v := o.getenv(k); v != "" {
			return v
		}
		return defaults[k]
	})()
	if err != nil {
		return nil, err
	}

	if o.pprofAddr != "" {
		stop, err := servePprof(o.pprofAddr)
		if err != nil {
			return nil, err
		}
		defer stop()
	}

	b.recv, err = newBenchReceiver(o.receiverLatency, b.base)
	if err != nil {
		return nil, err
	}
	defer b.recv.close()

	var first bytes.Buffer
	a, err := newApp(ctx, cfg, newLogger(cfg, o.progress), &first)
	if err != nil {
		return nil, err
	}
	var acct struct {
		ID     string `json:"id"`
		APIKey string `json:"api_key"`
	}
	if err := json.Unmarshal(first.Bytes(), &acct); err != nil || acct.APIKey == "" {
		a.store.Close()
		return nil, errors.New("the bench's server did not create its first account")
	}
	b.app, b.key, b.account = a, acct.APIKey, acct.ID
	a.start()
	defer a.stop()
	b.api = &http.Client{Timeout: time.Minute, Transport: &http.Transport{
		MaxIdleConns: o.clients + 16, MaxIdleConnsPerHost: o.clients + 16, IdleConnTimeout: time.Minute,
	}}
	defer b.api.CloseIdleConnections()
	b.progress("store %s, %d events, %d webhooks, %d workers (at most %d in flight per webhook), receiver %s",
		a.store.Engine(), o.events, o.webhooks, cfg.Workers, cfg.WebhookMaxInFlight, b.recv.url)

	if err := b.setup(ctx); err != nil {
		return nil, fmt.Errorf("set up: %w", err)
	}

	raw, err := b.raw(ctx)
	if err != nil {
		return nil, fmt.Errorf("raw: %w", err)
	}

	e2e, err := b.endToEnd(ctx)
	if err != nil {
		return nil, fmt.Errorf("end to end: %w", err)
	}
	drain, err := b.drain(ctx)
	if err != nil {
		return nil, fmt.Errorf("drain: %w", err)
	}

	if o.memProfile != "" {
		f, err := os.Create(o.memProfile)
		if err != nil {
			return nil, err
		}
		err = runtimepprof.Lookup("allocs").WriteTo(f, 0)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("--memprofile: %w", err)
		}
	}
	res = &benchResult{
		Store: a.store.Engine(), Events: o.events, Webhooks: o.webhooks,
		RawPostsPerS:   round(raw, 1),
		IngestPerS:     round(e2e.ingest, 1),
		DeliveriesPerS: round(e2e.deliveries, 1),
		DrainPerS:      round(drain, 1),
		Ratio:          round(e2e.deliveries/raw, 4),
		DrainRatio:     round(drain/raw, 4),
		P50MS:          round(e2e.p50.Seconds()*1000, 2),
		P99MS:          round(e2e.p99.Seconds()*1000, 2),
		PeakRSSMB:      round(peakRSSMB(), 1),
	}
	b.progress("done: %d duplicate arrivals, %d requests to hanging endpoints", b.recv.duplicates.Load(), b.recv.hung.Load())
	return res, nil
}

// writerStats is the SQLite store's group-commit counters.
type writerStats interface{ Stats() sqlite.Stats }

// commits describes the group commits since before (SQLite only).
func (b *bench) commits(before sqlite.Stats) (string, sqlite.Stats) {
	ws, ok := b.app.store.(writerStats)
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

// machineBusy is the CPU time all processes have used so far (from
// /proc/stat; 0 where it cannot be read), to tell how much of a phase's
// machine went to other processes.
func machineBusy() time.Duration {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 5 || f[0] != "cpu" {
		return 0
	}
	var busy int64
	for i, v := range f[1:] {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0
		}
		if i != 3 && i != 4 { // idle, iowait
			busy += n
		}
	}
	return time.Duration(busy) * 10 * time.Millisecond // USER_HZ is 100 on Linux
}

// cpuUsage describes the CPU a phase used: this process's, per event, and
// other processes'.
type cpuUsage struct{ self, all time.Duration }

func startUsage() cpuUsage { return cpuUsage{cpuTime(), machineBusy()} }

func (u cpuUsage) String(events int, elapsed time.Duration) string {
	self, all := cpuTime()-u.self, machineBusy()-u.all
	other := max(0, all-self)
	return fmt.Sprintf("CPU %s per event (%.2f cores; other processes %.2f cores)",
		(self / time.Duration(events)).Round(100*time.Nanosecond), self.Seconds()/elapsed.Seconds(), other.Seconds()/elapsed.Seconds())
}

// cpuTime is the process's CPU time so far (user and system).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
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

// peakRSSMB reads the process's peak resident set (VmHWM) in MB.
func peakRSSMB() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 64)
			if err != nil {
				return 0
			}
			return kb / 1024
		}
	}
	return 0
}

func servePprof(addr string) (func(), error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--pprof: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return func() { _ = srv.Close() }, nil
}

// call makes one API request and decodes data's id.
func (b *bench) call(ctx context.Context, method, path string, body any) (map[string]any, error) {
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, b.app.URL()+"/api/v1"+path, rd)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+b.key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := b.api.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		return nil, fmt.Errorf("%s %s: status %d: %s", method, path, resp.StatusCode, bytes.TrimSpace(raw))
	}
	var m struct {
		Data map[string]any `json:"data"`
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	return m.Data, nil
}

// setup creates the webhooks (conversation.closed only), one assistant each
// with a widget, through the API; and as many hanging ones as asked for.
func (b *bench) setup(ctx context.Context) error {
	mk := func(name, endpoint string) (benchHook, error) {
		var h benchHook
		w, err := b.call(ctx, http.MethodPost, "/outbound_webhook", map[string]any{
			"name": name, "endpoint": endpoint, "events": []string{agenthooks.EventConversationClosed},
		})
		if err != nil {
			return h, err
		}
		h.webhook, _ = w["id"].(string)
		h.secret, _ = w["secret"].(string)
		as, err := b.call(ctx, http.MethodPost, "/assistant", map[string]any{"name": name + " assistant", "webhook_id": h.webhook})
		if err != nil {
			return h, err
		}
		h.assistant, _ = as["id"].(string)
		wi, err := b.call(ctx, http.MethodPost, "/widget", map[string]any{"assistant_id": h.assistant, "name": name + " chat", "widget_type": "chat"})
		if err != nil {
			return h, err
		}
		h.widget, _ = wi["id"].(string)
		return h, nil
	}
	secrets := make([][]byte, b.o.webhooks)
	for i := range b.o.webhooks {
		h, err := mk(fmt.Sprintf("bench %d", i), fmt.Sprintf("%s/hook/%d", b.recv.url, i))
		if err != nil {
			return err
		}
		key, err := signature.ParseSecret(h.secret)
		if err != nil {
			return fmt.Errorf("webhook secret: %w", err)
		}
		secrets[i] = key
		b.hooks = append(b.hooks, h)
	}
	b.recv.secrets = secrets
	for i := range b.o.badEndpoints {
		h, err := mk(fmt.Sprintf("bench hanging %d", i), b.recv.url+"/hang")
		if err != nil {
			return err
		}
		b.bad = append(b.bad, h)
	}
	return nil
}

// sampleBody is a conversation.closed envelope like the ones delivered, with a
// conversation id that matches none of the bench's.
func (b *bench) sampleBody() ([]byte, error) {
	h := b.hooks[0]
	c := &agenthooks.Conversation{ID: service.NewID(), AccountID: b.account, AssistantID: h.assistant, WidgetID: h.widget, DeviceType: "desktop"}
	return payload.Encode(service.NewID(), agenthooks.EventConversationClosed, time.Now(), payload.NewConversation(c, nil))
}

// raw measures plain keep-alive POSTs of a delivery's body and headers to the
// receiver with 16, 64 and 256 connections, and returns the best rate.
func (b *bench) raw(ctx context.Context) (float64, error) {
	body, err := b.sampleBody()
	if err != nil {
		return 0, err
	}
	best := 0.0
	for _, conns := range []int{16, 64, 256} {
		rate, err := b.rawRun(ctx, body, conns, b.o.rawPosts)
		if err != nil {
			return 0, err
		}
		b.progress("raw: %d connections: %.0f posts/s", conns, rate)
		best = max(best, rate)
	}
	return best, nil
}

// rawRunMax bounds one raw run's duration.
const rawRunMax = 5 * time.Second

func (b *bench) rawRun(ctx context.Context, body []byte, conns, total int) (float64, error) {
	tr := &http.Transport{MaxIdleConns: conns, MaxIdleConnsPerHost: conns, IdleConnTimeout: time.Minute}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: time.Minute}
	url := b.recv.url + "/hook/0"
	key, _ := signature.ParseSecret(b.hooks[0].secret)
	msgID := service.NewID()
	userAgent := "agenthooks/" + version()
	var next, done atomic.Int64
	var failed atomic.Value
	var wg sync.WaitGroup
	start := time.Now()
	// Bounded in time as well as in count: a slow receiver (--receiver-latency)
	// would otherwise make a run of 16 connections last minutes.
	deadline := start.Add(rawRunMax)
	for range conns {
		wg.Go(func() {
			for next.Add(1) <= int64(total) && ctx.Err() == nil && time.Now().Before(deadline) {
				req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
				if err != nil {
					failed.Store(err)
					return
				}
				ts := time.Now().Unix()
				h := req.Header
				h["Content-Type"] = []string{"application/json"}
				h["User-Agent"] = []string{userAgent}
				h["webhook-id"] = []string{msgID}
				h["webhook-timestamp"] = []string{strconv.FormatInt(ts, 10)}
				h["webhook-signature"] = []string{signature.Sign(key, msgID, ts, body)}
				resp, err := client.Do(req)
				if err != nil {
					failed.Store(err)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode/100 != 2 {
					failed.Store(fmt.Errorf("receiver answered %d", resp.StatusCode))
					return
				}
				done.Add(1)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("timed out (--timeout %s)", b.o.timeout)
	}
	if err, _ := failed.Load().(error); err != nil {
		return 0, err
	}
	return float64(done.Load()) / elapsed.Seconds(), nil
}

// closeItem is one conversation to close: index into the phase's healthy
// conversations, or -1 for one routed to a hanging endpoint.
type closeItem struct {
	id    uuid.UUID
	index int32
}

// createConversations creates a phase's conversations (not timed): n spread
// over the healthy webhooks' assistants, and those of the hanging ones, mixed
// in evenly. It calls the service directly, concurrently: that is set-up.
func (b *bench) createConversations(ctx context.Context, n int) ([]closeItem, error) {
	nbad := 0
	if len(b.bad) > 0 {
		nbad = max(1, n*len(b.bad)/len(b.hooks))
	}
	total := n + nbad
	items := make([]closeItem, total)
	// Every stride-th item goes to a hanging endpoint.
	stride := 0
	if nbad > 0 {
		stride = total / nbad
	}
	healthy, bad := 0, 0
	for i := range items {
		if stride > 0 && i%stride == stride-1 && bad < nbad || healthy == n {
			items[i].index = -1
			bad++
		} else {
			items[i].index = int32(healthy)
			healthy++
		}
	}
	var next atomic.Int64
	var failed atomic.Value
	var wg sync.WaitGroup
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(2 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				b.progress("creating conversations: %d/%d", min(next.Load(), int64(total)), total)
			}
		}
	}()
	for range 64 {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= total || ctx.Err() != nil || failed.Load() != nil {
					return
				}
				var h benchHook
				if items[i].index < 0 {
					h = b.bad[i%len(b.bad)]
				} else {
					h = b.hooks[int(items[i].index)%len(b.hooks)]
				}
				c, err := b.app.svc.CreateConversation(ctx, b.account, service.ConversationInput{AssistantID: h.assistant, WidgetID: h.widget, DeviceType: "desktop"})
				if err != nil {
					failed.Store(err)
					return
				}
				items[i].id, err = uuid.Parse(c.ID)
				if err != nil {
					failed.Store(err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(done)
	if err, _ := failed.Load().(error); err != nil {
		return nil, fmt.Errorf("create conversation: %w", err)
	}
	if ctx.Err() != nil {
		return nil, fmt.Errorf("timed out creating conversations (--timeout %s)", b.o.timeout)
	}
	return items, nil
}

// closeAll closes items through the API with the configured clients, at rate
// per second if rate > 0, recording each healthy close's return time in
// returned (ns since b.base). It returns when all are closed.
func (b *bench) closeAll(ctx context.Context, items []closeItem, rate float64, returned []int64) error {
	var next atomic.Int64
	var failed atomic.Value
	var wg sync.WaitGroup
	start := time.Now()
	for range b.o.clients {
		wg.Go(func() {
			var path [64]byte
			for {
				i := int(next.Add(1) - 1)
				if i >= len(items) || ctx.Err() != nil || failed.Load() != nil {
					return
				}
				if rate > 0 {
					due := start.Add(time.Duration(float64(i) / rate * float64(time.Second)))
					if d := time.Until(due); d > 0 {
						time.Sleep(d)
					}
				}
				p := append(path[:0], "/api/v1/conversation/"...)
				p = append(p, items[i].id.String()...)
				p = append(p, "/close"...)
				req, err := http.NewRequestWithContext(ctx, http.MethodPost, b.app.URL()+string(p), nil)
				if err != nil {
					failed.Store(err)
					return
				}
				req.Header["Authorization"] = []string{"Bearer " + b.key}
				resp, err := b.api.Do(req)
				if err != nil {
					failed.Store(err)
					return
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					failed.Store(fmt.Errorf("close conversation: status %d: %s", resp.StatusCode, bytes.TrimSpace(body)))
					return
				}
				if ix := items[i].index; ix >= 0 {
					returned[ix] = int64(time.Since(b.base))
				}
			}
		})
	}
	wg.Wait()
	if err, _ := failed.Load().(error); err != nil {
		return err
	}
	if ctx.Err() != nil {
		return fmt.Errorf("timed out closing conversations (--timeout %s)", b.o.timeout)
	}
	return nil
}

// phaseIndex maps each healthy conversation of a phase to its index.
func phaseIndex(items []closeItem, n int) *benchPhase {
	p := &benchPhase{
		index:   make(map[uuid.UUID]int32, n),
		arrived: make([]atomic.Int64, n),
		total:   int64(n),
		done:    make(chan struct{}),
	}
	for _, it := range items {
		if it.index >= 0 {
			p.index[it.id] = it.index
		}
	}
	return p
}

// wait waits until every healthy event of the phase arrived, printing
// progress, or fails at the deadline or when the closes fail (closeDone is
// closed when they end, with their error in *closeErr).
func (b *bench) wait(ctx context.Context, name string, p *benchPhase, closeDone <-chan struct{}, closeErr *error) error {
	t := time.NewTicker(2 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-p.done:
			return b.recv.problems()
		case <-closeDone:
			if *closeErr != nil {
				return *closeErr
			}
			closeDone = nil
		case <-t.C:
			b.progress("%s: arrived %d of %d", name, p.count.Load(), p.total)
			if err := b.recv.problems(); err != nil {
				return err
			}
		case <-ctx.Done():
			return fmt.Errorf("only %d of %d events arrived at the receiver before the timeout (--timeout %s)", p.count.Load(), p.total, b.o.timeout)
		}
	}
}

type e2eFigures struct {
	ingest, deliveries float64
	p50, p99           time.Duration
}

// endToEnd closes N conversations through the API and waits for their events.
func (b *bench) endToEnd(ctx context.Context) (*e2eFigures, error) {
	n := b.o.events
	items, err := b.createConversations(ctx, n)
	if err != nil {
		return nil, err
	}
	p := phaseIndex(items, n)
	b.recv.phase.Store(p)
	defer b.recv.phase.Store(nil)
	returned := make([]int64, n)
	stopProfile, err := b.profile("end to end")
	if err != nil {
		return nil, err
	}
	defer stopProfile()
	how := "full speed"
	if b.o.rate > 0 {
		how = fmt.Sprintf("%.0f/s", b.o.rate)
	}
	b.progress("end to end: closing %d conversations with %d clients at %s", len(items), b.o.clients, how)
	start := int64(time.Since(b.base))
	use := startUsage()
	_, ws0 := b.commits(sqlite.Stats{})
	var closeErr error
	closeDone := make(chan struct{})
	go func() { closeErr = b.closeAll(ctx, items, b.o.rate, returned); close(closeDone) }()
	if err := b.wait(ctx, "end to end", p, closeDone, &closeErr); err != nil {
		return nil, err
	}
	<-closeDone // an event can arrive before its close call has returned
	if closeErr != nil {
		return nil, closeErr
	}
	lastReturn := slices.Max(returned)
	cpu := use.String(n, time.Duration(p.last.Load()-start))
	stopProfile()
	last := p.last.Load()
	f := &e2eFigures{
		ingest:     float64(len(items)) / time.Duration(lastReturn-start).Seconds(),
		deliveries: float64(n) / time.Duration(last-start).Seconds(),
	}
	lat := make([]int64, n)
	for i := range lat {
		lat[i] = max(0, p.arrived[i].Load()-returned[i])
	}
	slices.Sort(lat)
	f.p50 = time.Duration(lat[(len(lat)-1)*50/100])
	f.p99 = time.Duration(lat[(len(lat)-1)*99/100])
	commits, _ := b.commits(ws0)
	b.progress("end to end: %.0f closes/s, %.0f deliveries/s, latency p50 %s p99 %s; %s%s",
		f.ingest, f.deliveries, f.p50, f.p99, cpu, commits)
	return f, nil
}

// drain accepts N events with delivery paused, then times their delivery.
func (b *bench) drain(ctx context.Context) (float64, error) {
	n := b.o.events
	items, err := b.createConversations(ctx, n)
	if err != nil {
		return 0, err
	}
	p := phaseIndex(items, n)
	b.recv.phase.Store(p)
	defer b.recv.phase.Store(nil)
	b.app.pool.Pause()
	b.progress("drain: accepting %d events with delivery paused", len(items))
	if err := b.closeAll(ctx, items, 0, make([]int64, n)); err != nil {
		b.app.pool.Resume()
		return 0, err
	}
	if got := p.count.Load(); got > 0 {
		return 0, fmt.Errorf("%d events arrived while delivery was paused", got)
	}
	b.progress("drain: resuming delivery")
	stopProfile, err := b.profile("drain")
	if err != nil {
		return 0, err
	}
	defer stopProfile()
	start := int64(time.Since(b.base))
	use := startUsage()
	_, ws0 := b.commits(sqlite.Stats{})
	b.app.pool.Resume()
	if err := b.wait(ctx, "drain", p, nil, nil); err != nil {
		return 0, err
	}
	elapsed := time.Duration(p.last.Load() - start)
	cpu := use.String(n, elapsed)
	stopProfile()
	rate := float64(n) / elapsed.Seconds()
	commits, _ := b.commits(ws0)
	b.progress("drain: %.0f deliveries/s; %s%s", rate, cpu, commits)
	return rate, nil
}

// benchPhase records the arrivals of one phase's events.
type benchPhase struct {
	index   map[uuid.UUID]int32
	arrived []atomic.Int64 // ns since the bench's base; 0 until arrived
	count   atomic.Int64
	last    atomic.Int64
	total   int64
	done    chan struct{}
}

// benchReceiver is the webhook endpoint: a plain Go HTTP server on loopback
// that records each event's first arrival by the conversation id in its body
// (one conversation, one event), checks the signature headers are there, and
// verifies one request in 64 in full.
type benchReceiver struct {
	url        string
	ln         net.Listener
	srv        *http.Server
	latency    time.Duration
	base       time.Time
	secrets    [][]byte // per /hook/{i}
	phase      atomic.Pointer[benchPhase]
	requests   atomic.Int64
	duplicates atomic.Int64
	hung       atomic.Int64
	release    chan struct{}
	bufs       sync.Pool
	mu         sync.Mutex
	errs       []string
}

func newBenchReceiver(latency time.Duration, base time.Time) (*benchReceiver, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("receiver: %w", err)
	}
	r := &benchReceiver{url: "http://" + ln.Addr().String(), ln: ln, latency: latency, base: base, release: make(chan struct{})}
	r.bufs.New = func() any { b := make([]byte, 0, 4096); return &b }
	r.srv = &http.Server{Handler: r, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	go func() { _ = r.srv.Serve(ln) }()
	return r, nil
}

func (r *benchReceiver) close() {
	close(r.release)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := r.srv.Shutdown(ctx); err != nil {
		_ = r.srv.Close()
	}
}

var convKey = []byte(`"conversation_id":"`)

func (r *benchReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if req.URL.Path == "/hang" {
		r.hung.Add(1)
		select {
		case <-req.Context().Done():
		case <-r.release:
		}
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	bp := r.bufs.Get().(*[]byte)
	defer r.bufs.Put(bp)
	buf := bytes.NewBuffer((*bp)[:0])
	if _, err := buf.ReadFrom(req.Body); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	body := buf.Bytes()
	*bp = body[:0]
	n := r.requests.Add(1)
	h := req.Header
	id, ts, sig := h.Get(signature.HeaderID), h.Get(signature.HeaderTimestamp), h.Get(signature.HeaderSignature)
	if id == "" || ts == "" || sig == "" {
		r.fail("a request without the signature headers")
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	if n%64 == 0 {
		hook, ok := strings.CutPrefix(req.URL.Path, "/hook/")
		i, err := strconv.Atoi(hook)
		if !ok || err != nil || i < 0 || i >= len(r.secrets) {
			r.fail("a request to an unknown path " + req.URL.Path)
		} else if err := signature.Verify([][]byte{r.secrets[i]}, id, ts, sig, body, time.Now(), signature.DefaultTolerance); err != nil {
			r.fail("signature: " + err.Error())
		}
	}
	if p := r.phase.Load(); p != nil {
		if k := bytes.Index(body, convKey); k >= 0 && len(body) >= k+len(convKey)+36 {
			if conv, err := uuid.ParseBytes(body[k+len(convKey) : k+len(convKey)+36]); err == nil {
				if ix, ok := p.index[conv]; ok {
					now := int64(time.Since(r.base))
					if p.arrived[ix].CompareAndSwap(0, now) {
						for {
							last := p.last.Load()
							if now <= last || p.last.CompareAndSwap(last, now) {
								break
							}
						}
						if p.count.Add(1) == p.total {
							close(p.done)
						}
					} else {
						r.duplicates.Add(1)
					}
				}
			}
		}
	}
	if r.latency > 0 {
		t := time.NewTimer(r.latency)
		select {
		case <-t.C:
		case <-req.Context().Done():
		case <-r.release:
		}
		t.Stop()
	}
	w.WriteHeader(http.StatusOK)
}

func (r *benchReceiver) fail(msg string) {
	r.mu.Lock()
	if len(r.errs) < 10 {
		r.errs = append(r.errs, msg)
	}
	r.mu.Unlock()
}

// problems returns what the receiver refused, if anything.
func (r *benchReceiver) problems() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.errs) == 0 {
		return nil
	}
	return fmt.Errorf("the receiver saw bad requests: %s", strings.Join(r.errs, "; "))
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/agenthooks/agenthooks/internal/bench"
	"github.com/agenthooks/agenthooks/internal/testdb"
)

// TestBench runs the benchmark small, on both stores, as CI's smoke test: it
// must deliver every event and print consistent figures. It asserts no
// speed: timing belongs to docs/benchmarks.md, not to a test.
func TestBench(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args func(t *testing.T) []string
	}{
		{"SQLite", func(t *testing.T) []string { return nil }},
		{"PostgreSQL", func(t *testing.T) []string {
			// Skips (or fails in CI) when the server is unreachable; the
			// bench creates and drops a database of its own on it.
			testdb.PostgresURL(t)
			return []string{"--database-url", testdb.ServerURL()}
		}},
		{"Filter", func(t *testing.T) []string { return []string{"--filter"} }},
		{"PacedWithHangingEndpoint", func(t *testing.T) []string {
			return []string{"--rate", "2000", "--bad-endpoints", "1", "--receiver-latency", "1ms"}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			args := append([]string{"bench", "--events", "300", "--webhooks", "3", "--raw-posts", "500", "--timeout", "3m"}, tt.args(t)...)
			var stdout, stderr bytes.Buffer
			ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
			defer cancel()
			if code := run(ctx, args, &stdout, &stderr, env{}.get); code != 0 {
				t.Fatalf("bench exited %d; stderr:\n%s", code, stderr.String())
			}
			if !strings.Contains(stderr.String(), "bench: end to end:") || !strings.Contains(stderr.String(), "bench: drain:") {
				t.Errorf("no progress on stderr:\n%s", stderr.String())
			}
			lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
			last := lines[len(lines)-1]
			checkBenchJSON(t, last, 300, 3, 0)
			if want := tt.name == "Filter"; !strings.Contains(last, fmt.Sprintf(`"filter":%v`, want)) {
				t.Errorf("filter is not %v in %s", want, last)
			}
		})
	}
}

// bench --transform NAME runs the drain with every webhook on that
// template: every event arrives (the receiver finds each by its
// conversation id in the transformed message) and the JSON line says which.
func TestBenchTransform(t *testing.T) {
	t.Parallel()
	args := []string{"bench", "--events", "300", "--webhooks", "3", "--raw-posts", "500", "--timeout", "3m", "--transform", "slack"}
	var stdout, stderr bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	if code := run(ctx, args, &stdout, &stderr, env{}.get); code != 0 {
		t.Fatalf("bench exited %d; stderr:\n%s", code, stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	var raw map[string]any
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &raw); err != nil {
		t.Fatalf("last line %q: %v", lines[len(lines)-1], err)
	}
	if raw["transform"] != "slack" {
		t.Errorf(`"transform" = %v, want "slack"`, raw["transform"])
	}
	delete(raw, "transform")
	rest, _ := json.Marshal(raw)
	checkBenchJSON(t, string(rest), 300, 3, 0)

	var out, errs bytes.Buffer
	if code := run(context.Background(), []string{"bench", "--transform", "irc"}, &out, &errs, env{}.get); code != 2 || !strings.Contains(errs.String(), "--transform") {
		t.Errorf("--transform irc: exit %d, stderr %q; want 2 naming --transform", code, errs.String())
	}
}

// checkBenchJSON checks the last line: exactly the keys docs/api.md lists, every figure
// present and positive, and the figures consistent with each other; with
// workerProcesses worker processes.
func checkBenchJSON(t *testing.T, line string, events, webhooks, workerProcesses int) {
	t.Helper()
	var raw map[string]any
	if err := json.Unmarshal([]byte(line), &raw); err != nil {
		t.Fatalf("last line %q is not a JSON object: %v", line, err)
	}
	keys := []string{"store", "events", "webhooks", "raw_posts_per_s", "ingest_per_s", "deliveries_per_s", "drain_per_s",
		"ratio", "drain_ratio", "p50_ms", "p99_ms", "peak_rss_mb",
		"cpu_us_per_event", "cpu_us_per_delivery", "postgres_cpu_us_per_event", "postgres_cpu_us_per_delivery", "filter",
		"worker_processes", "workers_peak_rss_mb", "workers_cpu_us_per_event", "workers_cpu_us_per_delivery"}
	if len(raw) != len(keys) {
		t.Errorf("keys %v, want exactly %v", raw, keys)
	}
	for _, k := range keys {
		if _, ok := raw[k]; !ok {
			t.Errorf("key %q missing from %s", k, line)
		}
	}
	var r bench.Result
	if err := json.Unmarshal([]byte(line), &r); err != nil {
		t.Fatal(err)
	}
	if r.Store != "sqlite" && r.Store != "postgres" {
		t.Errorf("store %q", r.Store)
	}
	if r.Events != events || r.Webhooks != webhooks {
		t.Errorf("events %d, webhooks %d; want %d, %d", r.Events, r.Webhooks, events, webhooks)
	}
	for name, v := range map[string]float64{"raw_posts_per_s": r.RawPostsPerS, "ingest_per_s": r.IngestPerS, "deliveries_per_s": r.DeliveriesPerS,
		"drain_per_s": r.DrainPerS, "ratio": r.Ratio, "drain_ratio": r.DrainRatio, "p99_ms": r.P99MS, "peak_rss_mb": r.PeakRSSMB,
		"cpu_us_per_event": r.CPUMicrosPerEvent, "cpu_us_per_delivery": r.CPUMicrosPerDelivery} {
		if !(v > 0) || math.IsInf(v, 0) {
			t.Errorf("%s = %v, want a positive number", name, v)
		}
	}
	if r.WorkerProcesses != workerProcesses {
		t.Errorf("worker_processes %d, want %d", r.WorkerProcesses, workerProcesses)
	}
	if got := r.WorkersPeakRSSMB > 0; got != (workerProcesses > 0) || r.WorkersPeakRSSMB < 0 {
		t.Errorf("workers_peak_rss_mb %v with %d worker processes: want > 0 with worker processes, else 0", r.WorkersPeakRSSMB, workerProcesses)
	}
	// The CPU figures of the other processes: the PostgreSQL server's on
	// PostgreSQL (the test server runs on this machine: .ci/run starts it),
	// the worker processes' with worker processes, else 0.
	for _, c := range []struct {
		name string
		v    float64
		want bool // > 0, else 0
	}{
		{"postgres_cpu_us_per_event", r.PostgresCPUMicrosPerEvent, r.Store == "postgres"},
		{"postgres_cpu_us_per_delivery", r.PostgresCPUMicrosPerDelivery, r.Store == "postgres"},
		{"workers_cpu_us_per_event", r.WorkersCPUMicrosPerEvent, workerProcesses > 0},
		{"workers_cpu_us_per_delivery", r.WorkersCPUMicrosPerDelivery, workerProcesses > 0},
	} {
		if got := c.v > 0; got != c.want || c.v < 0 || math.IsInf(c.v, 0) {
			t.Errorf("%s = %v on %s with %d worker processes: want > 0: %v", c.name, c.v, r.Store, workerProcesses, c.want)
		}
	}
	if r.P50MS < 0 || r.P50MS > r.P99MS {
		t.Errorf("p50 %v ms, p99 %v ms: want 0 <= p50 <= p99", r.P50MS, r.P99MS)
	}
	// The ratios are the rates divided by the raw rate, up to the rounding of
	// the printed figures.
	near := func(name string, got, want float64) {
		if math.Abs(got-want) > 0.0005+want*0.001 {
			t.Errorf("%s = %v, want %v (from the printed rates)", name, got, want)
		}
	}
	near("ratio", r.Ratio, r.DeliveriesPerS/r.RawPostsPerS)
	near("drain_ratio", r.DrainRatio, r.DrainPerS/r.RawPostsPerS)
	// Deliveries are timed from the first close to the last arrival, which
	// comes after the last close returned... or a moment before it: the
	// receiver may get an event before its API call's answer is read.
	if r.DeliveriesPerS > r.IngestPerS*1.5 {
		t.Errorf("deliveries_per_s %v far above ingest_per_s %v: events cannot be delivered faster than they are accepted", r.DeliveriesPerS, r.IngestPerS)
	}
}

func TestBenchArguments(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"bench", "--events", "0"},
		{"bench", "--webhooks", "0"},
		{"bench", "--rate", "-1"},
		{"bench", "--database-url", "mysql://x"},
		{"bench", "--pprof", "0.0.0.0:6060"},
		{"bench", "extra"},
		{"bench", "--worker-processes", "-1", "--database-url", "postgres://u@127.0.0.1/db"},
		{"bench", "--worker-processes", "65", "--database-url", "postgres://u@127.0.0.1/db"},
		{"bench", "--worker-processes", "x"},
	} {
		var stdout, stderr bytes.Buffer
		if code := run(context.Background(), args, &stdout, &stderr, env{}.get); code != 2 {
			t.Errorf("%v: exit %d, want 2; stderr %q", args, code, stderr.String())
		}
	}
}

// A run that cannot finish in its --timeout fails with a clear message
// instead of hanging.
func TestBenchTimeout(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	args := []string{"bench", "--events", "200", "--webhooks", "2", "--raw-posts", "200", "--receiver-latency", "10s", "--timeout", "3s"}
	if code := run(context.Background(), args, &stdout, &stderr, env{"AGENTHOOKS_DELIVERY_TIMEOUT": "20s"}.get); code != 1 {
		t.Fatalf("exit %d, want 1; stderr:\n%s", code, stderr.String())
	}
	if !strings.Contains(stderr.String(), "timeout") && !strings.Contains(stderr.String(), "timed out") {
		t.Errorf("stderr does not say it timed out:\n%s", stderr.String())
	}
	if stdout.Len() != 0 {
		t.Errorf("a failed run printed %q on stdout", stdout.String())
	}
}

// On SQLite (the default store) worker processes are refused: the file is
// used by one process.
func TestBenchWorkerProcessesSQLite(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"bench", "--worker-processes", "2"}, &stdout, &stderr, env{}.get); code != 2 {
		t.Fatalf("exit %d, want 2; stderr %q", code, stderr.String())
	}
	if msg := stderr.String(); !strings.Contains(msg, "--worker-processes") || !strings.Contains(msg, "PostgreSQL") {
		t.Errorf("stderr %q does not say --worker-processes needs PostgreSQL", msg)
	}
	if stdout.Len() != 0 {
		t.Errorf("stdout %q", stdout.String())
	}
}

// TestBenchWorkerProcesses runs the built binary's bench with worker child
// processes on PostgreSQL: every event arrives, the JSON has the workers'
// fields, and no child is left running once the bench has exited, whether
// it finished or hit its --timeout.
func TestBenchWorkerProcesses(t *testing.T) {
	t.Parallel()
	server := testdb.PostgresURL(t) // the bench creates its own database beside the test's
	tests := []struct {
		name    string
		args    []string
		env     []string
		timeout bool
	}{
		{"Completes", []string{"--events", "200", "--webhooks", "2", "--worker-processes", "2", "--raw-posts", "300", "--timeout", "3m"}, nil, false},
		{"TimesOut", []string{"--events", "50", "--webhooks", "1", "--worker-processes", "2", "--raw-posts", "50",
			"--receiver-latency", "30s", "--timeout", "20s"}, []string{"AGENTHOOKS_DELIVERY_TIMEOUT=60s"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, binary(t), append([]string{"bench", "--database-url", server}, tt.args...)...)
			cmd.Env = append(os.Environ(), tt.env...)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			pids := workerPIDs(stderr.String())
			if len(pids) != 2 {
				t.Errorf("%d worker processes named on stderr, want 2:\n%s", len(pids), stderr.String())
			}
			for _, pid := range pids {
				if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
					t.Errorf("worker process %d still there after the bench exited (kill 0: %v)", pid, err)
					_ = syscall.Kill(pid, syscall.SIGKILL)
				}
			}
			if tt.timeout {
				var exit *exec.ExitError
				if !errors.As(err, &exit) || exit.ExitCode() != 1 {
					t.Fatalf("bench: %v, want exit 1; stderr:\n%s", err, stderr.String())
				}
				if !strings.Contains(stderr.String(), "timed out") {
					t.Errorf("stderr does not say it timed out:\n%s", stderr.String())
				}
				return
			}
			if err != nil {
				t.Fatalf("bench: %v; stderr:\n%s", err, stderr.String())
			}
			if !strings.Contains(stderr.String(), "0 duplicate arrivals") {
				t.Errorf("duplicates or no summary on stderr:\n%s", stderr.String())
			}
			lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
			checkBenchJSON(t, lines[len(lines)-1], 200, 2, 2)
		})
	}
}

// workerPIDs are the pids of the bench's progress lines "worker process N:
// pid P on ADDR".
func workerPIDs(stderr string) []int {
	var pids []int
	for _, line := range strings.Split(stderr, "\n") {
		_, rest, ok := strings.Cut(line, "bench: worker process ")
		if !ok {
			continue
		}
		_, rest, ok = strings.Cut(rest, ": pid ")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) == 0 {
			continue
		}
		if pid, err := strconv.Atoi(f[0]); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids
}

package bench

import (
	"math"
	"strings"
	"testing"
	"time"
)

// The whole run is tested through the command (cmd/agenthooks TestBench, on
// both engines); these are the checks of the options it refuses, and of the
// CPU figures' arithmetic.
func TestValidate(t *testing.T) {
	t.Parallel()
	ok := func() Options { return Options{Events: 10, Webhooks: 2, Clients: 4} }
	tests := []struct {
		name string
		edit func(o *Options)
		flag string // "" when valid
	}{
		{"OK", func(o *Options) {}, ""},
		{"OKPostgres", func(o *Options) { o.DatabaseURL = "postgres://u@127.0.0.1/db" }, ""},
		{"OKPprofLoopback", func(o *Options) { o.PprofAddr = "localhost:6060" }, ""},
		{"ErrEvents", func(o *Options) { o.Events = 0 }, "--events"},
		{"ErrWebhooks", func(o *Options) { o.Webhooks = 10_001 }, "--webhooks"},
		{"ErrRateNaN", func(o *Options) { o.Rate = math.NaN() }, "--rate"},
		{"ErrRateNegative", func(o *Options) { o.Rate = -1 }, "--rate"},
		{"ErrClients", func(o *Options) { o.Clients = 0 }, "--clients"},
		{"ErrBadEndpoints", func(o *Options) { o.BadEndpoints = -1 }, "--bad-endpoints"},
		{"ErrNegativeTimeout", func(o *Options) { o.Timeout = -1 }, "--timeout"},
		{"ErrSQLiteURL", func(o *Options) { o.DatabaseURL = "sqlite:x.db" }, "--database-url"},
		{"ErrPprofPublic", func(o *Options) { o.PprofAddr = "0.0.0.0:6060" }, "--pprof"},
		{"ErrPprofNoPort", func(o *Options) { o.PprofAddr = "127.0.0.1" }, "--pprof"},
		{"OKTransform", func(o *Options) { o.Transform = "slack" }, ""},
		{"ErrTransform", func(o *Options) { o.Transform = "irc" }, "--transform"},
		{"OKWorkerProcesses", func(o *Options) { o.DatabaseURL = "postgres://u@127.0.0.1/db"; o.WorkerProcesses = 3 }, ""},
		{"ErrWorkerProcessesNegative", func(o *Options) { o.DatabaseURL = "postgres://u@127.0.0.1/db"; o.WorkerProcesses = -1 }, "--worker-processes"},
		{"ErrWorkerProcessesMany", func(o *Options) { o.DatabaseURL = "postgres://u@127.0.0.1/db"; o.WorkerProcesses = 65 }, "--worker-processes"},
		{"ErrWorkerProcessesSQLite", func(o *Options) { o.WorkerProcesses = 1 }, "--worker-processes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			o := ok()
			tt.edit(&o)
			err := o.Validate()
			switch {
			case tt.flag == "" && err != nil:
				t.Fatalf("Validate: %v", err)
			case tt.flag != "" && (err == nil || !strings.Contains(err.Error(), tt.flag)):
				t.Fatalf("Validate = %v, want an error naming %s", err, tt.flag)
			}
		})
	}
}

// The progress line and the Result read the same per-event figures,
// rounded to 0.1 µs.
func TestBenchCPUCost(t *testing.T) {
	t.Parallel()
	c := cpuCost{events: 3, withPostgres: true, self: 1000 * time.Microsecond, postgres: 2 * time.Millisecond, other: 5 * time.Millisecond}
	for _, tt := range []struct {
		name string
		d    time.Duration
		want float64
	}{
		{"Self", c.self, 333.3},
		{"Postgres", c.postgres, 666.7},
		{"Workers", c.workers, 0},
	} {
		if got := c.perMicros(tt.d); got != tt.want {
			t.Errorf("%s: perMicros = %v, want %v", tt.name, got, tt.want)
		}
	}
	want := "CPU 333.3µs per event (0.10 cores), postgres 666.7µs per event (0.20 cores); other processes 0.50 cores"
	if got := c.String(10 * time.Millisecond); got != want {
		t.Errorf("String = %q, want %q", got, want)
	}
}

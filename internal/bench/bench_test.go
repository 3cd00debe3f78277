package bench

import (
	"math"
	"strings"
	"testing"
)

// The whole run is tested through the command (cmd/agenthooks TestBench, on
// both engines); these are the checks of the options it refuses.
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

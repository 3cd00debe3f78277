package postgres

import (
	"strings"
	"testing"
)

// pool_max_conns sizes the pool and never reaches the server as a setting;
// anything but a whole number in range is refused with its name.
func TestParseURLPoolMaxConns(t *testing.T) {
	t.Parallel()
	tests := []struct {
		query string
		want  int
		err   bool
	}{
		{"", 0, false},
		{"?pool_max_conns=8", 8, false},
		{"?sslmode=disable&pool_max_conns=1", 1, false},
		{"?pool_max_conns=10000", 10000, false},
		{"?pool_max_conns=0", 0, true},
		{"?pool_max_conns=-3", 0, true},
		{"?pool_max_conns=10001", 0, true},
		{"?pool_max_conns=eight", 0, true},
		{"?pool_max_conns=", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			t.Parallel()
			cfg, n, err := parseURL("postgres://u@127.0.0.1:5432/db" + tt.query)
			if tt.err {
				if err == nil || !strings.Contains(err.Error(), "pool_max_conns") {
					t.Fatalf("error %v, want one naming pool_max_conns", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if n != tt.want {
				t.Errorf("pool_max_conns %d, want %d", n, tt.want)
			}
			if _, ok := cfg.RuntimeParams["pool_max_conns"]; ok {
				t.Errorf("pool_max_conns left among the server's settings: %v", cfg.RuntimeParams)
			}
			if cfg.RuntimeParams["synchronous_commit"] != "on" {
				t.Errorf("synchronous_commit %q, want on", cfg.RuntimeParams["synchronous_commit"])
			}
		})
	}
}

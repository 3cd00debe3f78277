package main

import (
	"strings"
	"testing"
)

func TestTrustedProxiesSetting(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		e    env
		args []string
		want int
		err  string
	}{
		{name: "Default", e: env{}},
		{name: "Env", e: env{"AGENTHOOKS_TRUSTED_PROXIES": "10.0.0.0/8, 127.0.0.1"}, want: 2},
		{name: "Flag", args: []string{"--trusted-proxies", "fd00::/8"}, want: 1},
		{name: "Bad", e: env{"AGENTHOOKS_TRUSTED_PROXIES": "10.0.0.0/99"}, err: "AGENTHOOKS_TRUSTED_PROXIES"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg, err := loadConfig(t, tt.e, tt.args...)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want one naming %s", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(cfg.TrustedProxies) != tt.want {
				t.Fatalf("%d trusted proxies %v, want %d", len(cfg.TrustedProxies), cfg.TrustedProxies, tt.want)
			}
		})
	}
}

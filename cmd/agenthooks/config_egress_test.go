package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestEgressSettings(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	creds := filepath.Join(dir, "proxy-creds")
	if err := os.WriteFile(creds, []byte("agent:s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		e     env
		args  []string
		proxy string // EgressProxy's String(), "" for none
		trace bool
		err   string
	}{
		{name: "Defaults", e: env{}},
		{name: "Env", e: env{"AGENTHOOKS_EGRESS_PROXY": "http://proxy.internal:3128", "AGENTHOOKS_TRACEPARENT": "true"}, proxy: "http://proxy.internal:3128", trace: true},
		{name: "Flags", args: []string{"--egress-proxy", "https://u:p@proxy.internal", "--traceparent=true"}, proxy: "https://u:p@proxy.internal", trace: true},
		{name: "CredentialsFile", e: env{"AGENTHOOKS_EGRESS_PROXY": "http://proxy.internal:3128", "AGENTHOOKS_EGRESS_PROXY_FILE": creds}, proxy: "http://agent:s3cret@proxy.internal:3128"},
		{name: "FlagFile", args: []string{"--egress-proxy", "http://proxy.internal:3128", "--egress-proxy-file", creds}, proxy: "http://agent:s3cret@proxy.internal:3128"},
		{name: "BadScheme", e: env{"AGENTHOOKS_EGRESS_PROXY": "socks5://u:hidden@proxy:1080"}, err: "AGENTHOOKS_EGRESS_PROXY"},
		{name: "MissingFile", e: env{"AGENTHOOKS_EGRESS_PROXY": "http://proxy:3128", "AGENTHOOKS_EGRESS_PROXY_FILE": filepath.Join(dir, "none")}, err: "AGENTHOOKS_EGRESS_PROXY_FILE"},
		{name: "BadTraceparent", e: env{"AGENTHOOKS_TRACEPARENT": "yes please"}, err: "AGENTHOOKS_TRACEPARENT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg, err := loadConfig(t, tt.e, tt.args...)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) || strings.Contains(err.Error(), "hidden") {
					t.Fatalf("err = %v, want one naming %s (and no password)", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := ""
			if cfg.EgressProxy != nil {
				got = cfg.EgressProxy.String()
			}
			if got != tt.proxy || cfg.Traceparent != tt.trace {
				t.Fatalf("proxy %q traceparent %v, want %q %v", got, cfg.Traceparent, tt.proxy, tt.trace)
			}
		})
	}
}

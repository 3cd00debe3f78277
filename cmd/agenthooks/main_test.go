package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func runCLI(t *testing.T, e env, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	code := run(ctx, args, &out, &errb, e.get)
	return code, out.String(), errb.String()
}

func TestRunArguments(t *testing.T) {
	t.Parallel()
	db := "sqlite:" + filepath.Join(t.TempDir(), "cli.db")
	tests := []struct {
		name     string
		env      env
		args     []string
		code     int
		stderrIs string // a substring of stderr
		stdoutIs string
	}{
		{"NoCommand", nil, nil, 2, "Usage", ""},
		{"Unknown", nil, []string{"frobnicate"}, 2, `unknown command "frobnicate"`, ""},
		{"Version", nil, []string{"version"}, 0, "", "agenthooks "},
		{"Help", nil, []string{"help"}, 0, "", "agenthooks serve"},
		{"BadDuration", env{"AGENTHOOKS_DELIVERY_TIMEOUT": "fast"}, []string{"serve"}, 2, "AGENTHOOKS_DELIVERY_TIMEOUT", ""},
		{"BadFlag", nil, []string{"serve", "--workers", "0"}, 2, "--workers", ""},
		{"BadBool", env{"AGENTHOOKS_ALLOW_PRIVATE_ENDPOINTS": "maybe"}, []string{"serve"}, 2, "AGENTHOOKS_ALLOW_PRIVATE_ENDPOINTS", ""},
		{"BadSchedule", env{"AGENTHOOKS_RETRY_SCHEDULE": "5s,,1m"}, []string{"serve"}, 2, "AGENTHOOKS_RETRY_SCHEDULE", ""},
		{"BadDatabase", env{"AGENTHOOKS_DATABASE_URL": "mysql://x"}, []string{"serve"}, 2, "AGENTHOOKS_DATABASE_URL", ""},
		{"BadRole", nil, []string{"serve", "--role", "both"}, 2, "--role", ""},
		{"NegativeIdle", env{"AGENTHOOKS_IDLE_CLOSE": "-1s"}, []string{"serve"}, 2, "AGENTHOOKS_IDLE_CLOSE", ""},
		{"SplitRolesNeedPostgres", env{"AGENTHOOKS_DATABASE_URL": db, "AGENTHOOKS_ADDR": "127.0.0.1:0"}, []string{"serve", "--role", "api"}, 1, "need PostgreSQL", ""},
		{"BadListenAddress", env{"AGENTHOOKS_DATABASE_URL": db, "AGENTHOOKS_ADDR": "256.0.0.1:1"}, []string{"serve"}, 1, "AGENTHOOKS_ADDR", ""},
		{"AccountNeedsName", env{"AGENTHOOKS_DATABASE_URL": db}, []string{"account", "create"}, 2, "--name", ""},
		// The account commands refuse an SQLite file that does not exist
		// (a typo would silently make an empty database); migrate creates it.
		{"AccountListMissingFile", env{"AGENTHOOKS_DATABASE_URL": db}, []string{"account", "list"}, 1, "cli.db does not exist", ""},
		{"AccountCreateMissingFile", env{"AGENTHOOKS_DATABASE_URL": db}, []string{"account", "create", "--name", "x"}, 1, "cli.db does not exist", ""},
		{"Migrate", env{"AGENTHOOKS_DATABASE_URL": db}, []string{"migrate"}, 0, "", "migrations applied"},
		{"RotateUnknown", env{"AGENTHOOKS_DATABASE_URL": db}, []string{"account", "rotate-key", "--id", "nope"}, 1, "no account", ""},
		{"ListenNeedsSecret", nil, []string{"listen"}, 2, "--secret", ""},
		{"ListenBadSecret", nil, []string{"listen", "--secret", "whsec_!!!"}, 2, "--secret", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, tt.env, tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d; stderr %q", code, tt.code, stderr)
			}
			if !strings.Contains(stderr, tt.stderrIs) {
				t.Errorf("stderr %q lacks %q", stderr, tt.stderrIs)
			}
			if !strings.Contains(stdout, tt.stdoutIs) {
				t.Errorf("stdout %q lacks %q", stdout, tt.stdoutIs)
			}
		})
	}
}

func TestAccountCommands(t *testing.T) {
	t.Parallel()
	for engine, url := range engineURLs(t) {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			dbURL := url(t)
			// account create works while serve runs on the same database.
			a, firstKey := startApp(t, env{"AGENTHOOKS_DATABASE_URL": dbURL})
			e := env{"AGENTHOOKS_DATABASE_URL": dbURL}
			code, out, stderr := runCLI(t, e, "account", "create", "--name", "Acme Leads")
			if code != 0 {
				t.Fatalf("account create: exit %d: %s", code, stderr)
			}
			var acc struct {
				ID     string `json:"id"`
				Name   string `json:"name"`
				APIKey string `json:"api_key"`
			}
			if err := json.Unmarshal([]byte(out), &acc); err != nil || acc.ID == "" || acc.Name != "Acme Leads" || !strings.HasPrefix(acc.APIKey, "ak_") {
				t.Fatalf("account create printed %q (%v)", out, err)
			}
			c := &client{t: t, base: a.URL(), key: acc.APIKey}
			wh := c.id("POST", "/outbound_webhook", map[string]any{"name": "x", "endpoint": "https://example.com/hook"})
			// Another account's id is 404, as an unknown one.
			other := &client{t: t, base: a.URL(), key: firstKey}
			if status, _ := other.do("GET", "/outbound_webhook/"+wh, nil); status != http.StatusNotFound {
				t.Errorf("another account's webhook: status %d, want 404", status)
			}

			code, out, stderr = runCLI(t, e, "account", "rotate-key", "--id", acc.ID)
			if code != 0 {
				t.Fatalf("rotate-key: exit %d: %s", code, stderr)
			}
			var rotated struct {
				ID     string `json:"id"`
				APIKey string `json:"api_key"`
			}
			if err := json.Unmarshal([]byte(out), &rotated); err != nil || rotated.ID != acc.ID || rotated.APIKey == acc.APIKey {
				t.Fatalf("rotate-key printed %q", out)
			}
			if status, _ := c.do("GET", "/outbound_webhook", nil); status != http.StatusUnauthorized {
				t.Errorf("old key after rotation: status %d, want 401", status)
			}
			c.key = rotated.APIKey
			c.must(http.StatusOK, "GET", "/outbound_webhook/"+wh, nil)
		})
	}
}

// TestSIGTERMStopsCleanly: on SIGTERM the server stops accepting, finishes
// and exits 0; a restart on the same database prints no new account.
func TestSIGTERMStopsCleanly(t *testing.T) {
	t.Parallel()
	db := "sqlite:" + filepath.Join(t.TempDir(), "term.db")
	addr := freeAddr(t)
	p := startProc(t, db, addr, true)
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve exited with %v after SIGTERM, want 0", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop within 30s of SIGTERM")
	}
	cmd := exec.Command(binary(t), "serve")
	cmd.Env = append(os.Environ(), "AGENTHOOKS_DATABASE_URL="+db, "AGENTHOOKS_ADDR="+addr)
	var out bytes.Buffer
	cmd.Stdout = &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	_ = cmd.Process.Signal(syscall.SIGTERM)
	_ = cmd.Wait()
	if out.Len() != 0 {
		t.Errorf("a restart printed %q; the first account's key must be shown once", out.String())
	}
}

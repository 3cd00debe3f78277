package main

import (
	"bytes"
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/agenthooks/agenthooks/internal/testdb"
)

// TestHelp: every command and subcommand answers --help and -h on stdout,
// exit 0, with its usage, a line on what it does, and its own flags only,
// each with its type and its default.
func TestHelp(t *testing.T) {
	t.Parallel()
	tests := []struct {
		command []string
		flags   map[string]string // flag → type shown ("" for a boolean flag)
		absent  []string          // flags of other commands that must not show
	}{
		{[]string{"serve"}, map[string]string{
			"database-url": "url", "addr": "host:port", "retry-schedule": "durations", "delivery-timeout": "duration",
			"allow-private-endpoints": "", "workers": "int", "webhook-max-in-flight": "int", "idle-close": "duration",
			"api-rate-limit": "float", "max-webhooks": "int", "role": "string", "log-level": "level",
		}, []string{"name", "secret", "events"}},
		{[]string{"account"}, nil, []string{"workers", "database-url"}},
		{[]string{"account", "create"}, map[string]string{"name": "string", "database-url": "url"}, []string{"id", "workers", "role", "addr"}},
		{[]string{"account", "rotate-key"}, map[string]string{"id": "string", "database-url": "url"}, []string{"name", "workers", "role"}},
		{[]string{"account", "list"}, map[string]string{"database-url": "url"}, []string{"name", "id", "workers", "role"}},
		{[]string{"migrate"}, map[string]string{"database-url": "url"}, []string{"workers", "role", "addr", "retry-schedule"}},
		{[]string{"demo"}, map[string]string{"addr": "string", "receiver-addr": "string", "retry-schedule": "string", "exit-after-tour": ""}, []string{"workers", "database-url"}},
		{[]string{"listen"}, map[string]string{"secret": "string", "addr": "string", "forward-to": "string"}, []string{"workers", "database-url"}},
		{[]string{"bench"}, map[string]string{
			"events": "int", "webhooks": "int", "database-url": "string", "rate": "float", "timeout": "duration",
			"clients": "int", "receiver-latency": "duration", "bad-endpoints": "int", "pprof": "string",
		}, []string{"workers", "role", "addr"}},
		{[]string{"version"}, nil, []string{"workers", "database-url"}},
	}
	flagLine := regexp.MustCompile(`(?m)^  --([a-z-]+)( [a-z:]+)?$`)
	for _, tt := range tests {
		for _, h := range []string{"--help", "-h"} {
			name := strings.Join(tt.command, "_") + h
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				code, stdout, stderr := runCLI(t, nil, append(tt.command, h)...)
				if code != 0 || stderr != "" {
					t.Fatalf("exit %d, stderr %q; want 0 and nothing on stderr", code, stderr)
				}
				if want := "Usage: agenthooks " + strings.Join(tt.command, " "); !strings.HasPrefix(stdout, want) {
					t.Fatalf("stdout does not start with %q:\n%s", want, stdout)
				}
				if lines := strings.Split(strings.TrimSpace(stdout), "\n"); len(lines) < 3 {
					t.Errorf("no line on what it does:\n%s", stdout)
				}
				shown := map[string]string{}
				lines := strings.Split(stdout, "\n")
				for i, line := range lines {
					m := flagLine.FindStringSubmatch(line)
					if m == nil {
						continue
					}
					shown[m[1]] = strings.TrimSpace(m[2])
					if i+1 >= len(lines) || !strings.Contains(lines[i+1], "default") {
						t.Errorf("--%s: no default in %q", m[1], lines[i+1])
					}
				}
				for f, typ := range tt.flags {
					got, ok := shown[f]
					if !ok {
						t.Errorf("--%s is not listed:\n%s", f, stdout)
					} else if got != typ {
						t.Errorf("--%s shows type %q, want %q", f, got, typ)
					}
				}
				for _, f := range tt.absent {
					if _, ok := shown[f]; ok {
						t.Errorf("--%s is listed, but it is not this command's", f)
					}
				}
				if len(tt.flags) > 0 && len(shown) == 0 {
					t.Errorf("no flag listed:\n%s", stdout)
				}
			})
		}
	}
}

// TestSettingKinds: every setting names the type --help shows for it.
func TestSettingKinds(t *testing.T) {
	t.Parallel()
	for _, s := range settings {
		if settingKinds[s.env] == "" {
			t.Errorf("%s has no entry in settingKinds", s.env)
		}
	}
}

// TestBoolSettingFlag: a boolean setting's flag needs no value.
func TestBoolSettingFlag(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t, nil, "--allow-private-endpoints")
	if !cfg.AllowPrivateEndpoints {
		t.Error("--allow-private-endpoints alone did not allow them")
	}
	cfg = testConfig(t, nil, "--allow-private-endpoints=false", "--workers", "7", "--delivery-timeout", "3s")
	if cfg.AllowPrivateEndpoints || cfg.Workers != 7 || cfg.DeliveryTimeout != 3*time.Second {
		t.Errorf("got %+v", cfg)
	}
}

// TestRefusedArguments: what a newcomer mistypes is refused at once, with a
// message naming what is wrong, before anything starts.
func TestRefusedArguments(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		env      env
		args     []string
		stderrIs string
	}{
		{"ListenSecretNotWhsec", nil, []string{"listen", "--secret", "nope"}, "whsec_"},
		{"ListenSecretTooShort", nil, []string{"listen", "--secret", "whsec_bm9wZQ=="}, "at least 16"},
		{"ListenSecondSecretBad", nil, []string{"listen", "--secret", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw,nope"}, "secret 2"},
		{"ServeEmptyRetrySchedule", nil, []string{"serve", "--retry-schedule", ""}, "--retry-schedule"},
		{"ServeBlankRetrySchedule", nil, []string{"serve", "--retry-schedule", " "}, "at least one delay"},
		{"DemoEmptyRetrySchedule", nil, []string{"demo", "--retry-schedule", ""}, "--retry-schedule"},
		{"AccountUnknownSubcommand", nil, []string{"account", "delete"}, `unknown account command "delete"`},
		{"AccountNoSubcommand", nil, []string{"account"}, "Usage: agenthooks account"},
		{"AccountCreateUnknownFlag", nil, []string{"account", "create", "--workers", "3"}, "flag provided but not defined"},
		{"MigrateArguments", nil, []string{"migrate", "now"}, "takes no arguments"},
		{"VersionArguments", nil, []string{"version", "now"}, "takes no arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, stdout, stderr := runCLI(t, tt.env, tt.args...)
			if code != 2 {
				t.Errorf("exit %d, want 2; stderr %q", code, stderr)
			}
			if !strings.Contains(stderr, tt.stderrIs) {
				t.Errorf("stderr %q lacks %q", stderr, tt.stderrIs)
			}
			if stdout != "" {
				t.Errorf("stdout %q, want nothing", stdout)
			}
		})
	}
}

// TestAccountList: one JSON object per line, oldest first, never a key, on
// both engines.
func TestAccountList(t *testing.T) {
	t.Parallel()
	for engine, url := range engineURLs(t) {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			e := env{"AGENTHOOKS_DATABASE_URL": url(t)}
			if code, _, stderr := runCLI(t, e, "migrate"); code != 0 { // account commands need the database to exist
				t.Fatalf("migrate: exit %d: %s", code, stderr)
			}
			if code, out, stderr := runCLI(t, e, "account", "list"); code != 0 || out != "" {
				t.Fatalf("account list on an empty database: exit %d, stdout %q, stderr %q", code, out, stderr)
			}
			var made []string
			for _, name := range []string{"First", "Second", "Third"} {
				code, out, stderr := runCLI(t, e, "account", "create", "--name", name)
				if code != 0 {
					t.Fatalf("account create: exit %d: %s", code, stderr)
				}
				var acc struct{ ID string }
				if err := json.Unmarshal([]byte(out), &acc); err != nil {
					t.Fatal(err)
				}
				made = append(made, acc.ID)
			}
			code, out, stderr := runCLI(t, e, "account", "list")
			if code != 0 {
				t.Fatalf("account list: exit %d: %s", code, stderr)
			}
			if strings.Contains(out, "ak_") || strings.Contains(out, "key") {
				t.Errorf("account list shows a key:\n%s", out)
			}
			lines := strings.Split(strings.TrimSpace(out), "\n")
			if len(lines) != len(made) {
				t.Fatalf("%d lines, want %d:\n%s", len(lines), len(made), out)
			}
			for i, line := range lines {
				var got map[string]any
				if err := json.Unmarshal([]byte(line), &got); err != nil {
					t.Fatalf("line %d is not JSON: %q", i+1, line)
				}
				if len(got) != 3 || got["id"] != made[i] || got["name"] != []string{"First", "Second", "Third"}[i] {
					t.Errorf("line %d = %v, want {id: %s, name, created_at}", i+1, got, made[i])
				}
				if ts, _ := got["created_at"].(string); ts == "" || !strings.HasSuffix(ts, "Z") {
					t.Errorf("line %d: created_at %v, want RFC 3339 UTC", i+1, got["created_at"])
				} else if _, err := time.Parse(time.RFC3339, ts); err != nil {
					t.Errorf("line %d: created_at %q: %v", i+1, ts, err)
				}
			}
		})
	}
}

// TestServeFailsWhenHTTPServerFails: serve exits 1, not 0, when its HTTP
// server stops on an error (here its listener is closed under it).
func TestServeFailsWhenHTTPServerFails(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t, env{"AGENTHOOKS_DATABASE_URL": "sqlite:" + testdb.SQLitePath(t), "AGENTHOOKS_ADDR": "127.0.0.1:0", "AGENTHOOKS_LOG_LEVEL": "warn"})
	var out bytes.Buffer
	a, err := newApp(context.Background(), cfg, newLogger(cfg, testWriter{t}), &out)
	if err != nil {
		t.Fatal(err)
	}
	a.start()
	a.ln.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if code := a.run(ctx); code != 1 {
		t.Fatalf("run = %d after the HTTP server failed, want 1", code)
	}
	if ctx.Err() != nil {
		t.Fatal("run waited for its context instead of seeing the failure")
	}
}

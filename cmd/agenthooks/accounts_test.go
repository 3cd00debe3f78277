package main

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/agenthooks/agenthooks"
)

// TestServeBindFailsFirst: a serve whose port is taken fails before it
// creates the first account, so no key is printed and lost; the next serve
// that can bind creates and prints it.
func TestServeBindFailsFirst(t *testing.T) {
	t.Parallel()
	for engine, url := range engineURLs(t) {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			taken, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer taken.Close()
			dbURL := url(t)
			e := env{"AGENTHOOKS_DATABASE_URL": dbURL, "AGENTHOOKS_ADDR": taken.Addr().String()}
			code, stdout, stderr := runCLI(t, e, "serve")
			if code != 1 || !strings.Contains(stderr, "AGENTHOOKS_ADDR") {
				t.Errorf("serve on a taken port: exit %d, stderr %q; want 1 and a message naming AGENTHOOKS_ADDR", code, stderr)
			}
			if stdout != "" {
				t.Errorf("serve on a taken port printed %q", stdout)
			}
			if strings.HasPrefix(dbURL, "sqlite:") {
				if _, err := os.Stat(strings.TrimPrefix(dbURL, "sqlite:")); !os.IsNotExist(err) {
					t.Errorf("serve on a taken port created the database file (%v)", err)
				}
			} else {
				store, err := openStore(context.Background(), dbURL, newLogger(testConfig(t, e), testWriter{t}), false)
				if err != nil {
					t.Fatal(err)
				}
				var n int
				err = store.Read(context.Background(), func(tx agenthooks.Tx) error { n, err = tx.CountAccounts(); return err })
				store.Close()
				if err != nil || n != 0 {
					t.Errorf("after serve on a taken port the database has %d accounts (%v), want 0", n, err)
				}
			}
			// startApp fails unless this serve prints the first account.
			startApp(t, env{"AGENTHOOKS_DATABASE_URL": dbURL})
		})
	}
}

// TestAdminAPIThroughServe: serve with AGENTHOOKS_ADMIN_KEY_FILE answers the
// admin API; without it, 404.
func TestAdminAPIThroughServe(t *testing.T) {
	t.Parallel()
	for engine, url := range engineURLs(t) {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			const adminKey = "platform-admin-key-for-the-test"
			file := filepath.Join(t.TempDir(), "admin_key")
			if err := os.WriteFile(file, []byte(adminKey+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			a, firstKey := startApp(t, env{"AGENTHOOKS_DATABASE_URL": url(t), "AGENTHOOKS_ADMIN_KEY_FILE": file})
			admin := &client{t: t, base: a.URL(), key: adminKey}
			created := admin.must(http.StatusCreated, "POST", "/admin/account", map[string]any{"name": "Customer 7"})
			id, _ := created["id"].(string)
			key, _ := created["api_key"].(string)
			customer := &client{t: t, base: a.URL(), key: key}
			customer.must(http.StatusCreated, "POST", "/outbound_webhook", map[string]any{"name": "crm", "endpoint": "https://example.com/hook"})
			if status, _ := (&client{t: t, base: a.URL(), key: firstKey}).do("GET", "/admin/account", nil); status != http.StatusUnauthorized {
				t.Errorf("an account key on the admin API: %d, want 401", status)
			}
			admin.must(http.StatusOK, "DELETE", "/admin/account/"+id, nil)
			if status, _ := customer.do("GET", "/outbound_webhook", nil); status != http.StatusUnauthorized {
				t.Errorf("a deleted account's key: %d, want 401", status)
			}

			off, _ := startApp(t, env{"AGENTHOOKS_DATABASE_URL": "sqlite:" + filepath.Join(t.TempDir(), "off.db")})
			if status, _ := (&client{t: t, base: off.URL(), key: adminKey}).do("GET", "/admin/account", nil); status != http.StatusNotFound {
				t.Errorf("the admin API without AGENTHOOKS_ADMIN_KEY: %d, want 404", status)
			}
		})
	}
}

// TestRotateKeyRevokesEveryKey: account rotate-key leaves the account one
// new key, whatever keys it had.
func TestRotateKeyRevokesEveryKey(t *testing.T) {
	t.Parallel()
	dbURL := "sqlite:" + filepath.Join(t.TempDir(), "rotate.db")
	a, firstKey := startApp(t, env{"AGENTHOOKS_DATABASE_URL": dbURL})
	acct, err := a.svc.Authenticate(context.Background(), firstKey)
	if err != nil {
		t.Fatal(err)
	}
	c := &client{t: t, base: a.URL(), key: firstKey}
	second, _ := c.must(http.StatusCreated, "POST", "/api_key", map[string]any{"name": "second"})["key"].(string)
	code, out, stderr := runCLI(t, env{"AGENTHOOKS_DATABASE_URL": dbURL}, "account", "rotate-key", "--id", acct.ID)
	if code != 0 {
		t.Fatalf("rotate-key: exit %d: %s", code, stderr)
	}
	for _, old := range []string{firstKey, second} {
		if status, _ := (&client{t: t, base: a.URL(), key: old}).do("GET", "/api_key", nil); status != http.StatusUnauthorized {
			t.Errorf("a key from before rotate-key: %d, want 401", status)
		}
	}
	var rotated struct {
		APIKey string `json:"api_key"`
	}
	if err := json.Unmarshal([]byte(out), &rotated); err != nil {
		t.Fatalf("rotate-key printed %q", out)
	}
	c.key = rotated.APIKey
	if items, _ := c.must(http.StatusOK, "GET", "/api_key", nil)["items"].([]any); len(items) != 1 {
		t.Errorf("after rotate-key the account has %d keys, want 1", len(items))
	}
}

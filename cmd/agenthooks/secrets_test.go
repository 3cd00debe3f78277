package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// launch starts an agenthooks on e like startApp, but returns its stop so
// that a test can restart the server on the same database. key is the first
// account's API key, "" when the database already had accounts.
func launch(t *testing.T, e env) (a *app, key string, stop func()) {
	t.Helper()
	e = mergeEnv(env{
		"AGENTHOOKS_ADDR":                    "127.0.0.1:0",
		"AGENTHOOKS_ALLOW_PRIVATE_ENDPOINTS": "true",
		"AGENTHOOKS_LOG_LEVEL":               "warn",
	}, e)
	cfg := testConfig(t, e)
	var out bytes.Buffer
	a, err := newApp(context.Background(), cfg, newLogger(cfg, testWriter{t}), &out)
	if err != nil {
		t.Fatal(err)
	}
	a.start()
	var once sync.Once
	stop = func() { once.Do(a.stop) }
	t.Cleanup(stop)
	var first struct {
		APIKey string `json:"api_key"`
	}
	if out.Len() > 0 {
		if err := json.Unmarshal(out.Bytes(), &first); err != nil {
			t.Fatalf("serve printed %q: %v", out.String(), err)
		}
	}
	return a, first.APIKey, stop
}

func newKey(t *testing.T) string {
	t.Helper()
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(k)
}

// stored reports whether s appears anywhere in the database: in the SQLite
// file or its write-ahead log, byte for byte, or in any text-like column of
// any table of the PostgreSQL database.
func stored(t *testing.T, databaseURL, s string) bool {
	t.Helper()
	if path, ok := strings.CutPrefix(databaseURL, "sqlite:"); ok {
		for _, f := range []string{path, path + "-wal"} {
			b, err := os.ReadFile(f)
			if os.IsNotExist(err) {
				continue
			} else if err != nil {
				t.Fatal(err)
			}
			if bytes.Contains(b, []byte(s)) {
				t.Logf("found in %s", f)
				return true
			}
		}
		return false
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, databaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT table_name, column_name FROM information_schema.columns
		WHERE table_schema = 'public' AND data_type IN ('text', 'character varying', 'character', 'json', 'jsonb', 'bytea')`)
	if err != nil {
		t.Fatal(err)
	}
	type column struct{ table, name string }
	var cols []column
	for rows.Next() {
		var c column
		if err := rows.Scan(&c.table, &c.name); err != nil {
			t.Fatal(err)
		}
		cols = append(cols, c)
	}
	rows.Close()
	if len(cols) == 0 {
		t.Fatal("no text columns found: the search would find nothing")
	}
	for _, c := range cols {
		var n int
		q := `SELECT COUNT(*) FROM "` + c.table + `" WHERE position($1 IN "` + c.name + `"::text) > 0`
		if err := conn.QueryRow(ctx, q, s).Scan(&n); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		if n > 0 {
			t.Logf("found in %s.%s", c.table, c.name)
			return true
		}
	}
	return false
}

// secretPart is what a secret must never be stored as: its random part.
func secretPart(secret string) string { return strings.TrimPrefix(secret, "whsec_") }

// postIdempotent POSTs body with an Idempotency-Key and returns the data.
func (c *client) postIdempotent(path, key string, body any) (int, map[string]any) {
	c.t.Helper()
	b, _ := json.Marshal(body)
	req, err := http.NewRequest("POST", c.base+"/api/v1"+path, bytes.NewReader(b))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+c.key)
	req.Header.Set("Idempotency-Key", key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m struct {
		Data map[string]any `json:"data"`
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		c.t.Fatalf("POST %s: %q", path, raw)
	}
	return resp.StatusCode, m.Data
}

// TestSecretsAtRest runs a database through the life of its secrets on each
// engine: plain (found by the search, which proves the search), sealed by
// migrate --reencrypt, served and rotated under a key (never found in the
// database, nor in the idempotency cache, while deliveries still verify),
// then moved to a new key and read with that key alone.
func TestSecretsAtRest(t *testing.T) {
	t.Parallel()
	for engine, dsn := range engineURLs(t) {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			url := dsn(t)
			k1, k2 := newKey(t), newKey(t)
			recv := newReceiver(t)

			// Plain, as before encryption existed.
			a, apiKey, stop := launch(t, env{"AGENTHOOKS_DATABASE_URL": url})
			c := &client{t: t, base: a.URL(), key: apiKey}
			w0 := c.must(http.StatusCreated, "POST", "/outbound_webhook", map[string]any{"name": "plain hook", "endpoint": recv.URL()})
			plain := w0["secret"].(string)
			if !stored(t, url, secretPart(plain)) {
				t.Fatal("a secret stored without a key was not found: the search is blind")
			}
			stop()

			var out, errOut bytes.Buffer
			if code := run(context.Background(), []string{"migrate", "--reencrypt"}, &out, &errOut,
				env{"AGENTHOOKS_DATABASE_URL": url, "AGENTHOOKS_ENCRYPTION_KEY": k1}.get); code != 0 {
				t.Fatalf("migrate --reencrypt: exit %d: %s", code, errOut.String())
			}
			if !strings.Contains(out.String(), "secrets of 1 webhooks") {
				t.Errorf("migrate --reencrypt said %q", out.String())
			}
			if stored(t, url, secretPart(plain)) {
				t.Fatal("the plain secret is still in the database after migrate --reencrypt")
			}

			// Served under k1.
			a, _, stop = launch(t, env{"AGENTHOOKS_DATABASE_URL": url, "AGENTHOOKS_ENCRYPTION_KEY": k1})
			c = &client{t: t, base: a.URL(), key: apiKey}
			if got := c.must(http.StatusOK, "GET", "/outbound_webhook/"+w0["id"].(string)+"/secret", nil)["secret"]; got != plain {
				t.Fatalf("secret read back as %v", got)
			}
			status, w1 := c.postIdempotent("/outbound_webhook", "create-w1", map[string]any{"name": "sealed hook name", "endpoint": recv.URL()})
			if status != http.StatusCreated {
				t.Fatalf("create: %d %v", status, w1)
			}
			first := w1["secret"].(string)
			rotated := c.must(http.StatusOK, "POST", "/outbound_webhook/"+w1["id"].(string)+"/rotate_secret", nil)["secret"].(string)
			if _, again := c.postIdempotent("/outbound_webhook", "create-w1", map[string]any{"name": "sealed hook name", "endpoint": recv.URL()}); again["secret"] != rotated {
				t.Errorf("replayed create after a rotation shows %v, want the current secret", again["secret"])
			}
			// Deliveries are signed with what the store decrypts.
			recv.setSecret(rotated)
			test := c.must(http.StatusOK, "POST", "/outbound_webhook/"+w1["id"].(string)+"/test", nil)
			recv.wait(30*time.Second, "the signed test event", func(got []received) bool { return len(got) >= 1 })
			if att, _ := test["attempt"].(map[string]any); att != nil && att["status_code"] != 200.0 {
				t.Errorf("test delivery: %v", test)
			}
			if !stored(t, url, "sealed hook name") {
				t.Fatal("the webhook's name was not found: the search is blind")
			}
			for name, s := range map[string]string{"plain": plain, "first": first, "rotated": rotated} {
				if stored(t, url, secretPart(s)) {
					t.Errorf("the %s secret is stored in plain text", name)
				}
			}
			stop()

			// A new key first, the old one to read: re-encrypt, then drop it.
			out.Reset()
			if code := run(context.Background(), []string{"migrate", "--reencrypt"}, &out, &errOut,
				env{"AGENTHOOKS_DATABASE_URL": url, "AGENTHOOKS_ENCRYPTION_KEY": k2 + "," + k1}.get); code != 0 {
				t.Fatalf("migrate --reencrypt to a new key: exit %d: %s", code, errOut.String())
			}
			if !strings.Contains(out.String(), "secrets of 2 webhooks") {
				t.Errorf("migrate --reencrypt said %q", out.String())
			}
			// The old key alone no longer opens them: serve refuses to start.
			cfg := testConfig(t, mergeEnv(env{"AGENTHOOKS_ADDR": "127.0.0.1:0"}, env{"AGENTHOOKS_DATABASE_URL": url, "AGENTHOOKS_ENCRYPTION_KEY": k1}))
			if _, err := newApp(context.Background(), cfg, newLogger(cfg, testWriter{t}), io.Discard); err == nil || !strings.Contains(err.Error(), "migrate --reencrypt") {
				t.Fatalf("serve with a key the secrets are not sealed with: %v, want a refusal", err)
			}
			a, _, _ = launch(t, env{"AGENTHOOKS_DATABASE_URL": url, "AGENTHOOKS_ENCRYPTION_KEY": k2})
			c = &client{t: t, base: a.URL(), key: apiKey}
			if got := c.must(http.StatusOK, "GET", "/outbound_webhook/"+w1["id"].(string)+"/secret", nil)["secret"]; got != rotated {
				t.Fatalf("with the new key alone the secret reads %v", got)
			}
		})
	}
}

// TestReencryptNeedsKey: migrate --reencrypt without a key is refused.
func TestReencryptNeedsKey(t *testing.T) {
	t.Parallel()
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"migrate", "--reencrypt"}, &out, &errOut, env{"AGENTHOOKS_DATABASE_URL": "sqlite:" + t.TempDir() + "/x.db"}.get)
	if code != 2 || !strings.Contains(errOut.String(), "AGENTHOOKS_ENCRYPTION_KEY") {
		t.Fatalf("exit %d, stderr %q", code, errOut.String())
	}
}

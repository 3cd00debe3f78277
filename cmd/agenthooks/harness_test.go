package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/agenthooks/agenthooks/internal/apiclient"
	"github.com/agenthooks/agenthooks/internal/testdb"
)

// env is a fake environment for run and configFlags.
type env map[string]string

func (e env) get(k string) string { return e[k] }

// testConfig builds a Config the way serve does, from env and flags.
func testConfig(t *testing.T, e env, args ...string) *Config {
	t.Helper()
	cfg, err := loadConfig(t, e, args...)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// loadConfig is testConfig with the configuration's error returned, for
// tests of bad values (flags that do not parse still fail the test).
func loadConfig(t *testing.T, e env, args ...string) (*Config, error) {
	t.Helper()
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	load := configFlags(fs, e.get)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return load()
}

// engineURLs returns the database URL of a fresh database per engine.
func engineURLs(t *testing.T) map[string]func(t *testing.T) string {
	return map[string]func(t *testing.T) string{
		"sqlite":   func(t *testing.T) string { return "sqlite:" + testdb.SQLitePath(t) },
		"postgres": func(t *testing.T) string { return testdb.PostgresURL(t) },
	}
}

// startApp runs a whole agenthooks (API and workers) in-process on a free
// port and returns it with the first account's API key.
func startApp(t *testing.T, e env, args ...string) (*app, string) {
	t.Helper()
	e = mergeEnv(env{
		"AGENTHOOKS_ADDR":                    "127.0.0.1:0",
		"AGENTHOOKS_ALLOW_PRIVATE_ENDPOINTS": "true",
		"AGENTHOOKS_LOG_LEVEL":               "warn",
	}, e)
	cfg := testConfig(t, e, args...)
	var out bytes.Buffer
	a, err := newApp(context.Background(), cfg, newLogger(cfg, testWriter{t}), &out)
	if err != nil {
		t.Fatal(err)
	}
	a.start()
	t.Cleanup(a.stop)
	var first struct {
		APIKey string `json:"api_key"`
	}
	if err := json.Unmarshal(out.Bytes(), &first); err != nil || first.APIKey == "" {
		t.Fatalf("serve printed %q, want the first account's JSON: %v", out.String(), err)
	}
	return a, first.APIKey
}

func mergeEnv(base, over env) env {
	for k, v := range over {
		base[k] = v
	}
	return base
}

// testWriter sends logs to t.Log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// client calls the API with one account's key (through internal/apiclient),
// failing the test on a transport error.
type client struct {
	t    *testing.T
	base string
	key  string
}

func (c *client) do(method, path string, body any) (int, map[string]any) {
	c.t.Helper()
	status, raw, err := apiclient.New(c.base, c.key, nil).Raw(context.Background(), method, path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		c.t.Fatalf("%s %s: status %d, body %q is not a JSON object", method, path, status, raw)
	}
	return status, m
}

// must calls the API and fails the test unless the status is want; it
// returns the response's data.
func (c *client) must(want int, method, path string, body any) map[string]any {
	c.t.Helper()
	status, m := c.do(method, path, body)
	if status != want {
		c.t.Fatalf("%s %s: status %d, want %d: %v", method, path, status, want, m)
	}
	d, _ := m["data"].(map[string]any)
	return d
}

func (c *client) id(method, path string, body any) string {
	c.t.Helper()
	return c.must(http.StatusCreated, method, path, body)["id"].(string)
}

// received is one request the receiver got.
type received struct {
	ID        string
	Timestamp string
	Body      []byte
	Event     map[string]any
	At        time.Time
}

// receiver is a webhook endpoint that verifies every request with the
// Standard Webhooks reference library and answers what status says.
type receiver struct {
	t      *testing.T
	srv    *httptest.Server
	mu     sync.Mutex
	secret string
	got    []received
	bad    []string
	status func(id string, n int) int // n counts this id's requests from 1
	notify chan struct{}
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{t: t, notify: make(chan struct{}, 1), status: func(string, int) int { return http.StatusOK }}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) URL() string { return r.srv.URL + "/hooks/agenthooks" }

func (r *receiver) setSecret(s string) {
	r.mu.Lock()
	r.secret = s
	r.mu.Unlock()
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	secret, status := r.secret, r.status
	r.mu.Unlock()
	wh, err := standardwebhooks.NewWebhook(secret)
	if err == nil {
		err = wh.Verify(body, req.Header)
	}
	var problems []string
	if err != nil {
		problems = append(problems, fmt.Sprintf("%s: %v", req.Header.Get("webhook-id"), err))
	}
	if ct := req.Header.Get("Content-Type"); ct != "application/json" {
		problems = append(problems, "content-type "+ct)
	}
	if ua := req.Header.Get("User-Agent"); !strings.HasPrefix(ua, "agenthooks/") {
		problems = append(problems, "user-agent "+ua)
	}
	var ev map[string]any
	if err := json.Unmarshal(body, &ev); err != nil {
		problems = append(problems, "body is not JSON: "+err.Error())
	}
	id := req.Header.Get("webhook-id")
	r.mu.Lock()
	r.bad = append(r.bad, problems...)
	n := 1
	for _, d := range r.got {
		if d.ID == id {
			n++
		}
	}
	if len(problems) == 0 {
		r.got = append(r.got, received{ID: id, Timestamp: req.Header.Get("webhook-timestamp"), Body: body, Event: ev, At: time.Now()})
	}
	r.mu.Unlock()
	select {
	case r.notify <- struct{}{}:
	default:
	}
	if len(problems) > 0 {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	// status runs outside the lock: it may block (a slow endpoint) while the
	// test reads what arrived.
	w.WriteHeader(status(id, n))
	_, _ = w.Write([]byte(`{"ok":true}`))
}

// wait polls until cond holds on the requests so far, or fails after timeout
// (a bound against hangs, not a speed assertion).
func (r *receiver) wait(timeout time.Duration, what string, cond func(got []received) bool) []received {
	r.t.Helper()
	deadline := time.After(timeout)
	for {
		r.mu.Lock()
		got := append([]received(nil), r.got...)
		bad := append([]string(nil), r.bad...)
		r.mu.Unlock()
		if len(bad) > 0 {
			r.t.Fatalf("receiver refused requests: %v", bad)
		}
		if cond(got) {
			return got
		}
		select {
		case <-r.notify:
		case <-time.After(20 * time.Millisecond):
		case <-deadline:
			r.t.Fatalf("timed out waiting for %s; got %d requests", what, len(got))
		}
	}
}

// byType returns the received events of one type, in arrival order.
func byType(got []received, typ string) []received {
	var out []received
	for _, d := range got {
		if d.Event["event"] == typ {
			out = append(out, d)
		}
	}
	return out
}

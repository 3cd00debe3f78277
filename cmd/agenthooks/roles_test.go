package main

import (
	"bytes"
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/agenthooks/agenthooks/internal/testdb"
)

// TestIdleClose: a visitor who just leaves still yields conversation.closed,
// with the transcript so far.
func TestIdleClose(t *testing.T) {
	t.Parallel()
	for engine, url := range engineURLs(t) {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			a, key := startApp(t, env{"AGENTHOOKS_DATABASE_URL": url(t), "AGENTHOOKS_IDLE_CLOSE": "300ms"})
			c := &client{t: t, base: a.URL(), key: key}
			r := newReceiver(t)
			w := setUpSeed(t, c, r)
			conv := c.id("POST", "/conversation", map[string]any{"assistant_id": w.assistant, "widget_id": w.widget, "device_type": "mobile"})
			c.must(http.StatusCreated, "POST", "/conversation/"+conv+"/message", map[string]any{"sender_type": "user", "text": "hi may i know how much is flu jab"})
			got := r.wait(20*time.Second, "the idle close", func(got []received) bool { return len(byType(got, "conversation.closed")) == 1 })
			d := checkEnvelope(t, byType(got, "conversation.closed")[0], "conversation.closed")
			if d["conversation_id"] != conv || d["chat_count"] != 1.0 || d["first_message"] != "User: hi may i know how much is flu jab" {
				t.Errorf("idle close data %v", d)
			}
			if status, _ := c.do("POST", "/conversation/"+conv+"/close", nil); status != http.StatusConflict {
				t.Errorf("closing an idle-closed conversation: %d, want 409", status)
			}
			time.Sleep(700 * time.Millisecond)
			r.mu.Lock()
			n := len(byType(r.got, "conversation.closed"))
			r.mu.Unlock()
			if n != 1 {
				t.Errorf("conversation.closed arrived %d times, want once", n)
			}
		})
	}
}

// TestSplitRoles: on PostgreSQL an API-only process and a worker-only process
// share the database; events accepted by one are delivered by the other.
func TestSplitRoles(t *testing.T) {
	t.Parallel()
	dbURL := testdb.PostgresURL(t)
	api, key := startApp(t, env{"AGENTHOOKS_DATABASE_URL": dbURL}, "--role", "api")
	if api.pool != nil {
		t.Fatal("--role api started delivery workers")
	}
	cfg := testConfig(t, env{"AGENTHOOKS_DATABASE_URL": dbURL, "AGENTHOOKS_ADDR": "127.0.0.1:0", "AGENTHOOKS_ALLOW_PRIVATE_ENDPOINTS": "true", "AGENTHOOKS_LOG_LEVEL": "warn"}, "--role", "worker")
	var out bytes.Buffer
	worker, err := newApp(context.Background(), cfg, newLogger(cfg, testWriter{t}), &out)
	if err != nil {
		t.Fatal(err)
	}
	if out.Len() != 0 {
		t.Fatalf("--role worker printed %q", out.String())
	}
	worker.start()
	t.Cleanup(worker.stop)
	// A worker listens for /healthz, /readyz and /metrics, and nothing else.
	for path, want := range map[string]int{"/healthz": 200, "/readyz": 200, "/metrics": 200, "/api/v1/outbound_webhook": 404, "/": 404} {
		resp, err := http.Get(worker.URL() + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("worker GET %s: %d, want %d", path, resp.StatusCode, want)
		}
	}

	c := &client{t: t, base: api.URL(), key: key}
	r := newReceiver(t)
	w := setUpSeed(t, c, r)
	conv := c.id("POST", "/conversation", map[string]any{"assistant_id": w.assistant, "widget_id": w.widget, "device_type": "desktop"})
	c.must(http.StatusOK, "POST", "/conversation/"+conv+"/close", nil)
	r.wait(20*time.Second, "delivery by the worker process", func(got []received) bool { return len(byType(got, "conversation.closed")) == 1 })
}

package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"
)

// rawPost sends a POST with headers and returns status and body.
func (c *client) rawPost(path string, body []byte, headers map[string]string) (int, []byte, http.Header) {
	c.t.Helper()
	req, err := http.NewRequest("POST", c.base+"/api/v1"+path, bytes.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+c.key)
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b, resp.Header
}

func TestIdempotencyKey(t *testing.T) {
	t.Parallel()
	for engine, url := range engineURLs(t) {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			a, key := startApp(t, env{"AGENTHOOKS_DATABASE_URL": url(t)})
			c := &client{t: t, base: a.URL(), key: key}
			r := newReceiver(t)
			w := setUpSeed(t, c, r)
			conv := c.id("POST", "/conversation", map[string]any{"assistant_id": w.assistant, "widget_id": w.widget, "device_type": "desktop"})
			body := []byte(`{"sender_type": "user", "text": "hello"}`)
			h := map[string]string{"Idempotency-Key": "msg-1"}
			s1, b1, _ := c.rawPost("/conversation/"+conv+"/message", body, h)
			s2, b2, h2 := c.rawPost("/conversation/"+conv+"/message", body, h)
			if s1 != http.StatusCreated || s2 != s1 || !bytes.Equal(b1, b2) || h2.Get("Idempotent-Replayed") != "true" {
				t.Fatalf("replay: %d %s / %d %s (replayed %q)", s1, b1, s2, b2, h2.Get("Idempotent-Replayed"))
			}
			conversation := c.must(http.StatusOK, "GET", "/conversation/"+conv, nil)
			if conversation["chat_count"] != 1.0 {
				t.Errorf("chat_count %v after a replayed message, want 1 (fired once)", conversation["chat_count"])
			}
			evs := c.must(http.StatusOK, "GET", "/event?event=conversation.updated", nil)
			if evs["total"] != 1.0 {
				t.Errorf("%v conversation.updated events, want 1", evs["total"])
			}
			// The same key with another body is 422; another key is a new request.
			if s, b, _ := c.rawPost("/conversation/"+conv+"/message", []byte(`{"sender_type": "user", "text": "other"}`), h); s != http.StatusUnprocessableEntity {
				t.Errorf("same key, other body: %d %s, want 422", s, b)
			}
			if s, _, _ := c.rawPost("/conversation/"+conv+"/message", body, map[string]string{"Idempotency-Key": "msg-2"}); s != http.StatusCreated {
				t.Errorf("new key: %d, want 201", s)
			}
			// 422 responses are not remembered: the corrected request may reuse the key.
			if s, _, _ := c.rawPost("/conversation/"+conv+"/message", []byte(`{"sender_type": "robot", "text": "x"}`), map[string]string{"Idempotency-Key": "msg-3"}); s != http.StatusUnprocessableEntity {
				t.Errorf("invalid body: %d, want 422", s)
			}
			if s, _, _ := c.rawPost("/conversation/"+conv+"/message", body, map[string]string{"Idempotency-Key": "msg-3"}); s != http.StatusCreated {
				t.Errorf("corrected request with the key of a 422: %d, want 201", s)
			}
			// Keys are per account.
			acc := c.must(http.StatusCreated, "POST", "/outbound_webhook", map[string]any{"name": "n", "endpoint": "https://example.com/x"})
			_ = acc
		})
	}
}

// TestIdempotencyConcurrent: the same key while the first request runs is 409.
func TestIdempotencyConcurrent(t *testing.T) {
	t.Parallel()
	a, key := startApp(t, env{"AGENTHOOKS_DATABASE_URL": "sqlite:" + t.TempDir() + "/i.db"})
	c := &client{t: t, base: a.URL(), key: key}
	// The test endpoint waits for the attempt; a slow receiver keeps it running.
	release := make(chan struct{})
	slow := newReceiver(t)
	slow.status = func(string, int) int { <-release; return http.StatusOK }
	wh := c.must(http.StatusCreated, "POST", "/outbound_webhook", map[string]any{"name": "slow", "endpoint": slow.URL()})
	slow.setSecret(wh["secret"].(string))
	h := map[string]string{"Idempotency-Key": "test-1"}
	var wg sync.WaitGroup
	var first int
	wg.Add(1)
	go func() {
		defer wg.Done()
		first, _, _ = c.rawPost("/outbound_webhook/"+wh["id"].(string)+"/test", nil, h)
	}()
	slow.wait(20*time.Second, "the test request", func(got []received) bool { return len(got) == 1 })
	s, b, _ := c.rawPost("/outbound_webhook/"+wh["id"].(string)+"/test", nil, h)
	close(release)
	wg.Wait()
	if s != http.StatusConflict {
		t.Errorf("same key while the first runs: %d %s, want 409", s, b)
	}
	if first != http.StatusOK {
		t.Errorf("first request: %d, want 200", first)
	}
}

func TestTestEventAndRecover(t *testing.T) {
	t.Parallel()
	for engine, url := range engineURLs(t) {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			a, key := startApp(t, env{"AGENTHOOKS_DATABASE_URL": url(t), "AGENTHOOKS_RETRY_SCHEDULE": "10ms"})
			c := &client{t: t, base: a.URL(), key: key}
			r := newReceiver(t)
			var mu sync.Mutex
			down := true
			r.status = func(string, int) int {
				mu.Lock()
				defer mu.Unlock()
				if down {
					return http.StatusServiceUnavailable
				}
				return http.StatusOK
			}
			w := setUpSeed(t, c, r)

			// The test event answers with its (failed) attempt.
			res := c.must(http.StatusOK, "POST", "/outbound_webhook/"+w.webhook+"/test", nil)
			at, _ := res["attempt"].(map[string]any)
			if at == nil || at["status_code"] != 503.0 {
				t.Fatalf("test answer %v: want the attempt with status 503", res)
			}
			got := r.wait(10*time.Second, "the test event", func(got []received) bool { return len(byType(got, "webhook.test")) >= 1 })
			data := checkTestEvent(t, byType(got, "webhook.test")[0])
			if data["webhook_id"] != w.webhook {
				t.Errorf("webhook.test data %v", data)
			}

			since := time.Now().UTC().Add(-time.Minute).Format(time.RFC3339)
			conv := c.id("POST", "/conversation", map[string]any{"assistant_id": w.assistant, "widget_id": w.widget, "device_type": "desktop"})
			c.must(http.StatusOK, "POST", "/conversation/"+conv+"/close", nil)
			failed := func() float64 {
				l := c.must(http.StatusOK, "GET", "/outbound_webhook/"+w.webhook+"/deliveries?status=failed", nil)
				return l["total"].(float64)
			}
			deadline := time.Now().Add(20 * time.Second)
			for failed() < 2 {
				if time.Now().After(deadline) {
					t.Fatal("deliveries did not fail")
				}
				time.Sleep(20 * time.Millisecond)
			}
			mu.Lock()
			down = false
			mu.Unlock()
			status, m := c.do("POST", "/outbound_webhook/"+w.webhook+"/recover", map[string]any{"since": since})
			data2, _ := m["data"].(map[string]any)
			if status != http.StatusAccepted || data2["queued"] != 2.0 {
				t.Fatalf("recover: %d %v, want 202 queued 2", status, m)
			}
			r.wait(20*time.Second, "the recovered events", func(got []received) bool {
				ok := 0
				for _, d := range got {
					if d.Event["event"] == "conversation.closed" || d.Event["event"] == "webhook.test" {
						ok++
					}
				}
				return ok >= 4 // two failed attempts, two recovered ones
			})
			if status, _ := c.do("POST", "/outbound_webhook/"+w.webhook+"/recover", map[string]any{"since": "yesterday"}); status != http.StatusUnprocessableEntity {
				t.Errorf("recover with a bad since: %d, want 422", status)
			}
		})
	}
}

func checkTestEvent(t *testing.T, d received) map[string]any {
	t.Helper()
	if d.Event["event"] != "webhook.test" || d.Event["id"] != d.ID {
		t.Errorf("test event envelope %v", d.Event)
	}
	data, _ := d.Event["data"].(map[string]any)
	b, _ := json.Marshal(data)
	if _, ok := data["message"].(string); !ok {
		t.Errorf("webhook.test data %s lacks message", b)
	}
	return data
}

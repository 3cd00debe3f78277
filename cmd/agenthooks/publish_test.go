package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/agenthooks/agenthooks/webhook"
)

// An event of an own type, published through the API of a running serve,
// reaches the subscribed webhook signed like any event, and the SDK
// verifies it and decodes its data raw.
func TestPublishedEventIsDeliveredSigned(t *testing.T) {
	got := make(chan *http.Request, 4)
	bodies := make(chan []byte, 4)
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- r
		bodies <- b
	}))
	t.Cleanup(recv.Close)
	a, key := startApp(t, env{"AGENTHOOKS_DATABASE_URL": "sqlite:" + t.TempDir() + "/p.db"})
	base := a.URL()
	apiCall(t, base, key, "POST", "/event_type", map[string]any{"name": "call.ended",
		"schema": map[string]any{"type": "object", "required": []string{"duration_s"}}})
	wh := apiCall(t, base, key, "POST", "/outbound_webhook", map[string]any{"name": "calls", "endpoint": recv.URL, "events": []string{"call.ended"}})
	ev := apiCall(t, base, key, "POST", "/event", map[string]any{"event_type": "call.ended", "data": map[string]any{"duration_s": 184}})
	select {
	case r := <-got:
		body := <-bodies
		v, err := webhook.NewVerifier(wh["secret"].(string))
		if err != nil {
			t.Fatal(err)
		}
		if err := v.VerifyPayload(body, r.Header); err != nil {
			t.Fatalf("signature: %v", err)
		}
		e, err := webhook.Parse(body)
		if err != nil || e.ID != ev["id"] || e.Type != "call.ended" || r.Header.Get("webhook-id") != e.ID {
			t.Fatalf("delivered %s (%v), headers %v", body, err, r.Header)
		}
		data, err := e.Decode()
		if raw, ok := data.(json.RawMessage); err != nil || !ok || string(raw) != `{"duration_s":184}` {
			t.Fatalf("decode: %#v, %v", data, err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the published event never arrived")
	}
}

package main

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/agenthooks/agenthooks/webhook/signature"
)

// A broker webhook's transformation applies as an HTTP one's does (issue
// 23): the message's body is the body the code produced, signed over it;
// cancel = true ends the delivery canceled with no message.
func TestDestinationsTransformed(t *testing.T) {
	t.Parallel()
	for broker, bc := range brokerCases {
		t.Run(broker, func(t *testing.T) {
			t.Parallel()
			needBroker(t, bc.addr)
			a, key := startApp(t, env{"AGENTHOOKS_DATABASE_URL": "sqlite:" + t.TempDir() + "/a.db"})
			c := &client{t: t, base: a.URL(), key: key}

			name := brokerName()
			dest := bc.destination(t, name)
			bc.fix(t, name)
			created := c.must(http.StatusCreated, "POST", "/outbound_webhook", map[string]any{"name": broker, "destination": dest,
				"transformation": map[string]any{"code": `function handler(w) { w.payload = {kind: "shaped", event: w.eventType, id: w.payload.id}; return w }`}})
			id, secret := created["id"].(string), created["secret"].(string)
			test := c.must(http.StatusOK, "POST", "/outbound_webhook/"+id+"/test", nil)
			waitDelivery(t, c, test["delivery_id"].(string), "succeeded")
			msgs := bc.read(t, name)
			if len(msgs) != 1 {
				t.Fatalf("consumer read %d messages, want 1", len(msgs))
			}
			m := msgs[0]
			var body map[string]any
			if err := json.Unmarshal(m.body, &body); err != nil || body["kind"] != "shaped" || body["event"] != "webhook.test" || body["id"] != test["event_id"] {
				t.Errorf("message body %s (%v), want the transformed payload", m.body, err)
			}
			sk, err := signature.ParseSecret(secret)
			if err != nil {
				t.Fatal(err)
			}
			if !signatureValid(sk, m) {
				t.Errorf("signature %q does not verify over the transformed body", m.sig)
			}

			other := brokerName()
			odest := bc.destination(t, other)
			bc.fix(t, other)
			canceled := c.must(http.StatusCreated, "POST", "/outbound_webhook", map[string]any{"name": broker + " canceled", "destination": odest,
				"transformation": map[string]any{"code": `function handler(w) { w.cancel = true; return w }`}})
			ct := c.must(http.StatusOK, "POST", "/outbound_webhook/"+canceled["id"].(string)+"/test", nil)
			waitDelivery(t, c, ct["delivery_id"].(string), "canceled")
			time.Sleep(200 * time.Millisecond) // nothing is in flight; a stray publish would have landed by now
			if n := len(bc.read(t, other)); n != 0 {
				t.Errorf("a canceled delivery published %d messages", n)
			}
		})
	}
}

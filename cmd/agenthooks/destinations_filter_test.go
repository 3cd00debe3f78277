package main

import (
	"net/http"
	"strings"
	"testing"
)

// Filters on the broker path (issue 23): a filter decides where deliveries
// are created, before any destination; a broker webhook gets only the
// events its filter matches, and counts the others.
func TestDestinationFilters(t *testing.T) {
	t.Parallel()
	for _, broker := range []string{"redis", "nats"} {
		bc := brokerCases[broker]
		t.Run(broker, func(t *testing.T) {
			t.Parallel()
			needBroker(t, bc.addr)
			a, key := startApp(t, env{"AGENTHOOKS_DATABASE_URL": "sqlite:" + t.TempDir() + "/a.db"})
			c := &client{t: t, base: a.URL(), key: key}
			name := brokerName()
			dest := bc.destination(t, name)
			bc.fix(t, name)
			hook := c.must(http.StatusCreated, "POST", "/outbound_webhook", map[string]any{"name": broker, "destination": dest,
				"events": []string{"captured_intent.created"}, "filter": map[string]any{"data.intent_name": "SALES"}})
			id := hook["id"].(string)
			asst := c.must(http.StatusCreated, "POST", "/assistant", map[string]any{"name": "a", "webhook_id": id})["id"].(string)
			widget := c.must(http.StatusCreated, "POST", "/widget", map[string]any{"assistant_id": asst, "name": "w", "widget_type": "chat"})["id"].(string)
			conv := c.must(http.StatusCreated, "POST", "/conversation", map[string]any{"assistant_id": asst, "widget_id": widget, "device_type": "mobile"})["id"].(string)
			for _, intent := range []string{"SUPPORT", "SALES", "BILLING"} {
				in := c.must(http.StatusCreated, "POST", "/intent", map[string]any{"name": intent})["id"].(string)
				c.must(http.StatusCreated, "POST", "/conversation/"+conv+"/captured_intent", map[string]any{"intent_id": in})
			}
			ds := c.must(http.StatusOK, "GET", "/outbound_webhook/"+id+"/deliveries", nil)["items"].([]any)
			if len(ds) != 1 {
				t.Fatalf("%d deliveries, want 1 (SALES)", len(ds))
			}
			waitDelivery(t, c, ds[0].(map[string]any)["id"].(string), "succeeded")
			msgs := bc.read(t, name)
			if len(msgs) != 1 || !strings.Contains(string(msgs[0].body), `"intent_name":"SALES"`) {
				t.Fatalf("the consumer read %d messages (%q), want the SALES one", len(msgs), msgs)
			}
			if n := c.must(http.StatusOK, "GET", "/outbound_webhook/"+id, nil)["events_filtered"]; n != float64(2) {
				t.Errorf("events_filtered = %v, want 2", n)
			}
		})
	}
}

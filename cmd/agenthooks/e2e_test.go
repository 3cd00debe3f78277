package main

import (
	"fmt"
	"io"
	"net/http"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

var (
	seedTimeRE = regexp.MustCompile(`^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$`)
	uuidv7RE   = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
)

// dataKeys are the keys of each event's data (docs/wire-format.md).
var dataKeys = map[string][]string{
	"captured_form.created":   {"form_id", "form_name", "widget_id", "assistant_id", "field_values", "conversation_id", "captured_form_id", "device_type", "attributes"},
	"captured_intent.created": {"intent_id", "chat_count", "intent_name", "device_type", "widget_id", "assistant_id", "conversation_id"},
	"conversation.closed":     {"widget_id", "chat_count", "contact_id", "device_type", "assistant_id", "first_message", "conversation_id", "attributes", "transcript"},
}

func keys(m map[string]any) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func sorted(s []string) []string {
	s = append([]string(nil), s...)
	sort.Strings(s)
	return s
}

// checkEnvelope checks what every delivery carries.
func checkEnvelope(t *testing.T, d received, typ string) map[string]any {
	t.Helper()
	ev := d.Event
	if got := sorted(keys(ev)); !reflect.DeepEqual(got, []string{"created_at", "data", "event", "id", "object"}) {
		t.Errorf("envelope keys %v", got)
	}
	if ev["event"] != typ || ev["object"] != "event" {
		t.Errorf("event %v object %v, want %s event", ev["event"], ev["object"], typ)
	}
	if ev["id"] != d.ID || !uuidv7RE.MatchString(d.ID) {
		t.Errorf("envelope id %v, webhook-id %s: want the same UUIDv7", ev["id"], d.ID)
	}
	if s, _ := ev["created_at"].(string); !seedTimeRE.MatchString(s) {
		t.Errorf("created_at %q not YYYY-MM-DD HH:MM:SS", s)
	}
	if ts, err := strconv.ParseInt(d.Timestamp, 10, 64); err != nil || time.Since(time.Unix(ts, 0)).Abs() > time.Minute {
		t.Errorf("webhook-timestamp %q is not the current Unix time", d.Timestamp)
	}
	data, _ := ev["data"].(map[string]any)
	if got, want := sorted(keys(data)), sorted(dataKeys[typ]); !reflect.DeepEqual(got, want) {
		t.Errorf("%s data keys %v, want %v", typ, got, want)
	}
	return data
}

// seedWorld is the set-up of Insighto's help article (docs/wire-format.md): "Add a Webhook", an assistant with "Assign
// Webhook", its chat widget, the "Algoscale Leads" form and the SALES intent.
type seedWorld struct {
	webhook, secret, assistant, widget, form, intent string
}

func setUpSeed(t *testing.T, c *client, r *receiver) seedWorld {
	t.Helper()
	var w seedWorld
	wh := c.must(http.StatusCreated, "POST", "/outbound_webhook", map[string]any{"name": "My CRM", "endpoint": r.URL()})
	w.webhook, w.secret = wh["id"].(string), wh["secret"].(string)
	r.setSecret(w.secret)
	w.assistant = c.id("POST", "/assistant", map[string]any{"name": "Algoscale assistant"})
	c.must(http.StatusOK, "PATCH", "/assistant/"+w.assistant, map[string]any{"webhook_id": w.webhook})
	w.widget = c.id("POST", "/widget", map[string]any{"assistant_id": w.assistant, "name": "Website chat", "widget_type": "chat"})
	w.form = c.id("POST", "/form", map[string]any{"name": "Algoscale Leads", "webhook_id": w.webhook, "fields": []map[string]any{
		{"name": "name", "type": "text", "required": true}, {"name": "email", "type": "text", "required": true}, {"name": "query", "type": "textarea", "required": false}}})
	w.intent = c.id("POST", "/intent", map[string]any{"name": "SALES", "description": "wants to buy"})
	return w
}

// TestSeedScenarios drives the article's three stories through the real server
// on both stores, with a receiver that verifies every signature with the
// Standard Webhooks reference library, and compares each body with the contract.
func TestSeedScenarios(t *testing.T) {
	t.Parallel()
	for engine, url := range engineURLs(t) {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			a, key := startApp(t, env{"AGENTHOOKS_DATABASE_URL": url(t)})
			c := &client{t: t, base: a.URL(), key: key}
			r := newReceiver(t)
			w := setUpSeed(t, c, r)

			// 1. A visitor asks about a product and fills the form.
			conv1 := c.id("POST", "/conversation", map[string]any{"assistant_id": w.assistant, "widget_id": w.widget, "device_type": "desktop", "attributes": map[string]any{"utm_source": "google"}})
			c.must(http.StatusCreated, "POST", "/conversation/"+conv1+"/message", map[string]any{"sender_type": "user", "text": "I need a flask developer"})
			c.must(http.StatusCreated, "POST", "/conversation/"+conv1+"/message", map[string]any{"sender_type": "bot", "text": "Please fill in the form."})
			values := map[string]any{"name": "Smith Stevens", "email": "smith@example.com", "query": "flask developer"}
			cf := c.must(http.StatusCreated, "POST", "/conversation/"+conv1+"/captured_form", map[string]any{"form_id": w.form, "field_values": values})

			// 2. A visitor books a hotel room: intent SALES, on mobile.
			conv2 := c.id("POST", "/conversation", map[string]any{"assistant_id": w.assistant, "widget_id": w.widget, "device_type": "mobile"})
			c.must(http.StatusCreated, "POST", "/conversation/"+conv2+"/message", map[string]any{"sender_type": "user", "text": "I want to book a room for two nights"})
			c.must(http.StatusCreated, "POST", "/conversation/"+conv2+"/message", map[string]any{"sender_type": "bot", "text": "Sure, which dates?"})
			c.must(http.StatusCreated, "POST", "/conversation/"+conv2+"/captured_intent", map[string]any{"intent_id": w.intent})

			// 3. "hi may i know how much is flu jab", answered, closed.
			contact := c.id("POST", "/contact", map[string]any{"first_name": "Ann", "email": "ann@example.com"})
			conv3 := c.id("POST", "/conversation", map[string]any{"assistant_id": w.assistant, "widget_id": w.widget, "device_type": "desktop", "contact_id": contact})
			c.must(http.StatusCreated, "POST", "/conversation/"+conv3+"/message", map[string]any{"sender_type": "user", "text": "hi may i know how much is flu jab"})
			c.must(http.StatusCreated, "POST", "/conversation/"+conv3+"/message", map[string]any{"sender_type": "bot", "text": "A flu jab costs £15."})
			c.must(http.StatusOK, "POST", "/conversation/"+conv3+"/close", nil)

			got := r.wait(30*time.Second, "the three seed events", func(got []received) bool {
				return len(byType(got, "captured_form.created")) >= 1 && len(byType(got, "captured_intent.created")) >= 1 && len(byType(got, "conversation.closed")) >= 1
			})

			forms := byType(got, "captured_form.created")
			if len(forms) != 1 {
				t.Fatalf("captured_form.created arrived %d times, want once (form and assistant share the webhook)", len(forms))
			}
			d := checkEnvelope(t, forms[0], "captured_form.created")
			want := map[string]any{"form_id": w.form, "form_name": "Algoscale Leads", "widget_id": w.widget, "assistant_id": w.assistant,
				"field_values": values, "conversation_id": conv1, "captured_form_id": cf["id"], "device_type": "desktop", "attributes": map[string]any{"utm_source": "google"}}
			if !reflect.DeepEqual(d, want) {
				t.Errorf("captured_form.created data\n got %v\nwant %v", d, want)
			}

			d = checkEnvelope(t, byType(got, "captured_intent.created")[0], "captured_intent.created")
			want = map[string]any{"intent_id": w.intent, "chat_count": 2.0, "intent_name": "SALES", "device_type": "mobile",
				"widget_id": w.widget, "assistant_id": w.assistant, "conversation_id": conv2}
			if !reflect.DeepEqual(d, want) {
				t.Errorf("captured_intent.created data\n got %v\nwant %v", d, want)
			}

			closed := byType(got, "conversation.closed")
			d = checkEnvelope(t, closed[0], "conversation.closed")
			if d["conversation_id"] != conv3 || d["chat_count"] != 2.0 || d["first_message"] != "User: hi may i know how much is flu jab" ||
				d["contact_id"] != contact || d["device_type"] != "desktop" || d["widget_id"] != w.widget || d["assistant_id"] != w.assistant {
				t.Errorf("conversation.closed data %v", d)
			}
			tr, _ := d["transcript"].([]any)
			if len(tr) != 2 {
				t.Fatalf("transcript has %d messages, want 2", len(tr))
			}
			m1, _ := tr[1].(map[string]any)
			if m1["sender_type"] != "bot" || m1["text"] != "A flu jab costs £15." || m1["char_count"] != 20.0 || m1["message_type"] != "text" ||
				m1["voice_base64"] != nil || m1["data_sources"] != nil || !seedTimeRE.MatchString(fmt.Sprint(m1["created_at"])) {
				t.Errorf("transcript message %v", m1)
			}

			// The event log shows every event with its delivery, and the
			// delivery shows its attempt.
			evs := c.must(http.StatusOK, "GET", "/event?event=conversation.closed", nil)
			if evs["total"] != 1.0 {
				t.Errorf("GET /event?event=conversation.closed total %v, want 1", evs["total"])
			}
			ev := c.must(http.StatusOK, "GET", "/event/"+closed[0].ID, nil)
			ds, _ := ev["deliveries"].([]any)
			if len(ds) != 1 {
				t.Fatalf("event has %d deliveries, want 1", len(ds))
			}
			did := ds[0].(map[string]any)["id"].(string)
			waitDelivery(t, c, did, "succeeded")
			dv := c.must(http.StatusOK, "GET", "/delivery/"+did, nil)
			atts, _ := dv["attempts"].([]any)
			if len(atts) != 1 || atts[0].(map[string]any)["status_code"] != 200.0 || dv["attempt_count"] != 1.0 {
				t.Errorf("delivery %v", dv)
			}
			if body := atts[0].(map[string]any)["response_body"]; body != `{"ok":true}` {
				t.Errorf("attempt response_body %q", body)
			}
		})
	}
}

// waitDelivery polls GET /delivery/{id} until its status is want.
func waitDelivery(t *testing.T, c *client, id, want string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		d := c.must(http.StatusOK, "GET", "/delivery/"+id, nil)
		if d["status"] == want {
			return d
		}
		if time.Now().After(deadline) {
			t.Fatalf("delivery %s is %v, want %s: %v", id, d["status"], want, d)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestRetriesOnSchedule: a receiver that fails the first attempts gets the
// same event again on the configured schedule, with the same webhook-id, and
// GET /delivery shows every attempt; after the last attempt it ends failed.
func TestRetriesOnSchedule(t *testing.T) {
	t.Parallel()
	for engine, url := range engineURLs(t) {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			schedule := []time.Duration{200 * time.Millisecond, 400 * time.Millisecond}
			a, key := startApp(t, env{"AGENTHOOKS_DATABASE_URL": url(t), "AGENTHOOKS_RETRY_SCHEDULE": "200ms,400ms"})
			c := &client{t: t, base: a.URL(), key: key}
			r := newReceiver(t)
			w := setUpSeed(t, c, r)
			fails := map[string]int{} // conversation → failures before success (3 = always)
			r.status = func(id string, n int) int {
				r.mu.Lock() // closeOne registers failures under the lock
				defer r.mu.Unlock()
				if n <= fails[id] {
					return http.StatusInternalServerError
				}
				return http.StatusOK
			}
			closeOne := func(failures int) string {
				conv := c.id("POST", "/conversation", map[string]any{"assistant_id": w.assistant, "widget_id": w.widget, "device_type": "phone"})
				// The event id is only known after the call: register the
				// failures before the worker can deliver, under the lock.
				r.mu.Lock()
				defer r.mu.Unlock()
				c.must(http.StatusOK, "POST", "/conversation/"+conv+"/close", nil)
				evs := c.must(http.StatusOK, "GET", "/event?event=conversation.closed&size=1", nil)
				id := evs["items"].([]any)[0].(map[string]any)["id"].(string)
				fails[id] = failures
				return id
			}
			recovered := closeOne(2)
			dead := closeOne(3)

			got := r.wait(30*time.Second, "3 attempts of each event", func(got []received) bool {
				n := map[string]int{}
				for _, d := range got {
					n[d.ID]++
				}
				return n[recovered] == 3 && n[dead] == 3
			})
			var times []time.Time
			for _, d := range got {
				if d.ID == recovered {
					times = append(times, d.At)
				}
			}
			// Jitter is at most ±20%: each gap is at least 80% of its delay.
			for i, delay := range schedule {
				if gap := times[i+1].Sub(times[i]); gap < delay*8/10 {
					t.Errorf("attempt %d came %v after the one before; the schedule says %v (±20%%)", i+2, gap, delay)
				}
			}

			for id, want := range map[string]struct {
				status string
				codes  []any
			}{recovered: {"succeeded", []any{500.0, 500.0, 200.0}}, dead: {"failed", []any{500.0, 500.0, 500.0}}} {
				ev := c.must(http.StatusOK, "GET", "/event/"+id, nil)
				did := ev["deliveries"].([]any)[0].(map[string]any)["id"].(string)
				d := waitDelivery(t, c, did, want.status)
				var codes []any
				for _, at := range d["attempts"].([]any) {
					codes = append(codes, at.(map[string]any)["status_code"])
				}
				if !reflect.DeepEqual(codes, want.codes) || d["attempt_count"] != 3.0 {
					t.Errorf("delivery %s: attempts %v (count %v), want %v", did, codes, d["attempt_count"], want.codes)
				}
				if want.status == "failed" && d["next_attempt_at"] != nil {
					t.Errorf("failed delivery has next_attempt_at %v", d["next_attempt_at"])
				}
			}
			// No fourth attempt of the dead one.
			time.Sleep(600 * time.Millisecond)
			r.mu.Lock()
			n := 0
			for _, d := range r.got {
				if d.ID == dead {
					n++
				}
			}
			r.mu.Unlock()
			if n != 3 {
				t.Errorf("the failed event was attempted %d times, want 3 (1 + schedule)", n)
			}

			// A manual retry makes one more attempt and keeps the history.
			r.mu.Lock()
			fails[dead] = 0
			r.mu.Unlock()
			ev := c.must(http.StatusOK, "GET", "/event/"+dead, nil)
			did := ev["deliveries"].([]any)[0].(map[string]any)["id"].(string)
			c.must(http.StatusAccepted, "POST", "/delivery/"+did+"/retry", nil)
			d := waitDelivery(t, c, did, "succeeded")
			if len(d["attempts"].([]any)) != 4 {
				t.Errorf("after retry: %d attempts, want 4", len(d["attempts"].([]any)))
			}
		})
	}
}

func TestMetricsAndHealth(t *testing.T) {
	t.Parallel()
	a, key := startApp(t, env{"AGENTHOOKS_DATABASE_URL": "sqlite:" + t.TempDir() + "/m.db"})
	c := &client{t: t, base: a.URL(), key: key}
	r := newReceiver(t)
	w := setUpSeed(t, c, r)
	conv := c.id("POST", "/conversation", map[string]any{"assistant_id": w.assistant, "widget_id": w.widget, "device_type": "desktop"})
	c.must(http.StatusOK, "POST", "/conversation/"+conv+"/close", nil)
	r.wait(10*time.Second, "the event", func(got []received) bool { return len(got) == 1 })
	var body string
	// The queue's gauges are cached for 5 s.
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(body, `agenthooks_deliveries{status="succeeded"} 1`) {
		if time.Now().After(deadline) {
			t.Fatalf("/metrics never showed the delivery:\n%s", body)
		}
		resp, err := http.Get(a.URL() + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		body = string(b)
		time.Sleep(20 * time.Millisecond)
	}
	for _, want := range []string{
		"agenthooks_deliveries_succeeded_total 1", "agenthooks_up 1", `agenthooks_deliveries{status="pending"} 0`,
		`agenthooks_events_total{event="conversation.closed"} 1`, "agenthooks_queue_oldest_due_seconds 0",
		"agenthooks_delivery_attempt_duration_seconds_bucket", "agenthooks_webhooks_circuit_open 0",
		`agenthooks_delivery_attempts_total{outcome="succeeded"}`, "go_goroutines", "process_resident_memory_bytes",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q:\n%s", want, body)
		}
	}
	for _, path := range []string{"/healthz", "/readyz"} {
		resp, err := http.Get(a.URL() + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s: %d", path, resp.StatusCode)
		}
	}
}

package httpapi_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"math"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/agenthooks/agenthooks"
	"github.com/agenthooks/agenthooks/httpapi"
	"github.com/agenthooks/agenthooks/service"
)

// webhookKeys are the fields docs/api.md says a webhook reads.
var webhookKeys = []string{"id", "name", "endpoint", "enabled", "disabled_reason", "events", "ordering", "headers", "rate_limit", "created_at"}

func TestAuth(t *testing.T) {
	t.Parallel()
	b := setup(t)

	cases := []struct {
		name   string
		path   string
		header string // Authorization header, if any
		want   int
	}{
		{"NoKey", "/api/v1/outbound_webhook", "", http.StatusUnauthorized},
		{"WrongQueryKey", "/api/v1/outbound_webhook?api_key=ak_wrong", "", http.StatusUnauthorized},
		{"WrongBearer", "/api/v1/outbound_webhook", "Bearer ak_wrong", http.StatusUnauthorized},
		{"EmptyBearer", "/api/v1/outbound_webhook", "Bearer ", http.StatusUnauthorized},
		{"BasicScheme", "/api/v1/outbound_webhook", "Basic " + b.keyA, http.StatusUnauthorized},
		{"QueryKey", "/api/v1/outbound_webhook?api_key=" + b.keyA, "", http.StatusOK},
		{"Bearer", "/api/v1/outbound_webhook", "Bearer " + b.keyA, http.StatusOK},
		{"BearerLowerCase", "/api/v1/outbound_webhook", "bearer " + b.keyA, http.StatusOK},
		{"NoKeyEventType", "/api/v1/event_type", "", http.StatusUnauthorized},
		{"Healthz", "/healthz", "", http.StatusOK},
		{"Readyz", "/readyz", "", http.StatusOK},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := b.on(t)
			req, err := http.NewRequest("GET", b.srv.URL+tc.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			if tc.header != "" {
				req.Header.Set("Authorization", tc.header)
			}
			r := b.send(req)
			if r.Status != tc.want {
				t.Fatalf("status %d, want %d: %s", r.Status, tc.want, r.Raw)
			}
			if tc.want == http.StatusUnauthorized {
				if _, ok := r.Body["detail"].(string); !ok {
					t.Fatalf("401 body has no string detail: %s", r.Raw)
				}
			}
		})
	}

	t.Run("KeysAreScopedToTheirAccount", func(t *testing.T) {
		t.Parallel()
		b := b.on(t)
		id := str(t, b.webhook(b.keyB, nil), "id")
		b.expect(http.StatusOK, b.keyB, "GET", "/api/v1/outbound_webhook/"+id, nil)
		b.expect(http.StatusNotFound, b.keyA, "GET", "/api/v1/outbound_webhook/"+id, nil)
	})
}

// route is one route of server.go, called with the ids of a world.
type route struct {
	method, pattern string // exactly as registered in server.go
	kind            string // the kind of resource {id} names, "" if none
	body            func(w *world) any
	status          int
	keys            []string // keys data must have ("list" for a list)
}

// routes lists every route of server.go with a valid request and its success
// status. Order matters in TestRoutes: state-changing actions come last.
var routes = []route{
	{"POST", "/outbound_webhook", "", func(*world) any {
		return map[string]any{"name": "n", "endpoint": publicEndpoint}
	}, 201, append([]string{"secret"}, webhookKeys...)},
	{"GET", "/outbound_webhook", "", nil, 200, []string{"list"}},
	{"GET", "/outbound_webhook/{id}", "webhook", nil, 200, webhookKeys},
	{"PATCH", "/outbound_webhook/{id}", "webhook", func(*world) any { return map[string]any{"name": "renamed"} }, 200, webhookKeys},
	{"GET", "/outbound_webhook/{id}/secret", "webhook", nil, 200, []string{"secret"}},
	{"POST", "/outbound_webhook/{id}/rotate_secret", "webhook", nil, 200, append([]string{"secret"}, webhookKeys...)},
	{"GET", "/outbound_webhook/{id}/deliveries", "webhook", nil, 200, []string{"list"}},
	{"POST", "/outbound_webhook/{id}/test", "webhook", nil, 200, []string{"event_id", "delivery_id", "status", "attempt"}},
	{"POST", "/outbound_webhook/{id}/transformation/test", "webhook", func(*world) any {
		return map[string]any{"code": "function handler(w) { w.payload = {n: 1}; return w }", "event_type": "x.y", "payload": map[string]any{}}
	}, 200, []string{"method", "url", "headers", "body", "cancel"}},
	{"POST", "/outbound_webhook/{id}/filter/test", "webhook", func(*world) any {
		return map[string]any{"filter": map[string]any{"event": "x"}, "payload": map[string]any{"event": "x"}}
	}, 200, []string{"matches", "event_id"}},
	{"GET", "/transformation_template", "", nil, 200, []string{"array"}},
	{"POST", "/outbound_webhook/{id}/recover", "webhook", func(*world) any { return map[string]any{"since": "2000-01-01T00:00:00Z"} }, 202,
		[]string{"queued"}},

	{"POST", "/assistant", "", func(w *world) any { return map[string]any{"name": "a", "webhook_id": w.webhook} }, 201,
		[]string{"id", "name", "assistant_type", "webhook_id"}},
	{"GET", "/assistant", "", nil, 200, []string{"list"}},
	{"GET", "/assistant/{id}", "assistant", nil, 200, []string{"id", "name", "assistant_type", "webhook_id"}},
	{"PATCH", "/assistant/{id}", "assistant", func(w *world) any { return map[string]any{"webhook_id": w.webhook} }, 200,
		[]string{"id", "name", "assistant_type", "webhook_id"}},

	{"POST", "/widget", "", func(w *world) any {
		return map[string]any{"assistant_id": w.assistant, "name": "w", "widget_type": "whatsapp"}
	}, 201, []string{"id", "assistant_id", "name", "widget_type"}},
	{"GET", "/widget", "", nil, 200, []string{"list"}},
	{"GET", "/widget/{id}", "widget", nil, 200, []string{"id", "assistant_id", "name", "widget_type"}},

	{"POST", "/form", "", func(w *world) any {
		return map[string]any{"name": "f", "fields": []any{map[string]any{"name": "x", "type": "gdpr", "required": true}}, "webhook_id": w.webhook}
	}, 201, []string{"id", "name", "fields", "webhook_id"}},
	{"GET", "/form", "", nil, 200, []string{"list"}},
	{"GET", "/form/{id}", "form", nil, 200, []string{"id", "name", "fields", "webhook_id"}},
	{"PATCH", "/form/{id}", "form", func(*world) any { return map[string]any{"name": "renamed"} }, 200, []string{"id", "name", "fields", "webhook_id"}},

	{"POST", "/intent", "", func(*world) any { return map[string]any{"name": "SUPPORT"} }, 201, []string{"id", "name", "description"}},
	{"GET", "/intent", "", nil, 200, []string{"list"}},
	{"GET", "/intent/{id}", "intent", nil, 200, []string{"id", "name", "description"}},

	{"POST", "/contact", "", func(*world) any { return map[string]any{"email": "x@y.z"} }, 201,
		[]string{"id", "first_name", "last_name", "email", "phone_number"}},
	{"GET", "/contact", "", nil, 200, []string{"list"}},
	{"GET", "/contact/{id}", "contact", nil, 200, []string{"id", "first_name", "last_name", "email", "phone_number"}},

	// Insighto's own routes (insighto.go).
	{"PUT", "/assistant/{id}", "assistant", func(*world) any { return map[string]any{"llm_model": "gpt-4o", "voice_languages": []string{"en-US"}} }, 200,
		assistantKeys},
	{"POST", "/assistant/{id}/intent/{intent_id}", "assistant", nil, 200, []string{"id", "assistant_id", "intent_id", "is_active", "attributes"}},
	{"PUT", "/widget/{id}", "widget", func(*world) any { return map[string]any{"widget_type": "web_call"} }, 200, widgetKeys},
	{"PATCH", "/widget/{id}", "widget", func(*world) any { return map[string]any{"name": "renamed"} }, 200, widgetKeys},
	{"GET", "/intent/list", "", nil, 200, []string{"list"}},
	{"PUT", "/contact/{id}", "contact", func(*world) any { return map[string]any{"last_name": "Byron"} }, 200, contactKeys},
	{"PATCH", "/contact/{id}", "contact", func(*world) any { return map[string]any{"phone_number": "+44 1234"} }, 200, contactKeys},
	{"POST", "/contact/upsert", "", func(*world) any { return query("email=ADA@example.com&first_name=Augusta") }, 200, contactKeys},

	{"POST", "/conversation", "", func(w *world) any {
		return map[string]any{"assistant_id": w.assistant, "widget_id": w.widget, "device_type": "mobile"}
	}, 201, []string{"id", "assistant_id", "widget_id", "contact_id", "device_type", "attributes"}},
	{"GET", "/conversation", "", nil, 200, []string{"list"}},
	{"GET", "/conversation/{id}", "conversation", nil, 200, []string{"id", "assistant_id", "widget_id", "transcript"}},
	{"POST", "/conversation/{id}/message", "conversation", func(*world) any {
		return map[string]any{"sender_type": "user", "text": "hi", "message_type": "voice"}
	}, 201, []string{"id", "conversation_id", "sender_type", "message_type", "text"}},
	{"GET", "/conversation/{id}/transcript", "conversation", nil, 200, []string{"list"}},
	{"GET", "/conversation/by-contact/{contact_id}", "contact", nil, 200, []string{"list"}},
	{"POST", "/conversation/{id}/captured_form", "conversation", func(w *world) any {
		return map[string]any{"form_id": w.form, "field_values": map[string]any{"email": "x@y.z"}}
	}, 201, []string{"id", "conversation_id", "form_id", "field_values"}},
	{"POST", "/conversation/{id}/captured_intent", "conversation", func(w *world) any { return map[string]any{"intent_id": w.intent} }, 201,
		[]string{"id", "conversation_id", "intent_id"}},
	{"PATCH", "/captured_form/{id}", "captured_form", func(*world) any { return map[string]any{"field_values": map[string]any{"note": "n"}} }, 200,
		[]string{"id", "field_values"}},

	{"GET", "/event", "", nil, 200, []string{"list"}},
	{"GET", "/event/{id}", "event", nil, 200, []string{"id", "event", "payload", "deliveries"}},
	{"GET", "/delivery/{id}", "delivery", nil, 200, []string{"id", "event_id", "webhook_id", "status", "attempt_count", "next_attempt_at", "attempts"}},
	{"POST", "/delivery/{id}/retry", "delivery", nil, 202, []string{"id", "status"}},
	{"GET", "/delivery", "", nil, 200, []string{"list"}},
	{"POST", "/event/{id}/replay", "event", nil, 202, []string{"queued"}},
	{"GET", "/event_type", "", nil, 200, []string{"list"}},
	{"POST", "/event_type", "", func(*world) any {
		return map[string]any{"name": "routes.created", "schema": map[string]any{"type": "object"}}
	}, 201,
		eventTypeKeys},
	{"GET", "/event_type/{name}", "event_type", nil, 200, eventTypeKeys},
	{"PATCH", "/event_type/{name}", "event_type", func(*world) any { return map[string]any{"deprecated": true} }, 200, eventTypeKeys},
	{"POST", "/event", "", func(w *world) any {
		return map[string]any{"event_type": w.eventType, "data": map[string]any{"n": 1}, "assistant_id": w.assistant, "conversation_id": w.conversation}
	}, 201, []string{"id", "event", "payload", "deliveries"}},
	{"POST", "/api_key", "", func(*world) any { return map[string]any{"name": "deploy"} }, 201, []string{"id", "name", "key", "created_at"}},
	{"GET", "/api_key", "", nil, 200, []string{"list"}},
	{"GET", "/api_key/{id}", "api_key", nil, 200, apiKeyKeys},
	{"POST", "/portal_session", "", func(*world) any { return map[string]any{"expires_in": 120, "read_only": true} }, 201, []string{"url", "expires_at"}},

	{"POST", "/conversation/{id}/close", "conversation", nil, 200, []string{"id", "status"}},
	{"DELETE", "/assistant/{id}/intent/{intent_id}", "assistant", nil, 200, assistantKeys},
	{"DELETE", "/intent/{id}", "intent", nil, 200, nil},
	{"DELETE", "/widget/{id}", "widget", nil, 200, nil},
	{"DELETE", "/assistant/{id}", "assistant", nil, 200, nil},
	{"DELETE", "/outbound_webhook/{id}", "webhook", nil, 200, nil},
	{"DELETE", "/api_key/{id}", "api_key", nil, 200, nil},
	{"DELETE", "/event_type/{name}", "event_type", nil, 200, []string{"name"}},
}

// eventTypeKeys are the keys of an event type as read.
var eventTypeKeys = []string{"name", "description", "schema", "built_in", "deprecated", "created_at"}

// Keys of the resources Insighto's own routes answer.
var (
	assistantKeys = insightoAssistantKeys
	widgetKeys    = insightoWidgetKeys
	contactKeys   = insightoContactKeys
)

// query is a route's input given as a query string instead of a body.
type query string

// path is the route's path with id in its first wildcard ({id}, or
// {contact_id} where there is no {id}) and w's ids in any other.
func (r route) path(id string, w *world) string {
	p := r.pattern
	if strings.Contains(p, "{id}") {
		p = strings.Replace(p, "{id}", id, 1)
	} else if strings.Contains(p, "{name}") {
		p = strings.Replace(p, "{name}", id, 1)
	} else {
		p = strings.Replace(p, "{"+r.kind+"_id}", id, 1)
	}
	return "/api/v1" + strings.ReplaceAll(p, "{intent_id}", w.intent)
}

// request is the path and body of a call of the route.
func (r route) request(id string, w *world) (string, any) {
	path := r.path(id, w)
	if r.body == nil {
		return path, nil
	}
	body := r.body(w)
	if q, ok := body.(query); ok {
		return path + "?" + string(q), nil
	}
	return path, body
}

func (r route) name() string {
	return r.method + " " + r.pattern
}

// TestRoutesCoverServer fails when the server registers a route that the
// routes table (and so TestRoutes and TestNotFound) does not exercise.
func TestRoutesCoverServer(t *testing.T) {
	t.Parallel()
	b := setup(t)
	registered := httpapi.RegisteredRoutes(httpapi.New(b.svc, nil))
	if len(registered) == 0 {
		t.Fatal("the server registers no routes")
	}
	for _, pattern := range registered {
		if !slices.ContainsFunc(routes, func(r route) bool { return r.name() == pattern }) {
			t.Errorf("route %q is not in the routes table", pattern)
		}
	}
}

func TestRoutes(t *testing.T) {
	t.Parallel()
	b := setup(t)
	w := b.world(b.keyA)

	for _, rt := range routes {
		path, body := rt.request(w.id(orKind(rt.kind)), w)
		r := b.expect(rt.status, b.keyA, rt.method, path, body)
		switch {
		case slices.Contains(rt.keys, "list"):
			if len(r.items(t)) == 0 {
				t.Errorf("%s: empty list: %s", rt.name(), r.Raw)
			}
		case slices.Contains(rt.keys, "array"): // data is an array (transformation_template)
			if a, ok := r.Body["data"].([]any); !ok || len(a) == 0 {
				t.Errorf("%s: data is not a non-empty array: %s", rt.name(), r.Raw)
			}
		default:
			hasKeys(t, r.data(t), rt.keys...)
		}
		if rt.method == "DELETE" && slices.ContainsFunc(routes, func(o route) bool { return o.name() == "GET "+rt.pattern }) {
			b.expect(http.StatusNotFound, b.keyA, "GET", path, nil)
		}
	}
}

// orKind makes routes without an id harmless to look up.
func orKind(kind string) string {
	if kind == "" {
		return "webhook"
	}
	return kind
}

func TestNotFound(t *testing.T) {
	t.Parallel()
	b := setup(t)
	mine := b.world(b.keyA)
	theirs := b.world(b.keyB)

	ids := []struct {
		name string
		id   func(kind string) string
	}{
		{"Unknown", func(string) string { return service.NewID() }},
		{"Malformed", func(string) string { return "not-a-uuid" }},
		{"MalformedQuote", func(string) string { return "x'%20OR%20'1'='1" }},
		{"OtherAccount", theirs.id},
	}
	for _, rt := range routes {
		if rt.kind == "" {
			continue
		}
		for _, id := range ids {
			t.Run(rt.name()+"/"+id.name, func(t *testing.T) {
				t.Parallel()
				b := b.on(t)
				// The body is valid for account A: only the id is wrong.
				path, body := rt.request(id.id(rt.kind), mine)
				r := b.expect(http.StatusNotFound, b.keyA, rt.method, path, body)
				if _, ok := r.Body["detail"].(string); !ok {
					t.Fatalf("404 detail is not a string: %s", r.Raw)
				}
			})
		}
	}

	// The 404s above must not have touched B's resources. Cleanup runs after
	// the parallel subtests.
	t.Cleanup(func() {
		b.expect(http.StatusOK, b.keyB, "GET", "/api/v1/outbound_webhook/"+theirs.webhook, nil)
		b.expect(http.StatusOK, b.keyB, "GET", "/api/v1/assistant/"+theirs.assistant, nil)
		c := b.expect(http.StatusOK, b.keyB, "GET", "/api/v1/conversation/"+theirs.conversation, nil).data(b.tb)
		if c["status"] != "open" {
			b.tb.Errorf("B's conversation was changed by A's requests: %v", c)
		}
		d := b.expect(http.StatusOK, b.keyB, "GET", "/api/v1/delivery/"+theirs.delivery, nil).data(b.tb)
		if d["status"] != "pending" {
			b.tb.Errorf("B's delivery was changed by A's requests: %v", d)
		}
	})
}

func TestUnknownPathAndMethod(t *testing.T) {
	t.Parallel()
	b := setup(t)
	cases := []struct {
		name, method, path string
		want               int
	}{
		{"UnknownAPIPath", "GET", "/api/v1/nope", 404},
		{"UnknownRoot", "GET", "/nope", 404},
		{"UnknownSubPath", "GET", "/api/v1/outbound_webhook/x/y/z", 404},
		{"WrongMethodOnList", "PUT", "/api/v1/outbound_webhook", 405},
		{"WrongMethodOnItem", "DELETE", "/api/v1/form/x", 405},
		{"WrongMethodOnAction", "GET", "/api/v1/conversation/x/close", 405},
		{"WrongMethodOnAsideRoute", "DELETE", "/api/v1/conversation/by-contact/x", 405},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := b.on(t)
			for _, key := range []string{"", b.keyA} {
				r := b.expect(tc.want, key, tc.method, tc.path, nil)
				if _, ok := r.Body["detail"].(string); !ok {
					t.Fatalf("detail is not a string: %s", r.Raw)
				}
				if tc.want == 405 && r.Header.Get("Allow") == "" {
					t.Errorf("405 without Allow header")
				}
			}
		})
	}
}

func TestWebhookSecret(t *testing.T) {
	t.Parallel()
	b := setup(t)
	created := b.webhook(b.keyA, nil)
	id := str(t, created, "id")
	hasKeys(t, created, webhookKeys...)
	secret := str(t, created, "secret")
	checkSecret(t, secret)

	// Reads, lists and updates never show the secret.
	noSecret := []struct{ name, method, path string }{
		{"Get", "GET", "/api/v1/outbound_webhook/" + id},
		{"Patch", "PATCH", "/api/v1/outbound_webhook/" + id},
	}
	for _, c := range noSecret {
		var body any
		if c.method == "PATCH" {
			body = map[string]any{"enabled": true}
		}
		r := b.expect(http.StatusOK, b.keyA, c.method, c.path, body)
		hasKeys(t, r.data(t), webhookKeys...)
		if strings.Contains(string(r.Raw), secret) || r.data(t)["secret"] != nil {
			t.Errorf("%s shows the secret: %s", c.name, r.Raw)
		}
	}
	list := b.expect(http.StatusOK, b.keyA, "GET", "/api/v1/outbound_webhook", nil)
	for _, it := range list.items(t) {
		hasKeys(t, it, webhookKeys...)
	}
	if strings.Contains(string(list.Raw), secret) || strings.Contains(string(list.Raw), "whsec_") {
		t.Errorf("list shows a secret: %s", list.Raw)
	}

	got := b.expect(http.StatusOK, b.keyA, "GET", "/api/v1/outbound_webhook/"+id+"/secret", nil).data(t)
	if got["secret"] != secret {
		t.Errorf("GET secret = %v, want %q", got["secret"], secret)
	}

	rotated := b.expect(http.StatusOK, b.keyA, "POST", "/api/v1/outbound_webhook/"+id+"/rotate_secret", nil).data(t)
	hasKeys(t, rotated, webhookKeys...)
	newSecret := str(t, rotated, "secret")
	checkSecret(t, newSecret)
	if newSecret == secret {
		t.Errorf("rotate_secret kept the secret")
	}
	got = b.expect(http.StatusOK, b.keyA, "GET", "/api/v1/outbound_webhook/"+id+"/secret", nil).data(t)
	if got["secret"] != newSecret {
		t.Errorf("GET secret after rotation = %v, want %q", got["secret"], newSecret)
	}
}

func checkSecret(tb testing.TB, s string) {
	tb.Helper()
	rest, ok := strings.CutPrefix(s, "whsec_")
	if !ok {
		tb.Fatalf("secret %q does not start with whsec_", s)
	}
	key, err := base64.StdEncoding.DecodeString(rest)
	if err != nil || len(key) < 24 {
		tb.Fatalf("secret %q is not whsec_ + base64 of 24+ bytes (%d bytes, %v)", s, len(key), err)
	}
}

func TestWebhookDefaultsAndUpdate(t *testing.T) {
	t.Parallel()
	b := setup(t)
	wh := b.webhook(b.keyA, nil)
	if wh["enabled"] != true || wh["disabled_reason"] != nil || wh["ordering"] != "none" || wh["rate_limit"] != nil {
		t.Errorf("defaults: %v", wh)
	}
	if ev, _ := wh["events"].([]any); len(ev) != 5 {
		t.Errorf("default events = %v, want all 5 types", wh["events"])
	}
	if h, ok := wh["headers"].(map[string]any); !ok || len(h) != 0 {
		t.Errorf("default headers = %v, want {}", wh["headers"])
	}
	if !regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$`).MatchString(str(t, wh, "created_at")) {
		t.Errorf("created_at %v is not RFC 3339 UTC", wh["created_at"])
	}
	id := str(t, wh, "id")

	full := b.webhook(b.keyA, map[string]any{"enabled": false, "events": []string{"conversation.closed"}, "ordering": "conversation",
		"headers": map[string]string{"X-Team": "a"}, "rate_limit": 2.5, "unknown_field": []int{1}})
	if full["enabled"] != false || full["disabled_reason"] != "manual" || full["ordering"] != "conversation" || full["rate_limit"] != 2.5 {
		t.Errorf("created: %v", full)
	}

	p := b.expect(http.StatusOK, b.keyA, "PATCH", "/api/v1/outbound_webhook/"+id,
		map[string]any{"enabled": false, "rate_limit": 10, "events": []string{"conversation.updated"}}).data(t)
	if p["enabled"] != false || p["disabled_reason"] != "manual" || p["rate_limit"] != 10.0 || p["name"] != "hook" {
		t.Errorf("patched: %v", p)
	}
	p = b.expect(http.StatusOK, b.keyA, "PATCH", "/api/v1/outbound_webhook/"+id, map[string]any{"enabled": true, "rate_limit": nil}).data(t)
	if p["enabled"] != true || p["disabled_reason"] != nil || p["rate_limit"] != nil {
		t.Errorf("re-enabled: %v", p)
	}
	if ev, _ := p["events"].([]any); len(ev) != 1 || ev[0] != "conversation.updated" {
		t.Errorf("events after patch = %v", p["events"])
	}
}

func TestLists(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for range 5 {
		b.intent(b.keyA)
	}
	// Account B's world: its intent is never counted in A's lists, and its
	// resources serve the validation cases below.
	w := b.world(b.keyB)

	cases := []struct {
		name                     string
		query                    string
		items, page, size, pages int
	}{
		{"Default", "", 5, 1, 25, 1},
		{"Size100", "?size=100", 5, 1, 100, 1},
		{"Size2", "?size=2", 2, 1, 2, 3},
		{"Page3Size2", "?page=3&size=2", 1, 3, 2, 3},
		{"BeyondTheEnd", "?page=4&size=2", 0, 4, 2, 3},
		{"FarBeyondTheEnd", "?page=1000&size=100", 0, 1000, 100, 1},
		{"ExactFit", "?size=5", 5, 1, 5, 1},
		{"Size1", "?size=1&page=5", 1, 5, 1, 5},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := b.on(t)
			r := b.expect(http.StatusOK, b.keyA, "GET", "/api/v1/intent"+tc.query, nil)
			items := r.items(t)
			if len(items) != tc.items || r.num(t, "total") != 5 || r.num(t, "page") != tc.page || r.num(t, "size") != tc.size || r.num(t, "pages") != tc.pages {
				t.Errorf("got %d items, data %s; want %d items, page %d, size %d, pages %d, total 5",
					len(items), r.Raw, tc.items, tc.page, tc.size, tc.pages)
			}
			if want := int(math.Ceil(float64(r.num(t, "total")) / float64(r.num(t, "size")))); r.num(t, "pages") != want {
				t.Errorf("pages = %d, want ceil(total/size) = %d", r.num(t, "pages"), want)
			}
		})
	}

	t.Run("Empty", func(t *testing.T) {
		t.Parallel()
		b := b.on(t)
		r := b.expect(http.StatusOK, b.keyA, "GET", "/api/v1/contact", nil)
		if len(r.items(t)) != 0 || r.num(t, "total") != 0 || r.num(t, "pages") != 0 {
			t.Errorf("empty list: %s", r.Raw)
		}
	})

	t.Run("PagesDoNotOverlap", func(t *testing.T) {
		t.Parallel()
		b := b.on(t)
		seen := map[string]bool{}
		for page := 1; page <= 3; page++ {
			for _, it := range b.expect(http.StatusOK, b.keyA, "GET", fmt.Sprintf("/api/v1/intent?size=2&page=%d", page), nil).items(t) {
				id := str(t, it, "id")
				if seen[id] {
					t.Errorf("intent %s on two pages", id)
				}
				seen[id] = true
			}
		}
		if len(seen) != 5 {
			t.Errorf("pages hold %d intents, want 5", len(seen))
		}
	})

	bad := []struct {
		query, param, typ string
	}{
		{"size=0", "size", "greater_than_equal"},
		{"size=-1", "size", "greater_than_equal"},
		{"size=101", "size", "less_than_equal"},
		{"size=abc", "size", "int_parsing"},
		{"size=1.5", "size", "int_parsing"},
		{"page=0", "page", "greater_than_equal"},
		{"page=-3", "page", "greater_than_equal"},
		{"page=abc", "page", "int_parsing"},
		{"page=99999999999999999999999", "page", ""},
	}
	lists := []string{"/outbound_webhook", "/outbound_webhook/" + w.webhook + "/deliveries", "/assistant", "/widget", "/form", "/intent",
		"/contact", "/conversation", "/event"}
	for _, list := range lists {
		for _, tc := range bad {
			t.Run("Invalid"+list+"?"+tc.query, func(t *testing.T) {
				t.Parallel()
				b := b.on(t)
				r := b.expect(http.StatusUnprocessableEntity, b.keyB, "GET", "/api/v1"+list+"?"+tc.query, nil)
				checkLoc(t, r, tc.typ, "query", tc.param)
			})
		}
	}

	t.Run("InvalidFilters", func(t *testing.T) {
		t.Parallel()
		b := b.on(t)
		for _, c := range []struct{ path, param string }{
			{"/api/v1/event?event=nope", "event"},
			{"/api/v1/outbound_webhook/" + w.webhook + "/deliveries?status=nope", "status"},
			{"/api/v1/conversation?date_from=yesterday", "date_from"},
			{"/api/v1/conversation?date_to=2024-13-45", "date_to"},
		} {
			checkLoc(t, b.expect(http.StatusUnprocessableEntity, b.keyB, "GET", c.path, nil), "", "query", c.param)
		}
	})

	t.Run("ConversationFilters", func(t *testing.T) {
		t.Parallel()
		b := b.on(t)
		r := b.expect(http.StatusOK, b.keyB, "GET", "/api/v1/conversation?assistant_id="+w.assistant+"&date_from=2000-01-01&date_to=2999-12-31", nil)
		if r.num(t, "total") != 1 {
			t.Errorf("filtered conversations: %s", r.Raw)
		}
		r = b.expect(http.StatusOK, b.keyB, "GET", "/api/v1/conversation?date_to=2000-01-01", nil)
		if r.num(t, "total") != 0 {
			t.Errorf("conversations before 2000: %s", r.Raw)
		}
		r = b.expect(http.StatusOK, b.keyB, "GET", "/api/v1/conversation?assistant_id="+service.NewID(), nil)
		if r.num(t, "total") != 0 {
			t.Errorf("conversations of an unknown assistant: %s", r.Raw)
		}
	})
}

func TestBodyErrors(t *testing.T) {
	t.Parallel()
	b := setup(t)
	w := b.world(b.keyA)
	theirs := b.world(b.keyB)

	// Every route that reads a body.
	bodyRoutes := []string{
		"POST /api/v1/outbound_webhook", "PATCH /api/v1/outbound_webhook/" + w.webhook,
		"POST /api/v1/assistant", "PATCH /api/v1/assistant/" + w.assistant,
		"POST /api/v1/widget", "POST /api/v1/form", "PATCH /api/v1/form/" + w.form,
		"POST /api/v1/intent", "POST /api/v1/contact", "POST /api/v1/conversation",
		"POST /api/v1/conversation/" + w.conversation + "/message",
		"POST /api/v1/conversation/" + w.conversation + "/captured_form",
		"POST /api/v1/conversation/" + w.conversation + "/captured_intent",
		"PATCH /api/v1/captured_form/" + w.capturedForm,
	}
	tooLarge := raw(`{"name": "` + strings.Repeat("a", 1<<20) + `"}`)
	for _, rt := range bodyRoutes {
		method, path, _ := strings.Cut(rt, " ")
		t.Run("Malformed "+rt, func(t *testing.T) {
			t.Parallel()
			b := b.on(t)
			for _, body := range []raw{`{"name":`, `{name: "x"}`, `{"a":1}}`, `nul`, `{"a": 01}`} {
				r := b.expect(http.StatusBadRequest, b.keyA, method, path, body)
				if _, ok := r.Body["detail"].(string); !ok {
					t.Errorf("400 detail is not a string: %s", r.Raw)
				}
			}
		})
		t.Run("TooLarge "+rt, func(t *testing.T) {
			t.Parallel()
			b := b.on(t)
			b.expect(http.StatusRequestEntityTooLarge, b.keyA, method, path, tooLarge)
		})
		t.Run("NotAnObject "+rt, func(t *testing.T) {
			t.Parallel()
			b := b.on(t)
			for _, body := range []raw{`[]`, `"x"`, `5`, `null`} {
				checkLoc(t, b.expect(http.StatusUnprocessableEntity, b.keyA, method, path, body), "", "body")
			}
		})
	}
	for _, rt := range []string{"POST /api/v1/conversation/" + w.conversation + "/close", "POST /api/v1/delivery/" + w.delivery + "/retry"} {
		method, path, _ := strings.Cut(rt, " ")
		t.Run("TooLarge "+rt, func(t *testing.T) {
			t.Parallel()
			b := b.on(t)
			b.expect(http.StatusRequestEntityTooLarge, b.keyA, method, path, tooLarge)
		})
	}
	t.Run("JustUnderTheLimit", func(t *testing.T) {
		t.Parallel()
		b := b.on(t)
		pad := strings.Repeat("a", 1<<20-100)
		b.expect(http.StatusCreated, b.keyA, "POST", "/api/v1/intent", raw(`{"name": "n", "pad": "`+pad+`"}`))
	})

	hook := func(extra map[string]any) map[string]any {
		m := map[string]any{"name": "n", "endpoint": publicEndpoint}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	conv := map[string]any{"assistant_id": w.assistant, "widget_id": w.widget, "device_type": "desktop"}
	with := func(m map[string]any, k string, v any) map[string]any {
		out := map[string]any{}
		for kk, vv := range m {
			out[kk] = vv
		}
		if v == nil {
			delete(out, k)
		} else {
			out[k] = v
		}
		return out
	}
	cases := []struct {
		name, method, path string
		body               any
		loc                []any
		typ                string
	}{
		// Webhooks: types, required fields, events, endpoints.
		{"WebhookNameNumber", "POST", "/outbound_webhook", hook(map[string]any{"name": 5}), []any{"name"}, "string_type"},
		{"WebhookNameMissing", "POST", "/outbound_webhook", map[string]any{"endpoint": publicEndpoint}, []any{"name"}, "missing"},
		{"WebhookNameNull", "POST", "/outbound_webhook", hook(map[string]any{"name": nil}), []any{"name"}, ""},
		{"WebhookNameEmpty", "POST", "/outbound_webhook", hook(map[string]any{"name": "  "}), []any{"name"}, ""},
		{"WebhookEndpointMissing", "POST", "/outbound_webhook", map[string]any{"name": "n"}, []any{"endpoint"}, "missing"},
		{"WebhookEndpointNumber", "POST", "/outbound_webhook", hook(map[string]any{"endpoint": 1}), []any{"endpoint"}, "string_type"},
		{"WebhookEnabledString", "POST", "/outbound_webhook", hook(map[string]any{"enabled": "yes"}), []any{"enabled"}, "bool_type"},
		{"WebhookEnabledNull", "POST", "/outbound_webhook", hook(map[string]any{"enabled": nil}), []any{"enabled"}, "bool_type"},
		{"WebhookEventsString", "POST", "/outbound_webhook", hook(map[string]any{"events": "x"}), []any{"events"}, "list_type"},
		{"WebhookEventsEmpty", "POST", "/outbound_webhook", hook(map[string]any{"events": []string{}}), []any{"events"}, ""},
		{"WebhookEventsUnknown", "POST", "/outbound_webhook", hook(map[string]any{"events": []string{"conversation.closed", "nope"}}), []any{"events", 1}, ""},
		{"WebhookEventsNumbers", "POST", "/outbound_webhook", hook(map[string]any{"events": []int{1}}), nil, ""},
		{"WebhookEventsNullItem", "POST", "/outbound_webhook", hook(map[string]any{"events": []any{nil}}), nil, ""},
		{"WebhookOrdering", "POST", "/outbound_webhook", hook(map[string]any{"ordering": "fifo"}), []any{"ordering"}, ""},
		{"WebhookHeadersString", "POST", "/outbound_webhook", hook(map[string]any{"headers": "x"}), []any{"headers"}, "dict_type"},
		{"WebhookHeadersNumberValue", "POST", "/outbound_webhook", hook(map[string]any{"headers": map[string]any{"X-A": 1}}), []any{"headers"}, ""},
		{"WebhookHeadersSignature", "POST", "/outbound_webhook", hook(map[string]any{"headers": map[string]any{"webhook-signature": "v1,x"}}), nil, ""},
		{"WebhookHeadersContentType", "POST", "/outbound_webhook", hook(map[string]any{"headers": map[string]any{"Content-Type": "text/plain"}}), nil, ""},
		{"WebhookHeadersNewline", "POST", "/outbound_webhook", hook(map[string]any{"headers": map[string]any{"X-A": "a\r\nB: c"}}), nil, ""},
		{"WebhookRateLimitString", "POST", "/outbound_webhook", hook(map[string]any{"rate_limit": "fast"}), []any{"rate_limit"}, "float_type"},
		{"WebhookRateLimitZero", "POST", "/outbound_webhook", hook(map[string]any{"rate_limit": 0}), []any{"rate_limit"}, ""},
		{"WebhookRateLimitNegative", "POST", "/outbound_webhook", hook(map[string]any{"rate_limit": -1}), []any{"rate_limit"}, ""},
		{"WebhookRateLimitHuge", "POST", "/outbound_webhook", raw(`{"name": "n", "endpoint": "` + publicEndpoint + `", "rate_limit": 1e400}`), []any{"rate_limit"}, ""},
		{"EndpointFTP", "POST", "/outbound_webhook", hook(map[string]any{"endpoint": "ftp://x"}), []any{"endpoint"}, ""},
		{"EndpointLoopback", "POST", "/outbound_webhook", hook(map[string]any{"endpoint": "http://127.0.0.1/"}), []any{"endpoint"}, ""},
		{"EndpointLoopbackShort", "POST", "/outbound_webhook", hook(map[string]any{"endpoint": "http://127.1/"}), []any{"endpoint"}, ""},
		{"EndpointLocalhost", "POST", "/outbound_webhook", hook(map[string]any{"endpoint": "http://localhost:8080/"}), []any{"endpoint"}, ""},
		{"EndpointPrivate", "POST", "/outbound_webhook", hook(map[string]any{"endpoint": "http://10.0.0.1/"}), []any{"endpoint"}, ""},
		{"EndpointPrivate192", "POST", "/outbound_webhook", hook(map[string]any{"endpoint": "https://192.168.1.1/x"}), []any{"endpoint"}, ""},
		{"EndpointMetadata", "POST", "/outbound_webhook", hook(map[string]any{"endpoint": "http://169.254.169.254/"}), []any{"endpoint"}, ""},
		{"EndpointIPv6Loopback", "POST", "/outbound_webhook", hook(map[string]any{"endpoint": "http://[::1]/"}), []any{"endpoint"}, ""},
		{"EndpointMappedLoopback", "POST", "/outbound_webhook", hook(map[string]any{"endpoint": "http://[::ffff:127.0.0.1]/"}), []any{"endpoint"}, ""},
		{"EndpointNameResolvesPrivate", "POST", "/outbound_webhook", hook(map[string]any{"endpoint": internalEndpoint}), []any{"endpoint"}, ""},
		{"EndpointNotURL", "POST", "/outbound_webhook", hook(map[string]any{"endpoint": "not a url"}), []any{"endpoint"}, ""},
		{"EndpointEmpty", "POST", "/outbound_webhook", hook(map[string]any{"endpoint": ""}), []any{"endpoint"}, ""},
		{"PatchEndpointPrivate", "PATCH", "/outbound_webhook/" + w.webhook, map[string]any{"endpoint": "http://10.0.0.1/"}, []any{"endpoint"}, ""},
		{"PatchEventsEmpty", "PATCH", "/outbound_webhook/" + w.webhook, map[string]any{"events": []string{}}, []any{"events"}, ""},
		{"PatchEventsNull", "PATCH", "/outbound_webhook/" + w.webhook, map[string]any{"events": nil}, []any{"events"}, ""},
		{"PatchEventsUnknown", "PATCH", "/outbound_webhook/" + w.webhook, map[string]any{"events": []string{"nope"}}, []any{"events", 0}, ""},
		{"PatchNameNumber", "PATCH", "/outbound_webhook/" + w.webhook, map[string]any{"name": 5}, []any{"name"}, "string_type"},
		{"PatchEnabledString", "PATCH", "/outbound_webhook/" + w.webhook, map[string]any{"enabled": "yes"}, []any{"enabled"}, "bool_type"},

		// Assistants and their webhook.
		{"AssistantNameWrongType", "POST", "/assistant", map[string]any{"name": 5}, []any{"name"}, "string_type"},
		{"AssistantVoiceString", "POST", "/assistant", map[string]any{"voice": "alloy"}, []any{"voice"}, "bool_type"},
		{"AssistantUseToolsString", "POST", "/assistant", map[string]any{"use_tools": "yes"}, []any{"use_tools"}, "bool_type"},
		{"AssistantFlowIDNumber", "POST", "/assistant", map[string]any{"conversation_flow_id": 7}, []any{"conversation_flow_id"}, "string_type"},
		{"AssistantNameNumber", "POST", "/assistant", map[string]any{"name": 5}, []any{"name"}, "string_type"},
		{"AssistantWebhookUnknown", "POST", "/assistant", map[string]any{"name": "a", "webhook_id": service.NewID()}, []any{"webhook_id"}, ""},
		{"AssistantWebhookMalformed", "POST", "/assistant", map[string]any{"name": "a", "webhook_id": "nope"}, []any{"webhook_id"}, ""},
		{"AssistantWebhookEmpty", "POST", "/assistant", map[string]any{"name": "a", "webhook_id": ""}, []any{"webhook_id"}, ""},
		{"AssistantWebhookOtherAccount", "POST", "/assistant", map[string]any{"name": "a", "webhook_id": theirs.webhook}, []any{"webhook_id"}, ""},
		{"AssistantWebhookNumber", "POST", "/assistant", map[string]any{"name": "a", "webhook_id": 5}, []any{"webhook_id"}, "string_type"},
		{"PatchAssistantWebhookOtherAccount", "PATCH", "/assistant/" + w.assistant, map[string]any{"webhook_id": theirs.webhook}, []any{"webhook_id"}, ""},
		{"PatchAssistantWebhookEmpty", "PATCH", "/assistant/" + w.assistant, map[string]any{"webhook_id": ""}, []any{"webhook_id"}, ""},
		{"PatchAssistantNameNull", "PATCH", "/assistant/" + w.assistant, map[string]any{"name": nil}, []any{"name"}, ""},

		// Widgets.
		{"WidgetAssistantWrongType", "POST", "/widget", map[string]any{"assistant_id": 5, "widget_type": "chat"}, []any{"assistant_id"}, "string_type"},
		{"WidgetRemoveBrandingString", "POST", "/widget", map[string]any{"widget_type": "chat", "remove_branding": "yes"}, []any{"remove_branding"}, "bool_type"},
		{"WidgetOpeningMessagesString", "POST", "/widget", map[string]any{"widget_type": "chat", "user_opening_messages": "hi"}, []any{"user_opening_messages"}, "list_type"},
		{"WidgetOpeningMessagesNullItem", "POST", "/widget", map[string]any{"widget_type": "chat", "user_opening_messages": []any{"hi", nil}}, []any{"user_opening_messages"}, "list_type"},
		{"WidgetActionButtonsObject", "POST", "/widget", map[string]any{"widget_type": "chat", "action_buttons": map[string]any{}}, []any{"action_buttons"}, "list_type"},
		{"WidgetStyleParamsList", "POST", "/widget", map[string]any{"widget_type": "chat", "style_params": []any{}}, []any{"style_params"}, "dict_type"},
		{"WidgetColorNumber", "POST", "/widget", map[string]any{"widget_type": "chat", "bubble_color": 255}, []any{"bubble_color"}, "string_type"},
		{"WidgetDescriptionTooLong", "POST", "/widget", map[string]any{"widget_type": "chat", "description": strings.Repeat("d", 5000)}, []any{"description"}, "too_long"},
		{"WidgetAssistantOtherAccount", "POST", "/widget", map[string]any{"assistant_id": theirs.assistant, "name": "w", "widget_type": "chat"}, []any{"assistant_id"}, ""},
		{"WidgetAssistantUnknown", "POST", "/widget", map[string]any{"assistant_id": service.NewID(), "name": "w", "widget_type": "chat"}, []any{"assistant_id"}, ""},
		{"WidgetType", "POST", "/widget", map[string]any{"assistant_id": w.assistant, "name": "w", "widget_type": "fax"}, []any{"widget_type"}, ""},
		{"WidgetTypeMissing", "POST", "/widget", map[string]any{"assistant_id": w.assistant, "name": "w"}, []any{"widget_type"}, "missing"},

		// Forms.
		{"FormNameMissing", "POST", "/form", map[string]any{"fields": []any{}}, []any{"name"}, "missing"},
		{"FormFieldsString", "POST", "/form", map[string]any{"name": "f", "fields": "x"}, []any{"fields"}, "list_type"},
		{"FormFieldNotObject", "POST", "/form", map[string]any{"name": "f", "fields": []any{5}}, []any{"fields", 0}, ""},
		{"FormFieldNameMissing", "POST", "/form", map[string]any{"name": "f", "fields": []any{map[string]any{"type": "text"}}}, []any{"fields", 0, "name"}, "missing"},
		{"FormFieldType", "POST", "/form", map[string]any{"name": "f", "fields": []any{map[string]any{"name": "a", "type": "color"}}}, []any{"fields", 0, "type"}, ""},
		{"FormFieldRequiredString", "POST", "/form", map[string]any{"name": "f", "fields": []any{map[string]any{"name": "a", "required": "yes"}}}, []any{"fields", 0, "required"}, "bool_type"},
		{"FormWebhookOtherAccount", "POST", "/form", map[string]any{"name": "f", "webhook_id": theirs.webhook}, []any{"webhook_id"}, ""},
		{"PatchFormWebhookOtherAccount", "PATCH", "/form/" + w.form, map[string]any{"webhook_id": theirs.webhook}, []any{"webhook_id"}, ""},
		{"PatchFormWebhookUnknown", "PATCH", "/form/" + w.form, map[string]any{"webhook_id": service.NewID()}, []any{"webhook_id"}, ""},

		// Intents and contacts.
		{"IntentNameWrongType", "POST", "/intent", map[string]any{"name": true}, []any{"name"}, "string_type"},
		{"IntentIsActiveString", "POST", "/intent", map[string]any{"is_active": "no"}, []any{"is_active"}, "bool_type"},
		{"IntentAttributesList", "POST", "/intent", map[string]any{"attributes": []any{1}}, []any{"attributes"}, "dict_type"},
		{"IntentDescriptionNumber", "POST", "/intent", map[string]any{"name": "i", "description": 5}, []any{"description"}, "string_type"},
		{"ContactEmailNumber", "POST", "/contact", map[string]any{"email": 5}, []any{"email"}, "string_type"},
		{"ContactCustomFieldsList", "POST", "/contact", map[string]any{"custom_fields": []any{}}, []any{"custom_fields"}, "dict_type"},
		{"ContactChannelsString", "POST", "/contact", map[string]any{"channels": "sms"}, []any{"channels"}, "list_type"},
		{"ConversationDeviceIDNumber", "POST", "/conversation", map[string]any{"unique_device_id": 5}, []any{"unique_device_id"}, "string_type"},

		// Conversations.
		{"ConversationAssistantMissing", "POST", "/conversation", with(conv, "assistant_id", nil), []any{"assistant_id"}, "missing"},
		{"ConversationWidgetMissing", "POST", "/conversation", with(conv, "widget_id", nil), []any{"widget_id"}, "missing"},
		{"ConversationDeviceMissing", "POST", "/conversation", with(conv, "device_type", nil), []any{"device_type"}, "missing"},
		{"ConversationDeviceType", "POST", "/conversation", with(conv, "device_type", "toaster"), []any{"device_type"}, ""},
		{"ConversationAssistantOtherAccount", "POST", "/conversation", with(conv, "assistant_id", theirs.assistant), []any{"assistant_id"}, ""},
		{"ConversationWidgetOtherAccount", "POST", "/conversation", with(conv, "widget_id", theirs.widget), []any{"widget_id"}, ""},
		{"ConversationContactOtherAccount", "POST", "/conversation", with(conv, "contact_id", theirs.contact), []any{"contact_id"}, ""},
		{"ConversationContactEmpty", "POST", "/conversation", with(conv, "contact_id", ""), []any{"contact_id"}, ""},
		{"ConversationContactUnknown", "POST", "/conversation", with(conv, "contact_id", service.NewID()), []any{"contact_id"}, ""},
		{"ConversationAttributesString", "POST", "/conversation", with(conv, "attributes", "x"), []any{"attributes"}, "dict_type"},
		{"ConversationAttributesList", "POST", "/conversation", with(conv, "attributes", []int{1}), []any{"attributes"}, "dict_type"},

		// Messages, forms and intents in a conversation.
		{"MessageSenderMissing", "POST", "/conversation/" + w.conversation + "/message", map[string]any{"text": "t"}, []any{"sender_type"}, "missing"},
		{"MessageSender", "POST", "/conversation/" + w.conversation + "/message", map[string]any{"sender_type": "robot", "text": "t"}, []any{"sender_type"}, ""},
		{"MessageTextMissing", "POST", "/conversation/" + w.conversation + "/message", map[string]any{"sender_type": "user"}, []any{"text"}, "missing"},
		{"MessageTextNumber", "POST", "/conversation/" + w.conversation + "/message", map[string]any{"sender_type": "user", "text": 5}, []any{"text"}, "string_type"},
		{"MessageType", "POST", "/conversation/" + w.conversation + "/message", map[string]any{"sender_type": "user", "text": "t", "message_type": "video"}, []any{"message_type"}, ""},
		{"CaptureFormMissing", "POST", "/conversation/" + w.conversation + "/captured_form", map[string]any{"field_values": map[string]any{"email": "x"}}, []any{"form_id"}, "missing"},
		{"CaptureFormUnknown", "POST", "/conversation/" + w.conversation + "/captured_form", map[string]any{"form_id": service.NewID(), "field_values": map[string]any{"email": "x"}}, []any{"form_id"}, ""},
		{"CaptureFormOtherAccount", "POST", "/conversation/" + w.conversation + "/captured_form", map[string]any{"form_id": theirs.form, "field_values": map[string]any{"email": "x"}}, []any{"form_id"}, ""},
		{"CaptureFormValuesMissing", "POST", "/conversation/" + w.conversation + "/captured_form", map[string]any{"form_id": w.form}, []any{"field_values"}, "missing"},
		{"CaptureFormValuesList", "POST", "/conversation/" + w.conversation + "/captured_form", map[string]any{"form_id": w.form, "field_values": []int{1}}, []any{"field_values"}, "dict_type"},
		{"CaptureFormRequiredMissing", "POST", "/conversation/" + w.conversation + "/captured_form", map[string]any{"form_id": w.form, "field_values": map[string]any{"note": "x"}}, []any{"field_values", "email"}, "missing"},
		{"CaptureFormRequiredEmpty", "POST", "/conversation/" + w.conversation + "/captured_form", map[string]any{"form_id": w.form, "field_values": map[string]any{"email": ""}}, []any{"field_values", "email"}, "missing"},
		{"CaptureIntentMissing", "POST", "/conversation/" + w.conversation + "/captured_intent", map[string]any{}, []any{"intent_id"}, "missing"},
		{"CaptureIntentUnknown", "POST", "/conversation/" + w.conversation + "/captured_intent", map[string]any{"intent_id": service.NewID()}, []any{"intent_id"}, ""},
		{"CaptureIntentOtherAccount", "POST", "/conversation/" + w.conversation + "/captured_intent", map[string]any{"intent_id": theirs.intent}, []any{"intent_id"}, ""},
		{"UpdateCapturedFormValuesMissing", "PATCH", "/captured_form/" + w.capturedForm, map[string]any{}, []any{"field_values"}, "missing"},
		{"UpdateCapturedFormRequiredEmptied", "PATCH", "/captured_form/" + w.capturedForm, map[string]any{"field_values": map[string]any{"email": nil}}, []any{"field_values", "email"}, "missing"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := b.on(t)
			r := b.expect(http.StatusUnprocessableEntity, b.keyA, tc.method, "/api/v1"+tc.path, tc.body)
			if tc.loc != nil {
				checkLoc(t, r, tc.typ, append([]any{"body"}, tc.loc...)...)
			} else {
				r.detail(t)
			}
		})
	}

	// Nothing above may have created anything.
	t.Cleanup(func() {
		for _, l := range []struct {
			path string
			want int
		}{{"/api/v1/outbound_webhook", 1}, {"/api/v1/assistant", 1}, {"/api/v1/widget", 1}, {"/api/v1/form", 1}, {"/api/v1/conversation", 1}} {
			if n := b.expect(http.StatusOK, b.keyA, "GET", l.path, nil).num(b.tb, "total"); n != l.want {
				b.tb.Errorf("%s: total %d after refused requests, want %d", l.path, n, l.want)
			}
		}
		if n := len(b.events(b.keyA, "captured_form.created")); n != 1 {
			b.tb.Errorf("%d captured_form.created events after refused requests, want 1", n)
		}
	})
}

func TestUnknownFieldsIgnored(t *testing.T) {
	t.Parallel()
	b := setup(t)
	wh := b.webhook(b.keyA, map[string]any{"colour": "blue", "secret": "whsec_mine", "id": "mine", "created_at": 5})
	if wh["id"] == "mine" || wh["secret"] == "whsec_mine" {
		t.Errorf("client-chosen id or secret accepted: %v", wh)
	}
	a := b.expect(http.StatusCreated, b.keyA, "POST", "/api/v1/assistant", map[string]any{"name": "a", "extra": map[string]any{"x": 1}}).data(t)
	b.expect(http.StatusOK, b.keyA, "PATCH", "/api/v1/assistant/"+str(t, a, "id"), map[string]any{"nonsense": true})
}

func TestAssignWebhook(t *testing.T) {
	t.Parallel()
	b := setup(t)
	wh := str(t, b.webhook(b.keyA, nil), "id")
	a := str(t, b.assistant(b.keyA, ""), "id")
	path := "/api/v1/assistant/" + a
	if got := b.expect(http.StatusOK, b.keyA, "GET", path, nil).data(t)["webhook_id"]; got != nil {
		t.Errorf("new assistant webhook_id = %v, want null", got)
	}
	if got := b.expect(http.StatusOK, b.keyA, "PATCH", path, map[string]any{"webhook_id": wh}).data(t)["webhook_id"]; got != wh {
		t.Errorf("assigned webhook_id = %v, want %s", got, wh)
	}
	if got := b.expect(http.StatusOK, b.keyA, "PATCH", path, map[string]any{"name": "renamed"}).data(t)["webhook_id"]; got != wh {
		t.Errorf("a patch without webhook_id changed it to %v", got)
	}
	if got := b.expect(http.StatusOK, b.keyA, "PATCH", path, raw(`{"webhook_id": null}`)).data(t)["webhook_id"]; got != nil {
		t.Errorf("unassigned webhook_id = %v, want null", got)
	}
}

func TestCloseConversation(t *testing.T) {
	t.Parallel()
	b := setup(t)
	w := b.world(b.keyA)
	path := "/api/v1/conversation/" + w.conversation

	closed := b.expect(http.StatusOK, b.keyA, "POST", path+"/close", nil).data(t)
	if closed["status"] != "closed" {
		t.Errorf("closed conversation: %v", closed)
	}
	b.expect(http.StatusConflict, b.keyA, "POST", path+"/close", nil)
	b.expect(http.StatusConflict, b.keyA, "POST", path+"/close", map[string]any{})

	refused := []struct {
		name, path string
		body       any
	}{
		{"Message", path + "/message", map[string]any{"sender_type": "user", "text": "late"}},
		{"CapturedForm", path + "/captured_form", map[string]any{"form_id": w.form, "field_values": map[string]any{"email": "x@y.z"}}},
		{"CapturedIntent", path + "/captured_intent", map[string]any{"intent_id": w.intent}},
	}
	for _, c := range refused {
		r := b.expect(http.StatusConflict, b.keyA, "POST", c.path, c.body)
		if _, ok := r.Body["detail"].(string); !ok {
			t.Errorf("%s: 409 detail is not a string: %s", c.name, r.Raw)
		}
	}
	// The world's captured form is final once its conversation closed.
	r := b.expect(http.StatusConflict, b.keyA, "PATCH", "/api/v1/captured_form/"+w.capturedForm,
		map[string]any{"field_values": map[string]any{"note": "late"}})
	if _, ok := r.Body["detail"].(string); !ok {
		t.Errorf("UpdateCapturedForm: 409 detail is not a string: %s", r.Raw)
	}

	evs := b.events(b.keyA, "conversation.closed")
	if len(evs) != 1 {
		t.Fatalf("%d conversation.closed events, want 1", len(evs))
	}
	if got := deliveryWebhooks(t, evs[0]); len(got) != 1 || got[0] != w.webhook {
		t.Errorf("conversation.closed delivered to %v, want [%s]", got, w.webhook)
	}
	for _, typ := range []string{"conversation.updated", "captured_intent.created", "captured_form.updated"} {
		if n := len(b.events(b.keyA, typ)); n != 0 {
			t.Errorf("%d %s events from refused requests", n, typ)
		}
	}
	if n := len(b.events(b.keyA, "captured_form.created")); n != 1 {
		t.Errorf("%d captured_form.created events, want only the world's", n)
	}
	got := b.expect(http.StatusOK, b.keyA, "GET", path, nil).data(t)
	if got["status"] != "closed" || got["chat_count"] != 0.0 {
		t.Errorf("conversation after refused messages: %v", got)
	}
}

func TestRouting(t *testing.T) {
	t.Parallel()
	b := setup(t)
	formHook := str(t, b.webhook(b.keyA, map[string]any{"name": "form hook"}), "id")
	asstHook := str(t, b.webhook(b.keyA, map[string]any{"name": "assistant hook"}), "id")
	closedOnly := str(t, b.webhook(b.keyA, map[string]any{"name": "closed only", "events": []string{"conversation.closed"}}), "id")
	disabled := str(t, b.webhook(b.keyA, map[string]any{"name": "disabled", "enabled": false}), "id")
	formsOnly := str(t, b.webhook(b.keyA, map[string]any{"name": "forms only", "events": []string{"captured_form.created", "captured_form.updated"}}), "id")

	twoHookForm := str(t, b.form(b.keyA, formHook), "id")
	sameHookForm := str(t, b.form(b.keyA, asstHook), "id")
	noHookForm := str(t, b.form(b.keyA, ""), "id")
	disabledForm := str(t, b.form(b.keyA, disabled), "id")
	intent := str(t, b.intent(b.keyA), "id")

	type step struct {
		path   string // relative to the conversation
		body   any
		status int
	}
	msg := step{"/message", map[string]any{"sender_type": "user", "text": "hello"}, 201}
	capture := func(form string) step {
		return step{"/captured_form", map[string]any{"form_id": form, "field_values": map[string]any{"email": "a@b.c"}}, 201}
	}
	intentStep := step{"/captured_intent", map[string]any{"intent_id": intent}, 201}
	closeStep := step{"/close", nil, 200}
	cases := []struct {
		name       string
		asstHook   string // the assistant's webhook, "" for none
		step       step
		event      string
		want       []string // webhooks delivered to
		wantFormID string
	}{
		{"FormToFormAndAssistantHooks", asstHook, capture(twoHookForm), "captured_form.created", []string{formHook, asstHook}, twoHookForm},
		{"FormSameHookOnce", asstHook, capture(sameHookForm), "captured_form.created", []string{asstHook}, sameHookForm},
		{"FormWithoutHookToAssistant", asstHook, capture(noHookForm), "captured_form.created", []string{asstHook}, noHookForm},
		{"FormHookWithoutAssistantHook", "", capture(twoHookForm), "captured_form.created", []string{formHook}, twoHookForm},
		{"FormNoHooksAtAll", "", capture(noHookForm), "captured_form.created", nil, noHookForm},
		{"FormDisabledFormHook", asstHook, capture(disabledForm), "captured_form.created", []string{asstHook}, disabledForm},
		{"FormUnsubscribedAssistantHook", closedOnly, capture(twoHookForm), "captured_form.created", []string{formHook}, twoHookForm},
		{"MessageToAssistantHook", asstHook, msg, "conversation.updated", []string{asstHook}, ""},
		{"MessageUnsubscribed", closedOnly, msg, "conversation.updated", nil, ""},
		{"MessageSubscribedToFormsOnly", formsOnly, msg, "conversation.updated", nil, ""},
		{"MessageDisabled", disabled, msg, "conversation.updated", nil, ""},
		{"MessageNoHook", "", msg, "conversation.updated", nil, ""},
		{"IntentToAssistantHook", asstHook, intentStep, "captured_intent.created", []string{asstHook}, ""},
		{"IntentDisabled", disabled, intentStep, "captured_intent.created", nil, ""},
		{"CloseToAssistantHook", asstHook, closeStep, "conversation.closed", []string{asstHook}, ""},
		{"CloseSubscribed", closedOnly, closeStep, "conversation.closed", []string{closedOnly}, ""},
		{"CloseUnsubscribed", formsOnly, closeStep, "conversation.closed", nil, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// Not parallel: each case reads the newest event of its type.
			b := b.on(t)
			c := b.chat(b.keyA, tc.asstHook)
			conv := str(t, b.conversation(b.keyA, c.assistant, c.widget, ""), "id")
			b.expect(tc.step.status, b.keyA, "POST", "/api/v1/conversation/"+conv+tc.step.path, tc.step.body)
			ev := b.lastEvent(b.keyA, tc.event)
			if d := eventData(t, ev); d["conversation_id"] != conv {
				t.Fatalf("newest %s event is of conversation %v, want %s", tc.event, d["conversation_id"], conv)
			}
			got := deliveryWebhooks(t, ev)
			slices.Sort(got)
			want := slices.Clone(tc.want)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("%s delivered to %v, want %v", tc.event, got, want)
			}
			for _, d := range ev["deliveries"].([]any) {
				if st := d.(map[string]any)["status"]; st != "pending" {
					t.Errorf("new delivery status %v, want pending", st)
				}
			}
			if tc.wantFormID != "" {
				if d := eventData(t, ev); d["form_id"] != tc.wantFormID {
					t.Errorf("form_id = %v, want %s", d["form_id"], tc.wantFormID)
				}
			}
		})
	}

	t.Run("PendingPerWebhook", func(t *testing.T) {
		b := b.on(t)
		// Every delivery listed per event is listed per webhook too.
		counts := map[string]int{}
		for _, typ := range []string{"captured_form.created", "conversation.updated", "captured_intent.created", "conversation.closed"} {
			for _, ev := range b.events(b.keyA, typ) {
				for _, id := range deliveryWebhooks(t, ev) {
					counts[id]++
				}
			}
		}
		for _, hook := range []string{formHook, asstHook, closedOnly, disabled, formsOnly} {
			r := b.expect(http.StatusOK, b.keyA, "GET", "/api/v1/outbound_webhook/"+hook+"/deliveries?status=pending&size=100", nil)
			if r.num(t, "total") != counts[hook] {
				t.Errorf("webhook %s: %d pending deliveries listed, %d in events", hook, r.num(t, "total"), counts[hook])
			}
			for _, d := range r.items(t) {
				if d["webhook_id"] != hook || d["status"] != "pending" {
					t.Errorf("listed delivery %v", d)
				}
			}
			for _, st := range []string{"succeeded", "failed"} {
				if n := b.expect(http.StatusOK, b.keyA, "GET", "/api/v1/outbound_webhook/"+hook+"/deliveries?status="+st, nil).num(t, "total"); n != 0 {
					t.Errorf("webhook %s: %d %s deliveries without workers", hook, n, st)
				}
			}
		}
		if counts[disabled] != 0 {
			t.Errorf("disabled webhook got %d deliveries", counts[disabled])
		}
	})

	t.Run("EachMessageFiresUpdated", func(t *testing.T) {
		b := b.on(t)
		c := b.chat(b.keyA, asstHook)
		conv := str(t, b.conversation(b.keyA, c.assistant, c.widget, ""), "id")
		before := len(b.events(b.keyA, "conversation.updated"))
		for i, sender := range []string{"user", "bot", "agent", "tool"} {
			b.message(b.keyA, conv, sender, fmt.Sprintf("m%d", i))
		}
		evs := b.events(b.keyA, "conversation.updated")
		if len(evs)-before != 4 {
			t.Fatalf("%d conversation.updated events for 4 messages", len(evs)-before)
		}
		for i, ev := range evs[:4] { // newest first
			if got := eventData(t, ev)["chat_count"]; got != float64(4-i) {
				t.Errorf("event %d chat_count = %v, want %d", i, got, 4-i)
			}
		}
	})

	t.Run("CapturedFormUpdated", func(t *testing.T) {
		b := b.on(t)
		c := b.chat(b.keyA, asstHook)
		conv := str(t, b.conversation(b.keyA, c.assistant, c.widget, ""), "id")
		cf := b.expect(http.StatusCreated, b.keyA, "POST", "/api/v1/conversation/"+conv+"/captured_form",
			map[string]any{"form_id": twoHookForm, "field_values": map[string]any{"email": "a@b.c", "note": "first"}}).data(t)
		id := str(t, cf, "id")
		up := b.expect(http.StatusOK, b.keyA, "PATCH", "/api/v1/captured_form/"+id,
			map[string]any{"field_values": map[string]any{"note": "second", "extra": 3}}).data(t)
		want := map[string]any{"email": "a@b.c", "note": "second", "extra": 3.0}
		if fmt.Sprint(up["field_values"]) != fmt.Sprint(want) {
			t.Errorf("merged field_values = %v, want %v", up["field_values"], want)
		}
		ev := b.lastEvent(b.keyA, "captured_form.updated")
		d := eventData(t, ev)
		if d["captured_form_id"] != id || fmt.Sprint(d["field_values"]) != fmt.Sprint(want) {
			t.Errorf("captured_form.updated data = %v, want captured_form_id %s and field_values %v", d, id, want)
		}
		hasKeys(t, d, "form_id", "form_name", "widget_id", "assistant_id", "field_values", "conversation_id", "captured_form_id", "device_type", "attributes")
		got := deliveryWebhooks(t, ev)
		slices.Sort(got)
		wantHooks := []string{formHook, asstHook}
		slices.Sort(wantHooks)
		if !slices.Equal(got, wantHooks) {
			t.Errorf("captured_form.updated delivered to %v, want %v", got, wantHooks)
		}
	})

	t.Run("WebhookReenabledGetsNewEvents", func(t *testing.T) {
		b := b.on(t)
		hook := str(t, b.webhook(b.keyA, map[string]any{"enabled": false}), "id")
		c := b.chat(b.keyA, hook)
		conv := str(t, b.conversation(b.keyA, c.assistant, c.widget, ""), "id")
		b.message(b.keyA, conv, "user", "one")
		if got := deliveryWebhooks(t, b.lastEvent(b.keyA, "conversation.updated")); len(got) != 0 {
			t.Errorf("disabled webhook got a delivery: %v", got)
		}
		b.expect(http.StatusOK, b.keyA, "PATCH", "/api/v1/outbound_webhook/"+hook, map[string]any{"enabled": true})
		b.message(b.keyA, conv, "user", "two")
		if got := deliveryWebhooks(t, b.lastEvent(b.keyA, "conversation.updated")); len(got) != 1 || got[0] != hook {
			t.Errorf("re-enabled webhook deliveries: %v", got)
		}
	})
}

var seedTime = regexp.MustCompile(`^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$`)

func TestPayload(t *testing.T) {
	t.Parallel()
	b := setup(t)
	hook := str(t, b.webhook(b.keyA, nil), "id")
	c := b.chat(b.keyA, hook)
	contact := str(t, b.contact(b.keyA), "id")

	t.Run("ConversationWithContact", func(t *testing.T) {
		b := b.on(t)
		conv := str(t, b.conversation(b.keyA, c.assistant, c.widget, contact), "id")
		texts := []struct{ sender, text string }{
			{"bot", "Hello! How can I help?"},
			{"user", "Grüße aus Köln 👋 日本語"},
			{"user", "second"},
			{"agent", ""},
		}
		for _, m := range texts {
			b.message(b.keyA, conv, m.sender, m.text)
		}
		ev := b.lastEvent(b.keyA, "conversation.updated")
		p := ev["payload"].(map[string]any)
		hasKeys(t, p, "id", "object", "event", "created_at", "data")
		if p["id"] != ev["id"] || p["object"] != "event" || p["event"] != "conversation.updated" {
			t.Errorf("envelope: %v", p)
		}
		if !seedTime.MatchString(str(t, p, "created_at")) {
			t.Errorf("created_at %q is not YYYY-MM-DD HH:MM:SS", p["created_at"])
		}
		d := eventData(t, ev)
		hasKeys(t, d, "widget_id", "chat_count", "contact_id", "device_type", "assistant_id", "first_message", "conversation_id", "attributes", "transcript")
		if d["chat_count"] != 4.0 {
			t.Errorf("chat_count = %v, want 4 (every message)", d["chat_count"])
		}
		if d["first_message"] != "User: Grüße aus Köln 👋 日本語" {
			t.Errorf("first_message = %q", d["first_message"])
		}
		if d["contact_id"] != contact {
			t.Errorf("contact_id = %v, want %s", d["contact_id"], contact)
		}
		if d["widget_id"] != c.widget || d["assistant_id"] != c.assistant || d["conversation_id"] != conv || d["device_type"] != "desktop" {
			t.Errorf("ids: %v", d)
		}
		if fmt.Sprint(d["attributes"]) != "map[plan:pro]" {
			t.Errorf("attributes = %v", d["attributes"])
		}
		tr, _ := d["transcript"].([]any)
		if len(tr) != len(texts) {
			t.Fatalf("transcript has %d entries, want %d", len(tr), len(texts))
		}
		for i, e := range tr {
			m := e.(map[string]any)
			hasKeys(t, m, "id", "conversation_id", "sender_type", "message_type", "text", "voice_base64", "data_sources", "created_at", "updated_at", "char_count")
			if m["text"] != texts[i].text || m["sender_type"] != texts[i].sender || m["message_type"] != "text" || m["conversation_id"] != conv {
				t.Errorf("transcript[%d] = %v, want %+v", i, m, texts[i])
			}
			if want := float64(utf8.RuneCountInString(texts[i].text)); m["char_count"] != want {
				t.Errorf("transcript[%d] char_count = %v, want %v runes", i, m["char_count"], want)
			}
			if m["voice_base64"] != nil || m["data_sources"] != nil {
				t.Errorf("transcript[%d] voice_base64/data_sources not null: %v", i, m)
			}
			if !seedTime.MatchString(str(t, m, "created_at")) || !seedTime.MatchString(str(t, m, "updated_at")) {
				t.Errorf("transcript[%d] timestamps not in the envelope's format: %v", i, m)
			}
		}

		// The conversation read by id agrees with the payload.
		got := b.expect(http.StatusOK, b.keyA, "GET", "/api/v1/conversation/"+conv, nil).data(t)
		if got["chat_count"] != 4.0 || got["first_message"] != d["first_message"] || got["contact_id"] != contact {
			t.Errorf("conversation read: %v", got)
		}
		if tr, _ := got["transcript"].([]any); len(tr) != len(texts) || tr[1].(map[string]any)["char_count"] != float64(utf8.RuneCountInString(texts[1].text)) {
			t.Errorf("conversation transcript: %v", got["transcript"])
		}

		b.expect(http.StatusOK, b.keyA, "POST", "/api/v1/conversation/"+conv+"/close", nil)
		cd := eventData(t, b.lastEvent(b.keyA, "conversation.closed"))
		if cd["chat_count"] != 4.0 || cd["first_message"] != d["first_message"] || cd["contact_id"] != contact {
			t.Errorf("conversation.closed data: %v", cd)
		}
	})

	t.Run("ConversationWithoutContactOrUserMessage", func(t *testing.T) {
		b := b.on(t)
		conv := str(t, b.conversation(b.keyA, c.assistant, c.widget, ""), "id")
		b.message(b.keyA, conv, "bot", "Hi there")
		d := eventData(t, b.lastEvent(b.keyA, "conversation.updated"))
		if v, ok := d["contact_id"]; !ok || v != nil {
			t.Errorf("contact_id = %v (present %v), want null", v, ok)
		}
		if v, ok := d["first_message"]; !ok || v != "" {
			t.Errorf("first_message = %q, want empty string", v)
		}
		if d["chat_count"] != 1.0 {
			t.Errorf("chat_count = %v, want 1", d["chat_count"])
		}
		b.expect(http.StatusOK, b.keyA, "POST", "/api/v1/conversation/"+conv+"/close", nil)
		cd := eventData(t, b.lastEvent(b.keyA, "conversation.closed"))
		if cd["contact_id"] != nil || cd["first_message"] != "" {
			t.Errorf("conversation.closed data: %v", cd)
		}
	})

	t.Run("EmptyConversationClosed", func(t *testing.T) {
		b := b.on(t)
		conv := str(t, b.conversation(b.keyA, c.assistant, c.widget, ""), "id")
		b.expect(http.StatusOK, b.keyA, "POST", "/api/v1/conversation/"+conv+"/close", nil)
		d := eventData(t, b.lastEvent(b.keyA, "conversation.closed"))
		if d["chat_count"] != 0.0 || d["first_message"] != "" {
			t.Errorf("data: %v", d)
		}
		if tr, ok := d["transcript"].([]any); !ok || len(tr) != 0 {
			t.Errorf("transcript = %v, want []", d["transcript"])
		}
		if fmt.Sprint(d["attributes"]) != "map[plan:pro]" {
			t.Errorf("attributes = %v", d["attributes"])
		}
	})

	t.Run("CapturedIntent", func(t *testing.T) {
		b := b.on(t)
		conv := str(t, b.conversation(b.keyA, c.assistant, c.widget, ""), "id")
		b.message(b.keyA, conv, "user", "buy")
		b.message(b.keyA, conv, "bot", "sure")
		in := b.intent(b.keyA)
		b.expect(http.StatusCreated, b.keyA, "POST", "/api/v1/conversation/"+conv+"/captured_intent", map[string]any{"intent_id": in["id"]})
		d := eventData(t, b.lastEvent(b.keyA, "captured_intent.created"))
		hasKeys(t, d, "intent_id", "chat_count", "intent_name", "device_type", "widget_id", "assistant_id", "conversation_id")
		if d["intent_id"] != in["id"] || d["intent_name"] != "SALES" || d["chat_count"] != 2.0 || d["conversation_id"] != conv {
			t.Errorf("captured_intent.created data: %v", d)
		}
	})

	t.Run("CapturedForm", func(t *testing.T) {
		b := b.on(t)
		conv := str(t, b.conversation(b.keyA, c.assistant, c.widget, ""), "id")
		f := b.form(b.keyA, "")
		values := map[string]any{"email": "ü@example.com", "consent": true, "n": 3.5}
		cf := b.expect(http.StatusCreated, b.keyA, "POST", "/api/v1/conversation/"+conv+"/captured_form",
			map[string]any{"form_id": f["id"], "field_values": values}).data(t)
		d := eventData(t, b.lastEvent(b.keyA, "captured_form.created"))
		hasKeys(t, d, "form_id", "form_name", "widget_id", "assistant_id", "field_values", "conversation_id", "captured_form_id", "device_type", "attributes")
		if d["form_id"] != f["id"] || d["form_name"] != "lead" || d["captured_form_id"] != cf["id"] || d["device_type"] != "desktop" ||
			fmt.Sprint(d["field_values"]) != fmt.Sprint(values) || fmt.Sprint(d["attributes"]) != "map[plan:pro]" {
			t.Errorf("captured_form.created data: %v", d)
		}
	})

	t.Run("EventList", func(t *testing.T) {
		b := b.on(t)
		r := b.expect(http.StatusOK, b.keyA, "GET", "/api/v1/event?size=100", nil)
		items := r.items(t)
		if len(items) == 0 {
			t.Fatal("no events")
		}
		for i, it := range items {
			hasKeys(t, it, "id", "event", "created_at", "payload")
			if i > 0 && str(t, it, "id") > str(t, items[i-1], "id") {
				t.Errorf("events not newest first at %d", i)
			}
		}
		if n := b.expect(http.StatusOK, b.keyB, "GET", "/api/v1/event", nil).num(t, "total"); n != 0 {
			t.Errorf("account B sees %d of A's events", n)
		}
	})
}

func TestDeleteWebhook(t *testing.T) {
	t.Parallel()
	b := setup(t)
	hook := str(t, b.webhook(b.keyA, nil), "id")
	other := str(t, b.webhook(b.keyA, map[string]any{"name": "other"}), "id")
	c := b.chat(b.keyA, hook)
	form := str(t, b.form(b.keyA, hook), "id")
	otherForm := str(t, b.form(b.keyA, other), "id")
	conv := str(t, b.conversation(b.keyA, c.assistant, c.widget, ""), "id")
	b.message(b.keyA, conv, "user", "hello")
	b.expect(http.StatusCreated, b.keyA, "POST", "/api/v1/conversation/"+conv+"/captured_form",
		map[string]any{"form_id": otherForm, "field_values": map[string]any{"email": "a@b.c"}})
	pending := b.expect(http.StatusOK, b.keyA, "GET", "/api/v1/outbound_webhook/"+hook+"/deliveries?status=pending", nil).items(t)
	if len(pending) != 2 {
		t.Fatalf("%d pending deliveries before delete, want 2", len(pending))
	}
	otherPending := b.expect(http.StatusOK, b.keyA, "GET", "/api/v1/outbound_webhook/"+other+"/deliveries?status=pending", nil).items(t)
	if len(otherPending) != 1 {
		t.Fatalf("%d pending deliveries of the other webhook, want 1", len(otherPending))
	}

	// Account B cannot delete it.
	b.expect(http.StatusNotFound, b.keyB, "DELETE", "/api/v1/outbound_webhook/"+hook, nil)

	del := b.expect(http.StatusOK, b.keyA, "DELETE", "/api/v1/outbound_webhook/"+hook, nil)
	if del.data(t)["id"] != hook {
		t.Errorf("delete data: %s", del.Raw)
	}
	b.expect(http.StatusNotFound, b.keyA, "GET", "/api/v1/outbound_webhook/"+hook, nil)
	b.expect(http.StatusNotFound, b.keyA, "GET", "/api/v1/outbound_webhook/"+hook+"/secret", nil)
	b.expect(http.StatusNotFound, b.keyA, "DELETE", "/api/v1/outbound_webhook/"+hook, nil)

	if got := b.expect(http.StatusOK, b.keyA, "GET", "/api/v1/assistant/"+c.assistant, nil).data(t)["webhook_id"]; got != nil {
		t.Errorf("assistant still has webhook_id %v", got)
	}
	if got := b.expect(http.StatusOK, b.keyA, "GET", "/api/v1/form/"+form, nil).data(t)["webhook_id"]; got != nil {
		t.Errorf("form still has webhook_id %v", got)
	}
	if got := b.expect(http.StatusOK, b.keyA, "GET", "/api/v1/form/"+otherForm, nil).data(t)["webhook_id"]; got != other {
		t.Errorf("other form lost its webhook: %v", got)
	}
	for _, d := range pending {
		got := b.expect(http.StatusOK, b.keyA, "GET", "/api/v1/delivery/"+str(t, d, "id"), nil).data(t)
		if got["status"] != "failed" || got["next_attempt_at"] != nil {
			t.Errorf("delivery of the deleted webhook: %v", got)
		}
	}
	for _, d := range otherPending {
		if got := b.expect(http.StatusOK, b.keyA, "GET", "/api/v1/delivery/"+str(t, d, "id"), nil).data(t); got["status"] != "pending" {
			t.Errorf("delivery of another webhook ended: %v", got)
		}
	}

	// New events no longer route to it.
	b.message(b.keyA, conv, "user", "again")
	if got := deliveryWebhooks(t, b.lastEvent(b.keyA, "conversation.updated")); len(got) != 0 {
		t.Errorf("deleted webhook still gets deliveries: %v", got)
	}
}

func TestDeliveryRetry(t *testing.T) {
	t.Parallel()
	b := setup(t)
	w := b.world(b.keyA)
	d := b.expect(http.StatusOK, b.keyA, "GET", "/api/v1/delivery/"+w.delivery, nil).data(t)
	if d["event_id"] != w.event || d["webhook_id"] != w.webhook || d["status"] != "pending" || d["attempt_count"] != 0.0 {
		t.Errorf("delivery: %v", d)
	}
	if at, ok := d["attempts"].([]any); !ok || len(at) != 0 {
		t.Errorf("attempts = %v, want []", d["attempts"])
	}
	r := b.expect(http.StatusAccepted, b.keyA, "POST", "/api/v1/delivery/"+w.delivery+"/retry", nil).data(t)
	if r["id"] != w.delivery || r["status"] != "pending" {
		t.Errorf("retried delivery: %v", r)
	}
	b.expect(http.StatusNotFound, b.keyB, "POST", "/api/v1/delivery/"+w.delivery+"/retry", nil)
}

// TestEventTypes checks GET /event_type and that every event the API fires
// carries each key its schema there requires.
func TestEventTypes(t *testing.T) {
	t.Parallel()
	b := setup(t)
	items := b.expect(http.StatusOK, b.keyA, "GET", "/api/v1/event_type", nil).items(t)
	required := map[string][]any{}
	for _, it := range items {
		schema, ok := it["schema"].(map[string]any)
		if !ok || schema["type"] != "object" {
			t.Fatalf("event type without an object schema: %v", it)
		}
		required[str(t, it, "name")], _ = schema["required"].([]any)
	}
	for _, want := range []string{"captured_form.created", "captured_form.updated", "captured_intent.created", "conversation.closed", "conversation.updated"} {
		if len(required[want]) == 0 {
			t.Errorf("event type %s not listed with required keys: %v", want, required)
		}
	}

	w := b.world(b.keyA)
	b.message(b.keyA, w.conversation, "user", "hi")
	b.expect(http.StatusOK, b.keyA, "PATCH", "/api/v1/captured_form/"+w.capturedForm, map[string]any{"field_values": map[string]any{"note": "x"}})
	b.expect(http.StatusCreated, b.keyA, "POST", "/api/v1/conversation/"+w.conversation+"/captured_intent", map[string]any{"intent_id": w.intent})
	b.expect(http.StatusOK, b.keyA, "POST", "/api/v1/conversation/"+w.conversation+"/close", nil)
	for typ, keys := range required {
		if typ == "webhook.test" || agenthooks.IsOperational(typ) {
			continue // not fired by a conversation (the delivery tests and cmd's e2e test cover the operational ones)
		}
		d := eventData(t, b.lastEvent(b.keyA, typ))
		for _, k := range keys {
			if _, ok := d[k.(string)]; !ok {
				t.Errorf("%s data lacks required key %q: %v", typ, k, d)
			}
		}
	}
}

// fuzzRoutes are the routes FuzzRequestBody posts to; the ids are filled in
// from a world.
var fuzzRoutes = []string{
	"POST /outbound_webhook", "PATCH /outbound_webhook/{webhook}", "POST /assistant", "PATCH /assistant/{assistant}",
	"POST /widget", "POST /form", "PATCH /form/{form}", "POST /intent", "POST /contact", "POST /conversation",
	"POST /conversation/{conversation}/message", "POST /conversation/{conversation}/captured_form",
	"POST /conversation/{conversation}/captured_intent", "PATCH /captured_form/{captured_form}",
}

func FuzzCreateWebhookBody(f *testing.F) {
	seeds := []string{
		`{"name": "n", "endpoint": "https://hooks.example.com/in"}`,
		`{"name": "n", "endpoint": "https://hooks.example.com/in", "enabled": false, "events": ["conversation.closed"], "ordering": "conversation", "headers": {"X-A": "b"}, "rate_limit": 1.5}`,
		`{"name": 5}`, `{"name": "n", "endpoint": "http://127.0.0.1/"}`, `{"events": []}`, `{"events": [null]}`,
		`{"headers": {"": ""}}`, `{"headers": {"a": null}}`, `{"rate_limit": 1e309}`, `{"rate_limit": -0}`,
		`{"name": "\u0000", "endpoint": "https://[::1%25eth0]/"}`, `{"endpoint": "http://0x7f.1/"}`,
		`[]`, `null`, `{`, ``, `{"name": "n", "endpoint": "https://hooks.example.com/in", "name": 1}`,
		`{"name": "` + strings.Repeat("x", 300) + `", "endpoint": "https://a.b/"}`,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	b := setup(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		b := b.on(t)
		r := b.request(b.keyA, "POST", "/api/v1/outbound_webhook", body)
		switch r.Status {
		case http.StatusCreated:
			wh := r.data(t)
			hasKeys(t, wh, webhookKeys...)
			checkSecret(t, str(t, wh, "secret"))
		case http.StatusBadRequest, http.StatusUnprocessableEntity, http.StatusRequestEntityTooLarge:
			if _, ok := r.Body["detail"]; !ok {
				t.Fatalf("error without detail: %s", r.Raw)
			}
		default:
			t.Fatalf("status %d: %s", r.Status, r.Raw)
		}
	})
}

func FuzzRequestBody(f *testing.F) {
	seeds := []string{`{}`, `{"name": "x", "fields": [{"name": "a"}]}`, `{"field_values": {"email": null}}`, `{"webhook_id": null}`,
		`{"attributes": {"a": [1, {"b": null}]}}`, `{"sender_type": "user", "text": "\ud800"}`, `{"fields": [null, 1, "x", {}]}`}
	for i, s := range seeds {
		f.Add(uint8(i), []byte(s))
	}
	b := setup(f)
	w := b.world(b.keyA)
	f.Fuzz(func(t *testing.T, route uint8, body []byte) {
		b := b.on(t)
		rt := fuzzRoutes[int(route)%len(fuzzRoutes)]
		method, path, _ := strings.Cut(rt, " ")
		for _, kind := range []string{"webhook", "assistant", "form", "conversation", "captured_form"} {
			path = strings.ReplaceAll(path, "{"+kind+"}", w.id(kind))
		}
		r := b.request(b.keyA, method, "/api/v1"+path, body)
		if r.Status == http.StatusNotFound {
			t.Fatalf("%s: 404 for an existing resource: %s", rt, r.Raw)
		}
	})
}

// TestUnstorableText covers text that PostgreSQL cannot store (U+0000,
// invalid UTF-8): it must be refused as invalid or not found, never reach the
// store and fail there with a 500.
func TestUnstorableText(t *testing.T) {
	t.Parallel()
	b := setup(t)
	w := b.world(b.keyA)
	cases := []struct {
		name, method, path string
		body               any
		want               int
		loc                []any
	}{
		{"NULInName", "POST", "/api/v1/intent", raw(`{"name": "a\u0000b"}`), 422, []any{"body", "name"}},
		{"NULInDescription", "POST", "/api/v1/intent", raw(`{"name": "a", "description": "\u0000"}`), 422, []any{"body", "description"}},
		{"NULInFieldValue", "POST", "/api/v1/conversation/" + w.conversation + "/captured_form",
			raw(`{"form_id": "` + w.form + `", "field_values": {"email": "a@b.c", "note": ["\u0000"]}}`), 422, []any{"body", "field_values"}},
		{"NULInAttributesKey", "POST", "/api/v1/conversation", raw(`{"assistant_id": "` + w.assistant + `", "widget_id": "` + w.widget +
			`", "device_type": "mobile", "attributes": {"\u0000": 1}}`), 422, []any{"body", "attributes"}},
		{"NULInId", "POST", "/api/v1/assistant", raw(`{"name": "a", "webhook_id": "\u0000"}`), 422, []any{"body", "webhook_id"}},
		{"EscapedBackslashIsNotNUL", "POST", "/api/v1/intent", raw(`{"name": "a\\u0000b"}`), 201, nil},
		{"InvalidUTF8Body", "POST", "/api/v1/intent", []byte("{\"name\": \"a\xffb\"}"), 400, nil},
		{"InvalidUTF8Attributes", "POST", "/api/v1/conversation", []byte(`{"assistant_id": "` + w.assistant + `", "widget_id": "` + w.widget +
			"\", \"device_type\": \"mobile\", \"attributes\": {\"k\": \"\xc3\"}}"), 400, nil},
		{"NULInPathID", "GET", "/api/v1/assistant/a%00b", nil, 404, nil},
		{"InvalidUTF8PathID", "GET", "/api/v1/assistant/%ff", nil, 404, nil},
		{"InvalidUTF8PathIDAction", "POST", "/api/v1/conversation/%ff/close", nil, 404, nil},
		{"NULInQuery", "GET", "/api/v1/conversation?assistant_id=%00", nil, 422, []any{"query", "assistant_id"}},
		{"InvalidUTF8Query", "GET", "/api/v1/conversation?assistant_id=%ff", nil, 422, []any{"query", "assistant_id"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := b.on(t)
			r := b.expect(tc.want, b.keyA, tc.method, tc.path, tc.body)
			if tc.loc != nil {
				checkLoc(t, r, "", tc.loc...)
			}
		})
	}
	t.Run("InvalidUTF8IdempotencyKey", func(t *testing.T) {
		t.Parallel()
		b := b.on(t)
		req, err := http.NewRequest("POST", b.srv.URL+"/api/v1/intent", strings.NewReader(`{"name": "i"}`))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+b.keyA)
		req.Header["Idempotency-Key"] = []string{"k\xff"}
		if r := b.send(req); r.Status != http.StatusUnprocessableEntity {
			t.Fatalf("status %d, want 422: %s", r.Status, r.Raw)
		}
	})
}

func TestWebhookTestAndRecover(t *testing.T) {
	t.Parallel()
	b := setup(t)

	t.Run("Test", func(t *testing.T) {
		t.Parallel()
		b := b.on(t)
		// Subscribed to something else: webhook.test goes out whatever events says.
		hook := str(t, b.webhook(b.keyA, map[string]any{"events": []string{"conversation.closed"}}), "id")
		r := b.expect(http.StatusOK, b.keyA, "POST", "/api/v1/outbound_webhook/"+hook+"/test", nil).data(t)
		hasKeys(t, r, "event_id", "delivery_id", "status", "attempt")
		var ev map[string]any
		for _, e := range b.events(b.keyA, "webhook.test") {
			if e["id"] == r["event_id"] {
				ev = e
			}
		}
		if ev == nil {
			t.Fatalf("test event %v not listed", r["event_id"])
		}
		if got := deliveryWebhooks(t, ev); len(got) != 1 || got[0] != hook {
			t.Errorf("test event delivered to %v, want [%s]", got, hook)
		}
		if d := eventData(t, ev); d["webhook_id"] != hook || d["message"] == "" {
			t.Errorf("webhook.test data: %v", d)
		}
		d := b.expect(http.StatusOK, b.keyA, "GET", "/api/v1/delivery/"+str(t, r, "delivery_id"), nil).data(t)
		if d["event_id"] != r["event_id"] || d["webhook_id"] != hook {
			t.Errorf("test delivery: %v", d)
		}
	})

	t.Run("TestDisabled", func(t *testing.T) {
		t.Parallel()
		b := b.on(t)
		hook := str(t, b.webhook(b.keyA, map[string]any{"enabled": false}), "id")
		b.expect(http.StatusConflict, b.keyA, "POST", "/api/v1/outbound_webhook/"+hook+"/test", nil)
		for _, e := range b.events(b.keyA, "webhook.test") {
			if eventData(t, e)["webhook_id"] == hook {
				t.Errorf("a refused test stored an event: %v", e)
			}
		}
	})

	t.Run("Recover", func(t *testing.T) {
		t.Parallel()
		b := b.on(t)
		hook := str(t, b.webhook(b.keyA, nil), "id")
		c := b.chat(b.keyA, hook)
		conv := str(t, b.conversation(b.keyA, c.assistant, c.widget, ""), "id")
		b.message(b.keyA, conv, "user", "one")
		b.message(b.keyA, conv, "user", "two")
		// No workers run here: end the deliveries as failed in the store, as
		// the last scheduled attempt would.
		err := b.store.Write(context.Background(), func(tx agenthooks.Tx) error {
			_, err := tx.FailPendingDeliveries(hook, "simulated")
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		path := "/api/v1/outbound_webhook/" + hook
		if n := b.expect(http.StatusOK, b.keyA, "GET", path+"/deliveries?status=failed", nil).num(t, "total"); n != 2 {
			t.Fatalf("%d failed deliveries, want 2", n)
		}
		checkLoc(t, b.expect(http.StatusUnprocessableEntity, b.keyA, "POST", path+"/recover", map[string]any{}), "missing", "body", "since")
		checkLoc(t, b.expect(http.StatusUnprocessableEntity, b.keyA, "POST", path+"/recover", map[string]any{"since": "yesterday"}), "", "body", "since")
		checkLoc(t, b.expect(http.StatusUnprocessableEntity, b.keyA, "POST", path+"/recover", map[string]any{"since": 5}), "string_type", "body", "since")

		future := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
		if got := b.expect(http.StatusAccepted, b.keyA, "POST", path+"/recover", map[string]any{"since": future}).data(t)["queued"]; got != 0.0 {
			t.Errorf("recover since the future queued %v, want 0", got)
		}
		if got := b.expect(http.StatusAccepted, b.keyA, "POST", path+"/recover", map[string]any{"since": "2000-01-01T00:00:00Z"}).data(t)["queued"]; got != 2.0 {
			t.Errorf("recover queued %v, want 2", got)
		}
		if n := b.expect(http.StatusOK, b.keyA, "GET", path+"/deliveries?status=pending", nil).num(t, "total"); n != 2 {
			t.Errorf("%d pending deliveries after recover, want 2", n)
		}
		b.expect(http.StatusNotFound, b.keyB, "POST", path+"/recover", map[string]any{"since": "2000-01-01T00:00:00Z"})
	})
}

func TestIdempotencyKey(t *testing.T) {
	t.Parallel()
	b := setup(t)
	idem := func(key string) map[string]string { return map[string]string{"Idempotency-Key": key} }

	t.Run("ReplaysAndFiresOnce", func(t *testing.T) {
		t.Parallel()
		b := b.on(t)
		hook := str(t, b.webhook(b.keyA, nil), "id")
		c := b.chat(b.keyA, hook)
		conv := str(t, b.conversation(b.keyA, c.assistant, c.widget, ""), "id")
		path := "/api/v1/conversation/" + conv + "/message"
		body := map[string]any{"sender_type": "user", "text": "once"}
		first := b.requestWith(b.keyA, "POST", path, body, idem("msg-1"))
		second := b.requestWith(b.keyA, "POST", path, body, idem("msg-1"))
		if first.Status != http.StatusCreated || second.Status != http.StatusCreated || string(first.Raw) != string(second.Raw) {
			t.Fatalf("replay: %d %s / %d %s", first.Status, first.Raw, second.Status, second.Raw)
		}
		n := 0
		for _, e := range b.events(b.keyA, "conversation.updated") {
			if eventData(t, e)["conversation_id"] == conv {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%d conversation.updated events for one keyed message sent twice", n)
		}
		if got := b.expect(http.StatusOK, b.keyA, "GET", "/api/v1/conversation/"+conv, nil).data(t)["chat_count"]; got != 1.0 {
			t.Errorf("chat_count = %v, want 1", got)
		}
	})

	t.Run("Mismatch", func(t *testing.T) {
		t.Parallel()
		b := b.on(t)
		if r := b.requestWith(b.keyA, "POST", "/api/v1/intent", map[string]any{"name": "a"}, idem("mm")); r.Status != http.StatusCreated {
			t.Fatalf("first: %d %s", r.Status, r.Raw)
		}
		for _, c := range []struct {
			name, path string
			body       any
		}{
			{"OtherBody", "/api/v1/intent", map[string]any{"name": "b"}},
			{"OtherPath", "/api/v1/contact", map[string]any{"name": "a"}},
		} {
			r := b.requestWith(b.keyA, "POST", c.path, c.body, idem("mm"))
			if r.Status != http.StatusUnprocessableEntity {
				t.Errorf("%s: status %d, want 422: %s", c.name, r.Status, r.Raw)
			}
		}
	})

	t.Run("ValidationErrorsAreNotRemembered", func(t *testing.T) {
		t.Parallel()
		b := b.on(t)
		if r := b.requestWith(b.keyA, "POST", "/api/v1/widget", map[string]any{"name": 5}, idem("fix-me")); r.Status != http.StatusUnprocessableEntity {
			t.Fatalf("invalid: %d %s", r.Status, r.Raw)
		}
		if r := b.requestWith(b.keyA, "POST", "/api/v1/widget", raw(`{"name":`), idem("fix-me")); r.Status != http.StatusBadRequest {
			t.Fatalf("malformed: %d %s", r.Status, r.Raw)
		}
		if r := b.requestWith(b.keyA, "POST", "/api/v1/intent", map[string]any{"name": "ok"}, idem("fix-me")); r.Status != http.StatusCreated {
			t.Fatalf("corrected: %d %s", r.Status, r.Raw)
		}
	})

	t.Run("PerAccount", func(t *testing.T) {
		t.Parallel()
		b := b.on(t)
		body := map[string]any{"name": "shared"}
		ra := b.requestWith(b.keyA, "POST", "/api/v1/intent", body, idem("shared-key"))
		rb := b.requestWith(b.keyB, "POST", "/api/v1/intent", body, idem("shared-key"))
		if ra.Status != http.StatusCreated || rb.Status != http.StatusCreated || ra.data(t)["id"] == rb.data(t)["id"] {
			t.Fatalf("same key in two accounts: %d %s / %d %s", ra.Status, ra.Raw, rb.Status, rb.Raw)
		}
		b.expect(http.StatusOK, b.keyB, "GET", "/api/v1/intent/"+str(t, rb.data(t), "id"), nil)
	})
}

func TestConcurrentWrites(t *testing.T) {
	t.Parallel()
	b := setup(t)
	hook := str(t, b.webhook(b.keyA, nil), "id")
	c := b.chat(b.keyA, hook)
	conv := str(t, b.conversation(b.keyA, c.assistant, c.widget, ""), "id")

	const n = 16
	statuses := make(chan int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			statuses <- b.request(b.keyA, "POST", "/api/v1/conversation/"+conv+"/message",
				map[string]any{"sender_type": "user", "text": fmt.Sprint(i)}).Status
		})
	}
	wg.Wait()
	close(statuses)
	for st := range statuses {
		if st != http.StatusCreated {
			t.Fatalf("concurrent message: status %d", st)
		}
	}
	if got := b.expect(http.StatusOK, b.keyA, "GET", "/api/v1/conversation/"+conv, nil).data(t)["chat_count"]; got != float64(n) {
		t.Errorf("chat_count = %v after %d concurrent messages", got, n)
	}

	closes := make(chan int, n)
	for range n {
		wg.Go(func() { closes <- b.request(b.keyA, "POST", "/api/v1/conversation/"+conv+"/close", nil).Status })
	}
	wg.Wait()
	close(closes)
	count := map[int]int{}
	for st := range closes {
		count[st]++
	}
	if count[http.StatusOK] != 1 || count[http.StatusConflict] != n-1 {
		t.Errorf("concurrent closes answered %v, want one 200 and %d 409", count, n-1)
	}
	if evs := b.events(b.keyA, "conversation.closed"); len(evs) != 1 {
		t.Errorf("%d conversation.closed events after concurrent closes, want 1", len(evs))
	}
}

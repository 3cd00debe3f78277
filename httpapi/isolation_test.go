package httpapi_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/agenthooks/agenthooks/httpapi"
)

// The isolation matrix: every route of every surface is called as account B
// with account A's ids, and must answer not found (a route that names a
// resource in its path) or, for a route that names none, leak nothing of A
// (no id of A's and no secret of A's in the answer, whatever its status).
// The routes come from the surface's own route table, so a route added later
// is called too; one whose path or body the matrix does not know how to fill
// fails the test until it is taught here. Another surface (the dashboard's
// routes, with its session instead of a key) is one more entry in
// isolationSurfaces.

// surface is one route table under test.
type surface struct {
	name string
	// routes are the patterns "METHOD /path/{param}", as registered.
	routes []string
	// prefix is put before each path.
	prefix string
	// kinds names the kind of resource a path parameter holds: "{id}" by the
	// path segment before it ("outbound_webhook" → "webhook"), any other
	// parameter by its own name ("contact_id" → "contact").
	kinds map[string]string
	// bodies builds a valid body for account A (its ids) for each route
	// that takes one; noBody marks the routes that take none.
	bodies map[string]func(w *world) any
	// queries are query strings to send with a route, naming A's ids.
	queries map[string]func(w *world) string
}

// noBody marks a route that takes no body.
var noBody = func(*world) any { return nil }

// apiKinds are the kinds of the API's path parameters.
var apiKinds = map[string]string{
	"outbound_webhook": "webhook", "assistant": "assistant", "widget": "widget", "form": "form", "intent": "intent",
	"contact": "contact", "conversation": "conversation", "captured_form": "captured_form", "event": "event", "delivery": "delivery",
	"contact_id": "contact", "intent_id": "intent", "webhook_id": "webhook", "assistant_id": "assistant",
	"api_key": "api_key", "name": "event_type",
}

// apiBodies are valid bodies (for account A) of the API's routes that take one.
var apiBodies = map[string]func(w *world) any{
	"POST /outbound_webhook":                    func(*world) any { return map[string]any{"name": "n", "endpoint": publicEndpoint} },
	"PATCH /outbound_webhook/{id}":              func(*world) any { return map[string]any{"name": "renamed", "enabled": false} },
	"PUT /outbound_webhook/{id}":                func(*world) any { return map[string]any{"name": "renamed"} },
	"POST /outbound_webhook/{id}/rotate_secret": noBody,
	"POST /outbound_webhook/{id}/test":          noBody,
	"POST /outbound_webhook/{id}/transformation/test": func(*world) any {
		return map[string]any{"code": "function handler(w) { return w }", "event_type": "x.y"}
	},
	"POST /outbound_webhook/{id}/filter/test": func(w *world) any {
		return map[string]any{"filter": map[string]any{"event": "x"}, "event_id": w.event}
	},
	"POST /outbound_webhook/{id}/recover": func(*world) any { return map[string]any{"since": "2000-01-01T00:00:00Z"} },
	"POST /event_type":                    func(*world) any { return map[string]any{"name": "iso.created"} },
	"PATCH /event_type/{name}":            func(*world) any { return map[string]any{"description": "hijacked", "deprecated": true} },
	"POST /event": func(w *world) any {
		return map[string]any{"event_type": w.eventType, "data": map[string]any{}, "assistant_id": w.assistant, "conversation_id": w.conversation}
	},
	"POST /assistant":       func(w *world) any { return map[string]any{"name": "a", "webhook_id": w.webhook} },
	"PATCH /assistant/{id}": func(w *world) any { return map[string]any{"name": "renamed", "webhook_id": w.webhook} },
	"PUT /assistant/{id}":   func(w *world) any { return map[string]any{"name": "renamed", "webhook_id": w.webhook} },
	"POST /widget": func(w *world) any {
		return map[string]any{"assistant_id": w.assistant, "name": "w", "widget_type": "chat"}
	},
	"PATCH /widget/{id}": func(*world) any { return map[string]any{"name": "renamed"} },
	"PUT /widget/{id}":   func(*world) any { return map[string]any{"name": "renamed"} },
	"POST /form": func(w *world) any {
		return map[string]any{"name": "f", "fields": []any{map[string]any{"name": "email", "type": "text", "required": true}}, "webhook_id": w.webhook}
	},
	"PATCH /form/{id}":    func(w *world) any { return map[string]any{"name": "renamed", "webhook_id": w.webhook} },
	"POST /intent":        func(*world) any { return map[string]any{"name": "SUPPORT"} },
	"POST /contact":       func(*world) any { return map[string]any{"email": "b@example.com"} },
	"PATCH /contact/{id}": func(*world) any { return map[string]any{"first_name": "B"} },
	"PUT /contact/{id}":   func(*world) any { return map[string]any{"first_name": "B"} },
	"POST /conversation": func(w *world) any {
		return map[string]any{"assistant_id": w.assistant, "widget_id": w.widget, "device_type": "mobile", "contact_id": w.contact}
	},
	"POST /conversation/{id}/message": func(*world) any { return map[string]any{"sender_type": "user", "text": "hi"} },
	"POST /conversation/{id}/captured_form": func(w *world) any {
		return map[string]any{"form_id": w.form, "field_values": map[string]any{"email": "x@y.z"}}
	},
	"POST /conversation/{id}/captured_intent": func(w *world) any { return map[string]any{"intent_id": w.intent} },
	"POST /conversation/{id}/close":           noBody,
	"PATCH /captured_form/{id}":               func(*world) any { return map[string]any{"field_values": map[string]any{"note": "n"}} },
	"POST /delivery/{id}/retry":               noBody,
	"POST /event/{id}/replay":                 noBody,
	"POST /assistant/{id}/intent/{intent_id}": noBody,
	"POST /api_key":                           func(*world) any { return map[string]any{"name": "B's key"} },
	"POST /contact/upsert":                    noBody, // its fields are query parameters (apiQueries)
	"POST /portal_session":                    func(*world) any { return map[string]any{"expires_in": 120, "read_only": true} },
}

// apiQueries send A's ids as filters.
var apiQueries = map[string]func(w *world) string{
	"GET /conversation":                     func(w *world) string { return "?assistant_id=" + w.assistant },
	"GET /outbound_webhook/{id}/deliveries": func(*world) string { return "?status=pending" },
	"POST /contact/upsert":                  func(*world) string { return "?email=a@example.com" },
}

// isolationSurfaces lists the route tables the matrix covers.
func isolationSurfaces(b *testBundle) []surface {
	return []surface{
		{name: "api", routes: httpapi.RegisteredRoutes(httpapi.New(b.svc, nil)), prefix: httpapi.BasePath, kinds: apiKinds, bodies: apiBodies, queries: apiQueries},
	}
}

// params returns the names of a pattern's path parameters, in order.
func params(path string) []string {
	var out []string
	for _, seg := range strings.Split(path, "/") {
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
			out = append(out, strings.TrimSuffix(strings.Trim(seg, "{}"), "..."))
		}
	}
	return out
}

// fill replaces each path parameter by A's id of its kind; ok is false (and
// the test fails) for a parameter whose kind is not known.
func (s surface) fill(t *testing.T, w *world, path string) (string, bool) {
	t.Helper()
	segs := strings.Split(path, "/")
	for i, seg := range segs {
		if !strings.HasPrefix(seg, "{") {
			continue
		}
		name := strings.TrimSuffix(strings.Trim(seg, "{}"), "...")
		key := name
		if name == "id" && i > 0 {
			key = segs[i-1]
		}
		kind, ok := s.kinds[key]
		if !ok || !slices.Contains(worldKinds, kind) {
			t.Errorf("%s: the isolation matrix does not know what {%s} in %s names: add it to the surface's kinds (and the world)", s.name, name, path)
			return "", false
		}
		segs[i] = w.id(kind)
	}
	return strings.Join(segs, "/"), true
}

// worldKinds are the kinds of resource a world has one of.
var worldKinds = []string{"webhook", "assistant", "widget", "form", "intent", "contact", "conversation", "captured_form", "event", "delivery", "api_key", "event_type"}

// TestIsolationMatrix calls every route as B with A's ids.
func TestIsolationMatrix(t *testing.T) {
	t.Parallel()
	b := setup(t)
	mine := b.world(b.keyA)
	theirs := b.world(b.keyB)
	secretA := str(t, b.expect(http.StatusOK, b.keyA, "GET", "/api/v1/outbound_webhook/"+mine.webhook+"/secret", nil).data(t), "secret")
	leaks := []string{secretA, strings.TrimPrefix(secretA, "whsec_")}
	for _, k := range worldKinds {
		leaks = append(leaks, mine.id(k))
	}

	for _, s := range isolationSurfaces(b) {
		if len(s.routes) == 0 {
			t.Fatalf("%s: no routes", s.name)
		}
		for _, pattern := range s.routes {
			method, path, _ := strings.Cut(pattern, " ")
			t.Run(s.name+"/"+pattern, func(t *testing.T) {
				b := b.on(t)
				filled, ok := s.fill(t, mine, path)
				if !ok {
					return
				}
				var body any
				mkBody, known := s.bodies[pattern]
				switch {
				case known:
					body = mkBody(mine)
				case method == http.MethodPost || method == http.MethodPatch || method == http.MethodPut:
					t.Fatalf("%s: the isolation matrix does not know a valid body for %s: add one to the surface's bodies (or noBody)", s.name, pattern)
				}
				if q, ok := s.queries[pattern]; ok {
					filled += q(mine)
				}
				r := b.request(b.keyB, method, s.prefix+filled, body)
				if len(params(path)) > 0 && r.Status != http.StatusNotFound {
					t.Errorf("as B with A's ids: status %d, want 404: %s", r.Status, r.Raw)
				}
				for _, l := range leaks {
					if strings.Contains(string(r.Raw), l) {
						t.Errorf("the answer to B holds A's %q: %s", l, r.Raw)
					}
				}
			})
		}
	}

	// Nothing B did reached A's resources.
	t.Run("AUntouched", func(t *testing.T) {
		b := b.on(t)
		wh := b.expect(http.StatusOK, b.keyA, "GET", "/api/v1/outbound_webhook/"+mine.webhook, nil).data(t)
		if wh["name"] != "hook" || wh["enabled"] != true {
			t.Errorf("A's webhook was changed: %v", wh)
		}
		if got := str(t, b.expect(http.StatusOK, b.keyA, "GET", "/api/v1/outbound_webhook/"+mine.webhook+"/secret", nil).data(t), "secret"); got != secretA {
			t.Error("A's secret was rotated")
		}
		if c := b.expect(http.StatusOK, b.keyA, "GET", "/api/v1/conversation/"+mine.conversation, nil).data(t); c["status"] != "open" || c["chat_count"] != 0.0 {
			t.Errorf("A's conversation was changed: %v", c)
		}
		if d := b.expect(http.StatusOK, b.keyA, "GET", "/api/v1/delivery/"+mine.delivery, nil).data(t); d["status"] != "pending" || d["attempt_count"] != 0.0 {
			t.Errorf("A's delivery was changed: %v", d)
		}
		if a := b.expect(http.StatusOK, b.keyA, "GET", "/api/v1/assistant/"+mine.assistant, nil).data(t); a["webhook_id"] != mine.webhook {
			t.Errorf("A's assistant was changed: %v", a)
		}
		b.expect(http.StatusOK, b.keyA, "GET", "/api/v1/widget/"+mine.widget, nil)
		b.expect(http.StatusOK, b.keyA, "GET", "/api/v1/form/"+mine.form, nil)
		b.expect(http.StatusOK, b.keyA, "GET", "/api/v1/intent/"+mine.intent, nil)
		b.expect(http.StatusOK, b.keyA, "GET", "/api/v1/contact/"+mine.contact, nil)
		b.expect(http.StatusOK, b.keyA, "GET", "/api/v1/event/"+mine.event, nil)
		_ = theirs
	})
}

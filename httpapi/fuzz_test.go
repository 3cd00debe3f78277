package httpapi_test

import (
	"net/http"
	"strings"
	"testing"
)

// FuzzRouteBody posts arbitrary bodies to every route of the API that takes
// one, generated from the server's route table (a route added later is
// fuzzed too; one the isolation matrix cannot fill fails here as there). The
// ids in the path are account A's own: the answer is never a 5xx (request
// checks that), never a 404 for them, and an error always has a detail.
func FuzzRouteBody(f *testing.F) {
	seeds := []string{`{}`, ``, `null`, `[]`, `{"name": "x", "fields": [{"name": "a"}]}`, `{"field_values": {"email": null}}`,
		`{"webhook_id": null}`, `{"attributes": {"a": [1, {"b": null}]}}`, `{"sender_type": "user", "text": "\ud800"}`,
		`{"fields": [null, 1, "x", {}]}`, `{"since": "2000-01-01T00:00:00Z"}`, `{"since": 5}`, `{"headers": {"X-A": "b"}}`,
		`{"attributes": ` + strings.Repeat(`{"a":`, 20) + `1` + strings.Repeat(`}`, 20) + `}`, `{"name": "\u0000"}`, `{"enabled": "yes"}`}
	for i, s := range seeds {
		f.Add(uint8(i), []byte(s))
	}
	b := setup(f)
	w := b.world(b.keyA)
	api := isolationSurfaces(b)[0]
	var routes []string
	for _, p := range api.routes {
		method, _, _ := strings.Cut(p, " ")
		if method == http.MethodPost || method == http.MethodPatch || method == http.MethodPut {
			routes = append(routes, p)
		}
	}
	if len(routes) == 0 {
		f.Fatal("no routes take a body")
	}
	f.Fuzz(func(t *testing.T, route uint8, body []byte) {
		b := b.on(t)
		pattern := routes[int(route)%len(routes)]
		method, path, _ := strings.Cut(pattern, " ")
		filled, ok := api.fill(t, w, path)
		if !ok {
			return
		}
		r := b.request(b.keyA, method, api.prefix+filled, body)
		if r.Status == http.StatusNotFound {
			t.Fatalf("%s: 404 for A's own resources: %s", pattern, r.Raw)
		}
		if r.Status >= 400 {
			if _, ok := r.Body["detail"]; !ok {
				t.Fatalf("%s: %d without a detail: %s", pattern, r.Status, r.Raw)
			}
		}
	})
}

// FuzzQuery sends arbitrary query strings (paging, filters, api_key) to the
// lists: never a 5xx, and a 422 names a query parameter.
func FuzzQuery(f *testing.F) {
	for _, s := range []string{"page=1&size=100", "page=0", "size=101", "page=-1", "size=abc", "page=99999999999999999999",
		"event=conversation.closed", "event=nope", "date_from=2020-01-01&date_to=2020-01-02", "date_from=x", "status=pending",
		"assistant_id=%00", "api_key=ak_x", "api_key=&api_key=", "%ff=1", "page=1&page=2"} {
		f.Add(uint8(0), s)
	}
	b := setup(f)
	w := b.world(b.keyA)
	lists := []string{"/api/v1/event", "/api/v1/conversation", "/api/v1/outbound_webhook", "/api/v1/outbound_webhook/" + w.webhook + "/deliveries",
		"/api/v1/assistant", "/api/v1/contact", "/api/v1/intent"}
	f.Fuzz(func(t *testing.T, list uint8, query string) {
		// Bytes a request line cannot carry are refused by net/http
		// before any handler runs (and Go's client sends them as they are).
		if strings.ContainsFunc(query, func(r rune) bool { return r <= ' ' || r >= 0x7f || r == '#' }) {
			return
		}
		b := b.on(t)
		req, err := http.NewRequest("GET", b.srv.URL+lists[int(list)%len(lists)], nil)
		if err != nil {
			return
		}
		req.URL.RawQuery = query
		req.Header.Set("Authorization", "Bearer "+b.keyA)
		r := b.send(req)
		switch r.Status {
		case http.StatusOK, http.StatusUnauthorized, http.StatusBadRequest:
		case http.StatusUnprocessableEntity:
			d := r.detail(t)
			if d[0].Loc[0] != "query" {
				t.Fatalf("422 not on a query parameter: %s", r.Raw)
			}
		default:
			t.Fatalf("status %d: %s", r.Status, r.Raw)
		}
	})
}

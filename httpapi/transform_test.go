package httpapi_test

import (
	"net/http"
	"strings"
	"testing"
)

// A webhook's transformation is written on create and PATCH, read back,
// removed with null; code that does not compile, or over 64 KiB, is 422
// on ["body", "transformation", "code"].
func TestWebhookTransformationField(t *testing.T) {
	t.Parallel()
	b := setup(t)
	code := "function handler(w) { w.payload = {text: w.eventType}; return w }"
	wh := b.webhook(b.keyA, map[string]any{"transformation": map[string]any{"code": code}})
	id := str(t, wh, "id")
	tr, _ := wh["transformation"].(map[string]any)
	if tr["code"] != code || tr["enabled"] != true {
		t.Fatalf("created transformation %v", wh["transformation"])
	}
	got := b.expect(http.StatusOK, b.keyA, "GET", "/api/v1/outbound_webhook/"+id, nil).data(t)
	if tr, _ := got["transformation"].(map[string]any); tr["code"] != code {
		t.Fatalf("read transformation %v", got["transformation"])
	}
	cases := []struct {
		name string
		body any
		typ  string
		loc  []any
	}{
		{"syntax", map[string]any{"code": "function handler(w) {\n  return w +;\n}"}, "value_error", []any{"body", "transformation", "code"}},
		{"no handler", map[string]any{"code": "var x = 1"}, "value_error", []any{"body", "transformation", "code"}},
		{"too long", map[string]any{"code": "function handler(w) { return w }//" + strings.Repeat("x", 64<<10)}, "too_long", []any{"body", "transformation", "code"}},
		{"not a string", map[string]any{"code": 5}, "string_type", []any{"body", "transformation", "code"}},
		{"missing code", map[string]any{"enabled": true}, "missing", []any{"body", "transformation", "code"}},
		{"not an object", "x", "dict_type", []any{"body", "transformation"}},
	}
	for _, c := range cases {
		r := b.expect(http.StatusUnprocessableEntity, b.keyA, "PATCH", "/api/v1/outbound_webhook/"+id, map[string]any{"transformation": c.body})
		checkLoc(t, r, c.typ, c.loc...)
		if c.name == "syntax" && !strings.Contains(string(r.Raw), "line 2") {
			t.Errorf("syntax error without its line: %s", r.Raw)
		}
	}
	p := b.expect(http.StatusOK, b.keyA, "PATCH", "/api/v1/outbound_webhook/"+id, map[string]any{"transformation": map[string]any{"code": code, "enabled": false}}).data(t)
	if tr, _ := p["transformation"].(map[string]any); tr["enabled"] != false {
		t.Errorf("patched %v", p["transformation"])
	}
	p = b.expect(http.StatusOK, b.keyA, "PATCH", "/api/v1/outbound_webhook/"+id, map[string]any{"transformation": nil}).data(t)
	if p["transformation"] != nil {
		t.Errorf("null did not remove: %v", p["transformation"])
	}
}

// POST .../transformation/test answers what would be sent, or 422 with the
// error's line and column; GET /transformation_template lists the four.
func TestTransformationTestAndTemplates(t *testing.T) {
	t.Parallel()
	b := setup(t)
	id := str(t, b.webhook(b.keyA, map[string]any{"headers": map[string]any{"X-A": "1"}}), "id")
	path := "/api/v1/outbound_webhook/" + id + "/transformation/test"
	r := b.expect(http.StatusOK, b.keyA, "POST", path, map[string]any{
		"code":       "function handler(w) { w.method = 'PATCH'; w.payload = {t: w.eventType, n: w.payload.data.n}; return w }",
		"event_type": "captured_intent.created", "payload": map[string]any{"n": 3},
	}).data(t)
	if r["method"] != "PATCH" || r["url"] != publicEndpoint || r["cancel"] != false {
		t.Errorf("result %v", r)
	}
	if body, _ := r["body"].(map[string]any); body["t"] != "captured_intent.created" || body["n"] != float64(3) {
		t.Errorf("body %v", r["body"])
	}
	if h, _ := r["headers"].(map[string]any); h["X-A"] != "1" {
		t.Errorf("headers %v", r["headers"])
	}
	r = b.expect(http.StatusOK, b.keyA, "POST", path, map[string]any{"code": "function handler(w) { w.cancel = true; return w }"}).data(t)
	if r["cancel"] != true {
		t.Errorf("cancel %v", r)
	}
	e := b.expect(http.StatusUnprocessableEntity, b.keyA, "POST", path, map[string]any{"code": "function handler(w) {\n  throw new Error('boom')\n}"})
	checkLoc(t, e, "value_error", "body", "code")
	if !strings.Contains(string(e.Raw), "line 2, column") || !strings.Contains(string(e.Raw), "boom") {
		t.Errorf("error without line and column: %s", e.Raw)
	}
	e = b.expect(http.StatusUnprocessableEntity, b.keyA, "POST", path, map[string]any{})
	checkLoc(t, e, "missing", "body", "code")
	b.expect(http.StatusNotFound, b.keyB, "POST", path, map[string]any{"code": "function handler(w) { return w }"})

	tl := b.expect(http.StatusOK, b.keyA, "GET", "/api/v1/transformation_template", nil)
	list, _ := tl.Body["data"].([]any)
	names := map[string]bool{}
	for _, x := range list {
		m := x.(map[string]any)
		names[m["name"].(string)] = true
		if !strings.Contains(m["code"].(string), "function handler") || m["description"] == "" {
			t.Errorf("template %v", m["name"])
		}
	}
	for _, n := range []string{"slack", "discord", "teams", "google_chat"} {
		if !names[n] {
			t.Errorf("no template %s", n)
		}
	}
}

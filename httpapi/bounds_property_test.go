package httpapi_test

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"

	"github.com/agenthooks/agenthooks/service"
)

// TestOverLimitNeverStored is a property test of the size bounds on every
// create, PUT and PATCH route that takes a name, a description or free
// text: random lengths past the bound (in characters of one to four bytes
// for names, bytes for the rest) answer 422 on the field, never a 500, and
// store nothing: a create adds no row to its list, a change leaves the
// resource as it was. Routes of event types and filters are the events and
// filter areas' (covered by their own tests).
func TestOverLimitNeverStored(t *testing.T) {
	t.Parallel()
	b := setup(t)
	w := b.world(b.keyA)
	rng := rand.New(rand.NewPCG(25, 11))
	letters := []string{"a", "é", "語", "🙂"}
	name := func() string { // over 255 characters
		return strings.Repeat(letters[rng.IntN(len(letters))], service.MaxNameChars+1+rng.IntN(3*service.MaxNameChars))
	}
	over := func(limit int) func() string { // over limit bytes, some of them escaped in JSON
		return func() string {
			n := limit + 1 + rng.IntN(3*limit)
			return strings.Repeat(`"`, n/3) + strings.Repeat("x", n-n/3)
		}
	}
	desc := over(service.MaxDescriptionBytes)
	type bound struct {
		name, method, path string
		body               func(v string) map[string]any
		loc                []any
		value              func() string
		list, read, field  string // create: the list that must not grow; change: the resource and field that must stay
	}
	bounds := []bound{
		{"webhook name", "POST", "/outbound_webhook", func(v string) map[string]any { return map[string]any{"name": v, "endpoint": publicEndpoint} }, []any{"name"}, name, "/outbound_webhook", "", ""},
		{"webhook rename", "PATCH", "/outbound_webhook/" + w.webhook, func(v string) map[string]any { return map[string]any{"name": v} }, []any{"name"}, name, "", "/outbound_webhook/" + w.webhook, "name"},
		{"assistant name", "POST", "/assistant", func(v string) map[string]any { return map[string]any{"name": v} }, []any{"name"}, name, "/assistant", "", ""},
		{"assistant description", "POST", "/assistant", func(v string) map[string]any { return map[string]any{"name": "a", "description": v} }, []any{"description"}, desc, "/assistant", "", ""},
		{"widget name", "POST", "/widget", func(v string) map[string]any {
			return map[string]any{"assistant_id": w.assistant, "name": v, "widget_type": "chat"}
		}, []any{"name"}, name, "/widget", "", ""},
		{"widget rename", "PATCH", "/widget/" + w.widget, func(v string) map[string]any { return map[string]any{"name": v} }, []any{"name"}, name, "", "/widget/" + w.widget, "name"},
		{"form name", "POST", "/form", func(v string) map[string]any { return map[string]any{"name": v, "fields": []any{}} }, []any{"name"}, name, "/form", "", ""},
		{"form field name", "POST", "/form", func(v string) map[string]any {
			return map[string]any{"name": "f", "fields": []any{map[string]any{"name": v, "type": "text"}}}
		}, []any{"fields", 0, "name"}, name, "/form", "", ""},
		{"form rename", "PATCH", "/form/" + w.form, func(v string) map[string]any { return map[string]any{"name": v} }, []any{"name"}, name, "", "/form/" + w.form, "name"},
		{"intent name", "POST", "/intent", func(v string) map[string]any { return map[string]any{"name": v} }, []any{"name"}, name, "/intent", "", ""},
		{"intent description", "POST", "/intent", func(v string) map[string]any { return map[string]any{"name": "I", "description": v} }, []any{"description"}, desc, "/intent", "", ""},
		{"API key name", "POST", "/api_key", func(v string) map[string]any { return map[string]any{"name": v} }, []any{"name"}, name, "/api_key", "", ""},
		{"contact first name", "POST", "/contact", func(v string) map[string]any { return map[string]any{"email": "p@example.com", "first_name": v} }, []any{"first_name"}, over(service.MaxFreeTextBytes), "/contact", "", ""},
		{"contact last name", "PATCH", "/contact/" + w.contact, func(v string) map[string]any { return map[string]any{"last_name": v} }, []any{"last_name"}, over(service.MaxFreeTextBytes), "", "/contact/" + w.contact, "last_name"},
	}
	total := func(list string) float64 {
		return b.expect(http.StatusOK, b.keyA, "GET", "/api/v1"+list, nil).data(t)["total"].(float64)
	}
	for _, bd := range bounds {
		t.Run(bd.name, func(t *testing.T) {
			var before any
			switch {
			case bd.list != "":
				before = total(bd.list)
			default:
				before = b.expect(http.StatusOK, b.keyA, "GET", "/api/v1"+bd.read, nil).data(t)[bd.field]
			}
			for range 8 {
				v := bd.value()
				r := b.request(b.keyA, bd.method, "/api/v1"+bd.path, bd.body(v))
				if r.Status != http.StatusUnprocessableEntity {
					t.Fatalf("%d bytes: status %d, want 422: %.300s", len(v), r.Status, r.Raw)
				}
				checkLoc(t, r, "", append([]any{"body"}, bd.loc...)...)
			}
			var after any
			if bd.list != "" {
				after = total(bd.list)
			} else {
				after = b.expect(http.StatusOK, b.keyA, "GET", "/api/v1"+bd.read, nil).data(t)[bd.field]
			}
			if fmt.Sprint(after) != fmt.Sprint(before) {
				t.Errorf("stored: %v before, %.80v after", before, after)
			}
		})
	}
}

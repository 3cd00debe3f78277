package httpapi_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
)

// A webhook's filter is written on create and PATCH, read back as the JSON
// object it is (with events_filtered), removed with null; one the parser
// refuses is 422 on ["body", "filter"] with words that name the path.
func TestWebhookFilterField(t *testing.T) {
	t.Parallel()
	b := setup(t)
	flt := map[string]any{"data": map[string]any{"intent_name": map[string]any{"$in": []any{"SALES", "LEAD"}}}}
	wh := b.webhook(b.keyA, map[string]any{"filter": flt})
	id := str(t, wh, "id")
	if f, _ := wh["filter"].(map[string]any); f["data"] == nil || wh["events_filtered"] != float64(0) {
		t.Fatalf("created: filter %v, events_filtered %v", wh["filter"], wh["events_filtered"])
	}
	got := b.expect(http.StatusOK, b.keyA, "GET", "/api/v1/outbound_webhook/"+id, nil).data(t)
	if f, _ := got["filter"].(map[string]any); f["data"] == nil {
		t.Fatalf("read filter %v", got["filter"])
	}
	list := b.expect(http.StatusOK, b.keyA, "GET", "/api/v1/outbound_webhook", nil).items(t)
	if len(list) != 1 || list[0]["filter"] == nil || list[0]["events_filtered"] != float64(0) {
		t.Fatalf("listed %v", list)
	}
	if plain := b.webhook(b.keyA, nil); plain["filter"] != nil {
		t.Fatalf("a webhook without a filter reads filter %v, want null", plain["filter"])
	}
	for _, c := range []struct {
		name string
		flt  any
		msg  string
	}{
		{"unknown operator", map[string]any{"data": map[string]any{"intent_name": map[string]any{"$like": "S%"}}}, `data.intent_name.$like: unknown operator "$like"`},
		{"bad regex", map[string]any{"event": map[string]any{"$regex": "(conversation"}}, "event.$regex: not a valid regular expression"},
		{"wrong operand", map[string]any{"data.chat_count": map[string]any{"$gt": []any{1}}}, "data.chat_count.$gt: $gt takes a number"},
		{"not an object", "SALES", "a filter is a JSON object"},
		{"a list", []any{map[string]any{"a": 1}}, "a filter is a JSON object"},
		{"too large", map[string]any{"data.name": strings.Repeat("x", 4096)}, "at most 4096 bytes"},
	} {
		for _, method := range []string{"POST", "PATCH"} {
			path := "/api/v1/outbound_webhook"
			body := map[string]any{"filter": c.flt}
			if method == "PATCH" {
				path += "/" + id
			} else {
				body["name"], body["endpoint"] = "x", publicEndpoint
			}
			r := b.expect(http.StatusUnprocessableEntity, b.keyA, method, path, body)
			checkLoc(t, r, "value_error", "body", "filter")
			if d := r.detail(t); !strings.Contains(d[0].Msg, c.msg) {
				t.Errorf("%s %s: message %q, want %q", method, c.name, d[0].Msg, c.msg)
			}
		}
	}
	if n := len(b.expect(http.StatusOK, b.keyA, "GET", "/api/v1/outbound_webhook", nil).items(t)); n != 2 {
		t.Fatalf("a refused create stored a webhook: %d webhooks", n)
	}
	p := b.expect(http.StatusOK, b.keyA, "PATCH", "/api/v1/outbound_webhook/"+id, map[string]any{"name": "renamed"}).data(t)
	if p["filter"] == nil {
		t.Fatalf("a PATCH without filter removed it")
	}
	p = b.expect(http.StatusOK, b.keyA, "PATCH", "/api/v1/outbound_webhook/"+id, map[string]any{"filter": nil}).data(t)
	if p["filter"] != nil {
		t.Fatalf("null did not remove the filter: %v", p["filter"])
	}
	p = b.expect(http.StatusOK, b.keyA, "PATCH", "/api/v1/outbound_webhook/"+id, map[string]any{"filter": map[string]any{}}).data(t)
	if f, ok := p["filter"].(map[string]any); !ok || len(f) != 0 {
		t.Fatalf("{} is a filter that matches everything, kept as {}: %v", p["filter"])
	}
}

// A filter decides where deliveries are created: a non-matching event gets
// no delivery for that webhook and is counted on it (events_filtered), for
// runtime and operational events alike; a replay applies the filter as it
// stands without counting; the webhook's test is sent whatever the filter.
func TestFilterDropsDeliveries(t *testing.T) {
	t.Parallel()
	b := setup(t)
	sales := b.webhook(b.keyA, map[string]any{"filter": map[string]any{"data.intent_name": "SALES"}})
	salesID := str(t, sales, "id")
	c := b.chat(b.keyA, salesID)
	salesIntent := str(t, b.intent(b.keyA), "id")
	support := str(t, b.expect(http.StatusCreated, b.keyA, "POST", "/api/v1/intent", map[string]any{"name": "SUPPORT"}).data(t), "id")
	conv := str(t, b.conversation(b.keyA, c.assistant, c.widget, ""), "id")
	capture := func(intentID string) map[string]any {
		t.Helper()
		b.expect(http.StatusCreated, b.keyA, "POST", "/api/v1/conversation/"+conv+"/captured_intent", map[string]any{"intent_id": intentID})
		return b.lastEvent(b.keyA, "captured_intent.created")
	}
	filtered := func(id string) float64 {
		t.Helper()
		return b.expect(http.StatusOK, b.keyA, "GET", "/api/v1/outbound_webhook/"+id, nil).data(t)["events_filtered"].(float64)
	}

	ev := capture(support)
	if hooks := deliveryWebhooks(t, ev); len(hooks) != 0 {
		t.Fatalf("SUPPORT was delivered to %v", hooks)
	}
	if n := filtered(salesID); n != 1 {
		t.Fatalf("events_filtered = %v after one drop, want 1", n)
	}
	ev = capture(salesIntent)
	if hooks := deliveryWebhooks(t, ev); !slices.Equal(hooks, []string{salesID}) {
		t.Fatalf("SALES was delivered to %v, want the webhook", hooks)
	}
	// conversation.updated has no intent_name: dropped too.
	b.message(b.keyA, conv, "user", "hello")
	if hooks := deliveryWebhooks(t, b.lastEvent(b.keyA, "conversation.updated")); len(hooks) != 0 {
		t.Fatalf("conversation.updated was delivered to %v", hooks)
	}
	if n := filtered(salesID); n != 2 {
		t.Fatalf("events_filtered = %v, want 2", n)
	}

	// Replay: filters apply as they stand now, and a drop is not counted.
	replay := func(eventID string) int {
		t.Helper()
		return b.expect(http.StatusAccepted, b.keyA, "POST", "/api/v1/event/"+eventID+"/replay", nil).num(t, "queued")
	}
	if n := replay(str(t, ev, "id")); n != 1 {
		t.Fatalf("replay of a matching event queued %d, want 1", n)
	}
	b.expect(http.StatusOK, b.keyA, "PATCH", "/api/v1/outbound_webhook/"+salesID, map[string]any{"filter": map[string]any{"data.intent_name": "LEAD"}})
	if n := replay(str(t, ev, "id")); n != 0 {
		t.Fatalf("replay of an event the filter now drops queued %d, want 0", n)
	}
	if n := filtered(salesID); n != 2 {
		t.Fatalf("a replay counted: events_filtered = %v, want 2", n)
	}

	// The webhook's test is sent whatever its filter says.
	b.expect(http.StatusOK, b.keyA, "POST", "/api/v1/outbound_webhook/"+salesID+"/test", nil)
	if hooks := deliveryWebhooks(t, b.lastEvent(b.keyA, "webhook.test")); !slices.Equal(hooks, []string{salesID}) {
		t.Fatalf("webhook.test delivered to %v", hooks)
	}

	// Operational events: one watcher wants only "gone", another all.
	gone := str(t, b.webhook(b.keyA, map[string]any{"events": []string{"webhook.disabled"}, "filter": map[string]any{"data.reason": "gone"}}), "id")
	all := str(t, b.webhook(b.keyA, map[string]any{"events": []string{"webhook.disabled"}}), "id")
	b.expect(http.StatusOK, b.keyA, "PATCH", "/api/v1/outbound_webhook/"+salesID, map[string]any{"enabled": false})
	if hooks := deliveryWebhooks(t, b.lastEvent(b.keyA, "webhook.disabled")); !slices.Equal(hooks, []string{all}) {
		t.Fatalf("webhook.disabled (manual) delivered to %v, want only %s", hooks, all)
	}
	if n := filtered(gone); n != 1 {
		t.Fatalf("the operational drop was not counted: %v", n)
	}
	if n := filtered(all); n != 0 {
		t.Fatalf("a webhook without a filter counted %v drops", n)
	}
}

// POST .../filter/test matches the filter given (or the webhook's own)
// against an event of the account, a payload, or the latest event.
func TestFilterTestRoute(t *testing.T) {
	t.Parallel()
	b := setup(t)
	w := b.world(b.keyA) // its latest event: captured_form.created
	wb := b.world(b.keyB)
	hook := str(t, b.webhook(b.keyA, map[string]any{"filter": map[string]any{"event": "captured_form.created"}}), "id")
	path := "/api/v1/outbound_webhook/" + hook + "/filter/test"
	intent := map[string]any{"object": "event", "event": "captured_intent.created", "data": map[string]any{"intent_name": "SALES", "chat_count": 3}}
	for _, c := range []struct {
		name string
		body map[string]any
		want bool
	}{
		{"payload matches", map[string]any{"filter": map[string]any{"data.intent_name": "SALES"}, "payload": intent}, true},
		{"payload nested", map[string]any{"filter": map[string]any{"data": map[string]any{"chat_count": map[string]any{"$gt": 2}}}, "payload": intent}, true},
		{"payload does not match", map[string]any{"filter": map[string]any{"data.intent_name": "SUPPORT"}, "payload": intent}, false},
		{"own filter on payload", map[string]any{"payload": intent}, false},
		{"own filter on latest", map[string]any{}, true},
		{"event given", map[string]any{"filter": map[string]any{"data.field_values.email": "a@b.c"}, "event_id": w.event}, true},
		{"null filter matches all", map[string]any{"filter": nil, "payload": intent}, true},
	} {
		r := b.expect(http.StatusOK, b.keyA, "POST", path, c.body).data(t)
		if r["matches"] != c.want {
			t.Errorf("%s: matches = %v, want %v", c.name, r["matches"], c.want)
		}
		if _, given := c.body["payload"]; !given && r["event_id"] == nil {
			t.Errorf("%s: no event_id in %v", c.name, r)
		}
	}
	for _, c := range []struct {
		name string
		body map[string]any
		loc  string
	}{
		{"bad filter", map[string]any{"filter": map[string]any{"$nor": []any{}}, "payload": intent}, "filter"},
		{"unknown event", map[string]any{"event_id": "018f0000-0000-7000-8000-000000000000"}, "event_id"},
		{"other account's event", map[string]any{"event_id": wb.event}, "event_id"},
		{"malformed event id", map[string]any{"event_id": "nope"}, "event_id"},
	} {
		r := b.expect(http.StatusUnprocessableEntity, b.keyA, "POST", path, c.body)
		if d := r.detail(t); len(d) == 0 || len(d[0].Loc) != 2 || d[0].Loc[1] != c.loc {
			t.Errorf("%s: detail %s, want loc body.%s", c.name, r.Raw, c.loc)
		}
	}
	b.expect(http.StatusNotFound, b.keyB, "POST", path, map[string]any{})
	// An account without events needs an event_id or a payload.
	fresh := setup(t)
	h := str(t, fresh.webhook(fresh.keyA, nil), "id")
	r := fresh.expect(http.StatusUnprocessableEntity, fresh.keyA, "POST", "/api/v1/outbound_webhook/"+h+"/filter/test", map[string]any{})
	checkLoc(t, r, "missing", "body", "event_id")
}

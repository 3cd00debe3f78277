package httpapi_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/agenthooks/agenthooks"
)

// callSchema is an own type's schema used below: data.duration_s an integer
// (required), data.caller.phone a string, data.tags a list of strings.
var callSchema = map[string]any{
	"type": "object", "required": []string{"duration_s"},
	"properties": map[string]any{
		"duration_s": map[string]any{"type": "integer", "minimum": 0},
		"caller": map[string]any{"type": "object", "required": []string{"phone"}, "properties": map[string]any{
			"phone": map[string]any{"type": "string"}}},
		"tags": map[string]any{"type": "array", "items": map[string]any{"type": "string"}},
	},
	"examples": []any{map[string]any{"duration_s": 42}},
}

func TestEventTypeCreateAndRead(t *testing.T) {
	t.Parallel()
	b := setup(t)
	got := b.expect(http.StatusCreated, b.keyA, "POST", "/api/v1/event_type",
		map[string]any{"name": "call.ended", "description": "A call ended.", "schema": callSchema}).data(t)
	if got["name"] != "call.ended" || got["built_in"] != false || got["deprecated"] != false || got["description"] != "A call ended." ||
		got["schema"] == nil || got["created_at"] == nil {
		t.Fatalf("created: %v", got)
	}
	bare := b.expect(http.StatusCreated, b.keyA, "POST", "/api/v1/event_type", map[string]any{"name": "appointment.booked"}).data(t)
	if _, ok := bare["schema"]; !ok || bare["schema"] != nil || bare["description"] != "" {
		t.Errorf("a type without schema reads %v, want schema null and description \"\"", bare)
	}
	list := b.expect(http.StatusOK, b.keyA, "GET", "/api/v1/event_type", nil).items(t)
	var names []string
	for i, it := range list {
		names = append(names, it["name"].(string))
		if builtIn := i < len(agenthooks.EventTable); it["built_in"] != builtIn || it["deprecated"] != false && builtIn {
			t.Errorf("item %d %v: built_in %v, want %v", i, it["name"], it["built_in"], builtIn)
		}
	}
	want := append(slices.Clone(agenthooks.SentEventTypes), "appointment.booked", "call.ended")
	if !slices.Equal(names, want) {
		t.Errorf("GET /event_type names %v, want %v (built-ins, then own by name)", names, want)
	}
	// B sees only the built-ins and can make its own call.ended.
	if n := len(b.expect(http.StatusOK, b.keyB, "GET", "/api/v1/event_type", nil).items(t)); n != len(agenthooks.EventTable) {
		t.Errorf("B lists %d types, want the %d built-ins", n, len(agenthooks.EventTable))
	}
	b.expect(http.StatusNotFound, b.keyB, "GET", "/api/v1/event_type/call.ended", nil)
	b.expect(http.StatusNotFound, b.keyB, "PATCH", "/api/v1/event_type/call.ended", map[string]any{"deprecated": true})
	b.expect(http.StatusNotFound, b.keyB, "DELETE", "/api/v1/event_type/call.ended", nil)
	b.expect(http.StatusCreated, b.keyB, "POST", "/api/v1/event_type", map[string]any{"name": "call.ended"})
	// A built-in reads by name too.
	ct := b.expect(http.StatusOK, b.keyA, "GET", "/api/v1/event_type/"+agenthooks.EventConversationClosed, nil).data(t)
	if ct["built_in"] != true || ct["schema"] == nil {
		t.Errorf("built-in read: %v", ct)
	}
	// Paged when asked.
	page := b.expect(http.StatusOK, b.keyA, "GET", "/api/v1/event_type?page=2&size=8", nil).data(t)
	if page["total"] != float64(len(want)) || len(page["items"].([]any)) != len(want)-8 || page["pages"] != float64(2) {
		t.Errorf("page 2 of 8: %v", page)
	}
}

func TestEventTypeRefusals(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.expect(http.StatusCreated, b.keyA, "POST", "/api/v1/event_type", map[string]any{"name": "call.ended"})
	tests := []struct {
		name   string
		method string
		path   string
		body   any
		status int
		loc    []any
	}{
		{"NameMissing", "POST", "/event_type", map[string]any{}, 422, []any{"body", "name"}},
		{"NameNotAString", "POST", "/event_type", map[string]any{"name": 5}, 422, []any{"body", "name"}},
		{"NameWithoutDot", "POST", "/event_type", map[string]any{"name": "callended"}, 422, []any{"body", "name"}},
		{"NameUpperCase", "POST", "/event_type", map[string]any{"name": "Call.Ended"}, 422, []any{"body", "name"}},
		{"NameStartsWithDigit", "POST", "/event_type", map[string]any{"name": "1call.ended"}, 422, []any{"body", "name"}},
		{"NameTrailingDot", "POST", "/event_type", map[string]any{"name": "call.ended."}, 422, []any{"body", "name"}},
		{"NameTooLong", "POST", "/event_type", map[string]any{"name": "a." + strings.Repeat("b", 63)}, 422, []any{"body", "name"}},
		{"NameBuiltIn", "POST", "/event_type", map[string]any{"name": agenthooks.EventConversationClosed}, 422, []any{"body", "name"}},
		{"NameOperational", "POST", "/event_type", map[string]any{"name": agenthooks.EventDeliveryFailed}, 422, []any{"body", "name"}},
		{"NameWebhookPrefix", "POST", "/event_type", map[string]any{"name": "webhook.mine"}, 422, []any{"body", "name"}},
		{"NameDeliveryPrefix", "POST", "/event_type", map[string]any{"name": "delivery.mine"}, 422, []any{"body", "name"}},
		{"Duplicate", "POST", "/event_type", map[string]any{"name": "call.ended"}, 409, nil},
		{"SchemaNotASchema", "POST", "/event_type", map[string]any{"name": "a.b", "schema": "object"}, 422, []any{"body", "schema"}},
		{"SchemaDoesNotCompile", "POST", "/event_type", map[string]any{"name": "a.b", "schema": map[string]any{"type": "objekt"}}, 422, []any{"body", "schema"}},
		{"SchemaBadRegex", "POST", "/event_type", map[string]any{"name": "a.b", "schema": map[string]any{"pattern": "("}}, 422, []any{"body", "schema"}},
		{"SchemaRemoteRef", "POST", "/event_type", map[string]any{"name": "a.b", "schema": map[string]any{"$ref": "https://example.com/s.json"}}, 422, []any{"body", "schema"}},
		{"SchemaFileRef", "POST", "/event_type", map[string]any{"name": "a.b", "schema": map[string]any{"$ref": "file:///etc/passwd"}}, 422, []any{"body", "schema"}},
		{"SchemaTooLarge", "POST", "/event_type", map[string]any{"name": "a.b", "schema": map[string]any{"description": strings.Repeat("x", 16<<10)}}, 422, []any{"body", "schema"}},
		{"DescriptionTooLong", "POST", "/event_type", map[string]any{"name": "a.b", "description": strings.Repeat("x", 4<<10+1)}, 422, []any{"body", "description"}},
		{"PatchBuiltIn", "PATCH", "/event_type/" + agenthooks.EventConversationClosed, map[string]any{"deprecated": true}, 422, []any{"body", "name"}},
		{"PatchBadSchema", "PATCH", "/event_type/call.ended", map[string]any{"schema": map[string]any{"minimum": "x"}}, 422, []any{"body", "schema"}},
		{"PatchDeprecatedNotABool", "PATCH", "/event_type/call.ended", map[string]any{"deprecated": "yes"}, 422, []any{"body", "deprecated"}},
		{"PatchMissing", "PATCH", "/event_type/no.such_type", map[string]any{"deprecated": true}, 404, nil},
		{"DeleteBuiltIn", "DELETE", "/event_type/" + agenthooks.EventWebhookTest, nil, 422, []any{"body", "name"}},
		{"DeleteMissing", "DELETE", "/event_type/no.such_type", nil, 404, nil},
		{"GetMissing", "GET", "/event_type/no.such_type", nil, 404, nil},
		{"WebhookUnknownOwnType", "POST", "/outbound_webhook", map[string]any{"name": "n", "endpoint": publicEndpoint, "events": []string{"conversation.closed", "no.such_type"}}, 422, []any{"body", "events", 1}},
		{"EventFilterUnknownOwnType", "GET", "/event?event=no.such_type", nil, 422, []any{"query", "event"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := b.on(t)
			r := b.request(b.keyA, tt.method, "/api/v1"+tt.path, tt.body)
			if r.Status != tt.status {
				t.Fatalf("status %d, want %d: %s", r.Status, tt.status, r.Raw)
			}
			if tt.loc != nil {
				checkLoc(t, r, "", tt.loc...)
			}
		})
	}
}

func TestEventTypePatchAndDelete(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.expect(http.StatusCreated, b.keyA, "POST", "/api/v1/event_type", map[string]any{"name": "call.ended", "schema": callSchema})
	b.expect(http.StatusCreated, b.keyA, "POST", "/api/v1/event_type", map[string]any{"name": "lead.handed_off"})
	got := b.expect(http.StatusOK, b.keyA, "PATCH", "/api/v1/event_type/call.ended", map[string]any{"deprecated": true, "description": "Old."}).data(t)
	if got["deprecated"] != true || got["description"] != "Old." || got["schema"] == nil {
		t.Errorf("patched: %v", got)
	}
	got = b.expect(http.StatusOK, b.keyA, "PATCH", "/api/v1/event_type/call.ended", map[string]any{"schema": nil}).data(t)
	if got["schema"] != nil || got["deprecated"] != true {
		t.Errorf("schema: null removes the schema only: %v", got)
	}
	// A deprecated type is still publishable.
	b.expect(http.StatusCreated, b.keyA, "POST", "/api/v1/event", map[string]any{"event_type": "call.ended", "data": map[string]any{}})

	mixed := str(t, b.webhook(b.keyA, map[string]any{"events": []string{"conversation.closed", "call.ended", "lead.handed_off"}}), "id")
	only := str(t, b.webhook(b.keyA, map[string]any{"events": []string{"call.ended"}}), "id")
	b.expect(http.StatusOK, b.keyA, "DELETE", "/api/v1/event_type/call.ended", nil)
	b.expect(http.StatusNotFound, b.keyA, "GET", "/api/v1/event_type/call.ended", nil)
	events := func(id string) []any {
		return b.expect(http.StatusOK, b.keyA, "GET", "/api/v1/outbound_webhook/"+id, nil).data(t)["events"].([]any)
	}
	if got := events(mixed); len(got) != 2 || got[0] != "conversation.closed" || got[1] != "lead.handed_off" {
		t.Errorf("a webhook that named it keeps its other types: %v", got)
	}
	// One that named only it keeps the name (never an empty list, never
	// widened to every type), and can be written back as read.
	got2 := events(only)
	if len(got2) != 1 || got2[0] != "call.ended" {
		t.Errorf("a webhook that named only it: %v", got2)
	}
	b.expect(http.StatusOK, b.keyA, "PATCH", "/api/v1/outbound_webhook/"+only, map[string]any{"events": got2})
	r := b.request(b.keyA, "PATCH", "/api/v1/outbound_webhook/"+mixed, map[string]any{"events": []string{"call.ended"}})
	if r.Status != http.StatusUnprocessableEntity {
		t.Errorf("naming a deleted type on another webhook: %d, want 422: %s", r.Status, r.Raw)
	}
	// The type gone, nothing of it can be published.
	r = b.request(b.keyA, "POST", "/api/v1/event", map[string]any{"event_type": "call.ended", "data": map[string]any{}})
	if r.Status != http.StatusUnprocessableEntity {
		t.Errorf("publishing a deleted type: %d, want 422", r.Status)
	}
}

func TestPublishEventRefusals(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.expect(http.StatusCreated, b.keyA, "POST", "/api/v1/event_type", map[string]any{"name": "call.ended", "schema": callSchema})
	b.expect(http.StatusCreated, b.keyB, "POST", "/api/v1/event_type", map[string]any{"name": "b.only"})
	theirs := b.chat(b.keyB, "")
	theirConv := str(t, b.conversation(b.keyB, theirs.assistant, theirs.widget, ""), "id")
	mine := b.chat(b.keyA, "")
	other := b.chat(b.keyA, "")
	myConv := str(t, b.conversation(b.keyA, other.assistant, other.widget, ""), "id")
	ok := map[string]any{"duration_s": 3}
	tests := []struct {
		name string
		body any
		loc  []any
		typ  string
	}{
		{"TypeMissing", map[string]any{"data": ok}, []any{"body", "event_type"}, "missing"},
		{"DataMissing", map[string]any{"event_type": "call.ended"}, []any{"body", "data"}, "missing"},
		{"DataNull", map[string]any{"event_type": "call.ended", "data": nil}, []any{"body", "data"}, ""},
		{"DataNotAnObject", map[string]any{"event_type": "call.ended", "data": []int{1}}, []any{"body", "data"}, ""},
		{"DataTooLarge", map[string]any{"event_type": "call.ended", "data": map[string]any{"duration_s": 1, "x": strings.Repeat("x", 64<<10)}}, []any{"body", "data"}, "too_long"},
		{"UnknownType", map[string]any{"event_type": "no.such_type", "data": ok}, []any{"body", "event_type"}, ""},
		{"AnotherAccountsType", map[string]any{"event_type": "b.only", "data": ok}, []any{"body", "event_type"}, ""},
		{"BuiltInType", map[string]any{"event_type": agenthooks.EventConversationClosed, "data": ok}, []any{"body", "event_type"}, ""},
		{"OperationalType", map[string]any{"event_type": agenthooks.EventWebhookDisabled, "data": ok}, []any{"body", "event_type"}, ""},
		{"SchemaRequired", map[string]any{"event_type": "call.ended", "data": map[string]any{}}, []any{"body", "data", "duration_s"}, "missing"},
		{"SchemaType", map[string]any{"event_type": "call.ended", "data": map[string]any{"duration_s": "long"}}, []any{"body", "data", "duration_s"}, "json_schema.type"},
		{"SchemaMinimum", map[string]any{"event_type": "call.ended", "data": map[string]any{"duration_s": -1}}, []any{"body", "data", "duration_s"}, "json_schema.minimum"},
		{"SchemaNestedRequired", map[string]any{"event_type": "call.ended", "data": map[string]any{"duration_s": 1, "caller": map[string]any{}}}, []any{"body", "data", "caller", "phone"}, "missing"},
		{"SchemaArrayItem", map[string]any{"event_type": "call.ended", "data": map[string]any{"duration_s": 1, "tags": []any{"a", 2}}}, []any{"body", "data", "tags", 1}, "json_schema.type"},
		{"AnotherAccountsAssistant", map[string]any{"event_type": "call.ended", "data": ok, "assistant_id": theirs.assistant}, []any{"body", "assistant_id"}, ""},
		{"MalformedAssistant", map[string]any{"event_type": "call.ended", "data": ok, "assistant_id": "nope"}, []any{"body", "assistant_id"}, ""},
		{"EmptyAssistant", map[string]any{"event_type": "call.ended", "data": ok, "assistant_id": ""}, []any{"body", "assistant_id"}, ""},
		{"AnotherAccountsConversation", map[string]any{"event_type": "call.ended", "data": ok, "conversation_id": theirConv}, []any{"body", "conversation_id"}, ""},
		{"ConversationOfAnotherAssistant", map[string]any{"event_type": "call.ended", "data": ok, "assistant_id": mine.assistant, "conversation_id": myConv}, []any{"body", "conversation_id"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := b.on(t)
			r := b.request(b.keyA, "POST", "/api/v1/event", tt.body)
			if r.Status != http.StatusUnprocessableEntity {
				t.Fatalf("status %d, want 422: %s", r.Status, r.Raw)
			}
			checkLoc(t, r, tt.typ, tt.loc...)
		})
	}
	// Nothing of the refused calls was stored.
	if n := len(b.expect(http.StatusOK, b.keyA, "GET", "/api/v1/event?event=call.ended", nil).items(t)); n != 0 {
		t.Errorf("%d events stored by refused calls", n)
	}
}

func TestPublishEventRouting(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.expect(http.StatusCreated, b.keyA, "POST", "/api/v1/event_type", map[string]any{"name": "call.ended", "schema": callSchema})
	b.expect(http.StatusCreated, b.keyA, "POST", "/api/v1/event_type", map[string]any{"name": "lead.handed_off"})
	named := str(t, b.webhook(b.keyA, map[string]any{"events": []string{"call.ended"}}), "id")
	disabled := str(t, b.webhook(b.keyA, map[string]any{"events": []string{"call.ended"}, "enabled": false}), "id")
	allTypes := str(t, b.webhook(b.keyA, nil), "id")                                                        // no list: every type, own ones too
	otherType := str(t, b.webhook(b.keyA, map[string]any{"events": []string{"conversation.closed"}}), "id") // names another type
	unassigned := str(t, b.webhook(b.keyA, nil), "id")                                                      // no list, but no assistant's
	withAll := b.chat(b.keyA, allTypes)
	withOther := b.chat(b.keyA, otherType)
	withNamed := b.chat(b.keyA, named)
	conv := str(t, b.conversation(b.keyA, withAll.assistant, withAll.widget, ""), "id")
	str(t, b.webhook(b.keyB, map[string]any{"events": []string{"conversation.closed"}}), "id")
	_ = unassigned
	_ = disabled

	publish := func(body map[string]any) map[string]any {
		t.Helper()
		return b.expect(http.StatusCreated, b.keyA, "POST", "/api/v1/event", body).data(t)
	}
	sorted := func(ids ...string) []string { slices.Sort(ids); return ids }
	tests := []struct {
		name string
		body map[string]any
		want []string
	}{
		{"ExplicitSubscribersOnly", map[string]any{"event_type": "call.ended", "data": map[string]any{"duration_s": 1}}, []string{named}},
		{"PlusTheAssistantsWebhookWithoutList", map[string]any{"event_type": "call.ended", "data": map[string]any{"duration_s": 1}, "assistant_id": withAll.assistant, "conversation_id": conv}, sorted(named, allTypes)},
		{"NotTheAssistantsWebhookOfOtherTypes", map[string]any{"event_type": "call.ended", "data": map[string]any{"duration_s": 1}, "assistant_id": withOther.assistant}, []string{named}},
		{"EachWebhookOnce", map[string]any{"event_type": "call.ended", "data": map[string]any{"duration_s": 1}, "assistant_id": withNamed.assistant}, []string{named}},
		{"NoSubscriber", map[string]any{"event_type": "lead.handed_off", "data": map[string]any{"to": "Ada"}}, nil},
	}
	for _, tt := range tests {
		ev := publish(tt.body)
		got := deliveryWebhooks(t, ev)
		slices.Sort(got)
		if !slices.Equal(got, tt.want) && !(len(got) == 0 && len(tt.want) == 0) {
			t.Errorf("%s: delivered to %v, want %v", tt.name, got, tt.want)
		}
		// The answer is the event as GET /event/{id} reads it, with the
		// envelope of the built-in events around data as given.
		read := b.expect(http.StatusOK, b.keyA, "GET", "/api/v1/event/"+str(t, ev, "id"), nil).data(t)
		if str(t, read, "event") != tt.body["event_type"] || len(deliveryWebhooks(t, read)) != len(got) {
			t.Errorf("%s: GET /event/{id} reads %v, the 201 answered %v", tt.name, read, ev)
		}
		p := ev["payload"].(map[string]any)
		if p["object"] != "event" || p["event"] != tt.body["event_type"] || p["id"] != ev["id"] || p["created_at"] == nil {
			t.Errorf("%s: envelope %v", tt.name, p)
		}
		if d := eventData(t, ev); len(d) != len(tt.body["data"].(map[string]any)) {
			t.Errorf("%s: data %v, want %v", tt.name, d, tt.body["data"])
		}
	}
	// Listed under GET /event, filtered by the own name; conversation_id kept.
	list := b.expect(http.StatusOK, b.keyA, "GET", "/api/v1/event?event=call.ended", nil).items(t)
	if len(list) != 4 {
		t.Errorf("GET /event?event=call.ended lists %d, want 4", len(list))
	}
	if list[2]["conversation_id"] != conv {
		t.Errorf("the event published with conversation_id reads %v", list[2]["conversation_id"])
	}
	// Replay routes it to the webhooks it was routed to.
	r := b.expect(http.StatusAccepted, b.keyA, "POST", "/api/v1/event/"+str(t, list[2], "id")+"/replay", nil)
	if n := r.num(t, "queued"); n != 2 {
		t.Errorf("replay queued %d, want 2", n)
	}
	// Idempotency-Key: the same call answers the first event, stores no other.
	body := map[string]any{"event_type": "lead.handed_off", "data": map[string]any{"to": "Ada"}}
	first := b.requestWith(b.keyA, "POST", "/api/v1/event", body, map[string]string{"Idempotency-Key": "pub-1"})
	again := b.requestWith(b.keyA, "POST", "/api/v1/event", body, map[string]string{"Idempotency-Key": "pub-1"})
	if first.Status != 201 || again.Status != 201 || first.data(t)["id"] != again.data(t)["id"] {
		t.Errorf("Idempotency-Key: %d %s, then %d %s", first.Status, first.Raw, again.Status, again.Raw)
	}
	if n := len(b.expect(http.StatusOK, b.keyA, "GET", "/api/v1/event?event=lead.handed_off", nil).items(t)); n != 2 {
		t.Errorf("%d lead.handed_off events, want 2 (one before, one idempotent)", n)
	}
}

// POST /outbound_webhook/{id}/test {event_type}: the type's example, sent
// whatever events says.
func TestWebhookTestWithEventType(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.expect(http.StatusCreated, b.keyA, "POST", "/api/v1/event_type", map[string]any{"name": "call.ended", "schema": callSchema})
	b.expect(http.StatusCreated, b.keyA, "POST", "/api/v1/event_type", map[string]any{"name": "lead.handed_off"})
	hook := str(t, b.webhook(b.keyA, map[string]any{"events": []string{"conversation.updated"}}), "id")
	tests := []struct {
		typ      string
		wantData map[string]any // keys and values checked; nil: {}
	}{
		{"call.ended", map[string]any{"duration_s": float64(42)}},
		{"lead.handed_off", map[string]any{}},
		{agenthooks.EventCapturedIntentCreated, map[string]any{"intent_name": "SALES"}},
		{"", map[string]any{"webhook_id": hook}},
	}
	for _, tt := range tests {
		body := map[string]any{}
		want := tt.typ
		if tt.typ != "" {
			body["event_type"] = tt.typ
		} else {
			want = agenthooks.EventWebhookTest
		}
		r := b.expect(http.StatusOK, b.keyA, "POST", "/api/v1/outbound_webhook/"+hook+"/test", body).data(t)
		ev := b.expect(http.StatusOK, b.keyA, "GET", "/api/v1/event/"+str(t, r, "event_id"), nil).data(t)
		if ev["event"] != want {
			t.Errorf("test %q sent %v", tt.typ, ev["event"])
		}
		d := eventData(t, ev)
		for k, v := range tt.wantData {
			if d[k] != v {
				t.Errorf("test %q: data.%s = %v, want %v (%v)", tt.typ, k, d[k], v, d)
			}
		}
		if len(tt.wantData) == 0 && len(d) != 0 {
			t.Errorf("test %q: data %v, want {}", tt.typ, d)
		}
	}
	r := b.request(b.keyA, "POST", "/api/v1/outbound_webhook/"+hook+"/test", map[string]any{"event_type": "no.such_type"})
	if r.Status != http.StatusUnprocessableEntity {
		t.Fatalf("an unknown type: %d: %s", r.Status, r.Raw)
	}
	checkLoc(t, r, "", "body", "event_type")
}

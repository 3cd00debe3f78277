package dashboard_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/agenthooks/agenthooks"
	"github.com/agenthooks/agenthooks/service"
)

// The Event types page, without JavaScript: the catalogue with schemas and
// example envelopes, Add an event type with errors under each field, edit,
// deprecate, delete; the webhook form lists the account's own types.
func TestEventTypesPage(t *testing.T) {
	t.Parallel()
	b := setup(t)
	br := b.signedIn(b.keyA)

	p := br.get("/event-types")
	expectStatus(t, p, http.StatusOK)
	contains(t, p, `href="/event-types"`, "Event types", "Add an event type", agenthooks.EventConversationClosed, "Example envelope", `"object": "event"`,
		`"intent_name": "SALES"`)

	p = br.get("/event-types/new")
	expectStatus(t, p, http.StatusOK)
	contains(t, p, `<label for="name">Name</label>`, `<label for="description">Description</label>`, `<label for="schema">Schema</label>`, ">Submit</button>")

	// Errors show under their fields, and what was typed stays.
	p = br.post("/event-types", url.Values{"name": {"Call Ended"}, "schema": {`{"type": "objekt"}`}})
	expectStatus(t, p, http.StatusUnprocessableEntity)
	contains(t, p, `value="Call Ended"`, `role="alert"`, "objekt")
	p = br.post("/event-types", url.Values{"name": {"call.ended"}, "schema": {`{"type": "not json`}})
	expectStatus(t, p, http.StatusUnprocessableEntity)
	contains(t, p, `role="alert"`)

	schema := `{"type": "object", "required": ["duration_s"], "properties": {"duration_s": {"type": "integer"}}, "examples": [{"duration_s": 42}]}`
	p = br.follow(br.post("/event-types", url.Values{"name": {"call.ended"}, "description": {"A call ended."}, "schema": {schema}}))
	expectStatus(t, p, http.StatusOK)
	contains(t, p, "Event type created.", "call.ended", "A call ended.", `"duration_s": 42`, `"event": "call.ended"`, ">Save</button>", ">Deprecate</button>", ">Delete</button>")
	p = br.post("/event-types", url.Values{"name": {"call.ended"}})
	expectStatus(t, p, http.StatusUnprocessableEntity)
	contains(t, p, "has an event type of that name already")

	// Edit: a bad schema answers under Schema; a good one saves.
	p = br.post("/event-types/call.ended", url.Values{"description": {"Calls."}, "schema": {`{"minimum": "x"}`}})
	expectStatus(t, p, http.StatusUnprocessableEntity)
	contains(t, p, `role="alert"`, `{&#34;minimum&#34;: &#34;x&#34;}`)
	p = br.follow(br.post("/event-types/call.ended", url.Values{"description": {"Calls."}, "schema": {""}}))
	contains(t, p, "Event type saved.", "Calls.", "None: any JSON object.")

	p = br.follow(br.post("/event-types/call.ended/deprecate", nil))
	contains(t, p, "deprecated", ">Undeprecate</button>")
	et, err := b.svc.GetEventType(context.Background(), b.acctA, "call.ended")
	must(t, err)
	if !et.Deprecated {
		t.Error("Deprecate did not deprecate")
	}

	// The webhook form offers it.
	p = br.get("/webhooks/new")
	contains(t, p, `value="call.ended"`)
	p = br.follow(br.post("/webhooks", url.Values{"name": {"Calls"}, "endpoint": {"https://hooks.example.com/calls"}, "events_mode": {"some"}, "events": {"call.ended"}}))
	contains(t, p, "Webhook created.")
	// The Events page filters by it.
	_, err = b.svc.PublishEvent(context.Background(), b.acctA, service.PublishInput{EventType: "call.ended", Data: []byte(`{"duration_s": 7}`)})
	must(t, err)
	p = br.get("/events?type=call.ended")
	expectStatus(t, p, http.StatusOK)
	contains(t, p, `<option value="call.ended" selected`)
	// B sees neither the type nor its page.
	brB := b.signedIn(b.keyB)
	lacks(t, brB.get("/event-types"), `href="/event-types/call.ended"`)
	expectStatus(t, brB.get("/event-types/call.ended"), http.StatusNotFound)
	lacks(t, brB.get("/webhooks/new"), `value="call.ended"`)

	p = br.follow(br.post("/event-types/call.ended/delete", nil))
	contains(t, p, "Event type deleted.")
	lacks(t, p, `href="/event-types/call.ended"`)
	// A built-in type has no controls.
	p = br.get("/event-types/" + agenthooks.EventConversationClosed)
	expectStatus(t, p, http.StatusOK)
	lacks(t, p, ">Delete</button>", ">Deprecate</button>")
}

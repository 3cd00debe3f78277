package httpapi_test

import (
	"net/http"
	"testing"
)

// Every paged list defaults to size=25, as Insighto's (CONTRACT section 3). GET
// /event_type is the catalogue in one page, not paged, and owned by the events work.
func TestListsDefaultSize25(t *testing.T) {
	t.Parallel()
	b := setup(t)
	w := b.world(b.keyA)
	for range 26 {
		b.intent(b.keyA)
	}
	lists := []string{
		"/api/v1/outbound_webhook", "/api/v1/assistant", "/api/v1/widget", "/api/v1/form",
		"/api/v1/intent", "/api/v1/intent/list", "/api/v1/contact", "/api/v1/conversation",
		"/api/v1/event", "/api/v1/api_key",
		"/api/v1/conversation/" + w.conversation + "/transcript",
		"/api/v1/conversation/by-contact/" + w.contact,
		"/api/v1/outbound_webhook/" + w.webhook + "/deliveries",
	}
	for _, path := range lists {
		r := b.expect(http.StatusOK, b.keyA, "GET", path, nil)
		if got := r.num(t, "size"); got != 25 {
			t.Errorf("GET %s: size %d, want 25", path, got)
		}
	}
	r := b.expect(http.StatusOK, b.keyA, "GET", "/api/v1/intent", nil)
	if n := len(r.items(t)); n != 25 || r.num(t, "pages") != 2 {
		t.Errorf("GET /intent of 27: %d items, %d pages, want 25 and 2", n, r.num(t, "pages"))
	}
}

// DELETE /assistant/{id} answers {"message", "data", "details"}, as Insighto's.
func TestAssistantDeleteDetails(t *testing.T) {
	t.Parallel()
	b := setup(t)
	id := str(t, b.assistant(b.keyA, ""), "id")
	r := b.expect(http.StatusOK, b.keyA, "DELETE", "/api/v1/assistant/"+id, nil)
	if d, ok := r.Body["details"].(string); !ok || d == "" {
		t.Errorf("details = %v, want a string: %s", r.Body["details"], r.Raw)
	}
	if r.data(t)["id"] != id {
		t.Errorf("data = %v, want the id", r.Body["data"])
	}
}

// GET /conversation never ignores a filter: a value it cannot apply is a 422 on
// that query parameter.
func TestConversationFilterNeverIgnored(t *testing.T) {
	t.Parallel()
	b := setup(t)
	w := b.world(b.keyA)
	theirs := b.world(b.keyB)
	cases := []struct {
		name, query string
		loc         string
	}{
		{"AssistantMalformed", "assistant_id=nope", "assistant_id"},
		{"IntentOtherAccount", "intent_id=" + theirs.intent, "intent_id"},
		{"IntentMalformed", "intent_id=nope", "intent_id"},
		{"VoiceMalformed", "includes_voice=maybe", "includes_voice"},
		{"DateMalformed", "date_from=yesterday", "date_from"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := b.expect(http.StatusUnprocessableEntity, b.keyA, "GET", "/api/v1/conversation?"+c.query, nil)
			checkLoc(t, r, "", "query", c.loc)
		})
	}
	r := b.expect(http.StatusOK, b.keyA, "GET", "/api/v1/conversation?assistant_id="+w.assistant, nil)
	if r.num(t, "total") != 1 {
		t.Errorf("assistant_id of the account: total %d, want 1", r.num(t, "total"))
	}
	// Another account's assistant is applied and matches nothing.
	r = b.expect(http.StatusOK, b.keyA, "GET", "/api/v1/conversation?assistant_id="+theirs.assistant, nil)
	if r.num(t, "total") != 0 {
		t.Errorf("another account's assistant_id: total %d, want 0", r.num(t, "total"))
	}
}

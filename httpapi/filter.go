package httpapi

import (
	"encoding/json"
	"net/http"

	"github.com/agenthooks/agenthooks"
	"github.com/agenthooks/agenthooks/service"
)

// Filters (docs/events.md, "Filters"): the webhook's filter field, its
// dropped-event count, and POST /outbound_webhook/{id}/filter/test.

// filterView is a webhook's filter as read: the JSON object, or null.
func filterView(w *agenthooks.Webhook) *json.RawMessage {
	if len(w.Filter) == 0 {
		return nil
	}
	raw := json.RawMessage(w.Filter)
	return &raw
}

// webhookFilter reads the body's filter: absent (nil), or the raw JSON
// (null removes it); the service checks what it holds (422 on filter).
func (b *body) webhookFilter() *json.RawMessage {
	raw, ok := b.fields["filter"]
	if !ok {
		return nil
	}
	return &raw
}

// filterTestResult is POST .../filter/test's answer.
type filterTestResult struct {
	Matches bool    `json:"matches" doc:"Whether the envelope passes the filter: an event like it would be delivered to this webhook."`
	EventID *string `json:"event_id" oapi:"uuid" doc:"The event tested (the one given, or the account's latest); null when a payload was given."`
}

// testFilter: POST /outbound_webhook/{id}/filter/test {filter?, event_id? |
// payload?} → {matches}.
func (s *Server) testFilter(w http.ResponseWriter, r *http.Request, a acct) error {
	b, err := decodeBody(r)
	if err != nil {
		return err
	}
	var in service.FilterTest
	if raw, ok := b.fields["filter"]; ok {
		in.Filter = raw
	}
	if id := b.optStr("event_id"); id != nil {
		in.EventID = *id
	}
	if raw, ok := b.fields["payload"]; ok && !isNull(raw) {
		in.Payload = raw
	}
	if err := b.err(); err != nil {
		return err
	}
	out, err := s.svc.TestFilter(r.Context(), a.ID, r.PathValue("id"), in)
	if err != nil {
		return err
	}
	ok(w, http.StatusOK, "OK", filterTestResult{Matches: out.Matches, EventID: nullable(out.EventID)})
	return nil
}

package httpapi

import (
	"net/http"

	"github.com/agenthooks/agenthooks"
	"github.com/agenthooks/agenthooks/payload"
)

type schema = map[string]any

// eventTypes is what GET /event_type lists and the OpenAPI document's
// webhooks describe: each entry of agenthooks.EventTable with the JSON Schema
// of its data, built from the data struct of package payload.
var eventTypes = func() []map[string]any {
	out := make([]map[string]any, 0, len(agenthooks.EventTable))
	for _, et := range agenthooks.EventTable {
		out = append(out, map[string]any{"name": et.Name, "description": et.Description, "schema": payload.Schema(payload.DataOf(et.Name))})
	}
	return out
}()

func (s *Server) listEventTypes(w http.ResponseWriter, r *http.Request, _ acct) error {
	ok(w, http.StatusOK, "OK", listData{Items: eventTypes, Total: len(eventTypes), Page: 1, Size: 100, Pages: 1})
	return nil
}

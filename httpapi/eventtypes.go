package httpapi

import (
	"encoding/json"
	"net/http"

	"github.com/agenthooks/agenthooks"
	"github.com/agenthooks/agenthooks/payload"
	"github.com/agenthooks/agenthooks/service"
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

// eventTypeView is an event type as GET /event_type reads it: a built-in
// one (built_in, its schema from package payload, no times) or one of the
// account's own.
type eventTypeView struct {
	Name        string  `json:"name"`
	Description string  `json:"description"`
	Schema      any     `json:"schema" doc:"A JSON Schema (2020-12) of the event's data; null for an own type without one (any object)."`
	BuiltIn     bool    `json:"built_in" doc:"A type agenthooks fires (the agent runtime's, webhook.test and the operational ones); the others are the account's own."`
	Deprecated  bool    `json:"deprecated" doc:"Still publishable, flagged for receivers' and subscribers' attention (never for a built-in type)."`
	CreatedAt   *string `json:"created_at" oapi:"date-time" doc:"RFC 3339, UTC; null for a built-in type."`
	UpdatedAt   *string `json:"updated_at" oapi:"date-time" doc:"RFC 3339, UTC; null for a built-in type."`
}

var builtInTypeViews = func() []eventTypeView {
	out := make([]eventTypeView, len(eventTypes))
	for i, et := range eventTypes {
		out[i] = eventTypeView{Name: et["name"].(string), Description: et["description"].(string), Schema: et["schema"], BuiltIn: true}
	}
	return out
}()

func newEventTypeView(t *agenthooks.OwnEventType) eventTypeView {
	v := eventTypeView{Name: t.Name, Description: t.Description, Deprecated: t.Deprecated, CreatedAt: rfc3339(t.CreatedAt), UpdatedAt: rfc3339(t.UpdatedAt)}
	if t.Schema != nil {
		v.Schema = t.Schema
	}
	return v
}

// listEventTypes lists the built-in types, then the account's own by name.
// Without ?page= or ?size= it answers them all on one page, as it always
// did; with them, pages as any list.
func (s *Server) listEventTypes(w http.ResponseWriter, r *http.Request, a acct) error {
	own, err := s.svc.ListEventTypes(r.Context(), a.ID)
	if err != nil {
		return err
	}
	all := make([]eventTypeView, 0, len(builtInTypeViews)+len(own))
	all = append(all, builtInTypeViews...)
	for _, t := range own {
		all = append(all, newEventTypeView(t))
	}
	p := agenthooks.Page{Page: 1, Size: max(100, len(all))}
	if q := r.URL.Query(); q.Has("page") || q.Has("size") {
		if p, err = page(r); err != nil {
			return err
		}
	}
	items := all[min(p.Offset(), len(all)):min(p.Offset()+p.Size, len(all))]
	ok(w, http.StatusOK, "OK", listData{Items: items, Total: len(all), Page: p.Page, Size: p.Size, Pages: (len(all) + p.Size - 1) / p.Size})
	return nil
}

func (s *Server) getEventType(w http.ResponseWriter, r *http.Request, a acct) error {
	name := r.PathValue("name")
	for _, v := range builtInTypeViews {
		if v.Name == name {
			ok(w, http.StatusOK, "OK", v)
			return nil
		}
	}
	t, err := s.svc.GetEventType(r.Context(), a.ID, name)
	if err != nil {
		return err
	}
	ok(w, http.StatusOK, "OK", newEventTypeView(t))
	return nil
}

// rawField returns a field's JSON as given: nil when absent, "null" when null.
func (b *body) rawField(name string) json.RawMessage { return b.fields[name] }

func (s *Server) createEventType(w http.ResponseWriter, r *http.Request, a acct) error {
	b, err := decodeBody(r)
	if err != nil {
		return err
	}
	var in service.EventTypeInput
	in.Name, _ = b.str("name", true)
	in.Description, _ = b.str("description", false)
	in.Schema = b.rawField("schema")
	if err := b.err(); err != nil {
		return err
	}
	t, err := s.svc.CreateEventType(r.Context(), a.ID, in)
	if err != nil {
		return err
	}
	ok(w, http.StatusCreated, "Event type created", newEventTypeView(t))
	return nil
}

func (s *Server) updateEventType(w http.ResponseWriter, r *http.Request, a acct) error {
	b, err := decodeBody(r)
	if err != nil {
		return err
	}
	var p service.EventTypePatch
	p.Description = b.optStr("description")
	if raw, set := b.fields["schema"]; set {
		p.Schema.Set = true
		if !isNull(raw) {
			p.Schema.Value = &raw
		}
	}
	p.Deprecated = b.optBool("deprecated")
	if err := b.err(); err != nil {
		return err
	}
	t, err := s.svc.UpdateEventType(r.Context(), a.ID, r.PathValue("name"), p)
	if err != nil {
		return err
	}
	ok(w, http.StatusOK, "Event type updated", newEventTypeView(t))
	return nil
}

func (s *Server) deleteEventType(w http.ResponseWriter, r *http.Request, a acct) error {
	if err := s.svc.DeleteEventType(r.Context(), a.ID, r.PathValue("name")); err != nil {
		return err
	}
	ok(w, http.StatusOK, "Event type deleted", map[string]string{"name": r.PathValue("name")})
	return nil
}

// publishEvent is POST /event: an event of one of the account's own types.
func (s *Server) publishEvent(w http.ResponseWriter, r *http.Request, a acct) error {
	b, err := decodeBody(r)
	if err != nil {
		return err
	}
	var in service.PublishInput
	in.EventType, _ = b.str("event_type", true)
	if !b.present("data") {
		b.fail("data", "Field required", "missing")
	} else {
		in.Data = b.object("data")
		if in.Data == nil && isNull(b.fields["data"]) {
			b.fail("data", kDict.msg, kDict.typ)
		}
	}
	if _, id := b.nullableID("assistant_id"); id != nil {
		in.AssistantID = *id
	}
	if _, id := b.nullableID("conversation_id"); id != nil {
		in.ConversationID = *id
	}
	if err := b.err(); err != nil {
		return err
	}
	e, err := s.svc.PublishEvent(r.Context(), a.ID, in)
	if err != nil {
		return err
	}
	ok(w, http.StatusCreated, "Event published", newEventDetail(e.Event, e.Deliveries))
	return nil
}

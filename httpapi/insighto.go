package httpapi

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/agenthooks/agenthooks"
	"github.com/agenthooks/agenthooks/payload"
	"github.com/agenthooks/agenthooks/service"
)

// routesInsighto registers Insighto's own routes, for clients written against
// Insighto's API: its PUT updates (as PATCH), its lists and lookups, contact
// upsert and the intents an assistant uses (README.md, "Concepts").
func (s *Server) routesInsighto() {
	s.handle("PUT /assistant/{id}", s.updateAssistant)
	s.handle("POST /assistant/{id}/intent/{intent_id}", s.addAssistantIntent)
	s.handle("DELETE /assistant/{id}/intent/{intent_id}", s.removeAssistantIntent)

	s.handle("PUT /widget/{id}", s.updateWidget)
	s.handle("PATCH /widget/{id}", s.updateWidget)
	s.handle("DELETE /widget/{id}", s.deleteWidget)

	s.handle("GET /intent/list", s.listIntents)
	s.handle("DELETE /intent/{id}", s.deleteIntent)

	s.handle("PUT /contact/{id}", s.updateContact)
	s.handle("PATCH /contact/{id}", s.updateContact)
	s.handle("POST /contact/upsert", s.upsertContact)

	s.handle("GET /conversation/{id}/transcript", s.listTranscript)
	s.handleOn(s.aside, "GET /conversation/by-contact/{contact_id}", s.listContactConversations)
}

// clearableStr reads a string field that null clears: nil when absent, ""
// when null.
func (b *body) clearableStr(name string) *string {
	if b.present(name) && isNull(b.fields[name]) {
		empty := ""
		return &empty
	}
	var v string
	if get(b, name, false, kString, &v) {
		return &v
	}
	return nil
}

// clearableList reads a list of strings that null clears.
func (b *body) clearableList(name string) *[]string {
	if b.present(name) && isNull(b.fields[name]) {
		return &[]string{}
	}
	var v []string
	if get(b, name, false, kList, &v) {
		return &v
	}
	return nil
}

// clearableObject reads a JSON object that null clears (to {}).
func (b *body) clearableObject(name string) json.RawMessage {
	if b.present(name) && isNull(b.fields[name]) {
		return json.RawMessage("{}")
	}
	return b.object(name)
}

func (s *Server) addAssistantIntent(w http.ResponseWriter, r *http.Request, a acct) error {
	if _, err := readBody(r); err != nil {
		return err
	}
	as, err := s.svc.AddAssistantIntent(r.Context(), a.ID, r.PathValue("id"), r.PathValue("intent_id"))
	if err != nil {
		return err
	}
	ok(w, http.StatusOK, "Intent added to the assistant", newAssistantIntentView(as.ID, r.PathValue("intent_id")))
	return nil
}

func (s *Server) removeAssistantIntent(w http.ResponseWriter, r *http.Request, a acct) error {
	as, err := s.svc.RemoveAssistantIntent(r.Context(), a.ID, r.PathValue("id"), r.PathValue("intent_id"))
	if err != nil {
		return err
	}
	ok(w, http.StatusOK, "Intent removed from the assistant", newAssistantView(as))
	return nil
}

func (s *Server) updateWidget(w http.ResponseWriter, r *http.Request, a acct) error {
	b, err := decodeBody(r)
	if err != nil {
		return err
	}
	var p service.WidgetPatch
	p.AssistantID.Set, p.AssistantID.Value = b.nullableID("assistant_id")
	p.Name = b.clearableStr("name")
	p.WidgetType = b.optStr("widget_type")
	p.Profile = b.profile(agenthooks.WidgetProfile{})
	if err := b.err(); err != nil {
		return err
	}
	wg, err := s.svc.UpdateWidget(r.Context(), a.ID, r.PathValue("id"), p)
	if err != nil {
		return err
	}
	ok(w, http.StatusOK, "Widget updated", newWidgetView(wg))
	return nil
}

func (s *Server) deleteWidget(w http.ResponseWriter, r *http.Request, a acct) error {
	id := r.PathValue("id")
	if err := s.svc.DeleteWidget(r.Context(), a.ID, id); err != nil {
		return err
	}
	ok(w, http.StatusOK, "Widget deleted", map[string]string{"id": id})
	return nil
}

func (s *Server) deleteIntent(w http.ResponseWriter, r *http.Request, a acct) error {
	id := r.PathValue("id")
	if err := s.svc.DeleteIntent(r.Context(), a.ID, id); err != nil {
		return err
	}
	ok(w, http.StatusOK, "Intent deleted", map[string]string{"id": id})
	return nil
}

func (s *Server) updateContact(w http.ResponseWriter, r *http.Request, a acct) error {
	b, err := decodeBody(r)
	if err != nil {
		return err
	}
	p := service.ContactPatch{
		FirstName:   b.clearableStr("first_name"),
		LastName:    b.clearableStr("last_name"),
		Email:       b.clearableStr("email"),
		PhoneNumber: b.clearableStr("phone_number"),
		Profile:     b.profile(agenthooks.ContactProfile{}),
	}
	if err := b.err(); err != nil {
		return err
	}
	c, err := s.svc.UpdateContact(r.Context(), a.ID, r.PathValue("id"), p)
	if err != nil {
		return err
	}
	ok(w, http.StatusOK, "Contact updated", newContactView(c))
	return nil
}

// upsertContact reads its fields from the query, as Insighto's API does; an
// empty parameter counts as not given.
func (s *Server) upsertContact(w http.ResponseWriter, r *http.Request, a acct) error {
	if _, err := readBody(r); err != nil {
		return err
	}
	q := r.URL.Query()
	in := agenthooks.Contact{FirstName: q.Get("first_name"), LastName: q.Get("last_name"), Email: q.Get("email"), PhoneNumber: q.Get("phone_number")}
	c, created, err := s.svc.UpsertContact(r.Context(), a.ID, in)
	if err != nil {
		return inQuery(err)
	}
	if created {
		ok(w, http.StatusCreated, "Contact created", newContactView(c))
	} else {
		ok(w, http.StatusOK, "Contact updated", newContactView(c))
	}
	return nil
}

// inQuery places a validation error in the query, for routes whose input is
// query parameters (fastAPIFields then prefixes its locs with "query").
func inQuery(err error) error {
	var e *agenthooks.Error
	if !errors.As(err, &e) || e.Code != agenthooks.EINVALID {
		return err
	}
	return &partError{part: "query", err: e}
}

func (s *Server) listTranscript(w http.ResponseWriter, r *http.Request, a acct) error {
	return listOf(w, r, func(p agenthooks.Page) (*service.List[*agenthooks.Message], error) {
		return s.svc.ListTranscript(r.Context(), a.ID, r.PathValue("id"), p)
	}, payload.NewMessage)
}

func (s *Server) listContactConversations(w http.ResponseWriter, r *http.Request, a acct) error {
	return listOf(w, r, func(p agenthooks.Page) (*service.List[*agenthooks.Conversation], error) {
		return s.svc.ListContactConversations(r.Context(), a.ID, r.PathValue("contact_id"), p)
	}, newConversationRowView)
}

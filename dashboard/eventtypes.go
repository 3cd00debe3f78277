package dashboard

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/agenthooks/agenthooks"
	"github.com/agenthooks/agenthooks/payload"
	"github.com/agenthooks/agenthooks/service"
)

// The Event types page (docs/events.md): the built-in types and the
// account's own, each with its schema and an example envelope; create,
// edit, deprecate and delete the own ones.

func (d *Dashboard) routesEventTypes() {
	d.page("GET /event-types", d.listEventTypes)
	d.page("GET /event-types/new", d.newEventType)
	d.page("POST /event-types", d.createEventType)
	d.page("GET /event-types/{name}", d.showEventType)
	d.page("POST /event-types/{name}", d.updateEventType)
	d.page("POST /event-types/{name}/deprecate", d.deprecateEventType(true))
	d.page("POST /event-types/{name}/undeprecate", d.deprecateEventType(false))
	d.page("POST /event-types/{name}/delete", d.deleteEventType)
}

// eventTypeRow is one type as the page shows it.
type eventTypeRow struct {
	Name        string
	Description string
	BuiltIn     bool
	Deprecated  bool
	Schema      string // indented JSON, "" for none
	Example     string // an example envelope, indented
	CreatedAt   time.Time
}

// exampleEnvelope is an envelope around data, as a receiver gets it.
func exampleEnvelope(name string, data any) string {
	b, err := payload.Encode("0190b5c2-7d1e-7a4b-9c3d-2e1f0a9b8c7d", name, time.Date(2024, 4, 5, 22, 26, 8, 0, time.UTC), data)
	if err != nil {
		return ""
	}
	return prettyJSON(json.RawMessage(b))
}

func builtInRow(et agenthooks.EventType) eventTypeRow {
	return eventTypeRow{Name: et.Name, Description: et.Description, BuiltIn: true,
		Schema: prettyJSON(payload.Schema(payload.DataOf(et.Name))), Example: exampleEnvelope(et.Name, payload.Example(et.Name))}
}

func ownRow(t *agenthooks.OwnEventType) eventTypeRow {
	r := eventTypeRow{Name: t.Name, Description: t.Description, Deprecated: t.Deprecated, CreatedAt: t.CreatedAt,
		Example: exampleEnvelope(t.Name, service.SchemaExample(t.Schema))}
	if t.Schema != nil {
		r.Schema = prettyJSON(t.Schema)
	}
	return r
}

// eventTypeForm is the Add an event type (and edit) form as typed.
type eventTypeForm struct {
	Name, Description, Schema string
	Edit                      bool
	Errors                    map[string]string
}

type eventTypesData struct {
	BuiltIn, Own []eventTypeRow
}

func (d *Dashboard) listEventTypes(w http.ResponseWriter, r *http.Request, s *session) error {
	own, err := d.svc.ListEventTypes(r.Context(), s.account.ID)
	if err != nil {
		return err
	}
	var data eventTypesData
	for _, et := range agenthooks.EventTable {
		data.BuiltIn = append(data.BuiltIn, builtInRow(et))
	}
	for _, t := range own {
		data.Own = append(data.Own, ownRow(t))
	}
	d.render(w, r, http.StatusOK, "eventtypes.html", s, view{Title: "Event types", Nav: "event-types", D: data})
	return nil
}

func (d *Dashboard) newEventType(w http.ResponseWriter, r *http.Request, s *session) error {
	d.render(w, r, http.StatusOK, "eventtype_form.html", s, view{Title: "Add an event type", Nav: "event-types", D: eventTypeForm{}})
	return nil
}

// schemaOf reads the Schema field: empty is none.
func schemaOf(v url.Values) json.RawMessage {
	if s := strings.TrimSpace(v.Get("schema")); s != "" {
		return json.RawMessage(s)
	}
	return nil
}

func (d *Dashboard) createEventType(w http.ResponseWriter, r *http.Request, s *session) error {
	f := eventTypeForm{Name: strings.TrimSpace(r.PostForm.Get("name")), Description: r.PostForm.Get("description"), Schema: r.PostForm.Get("schema")}
	_, err := d.svc.CreateEventType(r.Context(), s.account.ID, service.EventTypeInput{Name: f.Name, Description: f.Description, Schema: schemaOf(r.PostForm)})
	if err == nil {
		http.Redirect(w, r, "/event-types/"+url.PathEscape(f.Name)+"?flash=event-type-created", http.StatusSeeOther)
		return nil
	}
	if f.Errors = eventTypeErrors(err); f.Errors == nil {
		return err
	}
	d.render(w, r, http.StatusUnprocessableEntity, "eventtype_form.html", s, view{Title: "Add an event type", Nav: "event-types", D: f})
	return nil
}

// eventTypeErrors are the service's errors by field, a conflict on name.
func eventTypeErrors(err error) map[string]string {
	if agenthooks.ErrorCode(err) == agenthooks.ECONFLICT {
		return map[string]string{"name": "This account has an event type of that name already: choose another."}
	}
	return fieldErrors(err)
}

// eventTypeData is one type's page.
type eventTypeData struct {
	Type eventTypeRow
	Form eventTypeForm
}

func (d *Dashboard) eventTypeData(ctx context.Context, s *session, name string) (*eventTypeData, error) {
	if et, ok := agenthooks.LookupEventType(name); ok {
		return &eventTypeData{Type: builtInRow(et)}, nil
	}
	t, err := d.svc.GetEventType(ctx, s.account.ID, name)
	if err != nil {
		return nil, err
	}
	f := eventTypeForm{Name: t.Name, Description: t.Description, Edit: true}
	if t.Schema != nil {
		f.Schema = prettyJSON(t.Schema)
	}
	return &eventTypeData{Type: ownRow(t), Form: f}, nil
}

func (d *Dashboard) showEventType(w http.ResponseWriter, r *http.Request, s *session) error {
	data, err := d.eventTypeData(r.Context(), s, r.PathValue("name"))
	if err != nil {
		return err
	}
	d.render(w, r, http.StatusOK, "eventtype.html", s, view{Title: data.Type.Name, Nav: "event-types", D: data})
	return nil
}

func (d *Dashboard) updateEventType(w http.ResponseWriter, r *http.Request, s *session) error {
	name := r.PathValue("name")
	desc := r.PostForm.Get("description")
	p := service.EventTypePatch{Description: &desc}
	schema := schemaOf(r.PostForm)
	p.Schema = service.Nullable[json.RawMessage]{Set: true, Value: &schema}
	if schema == nil {
		p.Schema.Value = nil
	}
	_, err := d.svc.UpdateEventType(r.Context(), s.account.ID, name, p)
	if err == nil {
		http.Redirect(w, r, "/event-types/"+url.PathEscape(name)+"?flash=event-type-saved", http.StatusSeeOther)
		return nil
	}
	errs := eventTypeErrors(err)
	if errs == nil {
		return err
	}
	data, derr := d.eventTypeData(r.Context(), s, name)
	if derr != nil {
		return derr
	}
	data.Form.Description, data.Form.Schema, data.Form.Errors = desc, r.PostForm.Get("schema"), errs
	d.render(w, r, http.StatusUnprocessableEntity, "eventtype.html", s, view{Title: name, Nav: "event-types", D: data})
	return nil
}

func (d *Dashboard) deprecateEventType(deprecated bool) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, s *session) error {
		name := r.PathValue("name")
		if _, err := d.svc.UpdateEventType(r.Context(), s.account.ID, name, service.EventTypePatch{Deprecated: &deprecated}); err != nil {
			return err
		}
		http.Redirect(w, r, "/event-types/"+url.PathEscape(name)+"?flash=event-type-saved", http.StatusSeeOther)
		return nil
	}
}

func (d *Dashboard) deleteEventType(w http.ResponseWriter, r *http.Request, s *session) error {
	if err := d.svc.DeleteEventType(r.Context(), s.account.ID, r.PathValue("name")); err != nil {
		return err
	}
	http.Redirect(w, r, "/event-types?flash=event-type-deleted", http.StatusSeeOther)
	return nil
}

// eventList is what the webhook form's event checkboxes list: the
// subscribable built-in types, then the account's own.
func (d *Dashboard) eventList(ctx context.Context, s *session) []string {
	return append(append([]string{}, agenthooks.EventTypes...), d.ownEventTypes(ctx, s)...)
}

// ownEventTypes are the names of the account's own types (none when they
// cannot be read: the forms still work with the built-in types).
func (d *Dashboard) ownEventTypes(ctx context.Context, s *session) []string {
	own, err := d.svc.ListEventTypes(ctx, s.account.ID)
	if err != nil {
		return nil
	}
	names := make([]string, len(own))
	for i, t := range own {
		names[i] = t.Name
	}
	return names
}

package dashboard

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/agenthooks/agenthooks"
	"github.com/agenthooks/agenthooks/service"
)

// widgetName returns the readable name of a widget type (its label in
// agenthooks.WidgetTypes; an older alias reads as the current type).
func widgetName(t string) string {
	if name, ok := agenthooks.CanonicalWidgetType(t); ok {
		t = name
	}
	for _, w := range agenthooks.WidgetTypes {
		if w.Name == t {
			return w.Label
		}
	}
	return t
}

// webhookChoices lists the account's webhooks for a Webhook drop-down (the
// first 100: an account has at most AGENTHOOKS_MAX_WEBHOOKS, 100 by default).
func (d *Dashboard) webhookChoices(ctx context.Context, accountID string) ([]*agenthooks.Webhook, error) {
	l, err := d.svc.ListWebhooks(ctx, accountID, agenthooks.Page{Page: 1, Size: 100})
	if err != nil {
		return nil, err
	}
	return l.Items, nil
}

func webhookNames(ws []*agenthooks.Webhook) map[string]string {
	m := make(map[string]string, len(ws))
	for _, w := range ws {
		m[w.ID] = w.Name
	}
	return m
}

type assistantsData struct {
	Assistants []*agenthooks.Assistant
	Pager      pager
	Webhooks   map[string]string
	Types      []string
	Name, Type string
	Errors     map[string]string
}

func (d *Dashboard) assistantsData(r *http.Request, s *session) (*assistantsData, error) {
	p := pageParam(r)
	l, err := d.svc.ListAssistants(r.Context(), s.account.ID, p)
	if err != nil {
		return nil, err
	}
	ws, err := d.webhookChoices(r.Context(), s.account.ID)
	if err != nil {
		return nil, err
	}
	return &assistantsData{Assistants: l.Items, Pager: newPager(r, p, l.Total), Webhooks: webhookNames(ws), Types: agenthooks.AssistantTypes, Type: "chat"}, nil
}

func (d *Dashboard) listAssistants(w http.ResponseWriter, r *http.Request, s *session) error {
	data, err := d.assistantsData(r, s)
	if err != nil {
		return err
	}
	d.render(w, r, http.StatusOK, "assistants.html", s, view{Title: "Assistants", Nav: "agents", D: data})
	return nil
}

func (d *Dashboard) createAssistant(w http.ResponseWriter, r *http.Request, s *session) error {
	name, typ := r.PostForm.Get("name"), r.PostForm.Get("assistant_type")
	// The API makes the name optional, as Insighto's; the dashboard lists
	// assistants by name, so its form still asks for one.
	var a *agenthooks.Assistant
	err := requiredName(name)
	if err == nil {
		a, err = d.svc.CreateAssistant(r.Context(), s.account.ID, service.AssistantInput{Name: name, AssistantType: typ})
	}
	if err == nil {
		http.Redirect(w, r, "/assistants/"+a.ID+"?flash=assistant-created", http.StatusSeeOther)
		return nil
	}
	errs := fieldErrors(err)
	if errs == nil {
		return err
	}
	data, derr := d.assistantsData(r, s)
	if derr != nil {
		return derr
	}
	data.Name, data.Type, data.Errors = name, typ, errs
	d.render(w, r, http.StatusUnprocessableEntity, "assistants.html", s, view{Title: "Assistants", Nav: "agents", D: data})
	return nil
}

type assistantData struct {
	Assistant   *agenthooks.Assistant
	Tab         string
	Widgets     []*agenthooks.Widget
	Pager       pager
	WidgetTypes []agenthooks.WidgetType
	Webhooks    []*agenthooks.Webhook
	Webhook     *agenthooks.Webhook // the assigned one, nil when none
	Assign      bool                // show the Webhook drop-down
	Selected    string              // the drop-down's choice
	WidgetName  string
	WidgetType  string
	Errors      map[string]string
}

func (d *Dashboard) assistantData(r *http.Request, s *session, tab string) (*assistantData, error) {
	ctx := r.Context()
	a, err := d.svc.GetAssistant(ctx, s.account.ID, r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	data := &assistantData{Assistant: a, Tab: tab, WidgetTypes: agenthooks.WidgetTypes, WidgetType: "chat", Selected: a.WebhookID}
	if data.Webhooks, err = d.webhookChoices(ctx, s.account.ID); err != nil {
		return nil, err
	}
	for _, w := range data.Webhooks {
		if w.ID == a.WebhookID {
			data.Webhook = w
		}
	}
	if tab == "widgets" {
		p := pageParam(r)
		l, err := d.svc.ListAssistantWidgets(ctx, s.account.ID, a.ID, p)
		if err != nil {
			return nil, err
		}
		data.Widgets, data.Pager = l.Items, newPager(r, p, l.Total)
	}
	return data, nil
}

func (d *Dashboard) showAssistant(w http.ResponseWriter, r *http.Request, s *session) error {
	data, err := d.assistantData(r, s, "widgets")
	if err != nil {
		return err
	}
	d.render(w, r, http.StatusOK, "assistant.html", s, view{Title: data.Assistant.Name, Nav: "agents", D: data})
	return nil
}

func (d *Dashboard) createWidget(w http.ResponseWriter, r *http.Request, s *session) error {
	id := r.PathValue("id")
	name, typ := r.PostForm.Get("name"), r.PostForm.Get("widget_type")
	err := requiredName(name)
	if err == nil {
		_, err = d.svc.CreateWidget(r.Context(), s.account.ID, service.WidgetInput{AssistantID: id, Name: name, WidgetType: typ})
	}
	if err == nil {
		http.Redirect(w, r, "/assistants/"+id+"?flash=widget-created", http.StatusSeeOther)
		return nil
	}
	errs := fieldErrors(err)
	if errs == nil {
		return err
	}
	if _, ok := errs["assistant_id"]; ok {
		return agenthooks.NotFound("assistant")
	}
	data, derr := d.assistantData(r, s, "widgets")
	if derr != nil {
		return derr
	}
	data.WidgetName, data.WidgetType, data.Errors = name, typ, errs
	d.render(w, r, http.StatusUnprocessableEntity, "assistant.html", s, view{Title: data.Assistant.Name, Nav: "agents", D: data})
	return nil
}

// assistantOperations is the Operations tab: the assigned webhook, Assign
// Webhook (which shows the Webhook drop-down and Save) and Create Webhook.
// Coming back from Create Webhook (?webhook_id=) shows the drop-down with the
// new webhook chosen.
func (d *Dashboard) assistantOperations(w http.ResponseWriter, r *http.Request, s *session) error {
	data, err := d.assistantData(r, s, "operations")
	if err != nil {
		return err
	}
	q := r.URL.Query()
	data.Assign = q.Get("assign") != "" && !s.readOnly
	if id := q.Get("webhook_id"); id != "" {
		for _, wh := range data.Webhooks {
			if wh.ID == id {
				data.Selected = id
			}
		}
	}
	d.render(w, r, http.StatusOK, "assistant.html", s, view{Title: data.Assistant.Name, Nav: "agents", D: data})
	return nil
}

// webhookChoice reads the Webhook drop-down: "" is None.
func webhookChoice(r *http.Request) *string {
	id := strings.TrimSpace(r.PostForm.Get("webhook_id"))
	if id == "" {
		return nil
	}
	return &id
}

func (d *Dashboard) assignAssistantWebhook(w http.ResponseWriter, r *http.Request, s *session) error {
	id := r.PathValue("id")
	choice := webhookChoice(r)
	_, err := d.svc.UpdateAssistant(r.Context(), s.account.ID, id, service.AssistantPatch{WebhookID: service.Nullable[string]{Set: true, Value: choice}})
	if err == nil {
		http.Redirect(w, r, "/assistants/"+id+"/operations?flash=assistant-saved", http.StatusSeeOther)
		return nil
	}
	errs := fieldErrors(err)
	if errs == nil {
		return err
	}
	data, derr := d.assistantData(r, s, "operations")
	if derr != nil {
		return derr
	}
	data.Assign, data.Errors = true, map[string]string{"webhook_id": "Choose one of your webhooks, or None"}
	d.render(w, r, http.StatusUnprocessableEntity, "assistant.html", s, view{Title: data.Assistant.Name, Nav: "agents", D: data})
	return nil
}

// formRows is how many field rows the create form offers (blank rows are
// ignored); more fields can be added with the API.
const formRows = 6

type fieldRow struct {
	Index    int
	Name     string
	Type     string
	Required bool
}

type formsData struct {
	Forms      []*agenthooks.Form
	Pager      pager
	Webhooks   []*agenthooks.Webhook
	Names      map[string]string
	Name       string
	Rows       []fieldRow
	FieldTypes []string
	Selected   string
	Errors     map[string]string
}

func (d *Dashboard) formsData(r *http.Request, s *session) (*formsData, error) {
	p := pageParam(r)
	l, err := d.svc.ListForms(r.Context(), s.account.ID, p)
	if err != nil {
		return nil, err
	}
	ws, err := d.webhookChoices(r.Context(), s.account.ID)
	if err != nil {
		return nil, err
	}
	data := &formsData{Forms: l.Items, Pager: newPager(r, p, l.Total), Webhooks: ws, Names: webhookNames(ws), FieldTypes: agenthooks.FieldTypes}
	for i := range formRows {
		data.Rows = append(data.Rows, fieldRow{Index: i, Type: "text"})
	}
	return data, nil
}

func (d *Dashboard) listForms(w http.ResponseWriter, r *http.Request, s *session) error {
	data, err := d.formsData(r, s)
	if err != nil {
		return err
	}
	d.render(w, r, http.StatusOK, "forms.html", s, view{Title: "Forms", Nav: "agents", D: data})
	return nil
}

func (d *Dashboard) createForm(w http.ResponseWriter, r *http.Request, s *session) error {
	v := r.PostForm
	name := v.Get("name")
	var rows []fieldRow
	var fields []agenthooks.FormField
	// rowOf maps an index of fields (what the service's errors name) to
	// its row on the form.
	var rowOf []int
	for i := range formRows {
		row := fieldRow{Index: i, Name: v.Get(fmt.Sprintf("field_%d_name", i)), Type: v.Get(fmt.Sprintf("field_%d_type", i)), Required: v.Get(fmt.Sprintf("field_%d_required", i)) != ""}
		rows = append(rows, row)
		if strings.TrimSpace(row.Name) == "" {
			continue
		}
		fields = append(fields, agenthooks.FormField{Name: strings.TrimSpace(row.Name), Type: row.Type, Required: row.Required})
		rowOf = append(rowOf, i)
	}
	choice := webhookChoice(r)
	in := service.FormInput{Name: name, Fields: fields}
	if choice != nil {
		in.WebhookID = *choice
	}
	f, err := d.svc.CreateForm(r.Context(), s.account.ID, in)
	if err == nil {
		http.Redirect(w, r, "/forms/"+f.ID+"?flash=form-created", http.StatusSeeOther)
		return nil
	}
	errs := fieldErrors(err)
	if errs == nil {
		return err
	}
	// The service names fields by their index among the non-blank rows.
	for k, msg := range errs {
		var i int
		var rest string
		if n, _ := fmt.Sscanf(k, "fields.%d.%s", &i, &rest); n == 2 && i < len(rowOf) {
			delete(errs, k)
			errs[fmt.Sprintf("field_%d_%s", rowOf[i], rest)] = msg
		}
	}
	data, derr := d.formsData(r, s)
	if derr != nil {
		return derr
	}
	data.Name, data.Rows, data.Errors = name, rows, errs
	if choice != nil {
		data.Selected = *choice
	}
	d.render(w, r, http.StatusUnprocessableEntity, "forms.html", s, view{Title: "Forms", Nav: "agents", D: data})
	return nil
}

type formData struct {
	Form     *agenthooks.Form
	Webhooks []*agenthooks.Webhook
	Webhook  *agenthooks.Webhook
	Selected string
	Errors   map[string]string
}

func (d *Dashboard) formData(r *http.Request, s *session) (*formData, error) {
	f, err := d.svc.GetForm(r.Context(), s.account.ID, r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	ws, err := d.webhookChoices(r.Context(), s.account.ID)
	if err != nil {
		return nil, err
	}
	data := &formData{Form: f, Webhooks: ws, Selected: f.WebhookID}
	for _, w := range ws {
		if w.ID == f.WebhookID {
			data.Webhook = w
		}
	}
	if id := r.URL.Query().Get("webhook_id"); id != "" {
		for _, w := range ws {
			if w.ID == id {
				data.Selected = id
			}
		}
	}
	return data, nil
}

func (d *Dashboard) showForm(w http.ResponseWriter, r *http.Request, s *session) error {
	data, err := d.formData(r, s)
	if err != nil {
		return err
	}
	d.render(w, r, http.StatusOK, "form.html", s, view{Title: data.Form.Name, Nav: "agents", D: data})
	return nil
}

func (d *Dashboard) assignFormWebhook(w http.ResponseWriter, r *http.Request, s *session) error {
	id := r.PathValue("id")
	_, err := d.svc.UpdateForm(r.Context(), s.account.ID, id, service.FormPatch{WebhookID: service.Nullable[string]{Set: true, Value: webhookChoice(r)}})
	if err == nil {
		http.Redirect(w, r, "/forms/"+id+"?flash=form-saved", http.StatusSeeOther)
		return nil
	}
	if fieldErrors(err) == nil {
		return err
	}
	data, derr := d.formData(r, s)
	if derr != nil {
		return derr
	}
	data.Errors = map[string]string{"webhook_id": "Choose one of your webhooks, or None"}
	d.render(w, r, http.StatusUnprocessableEntity, "form.html", s, view{Title: data.Form.Name, Nav: "agents", D: data})
	return nil
}

// requiredName refuses an empty name on the dashboard's forms.
func requiredName(name string) error {
	if strings.TrimSpace(name) == "" {
		return agenthooks.Invalid("name", "String should have at least 1 character", "string_too_short")
	}
	return nil
}

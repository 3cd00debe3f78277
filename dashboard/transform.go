package dashboard

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/agenthooks/agenthooks"
	"github.com/agenthooks/agenthooks/service"
	"github.com/agenthooks/agenthooks/transform"
)

// transformationPanel is the webhook page's Transformation form
// (templates/_transformation.html): the code as stored or typed, the
// templates to start from, recent events to test on, and a test's result.
type transformationPanel struct {
	Code      string
	Enabled   bool
	Templates []transform.Template
	Events    []*service.EventView
	EventID   string // the event chosen for Test; "" the latest
	Error     string
	Result    *transformResult
	Saved     bool
}

// transformResult is what Test shows: the request that would be sent.
type transformResult struct {
	Method, URL string
	Headers     map[string]string
	Body        string // indented JSON
	Cancel      bool
}

func (d *Dashboard) transformationPanel(ctx context.Context, s *session, wh *agenthooks.Webhook) transformationPanel {
	p := transformationPanel{Templates: transform.Templates, Enabled: true}
	if t := wh.Transformation; t != nil {
		p.Code, p.Enabled = t.Code, t.Enabled
	}
	if es, err := d.svc.ListEvents(ctx, s.account.ID, agenthooks.EventFilter{}, agenthooks.Page{Page: 1, Size: 10}); err == nil {
		p.Events = es.Items
	}
	return p
}

// transformation handles the form's buttons: template (start from the
// chosen template), test (run what the field holds, unsaved) and save.
func (d *Dashboard) transformation(w http.ResponseWriter, r *http.Request, s *session) error {
	id := r.PathValue("id")
	data, err := d.webhookData(r.Context(), s, id)
	if err != nil {
		return err
	}
	p := &data.Transformation
	p.Code = strings.ReplaceAll(r.PostForm.Get("transformation"), "\r\n", "\n")
	p.Enabled = r.PostForm.Get("transformation_enabled") != ""
	p.EventID = r.PostForm.Get("event_id")
	status := http.StatusOK
	switch r.PostForm.Get("action") {
	case "template":
		if t, ok := transform.LookupTemplate(r.PostForm.Get("template")); ok {
			p.Code = t.Code
		}
	case "test":
		code := p.Code
		out, err := d.svc.TestTransformation(r.Context(), s.account.ID, id, service.TransformationTest{Code: &code, EventID: p.EventID})
		var ae *agenthooks.Error
		switch {
		case errors.As(err, &ae):
			p.Error, status = ae.Message, http.StatusUnprocessableEntity
		case err != nil:
			return err
		default:
			res := &transformResult{Method: out.Method, URL: out.URL, Headers: out.Headers, Cancel: out.Cancel}
			var v any
			if json.Unmarshal(out.Body, &v) == nil {
				b, _ := json.MarshalIndent(v, "", "  ")
				res.Body = string(b)
			}
			p.Result = res
		}
	default: // save
		var t *agenthooks.Transformation
		if strings.TrimSpace(p.Code) != "" {
			t = &agenthooks.Transformation{Code: p.Code, Enabled: p.Enabled}
		}
		_, err := d.svc.UpdateWebhook(r.Context(), s.account.ID, id, service.WebhookPatch{Transformation: service.Nullable[agenthooks.Transformation]{Set: true, Value: t}})
		var ae *agenthooks.Error
		switch {
		case errors.As(err, &ae) && ae.Code == agenthooks.EINVALID:
			p.Error, status = ae.Message, http.StatusUnprocessableEntity
		case err != nil:
			return err
		default:
			http.Redirect(w, r, "/webhooks/"+id+"?flash=transformation-saved#transformation", http.StatusSeeOther)
			return nil
		}
	}
	d.render(w, r, status, "webhook.html", s, view{Title: data.Webhook.Name, Nav: "webhooks", D: data})
	return nil
}

package dashboard

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/agenthooks/agenthooks"
	"github.com/agenthooks/agenthooks/service"
)

// filterPanel is the webhook page's Filter form (templates/_filter.html):
// the filter as stored or typed, recent events to test on, a test's result
// and how many events the saved filter dropped.
type filterPanel struct {
	Filter   string
	Events   []*service.EventView
	EventID  string // the event chosen for Test; "" the latest
	Error    string
	Tested   bool
	Matches  bool
	TestedOn string // the event's type and id the test ran on
	Dropped  int64
}

func filterPanelOf(wh *agenthooks.Webhook, events []*service.EventView) filterPanel {
	p := filterPanel{Events: events, Dropped: wh.EventsFiltered}
	if len(wh.Filter) > 0 {
		p.Filter = indentJSON(wh.Filter)
	}
	return p
}

// indentJSON lays a JSON value out for reading and editing.
func indentJSON(raw []byte) string {
	var b strings.Builder
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return string(raw)
	}
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if enc.Encode(v) != nil {
		return string(raw)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// filter handles the form's buttons: test (match what the field holds,
// unsaved, against the chosen or latest event) and save (empty: no filter).
func (d *Dashboard) filter(w http.ResponseWriter, r *http.Request, s *session) error {
	id := r.PathValue("id")
	data, err := d.webhookData(r.Context(), s, id)
	if err != nil {
		return err
	}
	p := &data.Filter
	p.Filter = strings.ReplaceAll(r.PostForm.Get("filter"), "\r\n", "\n")
	p.EventID = r.PostForm.Get("event_id")
	raw := json.RawMessage(strings.TrimSpace(p.Filter))
	if len(raw) == 0 {
		raw = json.RawMessage("null")
	}
	status := http.StatusOK
	var ae *agenthooks.Error
	if r.PostForm.Get("action") == "test" {
		res, err := d.svc.TestFilter(r.Context(), s.account.ID, id, service.FilterTest{Filter: raw, EventID: p.EventID})
		switch {
		case errors.As(err, &ae) && ae.Code == agenthooks.EINVALID:
			p.Error, status = filterError(ae), http.StatusUnprocessableEntity
		case err != nil:
			return err
		default:
			p.Tested, p.Matches = true, res.Matches
			for _, e := range p.Events {
				if e.ID == res.EventID {
					p.TestedOn = e.Type
				}
			}
			if p.TestedOn == "" {
				p.TestedOn = "event"
			}
			p.TestedOn += " " + res.EventID
		}
	} else {
		_, err := d.svc.UpdateWebhook(r.Context(), s.account.ID, id, service.WebhookPatch{Filter: &raw})
		switch {
		case errors.As(err, &ae) && ae.Code == agenthooks.EINVALID:
			p.Error, status = filterError(ae), http.StatusUnprocessableEntity
		case err != nil:
			return err
		default:
			http.Redirect(w, r, "/webhooks/"+id+"?flash=filter-saved#filter", http.StatusSeeOther)
			return nil
		}
	}
	d.render(w, r, status, "webhook.html", s, view{Title: data.Webhook.Name, Nav: "webhooks", D: data})
	return nil
}

// filterError is an invalid filter or test in plain words: the parser's
// message names the path at fault; an event that cannot be tested on says so.
func filterError(ae *agenthooks.Error) string {
	if len(ae.Fields) == 0 {
		return ae.Message
	}
	f := ae.Fields[0]
	switch {
	case len(f.Loc) > 0 && f.Loc[len(f.Loc)-1] == "event_id" && f.Type == "missing":
		return "Nothing to test on yet: this account has no event. Send a test event first."
	case len(f.Loc) > 0 && f.Loc[len(f.Loc)-1] == "event_id":
		return "The event chosen is not one of this account's."
	case strings.HasPrefix(f.Msg, "not valid JSON"):
		return "The filter is not valid JSON (" + strings.TrimPrefix(f.Msg, "not valid JSON: ") + ")."
	}
	return "The filter cannot be used: " + f.Msg + "."
}

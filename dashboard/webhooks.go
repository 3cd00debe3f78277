package dashboard

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/agenthooks/agenthooks"
	"github.com/agenthooks/agenthooks/service"
)

// webhookRow is a webhook in the list with its last 24 hours.
type webhookRow struct {
	*agenthooks.Webhook
	Stats agenthooks.WebhookStats
}

type webhooksData struct {
	Rows  []webhookRow
	Pager pager
}

func (d *Dashboard) listWebhooks(w http.ResponseWriter, r *http.Request, s *session) error {
	p := pageParam(r)
	l, err := d.svc.ListWebhooks(r.Context(), s.account.ID, p)
	if err != nil {
		return err
	}
	stats, err := d.svc.WebhookStats(r.Context(), s.account.ID, time.Now().Add(-24*time.Hour))
	if err != nil {
		return err
	}
	data := webhooksData{Pager: newPager(r, p, l.Total)}
	for _, wh := range l.Items {
		data.Rows = append(data.Rows, webhookRow{Webhook: wh, Stats: stats[wh.ID]})
	}
	d.render(w, r, http.StatusOK, "webhooks.html", s, view{Title: "Webhooks", Nav: "webhooks", D: data})
	return nil
}

// webhookForm is the Add a Webhook (and edit) form as typed, so that a form
// with errors comes back with what was entered.
type webhookForm struct {
	ID        string
	Name      string
	Endpoint  string
	Events    []string // checked, when AllEvents is false
	AllEvents bool     // "All events" chosen: every event type, those added later too
	Ordering  string
	Headers   string // "Name: value" per line
	RateLimit string
	Return    string // where to go after Submit (an assistant's or a form's page)
	Errors    map[string]string
	EventList []string

	Destination destinationForm // destination.go
	TLS         webhookTLSForm  // dashboard/webhooktls.go
}

func newWebhookForm() webhookForm {
	return webhookForm{Ordering: agenthooks.OrderingNone, EventList: agenthooks.EventTypes, AllEvents: true,
		Destination: destinationForm{Kind: agenthooks.DestinationHTTP}}
}

func webhookFormOf(wh *agenthooks.Webhook) webhookForm {
	f := newWebhookForm()
	f.ID, f.Name, f.Endpoint, f.Events, f.Ordering = wh.ID, wh.Name, wh.Endpoint, wh.Events, wh.Ordering
	f.AllEvents = len(wh.Events) == 0
	if f.Destination = destinationFormOf(wh.Destination); wh.Destination.Broker() {
		f.Endpoint = "" // the endpoint reads the broker's URL: not an HTTP endpoint to edit
	}
	names := make([]string, 0, len(wh.Headers))
	for k := range wh.Headers {
		names = append(names, k)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, k := range names {
		fmt.Fprintf(&b, "%s: %s\n", k, wh.Headers[k])
	}
	f.Headers = b.String()
	if wh.RateLimit != nil {
		f.RateLimit = strconv.FormatFloat(*wh.RateLimit, 'f', -1, 64)
	}
	f.TLS = webhookTLSFormOf(wh.TLS)
	return f
}

// parse reads the form; errors of its own (header lines, rate limit) go to
// f.Errors like the service's.
func (f *webhookForm) parse(v url.Values) (events []string, headers map[string]string, rate *float64, dest *agenthooks.Destination) {
	f.Errors = map[string]string{}
	f.Name, f.Endpoint = v.Get("name"), strings.TrimSpace(v.Get("endpoint"))
	f.Ordering, f.Headers, f.RateLimit = v.Get("ordering"), v.Get("headers"), strings.TrimSpace(v.Get("rate_limit"))
	f.Return = allowedReturn(v.Get("return"))
	for _, e := range v["events"] {
		if agenthooks.IsEventType(e) || service.CheckEventTypeName(e) == nil { // own types: the service checks they are the account's
			f.Events = append(f.Events, e)
		}
	}
	// "All events" is a choice of its own: no box checked is not "all"
	// (issue 26). A form posted without the choice (an older page) keeps
	// the old reading: none checked, all.
	switch v.Get("events_mode") {
	case "all":
		f.AllEvents, f.Events = true, nil
	case "some":
		f.AllEvents = false
		if len(f.Events) == 0 {
			f.Errors["events"] = "Check the event types to send, or choose All events."
		}
	default:
		f.AllEvents = len(f.Events) == 0
	}
	headers = map[string]string{}
	for i, line := range strings.Split(strings.ReplaceAll(f.Headers, "\r\n", "\n"), "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok || strings.TrimSpace(name) == "" {
			f.Errors["headers"] = fmt.Sprintf("Line %d: write each header as Name: value", i+1)
			break
		}
		headers[strings.TrimSpace(name)] = strings.TrimSpace(value)
	}
	if f.RateLimit != "" {
		n, err := strconv.ParseFloat(f.RateLimit, 64)
		if err != nil {
			f.Errors["rate_limit"] = "Enter a number of requests per second, or leave it empty for no limit"
		} else {
			rate = &n
		}
	}
	dest = f.Destination.parse(v, f.Errors)
	checkWebhookFields(f.Name, f.Endpoint, dest == nil || dest.Type == "" || dest.Type == agenthooks.DestinationHTTP, f.Errors)
	return f.Events, headers, rate, dest
}

// allowedReturn keeps a return path only if it is an assistant's operations
// tab or a form's page: Create Webhook comes back there.
func allowedReturn(p string) string {
	p = localPath(p)
	if strings.HasPrefix(p, "/assistants/") || strings.HasPrefix(p, "/forms/") {
		return p
	}
	return ""
}

func (d *Dashboard) newWebhook(w http.ResponseWriter, r *http.Request, s *session) error {
	f := newWebhookForm()
	f.EventList = d.eventList(r.Context(), s)
	f.Return = allowedReturn(r.URL.Query().Get("return"))
	d.render(w, r, http.StatusOK, "webhook_form.html", s, view{Title: "Add a Webhook", Nav: "webhooks", D: f})
	return nil
}

func (d *Dashboard) createWebhook(w http.ResponseWriter, r *http.Request, s *session) error {
	f := newWebhookForm()
	f.EventList = d.eventList(r.Context(), s)
	events, headers, rate, dest := f.parse(r.PostForm)
	tls := f.parseTLS(r.PostForm)
	if len(f.Errors) == 0 {
		in := service.WebhookInput{Name: f.Name, Endpoint: f.Endpoint, Events: events, Ordering: f.Ordering, Headers: headers, RateLimit: rate,
			Destination: dest}
		in.TLS = tls
		wh, err := d.svc.CreateWebhook(r.Context(), s.account.ID, in)
		if err == nil {
			if f.Return != "" {
				http.Redirect(w, r, withQuery(f.Return, "assign", "1", "webhook_id", wh.ID, "flash", "webhook-created"), http.StatusSeeOther)
			} else {
				http.Redirect(w, r, "/webhooks/"+wh.ID+"?flash=webhook-created", http.StatusSeeOther)
			}
			return nil
		}
		if f.Errors = fieldErrors(err); f.Errors == nil {
			return err
		}
	}
	f.Destination.hideCredentials(f.Errors)
	d.render(w, r, http.StatusUnprocessableEntity, "webhook_form.html", s, view{Title: "Add a Webhook", Nav: "webhooks", D: f})
	return nil
}

// withQuery returns p with the query parameters kv (name, value, ...) set.
func withQuery(p string, kv ...string) string {
	u, err := url.Parse(p)
	if err != nil {
		return p
	}
	q := u.Query()
	for i := 0; i+1 < len(kv); i += 2 {
		q.Set(kv[i], kv[i+1])
	}
	u.RawQuery = q.Encode()
	return u.String()
}

type webhookData struct {
	Webhook    *agenthooks.Webhook
	Form       webhookForm
	Stats      agenthooks.WebhookStats
	Secret     string
	Deliveries []service.DeliveryRow
	Rotating   bool // the previous secret still signs
	Overlap    time.Duration
	Recover    string // the recover form's since, as typed
	Errors     map[string]string
	Queued     int
	ShowQueued bool
	// DisableAt is when a failing webhook is disabled unless a delivery
	// succeeds first (zero when it is not failing).
	DisableAt    time.Time
	DisableDue   bool // DisableAt has passed: the next sweep disables it
	DisableAfter time.Duration

	Transformation transformationPanel // dashboard/transform.go
	Filter         filterPanel         // dashboard/filter.go
}

func (d *Dashboard) webhookData(ctx context.Context, s *session, id string) (*webhookData, error) {
	wh, err := d.svc.GetWebhook(ctx, s.account.ID, id)
	if err != nil {
		return nil, err
	}
	stats, err := d.svc.WebhookStats(ctx, s.account.ID, time.Now().Add(-24*time.Hour))
	if err != nil {
		return nil, err
	}
	ds, err := d.svc.ListDeliveryRows(ctx, s.account.ID, agenthooks.DeliveryFilter{WebhookID: id}, agenthooks.Page{Page: 1, Size: 10})
	if err != nil {
		return nil, err
	}
	var disableAt time.Time
	if wh.Enabled && !wh.FailingSince.IsZero() {
		disableAt = wh.FailingSince.Add(d.disableAfter())
	}
	form := webhookFormOf(wh)
	form.EventList = d.eventList(ctx, s)
	data := &webhookData{Webhook: wh, Form: form, Stats: stats[id], Deliveries: ds.Items, DisableAt: disableAt, DisableAfter: d.disableAfter(),
		DisableDue: !disableAt.IsZero() && !time.Now().Before(disableAt),
		Rotating:   wh.PreviousSecret != "" && time.Now().Before(wh.PreviousSecretUntil), Overlap: d.svc.RotationOverlap,
		Recover:        time.Now().UTC().Add(-24 * time.Hour).Format("2006-01-02 15:04"),
		Transformation: d.transformationPanel(ctx, s, wh)}
	data.Filter = filterPanelOf(wh, data.Transformation.Events)
	return data, nil
}

func (d *Dashboard) showWebhook(w http.ResponseWriter, r *http.Request, s *session) error {
	reveal := r.URL.Query().Get("reveal") == "secret"
	if reveal && s.readOnly {
		// The secret signs deliveries: whoever holds it can forge one to the
		// customer's receiver, which a read-only viewer must not be able to.
		d.renderError(w, r, http.StatusForbidden, "Read-only session", "A read-only session cannot reveal a webhook's signing secret.")
		return nil
	}
	data, err := d.webhookData(r.Context(), s, r.PathValue("id"))
	if err != nil {
		return err
	}
	if reveal {
		data.Secret = data.Webhook.Secret
	}
	if n, err := strconv.Atoi(r.URL.Query().Get("queued")); err == nil && n >= 0 {
		data.Queued, data.ShowQueued = n, true
	}
	d.render(w, r, http.StatusOK, "webhook.html", s, view{Title: data.Webhook.Name, Nav: "webhooks", D: data})
	return nil
}

func (d *Dashboard) updateWebhook(w http.ResponseWriter, r *http.Request, s *session) error {
	id := r.PathValue("id")
	f := newWebhookForm()
	f.EventList = d.eventList(r.Context(), s)
	events, headers, rate, dest := f.parse(r.PostForm)
	tls := f.parseTLS(r.PostForm)
	f.ID = id
	if len(f.Errors) == 0 {
		p := service.WebhookPatch{Name: &f.Name, Endpoint: &f.Endpoint, Ordering: &f.Ordering, Headers: &headers,
			RateLimit: service.Nullable[float64]{Set: true, Value: rate}, Destination: service.Nullable[agenthooks.Destination]{Set: true, Value: dest}}
		if dest.Broker() {
			p.Endpoint = nil // a broker webhook's endpoint reads its URL
		}
		p.TLS = tlsPatch(tls)
		if events != nil {
			p.Events = &events
		}
		cur, err := d.svc.GetWebhook(r.Context(), s.account.ID, id)
		if err != nil {
			return err
		}
		if events == nil && cur.Events != nil {
			// None checked means every event type; a patch cannot say
			// "absent", so it names them, without the operational ones,
			// which "all" never includes.
			all := slices.Clone(agenthooks.DefaultEventTypes)
			p.Events = &all
		}
		_, err = d.svc.UpdateWebhook(r.Context(), s.account.ID, id, p)
		if err == nil {
			http.Redirect(w, r, "/webhooks/"+id+"?flash=webhook-saved", http.StatusSeeOther)
			return nil
		}
		if f.Errors = fieldErrors(err); f.Errors == nil {
			return err
		}
	}
	data, err := d.webhookData(r.Context(), s, id)
	if err != nil {
		return err
	}
	f.TLS.KeySet = webhookTLSFormOf(data.Webhook.TLS).KeySet
	f.Destination.CredentialsSet = data.Webhook.Destination.Broker() && data.Webhook.Destination.CredentialsSet()
	f.Destination.hideCredentials(f.Errors)
	data.Form = f
	d.render(w, r, http.StatusUnprocessableEntity, "webhook.html", s, view{Title: data.Webhook.Name, Nav: "webhooks", D: data})
	return nil
}

func (d *Dashboard) enableWebhook(enabled bool) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, s *session) error {
		id := r.PathValue("id")
		if _, err := d.svc.UpdateWebhook(r.Context(), s.account.ID, id, service.WebhookPatch{Enabled: &enabled}); err != nil {
			return err
		}
		flash := "webhook-disabled"
		if enabled {
			flash = "webhook-enabled"
		}
		http.Redirect(w, r, "/webhooks/"+id+"?flash="+flash, http.StatusSeeOther)
		return nil
	}
}

func (d *Dashboard) confirmDeleteWebhook(w http.ResponseWriter, r *http.Request, s *session) error {
	wh, err := d.svc.GetWebhook(r.Context(), s.account.ID, r.PathValue("id"))
	if err != nil {
		return err
	}
	d.render(w, r, http.StatusOK, "webhook_delete.html", s, view{Title: "Delete " + wh.Name, Nav: "webhooks", D: wh})
	return nil
}

func (d *Dashboard) deleteWebhook(w http.ResponseWriter, r *http.Request, s *session) error {
	if err := d.svc.DeleteWebhook(r.Context(), s.account.ID, r.PathValue("id")); err != nil {
		return err
	}
	http.Redirect(w, r, "/webhooks?flash=webhook-deleted", http.StatusSeeOther)
	return nil
}

func (d *Dashboard) rotateSecret(w http.ResponseWriter, r *http.Request, s *session) error {
	id := r.PathValue("id")
	if _, err := d.svc.RotateSecret(r.Context(), s.account.ID, id); err != nil {
		return err
	}
	http.Redirect(w, r, "/webhooks/"+id+"?flash=secret-rotated&reveal=secret", http.StatusSeeOther)
	return nil
}

// testWebhook sends a webhook.test event, waits for its attempt (up to
// TestWait) and shows the delivery.
func (d *Dashboard) testWebhook(w http.ResponseWriter, r *http.Request, s *session) error {
	del, err := d.svc.TestWebhook(r.Context(), s.account.ID, r.PathValue("id"))
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(r.Context(), d.opts.TestWait)
	defer cancel()
	if _, err := d.svc.WaitForAttempt(ctx, s.account.ID, del.ID, 0); err != nil {
		return err
	}
	http.Redirect(w, r, "/deliveries/"+del.ID+"?flash=test-sent", http.StatusSeeOther)
	return nil
}

// recoverWebhook queues the webhook's failed deliveries of events since the
// time given (UTC, as the form says).
func (d *Dashboard) recoverWebhook(w http.ResponseWriter, r *http.Request, s *session) error {
	id := r.PathValue("id")
	raw := strings.TrimSpace(r.PostForm.Get("since"))
	since, err := parseLocalTime(raw)
	if err != nil {
		data, derr := d.webhookData(r.Context(), s, id)
		if derr != nil {
			return derr
		}
		data.Recover, data.Errors = raw, map[string]string{"since": "Enter a date and time in UTC, such as 2026-03-01 14:30"}
		d.render(w, r, http.StatusUnprocessableEntity, "webhook.html", s, view{Title: data.Webhook.Name, Nav: "webhooks", D: data})
		return nil
	}
	n, err := d.svc.RecoverWebhook(r.Context(), s.account.ID, id, since)
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/webhooks/"+id+"?flash=recovered&queued="+strconv.Itoa(n), http.StatusSeeOther)
	return nil
}

// parseLocalTime reads a date or date and time typed in UTC, ISO-style
// (2026-03-01, 2026-03-01 14:30, 2026-03-01T14:30:05, optionally ending in
// " UTC" or Z, or RFC 3339 with an offset). The dashboard's time fields are
// text fields, not the browser's date pickers, which would show the
// browser's locale and time zone under a "(UTC)" label.
func parseLocalTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if u := strings.TrimSpace(strings.TrimSuffix(s, "UTC")); u != s {
		s = u
	} else if len(s) > 10 && strings.HasSuffix(s, "Z") {
		s = strings.TrimSuffix(s, "Z")
	}
	for _, layout := range []string{"2006-01-02 15:04", "2006-01-02T15:04", "2006-01-02 15:04:05", "2006-01-02T15:04:05", time.RFC3339, "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			if t.Year() < 1970 || t.Year() > 9999 {
				break
			}
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("not a time: %q", s)
}

// disableAfter is Options.DisableAfter or its default, the serve's.
func (d *Dashboard) disableAfter() time.Duration {
	if d.opts.DisableAfter > 0 {
		return d.opts.DisableAfter
	}
	return 120 * time.Hour
}

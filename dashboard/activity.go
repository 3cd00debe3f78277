package dashboard

import (
	"context"
	"net/http"
	"net/textproto"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/agenthooks/agenthooks"
	"github.com/agenthooks/agenthooks/service"
)

// assistantChoices lists the account's assistants for a filter drop-down.
func (d *Dashboard) assistantChoices(ctx context.Context, accountID string) ([]*agenthooks.Assistant, error) {
	l, err := d.svc.ListAssistants(ctx, accountID, agenthooks.Page{Page: 1, Size: 100})
	if err != nil {
		return nil, err
	}
	return l.Items, nil
}

func assistantNames(as []*agenthooks.Assistant) map[string]string {
	m := make(map[string]string, len(as))
	for _, a := range as {
		m[a.ID] = a.Name
	}
	return m
}

// timeFilter reads an optional date or datetime filter; a value that is not
// one is reported in errs and ignored.
func timeFilter(r *http.Request, name string, errs map[string]string) time.Time {
	v := r.URL.Query().Get(name)
	if v == "" {
		return time.Time{}
	}
	t, err := parseLocalTime(v)
	if err != nil {
		errs[name] = "Enter a date in UTC, such as 2026-03-01 or 2026-03-01 14:30"
		return time.Time{}
	}
	return t
}

type conversationsData struct {
	Items      []*agenthooks.Conversation
	Pager      pager
	Assistants []*agenthooks.Assistant
	Names      map[string]string
	Assistant  string
	From, To   string
	State      string
	Errors     map[string]string
}

func (d *Dashboard) listConversations(w http.ResponseWriter, r *http.Request, s *session) error {
	ctx, q := r.Context(), r.URL.Query()
	as, err := d.assistantChoices(ctx, s.account.ID)
	if err != nil {
		return err
	}
	data := conversationsData{Assistants: as, Names: assistantNames(as), Assistant: q.Get("assistant_id"), From: q.Get("from"), To: q.Get("to"),
		State: q.Get("state"), Errors: map[string]string{}}
	cq := agenthooks.ConversationQuery{AssistantID: data.Assistant, From: timeFilter(r, "from", data.Errors), To: timeFilter(r, "to", data.Errors)}
	if !cq.To.IsZero() && len(data.To) == len("2006-01-02") {
		cq.To = cq.To.Add(24 * time.Hour) // a date includes its whole day
	}
	switch data.State {
	case "open":
		f := false
		cq.Closed = &f
	case "closed":
		t := true
		cq.Closed = &t
	default:
		data.State = ""
	}
	p := pageParam(r)
	l, err := d.svc.QueryConversations(ctx, s.account.ID, cq, p)
	if err != nil {
		return err
	}
	data.Items, data.Pager = l.Items, newPager(r, p, l.Total)
	d.render(w, r, http.StatusOK, "conversations.html", s, view{Title: "Conversations", Nav: "conversations", D: data})
	return nil
}

type conversationData struct {
	*service.ConversationDetail
	Assistant   string
	FormNames   map[string]string
	IntentNames map[string]string
	Pager       pager // of the transcript
}

// transcriptPage is how many messages a conversation's page shows: at most
// 32 KiB of text each, so a page stays well under a few megabytes however
// the text escapes (issue 25: 100 messages of 32 KiB made a 13 MB page).
const transcriptPage = 20

func (d *Dashboard) showConversation(w http.ResponseWriter, r *http.Request, s *session) error {
	ctx := r.Context()
	// Without ?page= the page shows the latest messages (the last page).
	p := agenthooks.Page{Size: transcriptPage}
	if r.URL.Query().Has("page") {
		p.Page = pageParam(r).Page
	}
	cd, err := d.svc.GetConversationDetail(ctx, s.account.ID, r.PathValue("id"), p)
	if err != nil {
		return err
	}
	data := conversationData{ConversationDetail: cd, FormNames: map[string]string{}, IntentNames: map[string]string{},
		Pager: newPager(r, cd.MessagePage, cd.MessageTotal)}
	if a, err := d.svc.GetAssistant(ctx, s.account.ID, cd.AssistantID); err == nil {
		data.Assistant = a.Name
	}
	for _, f := range cd.Forms {
		if form, err := d.svc.GetForm(ctx, s.account.ID, f.FormID); err == nil {
			data.FormNames[f.FormID] = form.Name
		}
	}
	for _, i := range cd.Intents {
		if in, err := d.svc.GetIntent(ctx, s.account.ID, i.IntentID); err == nil {
			data.IntentNames[i.IntentID] = in.Name
		}
	}
	d.render(w, r, http.StatusOK, "conversation.html", s, view{Title: "Conversation", Nav: "conversations", D: data})
	return nil
}

type eventsData struct {
	Items        []*service.EventView
	Pager        pager
	Types        []string
	Assistants   []*agenthooks.Assistant
	Type         string
	Assistant    string
	Conversation string
	From, To     string
	Errors       map[string]string
	Names        map[string]string // webhook names by id
	Search       search
}

// eventTypes lists every event type a filter can name (webhook.test too).
func eventTypes() []string {
	return append(append([]string{}, agenthooks.EventTypes...), agenthooks.EventWebhookTest)
}

func (d *Dashboard) listEvents(w http.ResponseWriter, r *http.Request, s *session) error {
	ctx, q := r.Context(), r.URL.Query()
	as, err := d.assistantChoices(ctx, s.account.ID)
	if err != nil {
		return err
	}
	data := eventsData{Types: append(eventTypes(), d.ownEventTypes(ctx, s)...), Assistants: as, Type: q.Get("type"), Assistant: q.Get("assistant_id"),
		Conversation: q.Get("conversation_id"), From: q.Get("from"), To: q.Get("to"), Errors: map[string]string{}}
	eq := agenthooks.EventQuery{Type: data.Type, AssistantID: data.Assistant, ConversationID: data.Conversation,
		From: timeFilter(r, "from", data.Errors), To: timeFilter(r, "to", data.Errors), Summary: true}
	data.Search = readSearch(r)
	if data.Search.Error != "" {
		data.Errors["q"] = data.Search.Error
	}
	if data.Search.ID {
		path, err := d.findByID(ctx, s.account.ID, data.Search.Text, false)
		if err != nil {
			return err
		}
		if path != "" {
			http.Redirect(w, r, path, http.StatusSeeOther)
			return nil
		}
		data.Search.NotFound = "No event or delivery of this account has the id " + data.Search.Text + "."
	} else if data.Search.Text != "" {
		eq.Text, eq.From = data.Search.Text, data.Search.since(eq.From)
	}
	ws, err := d.webhookChoices(ctx, s.account.ID)
	if err != nil {
		return err
	}
	data.Names = webhookNames(ws)
	p := pageParam(r)
	if data.Search.NotFound == "" {
		l, err := d.svc.QueryEvents(ctx, s.account.ID, eq, p)
		if err != nil {
			return err
		}
		data.Items, data.Pager = l.Items, newPager(r, p, l.Total)
	}
	d.render(w, r, http.StatusOK, "events.html", s, view{Title: "Events", Nav: "events", D: data})
	return nil
}

type eventData struct {
	*service.EventView
	Webhooks map[string]string
}

func (d *Dashboard) showEvent(w http.ResponseWriter, r *http.Request, s *session) error {
	ev, err := d.svc.GetEvent(r.Context(), s.account.ID, r.PathValue("id"))
	if err != nil {
		return err
	}
	ws, err := d.webhookChoices(r.Context(), s.account.ID)
	if err != nil {
		return err
	}
	d.render(w, r, http.StatusOK, "event.html", s, view{Title: "Event " + ev.Type, Nav: "events", D: eventData{EventView: ev, Webhooks: webhookNames(ws)}})
	return nil
}

var deliveryStatuses = agenthooks.DeliveryStatuses

type deliveriesData struct {
	Items    []service.DeliveryRow
	Pager    pager
	Webhooks []*agenthooks.Webhook
	Names    map[string]string
	Statuses []string
	Webhook  string
	Status   string
	Search   search
	Event    string // the event whose deliveries are listed, searched by its id
}

func (d *Dashboard) listDeliveries(w http.ResponseWriter, r *http.Request, s *session) error {
	ctx, q := r.Context(), r.URL.Query()
	ws, err := d.webhookChoices(ctx, s.account.ID)
	if err != nil {
		return err
	}
	data := deliveriesData{Webhooks: ws, Names: webhookNames(ws), Statuses: deliveryStatuses, Webhook: q.Get("webhook_id"), Status: q.Get("status")}
	valid := false
	for _, st := range deliveryStatuses {
		valid = valid || st == data.Status
	}
	if !valid {
		data.Status = ""
	}
	f := agenthooks.DeliveryFilter{WebhookID: data.Webhook, Status: data.Status}
	data.Search = readSearch(r)
	if data.Search.ID {
		path, err := d.findByID(ctx, s.account.ID, data.Search.Text, true)
		if err != nil {
			return err
		}
		switch {
		case strings.HasPrefix(path, "/deliveries/"):
			http.Redirect(w, r, path, http.StatusSeeOther)
			return nil
		case path != "": // an event's id: its deliveries
			f.EventID, data.Event = data.Search.Text, data.Search.Text
		default:
			data.Search.NotFound = "No delivery or event of this account has the id " + data.Search.Text + "."
		}
	} else if data.Search.Text != "" {
		f.Text, f.From = data.Search.Text, data.Search.Since
	}
	p := pageParam(r)
	if data.Search.NotFound == "" {
		l, err := d.svc.ListDeliveryRows(ctx, s.account.ID, f, p)
		if err != nil {
			return err
		}
		data.Items, data.Pager = l.Items, newPager(r, p, l.Total)
	}
	d.render(w, r, http.StatusOK, "deliveries.html", s, view{Title: "Deliveries", Nav: "deliveries", D: data})
	return nil
}

// header is one request header as the dashboard shows it.
type header struct{ Name, Value string }

// attemptView is an attempt with the request headers it was sent with.
type attemptView struct {
	*agenthooks.Attempt
	Number  int
	Headers []header
	Broker  bool // published to a broker: Headers are the message's headers
}

type deliveryData struct {
	*service.DeliveryView
	Event    *agenthooks.Event
	Webhook  *agenthooks.Webhook // nil when deleted
	Attempts []attemptView       // newest first
	Polling  bool
}

// Last is the delivery's latest attempt, nil before the first.
func (d *deliveryData) Last() *agenthooks.Attempt {
	if len(d.Attempts) == 0 {
		return nil
	}
	return d.Attempts[0].Attempt
}

// requestHeaders are the headers an attempt was sent with, as the delivery
// workers set them (delivery/pool.go), without any secret: the signature is
// elided and extra header values, which may be credentials, are hidden.
func requestHeaders(userAgent, eventID string, wh *agenthooks.Webhook, a *agenthooks.Attempt) []header {
	if wh != nil && wh.Destination.Broker() {
		return messageHeaders(eventID, wh.Destination, a)
	}
	hs := append([]header{{"Content-Type", "application/json"}, {"User-Agent", userAgent}}, signedHeaders(eventID, a)...)
	if wh != nil {
		names := make([]string, 0, len(wh.Headers))
		for k := range wh.Headers {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			hs = append(hs, header{textproto.CanonicalMIMEHeaderKey(k), "•••••• (hidden)"})
		}
	}
	return hs
}

// signedHeaders are the Standard Webhooks headers every attempt carries,
// HTTP request or broker message, the signature elided.
func signedHeaders(eventID string, a *agenthooks.Attempt) []header {
	return []header{
		{"webhook-id", eventID},
		// The header is the second the attempt started, which is the
		// attempt's CreatedAt (delivery.Pool.attempt), exactly.
		{"webhook-timestamp", strconv.FormatInt(a.CreatedAt.Unix(), 10) + " (" + a.CreatedAt.UTC().Truncate(time.Second).Format(time.RFC3339) + ")"},
		{"webhook-signature", "v1,… (hidden: it is derived from the secret)"},
	}
}

// messageHeaders are a broker message's Standard Webhooks headers
// (destination.Message.Headers), and JetStream's deduplication id: no
// Content-Type or User-Agent, which only HTTP requests carry.
func messageHeaders(eventID string, dest *agenthooks.Destination, a *agenthooks.Attempt) []header {
	hs := signedHeaders(eventID, a)
	if dest.Type == agenthooks.DestinationNATS {
		hs = append(hs, header{"Nats-Msg-Id", eventID})
	}
	return hs
}

func (d *Dashboard) deliveryData(ctx context.Context, s *session, id string) (*deliveryData, error) {
	dv, err := d.svc.GetDelivery(ctx, s.account.ID, id)
	if err != nil {
		return nil, err
	}
	data := &deliveryData{DeliveryView: dv, Polling: dv.Status == agenthooks.DeliveryPending}
	if ev, err := d.svc.GetEvent(ctx, s.account.ID, dv.EventID); err == nil {
		data.Event = ev.Event
	} else if agenthooks.ErrorCode(err) != agenthooks.ENOTFOUND {
		return nil, err
	}
	if wh, err := d.svc.GetWebhook(ctx, s.account.ID, dv.WebhookID); err == nil {
		data.Webhook = wh
	} else if agenthooks.ErrorCode(err) != agenthooks.ENOTFOUND {
		return nil, err
	}
	for i := len(dv.Attempts) - 1; i >= 0; i-- {
		a := dv.Attempts[i]
		data.Attempts = append(data.Attempts, attemptView{Attempt: a, Number: i + 1, Headers: requestHeaders(d.opts.UserAgent, dv.EventID, data.Webhook, a),
			Broker: data.Webhook != nil && data.Webhook.Destination.Broker()})
	}
	return data, nil
}

// showDelivery shows a delivery with its attempts. While it is pending, the
// attempts panel refreshes itself (htmx, hx-get every 2 s); without
// JavaScript a Refresh link does the same.
func (d *Dashboard) showDelivery(w http.ResponseWriter, r *http.Request, s *session) error {
	data, err := d.deliveryData(r.Context(), s, r.PathValue("id"))
	if err != nil {
		return err
	}
	d.render(w, r, http.StatusOK, "delivery.html", s, view{Title: "Delivery", Nav: "deliveries", D: data})
	return nil
}

func (d *Dashboard) retryDelivery(w http.ResponseWriter, r *http.Request, s *session) error {
	id := r.PathValue("id")
	if _, err := d.svc.RetryDelivery(r.Context(), s.account.ID, id); err != nil {
		return err
	}
	http.Redirect(w, r, "/deliveries/"+id+"?flash=retried", http.StatusSeeOther)
	return nil
}

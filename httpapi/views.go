package httpapi

import (
	"encoding/json"
	"time"

	"github.com/agenthooks/agenthooks"
	"github.com/agenthooks/agenthooks/payload"
)

// rfc3339 renders API timestamps: RFC 3339 in UTC, null for the zero time.
func rfc3339(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := t.UTC().Format(time.RFC3339Nano)
	return &s
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

type webhookView struct {
	ID             string            `json:"id" oapi:"uuid"`
	Name           string            `json:"name"`
	Endpoint       string            `json:"endpoint" oapi:"uri" doc:"Where deliveries are POSTed."`
	Enabled        bool              `json:"enabled" doc:"A disabled webhook gets no new events; its pending deliveries wait until it is enabled again."`
	DisabledReason *string           `json:"disabled_reason" oapi:"enum=disabled_reason" doc:"null, or why the webhook was disabled: gone (the endpoint answered 410), failing (every delivery failed for AGENTHOOKS_DISABLE_AFTER), manual."`
	Events         []string          `json:"events" oapi:"enum=event_type" doc:"The event types it receives (every type when it was created without a list)."`
	Ordering       string            `json:"ordering" oapi:"enum=ordering" doc:"conversation delivers one conversation's events to this webhook strictly in creation order."`
	Headers        map[string]string `json:"headers" doc:"Extra request headers sent with every delivery."`
	RateLimit      *float64          `json:"rate_limit" doc:"Requests per second, null for none."`
	CreatedAt      *string           `json:"created_at" oapi:"date-time,notnull" doc:"RFC 3339, UTC."`
	UpdatedAt      *string           `json:"updated_at" oapi:"date-time,notnull" doc:"RFC 3339, UTC."`
	Secret         string            `json:"secret,omitempty"`

	Destination *destinationView `json:"destination" oapi:"notnull"` // destination.go
	TLS         *webhookTLSView  `json:"tls"`                        // httpapi/webhooktls.go

	Transformation *transformationView `json:"transformation"` // httpapi/transform.go

	Filter         *json.RawMessage `json:"filter" oapi:"free" doc:"The filter in Convoy's syntax (docs/events.md, Filters): events it does not match get no delivery. Null: every event."` // httpapi/filter.go
	EventsFiltered int64            `json:"events_filtered" doc:"How many events the filter dropped."`
}

func newWebhookView(w *agenthooks.Webhook, withSecret bool) webhookView {
	events := w.Events
	if len(events) == 0 {
		events = agenthooks.DefaultEventTypes
	}
	headers := w.Headers
	if headers == nil {
		headers = map[string]string{}
	}
	v := webhookView{ID: w.ID, Name: w.Name, Endpoint: w.Endpoint, Enabled: w.Enabled, DisabledReason: nullable(w.DisabledReason),
		Events: events, Ordering: w.Ordering, Headers: headers, RateLimit: w.RateLimit, CreatedAt: rfc3339(w.CreatedAt), UpdatedAt: rfc3339(w.UpdatedAt)}
	v.TLS = newWebhookTLSView(w.TLS)
	v.Transformation = newTransformationView(w.Transformation)
	v.Filter, v.EventsFiltered = filterView(w), w.EventsFiltered
	if withSecret {
		v.Secret = w.Secret
	}
	v.Destination = newDestinationView(w.Destination)
	return v
}

// assistantView is Insighto's assistant (its 17 fields, voice a boolean) and
// ours: voice_name, intent_ids, created_at, updated_at.
type assistantView struct {
	ID             string          `json:"id" oapi:"uuid"`
	OrgID          string          `json:"org_id" oapi:"uuid" doc:"The account's id (Insighto's organisation)."`
	Name           *string         `json:"name" doc:"Optional, as Insighto's; null when none was given."`
	AssistantType  string          `json:"assistant_type" doc:"One of Insighto's assistant types (an assistant created before this API took Insighto's types keeps the type it was given)."`
	WebhookID      *string         `json:"webhook_id" oapi:"uuid" doc:"The webhook assigned to it, or null."`
	Description    string          `json:"description"`
	LLMModel       string          `json:"llm_model"`
	SystemPrompt   string          `json:"system_prompt"`
	Voice          bool            `json:"voice" doc:"Insighto's: the assistant speaks. An assistant stored with a voice name before voice became a boolean reads true."`
	VoiceName      *string         `json:"voice_name" doc:"The voice it speaks with (this API's voice string before it took Insighto's boolean); null when none."`
	VoiceLanguages []string        `json:"voice_languages"`
	Attributes     json.RawMessage `json:"attributes" doc:"Free attributes."`
	agenthooks.AssistantProfile
	IntentIDs []string `json:"intent_ids" oapi:"uuid" doc:"The intents it uses (POST /assistant/{id}/intent/{intent_id}), in their creation order."`
	CreatedAt *string  `json:"created_at" oapi:"date-time,notnull" doc:"RFC 3339, UTC."`
	UpdatedAt *string  `json:"updated_at" oapi:"date-time,notnull" doc:"RFC 3339, UTC."`
}

func newAssistantView(a *agenthooks.Assistant) assistantView {
	v := assistantView{ID: a.ID, OrgID: a.AccountID, Name: nullable(a.Name), AssistantType: a.AssistantType, WebhookID: nullable(a.WebhookID),
		Description: a.Description, LLMModel: a.LLMModel, SystemPrompt: a.SystemPrompt, Voice: a.Voice, VoiceName: nullable(a.VoiceName),
		VoiceLanguages: a.VoiceLanguages, Attributes: a.Attributes, AssistantProfile: withDefaults(a.Profile), IntentIDs: a.IntentIDs,
		CreatedAt: rfc3339(a.CreatedAt), UpdatedAt: rfc3339(a.UpdatedAt)}
	if v.VoiceLanguages == nil {
		v.VoiceLanguages = []string{}
	}
	if len(v.Attributes) == 0 {
		v.Attributes = json.RawMessage("{}")
	}
	if v.IntentIDs == nil {
		v.IntentIDs = []string{}
	}
	return v
}

// widgetView is Insighto's widget (its 29 fields) and our created_at.
type widgetView struct {
	ID          string  `json:"id" oapi:"uuid"`
	OrgID       string  `json:"org_id" oapi:"uuid" doc:"The account's id (Insighto's organisation)."`
	AssistantID *string `json:"assistant_id" oapi:"uuid" doc:"Its assistant; null when none yet (it takes no conversations until it has one: POST /conversation answers 422 on widget_id)."`
	Name        *string `json:"name" doc:"Optional, as Insighto's; null when none was given."`
	WidgetType  string  `json:"widget_type" oapi:"enum=widget_type"`
	agenthooks.WidgetProfile
	CreatedAt *string `json:"created_at" oapi:"date-time,notnull" doc:"RFC 3339, UTC."`
}

func newWidgetView(w *agenthooks.Widget) widgetView {
	return widgetView{ID: w.ID, OrgID: w.AccountID, AssistantID: nullable(w.AssistantID), Name: nullable(w.Name), WidgetType: w.WidgetType,
		WidgetProfile: withDefaults(w.Profile), CreatedAt: rfc3339(w.CreatedAt)}
}

type formView struct {
	ID        string                 `json:"id" oapi:"uuid"`
	Name      string                 `json:"name"`
	Fields    []agenthooks.FormField `json:"fields"`
	WebhookID *string                `json:"webhook_id" oapi:"uuid" doc:"The webhook that receives its submissions, or null."`
	CreatedAt *string                `json:"created_at" oapi:"date-time,notnull" doc:"RFC 3339, UTC."`
	UpdatedAt *string                `json:"updated_at" oapi:"date-time,notnull" doc:"RFC 3339, UTC."`
}

func newFormView(f *agenthooks.Form) formView {
	fields := f.Fields
	if fields == nil {
		fields = []agenthooks.FormField{}
	}
	return formView{ID: f.ID, Name: f.Name, Fields: fields, WebhookID: nullable(f.WebhookID), CreatedAt: rfc3339(f.CreatedAt), UpdatedAt: rfc3339(f.UpdatedAt)}
}

// intentView is Insighto's intent (its 6 fields) and our created_at.
type intentView struct {
	ID          string  `json:"id" oapi:"uuid"`
	Name        *string `json:"name" doc:"Optional, as Insighto's; null when none was given."`
	Description string  `json:"description"`
	agenthooks.IntentProfile
	CreatedAt *string `json:"created_at" oapi:"date-time,notnull" doc:"RFC 3339, UTC."`
}

func newIntentView(i *agenthooks.Intent) intentView {
	p := i.Profile
	active := i.Active()
	p.IsActive = &active
	return intentView{ID: i.ID, Name: nullable(i.Name), Description: i.Description, IntentProfile: withDefaults(p), CreatedAt: rfc3339(i.CreatedAt)}
}

// contactView is Insighto's contact (its 15 fields and phone_number): what
// a client sets, and what agenthooks derives from the contact's
// conversations (first and last assistant and widget, last_seen, last_sent).
type contactView struct {
	ID          string  `json:"id" oapi:"uuid"`
	OrgID       string  `json:"org_id" oapi:"uuid" doc:"The account's id (Insighto's organisation)."`
	FirstName   *string `json:"first_name"`
	LastName    *string `json:"last_name"`
	Email       *string `json:"email" doc:"Contains @."`
	PhoneNumber *string `json:"phone_number"`
	agenthooks.ContactProfile
	FirstAssistantID *string `json:"first_assistant_id" oapi:"uuid" doc:"Derived: the assistant of the contact's first conversation (by creation); null before any."`
	FirstWidgetID    *string `json:"first_widget_id" oapi:"uuid" doc:"Derived: the widget of the contact's first conversation (by creation); null before any."`
	LastAssistantID  *string `json:"last_assistant_id" oapi:"uuid" doc:"Derived: the assistant of the contact's last conversation (by creation); null before any."`
	LastWidgetID     *string `json:"last_widget_id" oapi:"uuid" doc:"Derived: the widget of the contact's last conversation (by creation); null before any."`
	LastSeen         *string `json:"last_seen" oapi:"date-time" doc:"Derived: the latest activity of any of its conversations; null before any."`
	LastSent         *string `json:"last_sent" oapi:"date-time" doc:"Derived: its latest message (sender_type user); null before any."`
	CreatedAt        *string `json:"created_at" oapi:"date-time,notnull" doc:"RFC 3339, UTC."`
}

func newContactView(c *agenthooks.Contact) contactView {
	a := c.Activity
	return contactView{ID: c.ID, OrgID: c.AccountID, FirstName: nullable(c.FirstName), LastName: nullable(c.LastName), Email: nullable(c.Email),
		PhoneNumber: nullable(c.PhoneNumber), ContactProfile: withDefaults(c.Profile),
		FirstAssistantID: nullable(a.FirstAssistantID), FirstWidgetID: nullable(a.FirstWidgetID),
		LastAssistantID: nullable(a.LastAssistantID), LastWidgetID: nullable(a.LastWidgetID),
		LastSeen: rfc3339(a.LastSeen), LastSent: rfc3339(a.LastSent), CreatedAt: rfc3339(c.CreatedAt)}
}

type messageView struct {
	ID             string  `json:"id" oapi:"uuid"`
	ConversationID string  `json:"conversation_id" oapi:"uuid"`
	SenderType     string  `json:"sender_type" oapi:"enum=sender_type"`
	MessageType    string  `json:"message_type" oapi:"enum=message_type"`
	Text           string  `json:"text"`
	CharCount      int     `json:"char_count" oapi:"min=0" doc:"Characters (runes) in text."`
	CreatedAt      *string `json:"created_at" oapi:"date-time,notnull" doc:"RFC 3339, UTC."`
}

func newMessageView(m *agenthooks.Message) messageView {
	return messageView{ID: m.ID, ConversationID: m.ConversationID, SenderType: m.SenderType, MessageType: m.MessageType, Text: m.Text,
		CharCount: len([]rune(m.Text)), CreatedAt: rfc3339(m.CreatedAt)}
}

type conversationView struct {
	ID             string          `json:"id" oapi:"uuid"`
	AssistantID    string          `json:"assistant_id" oapi:"uuid"`
	WidgetID       string          `json:"widget_id" oapi:"uuid"`
	ContactID      *string         `json:"contact_id" oapi:"uuid"`
	DeviceType     string          `json:"device_type" oapi:"enum=device_type"`
	Attributes     json.RawMessage `json:"attributes" doc:"Free attributes given at creation."`
	ChatCount      int             `json:"chat_count" oapi:"min=0" doc:"Messages so far."`
	FirstMessage   string          `json:"first_message" doc:"\"User: \" and the first message whose sender_type is user, or \"\" if none."`
	UniqueDeviceID *string         `json:"unique_device_id" doc:"Insighto's: as given at creation; null when none."`
	IncludesVoice  bool            `json:"includes_voice" doc:"Derived: a message of message_type voice was added."`
	Summary        *string         `json:"summary" doc:"As reported when it was closed (POST /conversation/{id}/close {summary}); null when none."`
	Status         string          `json:"status" oapi:"enum=conv_status" doc:"A closed conversation takes no messages, forms or intents (409)."`
	ClosedAt       *string         `json:"closed_at" oapi:"date-time" doc:"When it was closed; null while open."`
	LastActivityAt *string         `json:"last_activity_at" oapi:"date-time,notnull" doc:"The last message, form or intent (the idle close counts from it)."`
	CreatedAt      *string         `json:"created_at" oapi:"date-time,notnull" doc:"RFC 3339, UTC."`
	UpdatedAt      *string         `json:"updated_at" oapi:"date-time,notnull" doc:"RFC 3339, UTC."`
}

// conversationDetail is a conversation read by id, with its transcript.
type conversationDetail struct {
	conversationView
	Transcript []messageView `json:"transcript" oapi:"max=100" doc:"The last 100 messages at most, oldest first."`
}

func newConversationDetail(c *agenthooks.Conversation, transcript []*agenthooks.Message) conversationDetail {
	v := conversationDetail{conversationView: newConversationView(c), Transcript: make([]messageView, len(transcript))}
	for i, m := range transcript {
		v.Transcript[i] = newMessageView(m)
	}
	return v
}

func newConversationView(c *agenthooks.Conversation) conversationView {
	status := "open"
	if c.Closed {
		status = "closed"
	}
	attrs := c.Attributes
	if len(attrs) == 0 {
		attrs = json.RawMessage("{}")
	}
	v := conversationView{ID: c.ID, AssistantID: c.AssistantID, WidgetID: c.WidgetID, ContactID: nullable(c.ContactID), DeviceType: c.DeviceType,
		Attributes: attrs, ChatCount: c.ChatCount, FirstMessage: payload.FirstMessage(c), UniqueDeviceID: nullable(c.UniqueDeviceID),
		IncludesVoice: c.IncludesVoice, Summary: nullable(c.Summary), Status: status, ClosedAt: rfc3339(c.ClosedAt),
		LastActivityAt: rfc3339(c.LastActivityAt), CreatedAt: rfc3339(c.CreatedAt), UpdatedAt: rfc3339(c.UpdatedAt)}
	return v
}

// conversationRowView is a row of GET /conversation (and of a contact's
// conversations): the conversation and the names Insighto's rows show.
type conversationRowView struct {
	conversationView
	AssistantName    *string `json:"assistant_name" doc:"Derived: its assistant's name."`
	ContactFirstName *string `json:"contact_first_name" doc:"Derived: its contact's first name."`
	ContactLastName  *string `json:"contact_last_name" doc:"Derived: its contact's last name."`
	IntentName       *string `json:"intent_name" doc:"Derived: the name of the last intent it captured; null when none."`
	WidgetProvider   *string `json:"widget_provider" doc:"Derived: its widget's widget_provider."`
	WidgetType       *string `json:"widget_type" doc:"Derived: its widget's widget_type."`
}

func newConversationRowView(c *agenthooks.Conversation) conversationRowView {
	var r agenthooks.ConversationRow
	if c.Row != nil {
		r = *c.Row
	}
	return conversationRowView{conversationView: newConversationView(c), AssistantName: nullable(r.AssistantName),
		ContactFirstName: nullable(r.ContactFirstName), ContactLastName: nullable(r.ContactLastName), IntentName: nullable(r.IntentName),
		WidgetProvider: nullable(r.WidgetProvider), WidgetType: nullable(r.WidgetType)}
}

type capturedFormView struct {
	ID             string         `json:"id" oapi:"uuid"`
	ConversationID string         `json:"conversation_id" oapi:"uuid"`
	FormID         string         `json:"form_id" oapi:"uuid"`
	FieldValues    map[string]any `json:"field_values" doc:"Every value so far, by field name."`
	CreatedAt      *string        `json:"created_at" oapi:"date-time,notnull" doc:"RFC 3339, UTC."`
	UpdatedAt      *string        `json:"updated_at" oapi:"date-time,notnull" doc:"RFC 3339, UTC."`
}

func newCapturedFormView(c *agenthooks.CapturedForm) capturedFormView {
	return capturedFormView{ID: c.ID, ConversationID: c.ConversationID, FormID: c.FormID, FieldValues: c.FieldValues, CreatedAt: rfc3339(c.CreatedAt), UpdatedAt: rfc3339(c.UpdatedAt)}
}

type capturedIntentView struct {
	ID             string  `json:"id" oapi:"uuid"`
	ConversationID string  `json:"conversation_id" oapi:"uuid"`
	IntentID       string  `json:"intent_id" oapi:"uuid"`
	CreatedAt      *string `json:"created_at" oapi:"date-time,notnull" doc:"RFC 3339, UTC."`
}

type attemptView struct {
	ID           string  `json:"id" oapi:"uuid"`
	CreatedAt    *string `json:"created_at" oapi:"date-time,notnull" doc:"RFC 3339, UTC."`
	StatusCode   *int    `json:"status_code" doc:"The endpoint's status, null when no response came back."`
	DurationMS   int64   `json:"duration_ms" oapi:"min=0"`
	Error        *string `json:"error" doc:"Why the request failed (timeout, refused, ...), null when a response came back."`
	ResponseBody string  `json:"response_body" oapi:"max=4096" doc:"The first 4 KiB of the response."`

	// The request sent (a transformation may change all three); null for
	// attempts recorded before agenthooks kept them.
	RequestMethod *string `json:"request_method" doc:"The request's method (a transformation may change it); null for attempts recorded before agenthooks kept it."`
	RequestURL    *string `json:"request_url" doc:"The request's URL; null for attempts recorded before agenthooks kept it."`
	RequestBody   *string `json:"request_body" doc:"The first 4 KiB of the request's body; null for attempts recorded before agenthooks kept it."` // its first 4 KiB
}

type deliveryView struct {
	ID            string  `json:"id" oapi:"uuid"`
	EventID       string  `json:"event_id" oapi:"uuid"`
	WebhookID     string  `json:"webhook_id" oapi:"uuid"`
	Status        string  `json:"status" oapi:"enum=delivery_status"`
	AttemptCount  int     `json:"attempt_count" oapi:"min=0"`
	NextAttemptAt *string `json:"next_attempt_at" oapi:"date-time" doc:"When the next attempt is due; null once the delivery has ended."`
	LastError     *string `json:"last_error" doc:"Why the last attempt failed, or null."`
	CreatedAt     *string `json:"created_at" oapi:"date-time,notnull" doc:"RFC 3339, UTC."`
	UpdatedAt     *string `json:"updated_at" oapi:"date-time,notnull" doc:"RFC 3339, UTC."`
}

// deliveryDetail is a delivery read by id, with its attempts.
type deliveryDetail struct {
	deliveryView
	Attempts []attemptView `json:"attempts" doc:"Oldest first."`
}

func newDeliveryDetail(d *agenthooks.Delivery, attempts []*agenthooks.Attempt) deliveryDetail {
	v := deliveryDetail{deliveryView: newDeliveryView(d), Attempts: make([]attemptView, len(attempts))}
	for i, a := range attempts {
		av := attemptView{ID: a.ID, CreatedAt: rfc3339(a.CreatedAt), DurationMS: a.DurationMS, Error: nullable(a.Error), ResponseBody: a.ResponseBody,
			RequestMethod: nullable(a.RequestMethod), RequestURL: nullable(a.RequestURL), RequestBody: nullable(a.RequestBody)}
		if a.StatusCode != 0 {
			code := a.StatusCode
			av.StatusCode = &code
		}
		v.Attempts[i] = av
	}
	return v
}

func newDeliveryView(d *agenthooks.Delivery) deliveryView {
	v := deliveryView{ID: d.ID, EventID: d.EventID, WebhookID: d.WebhookID, Status: d.Status, AttemptCount: d.AttemptCount,
		NextAttemptAt: rfc3339(d.NextAttemptAt), LastError: nullable(d.LastError), CreatedAt: rfc3339(d.CreatedAt), UpdatedAt: rfc3339(d.UpdatedAt)}
	if d.Status != agenthooks.DeliveryPending {
		v.NextAttemptAt = nil
	}
	return v
}

type eventView struct {
	ID             string          `json:"id" oapi:"uuid" doc:"UUIDv7: sorting by id gives creation order."`
	Event          string          `json:"event" oapi:"enum=sent_event_type"`
	ConversationID *string         `json:"conversation_id" oapi:"uuid" doc:"null for events outside a conversation (webhook.test)."`
	CreatedAt      *string         `json:"created_at" oapi:"date-time,notnull" doc:"RFC 3339, UTC."`
	Payload        json.RawMessage `json:"payload" oapi:"ref=EventEnvelope"`
}

func newEventView(e *agenthooks.Event) eventView {
	return eventView{ID: e.ID, Event: e.Type, ConversationID: nullable(e.ConversationID), CreatedAt: rfc3339(e.CreatedAt), Payload: e.Payload}
}

// eventDetail is an event read by id, with its deliveries.
type eventDetail struct {
	eventView
	Deliveries []deliveryView `json:"deliveries"`
}

func newEventDetail(e *agenthooks.Event, deliveries []*agenthooks.Delivery) eventDetail {
	v := eventDetail{eventView: newEventView(e), Deliveries: make([]deliveryView, len(deliveries))}
	for i, d := range deliveries {
		v.Deliveries[i] = newDeliveryView(d)
	}
	return v
}

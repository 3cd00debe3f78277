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
	ID             string            `json:"id"`
	Name           string            `json:"name"`
	Endpoint       string            `json:"endpoint"`
	Enabled        bool              `json:"enabled"`
	DisabledReason *string           `json:"disabled_reason"`
	Events         []string          `json:"events"`
	Ordering       string            `json:"ordering"`
	Headers        map[string]string `json:"headers"`
	RateLimit      *float64          `json:"rate_limit"`
	CreatedAt      *string           `json:"created_at"`
	UpdatedAt      *string           `json:"updated_at"`
	Secret         string            `json:"secret,omitempty"`

	Destination *destinationView `json:"destination"` // destination.go
	TLS         *webhookTLSView  `json:"tls"`         // httpapi/webhooktls.go

	Transformation *transformationView `json:"transformation"` // httpapi/transform.go
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
	if withSecret {
		v.Secret = w.Secret
	}
	v.Destination = newDestinationView(w.Destination)
	return v
}

// assistantView is Insighto's assistant (its 17 fields, voice a boolean) and
// ours: voice_name, intent_ids, created_at, updated_at.
type assistantView struct {
	ID             string          `json:"id"`
	OrgID          string          `json:"org_id"`
	Name           *string         `json:"name"`
	AssistantType  string          `json:"assistant_type"`
	WebhookID      *string         `json:"webhook_id"`
	Description    string          `json:"description"`
	LLMModel       string          `json:"llm_model"`
	SystemPrompt   string          `json:"system_prompt"`
	Voice          bool            `json:"voice"`
	VoiceName      *string         `json:"voice_name"`
	VoiceLanguages []string        `json:"voice_languages"`
	Attributes     json.RawMessage `json:"attributes"`
	agenthooks.AssistantProfile
	IntentIDs []string `json:"intent_ids"`
	CreatedAt *string  `json:"created_at"`
	UpdatedAt *string  `json:"updated_at"`
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
	ID          string  `json:"id"`
	OrgID       string  `json:"org_id"`
	AssistantID *string `json:"assistant_id"`
	Name        *string `json:"name"`
	WidgetType  string  `json:"widget_type"`
	agenthooks.WidgetProfile
	CreatedAt *string `json:"created_at"`
}

func newWidgetView(w *agenthooks.Widget) widgetView {
	return widgetView{ID: w.ID, OrgID: w.AccountID, AssistantID: nullable(w.AssistantID), Name: nullable(w.Name), WidgetType: w.WidgetType,
		WidgetProfile: withDefaults(w.Profile), CreatedAt: rfc3339(w.CreatedAt)}
}

type formView struct {
	ID        string                 `json:"id"`
	Name      string                 `json:"name"`
	Fields    []agenthooks.FormField `json:"fields"`
	WebhookID *string                `json:"webhook_id"`
	CreatedAt *string                `json:"created_at"`
	UpdatedAt *string                `json:"updated_at"`
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
	ID          string  `json:"id"`
	Name        *string `json:"name"`
	Description string  `json:"description"`
	agenthooks.IntentProfile
	CreatedAt *string `json:"created_at"`
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
	ID          string  `json:"id"`
	OrgID       string  `json:"org_id"`
	FirstName   *string `json:"first_name"`
	LastName    *string `json:"last_name"`
	Email       *string `json:"email"`
	PhoneNumber *string `json:"phone_number"`
	agenthooks.ContactProfile
	FirstAssistantID *string `json:"first_assistant_id"`
	FirstWidgetID    *string `json:"first_widget_id"`
	LastAssistantID  *string `json:"last_assistant_id"`
	LastWidgetID     *string `json:"last_widget_id"`
	LastSeen         *string `json:"last_seen"`
	LastSent         *string `json:"last_sent"`
	CreatedAt        *string `json:"created_at"`
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
	ID             string  `json:"id"`
	ConversationID string  `json:"conversation_id"`
	SenderType     string  `json:"sender_type"`
	MessageType    string  `json:"message_type"`
	Text           string  `json:"text"`
	CharCount      int     `json:"char_count"`
	CreatedAt      *string `json:"created_at"`
}

func newMessageView(m *agenthooks.Message) messageView {
	return messageView{ID: m.ID, ConversationID: m.ConversationID, SenderType: m.SenderType, MessageType: m.MessageType, Text: m.Text,
		CharCount: len([]rune(m.Text)), CreatedAt: rfc3339(m.CreatedAt)}
}

type conversationView struct {
	ID             string          `json:"id"`
	AssistantID    string          `json:"assistant_id"`
	WidgetID       string          `json:"widget_id"`
	ContactID      *string         `json:"contact_id"`
	DeviceType     string          `json:"device_type"`
	Attributes     json.RawMessage `json:"attributes"`
	ChatCount      int             `json:"chat_count"`
	FirstMessage   string          `json:"first_message"`
	UniqueDeviceID *string         `json:"unique_device_id"`
	IncludesVoice  bool            `json:"includes_voice"`
	Summary        *string         `json:"summary"`
	Status         string          `json:"status"`
	ClosedAt       *string         `json:"closed_at"`
	LastActivityAt *string         `json:"last_activity_at"`
	CreatedAt      *string         `json:"created_at"`
	UpdatedAt      *string         `json:"updated_at"`
}

// conversationDetail is a conversation read by id, with its transcript.
type conversationDetail struct {
	conversationView
	Transcript []messageView `json:"transcript"`
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
	AssistantName    *string `json:"assistant_name"`
	ContactFirstName *string `json:"contact_first_name"`
	ContactLastName  *string `json:"contact_last_name"`
	IntentName       *string `json:"intent_name"`
	WidgetProvider   *string `json:"widget_provider"`
	WidgetType       *string `json:"widget_type"`
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
	ID             string         `json:"id"`
	ConversationID string         `json:"conversation_id"`
	FormID         string         `json:"form_id"`
	FieldValues    map[string]any `json:"field_values"`
	CreatedAt      *string        `json:"created_at"`
	UpdatedAt      *string        `json:"updated_at"`
}

func newCapturedFormView(c *agenthooks.CapturedForm) capturedFormView {
	return capturedFormView{ID: c.ID, ConversationID: c.ConversationID, FormID: c.FormID, FieldValues: c.FieldValues, CreatedAt: rfc3339(c.CreatedAt), UpdatedAt: rfc3339(c.UpdatedAt)}
}

type capturedIntentView struct {
	ID             string  `json:"id"`
	ConversationID string  `json:"conversation_id"`
	IntentID       string  `json:"intent_id"`
	CreatedAt      *string `json:"created_at"`
}

type attemptView struct {
	ID           string  `json:"id"`
	CreatedAt    *string `json:"created_at"`
	StatusCode   *int    `json:"status_code"`
	DurationMS   int64   `json:"duration_ms"`
	Error        *string `json:"error"`
	ResponseBody string  `json:"response_body"`

	// The request sent (a transformation may change all three); null for
	// attempts recorded before agenthooks kept them.
	RequestMethod *string `json:"request_method"`
	RequestURL    *string `json:"request_url"`
	RequestBody   *string `json:"request_body"` // its first 4 KiB
}

type deliveryView struct {
	ID            string  `json:"id"`
	EventID       string  `json:"event_id"`
	WebhookID     string  `json:"webhook_id"`
	Status        string  `json:"status"`
	AttemptCount  int     `json:"attempt_count"`
	NextAttemptAt *string `json:"next_attempt_at"`
	LastError     *string `json:"last_error"`
	CreatedAt     *string `json:"created_at"`
	UpdatedAt     *string `json:"updated_at"`
}

// deliveryDetail is a delivery read by id, with its attempts.
type deliveryDetail struct {
	deliveryView
	Attempts []attemptView `json:"attempts"`
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
	ID             string          `json:"id"`
	Event          string          `json:"event"`
	ConversationID *string         `json:"conversation_id"`
	CreatedAt      *string         `json:"created_at"`
	Payload        json.RawMessage `json:"payload"`
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

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
	if withSecret {
		v.Secret = w.Secret
	}
	v.Destination = newDestinationView(w.Destination)
	return v
}

type assistantView struct {
	ID             string          `json:"id"`
	Name           string          `json:"name"`
	AssistantType  string          `json:"assistant_type"`
	WebhookID      *string         `json:"webhook_id"`
	Description    string          `json:"description"`
	LLMModel       string          `json:"llm_model"`
	SystemPrompt   string          `json:"system_prompt"`
	Voice          string          `json:"voice"`
	VoiceLanguages []string        `json:"voice_languages"`
	Attributes     json.RawMessage `json:"attributes"`
	IntentIDs      []string        `json:"intent_ids"`
	CreatedAt      *string         `json:"created_at"`
	UpdatedAt      *string         `json:"updated_at"`
}

func newAssistantView(a *agenthooks.Assistant) assistantView {
	v := assistantView{ID: a.ID, Name: a.Name, AssistantType: a.AssistantType, WebhookID: nullable(a.WebhookID),
		Description: a.Description, LLMModel: a.LLMModel, SystemPrompt: a.SystemPrompt, Voice: a.Voice,
		VoiceLanguages: a.VoiceLanguages, Attributes: a.Attributes, IntentIDs: a.IntentIDs,
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

type widgetView struct {
	ID          string  `json:"id"`
	AssistantID string  `json:"assistant_id"`
	Name        string  `json:"name"`
	WidgetType  string  `json:"widget_type"`
	CreatedAt   *string `json:"created_at"`
}

func newWidgetView(w *agenthooks.Widget) widgetView {
	return widgetView{ID: w.ID, AssistantID: w.AssistantID, Name: w.Name, WidgetType: w.WidgetType, CreatedAt: rfc3339(w.CreatedAt)}
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

type intentView struct {
	ID          string  `json:"id"`
	Name        string  `json:"name"`
	Description string  `json:"description"`
	CreatedAt   *string `json:"created_at"`
}

func newIntentView(i *agenthooks.Intent) intentView {
	return intentView{ID: i.ID, Name: i.Name, Description: i.Description, CreatedAt: rfc3339(i.CreatedAt)}
}

type contactView struct {
	ID          string  `json:"id"`
	FirstName   *string `json:"first_name"`
	LastName    *string `json:"last_name"`
	Email       *string `json:"email"`
	PhoneNumber *string `json:"phone_number"`
	CreatedAt   *string `json:"created_at"`
}

func newContactView(c *agenthooks.Contact) contactView {
	return contactView{ID: c.ID, FirstName: nullable(c.FirstName), LastName: nullable(c.LastName), Email: nullable(c.Email),
		PhoneNumber: nullable(c.PhoneNumber), CreatedAt: rfc3339(c.CreatedAt)}
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
		Attributes: attrs, ChatCount: c.ChatCount, FirstMessage: payload.FirstMessage(c), Status: status, ClosedAt: rfc3339(c.ClosedAt),
		LastActivityAt: rfc3339(c.LastActivityAt), CreatedAt: rfc3339(c.CreatedAt), UpdatedAt: rfc3339(c.UpdatedAt)}
	return v
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
		av := attemptView{ID: a.ID, CreatedAt: rfc3339(a.CreatedAt), DurationMS: a.DurationMS, Error: nullable(a.Error), ResponseBody: a.ResponseBody}
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

package agenthooks

import (
	"encoding/json"
	"time"
)

// Event types; EventTable (eventtype.go) describes each.
const (
	EventCapturedFormCreated   = "captured_form.created"
	EventCapturedFormUpdated   = "captured_form.updated"
	EventCapturedIntentCreated = "captured_intent.created"
	EventConversationClosed    = "conversation.closed"
	EventConversationUpdated   = "conversation.updated"
	EventWebhookTest           = "webhook.test"
	// Operational events: sent only to the webhooks whose events list names
	// them (IsOperational), about the account's other webhooks.
	EventWebhookDisabled = "webhook.disabled"
	EventDeliveryFailed  = "delivery.failed"
)

// Delivery statuses.
const (
	DeliveryPending   = "pending"
	DeliverySucceeded = "succeeded"
	DeliveryFailed    = "failed"
)

// Reasons a webhook is disabled.
const (
	DisabledGone    = "gone"    // the endpoint answered 410 Gone
	DisabledFailing = "failing" // every delivery failed for AGENTHOOKS_DISABLE_AFTER
	DisabledManual  = "manual"  // a user set enabled=false
)

// Ordering modes of a webhook.
const (
	OrderingNone         = "none"
	OrderingConversation = "conversation"
)

// Account owns every other resource. API keys are stored as hashes only.
type Account struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
}

// Webhook is a named endpoint that receives events. Secret signs deliveries;
// during a rotation PreviousSecret signs alongside until PreviousSecretUntil.
type Webhook struct {
	ID                  string
	AccountID           string
	Name                string
	Endpoint            string
	Enabled             bool
	DisabledReason      string // "" when enabled or never disabled
	Events              []string
	Ordering            string
	Headers             map[string]string
	RateLimit           *float64
	Secret              string
	PreviousSecret      string
	PreviousSecretUntil time.Time
	FailingSince        time.Time // zero unless every delivery since then failed
	CreatedAt           time.Time
	UpdatedAt           time.Time

	TLS *WebhookTLS // nil: system roots, no client certificate (webhooktls.go)
}

// Subscribed reports whether the webhook receives events of type t: those
// its events list names, or without a list, DefaultEventTypes.
func (w *Webhook) Subscribed(t string) bool {
	if len(w.Events) == 0 {
		et, ok := LookupEventType(t)
		return ok && et.Kind == KindConversation
	}
	for _, e := range w.Events {
		if e == t {
			return true
		}
	}
	return false
}

// Assistant is an AI agent; WebhookID is the webhook assigned to it ("Assign Webhook").
// The descriptive fields (Description to Attributes) are Insighto's: they are
// kept and returned, nothing more.
type Assistant struct {
	ID             string
	AccountID      string
	Name           string
	AssistantType  string // one of AssistantTypes
	WebhookID      string // "" when none
	Description    string
	LLMModel       string
	SystemPrompt   string
	Voice          string
	VoiceLanguages []string
	Attributes     json.RawMessage // a JSON object
	// IntentIDs are the intents the assistant uses, in their creation order.
	// The store keeps them apart (Tx.AssistantIntentIDs): FindAssistant and
	// ListAssistants leave IntentIDs nil, and the service fills it in.
	IntentIDs []string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Widget is a channel through which an assistant talks (chat, phone, ...).
type Widget struct {
	ID          string
	AccountID   string
	AssistantID string
	Name        string
	WidgetType  string
	CreatedAt   time.Time
}

// FormField is one field of a form.
type FormField struct {
	Name     string `json:"name"`
	Type     string `json:"type"`
	Required bool   `json:"required"`
}

// FieldTypes lists the accepted form field types.
var FieldTypes = []string{"text", "textarea", "date", "checkbox", "select", "gdpr", "tel"}

// Form is a form an assistant asks visitors to fill; WebhookID receives its submissions.
type Form struct {
	ID        string
	AccountID string
	Name      string
	Fields    []FormField
	WebhookID string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Intent is a named user intention an assistant can capture (e.g. SALES).
type Intent struct {
	ID          string
	AccountID   string
	Name        string
	Description string
	CreatedAt   time.Time
}

// Contact is a known visitor.
type Contact struct {
	ID          string
	AccountID   string
	FirstName   string
	LastName    string
	Email       string
	PhoneNumber string
	CreatedAt   time.Time
}

// DeviceTypes lists the accepted device types of a conversation.
var DeviceTypes = []string{"desktop", "mobile", "tablet", "phone", "native"}

// Conversation is one visitor's session with an assistant through a widget.
type Conversation struct {
	ID             string
	AccountID      string
	AssistantID    string
	WidgetID       string
	ContactID      string // "" when none
	DeviceType     string
	Attributes     json.RawMessage // a JSON object
	ChatCount      int
	FirstMessage   string // the first user message's text, "" if none yet
	Closed         bool
	ClosedAt       time.Time
	LastActivityAt time.Time
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// Message sender and kind values.
var (
	SenderTypes  = []string{"user", "bot", "agent", "tool"}
	MessageTypes = []string{"text", "voice"}
)

// Message is one message of a conversation.
type Message struct {
	ID             string
	AccountID      string
	ConversationID string
	SenderType     string
	MessageType    string
	Text           string
	CreatedAt      time.Time
}

// CapturedForm is a form submitted in a conversation; FieldValues holds every value so far.
type CapturedForm struct {
	ID             string
	AccountID      string
	ConversationID string
	FormID         string
	FieldValues    map[string]any
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// CapturedIntent is an intent captured in a conversation.
type CapturedIntent struct {
	ID             string
	AccountID      string
	ConversationID string
	IntentID       string
	CreatedAt      time.Time
}

// Event is one webhook event as sent: Payload holds the exact envelope bytes that are signed.
type Event struct {
	ID             string
	AccountID      string
	Type           string
	ConversationID string // "" for events outside a conversation (webhook.test)
	Payload        json.RawMessage
	CreatedAt      time.Time
}

// Delivery is one event on its way to one webhook.
type Delivery struct {
	ID             string
	AccountID      string
	EventID        string
	WebhookID      string
	ConversationID string
	Status         string
	AttemptCount   int
	NextAttemptAt  time.Time // zero when the delivery has ended
	LastError      string
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// Attempt is one HTTP request of a delivery. StatusCode is 0 when no response
// came back; Error is "" when the request got a response.
type Attempt struct {
	ID           string
	DeliveryID   string
	AccountID    string
	CreatedAt    time.Time
	StatusCode   int
	DurationMS   int64
	Error        string
	ResponseBody string
}

// IdempotencyTTL is how long the first response to an Idempotency-Key is replayed.
const IdempotencyTTL = 24 * time.Hour

// Idempotency records the first response to an Idempotency-Key. Running is
// true while the first request is still being served.
type Idempotency struct {
	Fingerprint string
	Running     bool
	Status      int
	Response    []byte
	CreatedAt   time.Time
}

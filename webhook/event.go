package webhook

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Event types sent by agenthooks, the value of Event.Type.
const (
	// EventCapturedFormCreated fires when a user submits a form in a conversation. Data: CapturedForm.
	EventCapturedFormCreated = "captured_form.created"
	// EventCapturedFormUpdated fires when a captured form's values change. Data: CapturedForm.
	EventCapturedFormUpdated = "captured_form.updated"
	// EventCapturedIntentCreated fires when a user's intent is captured. Data: CapturedIntent.
	EventCapturedIntentCreated = "captured_intent.created"
	// EventConversationClosed fires once when a conversation ends. Data: Conversation.
	EventConversationClosed = "conversation.closed"
	// EventConversationUpdated fires on each new message of a conversation. Data: Conversation.
	EventConversationUpdated = "conversation.updated"
	// EventWebhookTest is sent by the "test" action of a webhook. Data: Test.
	EventWebhookTest = "webhook.test"
	// EventWebhookDisabled fires when another webhook of the account is
	// disabled; sent only to webhooks whose events name it. Data: WebhookDisabled.
	EventWebhookDisabled = "webhook.disabled"
	// EventDeliveryFailed fires when a delivery to another webhook of the
	// account ends failed; sent only to webhooks whose events name it. Data: DeliveryFailed.
	EventDeliveryFailed = "delivery.failed"
)

// The spellings used by the examples of Insighto's original help article.
// Decode accepts them too, so that payloads captured from Insighto still decode.
const (
	legacyCapturedFormCreated   = "capturedform.created"
	legacyCapturedIntentCreated = "capturedintent.created"
)

// TimeLayout is the time.Parse layout of the timestamps in payloads, such as
// Event.CreatedAt and Message.CreatedAt: UTC as "YYYY-MM-DD HH:MM:SS".
const TimeLayout = time.DateTime

// ErrUnknownEventType was returned by Event.Decode for an event type this
// version of the package does not know. Decode now returns such an event's
// data as a json.RawMessage instead (a platform publishes event types of its
// own: POST /event), so it no longer returns this error; the variable stays
// so that code checking for it still compiles.
//
// Deprecated: check for a json.RawMessage from Decode.
var ErrUnknownEventType = errors.New("webhook: unknown event type")

// Event is the envelope of every delivery. Data holds the type-specific part;
// Decode turns it into one of the typed structs.
type Event struct {
	// ID is the event id (a UUIDv7), equal to the webhook-id header and the same on every attempt.
	ID string `json:"id"`
	// Object is always "event".
	Object string `json:"object"`
	// Type is the event type, one of the Event constants.
	Type string `json:"event"`
	// CreatedAt is when the event happened, in UTC, formatted with TimeLayout. See CreatedTime.
	CreatedAt string `json:"created_at"`
	// Data is the raw type-specific payload.
	Data json.RawMessage `json:"data"`
}

// Parse decodes a delivery body into its envelope. It returns an error if body
// is not a JSON object or lacks the id or event field. Unknown fields are ignored.
func Parse(body []byte) (*Event, error) {
	var e Event
	if err := json.Unmarshal(body, &e); err != nil {
		return nil, fmt.Errorf("webhook: parse event: %w", err)
	}
	if e.ID == "" || e.Type == "" {
		return nil, errors.New(`webhook: parse event: missing "id" or "event"`)
	}
	return &e, nil
}

// CreatedTime returns CreatedAt as a time.Time in UTC.
func (e *Event) CreatedTime() (time.Time, error) {
	return ParseTime(e.CreatedAt)
}

// Decode returns Data decoded into the struct of the event type: a
// *CapturedForm, *CapturedIntent, *Conversation, *Test, *WebhookDisabled or
// *DeliveryFailed. Fields it does not know are ignored, so newer payloads
// still decode. Any other type (one the platform defined itself and
// published, or one newer than this package) decodes as the raw data, a
// json.RawMessage holding a JSON object, without error: unmarshal it into
// your own struct. Only data that is not a JSON object is an error then.
func (e *Event) Decode() (any, error) {
	var v any
	switch e.Type {
	case EventCapturedFormCreated, EventCapturedFormUpdated, legacyCapturedFormCreated:
		v = new(CapturedForm)
	case EventCapturedIntentCreated, legacyCapturedIntentCreated:
		v = new(CapturedIntent)
	case EventConversationClosed, EventConversationUpdated:
		v = new(Conversation)
	case EventWebhookTest:
		v = new(Test)
	case EventWebhookDisabled:
		v = new(WebhookDisabled)
	case EventDeliveryFailed:
		v = new(DeliveryFailed)
	default:
		raw := bytes.TrimSpace(e.Data)
		if len(raw) == 0 || raw[0] != '{' || !json.Valid(raw) {
			return nil, fmt.Errorf("webhook: decode %s data: not a JSON object", e.Type)
		}
		return json.RawMessage(bytes.Clone(raw)), nil
	}
	if err := json.Unmarshal(e.Data, v); err != nil {
		return nil, fmt.Errorf("webhook: decode %s data: %w", e.Type, err)
	}
	return v, nil
}

// ParseTime parses a payload timestamp written with TimeLayout, as UTC.
func ParseTime(s string) (time.Time, error) {
	t, err := time.Parse(TimeLayout, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("webhook: parse time: %w", err)
	}
	return t, nil
}

// CapturedForm is the data of captured_form.created and captured_form.updated.
type CapturedForm struct {
	// FormID is the id of the form definition.
	FormID string `json:"form_id"`
	// FormName is the form's name.
	FormName string `json:"form_name"`
	// WidgetID is the widget the conversation runs in.
	WidgetID string `json:"widget_id"`
	// AssistantID is the conversation's assistant.
	AssistantID string `json:"assistant_id"`
	// FieldValues holds all values captured so far, by field name.
	FieldValues map[string]any `json:"field_values"`
	// ConversationID is the conversation the form was captured in.
	ConversationID string `json:"conversation_id"`
	// CapturedFormID identifies this capture; updates carry the same id.
	CapturedFormID string `json:"captured_form_id"`
	// DeviceType is the conversation's device: desktop, mobile, tablet, phone or native.
	DeviceType string `json:"device_type"`
	// Attributes are the conversation's custom attributes.
	Attributes map[string]any `json:"attributes"`
}

// CapturedIntent is the data of captured_intent.created.
type CapturedIntent struct {
	// IntentID is the id of the intent definition.
	IntentID string `json:"intent_id"`
	// ChatCount is the number of messages in the conversation so far.
	ChatCount int `json:"chat_count"`
	// IntentName is the intent's name, such as "SALES".
	IntentName string `json:"intent_name"`
	// DeviceType is the conversation's device: desktop, mobile, tablet, phone or native.
	DeviceType string `json:"device_type"`
	// WidgetID is the widget the conversation runs in.
	WidgetID string `json:"widget_id"`
	// AssistantID is the conversation's assistant.
	AssistantID string `json:"assistant_id"`
	// ConversationID is the conversation the intent was captured in.
	ConversationID string `json:"conversation_id"`
}

// Conversation is the data of conversation.closed and conversation.updated.
type Conversation struct {
	// WidgetID is the widget the conversation runs in.
	WidgetID string `json:"widget_id"`
	// ChatCount is the number of messages in the conversation so far (all of
	// them, even when Transcript is cut to the last 100).
	ChatCount int `json:"chat_count"`
	// ContactID is the conversation's contact, nil when there is none.
	ContactID *string `json:"contact_id"`
	// DeviceType is the conversation's device: desktop, mobile, tablet, phone or native.
	DeviceType string `json:"device_type"`
	// AssistantID is the conversation's assistant.
	AssistantID string `json:"assistant_id"`
	// FirstMessage is "User: " followed by the first user message, or "" if there is none.
	FirstMessage string `json:"first_message"`
	// ConversationID is the conversation's id.
	ConversationID string `json:"conversation_id"`
	// Attributes are the conversation's custom attributes.
	Attributes map[string]any `json:"attributes"`
	// Transcript holds the last 100 messages at most, oldest first.
	Transcript []Message `json:"transcript"`
}

// Message is one message of a Conversation transcript.
type Message struct {
	// ID is the message id.
	ID string `json:"id"`
	// ConversationID is the conversation the message belongs to.
	ConversationID string `json:"conversation_id"`
	// SenderType is user, bot, agent or tool.
	SenderType string `json:"sender_type"`
	// MessageType is text or voice.
	MessageType string `json:"message_type"`
	// Text is the message text.
	Text string `json:"text"`
	// VoiceBase64 is always nil in agenthooks payloads; kept for Insighto compatibility.
	VoiceBase64 *string `json:"voice_base64"`
	// DataSources is always null in agenthooks payloads; kept for Insighto compatibility.
	DataSources json.RawMessage `json:"data_sources"`
	// CreatedAt is when the message was sent, formatted with TimeLayout (see ParseTime).
	CreatedAt string `json:"created_at"`
	// UpdatedAt is when the message last changed, formatted with TimeLayout.
	UpdatedAt string `json:"updated_at"`
	// CharCount is the number of characters (runes) of Text.
	CharCount int `json:"char_count"`
}

// Test is the data of webhook.test.
type Test struct {
	// WebhookID is the webhook that was tested.
	WebhookID string `json:"webhook_id"`
	// Message is a human-readable note.
	Message string `json:"message"`
}

// WebhookDisabled is the data of webhook.disabled.
type WebhookDisabled struct {
	// WebhookID is the webhook that was disabled.
	WebhookID string `json:"webhook_id"`
	// Name is its name.
	Name string `json:"name"`
	// Endpoint is its URL.
	Endpoint string `json:"endpoint"`
	// Reason is why: "gone" (the endpoint answered 410), "failing" (every
	// delivery failed for a long while) or "manual".
	Reason string `json:"reason"`
	// DisabledAt is when, formatted with TimeLayout.
	DisabledAt string `json:"disabled_at"`
}

// DeliveryFailed is the data of delivery.failed.
type DeliveryFailed struct {
	// DeliveryID is the delivery that ended failed.
	DeliveryID string `json:"delivery_id"`
	// EventID is its event.
	EventID string `json:"event_id"`
	// Event is its event's type.
	Event string `json:"event"`
	// WebhookID is the webhook it was for.
	WebhookID string `json:"webhook_id"`
	// AttemptCount is how many attempts were made.
	AttemptCount int `json:"attempt_count"`
	// LastStatusCode is the last answer's HTTP status, nil if none came.
	LastStatusCode *int `json:"last_status_code"`
	// LastError is the last attempt's error, nil if none.
	LastError *string `json:"last_error"`
}

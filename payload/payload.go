// Package payload is the wire format of webhook deliveries: the event envelope
// and the data of each event type, kept apart from the domain structs so that
// a change to the database or the domain can never change what receivers get.
// Golden files in testdata freeze the bytes.
//
// The shapes are Insighto's (its help article on webhooks and its newer
// docs), with two deliberate differences written in docs/wire-format.md:
// event names use the underscore spelling (captured_form.created, not
// capturedform.created), and a missing contact is null rather than the string
// "None". Schema builds each data struct's JSON Schema from its fields, and
// DataOf names the struct of each type of agenthooks.EventTable.
package payload

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/agenthooks/agenthooks"
)

// TimeLayout is Insighto's timestamp format (docs/wire-format.md), always in UTC.
const TimeLayout = "2006-01-02 15:04:05"

// FormatTime formats t in TimeLayout, in UTC.
func FormatTime(t time.Time) string { return t.UTC().Format(TimeLayout) }

// TranscriptLimit is the most messages a transcript carries; chat_count still
// counts them all.
const TranscriptLimit = 100

// Envelope is the body of every delivery.
type Envelope struct {
	ID        string `json:"id"`
	Object    string `json:"object"`
	Event     string `json:"event"`
	CreatedAt string `json:"created_at"`
	Data      any    `json:"data"`
}

// CapturedForm is the data of captured_form.created and captured_form.updated.
type CapturedForm struct {
	FormID         string          `json:"form_id" schema:"uuid"`
	FormName       string          `json:"form_name"`
	WidgetID       string          `json:"widget_id" schema:"uuid"`
	AssistantID    string          `json:"assistant_id" schema:"uuid"`
	FieldValues    map[string]any  `json:"field_values"`
	ConversationID string          `json:"conversation_id" schema:"uuid"`
	CapturedFormID string          `json:"captured_form_id" schema:"uuid"`
	DeviceType     string          `json:"device_type" schema:"enum=device_type"`
	Attributes     json.RawMessage `json:"attributes"`
}

// CapturedIntent is the data of captured_intent.created.
type CapturedIntent struct {
	IntentID       string `json:"intent_id" schema:"uuid"`
	ChatCount      int    `json:"chat_count"`
	IntentName     string `json:"intent_name"`
	DeviceType     string `json:"device_type" schema:"enum=device_type"`
	WidgetID       string `json:"widget_id" schema:"uuid"`
	AssistantID    string `json:"assistant_id" schema:"uuid"`
	ConversationID string `json:"conversation_id" schema:"uuid"`
}

// Conversation is the data of conversation.closed and conversation.updated.
type Conversation struct {
	WidgetID       string          `json:"widget_id" schema:"uuid"`
	ChatCount      int             `json:"chat_count"`
	ContactID      *string         `json:"contact_id" schema:"uuid"`
	DeviceType     string          `json:"device_type" schema:"enum=device_type"`
	AssistantID    string          `json:"assistant_id" schema:"uuid"`
	FirstMessage   string          `json:"first_message" doc:"\"User: \" and the first user message, or \"\" if none"`
	ConversationID string          `json:"conversation_id" schema:"uuid"`
	Attributes     json.RawMessage `json:"attributes"`
	Transcript     []Message       `json:"transcript" schema:"max=transcript"`
}

// Message is one transcript entry.
type Message struct {
	ID             string  `json:"id" schema:"uuid"`
	ConversationID string  `json:"conversation_id" schema:"uuid"`
	SenderType     string  `json:"sender_type" schema:"enum=sender_type"`
	MessageType    string  `json:"message_type" schema:"enum=message_type"`
	Text           string  `json:"text"`
	VoiceBase64    *string `json:"voice_base64" schema:"null"`
	DataSources    any     `json:"data_sources" schema:"null"`
	CreatedAt      string  `json:"created_at" schema:"time"`
	UpdatedAt      string  `json:"updated_at" schema:"time"`
	CharCount      int     `json:"char_count"`
}

// Test is the data of webhook.test.
type Test struct {
	WebhookID string `json:"webhook_id" schema:"uuid"`
	Message   string `json:"message"`
}

// WebhookDisabled is the data of the operational event webhook.disabled.
type WebhookDisabled struct {
	WebhookID  string `json:"webhook_id" schema:"uuid"`
	Name       string `json:"name"`
	Endpoint   string `json:"endpoint"`
	Reason     string `json:"reason" schema:"enum=disabled_reason"` // gone, failing or manual
	DisabledAt string `json:"disabled_at" schema:"time"`
}

// NewWebhookDisabled builds webhook.disabled data from a webhook just
// disabled (its UpdatedAt is when).
func NewWebhookDisabled(w *agenthooks.Webhook) WebhookDisabled {
	return WebhookDisabled{WebhookID: w.ID, Name: w.Name, Endpoint: w.Endpoint, Reason: w.DisabledReason, DisabledAt: FormatTime(w.UpdatedAt)}
}

// DeliveryFailed is the data of the operational event delivery.failed.
type DeliveryFailed struct {
	DeliveryID     string  `json:"delivery_id" schema:"uuid"`
	EventID        string  `json:"event_id" schema:"uuid"`
	Event          string  `json:"event"`
	WebhookID      string  `json:"webhook_id" schema:"uuid"`
	AttemptCount   int     `json:"attempt_count"`
	LastStatusCode *int    `json:"last_status_code"`
	LastError      *string `json:"last_error"`
}

// NewDeliveryFailed builds delivery.failed data about a delivery that ended
// failed: eventType is its event's type, statusCode its last answer's status
// (0: none, null on the wire) and lastError its last error ("": null).
func NewDeliveryFailed(d *agenthooks.Delivery, eventType string, statusCode int, lastError string) DeliveryFailed {
	f := DeliveryFailed{DeliveryID: d.ID, EventID: d.EventID, Event: eventType, WebhookID: d.WebhookID, AttemptCount: d.AttemptCount}
	if statusCode != 0 {
		f.LastStatusCode = &statusCode
	}
	if lastError != "" {
		f.LastError = &lastError
	}
	return f
}

func attributes(a json.RawMessage) json.RawMessage {
	if len(a) == 0 {
		return json.RawMessage("{}")
	}
	return a
}

// NewCapturedForm builds captured_form.* data.
func NewCapturedForm(cf *agenthooks.CapturedForm, f *agenthooks.Form, c *agenthooks.Conversation) CapturedForm {
	values := cf.FieldValues
	if values == nil {
		values = map[string]any{}
	}
	return CapturedForm{
		FormID: f.ID, FormName: f.Name, WidgetID: c.WidgetID, AssistantID: c.AssistantID,
		FieldValues: values, ConversationID: c.ID, CapturedFormID: cf.ID,
		DeviceType: c.DeviceType, Attributes: attributes(c.Attributes),
	}
}

// NewCapturedIntent builds captured_intent.created data.
func NewCapturedIntent(i *agenthooks.Intent, c *agenthooks.Conversation) CapturedIntent {
	return CapturedIntent{
		IntentID: i.ID, ChatCount: c.ChatCount, IntentName: i.Name, DeviceType: c.DeviceType,
		WidgetID: c.WidgetID, AssistantID: c.AssistantID, ConversationID: c.ID,
	}
}

// FirstMessage renders first_message (docs/wire-format.md): "User: " and the first user
// message's text, or "" when the visitor has said nothing.
func FirstMessage(c *agenthooks.Conversation) string {
	if c.FirstMessage == "" {
		return ""
	}
	return "User: " + c.FirstMessage
}

// NewConversation builds conversation.* data; transcript holds the last
// messages, oldest first (at most TranscriptLimit are sent).
func NewConversation(c *agenthooks.Conversation, transcript []*agenthooks.Message) Conversation {
	var contact *string
	if c.ContactID != "" {
		id := c.ContactID
		contact = &id
	}
	if len(transcript) > TranscriptLimit {
		transcript = transcript[len(transcript)-TranscriptLimit:]
	}
	msgs := make([]Message, len(transcript))
	for i, m := range transcript {
		msgs[i] = NewMessage(m)
	}
	return Conversation{
		WidgetID: c.WidgetID, ChatCount: c.ChatCount, ContactID: contact, DeviceType: c.DeviceType,
		AssistantID: c.AssistantID, FirstMessage: FirstMessage(c), ConversationID: c.ID,
		Attributes: attributes(c.Attributes), Transcript: msgs,
	}
}

// NewMessage builds one transcript entry (also what GET
// /conversation/{id}/transcript lists).
func NewMessage(m *agenthooks.Message) Message {
	ts := FormatTime(m.CreatedAt)
	return Message{
		ID: m.ID, ConversationID: m.ConversationID, SenderType: m.SenderType, MessageType: m.MessageType,
		Text: m.Text, CreatedAt: ts, UpdatedAt: ts, CharCount: utf8.RuneCountInString(m.Text),
	}
}

// MaxEnvelopeBytes bounds an envelope: where a conversation's transcript
// would make it larger, its oldest messages are left out until it fits
// (chat_count still counts them all). The other events are bounded by the
// API's size limits on what they carry.
const MaxEnvelopeBytes = 256 << 10

// Encode renders an envelope as the exact bytes that are signed and sent.
// HTML characters are not escaped: receivers get the text as written. A
// conversation event is cut to MaxEnvelopeBytes by dropping its oldest
// transcript messages.
func Encode(id, eventType string, createdAt time.Time, data any) ([]byte, error) {
	b, err := encode(id, eventType, createdAt, data)
	if err != nil || len(b) <= MaxEnvelopeBytes {
		return b, err
	}
	c, ok := data.(Conversation)
	if !ok {
		return b, nil
	}
	for len(b) > MaxEnvelopeBytes && len(c.Transcript) > 0 {
		// Drop at once as many of the oldest messages as the excess
		// needs (each costs its encoding and a comma), then check.
		excess, drop := len(b)-MaxEnvelopeBytes, 0
		for drop < len(c.Transcript) && excess > 0 {
			m, err := marshal(c.Transcript[drop])
			if err != nil {
				return nil, fmt.Errorf("encode %s event: %w", eventType, err)
			}
			excess -= len(m) + 1
			drop++
		}
		c.Transcript = c.Transcript[max(drop, 1):]
		if b, err = encode(id, eventType, createdAt, c); err != nil {
			return nil, err
		}
	}
	return b, nil
}

func encode(id, eventType string, createdAt time.Time, data any) ([]byte, error) {
	b, err := marshal(Envelope{ID: id, Object: "event", Event: eventType, CreatedAt: FormatTime(createdAt), Data: data})
	if err != nil {
		return nil, fmt.Errorf("encode %s event: %w", eventType, err)
	}
	return b, nil
}

// marshal is json.Marshal without HTML escaping.
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

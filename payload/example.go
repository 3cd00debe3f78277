package payload

import (
	"encoding/json"

	"github.com/agenthooks/agenthooks"
)

// Example ids and time: the seed's own sample values where it has them.
const (
	exampleAssistant    = "0190b5c2-7d1e-7a4b-9c3d-2e1f0a9b8c7d"
	exampleWidget       = "0190b5c2-7d1e-7a4b-9c3d-2e1f0a9b8c7e"
	exampleConversation = "0190b5c2-7d1e-7a4b-9c3d-2e1f0a9b8c7f"
	exampleWebhook      = "0190b5c2-7d1e-7a4b-9c3d-2e1f0a9b8c80"
	exampleTime         = "2024-04-05 22:26:08"
)

// Example returns sample data of the built-in event type name, filled the
// way agenthooks fills it (what POST /outbound_webhook/{id}/test
// {event_type} sends and the dashboard shows), or nil for a type it does
// not know. TestEveryEventTypeHasAnExample checks each against its Schema.
func Example(name string) any {
	attrs := json.RawMessage(`{"utm_source":"newsletter"}`)
	switch name {
	case agenthooks.EventCapturedFormCreated, agenthooks.EventCapturedFormUpdated:
		return CapturedForm{FormID: "0190b5c2-7d1e-7a4b-9c3d-2e1f0a9b8c81", FormName: "Lead form", WidgetID: exampleWidget, AssistantID: exampleAssistant,
			FieldValues: map[string]any{"name": "Ada Lovelace", "email": "ada@example.com"}, ConversationID: exampleConversation,
			CapturedFormID: "0190b5c2-7d1e-7a4b-9c3d-2e1f0a9b8c82", DeviceType: "desktop", Attributes: attrs}
	case agenthooks.EventCapturedIntentCreated:
		return CapturedIntent{IntentID: "0190b5c2-7d1e-7a4b-9c3d-2e1f0a9b8c83", ChatCount: 4, IntentName: "SALES", DeviceType: "mobile",
			WidgetID: exampleWidget, AssistantID: exampleAssistant, ConversationID: exampleConversation}
	case agenthooks.EventConversationClosed, agenthooks.EventConversationUpdated:
		return Conversation{WidgetID: exampleWidget, ChatCount: 2, DeviceType: "desktop", AssistantID: exampleAssistant,
			FirstMessage: "User: Hi, what does the premium plan cost?", ConversationID: exampleConversation, Attributes: attrs,
			Transcript: []Message{
				{ID: "0190b5c2-7d1e-7a4b-9c3d-2e1f0a9b8c84", ConversationID: exampleConversation, SenderType: "user", MessageType: "text",
					Text: "Hi, what does the premium plan cost?", CreatedAt: exampleTime, UpdatedAt: exampleTime, CharCount: 36},
				{ID: "0190b5c2-7d1e-7a4b-9c3d-2e1f0a9b8c85", ConversationID: exampleConversation, SenderType: "bot", MessageType: "text",
					Text: "It is 49 USD a month.", CreatedAt: exampleTime, UpdatedAt: exampleTime, CharCount: 21},
			}}
	case agenthooks.EventWebhookTest:
		return Test{WebhookID: exampleWebhook, Message: "This is a test event from agenthooks."}
	case agenthooks.EventWebhookDisabled:
		return WebhookDisabled{WebhookID: exampleWebhook, Name: "CRM", Endpoint: "https://crm.example.com/hooks", Reason: agenthooks.DisabledGone, DisabledAt: exampleTime}
	case agenthooks.EventDeliveryFailed:
		code, msg := 500, "HTTP 500"
		return DeliveryFailed{DeliveryID: "0190b5c2-7d1e-7a4b-9c3d-2e1f0a9b8c86", EventID: "0190b5c2-7d1e-7a4b-9c3d-2e1f0a9b8c87",
			Event: agenthooks.EventConversationClosed, WebhookID: exampleWebhook, AttemptCount: 8, LastStatusCode: &code, LastError: &msg}
	}
	return nil
}

package httpapi

import (
	"net/http"

	"github.com/agenthooks/agenthooks"
)

type schema = map[string]any

func obj(required []string, props schema) schema {
	return schema{"type": "object", "required": required, "properties": props}
}

var (
	str      = schema{"type": "string"}
	uuidStr  = schema{"type": "string", "format": "uuid"}
	intNum   = schema{"type": "integer", "minimum": 0}
	anyObj   = schema{"type": "object"}
	nullUUID = schema{"type": []string{"string", "null"}, "format": "uuid"}
	devices  = schema{"type": "string", "enum": agenthooks.DeviceTypes}
	seedTime = schema{"type": "string", "pattern": `^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$`, "description": "UTC, YYYY-MM-DD HH:MM:SS"}
)

var formSchema = obj([]string{"form_id", "form_name", "widget_id", "assistant_id", "field_values", "conversation_id", "captured_form_id", "device_type", "attributes"}, schema{
	"form_id": uuidStr, "form_name": str, "widget_id": uuidStr, "assistant_id": uuidStr, "field_values": anyObj,
	"conversation_id": uuidStr, "captured_form_id": uuidStr, "device_type": devices, "attributes": anyObj,
})

var conversationSchema = obj([]string{"widget_id", "chat_count", "contact_id", "device_type", "assistant_id", "first_message", "conversation_id", "attributes", "transcript"}, schema{
	"widget_id": uuidStr, "chat_count": intNum, "contact_id": nullUUID, "device_type": devices, "assistant_id": uuidStr,
	"first_message":   schema{"type": "string", "description": `"User: " and the first user message, or "" if none`},
	"conversation_id": uuidStr, "attributes": anyObj,
	"transcript": schema{"type": "array", "maxItems": 100, "items": obj(
		[]string{"id", "conversation_id", "sender_type", "message_type", "text", "voice_base64", "data_sources", "created_at", "updated_at", "char_count"},
		schema{"id": uuidStr, "conversation_id": uuidStr, "sender_type": schema{"type": "string", "enum": agenthooks.SenderTypes},
			"message_type": schema{"type": "string", "enum": agenthooks.MessageTypes}, "text": str, "voice_base64": schema{"type": "null"},
			"data_sources": schema{"type": "null"}, "created_at": seedTime, "updated_at": seedTime, "char_count": intNum})},
})

// eventTypes lists each event type with a JSON Schema of its data.
var eventTypes = []map[string]any{
	{"name": agenthooks.EventCapturedFormCreated, "description": "A visitor submitted a form in a conversation.", "schema": formSchema},
	{"name": agenthooks.EventCapturedFormUpdated, "description": "A captured form's values changed (field_values holds all values so far).", "schema": formSchema},
	{"name": agenthooks.EventCapturedIntentCreated, "description": "The assistant captured the visitor's intent.", "schema": obj(
		[]string{"intent_id", "chat_count", "intent_name", "device_type", "widget_id", "assistant_id", "conversation_id"},
		schema{"intent_id": uuidStr, "chat_count": intNum, "intent_name": str, "device_type": devices, "widget_id": uuidStr, "assistant_id": uuidStr, "conversation_id": uuidStr})},
	{"name": agenthooks.EventConversationClosed, "description": "A conversation ended (closed by the runtime or idle).", "schema": conversationSchema},
	{"name": agenthooks.EventConversationUpdated, "description": "A message was added to a conversation.", "schema": conversationSchema},
	{"name": agenthooks.EventWebhookTest, "description": "A test event sent on request.", "schema": obj([]string{"webhook_id", "message"}, schema{"webhook_id": uuidStr, "message": str})},
	{"name": agenthooks.EventWebhookDisabled, "description": "Another webhook of the account was disabled. Operational: sent only to webhooks whose events name it.", "schema": obj(
		[]string{"webhook_id", "name", "endpoint", "reason", "disabled_at"},
		schema{"webhook_id": uuidStr, "name": str, "endpoint": str, "reason": schema{"type": "string", "enum": []string{agenthooks.DisabledGone, agenthooks.DisabledFailing, agenthooks.DisabledManual}},
			"disabled_at": seedTime})},
	{"name": agenthooks.EventDeliveryFailed, "description": "A delivery to another webhook of the account ended failed after its last attempt. Operational: sent only to webhooks whose events name it.", "schema": obj(
		[]string{"delivery_id", "event_id", "event", "webhook_id", "attempt_count", "last_status_code", "last_error"},
		schema{"delivery_id": uuidStr, "event_id": uuidStr, "event": str, "webhook_id": uuidStr, "attempt_count": intNum,
			"last_status_code": schema{"type": []string{"integer", "null"}}, "last_error": schema{"type": []string{"string", "null"}}})},
}

func (s *Server) listEventTypes(w http.ResponseWriter, r *http.Request, _ acct) error {
	ok(w, http.StatusOK, "OK", listData{Items: eventTypes, Total: len(eventTypes), Page: 1, Size: 100, Pages: 1})
	return nil
}

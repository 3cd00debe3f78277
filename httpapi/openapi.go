package httpapi

// The OpenAPI 3.1 document served at GET /api/v1/openapi.json. It is built in
// Go rather than kept as a file so that it cannot drift from the code it
// describes: enumerations come from the domain (agenthooks.WidgetTypes,
// DeviceTypes, EventTypes, ...), the webhook payloads reuse the schemas of
// GET /event_type (eventtypes.go), and openapi_test.go fails when a route
// registered in server.go is missing here or when a real run's requests and
// responses do not validate against it.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/agenthooks/agenthooks"
	"github.com/agenthooks/agenthooks/payload"
	"github.com/agenthooks/agenthooks/service"
)

// openAPIDocument is the document, marshalled once. It is marshalled, read
// back and finished (openFreeObjects) so that the finishing touches a copy,
// never the schemas GET /event_type serves.
var openAPIDocument = sync.OnceValues(func() ([]byte, error) {
	b, err := json.Marshal(buildOpenAPI())
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return nil, err
	}
	openFreeObjects(doc)
	return json.Marshal(doc)
})

// openFreeObjects says additionalProperties: true on every object schema
// that lists no properties and says nothing of additionalProperties (a free
// JSON object: attributes, field_values, an event's data schema). JSON
// Schema reads both the same; openapi-typescript reads the bare one as an
// object that can hold nothing (Record<string, never>).
func openFreeObjects(v any) {
	switch v := v.(type) {
	case map[string]any:
		_, props := v["properties"]
		_, extra := v["additionalProperties"]
		if !props && !extra && isObjectSchema(v["type"]) {
			v["additionalProperties"] = true
		}
		for _, e := range v {
			openFreeObjects(e)
		}
	case []any:
		for _, e := range v {
			openFreeObjects(e)
		}
	}
}

// isObjectSchema reports whether a schema's type is or includes "object".
func isObjectSchema(t any) bool {
	switch t := t.(type) {
	case string:
		return t == "object"
	case []any:
		return slices.Contains(t, any("object"))
	}
	return false
}

func (s *Server) serveOpenAPI(w http.ResponseWriter, r *http.Request) {
	b, err := openAPIDocument()
	if err != nil {
		s.Error(w, r, fmt.Errorf("marshal openapi document: %w", err))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	_, _ = w.Write(b)
}

// JSON Schema helpers. Each returns a new map, so no schema is shared in a way
// that a later edit could change two places at once.

func jsRef(name string) schema { return schema{"$ref": "#/components/schemas/" + name} }

// described sets s's description unless desc is empty.
func described(s schema, desc string) schema {
	if desc != "" {
		s["description"] = desc
	}
	return s
}

func jsType(t string, desc string) schema { return described(schema{"type": t}, desc) }

func jsString(desc string) schema { return jsType("string", desc) }

func jsID(desc string) schema {
	return described(schema{"type": "string", "format": "uuid"}, desc)
}

func jsNullID(desc string) schema {
	return described(schema{"type": []string{"string", "null"}, "format": "uuid"}, desc)
}

// jsNullString is a string or null.
func jsNullString(desc string) schema {
	return described(schema{"type": []string{"string", "null"}}, desc)
}

// replayedNull says when a secret shown once is null: a response replayed
// for a reused Idempotency-Key keeps no secret (idempotency.go).
const replayedNull = " null in a response replayed for a reused Idempotency-Key (Idempotent-Replayed: true), which keeps no secret"

// jsTime is an API timestamp: RFC 3339 in UTC.
func jsTime(desc string) schema {
	return described(schema{"type": "string", "format": "date-time"}, desc)
}

func jsNullTime(desc string) schema {
	return described(schema{"type": []string{"string", "null"}, "format": "date-time"}, desc)
}

func jsEnum(values []string, desc string) schema {
	return described(schema{"type": "string", "enum": slices.Clone(values)}, desc)
}

func jsArray(items schema, desc string) schema {
	return described(schema{"type": "array", "items": items}, desc)
}

func jsInt(lo int, desc string) schema {
	return described(schema{"type": "integer", "minimum": lo}, desc)
}

// jsObject is an object with the given properties; required lists the ones
// always present.
func jsObject(required []string, props schema) schema {
	s := schema{"type": "object", "properties": props}
	if len(required) > 0 {
		s["required"] = required
	}
	return s
}

// jsAll is an object whose every property is required (the shape of a response).
func jsAll(props schema) schema {
	req := make([]string, 0, len(props))
	for k := range props {
		req = append(req, k)
	}
	slices.Sort(req)
	return jsObject(req, props)
}

// jsMap is a JSON object with free keys (attributes, field_values).
func jsMap(desc string) schema { return jsType("object", desc) }

// eventSchemaName turns an event type into a component name:
// captured_form.created → CapturedFormCreated.
func eventSchemaName(event string) string {
	var b strings.Builder
	for _, part := range strings.FieldsFunc(event, func(r rune) bool { return r == '_' || r == '.' }) {
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String()
}

// allEventTypes is every event type that can be sent.
func allEventTypes() []string { return agenthooks.SentEventTypes }

const (
	nameMax     = 255
	descName    = "1 to 255 characters, not only spaces."
	descPathID  = "The resource's id (a UUID). An id that does not exist, belongs to another account or is malformed answers 404."
	descRefID   = "must be one of this account's ids, else 422 on this field"
	descTimeAPI = "RFC 3339, UTC."
)

func nameSchema() schema {
	return schema{"type": "string", "minLength": 1, "maxLength": nameMax, "description": descName}
}

// schemas are the components/schemas of the document.
func openAPISchemas() schema {
	s := schema{}

	// Errors.
	s["Error"] = jsObject([]string{"detail"}, schema{"detail": jsString("What went wrong, for a person to read.")})
	s["FieldError"] = jsObject([]string{"loc", "msg", "type"}, schema{
		// oneOf rather than a type list: oapi-codegen v2 stops on a list of types.
		"loc": jsArray(schema{"oneOf": []schema{{"type": "string"}, {"type": "integer"}}},
			`Where the problem is: "body", "query" or "header", then the field name and, inside lists, the index.`),
		"msg":  jsString("What is wrong, for a person to read."),
		"type": jsString("A stable machine-readable kind, as FastAPI names them: missing, string_type, enum, value_error, ..."),
	})
	s["ValidationError"] = jsObject([]string{"detail"}, schema{"detail": jsArray(jsRef("FieldError"), "Every problem found, FastAPI style.")})

	// Webhooks. The responses (Webhook, WebhookWithSecret) are reflected
	// from webhookView (openapi_reflect.go); the request bodies are here.
	s["WebhookSecret"] = jsAll(schema{"secret": webhookSecretSchema()})
	headers := schema{"type": "object", "maxProperties": service.MaxHeaders,
		"additionalProperties": schema{"type": "string", "maxLength": service.MaxHeaderBytes},
		"description":          "Extra request headers (HTTP token names; never the webhook-* signature headers, Content-Type or hop-by-hop headers), at most 20, 4 KiB in all (names and values)."}
	rateLimit := schema{"type": []string{"number", "null"}, "exclusiveMinimum": 0, "maximum": 100000, "description": "Requests per second to this webhook; null for no limit."}
	events := schema{"type": "array", "minItems": 1, "items": jsEnum(agenthooks.EventTypes, ""),
		"description": "Event types to receive; absent means all. An empty list or an unknown type is 422."}
	ordering := jsEnum([]string{agenthooks.OrderingNone, agenthooks.OrderingConversation},
		`"conversation" delivers one conversation's events to this webhook strictly in creation order (a failing event holds back only later events of the same conversation).`)
	endpoint := schema{"type": "string", "format": "uri",
		"description": "An http(s) URL. Unless AGENTHOOKS_ALLOW_PRIVATE_ENDPOINTS is set, one that is or resolves to a non-public address is 422."}
	// endpoint is required unless destination names a broker.
	s["WebhookCreate"] = jsObject([]string{"name"}, schema{
		"name": nameSchema(), "endpoint": endpoint,
		"enabled":  schema{"type": "boolean", "default": true},
		"events":   events,
		"ordering": withDefault(ordering, agenthooks.OrderingNone),
		"headers":  headers, "rate_limit": rateLimit,
		"tls":         webhookTLSWrite(),
		"destination": destinationWrite(),
	})
	s["WebhookUpdate"] = jsObject(nil, schema{
		"name": nameSchema(), "endpoint": endpoint,
		"enabled":  jsType("boolean", "false disables the webhook (reason manual); true enables it again and its waiting deliveries resume."),
		"events":   events,
		"ordering": ordering,
		"headers":  headers, "rate_limit": rateLimit,
		"tls":         webhookTLSWrite(),
		"destination": destinationWrite(),
	})
	s["WebhookRecover"] = jsObject([]string{"since"}, schema{
		"since": jsTime("Failed deliveries of events created since then (RFC 3339) get a fresh schedule."),
	})
	s["Recovered"] = jsAll(schema{"queued": jsInt(0, "How many failed deliveries were queued again.")})
	s["WebhookTestResult"] = jsAll(schema{
		"event_id":    jsID("The webhook.test event, stored and listed like any event."),
		"delivery_id": jsID(""),
		"status":      jsEnum(agenthooks.DeliveryStatuses, ""),
		"attempt": schema{"oneOf": []schema{jsRef("Attempt"), {"type": "null"}},
			"description": "The first attempt, or null when none was made in time (the delivery is still pending)."},
	})
	s["Deleted"] = jsAll(schema{"id": jsID("The deleted resource's id.")})

	// Assistants, widgets, forms, intents, contacts.
	insightoSchemas(s) // assistants, widgets, contact updates, transcripts
	s["FormFieldInput"] = jsObject([]string{"name"}, schema{
		"name":     schema{"type": "string", "minLength": 1, "description": "Unique within the form."},
		"type":     withDefault(jsEnum(agenthooks.FieldTypes, ""), "text"),
		"required": schema{"type": "boolean", "default": false, "description": "A captured form missing a required field is 422."},
	})
	formFields := schema{"type": "array", "maxItems": 100, "items": jsRef("FormFieldInput")}
	s["FormCreate"] = jsObject([]string{"name"}, schema{
		"name": nameSchema(), "fields": formFields,
		"webhook_id": jsNullID("The webhook that receives its submissions; " + descRefID + "."),
	})
	s["FormUpdate"] = jsObject(nil, schema{
		"name": nameSchema(), "fields": formFields,
		"webhook_id": jsNullID("A webhook id (" + descRefID + "), or null to unassign."),
	})
	s["IntentCreate"] = jsObject([]string{"name"}, schema{"name": nameSchema(), "description": jsString("")})
	contactField := func(desc string) schema {
		return described(schema{"type": []string{"string", "null"}, "maxLength": nameMax}, desc)
	}
	s["ContactCreate"] = jsObject(nil, schema{
		"first_name": contactField(""), "last_name": contactField(""),
		"email": contactField("Must contain @."), "phone_number": contactField(""),
	})

	// Conversations.
	s["ConversationCreate"] = jsObject([]string{"assistant_id", "widget_id", "device_type"}, schema{
		"assistant_id": jsID(descRefID),
		"widget_id":    jsID("One of the assistant's widgets, else 422."),
		"device_type":  jsEnum(agenthooks.DeviceTypes, ""),
		"contact_id":   jsNullID(descRefID),
		"attributes":   schema{"type": []string{"object", "null"}, "description": "Free attributes, sent in the events' data: at most 16 KiB of JSON, nested at most 16 levels."},
	})
	s["MessageCreate"] = jsObject([]string{"sender_type", "text"}, schema{
		"sender_type":  jsEnum(agenthooks.SenderTypes, ""),
		"text":         jsString("At most 32 KiB (UTF-8 bytes)."),
		"message_type": withDefault(jsEnum(agenthooks.MessageTypes, ""), "text"),
	})
	s["CapturedFormCreate"] = jsObject([]string{"form_id", "field_values"}, schema{
		"form_id":      jsID(descRefID),
		"field_values": jsMap("Values by field name. A required field that is missing, null or empty is 422 at [\"body\", \"field_values\", name]."),
	})
	s["CapturedFormUpdate"] = jsObject([]string{"field_values"}, schema{
		"field_values": jsMap("Values merged into those captured so far (the form's required fields must still be filled)."),
	})
	s["CapturedIntentCreate"] = jsObject([]string{"intent_id"}, schema{"intent_id": jsID(descRefID)})

	// Events and deliveries.
	s["Replayed"] = jsAll(schema{"queued": jsInt(0, "How many new deliveries were queued: one per webhook the event was routed to that still exists and is enabled (and whose filter accepts it).")})
	s["EventType"] = jsAll(schema{
		"name":        jsEnum(allEventTypes(), ""),
		"description": jsString(""),
		"schema":      jsType("object", "A JSON Schema (2020-12) of the event's data."),
	})

	// The webhook payloads: the schemas GET /event_type serves, in envelopes.
	envelopes := make([]schema, 0, len(eventTypes))
	for _, et := range eventTypes {
		name := et["name"].(string)
		s[eventSchemaName(name)+"Data"] = et["schema"]
		s[eventSchemaName(name)+"Event"] = jsAll(schema{
			"id":         jsID("The event id (UUIDv7), also sent as webhook-id; the same on every attempt. Receivers deduplicate on it."),
			"object":     schema{"const": "event", "type": "string"},
			"event":      schema{"const": name, "type": "string"},
			"created_at": seedTimeSchema(),
			"data":       jsRef(eventSchemaName(name) + "Data"),
		})
		envelopes = append(envelopes, jsRef(eventSchemaName(name)+"Event"))
	}
	s["EventEnvelope"] = schema{"oneOf": envelopes, "description": "A delivery's body: the exact bytes that are signed."}

	s["Health"] = jsAll(schema{"status": jsEnum([]string{"ok", "unavailable"}, "")})
	openapi := jsObject([]string{"openapi", "info", "paths"}, schema{
		"openapi": jsString("3.1.x"), "info": jsType("object", ""), "paths": jsType("object", ""),
	})
	openapi["additionalProperties"] = true
	s["OpenAPIDocument"] = openapi
	accountSchemas(s)
	portalSchemas(s)
	transformationSchemas(s) // openapi_transform.go
	eventTypeSchemas(s)      // openapi_eventtypes.go
	filterSchemas(s)         // openapi_filter.go
	insightoFieldSchemas(s)  // openapi_insighto_fields.go: Insighto's fields on the schemas above
	addReflectedSchemas(s)   // openapi_reflect.go: every response view, from its Go type
	allowOwnEventTypes(s)    // openapi_eventtypes.go
	return s
}

// seedTimeSchema is the envelope's timestamp format (Insighto's, not RFC 3339; docs/wire-format.md).
func seedTimeSchema() schema {
	return schema{"type": "string", "pattern": payload.TimePattern, "description": "UTC, YYYY-MM-DD HH:MM:SS (Insighto's format)."}
}

func withDefault(s schema, v any) schema {
	s["default"] = v
	return s
}

// apiOp describes one route registered in server.go (the key of apiOps is the
// pattern given to s.handle).
type apiOp struct {
	id      string // operationId
	tag     string
	summary string
	desc    string
	// body is the request body's schema name; "" when the route reads none.
	body string
	// bodyOptional: the body may be left out (an empty body counts as {}).
	bodyOptional bool
	status       int // success status
	// createdToo: the route also answers 201 with the same data (an upsert
	// that created its resource).
	createdToo bool
	data       string // schema name of data in {message, data}; of the items for lists
	list       bool
	query      []schema // query parameters besides page and size
	conflict   string   // when a 409 answers, besides a running Idempotency-Key
	// refuses: the route answers 422 on a path value with no body to
	// validate (DELETE of a built-in event type).
	refuses bool
}

// apiOps lists every authenticated route. openapi_test.go fails when a route
// registered with s.handle is missing.
func apiOps() map[string]apiOp {
	statusParam := queryParam("status", jsEnum(agenthooks.DeliveryStatuses, ""), "Only deliveries with this status.")
	ops := map[string]apiOp{
		"POST /outbound_webhook": {id: "createWebhook", tag: "webhooks", summary: "Create a webhook",
			desc: "Answers the webhook with its signing secret, shown here, on rotation and by GET .../secret only.",
			body: "WebhookCreate", status: 201, data: "WebhookWithSecret"},
		"GET /outbound_webhook":      {id: "listWebhooks", tag: "webhooks", summary: "List webhooks", status: 200, data: "Webhook", list: true},
		"GET /outbound_webhook/{id}": {id: "getWebhook", tag: "webhooks", summary: "Read a webhook", status: 200, data: "Webhook"},
		"PATCH /outbound_webhook/{id}": {id: "updateWebhook", tag: "webhooks", summary: "Update a webhook",
			desc: "Only the fields given change.", body: "WebhookUpdate", bodyOptional: true, status: 200, data: "Webhook"},
		"DELETE /outbound_webhook/{id}": {id: "deleteWebhook", tag: "webhooks", summary: "Delete a webhook",
			desc: "Unassigns it from assistants and forms and ends its pending deliveries as failed.", status: 200, data: "Deleted"},
		"GET /outbound_webhook/{id}/secret": {id: "getWebhookSecret", tag: "webhooks", summary: "Read a webhook's secret",
			desc: "The current signing secret, on explicit request only.", status: 200, data: "WebhookSecret"},
		"POST /outbound_webhook/{id}/rotate_secret": {id: "rotateWebhookSecret", tag: "webhooks", summary: "Rotate a webhook's secret",
			desc: "The old secret keeps signing alongside the new one for 24 hours (two signatures in webhook-signature).", status: 200, data: "WebhookWithSecret"},
		"GET /outbound_webhook/{id}/deliveries": {id: "listWebhookDeliveries", tag: "webhooks", summary: "List a webhook's deliveries",
			desc: "Newest first.", status: 200, data: "Delivery", list: true, query: []schema{statusParam}},
		"POST /outbound_webhook/{id}/test": {id: "testWebhook", tag: "webhooks", summary: "Send a test event",
			desc: "Sends a signed webhook.test event now, whatever events says; it is stored and listed like any event. " +
				"Answers 200 with the first attempt even when the endpoint failed.",
			status: 200, data: "WebhookTestResult", conflict: "The webhook is disabled."},
		"POST /outbound_webhook/{id}/recover": {id: "recoverWebhook", tag: "webhooks", summary: "Queue failed deliveries again",
			body: "WebhookRecover", status: 202, data: "Recovered"},

		"POST /assistant":     {id: "createAssistant", tag: "assistants", summary: "Create an assistant", body: "AssistantCreate", status: 201, data: "Assistant"},
		"GET /assistant":      {id: "listAssistants", tag: "assistants", summary: "List assistants", status: 200, data: "Assistant", list: true},
		"GET /assistant/{id}": {id: "getAssistant", tag: "assistants", summary: "Read an assistant", status: 200, data: "Assistant"},
		"PATCH /assistant/{id}": {id: "updateAssistant", tag: "assistants", summary: "Update an assistant or assign its webhook",
			desc: `"Assign Webhook" is PATCH {"webhook_id": ...}; null unassigns.`, body: "AssistantUpdate", bodyOptional: true, status: 200, data: "Assistant"},
		"DELETE /assistant/{id}": {id: "deleteAssistant", tag: "assistants", summary: "Delete an assistant", status: 200, data: "Deleted"},

		"POST /widget":     {id: "createWidget", tag: "widgets", summary: "Create a widget", body: "WidgetCreate", status: 201, data: "Widget"},
		"GET /widget":      {id: "listWidgets", tag: "widgets", summary: "List widgets", status: 200, data: "Widget", list: true},
		"GET /widget/{id}": {id: "getWidget", tag: "widgets", summary: "Read a widget", status: 200, data: "Widget"},

		"POST /form":       {id: "createForm", tag: "forms", summary: "Create a form", body: "FormCreate", status: 201, data: "Form"},
		"GET /form":        {id: "listForms", tag: "forms", summary: "List forms", status: 200, data: "Form", list: true},
		"GET /form/{id}":   {id: "getForm", tag: "forms", summary: "Read a form", status: 200, data: "Form"},
		"PATCH /form/{id}": {id: "updateForm", tag: "forms", summary: "Update a form", body: "FormUpdate", bodyOptional: true, status: 200, data: "Form"},

		"POST /intent":      {id: "createIntent", tag: "intents", summary: "Create an intent", body: "IntentCreate", status: 201, data: "Intent"},
		"GET /intent":       {id: "listIntents", tag: "intents", summary: "List intents", status: 200, data: "Intent", list: true},
		"GET /intent/{id}":  {id: "getIntent", tag: "intents", summary: "Read an intent", status: 200, data: "Intent"},
		"POST /contact":     {id: "createContact", tag: "contacts", summary: "Create a contact", body: "ContactCreate", bodyOptional: true, status: 201, data: "Contact"},
		"GET /contact":      {id: "listContacts", tag: "contacts", summary: "List contacts", status: 200, data: "Contact", list: true},
		"GET /contact/{id}": {id: "getContact", tag: "contacts", summary: "Read a contact", status: 200, data: "Contact"},

		"POST /conversation": {id: "createConversation", tag: "conversations", summary: "Start a conversation",
			desc: "The widget must be the assistant's, else 422.", body: "ConversationCreate", status: 201, data: "Conversation"},
		"GET /conversation": {id: "listConversations", tag: "conversations", summary: "List conversations", status: 200, data: "ConversationRow", list: true,
			query: []schema{
				queryParam("date_from", dateQuery(), "Only conversations created at or after this time (RFC 3339, or YYYY-MM-DD for the start of that day, UTC)."),
				queryParam("date_to", dateQuery(), "Only conversations created at or before this time (RFC 3339, or YYYY-MM-DD for the whole of that day, UTC)."),
				queryParam("assistant_id", jsID(""), "Only this assistant's conversations (a malformed id answers 422; another account's matches nothing)."),
				queryParam("intent_id", jsID(""), "Only conversations that captured this intent (another account's or a malformed id answers 422)."),
				queryParam("includes_voice", schema{"type": "boolean"}, "Only conversations with (true) or without (false) a voice message; any other value answers 422."),
			}},
		"GET /conversation/{id}": {id: "getConversation", tag: "conversations", summary: "Read a conversation with its transcript", status: 200, data: "ConversationDetail"},
		"POST /conversation/{id}/message": {id: "addMessage", tag: "conversations", summary: "Add a message",
			desc: "Fires conversation.updated.", body: "MessageCreate", status: 201, data: "Message", conflict: "The conversation is closed."},
		"POST /conversation/{id}/captured_form": {id: "captureForm", tag: "conversations", summary: "Capture a form",
			desc: "Fires captured_form.created.", body: "CapturedFormCreate", status: 201, data: "CapturedForm", conflict: "The conversation is closed."},
		"POST /conversation/{id}/captured_intent": {id: "captureIntent", tag: "conversations", summary: "Capture an intent",
			desc: "Fires captured_intent.created.", body: "CapturedIntentCreate", status: 201, data: "CapturedIntent", conflict: "The conversation is closed."},
		"POST /conversation/{id}/close": {id: "closeConversation", tag: "conversations", summary: "Close a conversation",
			desc: "Fires conversation.closed once.", status: 200, data: "Conversation", conflict: "The conversation is already closed (no event fires)."},
		"PATCH /captured_form/{id}": {id: "updateCapturedForm", tag: "conversations", summary: "Update a captured form",
			desc: "Merges field_values into the values so far; fires captured_form.updated.", body: "CapturedFormUpdate", status: 200, data: "CapturedForm"},

		"GET /event": {id: "listEvents", tag: "events", summary: "List events as sent", status: 200, data: "EventDetail", list: true,
			query: []schema{queryParam("event", jsEnum(allEventTypes(), ""), "Only events of this type.")}},
		"GET /event/{id}":    {id: "getEvent", tag: "events", summary: "Read an event with its deliveries", status: 200, data: "EventDetail"},
		"GET /delivery/{id}": {id: "getDelivery", tag: "events", summary: "Read a delivery with its attempts", status: 200, data: "DeliveryDetail"},
		"POST /delivery/{id}/retry": {id: "retryDelivery", tag: "events", summary: "Retry a delivery now",
			desc: "Makes a new attempt due now, keeping the history.", status: 202, data: "Delivery", conflict: "The delivery's webhook was deleted."},
		"GET /event_type": {id: "listEventTypes", tag: "events", summary: "List event types with a JSON Schema of each one's data",
			status: 200, data: "EventType", list: true},
		"POST /portal_session": portalSessionOp,
	}
	insightoOps(ops)
	transformationOps(ops) // openapi_transform.go
	eventTypeOps(ops)      // openapi_eventtypes.go
	filterOps(ops)         // openapi_filter.go
	dashboardOps(ops)
	insightoFieldOps(ops) // openapi_insighto_fields.go
	return ops
}

func queryParam(name string, s schema, desc string) schema {
	return described(schema{"name": name, "in": "query", "required": false, "schema": s}, desc)
}

func dateQuery() schema {
	return schema{"type": "string", "examples": []string{"2024-04-05", "2024-04-05T22:26:08Z"}}
}

// wrapped is a success body: {"message", "data"}.
func wrapped(data schema) schema {
	return jsObject([]string{"message", "data"}, schema{"message": jsString("A short human-readable outcome."), "data": data})
}

func jsonContent(s schema) schema { return schema{"application/json": schema{"schema": s}} }

func respRef(name, desc string) schema {
	r := schema{"$ref": "#/components/responses/" + name}
	if desc != "" {
		r["description"] = desc
	}
	return r
}

// operation builds one OpenAPI operation object.
func (o apiOp) operation(path string, post bool) schema {
	var params []schema
	for _, name := range pathWildcards(path) {
		params = append(params, schema{"$ref": "#/components/parameters/" + name})
	}
	params = append(params, o.query...)
	if o.list {
		params = append(params, schema{"$ref": "#/components/parameters/page"}, schema{"$ref": "#/components/parameters/size"})
	}
	if post {
		params = append(params, schema{"$ref": "#/components/parameters/Idempotency-Key"})
	}
	data := jsRef(o.data)
	if o.list {
		data = jsObject([]string{"items", "total", "page", "size", "pages"}, schema{
			"items": jsArray(jsRef(o.data), ""),
			"total": jsInt(0, "Items in all pages."),
			"page":  jsInt(1, "This page, from 1."),
			"size":  schema{"type": "integer", "minimum": 1, "maximum": 100, "description": "Items per page."},
			"pages": jsInt(0, "ceil(total/size)."),
		})
	}
	success := schema{"description": http.StatusText(o.status), "content": jsonContent(wrapped(data))}
	if post {
		success["headers"] = schema{"Idempotent-Replayed": schema{"$ref": "#/components/headers/Idempotent-Replayed"}}
	}
	responses := schema{
		strconv.Itoa(o.status): success,
		"401":                  respRef("Unauthorized", ""),
		"default":              respRef("Error", ""),
	}
	if o.createdToo {
		created := schema{"description": http.StatusText(http.StatusCreated) + ": nothing matched, so it was created.", "content": jsonContent(wrapped(data))}
		if post {
			created["headers"] = success["headers"]
		}
		responses["201"] = created
	}
	validation := o.list || len(o.query) > 0 || o.body != "" || post || o.refuses
	if validation {
		responses["422"] = respRef("ValidationError", "")
	}
	if len(pathWildcards(path)) > 0 {
		responses["404"] = respRef("NotFound", "")
	}
	if o.body != "" {
		responses["400"] = respRef("BadRequest", "")
	}
	if o.body != "" || post {
		responses["413"] = respRef("PayloadTooLarge", "")
	}
	switch {
	case o.conflict != "" && post:
		responses["409"] = respRef("Conflict", o.conflict+" Or a request with the same Idempotency-Key is still running.")
	case o.conflict != "":
		responses["409"] = respRef("Conflict", o.conflict)
	case post:
		responses["409"] = respRef("Conflict", "A request with the same Idempotency-Key is still running.")
	}
	op := schema{"operationId": o.id, "tags": []string{o.tag}, "summary": o.summary, "responses": responses}
	if o.desc != "" {
		op["description"] = o.desc
	}
	if len(params) > 0 {
		op["parameters"] = params
	}
	if o.body != "" {
		op["requestBody"] = schema{"required": !o.bodyOptional, "content": jsonContent(jsRef(o.body))}
	}
	return op
}

// buildOpenAPI returns the whole document.
func buildOpenAPI() schema {
	paths := schema{}
	for pattern, o := range apiOps() {
		method, path, _ := strings.Cut(pattern, " ")
		full := base + path
		item, _ := paths[full].(schema)
		if item == nil {
			item = schema{}
			paths[full] = item
		}
		item[strings.ToLower(method)] = o.operation(path, method == http.MethodPost)
	}
	addAccountPaths(paths)
	assistantDeletePath(paths)
	public := func(id, summary, desc string, responses schema) schema {
		return schema{"get": schema{"operationId": id, "tags": []string{"operations"}, "summary": summary, "description": desc,
			"security": []schema{}, "responses": responses}}
	}
	health := jsonContent(jsRef("Health"))
	paths["/healthz"] = public("healthz", "Liveness", "Answers 200 while the process runs. No authentication.",
		schema{"200": schema{"description": "Alive.", "content": health}})
	paths["/readyz"] = public("readyz", "Readiness", "Answers 200 when the store is reachable, else 503. No authentication.",
		schema{"200": schema{"description": "Ready.", "content": health}, "503": schema{"description": "The store is unreachable.", "content": health}})
	paths["/metrics"] = public("metrics", "Prometheus metrics", "Delivery counters of this process and the store's deliveries by status, in Prometheus' text format. No authentication: bind AGENTHOOKS_ADDR to a private interface.",
		schema{"200": schema{"description": "The metrics.", "content": schema{"text/plain": schema{"schema": schema{"type": "string"}}}}})
	paths[base+"/openapi.json"] = public("openapi", "This document", "The OpenAPI 3.1 document of the API. No authentication.",
		schema{"200": schema{"description": "The document.", "content": jsonContent(jsRef("OpenAPIDocument"))}})

	errorResp := func(desc, name string) schema {
		return schema{"description": desc, "content": jsonContent(jsRef(name))}
	}
	components := schema{
		"schemas": openAPISchemas(),
		"responses": schema{
			"BadRequest":      errorResp("The body is not valid JSON.", "Error"),
			"Unauthorized":    errorResp("The API key is missing or wrong.", "Error"),
			"NotFound":        errorResp("No such resource in this account (ids of other accounts and malformed ids too).", "Error"),
			"Conflict":        errorResp("The resource's state does not allow this.", "Error"),
			"PayloadTooLarge": errorResp(fmt.Sprintf("The body is over %d bytes.", MaxBodyBytes), "Error"),
			"ValidationError": errorResp("Validation failed; detail lists every problem. Also: an Idempotency-Key reused with another method, path or body.", "ValidationError"),
			"Error":           errorResp("Any other error: 429 (rate limited), 503 (shutting down), 500 (never with internal details).", "Error"),
		},
		"parameters": schema{
			"id": schema{"name": "id", "in": "path", "required": true, "description": descPathID, "schema": jsString("")},
			"intent_id": schema{"name": "intent_id", "in": "path", "required": true,
				"description": "The intent's id. One that does not exist, belongs to another account or is malformed answers 404.", "schema": jsString("")},
			"contact_id": schema{"name": "contact_id", "in": "path", "required": true,
				"description": "The contact's id. One that does not exist, belongs to another account or is malformed answers 404.", "schema": jsString("")},
			"page": schema{"name": "page", "in": "query", "required": false, "description": "The page, from 1.",
				"schema": schema{"type": "integer", "minimum": 1, "maximum": 1_000_000, "default": 1}},
			"size": schema{"name": "size", "in": "query", "required": false, "description": "Items per page.",
				"schema": schema{"type": "integer", "minimum": 1, "maximum": 100, "default": 25}},
			"Idempotency-Key": schema{"name": "Idempotency-Key", "in": "header", "required": false,
				"description": "Per account: the same key, method, path and body within 24 h returns the first response and fires nothing again; " +
					"the same key with anything else answers 422; the same key while the first request is still running answers 409. " +
					"Responses 400, 401, 422 and 5xx are not remembered.",
				"schema": schema{"type": "string", "minLength": 1, "maxLength": 255}},
		},
		"headers": schema{
			"Idempotent-Replayed": schema{"description": "true when this is the remembered response to an earlier request with the same Idempotency-Key.",
				"schema": jsEnum([]string{"true"}, "")},
			"Retry-After": schema{"description": "Seconds to wait, or an HTTP date.", "schema": jsString("")},
		},
		"securitySchemes": schema{
			"apiKey":   schema{"type": "apiKey", "in": "query", "name": "api_key", "description": "The account's API key, as Insighto takes it."},
			"bearer":   schema{"type": "http", "scheme": "bearer", "description": "The account's API key as a Bearer token."},
			"adminKey": schema{"type": "http", "scheme": "bearer", "description": "The platform's admin key (AGENTHOOKS_ADMIN_KEY) as a Bearer token, for /api/v1/admin/... only."},
		},
	}
	eventTypeParameters(components["parameters"].(schema)) // openapi_eventtypes.go

	return schema{
		"openapi": "3.1.0",
		"info": schema{
			"title":   "agenthooks",
			"version": "1",
			"summary": "Webhooks for AI chat agents, on Insighto's wire format.",
			"description": "Every resource belongs to one account; another account's id answers 404, exactly as an id that does not exist. " +
				"Success bodies are {\"message\", \"data\"}; errors are {\"detail\"}, a list of {loc, msg, type} on 422. " +
				"Unknown body fields are ignored. API timestamps are RFC 3339 UTC; webhook payloads use YYYY-MM-DD HH:MM:SS.",
		},
		"servers":  []schema{{"url": "/", "description": "This server (paths include the /api/v1 base)."}},
		"security": []schema{{"apiKey": []string{}}, {"bearer": []string{}}},
		"tags": []schema{
			{"name": "webhooks", "description": "Outbound webhooks: where events go."},
			{"name": "assistants", "description": "AI agents; each may have one webhook assigned."},
			{"name": "widgets", "description": "The channels an assistant talks through (chat, phone, ...)."},
			{"name": "forms", "description": "Forms an assistant asks visitors to fill; a form may have its own webhook."},
			{"name": "intents", "description": "Named intentions an assistant can capture (e.g. SALES)."},
			{"name": "contacts", "description": "Known visitors."},
			{"name": "conversations", "description": "The runtime: conversations, messages, captured forms and intents fire the events."},
			{"name": "events", "description": "Events as sent, their deliveries and attempts."},
			{"name": "operations", "description": "Health, readiness and this document."},
			{"name": "api keys", "description": "The account's API keys: several, named, each revoked on its own."},
			{"name": "admin", "description": "The platform's admin API (AGENTHOOKS_ADMIN_KEY): accounts for its customers."},
		},
		"paths":      paths,
		"webhooks":   openAPIWebhooks(),
		"components": components,
	}
}

// openAPIWebhooks describes the deliveries agenthooks POSTs to endpoints, one
// per event type.
func openAPIWebhooks() schema {
	header := func(name, desc string, s schema) schema {
		return schema{"name": name, "in": "header", "required": true, "description": desc, "schema": s}
	}
	params := []schema{
		header("webhook-id", "The event id; the same on every attempt. Deduplicate on it.", jsID("")),
		header("webhook-timestamp", "Unix seconds of this attempt.", schema{"type": "string", "pattern": "^[0-9]+$"}),
		header("webhook-signature", "v1, and the base64 HMAC-SHA256 of {webhook-id}.{webhook-timestamp}.{body} keyed with the base64-decoded secret "+
			"(the part after whsec_); during a rotation, two space-separated signatures.",
			schema{"type": "string", "pattern": `^v1,[A-Za-z0-9+/]+=*( v1,[A-Za-z0-9+/]+=*)*$`}),
		header("User-Agent", "agenthooks/VERSION", schema{"type": "string", "pattern": "^agenthooks/"}),
	}
	hooks := schema{}
	for _, et := range eventTypes {
		name := et["name"].(string)
		hooks[name] = schema{"post": schema{
			"operationId": "on" + eventSchemaName(name),
			"summary":     name,
			"description": et["description"].(string) + " Standard Webhooks signing; the body is the exact bytes that were signed.",
			"parameters":  params,
			"requestBody": schema{"required": true, "content": jsonContent(jsRef(eventSchemaName(name) + "Event"))},
			"responses": schema{
				"2XX": schema{"description": "Any 2xx within the delivery timeout is success. Redirects are not followed (a 3xx is a failure)."},
				"410": schema{"description": "Gone: disables the webhook at once and ends its pending deliveries as failed."},
				"429": schema{"description": "Failed attempt; a Retry-After pushes the next one back (at most AGENTHOOKS_RETRY_AFTER_MAX).",
					"headers": schema{"Retry-After": schema{"$ref": "#/components/headers/Retry-After"}}},
				"503": schema{"description": "Failed attempt; a Retry-After pushes the next one back (at most AGENTHOOKS_RETRY_AFTER_MAX).",
					"headers": schema{"Retry-After": schema{"$ref": "#/components/headers/Retry-After"}}},
				"default": schema{"description": "Any other status, a timeout or a refused connection is a failed attempt, retried on the schedule."},
			},
		}}
	}
	return hooks
}

package httpapi

import (
	"slices"
	"strings"

	"github.com/agenthooks/agenthooks"
	"github.com/agenthooks/agenthooks/service"
)

// The account's own event types and publishing them (docs/events.md):
// their operations, schemas and the {name} path parameter.

const eventTypeNamePattern = `^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$`

// ownEventTypeName is the schema of an own type's name.
func ownEventTypeName() schema {
	return schema{"type": "string", "pattern": eventTypeNamePattern, "maxLength": service.MaxEventTypeNameChars,
		"description": "Lower-case words joined by dots (call.ended). The built-in names and the prefixes webhook. and delivery. are reserved (422); a name the account has already: 409."}
}

// jsonSchemaValue is the schema of a field holding a JSON Schema (an object,
// a boolean or null): anyOf the types, since oapi-codegen v2 stops on a list
// of types other than [T, "null"].
func jsonSchemaValue(desc string) schema {
	return schema{"anyOf": []schema{{"type": "object"}, {"type": "boolean"}, {"type": "null"}}, "description": desc}
}

// eventTypeSchemas sets the schemas of this area (after the built-in
// EventType, which it replaces).
func eventTypeSchemas(s schema) {
	timeOrNull := schema{"type": []string{"string", "null"}, "format": "date-time", "description": "RFC 3339, UTC; null for a built-in type."}
	s["EventType"] = jsAll(schema{
		"name":        jsString("A built-in type or one of the account's own."),
		"description": jsString(""),
		"schema":      jsonSchemaValue("A JSON Schema (2020-12) of the event's data; null for an own type without one (any object)."),
		"built_in":    jsType("boolean", "A type agenthooks fires; the others are the account's own."),
		"deprecated":  jsType("boolean", "Still publishable; flagged in reads (never for a built-in type)."),
		"created_at":  timeOrNull,
		"updated_at":  timeOrNull,
	})
	jsonSchema := jsonSchemaValue("A JSON Schema (draft 2020-12) of the events' data, at most 16 KiB; one that does not compile (or refers to another document) is 422 on schema. null or absent: any object.")
	s["EventTypeCreate"] = jsObject([]string{"name"}, schema{
		"name":        ownEventTypeName(),
		"description": schema{"type": "string", "maxLength": service.MaxDescriptionBytes},
		"schema":      jsonSchema,
	})
	s["EventTypeUpdate"] = jsObject(nil, schema{
		"description": schema{"type": "string", "maxLength": service.MaxDescriptionBytes},
		"schema":      jsonSchema,
		"deprecated":  jsType("boolean", "Deprecated types are still publishable."),
	})
	s["WebhookTest"] = jsObject(nil, schema{"event_type": jsString("A built-in type or one of the account's own; absent: webhook.test.")})
	s["EventTypeDeleted"] = jsAll(schema{"name": jsString("The deleted type's name.")})
	s["EventPublish"] = jsObject([]string{"event_type", "data"}, schema{
		"event_type": ownEventTypeName(),
		"data": schema{"type": "object", "description": "At most 64 KiB of JSON, checked against the type's schema: " +
			`a failure is 422 with loc ["body", "data", ...] down to the failing field.`},
		"assistant_id":    schema{"type": []string{"string", "null"}, "description": "An assistant of the account: its webhook gets the event too, if it subscribes (no events list: every type)."},
		"conversation_id": schema{"type": []string{"string", "null"}, "description": "A conversation of the account (of the assistant, when both are given): ordering per conversation applies."},
	})
}

// eventTypeParameters adds the {name} path parameter.
func eventTypeParameters(params schema) {
	params["name"] = schema{"name": "name", "in": "path", "required": true, "schema": jsString(""),
		"description": "An event type's name. One the account does not have (another account's too) answers 404."}
}

func eventTypeOps(ops map[string]apiOp) {
	ops["POST /event_type"] = apiOp{id: "createEventType", tag: "events", summary: "Create an event type of the account's own",
		body: "EventTypeCreate", status: 201, data: "EventType", conflict: "The account has a type of that name."}
	ops["GET /event_type/{name}"] = apiOp{id: "getEventType", tag: "events", summary: "Read an event type (built-in or own)", status: 200, data: "EventType"}
	ops["PATCH /event_type/{name}"] = apiOp{id: "updateEventType", tag: "events", summary: "Update an own event type",
		desc: "A built-in name is 422.", body: "EventTypeUpdate", bodyOptional: true, status: 200, data: "EventType"}
	ops["DELETE /event_type/{name}"] = apiOp{id: "deleteEventType", tag: "events", summary: "Delete an own event type",
		desc:   "Webhooks that name it keep their other types (one that named only it keeps the name and receives nothing). A built-in name is 422.",
		status: 200, data: "EventTypeDeleted", refuses: true}
	ops["POST /event"] = apiOp{id: "publishEvent", tag: "events", summary: "Publish an event of an own type",
		desc: "Stored with its deliveries in one transaction: to every enabled webhook whose events names the type, and to the assistant's webhook when " +
			"assistant_id is given and it subscribes. Signed, retried and replayable like any event. A built-in or unknown type is 422.",
		body: "EventPublish", status: 201, data: "EventDetail"}
	// POST .../test takes an optional {event_type}.
	if op, ok := ops["POST /outbound_webhook/{id}/test"]; ok {
		op.body, op.bodyOptional = "WebhookTest", true
		op.desc += " With event_type, sends that type's example envelope instead: a built-in type's example, or one of the account's own " +
			"with the first of its schema's examples as data (else {}). An unknown type is 422 on event_type."
		ops["POST /outbound_webhook/{id}/test"] = op
	}
	// GET /event?event= takes the account's own names too.
	for _, q := range ops["GET /event"].query {
		widenEventEnums(q)
	}
}

// allowOwnEventTypes widens every enum of event types in s (a webhook's
// events, an event's type, the GET /event filter) to the account's own
// names too, and adds the envelope of an own type's event to
// EventEnvelope. It runs last, over the reflected schemas as well.
func allowOwnEventTypes(s schema) {
	widenEventEnums(s)
	s["OwnEventEvent"] = jsAll(schema{
		"id":         jsID("The event id (UUIDv7), also sent as webhook-id; the same on every attempt. Receivers deduplicate on it."),
		"object":     schema{"const": "event", "type": "string"},
		"event":      ownEventTypeName(),
		"created_at": seedTimeSchema(),
		"data":       schema{"type": "object", "description": "As published (POST /event), valid against the type's schema."},
	})
	// anyOf, not oneOf: an own type's name has the shape of the built-in
	// ones, so a built-in envelope matches both.
	if env, ok := s["EventEnvelope"].(schema); ok {
		if one, ok := env["oneOf"].([]schema); ok {
			delete(env, "oneOf")
			env["anyOf"] = append(one, jsRef("OwnEventEvent"))
		}
	}
}

// widenEventEnums replaces each enum of EventTypes or SentEventTypes under v
// by anyOf that enum and an own type's name.
func widenEventEnums(v any) {
	switch v := v.(type) {
	case schema:
		if enum, ok := v["enum"].([]string); ok && (slices.Equal(enum, agenthooks.EventTypes) || slices.Equal(enum, agenthooks.SentEventTypes)) {
			// One string with the names' pattern, not anyOf the enum and
			// the pattern: generators turn that anyOf into a union type a
			// client must wrap every name in; the built-in names are listed
			// in the description and as examples instead.
			desc, _ := v["description"].(string)
			clear(v)
			own := ownEventTypeName()
			v["type"], v["pattern"], v["maxLength"] = "string", own["pattern"], own["maxLength"]
			v["examples"] = enum
			v["description"] = strings.TrimSpace(desc + " A built-in type (" + strings.Join(enum, ", ") + ") or one of the account's own.")
			return
		}
		for _, x := range v {
			widenEventEnums(x)
		}
	case []schema:
		for _, x := range v {
			widenEventEnums(x)
		}
	case []any:
		for _, x := range v {
			widenEventEnums(x)
		}
	}
}

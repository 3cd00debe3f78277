package httpapi

import "github.com/agenthooks/agenthooks/transform"

// Transformations (docs/events.md#transformations): the webhook's
// transformation field, the attempt's request, the test and the templates.

const transformationDesc = "JavaScript defining function handler(webhook), as Svix's transformations: it gets " +
	"{method: \"POST\", url, eventType, payload, headers} and returns it, having changed method (POST, PUT, PATCH), url (http or https, " +
	"held to the endpoint rules at dial time), payload (any JSON value: the body sent), headers (never the signature headers or Content-Type), " +
	"or set cancel = true (the delivery ends canceled). Runs before each attempt with at most 100 ms and 256 KiB of output; a throw, a " +
	"time-out or a bad return fails that attempt (its error says why, with line and column). Null: the envelope is sent as it is."

// anyJSON is the schema of a field that holds any JSON value: anyOf the
// types, since oapi-codegen v2 stops on a list of types other than [T, "null"].
func anyJSON(desc string) schema {
	var types []schema
	for _, t := range []string{"object", "array", "string", "number", "boolean", "null"} {
		types = append(types, schema{"type": t})
	}
	return schema{"anyOf": types, "description": desc}
}

// transformationWrite is the transformation a create or PATCH takes.
func transformationWrite() schema {
	return schema{
		"type": []string{"object", "null"},
		"properties": schema{
			"code":    schema{"type": "string", "maxLength": transform.MaxCode, "description": "Code that does not compile is 422 on body.transformation.code, with the line and column."},
			"enabled": schema{"type": "boolean", "default": true},
		},
		"required":    []string{"code"},
		"description": transformationDesc + " On PATCH, null removes it.",
	}
}

// transformationSchemas adds the request schemas of this area and its
// results (the webhook's and attempt's fields are reflected from their views).
func transformationSchemas(s schema) {
	for _, name := range []string{"WebhookCreate", "WebhookUpdate"} {
		addProperty(s[name].(schema), "transformation", transformationWrite(), false)
	}
	s["TransformationTest"] = jsObject(nil, schema{
		"code":       schema{"type": "string", "maxLength": transform.MaxCode, "description": "The code to run; absent: the webhook's own."},
		"event_id":   jsID("An event of the account to run on; absent: the event_type and payload given, or else the account's latest event."),
		"event_type": jsType("string", "The type of the envelope built around payload."),
		"payload":    anyJSON("The event's data (an envelope is built around it), or a whole envelope."),
	})
	s["TransformationResult"] = jsAll(schema{
		"method":  jsType("string", "POST, PUT or PATCH."),
		"url":     jsType("string", ""),
		"headers": schema{"type": "object", "additionalProperties": jsString(""), "description": "The extra headers sent."},
		"body":    anyJSON("The body that would be sent (a JSON value); null when canceled."),
		"cancel":  jsType("boolean", "The delivery would end canceled, with no request."),
	})
	s["TransformationTemplate"] = jsAll(schema{
		"name":        schema{"type": "string", "enum": templateNames()},
		"description": jsType("string", ""),
		"code":        jsType("string", "A whole transformation, to use as it is or start from."),
	})
	s["TransformationTemplates"] = schema{"type": "array", "items": jsRef("TransformationTemplate")}
}

// addProperty adds a property to an object schema, and to its required
// list when required.
func addProperty(obj schema, name string, v schema, required bool) {
	props, _ := obj["properties"].(schema)
	if props == nil {
		props = schema{}
		obj["properties"] = props
	}
	props[name] = v
	if required {
		if r, ok := obj["required"].([]string); ok {
			obj["required"] = append(r, name)
		}
	}
}

func templateNames() []string {
	var names []string
	for _, t := range transform.Templates {
		names = append(names, t.Name)
	}
	return names
}

func transformationOps(ops map[string]apiOp) {
	ops["POST /outbound_webhook/{id}/transformation/test"] = apiOp{id: "testWebhookTransformation", tag: "webhooks",
		summary: "Run a transformation without sending",
		desc: "Runs code (or the webhook's own) on an event of the account, an envelope built from event_type and payload, or the latest event, " +
			"and answers the request that would be sent. A throw, a time-out, a bad return or code that does not compile is 422 on body.code, with line and column.",
		body: "TransformationTest", bodyOptional: true, status: 200, data: "TransformationResult"}
	ops["GET /transformation_template"] = apiOp{id: "listTransformationTemplates", tag: "webhooks", summary: "List transformation templates",
		desc:   "slack, discord, teams and google_chat: each turns every built-in event into that service's incoming-webhook message.",
		status: 200, data: "TransformationTemplates"}
}

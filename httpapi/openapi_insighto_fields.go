package httpapi

import (
	"reflect"
	"slices"

	"github.com/agenthooks/agenthooks"
)

// The OpenAPI document's parts for Insighto's fields (insighto_fields.go):
// the profile structs' fields are described from the structs themselves, so
// a field added to one is in the document too.

const keptDesc = "Insighto's; kept and returned, nothing more."

// profileSchema describes a profile field as a response carries it (read
// true) or as a request may give it (null clears).
func profileFieldSchema(t reflect.Type, read bool) schema {
	var s schema
	switch profileFieldKind(t) {
	case kDict:
		s = schema{"type": "object", "additionalProperties": true, "description": "A JSON object, {} when never set. " + keptDesc}
	case kList:
		s = schema{"type": "array", "description": "A list, [] when never set. " + keptDesc}
		if t == typeStrings {
			s["items"] = schema{"type": "string"}
		}
	case kBool:
		s = schema{"type": "boolean", "description": "false when never set. " + keptDesc}
	default:
		s = schema{"type": []string{"string", "null"}, "description": "null when never set. " + keptDesc}
	}
	if !read {
		if typ, ok := s["type"].(string); ok {
			s["type"] = []string{typ, "null"}
		}
		s["description"] = s["description"].(string) + " null clears it."
	}
	return s
}

// addProps adds properties to an object schema (required too when req).
func addProps(obj schema, req bool, props schema) {
	p := obj["properties"].(schema)
	for k, v := range props {
		p[k] = v
	}
	if req {
		r, _ := obj["required"].([]string)
		for k := range props {
			if !slices.Contains(r, k) {
				r = append(r, k)
			}
		}
		slices.Sort(r)
		obj["required"] = r
	}
}

func profileProps(proto any, read bool) schema {
	out := schema{}
	for _, f := range profileFields(proto) {
		out[jsonName(f)] = profileFieldSchema(f.Type, read)
	}
	return out
}

// insightoFieldSchemas adds Insighto's fields to the request bodies (the
// responses are reflected from the views, profile structs included).
func insightoFieldSchemas(s schema) {
	sch := func(name string) schema { return s[name].(schema) }
	optionalName := described(schema{"type": []string{"string", "null"}, "maxLength": nameMax}, "Optional, as Insighto's; null when none was given.")

	// Assistants: voice is Insighto's boolean; the voice's name is voice_name.
	for _, name := range []string{"AssistantCreate", "AssistantUpdate"} {
		addProps(sch(name), false, profileProps(agenthooks.AssistantProfile{}, name == "AssistantCreate"))
		addProps(sch(name), false, schema{
			"name":       optionalName,
			"voice":      jsType("boolean", "Insighto's boolean: true or false (a string is 422)."),
			"voice_name": described(schema{"type": []string{"string", "null"}, "maxLength": nameMax}, "The voice's name; giving one sets voice true on creation."),
		})
	}
	delete(sch("AssistantCreate"), "required")

	// Widgets: name and assistant_id optional (such a widget takes no conversations until it has one).
	for _, name := range []string{"WidgetCreate", "WidgetUpdate"} {
		addProps(sch(name), false, profileProps(agenthooks.WidgetProfile{}, false))
		addProps(sch(name), false, schema{"name": optionalName, "assistant_id": jsNullID("The assistant it belongs to (" + descRefID + "); null for none.")})
	}
	sch("WidgetCreate")["required"] = []string{"widget_type"}

	// Intents: name optional; is_active reads true when never set.
	addProps(sch("IntentCreate"), false, profileProps(agenthooks.IntentProfile{}, false))
	addProps(sch("IntentCreate"), false, schema{"name": optionalName})
	delete(sch("IntentCreate"), "required")

	// Contacts: what a client sets (what agenthooks derives is only read).
	for _, name := range []string{"ContactCreate", "ContactUpdate"} {
		addProps(sch(name), false, profileProps(agenthooks.ContactProfile{}, false))
	}

	// Conversations.
	addProps(sch("ConversationCreate"), false, schema{"unique_device_id": described(schema{"type": []string{"string", "null"}}, "Insighto's device id; kept and returned.")})
	s["ConversationClose"] = jsObject(nil, schema{"summary": described(schema{"type": []string{"string", "null"}, "maxLength": 16384},
		"The conversation's summary (e.g. written by the agent): kept and shown in GET /conversation's rows. At most 16 KiB.")})
}

// insightoFieldOps updates the operations whose input or rows carry
// Insighto's fields.
func insightoFieldOps(ops map[string]apiOp) {
	op := ops["GET /conversation/by-contact/{contact_id}"]
	op.data = "ConversationRow"
	ops["GET /conversation/by-contact/{contact_id}"] = op
	op = ops["POST /conversation/{id}/close"]
	op.body, op.bodyOptional = "ConversationClose", true
	op.desc += " An optional {summary} is kept on the conversation."
	ops["POST /conversation/{id}/close"] = op
}

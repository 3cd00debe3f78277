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

// insightoFieldSchemas adds Insighto's fields to the resources' schemas and
// the schema of a GET /conversation row.
func insightoFieldSchemas(s schema) {
	sch := func(name string) schema { return s[name].(schema) }
	orgID := jsID("The account's id (Insighto's organisation).")
	optionalName := described(schema{"type": []string{"string", "null"}, "maxLength": nameMax}, "Optional, as Insighto's; null when none was given.")

	// Assistants: voice is Insighto's boolean; the voice's name is voice_name.
	addProps(sch("Assistant"), true, profileProps(agenthooks.AssistantProfile{}, true))
	addProps(sch("Assistant"), true, schema{
		"org_id": orgID, "name": optionalName,
		"voice":      jsType("boolean", "Insighto's: the assistant speaks. An assistant stored with a voice name before voice became a boolean reads true."),
		"voice_name": jsNullString("The voice it speaks with (this API's voice string before it took Insighto's boolean); null when none."),
	})
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
	addProps(sch("Widget"), true, profileProps(agenthooks.WidgetProfile{}, true))
	addProps(sch("Widget"), true, schema{"org_id": orgID, "name": optionalName,
		"assistant_id": jsNullID("Its assistant; null when none yet (it takes no conversations until it has one: POST /conversation answers 422 on widget_id).")})
	for _, name := range []string{"WidgetCreate", "WidgetUpdate"} {
		addProps(sch(name), false, profileProps(agenthooks.WidgetProfile{}, false))
		addProps(sch(name), false, schema{"name": optionalName, "assistant_id": jsNullID("The assistant it belongs to (" + descRefID + "); null for none.")})
	}
	sch("WidgetCreate")["required"] = []string{"widget_type"}

	// Intents: name optional; is_active reads true when never set.
	addProps(sch("Intent"), true, profileProps(agenthooks.IntentProfile{}, true))
	addProps(sch("Intent"), true, schema{"name": optionalName})
	sch("Intent")["properties"].(schema)["is_active"] = jsType("boolean", "true when never set. "+keptDesc)
	addProps(sch("IntentCreate"), false, profileProps(agenthooks.IntentProfile{}, false))
	addProps(sch("IntentCreate"), false, schema{"name": optionalName})
	delete(sch("IntentCreate"), "required")

	// Contacts: what a client sets, and what agenthooks derives.
	derivedID := func(which string) schema {
		return jsNullID("Derived: the " + which + " of the contact's first or last conversation (by creation); null before any.")
	}
	addProps(sch("Contact"), true, profileProps(agenthooks.ContactProfile{}, true))
	addProps(sch("Contact"), true, schema{
		"org_id":             orgID,
		"first_assistant_id": derivedID("assistant"), "first_widget_id": derivedID("widget"),
		"last_assistant_id": derivedID("assistant"), "last_widget_id": derivedID("widget"),
		"last_seen": jsNullTime("Derived: the latest activity of any of its conversations; null before any."),
		"last_sent": jsNullTime("Derived: its latest message (sender_type user); null before any."),
	})
	for _, name := range []string{"ContactCreate", "ContactUpdate"} {
		addProps(sch(name), false, profileProps(agenthooks.ContactProfile{}, false))
	}

	// Conversations.
	convFields := schema{
		"unique_device_id": jsNullString("Insighto's: as given at creation; null when none."),
		"includes_voice":   jsType("boolean", "Derived: a message of message_type voice was added."),
		"summary":          jsNullString("As reported when it was closed (POST /conversation/{id}/close {summary}); null when none."),
	}
	addProps(sch("Conversation"), true, convFields)
	addProps(sch("ConversationDetail"), true, convFields)
	addProps(sch("ConversationCreate"), false, schema{"unique_device_id": described(schema{"type": []string{"string", "null"}}, "Insighto's device id; kept and returned.")})
	row := schema{"type": "object", "properties": schema{}}
	for k, v := range sch("Conversation")["properties"].(schema) {
		row["properties"].(schema)[k] = v
	}
	addProps(row, true, schema{
		"assistant_name":     jsNullString("Derived: its assistant's name."),
		"contact_first_name": jsNullString("Derived: its contact's first name."),
		"contact_last_name":  jsNullString("Derived: its contact's last name."),
		"intent_name":        jsNullString("Derived: the name of the last intent it captured; null when none."),
		"widget_provider":    jsNullString("Derived: its widget's widget_provider."),
		"widget_type":        jsNullString("Derived: its widget's widget_type."),
	})
	addProps(row, true, sch("Conversation")["properties"].(schema))
	s["ConversationRow"] = row
	s["ConversationClose"] = jsObject(nil, schema{"summary": described(schema{"type": []string{"string", "null"}, "maxLength": 16384},
		"The conversation's summary (e.g. written by the agent): kept and shown in GET /conversation's rows. At most 16 KiB.")})
}

// insightoFieldOps updates the operations whose input or rows carry
// Insighto's fields.
func insightoFieldOps(ops map[string]apiOp) {
	op := ops["GET /conversation"]
	op.data = "ConversationRow"
	for i, q := range op.query {
		switch q["name"] {
		case "intent_id":
			op.query[i] = queryParam("intent_id", jsID(""), "Only conversations that captured this intent (another account's or a malformed id answers 422).")
		case "includes_voice":
			op.query[i] = queryParam("includes_voice", schema{"type": "boolean"}, "Only conversations with (true) or without (false) a voice message; any other value answers 422.")
		}
	}
	ops["GET /conversation"] = op
	op = ops["GET /conversation/by-contact/{contact_id}"]
	op.data = "ConversationRow"
	ops["GET /conversation/by-contact/{contact_id}"] = op
	op = ops["POST /conversation/{id}/close"]
	op.body, op.bodyOptional = "ConversationClose", true
	op.desc += " An optional {summary} is kept on the conversation."
	ops["POST /conversation/{id}/close"] = op
}

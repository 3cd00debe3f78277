package httpapi

import (
	"fmt"
	"slices"
	"strings"

	"github.com/agenthooks/agenthooks"
)

// The OpenAPI document's parts for assistants, widgets and Insighto's own
// routes (routesInsighto in insighto.go).

// widgetTypesDesc names each widget type with its readable label.
func widgetTypesDesc() string {
	parts := make([]string, len(agenthooks.WidgetTypes))
	for i, t := range agenthooks.WidgetTypes {
		parts[i] = t.Name + ": " + t.Label
	}
	return "Insighto's widget types (value: readable name): " + strings.Join(parts, "; ") + "."
}

// widgetTypeInput is widget_type as a request may give it: Insighto's types
// and the older names that are stored and read as current ones.
func widgetTypeInput() schema {
	aliases := agenthooks.WidgetTypeAliases()
	desc := widgetTypesDesc()
	for _, a := range aliases {
		name, _ := agenthooks.CanonicalWidgetType(a)
		desc += fmt.Sprintf(" %q is accepted as well, and stored and read as %q.", a, name)
	}
	return jsEnum(append(agenthooks.WidgetTypeNames(), aliases...), desc+" Any other value is 422.")
}

func assistantTypeInput() schema {
	return jsEnum(append(slices.Clone(agenthooks.AssistantTypes), "personal"),
		`One of Insighto's assistant types; "personal" (this API's default before) is accepted and stored as "simple". Any other value is 422.`)
}

// insightoSchemas adds the schemas of assistants, widgets, contact updates
// and transcript messages.
func insightoSchemas(s schema) {
	kept := " Kept and returned, nothing more."
	descriptive := func(required bool) schema {
		nullable := func(s schema) schema {
			if !required {
				s["type"] = []string{"string", "null"}
				s["description"] = s["description"].(string) + " null clears it."
			}
			return s
		}
		return schema{
			"description":   nullable(schema{"type": "string", "maxLength": 4096, "description": "At most 4 KiB." + kept}),
			"llm_model":     nullable(schema{"type": "string", "maxLength": nameMax, "description": "The model the agent runs on, e.g. gpt-4o." + kept}),
			"system_prompt": nullable(schema{"type": "string", "maxLength": 65536, "description": "At most 64 KiB." + kept}),
			"voice":         nullable(schema{"type": "string", "maxLength": nameMax, "description": "The voice of a voice agent." + kept}),
			"voice_languages": schema{"type": []string{"array", "null"}, "maxItems": 100, "items": schema{"type": "string", "maxLength": nameMax},
				"description": "Language codes, e.g. en-US; at most 100." + kept},
			"attributes": schema{"type": []string{"object", "null"}, "description": "Free attributes, at most 16 KiB of JSON nested at most 16 levels." + kept},
		}
	}
	create := descriptive(true)
	create["name"] = nameSchema()
	create["assistant_type"] = withDefault(assistantTypeInput(), agenthooks.DefaultAssistantType)
	create["webhook_id"] = jsNullID("The webhook to assign; " + descRefID + ".")
	s["AssistantCreate"] = jsObject([]string{"name"}, create)
	update := descriptive(false)
	update["name"] = nameSchema()
	update["assistant_type"] = assistantTypeInput()
	update["webhook_id"] = jsNullID(`"Assign Webhook": a webhook id (` + descRefID + `), or null to unassign.`)
	s["AssistantUpdate"] = jsObject(nil, update)

	s["WidgetCreate"] = jsObject([]string{"assistant_id", "name", "widget_type"}, schema{
		"assistant_id": jsID("The assistant it belongs to; " + descRefID + "."),
		"name":         nameSchema(),
		"widget_type":  widgetTypeInput(),
	})
	s["WidgetUpdate"] = jsObject(nil, schema{
		"assistant_id": jsID("Move it to another assistant; " + descRefID + "."),
		"name":         nameSchema(),
		"widget_type":  widgetTypeInput(),
	})

	contactField := func(desc string) schema {
		return described(schema{"type": []string{"string", "null"}, "maxLength": nameMax}, desc+"null or \"\" clears it.")
	}
	s["ContactUpdate"] = jsObject(nil, schema{
		"first_name": contactField(""), "last_name": contactField(""),
		"email": contactField("Must contain @; "), "phone_number": contactField(""),
	})

	s["TranscriptMessage"] = jsAll(schema{
		"id": jsID(""), "conversation_id": jsID(""),
		"sender_type":  jsEnum(agenthooks.SenderTypes, ""),
		"message_type": jsEnum(agenthooks.MessageTypes, ""),
		"text":         jsString(""),
		"voice_base64": schema{"type": "null", "description": "Always null."},
		"data_sources": schema{"type": "null", "description": "Always null."},
		"created_at":   described(seedTimeSchema(), "UTC, YYYY-MM-DD HH:MM:SS, as in a delivery's transcript."),
		"updated_at":   described(seedTimeSchema(), "The same as created_at."),
		"char_count":   jsInt(0, "Characters (runes) in text."),
	})
}

// insightoOps adds Insighto's own routes to ops.
func insightoOps(ops map[string]apiOp) {
	asPatch := "As PATCH (Insighto's clients update with PUT): the fields given change, the others stay."
	ops["PUT /assistant/{id}"] = apiOp{id: "putAssistant", tag: "assistants", summary: "Update an assistant (Insighto's PUT)",
		desc: asPatch, body: "AssistantUpdate", bodyOptional: true, status: 200, data: "Assistant"}
	ops["POST /assistant/{id}/intent/{intent_id}"] = apiOp{id: "addAssistantIntent", tag: "assistants", summary: "Let an assistant use an intent",
		desc: "Answers Insighto's assistant-intent record {id, assistant_id, intent_id, is_active, attributes}; the assistant's intent_ids now hold the intent (adding it again changes nothing, and answers the same id).", status: 200, data: "AssistantIntent"}
	ops["DELETE /assistant/{id}/intent/{intent_id}"] = apiOp{id: "removeAssistantIntent", tag: "assistants", summary: "Stop an assistant using an intent",
		desc: "Answers the assistant without the intent in its intent_ids; 404 if it did not use it.", status: 200, data: "Assistant"}

	ops["PUT /widget/{id}"] = apiOp{id: "putWidget", tag: "widgets", summary: "Update a widget (Insighto's PUT)",
		desc: asPatch, body: "WidgetUpdate", bodyOptional: true, status: 200, data: "Widget"}
	ops["PATCH /widget/{id}"] = apiOp{id: "updateWidget", tag: "widgets", summary: "Update a widget",
		desc: "Only the fields given change.", body: "WidgetUpdate", bodyOptional: true, status: 200, data: "Widget"}
	ops["DELETE /widget/{id}"] = apiOp{id: "deleteWidget", tag: "widgets", summary: "Delete a widget",
		desc: "Its conversations keep its id.", status: 200, data: "Deleted"}

	ops["GET /intent/list"] = apiOp{id: "listIntentsInsighto", tag: "intents", summary: "List intents (Insighto's path)",
		desc: "The same as GET /intent.", status: 200, data: "Intent", list: true}
	ops["DELETE /intent/{id}"] = apiOp{id: "deleteIntent", tag: "intents", summary: "Delete an intent",
		desc: "Assistants stop using it; captured intents keep its id.", status: 200, data: "Deleted"}

	ops["PUT /contact/{id}"] = apiOp{id: "putContact", tag: "contacts", summary: "Update a contact (Insighto's PUT)",
		desc: asPatch, body: "ContactUpdate", bodyOptional: true, status: 200, data: "Contact"}
	ops["PATCH /contact/{id}"] = apiOp{id: "updateContact", tag: "contacts", summary: "Update a contact",
		desc: "Only the fields given change.", body: "ContactUpdate", bodyOptional: true, status: 200, data: "Contact"}
	notGiven := " An empty value counts as not given."
	ops["POST /contact/upsert"] = apiOp{id: "upsertContact", tag: "contacts", summary: "Update or create a contact by email or phone number",
		desc: "Takes its fields as query parameters, as Insighto's API does. Finds this account's contact whose email matches " +
			"(compared trimmed of surrounding spaces and lower-cased: \" Ada@Example.COM\" matches \"ada@example.com\") or, " +
			"failing that, whose phone number matches (compared without spaces, dashes, dots and parentheses, a leading + kept: " +
			"\"+1 (555) 010-9999\" matches \"+15550109999\"); when several match, the oldest. " +
			"It updates the given fields of that contact (200) or creates a contact with them (201). " +
			"An email or a phone number is required: with neither, 422 at [\"query\", \"email\"].",
		status: 200, createdToo: true, data: "Contact", query: []schema{
			queryParam("first_name", schema{"type": "string", "maxLength": nameMax}, "The first name to set."+notGiven),
			queryParam("last_name", schema{"type": "string", "maxLength": nameMax}, "The last name to set."+notGiven),
			queryParam("email", schema{"type": "string", "maxLength": nameMax}, "Matched trimmed and lower-cased; must contain @. Stored as given, trimmed."+notGiven),
			queryParam("phone_number", schema{"type": "string", "maxLength": nameMax}, "Matched without spaces, dashes, dots and parentheses. Stored as given, trimmed."+notGiven),
		}}

	ops["GET /conversation/{id}/transcript"] = apiOp{id: "listTranscript", tag: "conversations", summary: "List a conversation's messages",
		desc: "Oldest first, paged; each message as in a delivery's transcript.", status: 200, data: "TranscriptMessage", list: true}
	ops["GET /conversation/by-contact/{contact_id}"] = apiOp{id: "listContactConversations", tag: "conversations", summary: "List a contact's conversations",
		desc: "The conversations started with this contact_id, newest first, paged.", status: 200, data: "Conversation", list: true}
}

package payload

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"

	"github.com/agenthooks/agenthooks"
)

// DataOf returns a zero value of the data struct of the event type name, nil
// for a type it does not know. It is the wire format's side of
// agenthooks.EventTable: TestEveryEventTypeHasData fails when a type lacks
// one.
func DataOf(name string) any {
	switch name {
	case agenthooks.EventCapturedFormCreated, agenthooks.EventCapturedFormUpdated:
		return CapturedForm{}
	case agenthooks.EventCapturedIntentCreated:
		return CapturedIntent{}
	case agenthooks.EventConversationClosed, agenthooks.EventConversationUpdated:
		return Conversation{}
	case agenthooks.EventWebhookTest:
		return Test{}
	case agenthooks.EventWebhookDisabled:
		return WebhookDisabled{}
	case agenthooks.EventDeliveryFailed:
		return DeliveryFailed{}
	}
	return nil
}

// schemaEnums are the value lists a `schema:"enum=NAME"` tag names.
var schemaEnums = map[string][]string{
	"device_type":     agenthooks.DeviceTypes,
	"sender_type":     agenthooks.SenderTypes,
	"message_type":    agenthooks.MessageTypes,
	"disabled_reason": {agenthooks.DisabledGone, agenthooks.DisabledFailing, agenthooks.DisabledManual},
}

// schemaLimits are the bounds a `schema:"max=NAME"` tag names.
var schemaLimits = map[string]int{"transcript": TranscriptLimit}

var rawMessage = reflect.TypeOf(json.RawMessage(nil))

// TimePattern is the regular expression of TimeLayout, for JSON Schemas.
const TimePattern = `^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$`

// Schema returns the JSON Schema (2020-12) of a data struct such as
// CapturedForm{}, built from its fields: every key is required (all are sent
// on every event), and the `schema` tag refines a field's type: "uuid" (a
// UUID string), "time" (the envelope's time format), "null" (always null),
// "enum=NAME" (one of a list of values), "max=NAME" (a list's largest
// length). A `doc` tag describes the field.
func Schema(data any) map[string]any {
	return structSchema(reflect.TypeOf(data))
}

func structSchema(t reflect.Type) map[string]any {
	props := map[string]any{}
	required := []string{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" || !f.IsExported() {
			continue
		}
		s := fieldSchema(f.Type, f.Tag.Get("schema"))
		if doc := f.Tag.Get("doc"); doc != "" {
			s["description"] = doc
		}
		props[name] = s
		required = append(required, name)
	}
	return map[string]any{"type": "object", "required": required, "properties": props}
}

func fieldSchema(t reflect.Type, tag string) map[string]any {
	opts := map[string]string{}
	for _, o := range strings.Split(tag, ",") {
		if o != "" {
			k, v, _ := strings.Cut(o, "=")
			opts[k] = v
		}
	}
	if _, ok := opts["null"]; ok {
		return map[string]any{"type": "null"}
	}
	nullable := false
	if t.Kind() == reflect.Pointer {
		nullable, t = true, t.Elem()
	}
	var s map[string]any
	switch {
	case t == rawMessage, t.Kind() == reflect.Map:
		s = map[string]any{"type": "object"}
	case t.Kind() == reflect.Struct:
		s = structSchema(t)
	case t.Kind() == reflect.Slice:
		s = map[string]any{"type": "array", "items": fieldSchema(t.Elem(), "")}
		if name, ok := opts["max"]; ok {
			s["maxItems"] = schemaLimits[name]
		}
	case t.Kind() == reflect.String:
		s = map[string]any{"type": "string"}
		if _, ok := opts["uuid"]; ok {
			s["format"] = "uuid"
		}
		if _, ok := opts["time"]; ok {
			s["pattern"] = TimePattern
			s["description"] = "UTC, YYYY-MM-DD HH:MM:SS"
		}
		if name, ok := opts["enum"]; ok {
			s["enum"] = schemaEnums[name]
		}
	case t.Kind() == reflect.Int:
		s = map[string]any{"type": "integer", "minimum": 0}
	case t.Kind() == reflect.Bool:
		s = map[string]any{"type": "boolean"}
	default:
		// A kind no data struct uses yet: say so where it shows, in the
		// schema, rather than guess (TestSchema checks none is left).
		s = map[string]any{"description": fmt.Sprintf("unsupported Go type %s", t)}
	}
	if typ, ok := s["type"].(string); ok && nullable {
		s["type"] = []string{typ, "null"}
	}
	return s
}

package httpapi

// Component schemas reflected from the Go types the handlers answer with, so
// that a field added to a view is in the document by construction. A field's
// JSON name comes from its json tag; an embedded struct without one is
// inlined (the profile structs of package agenthooks among them). Every field
// is required (a view always carries it) unless its json tag says omitempty.
// A pointer is nullable. Two tags refine a field:
//
//	doc:"..."   its description
//	oapi:"..."  comma-separated options:
//	            uuid, date-time, uri  (string formats)
//	            notnull               (a pointer that is never null)
//	            enum=NAME             (one of reflectEnums[NAME]; null too when nullable)
//	            ref=NAME              (the component schema NAME, e.g. a payload)
//	            min=N                 (an integer's minimum)
//	            max=N                 (a string's maxLength, a list's maxItems)
//	            free                  (any JSON object: additionalProperties true)
//	            optional              (not required though always sent)
//
// Schemas that are not a Go type's (request bodies, which decode.go reads
// field by field) are still registered by name in openAPISchemas.

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/agenthooks/agenthooks"
)

// reflectEnums are the value lists an `oapi:"enum=NAME"` tag names.
var reflectEnums = map[string][]string{
	"event_type":      agenthooks.EventTypes,
	"sent_event_type": agenthooks.SentEventTypes,
	"delivery_status": agenthooks.DeliveryStatuses,
	"device_type":     agenthooks.DeviceTypes,
	"sender_type":     agenthooks.SenderTypes,
	"message_type":    agenthooks.MessageTypes,
	"field_type":      agenthooks.FieldTypes,
	"ordering":        {agenthooks.OrderingNone, agenthooks.OrderingConversation},
	"disabled_reason": {agenthooks.DisabledGone, agenthooks.DisabledFailing, agenthooks.DisabledManual},
	"conv_status":     {"open", "closed"},
	"destination":     destinationTypes,
	"widget_type":     agenthooks.WidgetTypeNames(),
}

// reflectedViews are the component schemas reflected from view types.
func reflectedViews() map[string]any {
	return map[string]any{
		"Webhook":            webhookView{},
		"Assistant":          assistantView{},
		"Widget":             widgetView{},
		"Form":               formView{},
		"FormField":          agenthooks.FormField{},
		"Intent":             intentView{},
		"Contact":            contactView{},
		"Message":            messageView{},
		"Conversation":       conversationView{},
		"ConversationDetail": conversationDetail{},
		"ConversationRow":    conversationRowView{},
		"CapturedForm":       capturedFormView{},
		"CapturedIntent":     capturedIntentView{},
		"Attempt":            attemptView{},
		"Delivery":           deliveryView{},
		"DeliveryDetail":     deliveryDetail{},
		"DeliveryRow":        deliveryRowView{},
		"Event":              eventView{},
		"EventDetail":        eventDetail{},
		"Destination":        destinationView{},
		"WebhookTLS":         webhookTLSView{},
		"Transformation":     transformationView{},
		"FilterTestResult":   filterTestResult{}, // httpapi/filter.go
		"AssistantIntent":    assistantIntentView{},
	}
}

// reflectedTypes maps a view's type to its component name, so that a field
// of that type refers to the component rather than inlining it.
var reflectedTypes = func() map[reflect.Type]string {
	m := map[reflect.Type]string{}
	for name, v := range reflectedViews() {
		m[reflect.TypeOf(v)] = name
	}
	return m
}()

// addReflectedSchemas sets the reflected components in s, replacing any
// registered under the same name.
func addReflectedSchemas(s schema) {
	for name, v := range reflectedViews() {
		s[name] = reflectStruct(reflect.TypeOf(v))
	}
	// The webhook as created or rotated: the same and its secret.
	ws := reflectStruct(reflect.TypeOf(webhookView{}))
	secret := webhookSecretSchema()
	secret["type"] = []string{"string", "null"}
	secret["description"] = secret["description"].(string) + " A response replayed for a reused Idempotency-Key shows the current secret, or null once the webhook is deleted."
	addProps(ws, true, schema{"secret": secret})
	s["WebhookWithSecret"] = ws
}

func webhookSecretSchema() schema {
	return schema{"type": "string", "pattern": "^whsec_[A-Za-z0-9+/]+=*$",
		"description": "The signing secret: whsec_ and the base64 of at least 24 random bytes. Shown here and by GET .../secret only."}
}

// profileTypes are the embedded profile structs, described by
// profileFieldSchema (insighto_fields.go reads their fields the same way).
var profileTypes = []reflect.Type{
	reflect.TypeOf(agenthooks.AssistantProfile{}), reflect.TypeOf(agenthooks.WidgetProfile{}),
	reflect.TypeOf(agenthooks.IntentProfile{}), reflect.TypeOf(agenthooks.ContactProfile{}),
}

// reflectStruct is the object schema of struct type t.
func reflectStruct(t reflect.Type) schema {
	props := schema{}
	var required []string
	collectFields(t, props, &required)
	slices.Sort(required)
	s := schema{"type": "object", "properties": props}
	if len(required) > 0 {
		s["required"] = required
	}
	return s
}

func collectFields(t reflect.Type, props schema, required *[]string) {
	profile := slices.Contains(profileTypes, t)
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		name, opts, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			collectFields(f.Type, props, required)
			continue
		}
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		var s schema
		if profile {
			s = profileFieldSchema(f.Type, true)
		} else {
			s = reflectField(f)
		}
		if doc := f.Tag.Get("doc"); doc != "" {
			s["description"] = doc
		}
		props[name] = s
		if !strings.Contains(opts, "omitempty") && !slices.Contains(tagOptions(f)["optional"], "") {
			*required = append(*required, name)
		}
	}
}

// tagOptions parses the oapi tag: option → values ("" for a bare option).
func tagOptions(f reflect.StructField) map[string][]string {
	opts := map[string][]string{}
	for _, o := range strings.Split(f.Tag.Get("oapi"), ",") {
		if o = strings.TrimSpace(o); o != "" {
			k, v, _ := strings.Cut(o, "=")
			opts[k] = append(opts[k], v)
		}
	}
	return opts
}

func opt(opts map[string][]string, k string) (string, bool) {
	if v, ok := opts[k]; ok {
		return v[0], true
	}
	return "", false
}

var rawJSON = reflect.TypeOf(json.RawMessage(nil))

// reflectField is the schema of one struct field.
func reflectField(f reflect.StructField) schema {
	opts := tagOptions(f)
	t := f.Type
	nullable := false
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
		_, never := opt(opts, "notnull")
		nullable = !never
	}
	if ref, ok := opt(opts, "ref"); ok {
		return nullableRef(jsRef(ref), nullable)
	}
	if name, ok := reflectedTypes[t]; ok {
		return nullableRef(jsRef(name), nullable)
	}
	s := reflectType(t, opts)
	if nullable {
		makeNullable(s)
	}
	return s
}

// nullableRef is ref, or ref or null.
func nullableRef(ref schema, nullable bool) schema {
	if !nullable {
		return ref
	}
	return schema{"oneOf": []schema{ref, {"type": "null"}}}
}

// makeNullable lets s be null too.
func makeNullable(s schema) {
	if typ, ok := s["type"].(string); ok {
		s["type"] = []string{typ, "null"}
	}
	if enum, ok := s["enum"].([]string); ok {
		vals := make([]any, 0, len(enum)+1)
		for _, v := range enum {
			vals = append(vals, v)
		}
		s["enum"] = append(vals, nil)
	}
}

// reflectType is the schema of a (non-pointer) Go type.
func reflectType(t reflect.Type, opts map[string][]string) schema {
	if _, ok := opt(opts, "free"); ok || t == rawJSON || t == reflect.TypeOf(agenthooks.JSONObject(nil)) {
		return schema{"type": "object", "additionalProperties": true}
	}
	if name, ok := reflectedTypes[t]; ok {
		return jsRef(name)
	}
	switch t.Kind() {
	case reflect.String:
		return stringSchema(opts)
	case reflect.Bool:
		return schema{"type": "boolean"}
	case reflect.Int, reflect.Int64, reflect.Int32:
		s := schema{"type": "integer"}
		if v, ok := opt(opts, "min"); ok {
			n, _ := strconv.Atoi(v)
			s["minimum"] = n
		}
		return s
	case reflect.Float64, reflect.Float32:
		return schema{"type": "number"}
	case reflect.Slice:
		// An element of interface type reflects as {} (any value).
		s := schema{"type": "array", "items": reflectType(t.Elem(), itemOptions(opts))}
		if v, ok := opt(opts, "max"); ok {
			n, _ := strconv.Atoi(v)
			s["maxItems"] = n
		}
		return s
	case reflect.Map:
		if t.Elem().Kind() == reflect.String {
			return schema{"type": "object", "additionalProperties": schema{"type": "string"}}
		}
		return schema{"type": "object", "additionalProperties": true}
	case reflect.Struct:
		return reflectStruct(t)
	case reflect.Interface:
		return schema{}
	}
	panic(fmt.Sprintf("openapi: no schema for Go type %s", t))
}

// itemOptions are the options that apply to a list's items (format, enum).
func itemOptions(opts map[string][]string) map[string][]string {
	out := map[string][]string{}
	for _, k := range []string{"uuid", "enum", "date-time", "uri"} {
		if v, ok := opts[k]; ok {
			out[k] = v
		}
	}
	return out
}

func stringSchema(opts map[string][]string) schema {
	s := schema{"type": "string"}
	for _, f := range []string{"uuid", "date-time", "uri"} {
		if _, ok := opt(opts, f); ok {
			s["format"] = f
		}
	}
	if name, ok := opt(opts, "enum"); ok {
		vals, known := reflectEnums[name]
		if !known {
			panic("openapi: unknown enum " + name)
		}
		s["enum"] = slices.Clone(vals)
	}
	if v, ok := opt(opts, "max"); ok {
		n, _ := strconv.Atoi(v)
		s["maxLength"] = n
	}
	return s
}

package httpapi

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"

	"github.com/agenthooks/agenthooks"
	"github.com/agenthooks/agenthooks/service"
)

// Insighto's descriptive fields, read and written through the profile
// structs of the root package (profile.go): the decoder and the views take
// the field names and types from the struct, so a field added there is
// accepted, kept and returned with nothing else to change.

// Limits of a profile field's JSON value (CONTRACT section 3: a description
// at most 4 KiB, every other free-text or object field at most 16 KiB).
const (
	profileDescriptionMax = 4 << 10
	profileFieldMax       = 16 << 10
)

var (
	typeJSONObject = reflect.TypeFor[agenthooks.JSONObject]()
	typeJSONList   = reflect.TypeFor[agenthooks.JSONList]()
	typeStrings    = reflect.TypeFor[[]string]()
)

// profileFieldKind is the JSON type a profile field takes, for errors.
func profileFieldKind(t reflect.Type) kind {
	switch {
	case t == typeJSONObject:
		return kDict
	case t == typeJSONList, t == typeStrings:
		return kList
	case t.Kind() == reflect.Pointer && t.Elem().Kind() == reflect.Bool:
		return kBool
	default:
		return kString
	}
}

// profileFields returns the JSON names of a profile struct's fields.
func profileFields(proto any) []reflect.StructField {
	t := reflect.TypeOf(proto)
	out := make([]reflect.StructField, 0, t.NumField())
	for i := range t.NumField() {
		out = append(out, t.Field(i))
	}
	return out
}

func jsonName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	return name
}

// profile reads the fields of proto's type (a profile struct) that the body
// has, checking each one's JSON type (a wrong type is a 422 on the field,
// null clears), size and nesting; the result goes to
// agenthooks.ApplyProfile.
func (b *body) profile(proto any) map[string]json.RawMessage {
	out := map[string]json.RawMessage{}
	for _, f := range profileFields(proto) {
		name := jsonName(f)
		raw, ok := b.fields[name]
		if !ok {
			continue
		}
		k := profileFieldKind(f.Type)
		limit := profileFieldMax
		if name == "description" {
			limit = profileDescriptionMax
		}
		dst := reflect.New(f.Type)
		switch {
		case len(raw) > limit:
			b.fail(name, fmt.Sprintf("Value should be at most %d bytes of JSON", limit), "too_long")
		case json.Unmarshal(raw, dst.Interface()) != nil || f.Type == typeStrings && !isNull(raw) && strictUnmarshal(raw, new([]string)) != nil:
			b.fail(name, k.msg, k.typ)
		case service.JSONDepth(raw) > service.MaxObjectDepth:
			b.fail(name, fmt.Sprintf("Value should be nested at most %d levels deep", service.MaxObjectDepth), "too_deep")
		default:
			out[name] = raw
		}
	}
	return out
}

// withDefaults returns a copy of a profile struct whose unset fields read
// as Insighto's types do: false for a boolean, [] for a list, {} for an
// object (a string stays null).
func withDefaults[T any](p T) T {
	v := reflect.ValueOf(&p).Elem()
	for i := range v.NumField() {
		f := v.Field(i)
		if !f.IsNil() {
			continue
		}
		switch t := f.Type(); {
		case t == typeJSONObject:
			f.Set(reflect.ValueOf(agenthooks.JSONObject("{}")))
		case t == typeJSONList:
			f.Set(reflect.ValueOf(agenthooks.JSONList("[]")))
		case t == typeStrings:
			f.Set(reflect.ValueOf([]string{}))
		case t.Kind() == reflect.Pointer && t.Elem().Kind() == reflect.Bool:
			f.Set(reflect.New(t.Elem()))
		}
	}
	return p
}

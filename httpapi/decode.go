package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/agenthooks/agenthooks"
)

// MaxBodyBytes is the largest request body accepted (413 above).
const MaxBodyBytes = 1 << 20

// body is a request's JSON object, read field by field so that every
// validation failure names its field the way FastAPI does.
type body struct {
	fields map[string]json.RawMessage
	errs   []agenthooks.FieldError
}

// readBody reads at most MaxBodyBytes and returns them; it is shared by
// decodeBody and the idempotency layer.
func readBody(r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, MaxBodyBytes))
	if err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			return nil, agenthooks.Errorf(agenthooks.ETOOLARGE, "Request body is larger than %d bytes.", MaxBodyBytes)
		}
		return nil, agenthooks.Errorf(agenthooks.EMALFORMED, "Could not read the request body.")
	}
	return b, nil
}

// decodeBody parses a JSON object body. An empty body counts as {} so that
// actions with no input can be called without one.
func decodeBody(r *http.Request) (*body, error) {
	raw, err := readBody(r)
	if err != nil {
		return nil, err
	}
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return &body{fields: map[string]json.RawMessage{}}, nil
	}
	// JSON text is UTF-8 (RFC 8259): invalid bytes would otherwise reach the
	// store verbatim through raw objects (attributes).
	if !json.Valid(raw) || !utf8.Valid(raw) {
		return nil, agenthooks.Errorf(agenthooks.EMALFORMED, "JSON decode error: the body is not valid JSON.")
	}
	var fields map[string]json.RawMessage
	if raw[0] != '{' || json.Unmarshal(raw, &fields) != nil {
		return nil, &agenthooks.Error{Code: agenthooks.EINVALID, Message: "Input should be a valid dictionary",
			Fields: []agenthooks.FieldError{{Loc: []any{}, Msg: "Input should be a valid dictionary or object to extract fields from", Type: "model_attributes_type"}}}
	}
	if fields == nil {
		fields = map[string]json.RawMessage{}
	}
	b := &body{fields: fields}
	// PostgreSQL's text cannot hold U+0000: refuse it in any string (422)
	// rather than fail the insert (500).
	for name, v := range fields {
		if bytes.Contains(v, []byte(`\u0000`)) && hasNUL(v) {
			b.fail(name, "String should not contain the NUL character (\\u0000)", "string_nul")
		}
	}
	return b, nil
}

// hasNUL reports whether a JSON value holds U+0000 in any string or key.
func hasNUL(raw json.RawMessage) bool {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return false
	}
	var walk func(v any) bool
	walk = func(v any) bool {
		switch v := v.(type) {
		case string:
			return strings.ContainsRune(v, 0)
		case []any:
			return slices.ContainsFunc(v, walk)
		case map[string]any:
			for k, e := range v {
				if strings.ContainsRune(k, 0) || walk(e) {
					return true
				}
			}
		}
		return false
	}
	return walk(v)
}

// validText reports whether s can be stored and compared as text by every
// store: valid UTF-8 without U+0000 (PostgreSQL refuses both).
func validText(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}

func (b *body) fail(field, msg, typ string) {
	b.errs = append(b.errs, agenthooks.FieldError{Loc: []any{field}, Msg: msg, Type: typ})
}

// err returns the collected validation failures as one EINVALID error.
func (b *body) err() error {
	if len(b.errs) == 0 {
		return nil
	}
	return &agenthooks.Error{Code: agenthooks.EINVALID, Message: b.errs[0].Msg, Fields: b.errs}
}

func isNull(raw json.RawMessage) bool { return string(raw) == "null" }

// optObject reads the body's optional object field name (a webhook's
// destination, tls, transformation): absent (set false), null (set, fields
// nil), or its fields. Anything else fails on name as a wrong type and
// reads as absent.
func (b *body) optObject(name string) (set bool, fields map[string]json.RawMessage) {
	raw, ok := b.fields[name]
	if !ok {
		return false, nil
	}
	if isNull(raw) {
		return true, nil
	}
	if trimmed := bytes.TrimSpace(raw); len(trimmed) == 0 || trimmed[0] != '{' || json.Unmarshal(trimmed, &fields) != nil {
		b.fail(name, kDict.msg, kDict.typ)
		return false, nil
	}
	return true, fields
}

// kinds names the JSON type a Go target expects, for FastAPI-style messages.
type kind struct{ msg, typ string }

var (
	kString = kind{"Input should be a valid string", "string_type"}
	kBool   = kind{"Input should be a valid boolean", "bool_type"}
	kNumber = kind{"Input should be a valid number", "float_type"}
	kList   = kind{"Input should be a valid list", "list_type"}
	kDict   = kind{"Input should be a valid dictionary", "dict_type"}
)

// get decodes field name into dst. It reports whether the field was present
// and not null. A required field that is absent or null is "missing"; a
// value of the wrong type is a type error.
func get[T any](b *body, name string, required bool, k kind, dst *T) bool {
	raw, ok := b.fields[name]
	if !ok || isNull(raw) {
		if required {
			if ok {
				b.fail(name, k.msg, k.typ)
			} else {
				b.fail(name, "Field required", "missing")
			}
		}
		return false
	}
	if err := strictUnmarshal(raw, dst); err != nil {
		b.fail(name, k.msg, k.typ)
		return false
	}
	return true
}

// present reports whether a field is in the body at all (null included).
func (b *body) present(name string) bool {
	_, ok := b.fields[name]
	return ok
}

// strictUnmarshal decodes raw into dst, refusing nulls inside lists and maps
// of strings and whole-value mismatches.
func strictUnmarshal[T any](raw json.RawMessage, dst *T) error {
	// Numbers stay json.Number, so that a value such as a phone number or a
	// 20-digit order id reaches the receiver digit for digit.
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(dst); err != nil {
		return err
	}
	switch v := any(dst).(type) {
	case *map[string]string:
		if *v == nil {
			return fmt.Errorf("null map")
		}
	case *map[string]any:
		if *v == nil {
			return fmt.Errorf("null map")
		}
	case *[]string:
		if bytes.Contains(raw, []byte("null")) {
			var probe []*string
			if json.Unmarshal(raw, &probe) == nil {
				for _, p := range probe {
					if p == nil {
						return fmt.Errorf("null in list")
					}
				}
			}
		}
	}
	return nil
}

// str is get for strings.
func (b *body) str(name string, required bool) (string, bool) {
	var s string
	ok := get(b, name, required, kString, &s)
	return s, ok
}

// optStr returns a pointer to a present string field, nil otherwise.
func (b *body) optStr(name string) *string {
	var s string
	if get(b, name, false, kString, &s) {
		return &s
	}
	if b.present(name) && isNull(b.fields[name]) {
		b.fail(name, kString.msg, kString.typ)
	}
	return nil
}

// optBool returns a pointer to a present boolean field.
func (b *body) optBool(name string) *bool {
	var v bool
	if get(b, name, false, kBool, &v) {
		return &v
	}
	if b.present(name) && isNull(b.fields[name]) {
		b.fail(name, kBool.msg, kBool.typ)
	}
	return nil
}

// object returns a JSON object field verbatim (for attributes).
func (b *body) object(name string) json.RawMessage {
	raw, ok := b.fields[name]
	if !ok || isNull(raw) {
		return nil
	}
	t := bytes.TrimSpace(raw)
	if len(t) == 0 || t[0] != '{' {
		b.fail(name, kDict.msg, kDict.typ)
		return nil
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, t); err != nil {
		b.fail(name, kDict.msg, kDict.typ)
		return nil
	}
	return compact.Bytes()
}

// nullableID reads a field that may be absent, null (unassign) or a string id.
// An empty string is no id of this account's: it is refused (422) rather than
// read as "none", which only null means.
func (b *body) nullableID(name string) (set bool, id *string) {
	raw, ok := b.fields[name]
	if !ok {
		return false, nil
	}
	if isNull(raw) {
		return true, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		b.fail(name, kString.msg, kString.typ)
		return false, nil
	}
	if s == "" {
		b.fail(name, "Input should be an id of this account's, or null", "value_error")
		return false, nil
	}
	return true, &s
}

// queryError is a 422 on a query parameter.
func queryError(name, msg, typ string) error {
	return &partError{part: "query", err: agenthooks.Invalid(name, msg, typ)}
}

// headerError is a 422 on a request header.
func headerError(name, msg, typ string) error {
	return &partError{part: "header", err: agenthooks.Invalid(name, msg, typ)}
}

// partError is a validation error about a part of the request other than
// its body (the query string, a header). The domain's errors are about the
// body, the input of an operation.
type partError struct {
	part string // "query" or "header"
	err  *agenthooks.Error
}

func (e *partError) Error() string { return e.part + ": " + e.err.Error() }

// Unwrap makes ErrorCode and ErrorMessage see the domain error.
func (e *partError) Unwrap() error { return e.err }

func trimmed(s string) string { return strings.TrimSpace(s) }

package httpapi_test

// Every answer the HTTP tests get is validated against the document served
// at GET /api/v1/openapi.json, with a maintained JSON Schema validator
// (santhosh-tekuri/jsonschema/v6, draft 2020-12, formats asserted): the
// tests' helper (testBundle.check) calls docSchemas.checkResponse, so a
// response that does not match its operation's schema fails the test that
// made it. The document is made strict for the tests in one way: an object
// schema that lists properties and says nothing about additionalProperties
// refuses a property it does not list, so a field a handler sends that the
// document lacks fails too.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/agenthooks/agenthooks/httpapi"
)

// docURL is the document's address for the compiler (never fetched).
const docURL = "mem://agenthooks/openapi.json"

// openAPISchemas compiles the document's schemas on demand, one per JSON
// pointer, and keeps them for every test of the binary.
type openAPISchemas struct {
	doc *openAPIDoc

	mu       sync.Mutex
	compiler *jsonschema.Compiler
	compiled map[string]*jsonschema.Schema
}

// docSchemas is the served document, compiled once per test binary.
var docSchemas = sync.OnceValues(func() (*openAPISchemas, error) {
	raw, err := httpapi.OpenAPIDocument()
	if err != nil {
		return nil, err
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("decode the document: %w", err)
	}
	root, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("the document is not a JSON object")
	}
	strictObjects(root)
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	if err := c.AddResource(docURL, root); err != nil {
		return nil, fmt.Errorf("add the document: %w", err)
	}
	return &openAPISchemas{doc: &openAPIDoc{root: root}, compiler: c, compiled: map[string]*jsonschema.Schema{}}, nil
})

// strictObjects sets additionalProperties false on every object schema that
// lists properties and leaves additionalProperties out. It walks every value
// of the document: a map with a "properties" object and a "type" that is or
// includes "object" is such a schema (a properties map's own keys are names
// whose values are schemas, never the string "object").
func strictObjects(v any) {
	switch v := v.(type) {
	case map[string]any:
		if _, ok := v["properties"].(map[string]any); ok && isObjectType(v["type"]) {
			if _, set := v["additionalProperties"]; !set {
				v["additionalProperties"] = false
			}
		}
		for _, e := range v {
			strictObjects(e)
		}
	case []any:
		for _, e := range v {
			strictObjects(e)
		}
	}
}

func isObjectType(t any) bool {
	switch t := t.(type) {
	case string:
		return t == "object"
	case []any:
		for _, e := range t {
			if e == "object" {
				return true
			}
		}
	}
	return false
}

// pointerToken escapes one JSON pointer token.
func pointerToken(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

// schemaAt compiles the schema at the document's JSON pointer ptr ("/paths/...").
func (s *openAPISchemas) schemaAt(ptr string) (*jsonschema.Schema, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sch, ok := s.compiled[ptr]; ok {
		return sch, nil
	}
	sch, err := s.compiler.Compile(docURL + "#" + ptr)
	if err != nil {
		return nil, fmt.Errorf("compile %s: %w", ptr, err)
	}
	s.compiled[ptr] = sch
	return sch, nil
}

// findOperation is the documented operation ("METHOD /template") that serves
// method and the concrete path, "" when none. When several templates match
// (GET /intent/list and GET /intent/{id}), the one with the fewest wildcards
// wins, as in the server's mux.
func (d *openAPIDoc) findOperation(method, path string) (string, map[string]any) {
	segs := strings.Split(path, "/")
	best, bestWild := "", len(segs)+1
	var bestOp map[string]any
	for name, op := range d.operations() {
		m, tmpl, _ := strings.Cut(name, " ")
		if m != method {
			continue
		}
		ts := strings.Split(tmpl, "/")
		if len(ts) != len(segs) {
			continue
		}
		match, wild := true, 0
		for i := range ts {
			if strings.HasPrefix(ts[i], "{") {
				match = match && segs[i] != ""
				wild++
			} else {
				match = match && ts[i] == segs[i]
			}
		}
		if match && wild < bestWild {
			best, bestWild, bestOp = name, wild, op
		}
	}
	return best, bestOp
}

// responsePointer is the JSON pointer of the application/json schema of the
// response op documents for status (its own entry, else "default"); ok is
// false when it documents none.
func (s *openAPISchemas) responsePointer(name string, op map[string]any, status int) (string, error) {
	method, tmpl, _ := strings.Cut(name, " ")
	responses, _ := op["responses"].(map[string]any)
	code := strconv.Itoa(status)
	if _, ok := responses[code]; !ok {
		code = "default"
		if _, ok := responses[code]; !ok {
			return "", fmt.Errorf("%s documents no %d response and no default", name, status)
		}
	}
	ptr := "/paths/" + pointerToken(tmpl) + "/" + strings.ToLower(method) + "/responses/" + code
	resp := responses[code]
	for range 10 {
		m, ok := resp.(map[string]any)
		if !ok {
			return "", fmt.Errorf("%s: response %s is not an object", name, code)
		}
		ref, isRef := m["$ref"].(string)
		if !isRef {
			break
		}
		target, err := s.doc.resolve(ref)
		if err != nil {
			return "", err
		}
		ptr, resp = strings.TrimPrefix(ref, "#"), target
	}
	m, _ := resp.(map[string]any)
	content, _ := m["content"].(map[string]any)
	if _, ok := content["application/json"]; !ok {
		return "", fmt.Errorf("%s: response %s has no application/json content", name, code)
	}
	return ptr + "/content/application~1json/schema", nil
}

// checkResponse validates body, the answer to method and path (the query
// left out or not), against the document. A path the document does not
// describe (an unknown route's 404 or 405) is not checked here:
// TestOpenAPIDocumentsEveryRoute holds the document to the routes.
func (s *openAPISchemas) checkResponse(method, path string, status int, body []byte) error {
	path, _, _ = strings.Cut(path, "?")
	name, op := s.doc.findOperation(method, path)
	if name == "" {
		return nil
	}
	ptr, err := s.responsePointer(name, op, status)
	if err != nil {
		return err
	}
	sch, err := s.schemaAt(ptr)
	if err != nil {
		return err
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("%s: the %d response is not JSON: %w", name, status, err)
	}
	if err := sch.Validate(v); err != nil {
		return fmt.Errorf("%s: the %d response does not match the document (%s): %w", name, status, ptr, err)
	}
	return nil
}

// TestOpenAPIResponseCheckCanFail: the check testBundle.check makes refuses
// a body that breaks its operation's schema (a missing field, a field the
// document lacks, a wrong type, a bad format) and takes one that keeps it.
func TestOpenAPIResponseCheckCanFail(t *testing.T) {
	t.Parallel()
	s, err := docSchemas()
	if err != nil {
		t.Fatal(err)
	}
	intent := func(edit func(m map[string]any)) []byte {
		m := map[string]any{"id": "01a2530f-7787-786d-ad10-2c89a46f88a6", "name": "SALES", "description": "",
			"created_at": "2026-12-08T00:30:52.295543Z", "attributes": map[string]any{}, "intent_type": nil, "is_active": true}
		if edit != nil {
			edit(m)
		}
		b, err := json.Marshal(map[string]any{"message": "ok", "data": m})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	path := httpapi.BasePath + "/intent/01a2530f-7787-786d-ad10-2c89a46f88a6"
	cases := []struct {
		name   string
		method string
		path   string
		status int
		body   []byte
		ok     bool
	}{
		{"as documented", "GET", path, 200, intent(nil), true},
		{"query left out", "GET", path + "?x=1", 200, intent(nil), true},
		{"missing field", "GET", path, 200, intent(func(m map[string]any) { delete(m, "is_active") }), false},
		{"undocumented field", "GET", path, 200, intent(func(m map[string]any) { m["surprise"] = 1 }), false},
		{"wrong type", "GET", path, 200, intent(func(m map[string]any) { m["is_active"] = "yes" }), false},
		{"bad uuid", "GET", path, 200, intent(func(m map[string]any) { m["id"] = "not-a-uuid" }), false},
		{"bad date-time", "GET", path, 200, intent(func(m map[string]any) { m["created_at"] = "2026-12-08 00:30:52" }), false},
		{"no envelope", "GET", path, 200, []byte(`{"id": "x"}`), false},
		{"a 404", "GET", path, 404, []byte(`{"detail": "Not found"}`), true},
		{"a 404 without detail", "GET", path, 404, []byte(`{"message": "Not found"}`), false},
		{"a 422", "POST", httpapi.BasePath + "/intent", 422, []byte(`{"detail": [{"loc": ["body", "name", 0], "msg": "m", "type": "t"}]}`), true},
		{"a 422 with a bad loc", "POST", httpapi.BasePath + "/intent", 422, []byte(`{"detail": [{"loc": [true], "msg": "m", "type": "t"}]}`), false},
		{"a route the document lacks", "GET", "/nowhere", 200, []byte(`{}`), true},
	}
	for _, c := range cases {
		err := s.checkResponse(c.method, c.path, c.status, c.body)
		if (err == nil) != c.ok {
			t.Errorf("%s: checkResponse = %v, want ok %v", c.name, err, c.ok)
		}
	}
}

// opPointer is the JSON pointer of operation name ("METHOD /template").
func opPointer(name string) string {
	method, tmpl, _ := strings.Cut(name, " ")
	return "/paths/" + pointerToken(tmpl) + "/" + strings.ToLower(method)
}

// problems validates v against the schema at the document's JSON pointer
// ptr: nil when it matches, else what is wrong, each starting with at.
func (s *openAPISchemas) problems(ptr string, v any, at string) []string {
	sch, err := s.schemaAt(ptr)
	if err != nil {
		return []string{at + ": " + err.Error()}
	}
	if err := sch.Validate(v); err != nil {
		return []string{at + ": " + err.Error()}
	}
	return nil
}

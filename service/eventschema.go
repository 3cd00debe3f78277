package service

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/agenthooks/agenthooks"
)

// The JSON Schemas of the account's own event types: compiled as draft
// 2020-12 with santhosh-tekuri/jsonschema (a maintained validator that
// passes the JSON-Schema-Test-Suite), never fetching a $ref from anywhere
// (no file, no network: a schema holds all it refers to), and cached by
// their bytes so that publishing does not compile again.

// MaxSchemaBytes bounds an event type's schema (CONTRACT section 3).
const MaxSchemaBytes = 16 << 10

// schemaURL is where a schema is compiled; refs relative to it resolve to
// URLs the loader refuses.
const schemaURL = "urn:agenthooks:event-type-schema"

// noLoader refuses every URL a schema refers to outside itself.
type noLoader struct{}

func (noLoader) Load(url string) (any, error) {
	return nil, fmt.Errorf("schemas cannot refer to other documents (%s): put the definitions in $defs", url)
}

var printer = message.NewPrinter(language.English)

// compileSchema compiles raw, a JSON Schema, or returns a 422 on loc.
func compileSchema(raw []byte, loc ...any) (*jsonschema.Schema, error) {
	if len(raw) > MaxSchemaBytes {
		return nil, agenthooks.InvalidAt(fmt.Sprintf("Schema should be at most %d bytes of JSON", MaxSchemaBytes), "too_long", loc...)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return nil, agenthooks.InvalidAt("Schema should be valid JSON", "json_invalid", loc...)
	}
	switch doc.(type) {
	case map[string]any, bool:
	default:
		return nil, agenthooks.InvalidAt("Schema should be a JSON Schema: an object (or true or false)", "dict_type", loc...)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.UseLoader(noLoader{})
	if err := c.AddResource(schemaURL, doc); err != nil {
		return nil, agenthooks.InvalidAt("Schema does not compile: "+err.Error(), "json_schema", loc...)
	}
	sch, err := c.Compile(schemaURL)
	if err != nil {
		return nil, agenthooks.InvalidAt("Schema does not compile: "+schemaError(err), "json_schema", loc...)
	}
	return sch, nil
}

// schemaError is the first line of a compile error, without the URL that
// means nothing to the user.
func schemaError(err error) string {
	msg := err.Error()
	var sve *jsonschema.SchemaValidationError
	if errors.As(err, &sve) {
		err = sve.Err // it has no Unwrap
	}
	var ve *jsonschema.ValidationError
	if errors.As(err, &ve) {
		// The schema is invalid against its metaschema: say where and why.
		leaf := firstLeaf(ve)
		return fmt.Sprintf("at %s: %s", pointer(leaf.InstanceLocation), leaf.ErrorKind.LocalizedString(printer))
	}
	msg = strings.ReplaceAll(msg, schemaURL, "the schema")
	if i := strings.IndexByte(msg, '\n'); i > 0 {
		msg = msg[:i]
	}
	return msg
}

func pointer(tokens []string) string {
	if len(tokens) == 0 {
		return "the top"
	}
	return "/" + strings.Join(tokens, "/")
}

// schemaCache holds compiled schemas by their bytes. It is bounded: when
// full it starts again (a schema compiles in well under a millisecond).
type schemaCache struct {
	mu sync.Mutex
	m  map[string]*jsonschema.Schema
}

const schemaCacheSize = 1024

var schemas = &schemaCache{m: map[string]*jsonschema.Schema{}}

func (c *schemaCache) get(raw []byte) (*jsonschema.Schema, error) {
	c.mu.Lock()
	sch, ok := c.m[string(raw)]
	c.mu.Unlock()
	if ok {
		return sch, nil
	}
	sch, err := compileSchema(raw, "schema")
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if len(c.m) >= schemaCacheSize {
		c.m = map[string]*jsonschema.Schema{}
	}
	c.m[string(raw)] = sch
	c.mu.Unlock()
	return sch, nil
}

// validateData checks data (a JSON object) against the type's schema and
// returns a 422 whose loc is ["body", "data", ...] down to the failing
// field: the validator's instance location, with a missing required
// property (or one additionalProperties refuses) added at the end.
func validateData(raw []byte, data []byte) error {
	sch, err := schemas.get(raw)
	if err != nil {
		return fmt.Errorf("the stored schema: %w", err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return agenthooks.Invalid("data", "Input should be a valid dictionary", "dict_type")
	}
	err = sch.Validate(inst)
	if err == nil {
		return nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return fmt.Errorf("validate data: %w", err)
	}
	leaf := firstLeaf(ve)
	loc := append([]any{"data"}, instanceLoc(inst, leaf.InstanceLocation)...)
	typ := "json_schema"
	if kw := leaf.ErrorKind.KeywordPath(); len(kw) > 0 {
		typ = "json_schema." + kw[len(kw)-1]
	}
	msg := leaf.ErrorKind.LocalizedString(printer)
	switch k := leaf.ErrorKind.(type) {
	case *kind.Required:
		if len(k.Missing) > 0 {
			loc, typ, msg = append(loc, k.Missing[0]), "missing", "Field required"
		}
	case *kind.AdditionalProperties:
		if len(k.Properties) > 0 {
			loc, msg = append(loc, k.Properties[0]), "Extra field not permitted by the event type's schema"
		}
	}
	return agenthooks.InvalidAt(msg, typ, loc...)
}

// firstLeaf returns the first error without causes: the most precise one.
func firstLeaf(ve *jsonschema.ValidationError) *jsonschema.ValidationError {
	for len(ve.Causes) > 0 {
		ve = ve.Causes[0]
	}
	return ve
}

// instanceLoc turns an instance location into loc elements: array indices
// as numbers (FastAPI's loc), object keys as strings.
func instanceLoc(inst any, tokens []string) []any {
	out := make([]any, 0, len(tokens))
	for _, tok := range tokens {
		switch v := inst.(type) {
		case []any:
			if i, err := strconv.Atoi(tok); err == nil && i >= 0 && i < len(v) {
				out, inst = append(out, i), v[i]
				continue
			}
		case map[string]any:
			inst = v[tok]
		}
		out = append(out, tok)
	}
	return out
}

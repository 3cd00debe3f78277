package service

import (
	"strings"
	"testing"

	"github.com/agenthooks/agenthooks"
)

func agenthooksCode(err error) string { return agenthooks.ErrorCode(err) }

// A schema that is invalid against the metaschema says where and why.
func TestCompileSchemaSaysWhere(t *testing.T) {
	t.Parallel()
	_, err := compileSchema([]byte(`{"type": "objekt"}`), "schema")
	if err == nil || !strings.Contains(err.Error(), "at /type:") {
		t.Fatalf("compile error %v, want one saying at /type", err)
	}
}

// Any schema and any data: compiling and validating never panic, and a
// refusal is always a 422 (an *agenthooks.Error with a loc under data).
func FuzzEventSchema(f *testing.F) {
	f.Add([]byte(`{"type":"object","required":["a"],"properties":{"a":{"type":"integer"}}}`), []byte(`{"a":"x"}`))
	f.Add([]byte(`{"items":{"type":"string"},"properties":{"t":{"type":"array","items":{"minimum":3}}}}`), []byte(`{"t":[1,5]}`))
	f.Add([]byte(`{"$ref":"#/$defs/x","$defs":{"x":{"additionalProperties":false}}}`), []byte(`{"b":1}`))
	f.Add([]byte(`{"pattern":"(a+)+$"}`), []byte(`{}`))
	f.Add([]byte(`true`), []byte(`{"a":[[[]]]}`))
	f.Fuzz(func(t *testing.T, schema, data []byte) {
		if _, err := compileSchema(schema, "schema"); err != nil {
			if agenthooksCode(err) != agenthooks.EINVALID {
				t.Fatalf("compile error not a 422: %v", err)
			}
			return
		}
		err := validateData(schema, data)
		if err == nil {
			return
		}
		if agenthooksCode(err) != agenthooks.EINVALID {
			t.Fatalf("validate error not a 422: %v", err)
		}
	})
}

package service

import (
	"strings"
	"testing"
)

// A schema that is invalid against the metaschema says where and why.
func TestCompileSchemaSaysWhere(t *testing.T) {
	t.Parallel()
	_, err := compileSchema([]byte(`{"type": "objekt"}`), "schema")
	if err == nil || !strings.Contains(err.Error(), "at /type:") {
		t.Fatalf("compile error %v, want one saying at /type", err)
	}
}

package httpapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/agenthooks/agenthooks/httpapi"
)

// clientsDocument is the copy of the served document the generated clients
// are built from (internal/clients/go, internal/clients/ts).
var clientsDocument = filepath.Join("..", "internal", "clients", "openapi.json")

// updateGenerated is set (AGENTHOOKS_UPDATE=1) to rewrite the files the
// tests below keep current instead of failing on them.
var updateGenerated = os.Getenv("AGENTHOOKS_UPDATE") == "1"

// TestOpenAPIClientsDocumentIsCurrent: the clients' copy of the document is
// the document the server serves, so that a client generated from it is the
// API's. Run with AGENTHOOKS_UPDATE=1 to write it, then regenerate the
// clients (go generate in internal/clients/go; npm run generate in
// internal/clients/ts).
func TestOpenAPIClientsDocumentIsCurrent(t *testing.T) {
	t.Parallel()
	raw, err := httpapi.OpenAPIDocument()
	if err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	if err := json.Indent(&want, raw, "", "  "); err != nil {
		t.Fatal(err)
	}
	want.WriteByte('\n')
	checkGenerated(t, clientsDocument, want.Bytes())
}

// checkGenerated fails unless the file at path holds want; with
// AGENTHOOKS_UPDATE=1 it writes want there instead.
func checkGenerated(t *testing.T, path string, want []byte) {
	t.Helper()
	if updateGenerated {
		if err := os.WriteFile(path, want, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (write it with AGENTHOOKS_UPDATE=1 go test ./httpapi -run %s)", err, t.Name())
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s is stale: run AGENTHOOKS_UPDATE=1 go test ./httpapi -run %s", path, t.Name())
	}
}

// apiDoc is the API's reference; its operation table is generated.
var apiDoc = filepath.Join("..", "docs", "api.md")

const (
	opsBegin = "<!-- operations: generated from the OpenAPI document by TestAPIDocOperationTable (AGENTHOOKS_UPDATE=1 go test ./httpapi -run TestAPIDocOperationTable); do not edit -->\n"
	opsEnd   = "<!-- /operations -->\n"
)

// operationTable is the Markdown table of every operation of the document:
// method, path, summary, success status and operationId, by path then method.
func operationTable(t *testing.T, doc *openAPIDoc) string {
	t.Helper()
	type row struct{ path, method, summary, status, id string }
	var rows []row
	for name, op := range doc.operations() {
		method, path, _ := strings.Cut(name, " ")
		var codes []string
		for code := range op["responses"].(map[string]any) {
			if strings.HasPrefix(code, "2") {
				codes = append(codes, code)
			}
		}
		slices.Sort(codes)
		summary, _ := op["summary"].(string)
		id, _ := op["operationId"].(string)
		rows = append(rows, row{path, method, summary, strings.Join(codes, ", "), id})
	}
	order := func(m string) int { return slices.Index([]string{"GET", "POST", "PUT", "PATCH", "DELETE"}, m) }
	slices.SortFunc(rows, func(a, b row) int {
		if c := strings.Compare(a.path, b.path); c != 0 {
			return c
		}
		return order(a.method) - order(b.method)
	})
	var sb strings.Builder
	fmt.Fprintf(&sb, "%d operations.\n\n| method | path | summary | success | operationId |\n|---|---|---|---|---|\n", len(rows))
	for _, r := range rows {
		fmt.Fprintf(&sb, "| %s | `%s` | %s | %s | `%s` |\n", r.method, r.path, strings.ReplaceAll(r.summary, "|", `\|`), r.status, r.id)
	}
	return sb.String()
}

// TestAPIDocOperationTable: docs/api.md lists every operation of the served
// document, between the markers opsBegin and opsEnd, as operationTable
// writes it; AGENTHOOKS_UPDATE=1 rewrites it.
func TestAPIDocOperationTable(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(apiDoc)
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	before, rest, ok := strings.Cut(text, opsBegin)
	if !ok {
		t.Fatalf("%s has no line %q", apiDoc, opsBegin)
	}
	_, after, ok := strings.Cut(rest, opsEnd)
	if !ok {
		t.Fatalf("%s has no line %q", apiDoc, opsEnd)
	}
	schemas, err := docSchemas()
	if err != nil {
		t.Fatal(err)
	}
	want := before + opsBegin + operationTable(t, schemas.doc) + opsEnd + after
	checkGenerated(t, apiDoc, []byte(want))
}

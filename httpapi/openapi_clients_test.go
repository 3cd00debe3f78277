package httpapi_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
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

package sdktest_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/agenthooks/agenthooks"
	"github.com/agenthooks/agenthooks/webhook"
)

// TestSDKDecodesEveryGolden decodes every payload golden file (the bytes the
// server sends, payload/testdata) through the SDK with unknown fields refused,
// and checks the other way that every field the SDK reads is sent: a field
// added on one side only fails here. Every event type of agenthooks.EventTable
// has a golden file (payload's TestEveryEventTypeHasData), so each is covered.
func TestSDKDecodesEveryGolden(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join("..", "..", "payload", "testdata", "*.golden.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden files: %v", err)
	}
	seen := map[string]bool{}
	for _, path := range files {
		name := strings.TrimSuffix(filepath.Base(path), ".golden.json")
		// A type's variants are named TYPE.VARIANT (delivery.failed.no_answer).
		typ := name
		if parts := strings.SplitN(name, ".", 3); len(parts) == 3 {
			typ = parts[0] + "." + parts[1]
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			body, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			strict(t, "envelope", body, &webhook.Event{})
			e, err := webhook.Parse(body)
			if err != nil {
				t.Fatal(err)
			}
			if e.Type != typ {
				t.Fatalf("golden %s holds a %s event", name, e.Type)
			}
			data, err := e.Decode()
			if err != nil {
				t.Fatalf("the SDK cannot decode %s: %v", name, err)
			}
			// A fresh value of the type Decode chose, decoded again strictly.
			fresh := reflect.New(reflect.TypeOf(data).Elem()).Interface()
			strict(t, "data", e.Data, fresh)
			var sent any
			if err := json.Unmarshal(e.Data, &sent); err != nil {
				t.Fatal(err)
			}
			missing(t, "data", reflect.TypeOf(data).Elem(), sent)
		})
		seen[typ] = true
	}
	for _, typ := range agenthooks.SentEventTypes {
		if !seen[typ] {
			t.Errorf("no golden file for %s", typ)
		}
	}
}

// strict decodes raw into v with unknown fields refused.
func strict(t *testing.T, what string, raw []byte, v any) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Errorf("%s: the server sends a field the SDK does not know: %v", what, err)
	}
}

// missing fails for each field of the SDK's struct t that the server's JSON
// sent does not carry, looking into nested structs and lists of them.
func missing(t *testing.T, path string, typ reflect.Type, sent any) {
	t.Helper()
	for typ.Kind() == reflect.Pointer || typ.Kind() == reflect.Slice {
		typ = typ.Elem()
		if list, ok := sent.([]any); ok {
			if len(list) == 0 {
				return
			}
			sent = list[0]
		}
	}
	obj, ok := sent.(map[string]any)
	if typ.Kind() != reflect.Struct || !ok {
		return
	}
	for i := range typ.NumField() {
		f := typ.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" || !f.IsExported() {
			continue
		}
		v, ok := obj[name]
		if !ok {
			t.Errorf("%s.%s: the SDK reads a field the server does not send", path, name)
			continue
		}
		missing(t, path+"."+name, f.Type, v)
	}
}

package payload_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/agenthooks/agenthooks"
	"github.com/agenthooks/agenthooks/payload"
)

// TestEveryEventTypeHasData: each entry of agenthooks.EventTable has a data
// struct, a golden file, and a schema whose required keys are exactly the
// keys that struct sends, with no field of a kind the schema builder skips.
func TestEveryEventTypeHasData(t *testing.T) {
	t.Parallel()
	for _, et := range agenthooks.EventTable {
		t.Run(et.Name, func(t *testing.T) {
			t.Parallel()
			data := payload.DataOf(et.Name)
			if data == nil {
				t.Fatalf("payload.DataOf(%q) is nil: add the type's data struct", et.Name)
			}
			if et.Description == "" || et.Kind == 0 {
				t.Errorf("EventTable entry %+v lacks a description or a kind", et)
			}
			s := payload.Schema(data)
			raw, _ := json.Marshal(s)
			if strings.Contains(string(raw), "unsupported Go type") {
				t.Errorf("schema of %s has a field of an unsupported type: %s", et.Name, raw)
			}
			sent, err := json.Marshal(data)
			if err != nil {
				t.Fatal(err)
			}
			var keys map[string]any
			if err := json.Unmarshal(sent, &keys); err != nil {
				t.Fatal(err)
			}
			required := slices.Clone(s["required"].([]string))
			var got []string
			for k := range keys {
				got = append(got, k)
			}
			slices.Sort(required)
			slices.Sort(got)
			if !slices.Equal(required, got) {
				t.Errorf("schema requires %v, the struct sends %v", required, got)
			}
			if _, err := os.Stat(filepath.Join("testdata", et.Name+".golden.json")); err != nil {
				t.Errorf("no golden file for %s (add it to TestGolden): %v", et.Name, err)
			}
		})
	}
	if payload.DataOf("no.such_type") != nil {
		t.Error("DataOf of an unknown type is not nil")
	}
}

// TestSchema checks the schema builder on the conversation's data, the
// richest: formats, enums, nullability, the nested transcript and its limit.
func TestSchema(t *testing.T) {
	t.Parallel()
	s := payload.Schema(payload.Conversation{})
	props := s["properties"].(map[string]any)
	prop := func(name string) map[string]any { return props[name].(map[string]any) }
	checks := []struct {
		name string
		got  any
		want any
	}{
		{"contact_id type", prop("contact_id")["type"], []string{"string", "null"}},
		{"contact_id format", prop("contact_id")["format"], "uuid"},
		{"device_type enum", prop("device_type")["enum"], agenthooks.DeviceTypes},
		{"chat_count", prop("chat_count")["type"], "integer"},
		{"attributes", prop("attributes")["type"], "object"},
		{"transcript maxItems", prop("transcript")["maxItems"], payload.TranscriptLimit},
		{"first_message has a description", prop("first_message")["description"] != nil, true},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	item := prop("transcript")["items"].(map[string]any)
	ip := item["properties"].(map[string]any)
	if ip["voice_base64"].(map[string]any)["type"] != "null" || ip["created_at"].(map[string]any)["pattern"] != payload.TimePattern {
		t.Errorf("transcript item schema: %v", ip)
	}
	if got := item["required"].([]string); len(got) != 10 || got[0] != "id" {
		t.Errorf("transcript item required = %v", got)
	}
}

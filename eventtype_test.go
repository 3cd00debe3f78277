package agenthooks_test

import (
	"slices"
	"testing"

	"github.com/agenthooks/agenthooks"
)

// TestEventTable: names are unique, every entry has a kind and a
// description, and the lists derive from the kinds.
func TestEventTable(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, et := range agenthooks.EventTable {
		if seen[et.Name] || et.Name == "" || et.Description == "" || et.Kind == 0 {
			t.Errorf("bad or repeated entry %+v", et)
		}
		seen[et.Name] = true
		got, ok := agenthooks.LookupEventType(et.Name)
		if !ok || got != et {
			t.Errorf("LookupEventType(%q) = %+v, %v", et.Name, got, ok)
		}
		if sub := agenthooks.IsEventType(et.Name); sub != (et.Kind != agenthooks.KindOnRequest) {
			t.Errorf("IsEventType(%q) = %v for kind %v", et.Name, sub, et.Kind)
		}
		if def := slices.Contains(agenthooks.DefaultEventTypes, et.Name); def != (et.Kind == agenthooks.KindConversation) {
			t.Errorf("%s in DefaultEventTypes = %v for kind %v", et.Name, def, et.Kind)
		}
		if !slices.Contains(agenthooks.SentEventTypes, et.Name) {
			t.Errorf("%s not in SentEventTypes", et.Name)
		}
	}
	if len(agenthooks.SentEventTypes) != len(agenthooks.EventTable) {
		t.Errorf("SentEventTypes = %v", agenthooks.SentEventTypes)
	}
	if agenthooks.IsEventType("capturedform.created") || agenthooks.IsEventType("") {
		t.Error("IsEventType accepts a name not in the table")
	}
	if slices.Contains(agenthooks.EventTypes, agenthooks.EventWebhookTest) {
		t.Error("webhook.test is subscribable")
	}
}

func TestWebhookSubscribed(t *testing.T) {
	t.Parallel()
	all := &agenthooks.Webhook{}
	named := &agenthooks.Webhook{Events: []string{agenthooks.EventConversationClosed}}
	tests := []struct {
		name string
		w    *agenthooks.Webhook
		typ  string
		want bool
	}{
		{"AllGetsConversationEvents", all, agenthooks.EventCapturedFormCreated, true},
		{"AllGetsNoOnRequestType", all, agenthooks.EventWebhookTest, false},
		{"AllGetsOwnType", all, "call.ended", true},
		{"AllGetsNoOperationalType", all, agenthooks.EventWebhookDisabled, false},
		{"NamedGetsItsType", named, agenthooks.EventConversationClosed, true},
		{"NamedGetsNoOther", named, agenthooks.EventConversationUpdated, false},
		{"NamedGetsNoOwnType", named, "call.ended", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.w.Subscribed(tt.typ); got != tt.want {
				t.Errorf("Subscribed(%q) = %v, want %v", tt.typ, got, tt.want)
			}
		})
	}
}

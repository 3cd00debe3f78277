package main

import (
	"strings"
	"testing"
)

// The webhook page's Filter form (CONTRACT section 7): Test runs the unsaved
// filter against the latest event and shows "matches" or "does not match";
// an unusable filter shows its error under the field, in words; Save keeps
// it, and the page shows how many events it dropped.
func TestBrowserFilter(t *testing.T) {
	chromiumPath(t)
	rec := newHookSink(t)
	rec.healthy.Store(true)
	a, key := startApp(t, env{"AGENTHOOKS_DATABASE_URL": "sqlite:" + t.TempDir() + "/f.db", "AGENTHOOKS_LOG_LEVEL": "error"})
	base := a.URL()
	hook := apiCall(t, base, key, "POST", "/outbound_webhook", map[string]any{"name": "Sales leads", "endpoint": rec.srv.URL + "/leads"})
	id := hook["id"].(string)
	apiCall(t, base, key, "POST", "/outbound_webhook/"+id+"/test", nil) // the latest event: webhook.test

	u := newBrowser(t, base)
	u.open("/")
	u.fill("API key", key)
	u.click("", "Sign in")
	u.see("Delivery attempts per")
	u.open("/webhooks/" + id)
	u.see("Events dropped by the filter: 0")

	const form = "//section[@id='filter']"
	u.fill("Filter", `{"event": "webhook.test", "data.webhook_id": {"$exist": true}}`)
	u.click(form, "Test")
	u.see("matches The filter matches webhook.test")
	if strings.Contains(u.text(), "does not match") {
		t.Fatal("a matching filter reads does not match")
	}
	u.screenshot("webhook-filter-matches")
	u.fill("Filter", `{"event": {"$in": ["conversation.closed", "captured_intent.created"]}}`)
	u.click(form, "Test")
	u.see("does not match The filter does not match webhook.test")
	if got := apiCall(t, base, key, "GET", "/outbound_webhook/"+id, nil)["filter"]; got != nil {
		t.Fatalf("Test saved the filter: %v", got)
	}

	u.fill("Filter", `{"data": {"intent_name": {"$like": "SALES"}}}`)
	u.click(form, "Save")
	u.see(`data.intent_name.$like: unknown operator "$like"`)
	u.screenshot("webhook-filter-error")
	u.fill("Filter", `{"data.intent_name": "SALES"`)
	u.click(form, "Test")
	u.see("The filter is not valid JSON")

	u.fill("Filter", `{"data.intent_name": "SALES"}`)
	u.click(form, "Save")
	u.see("Filter saved.")
	got, _ := apiCall(t, base, key, "GET", "/outbound_webhook/"+id, nil)["filter"].(map[string]any)
	if got["data.intent_name"] != "SALES" {
		t.Fatalf("saved filter %v", got)
	}

	// An event the filter drops: a message in a conversation of the
	// webhook's assistant (conversation.updated has no intent_name).
	as := apiCall(t, base, key, "POST", "/assistant", map[string]any{"name": "Sales bot", "webhook_id": id})["id"].(string)
	wg := apiCall(t, base, key, "POST", "/widget", map[string]any{"assistant_id": as, "name": "Chat", "widget_type": "chat"})["id"].(string)
	conv := apiCall(t, base, key, "POST", "/conversation", map[string]any{"assistant_id": as, "widget_id": wg, "device_type": "mobile"})["id"].(string)
	apiCall(t, base, key, "POST", "/conversation/"+conv+"/message", map[string]any{"sender_type": "user", "text": "hi"})
	u.open("/webhooks/" + id)
	u.see("Events dropped by the filter: 1")
	u.click(form, "Test")
	u.see("The filter does not match conversation.updated")
	u.screenshot("webhook-filter")
}

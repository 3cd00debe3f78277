package main

import (
	"testing"
)

// TestBrowserEventTypes clicks through the Event types page in chromium:
// the sidebar entry, Add an event type with an error under Schema and then
// a good schema, deprecation, the webhook form's own type, and deletion;
// screenshots at desktop and phone width go to docs/screenshots
// (docs/dashboard.md).
func TestBrowserEventTypes(t *testing.T) {
	chromiumPath(t)
	a, key := startApp(t, env{"AGENTHOOKS_DATABASE_URL": "sqlite:" + t.TempDir() + "/b.db", "AGENTHOOKS_RETRY_SCHEDULE": "1h", "AGENTHOOKS_LOG_LEVEL": "error"})
	base := a.URL()
	u := newBrowser(t, base)

	u.open("/")
	u.fill("API key", key)
	u.click("", "Sign in")
	u.see("Delivery attempts per")

	u.click("//nav", "Event types")
	u.see("Built-in event types")
	u.see("conversation.closed")
	u.screenshot("event-types-empty")

	u.click("", "Add an event type")
	u.fill("Name", "call.ended")
	u.fill("Description", "A phone call with the agent ended.")
	u.fill("Schema", `{"type": "objekt"}`)
	u.click("", "Submit")
	u.see("Add an event type")
	u.see("Schema does not compile: at /type")
	u.screenshot("event-type-form-errors")

	u.fill("Schema", `{"type": "object", "required": ["duration_s"], "properties": {"duration_s": {"type": "integer"}, "recording_url": {"type": "string"}}, "examples": [{"duration_s": 184, "recording_url": "https://rec.example.com/184.mp3"}]}`)
	u.click("", "Submit")
	u.see("Event type created.")
	u.see(`"duration_s": 184`)
	u.screenshot("event-type")

	u.click("", "Deprecate")
	u.see("Undeprecate")

	u.click("//nav", "Webhooks")
	u.click("", "Add a Webhook")
	u.see("call.ended")

	u.click("//nav", "Event types")
	u.see("deprecated")
	u.screenshot("event-types")

	u.click("//main", "call.ended")
	u.click("", "Delete")
	u.see("Event type deleted.")
	u.lacksControls("call.ended")
}

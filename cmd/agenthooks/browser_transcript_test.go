package main

import (
	"fmt"
	"testing"
)

// TestBrowserTranscriptPaged: a conversation longer than a page opens on its
// latest messages, with Previous and Next links that work as plain links
// (no JavaScript needed) and say where they are.
func TestBrowserTranscriptPaged(t *testing.T) {
	chromiumPath(t)
	a, key := startApp(t, env{"AGENTHOOKS_DATABASE_URL": "sqlite:" + t.TempDir() + "/b.db", "AGENTHOOKS_LOG_LEVEL": "error"})
	base := a.URL()
	as := apiCall(t, base, key, "POST", "/assistant", map[string]any{"name": "Support"})
	wg := apiCall(t, base, key, "POST", "/widget", map[string]any{"assistant_id": as["id"], "name": "Website chat", "widget_type": "chat"})
	cv := apiCall(t, base, key, "POST", "/conversation", map[string]any{"assistant_id": as["id"], "widget_id": wg["id"], "device_type": "mobile"})
	for i := range 45 {
		sender := []string{"user", "bot"}[i%2]
		apiCall(t, base, key, "POST", "/conversation/"+cv["id"].(string)+"/message", map[string]any{"sender_type": sender, "text": fmt.Sprintf("Message number %02d of the long chat", i)})
	}
	u := newBrowser(t, base)
	u.open("/")
	u.fill("API key", key)
	u.click("", "Sign in")
	u.open("/conversations/" + cv["id"].(string))
	u.see("Message number 44 of the long chat")
	u.see("Page 3 of 3")
	u.screenshot("conversation-paged")
	u.click("", "← Previous")
	u.see("Page 2 of 3")
	u.see("Message number 20 of the long chat")
	u.click("", "← Previous")
	u.see("Message number 00 of the long chat")
	u.click("", "Next →")
	u.see("Page 2 of 3")
}

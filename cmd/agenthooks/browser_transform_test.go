package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/agenthooks/agenthooks/transform"
)

// TestBrowserTransformation: on a webhook's page, the Transformation panel
// starts from a template (Use template fills the code), Test runs it on the
// latest event and shows the method, URL and body it would send, and Save
// keeps it (the API reads it back). Screenshots at desktop and phone width:
// webhook-transformation-test, webhook-transformation-saved.
func TestBrowserTransformation(t *testing.T) {
	chromiumPath(t)
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) }))
	defer recv.Close()
	a, key := startApp(t, env{"AGENTHOOKS_DATABASE_URL": "sqlite:" + t.TempDir() + "/b.db", "AGENTHOOKS_RETRY_SCHEDULE": "1h", "AGENTHOOKS_LOG_LEVEL": "error"})
	c := &client{t: t, base: a.URL(), key: key}
	wh := c.must(http.StatusCreated, "POST", "/outbound_webhook", map[string]any{"name": "Team chat", "endpoint": recv.URL + "/slack"})
	id := wh["id"].(string)
	// An event to test on: the webhook's test event.
	c.must(http.StatusOK, "POST", "/outbound_webhook/"+id+"/test", nil)

	u := newBrowser(t, a.URL())
	u.open("/")
	u.fill("API key", key)
	u.click("", "Sign in")
	u.see("Delivery attempts per")
	u.open("/webhooks/" + id)
	u.see("Transformation")
	tpl, _ := transform.LookupTemplate("slack")
	u.choose("Start from a template", "slack — "+tpl.Description)
	// The page has a Test and a Save of the Filter form too.
	const form = "//section[@id='transformation']"
	u.click(form, "Use template")
	code, err := chromedp.Run(u.ctx, chromedp.Evaluate[string](`document.getElementById('transformation_code').value`))
	if err != nil || !strings.Contains(code, "function handler(webhook)") || !strings.Contains(code, "blocks") {
		t.Fatalf("after Use template the code is %.200q (%v), want the slack template", code, err)
	}
	u.click(form, "Test")
	u.see("Method")
	u.see(recv.URL + "/slack")
	u.see(`"blocks"`)
	u.see("Test event from agenthooks")
	u.screenshot("webhook-transformation-test")
	u.click(form, "Save")
	u.see("Transformation saved.")
	u.screenshot("webhook-transformation-saved")
	got := c.must(http.StatusOK, "GET", "/outbound_webhook/"+id, nil)
	if tr, _ := got["transformation"].(map[string]any); tr == nil || !strings.Contains(tr["code"].(string), "blocks") || tr["enabled"] != true {
		t.Errorf("the API reads the transformation %v, want the slack template, enabled", got["transformation"])
	}
}

package main

import (
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserRetrying: a delivery whose attempt failed reads "retrying" with
// the attempt's status and when the next is, in the list and on its page;
// on a phone the list still shows the webhook and the time, and no text of
// it is under 12 px; the delivery's page shows the body sent (issue 26).
func TestBrowserRetrying(t *testing.T) {
	chromiumPath(t)
	rec := newHookSink(t) // answers 500
	a, key := startApp(t, env{"AGENTHOOKS_DATABASE_URL": "sqlite:" + t.TempDir() + "/r.db", "AGENTHOOKS_RETRY_SCHEDULE": "1h", "AGENTHOOKS_LOG_LEVEL": "error"})
	base := a.URL()
	wh := apiCall(t, base, key, "POST", "/outbound_webhook", map[string]any{"name": "CRM", "endpoint": rec.srv.URL + "/crm"})
	test := apiCall(t, base, key, "POST", "/outbound_webhook/"+wh["id"].(string)+"/test", nil)
	u := newBrowser(t, base)
	u.open("/")
	u.fill("API key", key)
	u.click("", "Sign in")
	u.see("Overview")

	u.open("/deliveries")
	u.see("retrying")
	u.see("HTTP 500 · next in")
	if n, err := chromedp.Run(u.ctx, chromedp.Evaluate[int](`document.querySelectorAll('.badge.retry').length`)); err != nil || n != 1 {
		t.Errorf("retrying badges = %d (%v), want 1 with its own class", n, err)
	}
	u.screenshot("deliveries-retrying")

	u.do("phone width", chromedp.EmulateViewport(390, 844))
	visible := func(js string) bool {
		ok, err := chromedp.Run(u.ctx, chromedp.Evaluate[bool](js))
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if !visible(`[...document.querySelectorAll('table.deliveries td a')].some(e => e.innerText === 'CRM' && e.offsetParent !== null && e.getBoundingClientRect().right <= 390)`) {
		t.Error("at 390 px the deliveries list does not show the webhook's name on screen")
	}
	if !visible(`[...document.querySelectorAll('table.deliveries td.when time')].some(e => e.offsetParent !== null && e.innerText.includes('UTC') && e.getBoundingClientRect().right <= 390)`) {
		t.Error("at 390 px the deliveries list does not show the delivery's time on screen")
	}
	small, err := chromedp.Run(u.ctx, chromedp.Evaluate[string](`[...document.querySelectorAll('main *')].filter(e => e.offsetParent !== null && [...e.childNodes].some(n => n.nodeType === 3 && n.textContent.trim()) && parseFloat(getComputedStyle(e).fontSize) < 12).map(e => e.tagName + ':' + e.textContent.trim().slice(0, 20)).join(', ')`))
	if err != nil || small != "" {
		t.Errorf("text under 12 px on a phone: %s (%v)", small, err)
	}
	u.do("desktop width", chromedp.EmulateViewport(1280, 900))

	u.open("/deliveries/" + test["delivery_id"].(string))
	u.see("retrying")
	u.see("the last attempt failed: HTTP 500")
	u.see("Body sent")
	u.see("webhook.test") // the body as recorded by the attempt (compact JSON)
	u.see("Response (first 4,096 bytes)")
	u.screenshot("delivery-retrying")
}

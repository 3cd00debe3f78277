package main

import (
	"context"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/redis/go-redis/v9"
)

// TestBrowserDestinations: the Add a Webhook form chooses the kind in
// "Deliver to" and shows that kind's fields only (CSS, no JavaScript); a
// Redis webhook made there delivers the test event to the real Redis, and
// the delivery's page shows Redis's answer, the entry id. Screenshots at
// desktop and phone width: webhook-form-redis, webhook-redis,
// delivery-redis.
func TestBrowserDestinations(t *testing.T) {
	chromiumPath(t)
	needBroker(t, "127.0.0.1:6379")
	stream := brokerName()
	rc := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
	t.Cleanup(func() { rc.Del(context.Background(), stream); _ = rc.Close() })
	a, key := startApp(t, env{"AGENTHOOKS_DATABASE_URL": "sqlite:" + t.TempDir() + "/b.db", "AGENTHOOKS_RETRY_SCHEDULE": "1h", "AGENTHOOKS_LOG_LEVEL": "error"})
	u := newBrowser(t, a.URL())
	u.open("/")
	u.fill("API key", key)
	u.click("", "Sign in")
	u.see("Delivery attempts per")
	u.click("//nav", "Webhooks")
	u.click("//main", "Add a Webhook")

	visible := func(id string) bool {
		t.Helper()
		v, err := chromedp.Run(u.ctx, chromedp.Evaluate[bool](`(() => { const e = document.getElementById(`+"`"+id+"`"+`); return !!e && e.offsetParent !== null })()`))
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	if !visible("endpoint") || visible("destination_stream") || visible("destination_url") {
		t.Errorf("HTTP chosen: endpoint shown %v, stream %v, broker url %v; want the endpoint only", visible("endpoint"), visible("destination_stream"), visible("destination_url"))
	}
	u.choose("Deliver to", "Redis Streams")
	if visible("endpoint") || !visible("destination_stream") || !visible("destination_url") || visible("destination_subject") || visible("destination_routing_key") {
		t.Errorf("Redis chosen: endpoint %v stream %v url %v subject %v routing key %v", visible("endpoint"), visible("destination_stream"),
			visible("destination_url"), visible("destination_subject"), visible("destination_routing_key"))
	}
	u.fill("Name", "Analytics stream")
	u.fill("Broker URL", "redis://:pw@127.0.0.1:6379/0")
	u.fill("Stream", stream)
	u.fill("Max length (entries)", "many")
	u.click("", "Submit")
	u.see("whole number of entries")
	u.see("Type the URL with its credentials again")
	if v, err := chromedp.Run(u.ctx, chromedp.Evaluate[string](`document.getElementById('destination_url').value`)); err != nil || v != "redis://127.0.0.1:6379/0" {
		t.Errorf("after a validation error the form shows the broker URL %q (%v), want it without the password typed", v, err)
	}
	if visible("tls_client_certificate") {
		t.Error("Redis chosen: the client certificate (HTTP only) is shown")
	}
	u.screenshot("webhook-form-redis")
	u.fill("Broker URL", "redis://:pw@127.0.0.1:6379/0")
	u.fill("Max length (entries)", "10000")
	u.click("", "Submit")
	u.see("Webhook created.")
	u.see("Credentials are set and never shown")
	if v, err := chromedp.Run(u.ctx, chromedp.Evaluate[string](`document.getElementById('destination_url').value`)); err != nil || v != "redis://127.0.0.1:6379/0" {
		t.Errorf("the form shows the broker URL %q (%v), want it without the password", v, err)
	}
	u.screenshot("webhook-redis")
	u.click("", "Send test event")
	u.see("Test event sent.")
	u.see("added to Redis stream " + stream)
	// textContent: the headings are drawn in capitals (CSS).
	if v, err := chromedp.Run(u.ctx, chromedp.Evaluate[bool](`document.body.textContent.includes("Message headers") && document.body.textContent.includes("Broker's answer")`)); err != nil || !v {
		t.Errorf("a Redis attempt is not headed Message headers and Broker's answer (%v)", err)
	}
	if v, err := chromedp.Run(u.ctx, chromedp.Evaluate[bool](`document.body.textContent.includes('User-Agent')`)); err != nil || v {
		t.Errorf("a Redis attempt lists User-Agent among its headers (%v): only HTTP requests carry it", err)
	}
	u.screenshot("delivery-redis")
	if n := rc.XLen(context.Background(), stream).Val(); n != 1 {
		t.Errorf("the stream holds %d entries, want 1", n)
	}
}

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The browser test drives the real dashboard of a running agenthooks in
// Debian's chromium, click by click, by the labels of CONTRACT section 7 and
// the seed's words, and writes a screenshot of every screen at desktop and
// phone width to docs/screenshots (shown in docs/dashboard.md).

// chromiumPath finds chromium; without it the test fails in CI and skips elsewhere.
func chromiumPath(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("chromium is not installed (apt-get install -y chromium); the browser tests need it in CI")
	}
	t.Skip("chromium is not installed; skipping the browser tests")
	return ""
}

// ui is one browser tab on the dashboard.
type ui struct {
	t    *testing.T
	ctx  context.Context
	base string
	shot string // screenshot folder
}

// newBrowser starts chromium with the flags docs/dashboard.md lists and returns
// a tab; the browser stops at the end of the test.
func newBrowser(t *testing.T, base string) *ui {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.NoFirstRun,
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx, chromedp.WithLogf(func(string, ...any) {}))
	t.Cleanup(func() { cancel(); cancelAlloc() })
	// Screenshots go to docs/screenshots (committed, shown in
	// docs/dashboard.md), or to AGENTHOOKS_SCREENSHOT_DIR when set (a CI
	// artifacts folder).
	shot := filepath.Join("..", "..", "docs", "screenshots")
	if dir := os.Getenv("AGENTHOOKS_SCREENSHOT_DIR"); dir != "" {
		shot = dir
	}
	u := &ui{t: t, ctx: ctx, base: base, shot: shot}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 900)); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return u
}

// do runs actions with a bounded wait.
func (u *ui) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	u.t.Helper()
	ctx, cancel := context.WithTimeout(u.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		loc, _ := chromedp.Run(u.ctx, chromedp.Location())
		body, _ := chromedp.Run(u.ctx, chromedp.Evaluate[string]("document.body ? document.body.innerText : ''"))
		u.t.Fatalf("%s: %v\nat %s:\n%s", what, err, loc, body)
	}
}

// xq quotes s for an XPath string literal.
func xq(s string) string {
	if !strings.Contains(s, "'") {
		return "'" + s + "'"
	}
	return `concat('` + strings.ReplaceAll(s, `'`, `', "'", '`) + `')`
}

func (u *ui) open(path string) {
	u.t.Helper()
	u.navigating("open "+path, chromedp.Navigate(u.base+path))
}

// click clicks the button or link whose text is label, inside scope (an
// XPath prefix such as "//nav" or "").
func (u *ui) click(scope, label string) {
	u.t.Helper()
	sel := chromedp.Search(fmt.Sprintf(`%s//*[self::a or self::button][normalize-space()=%s]`, scope, xq(label)))
	u.navigating("click "+label, chromedp.WaitVisible(sel), chromedp.Click(sel))
}

// navigating runs actions that load a new page (a click on a link or a
// button) and waits until the new page has loaded.
func (u *ui) navigating(what string, actions ...chromedp.Action[chromedp.Void]) {
	u.t.Helper()
	if _, err := chromedp.Run(u.ctx, chromedp.Evaluate[bool](`window.__old = true`)); err != nil {
		u.t.Fatal(err)
	}
	u.do(what, actions...)
	deadline := time.Now().Add(30 * time.Second)
	for {
		done, err := chromedp.Run(u.ctx, chromedp.Evaluate[bool](`window.__old !== true && document.readyState === 'complete'`))
		if err == nil && done {
			return
		}
		if time.Now().After(deadline) {
			u.t.Fatalf("%s: no new page loaded (%v)", what, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// fill types text into the input labelled label.
func (u *ui) fill(label, text string) {
	u.t.Helper()
	id := u.labelFor(label)
	u.setValue(id, "")
	u.do("fill "+label, chromedp.SendKeys(chromedp.ID(id), text))
}

// setValue sets the value of the element with id, as a person's choice would.
func (u *ui) setValue(id, value string) {
	u.t.Helper()
	js := fmt.Sprintf(`(() => { const e = document.getElementById(%q); if (!e) return false; e.value = %q; return e.value === %q })()`, id, value, value)
	ok, err := chromedp.Run(u.ctx, chromedp.Evaluate[bool](js))
	if err != nil || !ok {
		u.t.Fatalf("set the value of #%s to %q: %v", id, value, err)
	}
}

func (u *ui) labelFor(label string) string {
	u.t.Helper()
	ctx, cancel := context.WithTimeout(u.ctx, 30*time.Second)
	defer cancel()
	sel := chromedp.Search(fmt.Sprintf(`//label[normalize-space()=%s]`, xq(label)))
	if err := chromedp.Do(ctx, chromedp.WaitVisible(sel)); err != nil {
		u.t.Fatalf("no label %q: %v", label, err)
	}
	attr, err := chromedp.Run(ctx, chromedp.AttributeValue(sel, "for"))
	if err != nil || attr.Value == "" {
		u.t.Fatalf("label %q has no for: %v", label, err)
	}
	return attr.Value
}

// choose picks the option whose text is option in the drop-down labelled label.
func (u *ui) choose(label, option string) {
	u.t.Helper()
	id := u.labelFor(label)
	ctx, cancel := context.WithTimeout(u.ctx, 30*time.Second)
	defer cancel()
	opt := chromedp.Search(fmt.Sprintf(`//select[@id=%s]/option[normalize-space()=%s]`, xq(id), xq(option)))
	attr, err := chromedp.Run(ctx, chromedp.AttributeValue(opt, "value"))
	if err != nil {
		u.t.Fatalf("drop-down %q has no option %q: %v", label, option, err)
	}
	u.setValue(id, attr.Value)
}

// see waits until the page shows text.
func (u *ui) see(text string) {
	u.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ok, err := chromedp.Run(u.ctx, chromedp.Evaluate[bool](fmt.Sprintf(`!!document.body && document.body.innerText.includes(%q)`, text)))
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			u.t.Fatalf("the page never showed %q (%v)\nat %s:\n%s", text, err, u.location(), u.text())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// text returns the page's visible text.
func (u *ui) text() string {
	u.t.Helper()
	s, err := chromedp.Run(u.ctx, chromedp.Evaluate[string]("document.body.innerText"))
	if err != nil {
		u.t.Fatal(err)
	}
	return s
}

func (u *ui) location() string {
	u.t.Helper()
	s, err := chromedp.Run(u.ctx, chromedp.Location())
	if err != nil {
		u.t.Fatal(err)
	}
	return strings.TrimPrefix(s, u.base)
}

// lacks fails when the page shows any of the texts as a control.
func (u *ui) lacksControls(labels ...string) {
	u.t.Helper()
	for _, l := range labels {
		n, err := chromedp.Run(u.ctx, chromedp.Evaluate[int](fmt.Sprintf(
			`[...document.querySelectorAll('a,button')].filter(e => e.innerText.trim() === %q).length`, l)))
		if err != nil {
			u.t.Fatal(err)
		}
		if n > 0 {
			u.t.Errorf("%s shows a %q control", u.location(), l)
		}
	}
}

// screenshot writes the page at desktop (1280) and phone (390) width.
func (u *ui) screenshot(name string) {
	u.t.Helper()
	if err := os.MkdirAll(u.shot, 0o755); err != nil {
		u.t.Fatal(err)
	}
	for _, v := range []struct {
		suffix string
		w, h   int64
	}{{"desktop", 1280, 900}, {"phone", 390, 844}} {
		ctx, cancel := context.WithTimeout(u.ctx, 30*time.Second)
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(v.w, v.h)); err != nil {
			cancel()
			u.t.Fatal(err)
		}
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		cancel()
		if err != nil {
			u.t.Fatalf("screenshot %s: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join(u.shot, name+"-"+v.suffix+".png"), png, 0o644); err != nil {
			u.t.Fatal(err)
		}
	}
	u.do("desktop width", chromedp.EmulateViewport(1280, 900))
}

// hookSink is the webhook endpoint: it answers 500 until healthy is set.
type hookSink struct {
	srv     *httptest.Server
	healthy atomic.Bool
	mu      sync.Mutex
	got     []string // event types received
}

func newHookSink(t *testing.T) *hookSink {
	r := &hookSink{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		var env struct {
			Event string `json:"event"`
		}
		_ = json.NewDecoder(req.Body).Decode(&env)
		r.mu.Lock()
		r.got = append(r.got, env.Event)
		r.mu.Unlock()
		if !r.healthy.Load() {
			http.Error(w, `{"error":"hookSink is down for the test"}`, http.StatusInternalServerError)
			return
		}
		_, _ = w.Write([]byte(`{"ok":true}`))
	}))
	t.Cleanup(r.srv.Close)
	return r
}

// apiCall calls the API with key and returns data.
func apiCall(t *testing.T, base, key, method, path string, body any) map[string]any {
	t.Helper()
	var rd *strings.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = strings.NewReader(string(b))
	} else {
		rd = strings.NewReader("")
	}
	req, err := http.NewRequest(method, base+"/api/v1"+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out struct {
		Data map[string]any `json:"data"`
	}
	if res.StatusCode >= 300 {
		t.Fatalf("%s %s: status %d", method, path, res.StatusCode)
	}
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	return out.Data
}

func TestBrowser(t *testing.T) {
	chromiumPath(t)
	rec := newHookSink(t)
	a, key := startApp(t, env{"AGENTHOOKS_DATABASE_URL": "sqlite:" + t.TempDir() + "/b.db", "AGENTHOOKS_RETRY_SCHEDULE": "1h", "AGENTHOOKS_LOG_LEVEL": "error"})
	base := a.URL()
	u := newBrowser(t, base)

	// An assistant with a widget, and a form, as an agent platform would
	// have made them through the API.
	as := apiCall(t, base, key, "POST", "/assistant", map[string]any{"name": "Sales bot"})
	asID := as["id"].(string)
	wg := apiCall(t, base, key, "POST", "/widget", map[string]any{"assistant_id": asID, "name": "Website chat", "widget_type": "chat"})
	fm := apiCall(t, base, key, "POST", "/form", map[string]any{"name": "Leads form", "fields": []map[string]any{{"name": "email", "type": "text", "required": true}}})

	// Sign in.
	u.open("/")
	u.see("API key")
	u.screenshot("signin")
	u.fill("API key", "ak_not-the-key")
	u.click("", "Sign in")
	u.see("That API key is not valid")
	u.fill("API key", key)
	u.click("", "Sign in")
	u.see("Delivery attempts per")
	u.screenshot("overview-empty")

	// Step 1-2 of the seed: Webhooks → Add a Webhook → Name, Endpoint → Submit.
	u.click("//nav", "Webhooks")
	u.see("No webhooks yet")
	u.screenshot("webhooks-empty")
	u.click("//main", "Add a Webhook")
	u.fill("Endpoint", "not a url")
	u.click("", "Submit")
	u.see("Enter a name, such as CRM") // every field's error at once, in words
	u.see("A web address cannot contain spaces")
	u.screenshot("webhook-form-errors")
	u.fill("Name", "CRM")
	u.fill("Endpoint", rec.srv.URL+"/crm")
	u.click("", "Submit")
	u.see("Webhook created.")
	u.screenshot("webhook")
	u.click("", "Reveal secret")
	u.see("Hide secret")
	if v, err := chromedp.Run(u.ctx, chromedp.Evaluate[string](`document.getElementById('secret').value`)); err != nil || !strings.HasPrefix(v, "whsec_") {
		t.Fatalf("revealed secret %q: %v", v, err)
	}
	u.click("", "Send test event")
	u.see("Test event sent.")
	u.see("Attempt 1")
	u.screenshot("delivery-test")

	// Step 3-4: AI Agents → Assistants → the assistant → Operations → Assign
	// Webhook → Webhook → Save.
	u.click("//nav", "AI Agents")
	u.click("//nav", "Assistants")
	u.see("Sales bot")
	u.screenshot("assistants")
	u.click("//main", "Sales bot")
	u.see("Website chat")
	u.screenshot("assistant-widgets")
	u.click("//nav", "Operations")
	u.click("", "Assign Webhook")
	u.choose("Webhook", "CRM")
	u.screenshot("assistant-assign")
	u.click("", "Save")
	u.see("Saved.")
	if got := apiCall(t, base, key, "GET", "/assistant/"+asID, nil)["webhook_id"]; got == nil {
		t.Fatal("Save did not assign the webhook")
	}
	crmID := apiCall(t, base, key, "GET", "/assistant/"+asID, nil)["webhook_id"].(string)

	// Forms → the form → Webhook → Save.
	u.click("//nav", "AI Agents")
	u.click("//nav", "Forms")
	u.see("Leads form")
	u.screenshot("forms")
	u.click("//main", "Leads form")
	u.choose("Webhook", "CRM")
	u.click("", "Save")
	u.see("Saved.")
	u.screenshot("form")
	if got := apiCall(t, base, key, "GET", "/form/"+fm["id"].(string), nil)["webhook_id"]; got != crmID {
		t.Fatalf("form webhook = %v, want %s", got, crmID)
	}

	// "Alternatively, Create Webhook": to the Add a Webhook form and back.
	u.click("//nav", "AI Agents")
	u.click("//main", "Sales bot")
	u.click("//nav", "Operations")
	u.click("", "Create Webhook")
	u.see("Add a Webhook")
	u.fill("Name", "Leads sink")
	u.fill("Endpoint", rec.srv.URL+"/leads")
	u.click("", "Submit")
	u.see("Webhook created.")
	if loc := u.location(); !strings.HasPrefix(loc, "/assistants/"+asID+"/operations") {
		t.Fatalf("after Submit from Create Webhook: at %s, want back at the assistant", loc)
	}
	sel, err := chromedp.Run(u.ctx, chromedp.Evaluate[string](`document.querySelector('#webhook_id').selectedOptions[0].text`))
	if err != nil || sel != "Leads sink" {
		t.Fatalf("the drop-down shows %q (%v), want the new webhook chosen", sel, err)
	}
	u.click("", "Save")
	u.see("Saved.")
	if got := apiCall(t, base, key, "GET", "/assistant/"+asID, nil)["webhook_id"]; got == crmID || got == nil {
		t.Fatalf("assistant webhook = %v, want the new one", got)
	}

	// A conversation reported through the API; its delivery fails, then Retry.
	conv := apiCall(t, base, key, "POST", "/conversation", map[string]any{"assistant_id": asID, "widget_id": wg["id"], "device_type": "desktop"})
	convID := conv["id"].(string)
	apiCall(t, base, key, "POST", "/conversation/"+convID+"/message", map[string]any{"sender_type": "user", "text": "Hi, how much is a flu jab?"})
	apiCall(t, base, key, "POST", "/conversation/"+convID+"/message", map[string]any{"sender_type": "bot", "text": "It is 15 euros. Shall I book you in?"})
	apiCall(t, base, key, "POST", "/conversation/"+convID+"/captured_form", map[string]any{"form_id": fm["id"], "field_values": map[string]any{"email": "zoe@example.com"}})
	apiCall(t, base, key, "POST", "/conversation/"+convID+"/close", nil)
	u.click("//nav", "Deliveries")
	u.choose("Status", "failed")
	u.choose("Status", "pending")
	u.click("", "Filter")
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		rows, err := chromedp.Run(u.ctx, chromedp.Evaluate[int](`document.querySelectorAll('table tbody tr').length`))
		if err == nil && rows > 0 {
			break
		}
		time.Sleep(200 * time.Millisecond)
		u.navigating("reload", chromedp.Reload())
	}
	u.screenshot("deliveries")
	// The newest delivery is the conversation.closed one.
	u.navigating("open the newest delivery", chromedp.Click(chromedp.CSS(`table tbody tr:first-child td:first-child a`)))
	u.see("conversation.closed")
	u.see("Attempt 1")
	u.see("500")
	u.see("webhook-signature")
	if txt := u.text(); strings.Contains(txt, "whsec_") {
		t.Fatal("a delivery page shows a secret")
	}
	rec.healthy.Store(true)
	u.click("", "Retry")
	u.see("Retry queued")
	// The new attempt shows up without a reload (htmx polls while pending).
	u.see("Attempt 2")
	u.see("200")
	u.screenshot("delivery")
	u.click("//header", "conversation.closed")
	u.see("Body as sent")
	// The copy button shows where the Clipboard API is (127.0.0.1 is a
	// secure context); the id is text to select either way.
	if shown, err := chromedp.Run(u.ctx, chromedp.Evaluate[bool](`!document.querySelector('button[data-copy="event-id"]').hidden`)); err != nil || !shown {
		t.Errorf("the event id's Copy button is hidden (%v)", err)
	}
	u.screenshot("event")
	u.click("//nav", "Events")
	u.see("conversation.updated")
	u.screenshot("events")
	// Search by text in the payload: the conversation's events, not the others.
	u.open("/events?q=flu+jab")
	u.see("Search by an event's or delivery's id")
	if txt, err := chromedp.Run(u.ctx, chromedp.Evaluate[string](`document.querySelector('table').innerText`)); err != nil ||
		!strings.Contains(txt, "conversation.updated") || strings.Contains(txt, "webhook.test") {
		t.Errorf("searching the events for \"flu jab\" shows:\n%s", txt)
	}
	u.screenshot("events-search")
	u.click("//nav", "Conversations")
	u.see("Hi, how much is a flu jab?")
	u.screenshot("conversations")
	u.navigating("open the conversation", chromedp.Click(chromedp.CSS(`table tbody tr:first-child td:first-child a`)))
	u.see("It is 15 euros")
	u.see("zoe@example.com")
	u.screenshot("conversation")
	u.click("//nav", "Webhooks")
	u.see("Leads sink")
	u.screenshot("webhooks")
	u.click("//nav", "Overview")
	u.see("Delivery attempts per")
	u.screenshot("overview")
	u.click("", "Sign out")
	u.see("You are signed out.")

	// A second account sees none of the first's things.
	other, err := a.svc.CreateAccount(context.Background(), "Second account")
	if err != nil {
		t.Fatal(err)
	}
	u.fill("API key", other.APIKey)
	u.click("", "Sign in")
	u.see("Second account")
	for _, p := range []string{"/webhooks", "/assistants", "/forms", "/conversations", "/events", "/deliveries"} {
		u.open(p)
		txt := u.text()
		for _, s := range []string{"CRM", "Leads sink", "Sales bot", "Leads form", "flu jab", convID[len(convID)-12:]} {
			if strings.Contains(txt, s) {
				t.Errorf("the second account sees %q on %s", s, p)
			}
		}
	}
	u.open("/deliveries")
	u.see("No deliveries yet")
	u.open("/assistants/" + asID)
	u.see("Not found")
	u.click("", "Sign out")
	u.see("API key")

	// A portal link signs in once, never twice; a read-only one shows no control.
	portal := apiCall(t, base, key, "POST", "/portal_session", map[string]any{"read_only": true, "expires_in": 600})
	link := portal["url"].(string)
	if !strings.HasPrefix(link, base+"/portal/") {
		t.Fatalf("portal url %q, want %s/portal/...", link, base)
	}
	u.navigating("open the portal link", chromedp.Navigate(link))
	u.see("Read-only")
	u.see("Delivery attempts per")
	if loc := u.location(); loc != "/" {
		t.Fatalf("after the portal link: at %s, want /", loc)
	}
	controls := []string{"Add a Webhook", "Submit", "Save", "Delete", "Delete webhook…", "Retry", "Assign Webhook", "Create Webhook",
		"Rotate secret", "Send test event", "Disable", "Enable", "Recover"}
	for _, p := range []string{"/", "/webhooks", "/webhooks/" + crmID, "/assistants/" + asID + "/operations", "/forms/" + fm["id"].(string), "/deliveries"} {
		u.open(p)
		u.see("Read-only")
		u.lacksControls(controls...)
	}
	u.open("/webhooks/" + crmID)
	u.screenshot("readonly-webhook")
	u.click("//nav", "Deliveries")
	u.navigating("open a delivery", chromedp.Click(chromedp.CSS(`table tbody tr:first-child td:first-child a`)))
	u.see("Attempt 1")
	u.lacksControls(controls...)
	u.click("", "Sign out")
	u.see("API key")
	u.navigating("open the portal link again", chromedp.Navigate(link))
	u.see("This link cannot be used")
	u.screenshot("portal-used")
	u.open("/webhooks")
	u.see("API key") // signed in nobody
}

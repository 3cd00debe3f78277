package main

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/agenthooks/agenthooks"
	"github.com/agenthooks/agenthooks/service"
)

// The browser tests of portal links, read-only sessions, the dashboard in a
// platform's iframe and Settings → API Keys (TestBrowser covers the rest of
// the dashboard).

// apiStatus calls the API with key and returns the status.
func apiStatus(t *testing.T, base, key, method, path string) int {
	t.Helper()
	req, err := http.NewRequest(method, base+"/api/v1"+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

// forgedPost POSTs a form from the page's own script, with the session's
// form token (as a tampered page or a hand-made request would), and returns
// the status.
func (u *ui) forgedPost(path string, fields map[string]string) int {
	u.t.Helper()
	b, _ := json.Marshal(fields)
	js := fmt.Sprintf(`(async () => {
		const f = new URLSearchParams(%s);
		f.set('csrf', document.querySelector('input[name=csrf]').value);
		const r = await fetch(%q, {method: 'POST', body: f, redirect: 'manual'});
		return r.status;
	})()`, b, path)
	ctx, cancel := context.WithTimeout(u.ctx, 30*time.Second)
	defer cancel()
	status, err := chromedp.Run(ctx, chromedp.Evaluate[int](js, chromedp.EvalAwaitPromise))
	if err != nil {
		u.t.Fatalf("forged POST %s: %v", path, err)
	}
	return status
}

func TestBrowserPortalLinkExpiry(t *testing.T) {
	chromiumPath(t)
	a, key := startApp(t, env{"AGENTHOOKS_DATABASE_URL": "sqlite:" + t.TempDir() + "/p.db", "AGENTHOOKS_LOG_LEVEL": "error"})
	base := a.URL()
	u := newBrowser(t, base)
	ctx := context.Background()
	wh := apiCall(t, base, key, "POST", "/outbound_webhook", map[string]any{"name": "CRM", "endpoint": "https://hooks.example.com/crm"})

	// A link of the shortest lifetime, moved past its expiry through the
	// store (no sleeping for a minute): it signs in nobody.
	link := apiCall(t, base, key, "POST", "/portal_session", map[string]any{"expires_in": 60})["url"].(string)
	token := link[strings.LastIndex(link, "/")+1:]
	err := a.store.Write(ctx, func(tx agenthooks.Tx) error {
		p, err := tx.UsePortalToken(service.HashAPIKey(token))
		if err != nil {
			return err
		}
		if p.ExpiresAt.Sub(p.CreatedAt) != time.Minute {
			return fmt.Errorf("expires_in 60 made a link of %v", p.ExpiresAt.Sub(p.CreatedAt))
		}
		p.ExpiresAt = tx.Now().Add(-time.Second)
		return tx.CreatePortalToken(p)
	})
	if err != nil {
		t.Fatal(err)
	}
	u.navigating("open the expired link", chromedp.Navigate(link))
	u.see("This link cannot be used")
	u.open("/webhooks")
	u.see("API key") // signed in nobody

	// A read-only link: signs in once; no control; a forged POST answers 403.
	link = apiCall(t, base, key, "POST", "/portal_session", map[string]any{"expires_in": 60, "read_only": true})["url"].(string)
	u.navigating("open the read-only link", chromedp.Navigate(link))
	u.see("Read-only")
	u.open("/settings/api-keys")
	u.see("API Keys")
	u.lacksControls("Create API key", "Revoke", "Add a Webhook", "Save", "Delete", "Retry")
	u.screenshot("readonly-apikeys")
	whID := wh["id"].(string)
	for path, fields := range map[string]map[string]string{
		"/webhooks":                     {"name": "forged", "endpoint": "https://hooks.example.com/f"},
		"/webhooks/" + whID + "/delete": nil,
		"/webhooks/" + whID:             {"name": "forged", "endpoint": "https://hooks.example.com/f"},
		"/settings/api-keys":            {"name": "forged"},
	} {
		if got := u.forgedPost(path, fields); got != http.StatusForbidden {
			t.Errorf("forged POST %s from a read-only session: status %d, want 403", path, got)
		}
	}
	if got := apiCall(t, base, key, "GET", "/outbound_webhook/"+whID, nil)["name"]; got != "CRM" {
		t.Fatalf("a read-only session changed the webhook: name %v", got)
	}
	u.click("", "Sign out")
	u.see("API key")
	u.navigating("open the read-only link again", chromedp.Navigate(link))
	u.see("This link cannot be used")
}

func TestBrowserAPIKeys(t *testing.T) {
	chromiumPath(t)
	a, key := startApp(t, env{"AGENTHOOKS_DATABASE_URL": "sqlite:" + t.TempDir() + "/k.db", "AGENTHOOKS_LOG_LEVEL": "error"})
	base := a.URL()
	u := newBrowser(t, base)

	u.open("/")
	u.fill("API key", key)
	u.click("", "Sign in")
	u.see("Delivery attempts per")
	u.click("//nav", "Settings")
	u.click("//nav", "API Keys")
	u.see("Create an API key")
	if txt := u.text(); strings.Contains(txt, key) {
		t.Fatal("the API Keys page shows a key")
	}
	u.fill("Name", "CI runner")
	u.click("", "Create API key")
	u.see("Copy it now")
	newKey, err := chromedp.Run(u.ctx, chromedp.Evaluate[string](`document.getElementById('new_key').value`))
	if err != nil || !strings.HasPrefix(newKey, "ak_") {
		t.Fatalf("the shown key %q: %v", newKey, err)
	}
	u.screenshot("apikey-created")
	if got := apiStatus(t, base, newKey, "GET", "/outbound_webhook"); got != http.StatusOK {
		t.Fatalf("the new key: GET /webhook answered %d", got)
	}

	// Shown once: the list shows names and prefixes only, and the last use.
	u.click("//nav", "API Keys")
	u.see("CI runner")
	if txt := u.text(); strings.Contains(txt, newKey) || strings.Contains(txt, "Copy it now") {
		t.Fatal("the list shows the new key again")
	}
	u.see(newKey[:agenthooks.APIKeyPrefixLen] + "…")
	u.screenshot("apikeys")

	// Revoke it: a confirmation, then the key stops working at once.
	u.navigating("revoke CI runner", chromedp.Click(chromedp.Search(`//tr[td[normalize-space()='CI runner']]//a[normalize-space()='Revoke']`)))
	u.see("Revoke CI runner?")
	u.screenshot("apikey-revoke")
	u.click("//main", "Revoke")
	u.see("API key revoked")
	if got := apiStatus(t, base, newKey, "GET", "/outbound_webhook"); got != http.StatusUnauthorized {
		t.Fatalf("the revoked key: GET /webhook answered %d, want 401", got)
	}
	if got := apiStatus(t, base, key, "GET", "/outbound_webhook"); got != http.StatusOK {
		t.Fatalf("the first key: GET /webhook answered %d", got)
	}

	// The last key cannot be revoked, so no Revoke is offered on it.
	if n, err := chromedp.Run(u.ctx, chromedp.Evaluate[int](`[...document.querySelectorAll('tbody a')].filter(a => a.textContent.trim() === 'Revoke').length`)); err != nil || n != 0 {
		t.Errorf("Revoke offered on the last key: %d links (%v)", n, err)
	}
	u.screenshot("apikey-last")
	if got := apiStatus(t, base, key, "GET", "/outbound_webhook"); got != http.StatusOK {
		t.Fatalf("the last key stopped working: %d", got)
	}
}

// platform is a page of "the platform" on its own loopback port that embeds
// the portal link it is given in an iframe.
type platform struct {
	srv  *httptest.Server
	mu   sync.Mutex
	link string
}

func newPlatform(t *testing.T) *platform {
	p := &platform{}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		link := p.link
		p.mu.Unlock()
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><title>Platform</title><h1>Acme Agents</h1><iframe id="portal" src="%s" style="width:100%%;height:600px"></iframe>`, html.EscapeString(link))
	}))
	t.Cleanup(p.srv.Close)
	return p
}

// childFrame returns the page's first iframe as the browser has it (its URL,
// or chrome-error://... and the URL it could not show).
func (u *ui) childFrame() *cdp.Frame {
	u.t.Helper()
	tree, err := chromedp.Run(u.ctx, chromedp.Action[page.GetFrameTreeResult](func(ctx context.Context, t *chromedp.Target) (page.GetFrameTreeResult, error) {
		return cdp.Call(ctx, t, page.GetFrameTree, cdp.Empty{})
	}))
	if err != nil {
		u.t.Fatal(err)
	}
	if tree.FrameTree == nil || len(tree.FrameTree.ChildFrames) == 0 {
		return nil
	}
	return tree.FrameTree.ChildFrames[0].Frame
}

// frameText returns the visible text of the frame's document, read in an
// isolated world of that frame (the page's own script cannot read a frame of
// another origin).
func (u *ui) frameText(id cdp.FrameID) (string, error) {
	return chromedp.Run(u.ctx, chromedp.Action[string](func(ctx context.Context, t *chromedp.Target) (string, error) {
		w, err := cdp.Call(ctx, t, page.CreateIsolatedWorld, page.CreateIsolatedWorldParams{FrameID: id, WorldName: "agenthooks-test"})
		if err != nil {
			return "", err
		}
		yes := true
		res, err := cdp.Call(ctx, t, runtime.Evaluate, runtime.EvaluateParams{Expression: `document.body ? document.body.innerText : ''`, ContextID: w.ExecutionContextID, ReturnByValue: &yes})
		if err != nil {
			return "", err
		}
		if res.ExceptionDetails != nil || res.Result == nil {
			return "", fmt.Errorf("evaluate in the frame: %v", res.ExceptionDetails)
		}
		var s string
		err = json.Unmarshal(res.Result.Value, &s)
		return s, err
	}))
}

func TestBrowserPortalIframe(t *testing.T) {
	chromiumPath(t)
	for _, tc := range []struct {
		name  string
		allow bool
	}{{"frame-ancestors names the platform", true}, {"frame-ancestors 'none'", false}} {
		t.Run(tc.name, func(t *testing.T) {
			plat := newPlatform(t)
			e := env{"AGENTHOOKS_DATABASE_URL": "sqlite:" + t.TempDir() + "/f.db", "AGENTHOOKS_LOG_LEVEL": "error"}
			if tc.allow {
				e["AGENTHOOKS_FRAME_ANCESTORS"] = plat.srv.URL
			}
			a, key := startApp(t, e)
			base := a.URL()
			if strings.TrimPrefix(base, "http://127.0.0.1:") == strings.TrimPrefix(plat.srv.URL, "http://127.0.0.1:") {
				t.Fatal("the platform and agenthooks share a port")
			}
			plat.mu.Lock()
			plat.link = apiCall(t, base, key, "POST", "/portal_session", map[string]any{"expires_in": 600, "embed": true,
				"theme": map[string]any{"accent_color": "#0a7d52"}})["url"].(string)
			plat.mu.Unlock()

			u := newBrowser(t, plat.srv.URL)
			u.open("/")
			u.see("Acme Agents")
			deadline := time.Now().Add(30 * time.Second)
			var f *cdp.Frame
			var text string
			for {
				f = u.childFrame()
				if f != nil && tc.allow && strings.HasPrefix(f.URL, base) {
					if s, err := u.frameText(f.ID); err == nil && strings.Contains(s, "Delivery attempts per") {
						text = s
						break
					}
				}
				if f != nil && !tc.allow && (strings.HasPrefix(f.URL, "chrome-error:") || f.UnreachableURL != "") {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("the iframe never settled: %+v", f)
				}
				time.Sleep(100 * time.Millisecond)
			}
			if !tc.allow {
				if s, err := u.frameText(f.ID); err == nil && strings.Contains(s, "Delivery attempts per") {
					t.Fatalf("the browser showed the dashboard in a frame that frame-ancestors refuses: %q", s)
				}
				u.screenshot("portal-iframe-refused")
				// The browser fetched the link before it refused the answer,
				// so the link is used up: the platform must make another.
				res, err := http.Get(plat.link)
				if err != nil {
					t.Fatal(err)
				}
				res.Body.Close()
				if res.StatusCode != http.StatusGone {
					t.Errorf("the refused frame's link answers %d afterwards, want 410", res.StatusCode)
				}
				return
			}
			// Signed in inside the iframe: the session cookie (SameSite=Lax)
			// went with the frame's requests, since 127.0.0.1 on two ports is
			// one site.
			if !strings.Contains(text, "Overview") || strings.Contains(text, "Sign in") {
				t.Fatalf("the iframe shows:\n%s", text)
			}
			// Drawn for the iframe (embed: true): no brand bar or Sign out
			// of its own inside the platform's header.
			if strings.Contains(text, "Sign out") || strings.Contains(text, "◆ agenthooks") {
				t.Errorf("the embedded dashboard draws its own chrome:\n%s", text)
			}
			cookies, err := chromedp.Run(u.ctx, chromedp.Action[network.GetCookiesResult](func(ctx context.Context, t *chromedp.Target) (network.GetCookiesResult, error) {
				return cdp.Call(ctx, t, network.GetCookies, network.GetCookiesParams{URLs: []string{base + "/"}})
			}))
			if err != nil {
				t.Fatal(err)
			}
			var found bool
			for _, c := range cookies.Cookies {
				if c.Name == "agenthooks_session" {
					found = true
					if c.SameSite != network.CookieSameSiteLax || !c.HTTPOnly || c.Secure {
						t.Errorf("session cookie over http: SameSite %q, HttpOnly %v, Secure %v; want Lax, HttpOnly, not Secure", c.SameSite, c.HTTPOnly, c.Secure)
					}
				}
			}
			if !found {
				t.Error("the browser holds no session cookie of agenthooks")
			}
			u.screenshot("portal-iframe")
		})
	}
}

package main

import (
	"bytes"
	"context"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/agenthooks/agenthooks"
	"github.com/agenthooks/agenthooks/dashboard"
	"github.com/agenthooks/agenthooks/egress"
	"github.com/agenthooks/agenthooks/httpapi"
	"github.com/agenthooks/agenthooks/internal/testdb"
	"github.com/agenthooks/agenthooks/service"
)

const adminKey = "the-platform-admin-key-for-the-test"

// world is a real agenthooks (API and dashboard over SQLite, admin API on,
// frame-ancestors naming the platform) and the platform beside it, each on
// its own loopback port.
type world struct {
	svc      *service.Service
	hooks    *httptest.Server // agenthooks
	platform *httptest.Server // this example
}

func setup(t *testing.T, key string, readOnly bool, logs io.Writer) *world {
	t.Helper()
	hooks := httptest.NewUnstartedServer(nil)
	platform := httptest.NewUnstartedServer(nil)
	hooksURL, platformURL := "http://"+hooks.Listener.Addr().String(), "http://"+platform.Listener.Addr().String()

	svc := service.New(testdb.OpenSQLite(t, nil), egress.Policy{}, nil)
	svc.PublicURL = hooksURL
	api := httpapi.New(svc, slog.New(slog.NewTextHandler(io.Discard, nil)))
	api.AdminKey = adminKey
	dash, err := dashboard.New(dashboard.Options{Service: svc, PublicURL: hooksURL, FrameAncestors: platformURL})
	if err != nil {
		t.Fatal(err)
	}
	hooks.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/api/") {
			api.ServeHTTP(w, r)
			return
		}
		dash.ServeHTTP(w, r)
	})
	hooks.Start()
	t.Cleanup(hooks.Close)

	h, err := newServer(Config{AgenthooksURL: hooksURL, AdminKey: key, ReadOnly: readOnly, Logger: slog.New(slog.NewTextHandler(logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	platform.Config.Handler = h
	platform.Start()
	t.Cleanup(platform.Close)
	return &world{svc: svc, hooks: hooks, platform: platform}
}

// client is a browser's cookie jar that does not follow redirects.
func client() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func get(t *testing.T, c *http.Client, u string) (*http.Response, string) {
	t.Helper()
	res, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

func post(t *testing.T, c *http.Client, u string, v url.Values) *http.Response {
	t.Helper()
	res, err := c.PostForm(u, v)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res
}

// syncBuffer is a bytes.Buffer safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var iframeRE = regexp.MustCompile(`<iframe id="agenthooks"[^>]*src="([^"]+)"`)

func iframeSrc(t *testing.T, body string) string {
	t.Helper()
	m := iframeRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no iframe in the page:\n%s", body)
	}
	return html.UnescapeString(m[1])
}

func TestPortalEmbedsTheCustomersDashboard(t *testing.T) {
	t.Parallel()
	w := setup(t, adminKey, false, io.Discard)
	ctx := context.Background()
	customer := client()

	res, body := get(t, customer, w.platform.URL+"/")
	if res.StatusCode != http.StatusOK || !strings.Contains(body, "Your name") || strings.Contains(body, "<iframe") {
		t.Fatalf("signed out: status %d:\n%s", res.StatusCode, body)
	}
	if res := post(t, customer, w.platform.URL+"/sign-in", url.Values{"name": {"  "}}); res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("a nameless sign-in: status %d", res.StatusCode)
	}
	if res := post(t, customer, w.platform.URL+"/sign-in", url.Values{"name": {"Zoe's Bakery"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign in: status %d", res.StatusCode)
	}

	res, body = get(t, customer, w.platform.URL+"/")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("signed in: status %d:\n%s", res.StatusCode, body)
	}
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-src "+w.hooks.URL) {
		t.Errorf("the platform's CSP %q does not let it frame agenthooks", csp)
	}
	link := iframeSrc(t, body)
	if !strings.HasPrefix(link, w.hooks.URL+"/portal/pt_") {
		t.Fatalf("iframe src %q, want %s/portal/pt_...", link, w.hooks.URL)
	}
	if strings.Contains(body, "ak_") {
		t.Fatal("the platform's page shows an API key")
	}
	accts, err := w.svc.FindAccounts(ctx, agenthooks.Page{Page: 1, Size: 10})
	if err != nil {
		t.Fatal(err)
	}
	if accts.Total != 1 || accts.Items[0].Name != "Zoe's Bakery" {
		t.Fatalf("accounts %+v, want one for the customer", accts.Items)
	}

	// The iframe's first visit signs in, as the platform's origin may embed it.
	frame := client()
	res, _ = get(t, frame, link)
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/" {
		t.Fatalf("the portal link: status %d, Location %q", res.StatusCode, res.Header.Get("Location"))
	}
	// Drawn for the iframe: the customer's account (named in the Overview),
	// no brand bar or Sign out of its own, the platform's accent colour.
	res, body = get(t, frame, w.hooks.URL+"/")
	if res.StatusCode != http.StatusOK || !strings.Contains(html.UnescapeString(body), "Zoe's Bakery") || !strings.Contains(body, `<body class="embedded">`) ||
		strings.Contains(body, ">Sign out</button>") || !strings.Contains(body, "/theme.css?accent=0a7d52") {
		t.Fatalf("the dashboard in the iframe: status %d:\n%s", res.StatusCode, body)
	}
	res, body = get(t, frame, w.hooks.URL+"/webhooks")
	if res.StatusCode != http.StatusOK || !strings.Contains(body, "Add a Webhook") {
		t.Fatalf("the dashboard in the iframe: status %d:\n%s", res.StatusCode, body)
	}
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors "+w.platform.URL) {
		t.Errorf("the dashboard's CSP %q does not name the platform", csp)
	}
	if xfo := res.Header.Get("X-Frame-Options"); xfo != "" {
		t.Errorf("X-Frame-Options %q would refuse the iframe", xfo)
	}
	// Single use: the same link signs in nobody.
	if res, _ := get(t, client(), link); res.StatusCode != http.StatusGone {
		t.Fatalf("the portal link again: status %d, want 410", res.StatusCode)
	}

	// Opening the page again: a fresh link, to the same account.
	_, body = get(t, customer, w.platform.URL+"/")
	if again := iframeSrc(t, body); again == link {
		t.Fatal("the page served a used link again")
	}
	if accts, err := w.svc.FindAccounts(ctx, agenthooks.Page{Page: 1, Size: 10}); err != nil || accts.Total != 1 {
		t.Fatalf("accounts after a second visit: %v %v", accts, err)
	}

	// Signed out, the page shows the sign-in form again.
	post(t, customer, w.platform.URL+"/sign-out", nil)
	if _, body := get(t, customer, w.platform.URL+"/"); strings.Contains(body, "<iframe") {
		t.Fatal("signed out, the page still embeds the portal")
	}
}

func TestPortalReadOnly(t *testing.T) {
	t.Parallel()
	w := setup(t, adminKey, true, io.Discard)
	customer := client()
	post(t, customer, w.platform.URL+"/sign-in", url.Values{"name": {"Read only"}})
	_, body := get(t, customer, w.platform.URL+"/")
	frame := client()
	get(t, frame, iframeSrc(t, body))
	res, body := get(t, frame, w.hooks.URL+"/webhooks")
	if res.StatusCode != http.StatusOK || !strings.Contains(body, "Read-only") || strings.Contains(body, "Add a Webhook") {
		t.Fatalf("read-only dashboard: status %d:\n%s", res.StatusCode, body)
	}
}

func TestPortalErrors(t *testing.T) {
	t.Parallel()
	// A wrong admin key: the customer gets a plain 502 page, the log says
	// what agenthooks answered; no panic.
	var logs syncBuffer
	w := setup(t, "not-the-admin-key", false, &logs)
	customer := client()
	post(t, customer, w.platform.URL+"/sign-in", url.Values{"name": {"Zoe"}})
	res, body := get(t, customer, w.platform.URL+"/")
	if res.StatusCode != http.StatusBadGateway || !strings.Contains(body, "cannot be shown right now") || strings.Contains(body, "<iframe") || strings.Contains(body, "401") {
		t.Fatalf("wrong admin key: status %d:\n%s", res.StatusCode, body)
	}
	if l := logs.String(); !strings.Contains(l, "status 401") || strings.Contains(l, `{\"detail`) {
		t.Fatalf("the log does not say what agenthooks answered: %q", l)
	}

	// Bad configuration stops the program with a message.
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"no admin key", nil, nil, "AGENTHOOKS_ADMIN_KEY is not set"},
		{"bad agenthooks URL", []string{"--agenthooks", "ftp://x"}, map[string]string{"AGENTHOOKS_ADMIN_KEY": "k"}, "want http(s)://"},
		{"bad flag", []string{"--nope"}, nil, "flag provided but not defined"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), tc.args, &stdout, &stderr, func(k string) string { return tc.env[k] })
			if code != 2 || !strings.Contains(stderr.String(), tc.want) {
				t.Fatalf("exit %d, stderr %q; want 2 and %q", code, stderr.String(), tc.want)
			}
		})
	}
}

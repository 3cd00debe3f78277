package dashboard_test

import (
	"context"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/agenthooks/agenthooks"
	"github.com/agenthooks/agenthooks/dashboard"
	"github.com/agenthooks/agenthooks/egress"
	"github.com/agenthooks/agenthooks/internal/testdb"
	"github.com/agenthooks/agenthooks/service"
	"github.com/agenthooks/agenthooks/storetest"
)

// testBundle is a dashboard over a fresh SQLite store with two accounts.
type testBundle struct {
	t     *testing.T
	svc   *service.Service
	store agenthooks.Store
	srv   *httptest.Server
	clock *storetest.Clock
	keyA  string
	keyB  string
	acctA string
	acctB string
	// limiterNow is the sign-in limiter's clock.
	mu         sync.Mutex
	limiterNow time.Time
}

type options struct {
	publicURL, frameAncestors string
	sessionRate               float64 // Options.SessionRateLimit
}

func setup(t *testing.T, o ...options) *testBundle {
	t.Helper()
	clock := storetest.NewClock(time.Now().UTC().Truncate(time.Microsecond))
	store := testdb.OpenSQLite(t, clock.Now)
	svc := service.New(store, egress.Policy{}, nil)
	b := &testBundle{t: t, svc: svc, store: store, clock: clock, limiterNow: time.Now()}
	var opt options
	if len(o) > 0 {
		opt = o[0]
	}
	d, err := dashboard.New(dashboard.Options{Service: svc, PublicURL: opt.publicURL, FrameAncestors: opt.frameAncestors,
		TestWait: 50 * time.Millisecond, Now: b.now, SessionRateLimit: opt.sessionRate})
	if err != nil {
		t.Fatal(err)
	}
	b.srv = httptest.NewServer(d)
	t.Cleanup(b.srv.Close)
	svc.PublicURL = b.srv.URL
	ctx := context.Background()
	a, err := svc.CreateAccount(ctx, "Acme")
	must(t, err)
	o2, err := svc.CreateAccount(ctx, "Other")
	must(t, err)
	b.keyA, b.acctA, b.keyB, b.acctB = a.APIKey, a.ID, o2.APIKey, o2.ID
	return b
}

func (b *testBundle) now() time.Time {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.limiterNow
}

func (b *testBundle) advanceLimiter(d time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.limiterNow = b.limiterNow.Add(d)
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// browser is a client with a cookie jar that does not follow redirects.
type browser struct {
	t    *testing.T
	b    *testBundle
	c    *http.Client
	csrf string
}

func (b *testBundle) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: b.t, b: b, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// page is a response with its body.
type page struct {
	Status int
	Header http.Header
	Body   string
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (br *browser) do(req *http.Request) page {
	br.t.Helper()
	res, err := br.c.Do(req)
	if err != nil {
		br.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	p := page{Status: res.StatusCode, Header: res.Header, Body: string(body)}
	if p.Status >= 500 && p.Status != http.StatusServiceUnavailable {
		br.t.Fatalf("%s %s: status %d (never a 500): %s", req.Method, req.URL, p.Status, body)
	}
	if m := csrfRE.FindStringSubmatch(p.Body); m != nil {
		br.csrf = m[1]
	}
	return p
}

func (br *browser) get(path string) page {
	br.t.Helper()
	req, err := http.NewRequest("GET", br.b.srv.URL+path, nil)
	must(br.t, err)
	return br.do(req)
}

// post sends a form with the session's form token (unless values has one).
func (br *browser) post(path string, values url.Values) page {
	br.t.Helper()
	if values == nil {
		values = url.Values{}
	}
	if _, ok := values["csrf"]; !ok && br.csrf != "" {
		values.Set("csrf", br.csrf)
	}
	req, err := http.NewRequest("POST", br.b.srv.URL+path, strings.NewReader(values.Encode()))
	must(br.t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return br.do(req)
}

// follow GETs the page a redirect points at.
func (br *browser) follow(p page) page {
	br.t.Helper()
	if p.Status != http.StatusSeeOther {
		br.t.Fatalf("status %d, want 303: %s", p.Status, p.Body)
	}
	return br.get(p.Header.Get("Location"))
}

func (br *browser) signIn(key string) {
	br.t.Helper()
	p := br.post("/sign-in", url.Values{"api_key": {key}})
	if p.Status != http.StatusSeeOther {
		br.t.Fatalf("sign in: status %d: %s", p.Status, p.Body)
	}
	br.get("/") // picks up the form token
}

func (b *testBundle) signedIn(key string) *browser {
	br := b.browser()
	br.signIn(key)
	return br
}

func expectStatus(t *testing.T, p page, want int) {
	t.Helper()
	if p.Status != want {
		t.Fatalf("status %d, want %d: %s", p.Status, want, p.Body)
	}
}

func contains(t *testing.T, p page, parts ...string) {
	t.Helper()
	for _, s := range parts {
		if !strings.Contains(p.Body, s) && !strings.Contains(html.UnescapeString(p.Body), s) {
			t.Errorf("page lacks %q:\n%s", s, p.Body)
		}
	}
}

func lacks(t *testing.T, p page, parts ...string) {
	t.Helper()
	for _, s := range parts {
		if strings.Contains(p.Body, s) || strings.Contains(html.UnescapeString(p.Body), s) && !strings.ContainsAny(s, "<>") {
			t.Errorf("page has %q", s)
		}
	}
}

// fieldError returns the validation message shown right after the input with id.
func fieldError(p page, id string) string {
	i := strings.Index(p.Body, `id="`+id+`"`)
	if i < 0 {
		return ""
	}
	rest := p.Body[i:]
	if end := strings.Index(rest[1:], ` id="`); end > 0 {
		rest = rest[:end+1] // up to the next input
	}
	m := regexp.MustCompile(`<p class="field-error" role="alert">([^<]*)</p>`).FindStringSubmatch(rest)
	if m == nil {
		return ""
	}
	return html.UnescapeString(m[1])
}

func TestNoSessionShowsSignIn(t *testing.T) {
	t.Parallel()
	b := setup(t)
	br := b.browser()
	p := br.get("/")
	expectStatus(t, p, http.StatusOK)
	contains(t, p, `<label for="api_key">API key</label>`, `>Sign in</button>`)
	lacks(t, p, "Sign out")
	for _, path := range []string{"/webhooks", "/webhooks/new", "/assistants", "/forms", "/conversations", "/events", "/deliveries", "/webhooks/x"} {
		p := br.get(path)
		expectStatus(t, p, http.StatusSeeOther)
		if loc := p.Header.Get("Location"); loc != "/?next="+url.QueryEscape(path) {
			t.Errorf("GET %s without a session: Location %q", path, loc)
		}
	}
	for _, path := range []string{"/webhooks", "/assistants", "/sign-out", "/deliveries/x/retry"} {
		p := br.post(path, url.Values{"name": {"x"}})
		expectStatus(t, p, http.StatusUnauthorized)
		contains(t, p, "API key")
	}
	l, err := b.svc.ListWebhooks(context.Background(), b.acctA, agenthooks.Page{Page: 1, Size: 10})
	must(t, err)
	if l.Total != 0 {
		t.Fatalf("a POST without a session created %d webhooks", l.Total)
	}
}

func TestSignIn(t *testing.T) {
	t.Parallel()
	b := setup(t)

	t.Run("WrongKey", func(t *testing.T) {
		br := b.browser()
		p := br.post("/sign-in", url.Values{"api_key": {"ak_wrong"}})
		expectStatus(t, p, http.StatusUnauthorized)
		contains(t, p, "That API key is not valid", "agenthooks account rotate-key")
		if len(p.Header.Values("Set-Cookie")) != 0 {
			t.Errorf("a failed sign-in set a cookie: %v", p.Header.Values("Set-Cookie"))
		}
		p = br.post("/sign-in", url.Values{"api_key": {""}})
		expectStatus(t, p, http.StatusUnauthorized)
		contains(t, p, "Enter your API key")
	})

	t.Run("Cookie", func(t *testing.T) {
		br := b.browser()
		p := br.post("/sign-in", url.Values{"api_key": {b.keyA}})
		expectStatus(t, p, http.StatusSeeOther)
		c := p.Header.Get("Set-Cookie")
		for _, want := range []string{"agenthooks_session=ds_", "HttpOnly", "SameSite=Lax", "Path=/"} {
			if !strings.Contains(c, want) {
				t.Errorf("Set-Cookie %q lacks %q", c, want)
			}
		}
		if strings.Contains(c, "Secure") {
			t.Errorf("Set-Cookie %q is Secure on an http:// public URL", c)
		}
		home := br.get("/")
		expectStatus(t, home, http.StatusOK)
		contains(t, home, "Overview", "Acme", "Sign out")
	})

	t.Run("Next", func(t *testing.T) {
		tests := []struct{ next, want string }{
			{"/webhooks?page=2", "/webhooks?page=2"},
			{"//evil.example.com/x", "/"},
			{"https://evil.example.com/", "/"},
			{"/\\evil.example.com", "/"},
			{"", "/"},
		}
		for _, tt := range tests {
			p := b.browser().post("/sign-in", url.Values{"api_key": {b.keyA}, "next": {tt.next}})
			if loc := p.Header.Get("Location"); loc != tt.want {
				t.Errorf("next %q: Location %q, want %q", tt.next, loc, tt.want)
			}
		}
	})
}

// TestSignInRateLimit: failed sign-ins are counted per address and key
// prefix; past the limit wrong keys answer 429, but the correct key is
// always accepted, so that nobody sharing an address can lock it out.
func TestSignInRateLimit(t *testing.T) {
	t.Parallel()
	b := setup(t)
	br := b.browser()
	for i := range 10 {
		p := br.post("/sign-in", url.Values{"api_key": {"ak_guess"}})
		if p.Status != http.StatusUnauthorized {
			t.Fatalf("failed sign-in %d: status %d, want 401", i+1, p.Status)
		}
	}
	p := br.post("/sign-in", url.Values{"api_key": {"ak_guess"}})
	expectStatus(t, p, http.StatusTooManyRequests)
	contains(t, p, "Too many failed sign-ins")
	if p.Header.Get("Retry-After") == "" {
		t.Error("429 without Retry-After")
	}
	// Another prefix from the same address is counted apart.
	expectStatus(t, b.browser().post("/sign-in", url.Values{"api_key": {"ak_otherprefix"}}), http.StatusUnauthorized)
	// The correct key is accepted however many wrong ones came before.
	expectStatus(t, b.browser().post("/sign-in", url.Values{"api_key": {b.keyA}}), http.StatusSeeOther)

	// Wrong keys of ever new prefixes hit the address's own, higher cap;
	// the correct key still gets in.
	limited := false
	for i := range 120 {
		p := br.post("/sign-in", url.Values{"api_key": {fmt.Sprintf("ak_%09d", i)}})
		if p.Status == http.StatusTooManyRequests {
			limited = true
			break
		}
	}
	if !limited {
		t.Error("120 wrong keys of new prefixes from one address were never limited")
	}
	expectStatus(t, b.browser().post("/sign-in", url.Values{"api_key": {b.keyA}}), http.StatusSeeOther)
	b.advanceLimiter(time.Minute)
	expectStatus(t, br.post("/sign-in", url.Values{"api_key": {"ak_guess"}}), http.StatusUnauthorized)
}

func TestCookieFlags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opt  options
		want []string
		not  []string
	}{
		{"HTTP", options{publicURL: "http://127.0.0.1:8080"}, []string{"SameSite=Lax", "HttpOnly"}, []string{"Secure"}},
		{"HTTPS", options{publicURL: "https://hooks.example.com"}, []string{"SameSite=Lax", "Secure", "HttpOnly"}, nil},
		{"HTTPSEmbedded", options{publicURL: "https://hooks.example.com", frameAncestors: "https://platform.example.com"}, []string{"SameSite=None", "Secure", "HttpOnly"}, nil},
		{"HTTPSelf", options{publicURL: "https://hooks.example.com", frameAncestors: "'self'"}, []string{"SameSite=Lax", "Secure"}, nil},
		{"HTTPEmbedded", options{publicURL: "http://127.0.0.1:8080", frameAncestors: "https://platform.example.com"}, []string{"SameSite=Lax"}, []string{"Secure", "SameSite=None"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, tt.opt)
			c := b.browser().post("/sign-in", url.Values{"api_key": {b.keyA}}).Header.Get("Set-Cookie")
			for _, w := range tt.want {
				if !strings.Contains(c, w) {
					t.Errorf("Set-Cookie %q lacks %q", c, w)
				}
			}
			for _, w := range tt.not {
				if strings.Contains(c, w) {
					t.Errorf("Set-Cookie %q has %q", c, w)
				}
			}
		})
	}
}

func TestSecurityHeaders(t *testing.T) {
	t.Parallel()
	tests := []struct {
		ancestors, want string
		frameOptions    string
	}{
		{"", "frame-ancestors 'none'", "DENY"},
		{"'none'", "frame-ancestors 'none'", "DENY"},
		{"https://a.example.com https://b.example.com", "frame-ancestors https://a.example.com https://b.example.com", ""},
		{"https://a.example.com; script-src *", "frame-ancestors https://a.example.com script-src *", ""},
	}
	for _, tt := range tests {
		b := setup(t, options{frameAncestors: tt.ancestors})
		br := b.browser()
		for _, path := range []string{"/", "/webhooks", "/nowhere", "/static/style.css"} {
			p := br.get(path)
			csp := p.Header.Get("Content-Security-Policy")
			if !strings.Contains(csp, "script-src 'self'") || !strings.HasSuffix(csp, tt.want) || strings.Count(csp, ";") != 8 {
				t.Errorf("GET %s: CSP %q, want script-src 'self' and %s", path, csp, tt.want)
			}
			if p.Header.Get("X-Content-Type-Options") != "nosniff" || p.Header.Get("Referrer-Policy") == "" {
				t.Errorf("GET %s: headers %v", path, p.Header)
			}
			if got := p.Header.Get("X-Frame-Options"); got != tt.frameOptions {
				t.Errorf("GET %s: X-Frame-Options %q, want %q", path, got, tt.frameOptions)
			}
		}
		// No inline script anywhere: every <script> has a src.
		p := b.signedIn(b.keyA).get("/")
		if regexp.MustCompile(`<script(?:\s[^>]*)?>[^<]`).MatchString(p.Body) || strings.Contains(p.Body, " style=") || strings.Contains(p.Body, "onclick") {
			t.Error("a page has an inline script or style")
		}
	}
}

func TestCrossSiteRefused(t *testing.T) {
	t.Parallel()
	b := setup(t)
	br := b.signedIn(b.keyA)
	form := url.Values{"name": {"evil"}, "endpoint": {"https://evil.example.com/x"}, "ordering": {"none"}}

	send := func(header map[string]string, values url.Values) page {
		req, err := http.NewRequest("POST", b.srv.URL+"/webhooks", strings.NewReader(values.Encode()))
		must(t, err)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for k, v := range header {
			req.Header.Set(k, v)
		}
		return br.do(req)
	}
	withToken := url.Values{"csrf": {br.csrf}}
	for k, v := range form {
		withToken[k] = v
	}
	tests := []struct {
		name   string
		header map[string]string
		values url.Values
	}{
		{"SecFetchSiteCrossSite", map[string]string{"Sec-Fetch-Site": "cross-site"}, withToken},
		{"SecFetchSiteSameSite", map[string]string{"Sec-Fetch-Site": "same-site"}, withToken},
		{"ForeignOrigin", map[string]string{"Origin": "https://evil.example.com"}, withToken},
		{"NoToken", nil, form},
		{"WrongToken", nil, func() url.Values { v := url.Values{"csrf": {"0123"}}; v.Set("name", "evil"); return v }()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := send(tt.header, tt.values)
			expectStatus(t, p, http.StatusForbidden)
		})
	}
	// Every form that changes something refuses a cross-site request.
	// Every POST route registered, so that a new one is covered as it lands;
	// the one exemption is /sign-in (no session yet: it is checked below).
	d, err := dashboard.New(dashboard.Options{Service: b.svc, TestWait: time.Millisecond})
	must(t, err)
	var posts []string
	for _, pattern := range dashboard.RegisteredRoutes(d) {
		if path, ok := strings.CutPrefix(pattern, "POST "); ok && path != "/sign-in" {
			posts = append(posts, regexp.MustCompile(`\{[^}]+\}`).ReplaceAllString(path, "x"))
		}
	}
	if len(posts) < 15 {
		t.Fatalf("only %d POST routes: %v", len(posts), posts)
	}
	for _, path := range posts {
		req, _ := http.NewRequest("POST", b.srv.URL+path, strings.NewReader(withToken.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		if p := br.do(req); p.Status != http.StatusForbidden {
			t.Errorf("cross-site POST %s: status %d, want 403", path, p.Status)
		}
		// Same site, the session's cookie, but no form token or another
		// session's: refused too, on every route.
		for _, values := range []url.Values{form, {"csrf": {"0123"}, "name": {"evil"}}} {
			req, _ := http.NewRequest("POST", b.srv.URL+path, strings.NewReader(values.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if p := br.do(req); p.Status != http.StatusForbidden {
				t.Errorf("POST %s without its form token: status %d, want 403", path, p.Status)
			}
		}
	}
	// Sign-in from another site is refused too (login CSRF).
	req, _ := http.NewRequest("POST", b.srv.URL+"/sign-in", strings.NewReader("api_key="+url.QueryEscape(b.keyB)))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	expectStatus(t, br.do(req), http.StatusForbidden)

	l, err := b.svc.ListWebhooks(context.Background(), b.acctA, agenthooks.Page{Page: 1, Size: 10})
	must(t, err)
	if l.Total != 0 {
		t.Fatalf("refused requests created %d webhooks", l.Total)
	}
	// The same form from the dashboard itself goes through.
	p := send(map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": b.srv.URL}, withToken)
	expectStatus(t, p, http.StatusSeeOther)
}

func TestSignOut(t *testing.T) {
	t.Parallel()
	b := setup(t)
	br := b.signedIn(b.keyA)
	u, _ := url.Parse(b.srv.URL)
	cookies := br.c.Jar.Cookies(u)
	if len(cookies) != 1 {
		t.Fatalf("cookies %v", cookies)
	}
	p := br.post("/sign-out", nil)
	expectStatus(t, p, http.StatusSeeOther)
	home := br.follow(p)
	contains(t, home, "You are signed out.", "API key")

	// The old cookie, replayed, no longer works: the session was deleted.
	replay := b.browser()
	replay.c.Jar.SetCookies(u, cookies)
	p = replay.get("/webhooks")
	expectStatus(t, p, http.StatusSeeOther)
	contains(t, replay.get("/"), "API key")
}

func TestStaticAssets(t *testing.T) {
	t.Parallel()
	b := setup(t)
	br := b.browser()
	for _, path := range []string{"/static/style.css", "/static/htmx.min.js"} {
		p := br.get(path)
		expectStatus(t, p, http.StatusOK)
		if len(p.Body) < 1000 {
			t.Errorf("GET %s: %d bytes", path, len(p.Body))
		}
	}
	expectStatus(t, br.get("/static/nope.js"), http.StatusNotFound)
}

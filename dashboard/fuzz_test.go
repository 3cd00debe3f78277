package dashboard_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/agenthooks/agenthooks"
	"github.com/agenthooks/agenthooks/dashboard"
	"github.com/agenthooks/agenthooks/egress"
	"github.com/agenthooks/agenthooks/internal/testdb"
	"github.com/agenthooks/agenthooks/service"
	"github.com/agenthooks/agenthooks/storetest"
)

// The dashboard's fuzz targets: every form that parses what a visitor types
// (and the filters of the list URLs) gets arbitrary input from a signed-in
// browser with a valid form token, and must never answer a 5xx (a panic is
// recovered into a 500, so it fails here too). Requests go straight to the
// handler, with no network, so that each input costs one handler call; the
// seed corpora are in testdata/fuzz/<target>/.

// publicResolver answers every name with one public address, so that the
// endpoint check never asks the network.
type publicResolver struct{}

func (publicResolver) LookupNetIP(context.Context, string, string) ([]netip.Addr, error) {
	return []netip.Addr{netip.MustParseAddr("93.184.215.14")}, nil
}

// fuzzBench is a dashboard over a fresh SQLite store, with account A signed
// in and one of each of A's things.
type fuzzBench struct {
	d         *dashboard.Dashboard
	cookie    *http.Cookie
	csrf      string
	webhook   string
	assistant string
	form      string
}

func newFuzzBench(f *testing.F) *fuzzBench {
	f.Helper()
	clock := storetest.NewClock(time.Now().UTC().Truncate(time.Microsecond))
	svc := service.New(testdb.OpenSQLite(f, clock.Now), egress.Policy{Resolver: publicResolver{}}, nil)
	d, err := dashboard.New(dashboard.Options{Service: svc, TestWait: time.Millisecond, SignInLimit: 1 << 30})
	if err != nil {
		f.Fatal(err)
	}
	ctx := context.Background()
	a, err := svc.CreateAccount(ctx, "Acme")
	if err != nil {
		f.Fatal(err)
	}
	wh, err := svc.CreateWebhook(ctx, a.ID, service.WebhookInput{Name: "Sink", Endpoint: "https://hooks.example.com/sink"})
	if err != nil {
		f.Fatal(err)
	}
	as, err := svc.CreateAssistant(ctx, a.ID, service.AssistantInput{Name: "Support", WebhookID: wh.ID})
	if err != nil {
		f.Fatal(err)
	}
	fm, err := svc.CreateForm(ctx, a.ID, service.FormInput{Name: "Callback", Fields: []agenthooks.FormField{{Name: "phone", Type: "tel"}}})
	if err != nil {
		f.Fatal(err)
	}
	fb := &fuzzBench{d: d, webhook: wh.ID, assistant: as.ID, form: fm.ID}
	req := httptest.NewRequest("POST", "/sign-in", strings.NewReader(url.Values{"api_key": {a.APIKey}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	d.ServeHTTP(rec, req)
	for _, c := range rec.Result().Cookies() {
		if c.Name == "agenthooks_session" {
			fb.cookie = c
		}
	}
	if fb.cookie == nil {
		f.Fatalf("sign-in: status %d, no session cookie", rec.Code)
	}
	req = httptest.NewRequest("GET", "/", nil)
	req.AddCookie(fb.cookie)
	rec = httptest.NewRecorder()
	d.ServeHTTP(rec, req)
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(rec.Body.String())
	if m == nil {
		f.Fatalf("no form token on the overview: %d", rec.Code)
	}
	fb.csrf = m[1]
	// The bench's forms are accepted (not refused as forged or signed out),
	// so the targets reach the form parsers.
	req = httptest.NewRequest("POST", "/webhooks/"+wh.ID+"/recover", strings.NewReader("since=2026-01-01T00:00&csrf="+fb.csrf))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(fb.cookie)
	rec = httptest.NewRecorder()
	d.ServeHTTP(rec, req)
	if rec.Code != http.StatusSeeOther {
		f.Fatalf("a valid recover form: status %d, want 303: %s", rec.Code, rec.Body)
	}
	return fb
}

// serve sends one request as A and fails on a 5xx.
func (fb *fuzzBench) serve(t *testing.T, req *http.Request) *httptest.ResponseRecorder {
	t.Helper()
	req.AddCookie(fb.cookie)
	rec := httptest.NewRecorder()
	fb.d.ServeHTTP(rec, req)
	if rec.Code >= 500 {
		t.Fatalf("%s %s: status %d (never a 5xx): %s", req.Method, req.URL, rec.Code, rec.Body)
	}
	return rec
}

// post sends a form (with A's form token) to path.
func (fb *fuzzBench) post(t *testing.T, path string, v url.Values) *httptest.ResponseRecorder {
	t.Helper()
	v.Set("csrf", fb.csrf)
	return fb.postRaw(t, path, v.Encode())
}

// postRaw sends body as it is, after A's form token.
func (fb *fuzzBench) postRaw(t *testing.T, path, body string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest("POST", path, strings.NewReader("csrf="+fb.csrf+"&"+body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return fb.serve(t, req)
}

// FuzzWebhookForm fills the Add and Edit Webhook forms: name, endpoint,
// events (comma-separated here, one checkbox each), ordering, extra headers
// and rate limit.
func FuzzWebhookForm(f *testing.F) {
	f.Add(false, "Sink", "https://hooks.example.com/x", "conversation.closed,captured_form.created", "none", "X-Team: a\nX-B: b", "5")
	f.Add(true, "", "http://127.0.0.1/", "nope", "per_conversation", "no colon", "-1")
	fb := newFuzzBench(f)
	f.Fuzz(func(t *testing.T, edit bool, name, endpoint, events, ordering, headers, rate string) {
		v := url.Values{"name": {name}, "endpoint": {endpoint}, "ordering": {ordering}, "headers": {headers}, "rate_limit": {rate}}
		if events != "" {
			v["events"] = strings.Split(events, ",")
		}
		path := "/webhooks"
		if edit {
			path += "/" + fb.webhook
		}
		fb.post(t, path, v)
	})
}

// FuzzAssistantForm fills the Add Assistant form, an assistant's webhook
// assignment, and its Add Widget form.
func FuzzAssistantForm(f *testing.F) {
	f.Add(uint8(0), "Support", "chat", "")
	f.Add(uint8(1), "", "", "01900000-0000-7000-8000-000000000000")
	f.Add(uint8(2), "site", "voice", "x")
	fb := newFuzzBench(f)
	f.Fuzz(func(t *testing.T, which uint8, name, typ, webhookID string) {
		switch which % 3 {
		case 0:
			fb.post(t, "/assistants", url.Values{"name": {name}, "assistant_type": {typ}, "webhook_id": {webhookID}})
		case 1:
			fb.post(t, "/assistants/"+fb.assistant+"/webhook", url.Values{"webhook_id": {webhookID}})
		default:
			fb.post(t, "/assistants/"+fb.assistant+"/widgets", url.Values{"name": {name}, "widget_type": {typ}})
		}
	})
}

// FuzzFormBuilder sends arbitrary bodies to the form builder (name,
// field_N_name, field_N_type, field_N_required, webhook_id) and to a form's
// webhook assignment.
func FuzzFormBuilder(f *testing.F) {
	f.Add(false, "name=Callback&field_0_name=phone&field_0_type=tel&field_0_required=on&webhook_id=")
	f.Add(true, "webhook_id=x")
	fb := newFuzzBench(f)
	f.Fuzz(func(t *testing.T, assign bool, body string) {
		if assign {
			fb.postRaw(t, "/forms/"+fb.form+"/webhook", body)
			return
		}
		fb.postRaw(t, "/forms", body)
	})
}

// FuzzListFilters sends arbitrary query strings (paging, filters, time
// ranges, flashes, return addresses) to every page that reads one.
func FuzzListFilters(f *testing.F) {
	f.Add(uint8(0), "assistant_id=x&from=2026-01-01&to=2026-01-02T10:00&state=closed&page=2")
	f.Add(uint8(1), "type=conversation.closed&conversation_id=%00&from=2026-13-45")
	f.Add(uint8(2), "webhook_id=x&status=failed&page=-1")
	fb := newFuzzBench(f)
	pages := []string{"/conversations", "/events", "/deliveries", "/webhooks", "/assistants", "/forms", "/settings/api-keys", "/",
		"/webhooks/new", "/webhooks/" + fb.webhook, "/assistants/" + fb.assistant + "/operations", "/forms/" + fb.form}
	f.Fuzz(func(t *testing.T, which uint8, query string) {
		req := httptest.NewRequest("GET", pages[int(which)%len(pages)], nil)
		req.URL.RawQuery = query
		fb.serve(t, req)
	})
}

// FuzzRecoverSince fills a webhook's Recover form (a UTC date and time).
func FuzzRecoverSince(f *testing.F) {
	f.Add("2026-03-01T14:30")
	f.Add("2026-03-01")
	f.Add("0000-01-01T00:00")
	fb := newFuzzBench(f)
	f.Fuzz(func(t *testing.T, since string) {
		fb.post(t, "/webhooks/"+fb.webhook+"/recover", url.Values{"since": {since}})
	})
}

// FuzzSettingsAndSignIn fills the Create API Key form as A, and the sign-in
// form (key and next address) without a session.
func FuzzSettingsAndSignIn(f *testing.F) {
	f.Add(false, "CI key", "")
	f.Add(true, "ak_wrong", "//evil.example.com/")
	fb := newFuzzBench(f)
	f.Fuzz(func(t *testing.T, signIn bool, value, next string) {
		if !signIn {
			fb.post(t, "/settings/api-keys", url.Values{"name": {value}})
			return
		}
		req := httptest.NewRequest("POST", "/sign-in", strings.NewReader(url.Values{"api_key": {value}, "next": {next}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		fb.d.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("sign-in: status %d: %s", rec.Code, rec.Body)
		}
	})
}

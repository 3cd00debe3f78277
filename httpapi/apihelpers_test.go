package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/agenthooks/agenthooks"
	"github.com/agenthooks/agenthooks/egress"
	"github.com/agenthooks/agenthooks/httpapi"
	"github.com/agenthooks/agenthooks/internal/apiclient"
	"github.com/agenthooks/agenthooks/service"
	"github.com/agenthooks/agenthooks/sqlite"
)

// Endpoints used by the tests. Names resolve through fakeResolver, so no test
// asks real DNS: publicEndpoint resolves to a public address and is accepted,
// internalEndpoint resolves to an RFC 1918 address and is refused.
const (
	publicEndpoint   = "https://hooks.example.com/in"
	internalEndpoint = "https://internal.example.com/in"
)

// fakeResolver answers the test names above and "no such host" for any other
// name (which ValidateEndpoint accepts, to be checked again at dial time).
type fakeResolver map[string][]netip.Addr

func (r fakeResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	if addrs, ok := r[strings.TrimSuffix(strings.ToLower(host), ".")]; ok {
		return addrs, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

var resolver = fakeResolver{
	"hooks.example.com":    {netip.MustParseAddr("93.184.215.14")},
	"internal.example.com": {netip.MustParseAddr("10.1.2.3")},
}

// testBundle is one in-process API server over a fresh SQLite store, with two
// accounts: A (the one most tests act as) and B (the "other account").
type testBundle struct {
	tb    testing.TB
	store agenthooks.Store
	svc   *service.Service
	srv   *httptest.Server
	keyA  string
	keyB  string
}

func setup(tb testing.TB) *testBundle {
	tb.Helper()
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(tb.TempDir(), "a.db"), sqlite.Options{})
	if err != nil {
		tb.Fatalf("open store: %v", err)
	}
	tb.Cleanup(func() { _ = store.Close() })
	svc := service.New(store, egress.Policy{AllowPrivate: false, Resolver: resolver}, nil)
	api := httpapi.New(svc, nil)
	// No delivery workers run: POST .../test answers once this wait is over,
	// with the delivery still pending.
	api.TestWait = 20 * time.Millisecond
	srv := httptest.NewServer(api)
	tb.Cleanup(srv.Close)
	a, err := svc.CreateAccount(ctx, "account a")
	if err != nil {
		tb.Fatalf("create account: %v", err)
	}
	b, err := svc.CreateAccount(ctx, "account b")
	if err != nil {
		tb.Fatalf("create account: %v", err)
	}
	return &testBundle{tb: tb, store: store, svc: svc, srv: srv, keyA: a.APIKey, keyB: b.APIKey}
}

// response is one API answer, its body decoded as a JSON object.
type response struct {
	Status int
	Header http.Header
	Raw    []byte
	Body   map[string]any
}

// fieldError is one entry of a 422 detail list.
type fieldError struct {
	Loc  []any  `json:"loc"`
	Msg  string `json:"msg"`
	Type string `json:"type"`
}

// raw marks a request body sent as is rather than JSON-encoded.
type raw string

// request sends one request. key "" sends no credentials; a key is sent as a
// Bearer token. body nil sends no body; a raw is sent verbatim; anything else
// is JSON-encoded. Every answer must be JSON and never a 500.
func (b *testBundle) request(key, method, path string, body any) *response {
	b.tb.Helper()
	return b.requestWith(key, method, path, body, nil)
}

// requestWith is request with extra request headers.
func (b *testBundle) requestWith(key, method, path string, body any, header map[string]string) *response {
	b.tb.Helper()
	if v, ok := body.(raw); ok {
		body = []byte(v)
	}
	h := http.Header{}
	for k, v := range header {
		h.Set(k, v)
	}
	res, err := apiclient.New(b.srv.URL, key, b.srv.Client()).Send(context.Background(), method, path, body, h)
	if err != nil {
		b.tb.Fatal(err)
	}
	return b.check(method, path, &response{Status: res.Status, Header: res.Header, Raw: res.Body})
}

// send performs req and checks what every answer must satisfy.
func (b *testBundle) send(req *http.Request) *response {
	b.tb.Helper()
	res, err := b.srv.Client().Do(req)
	if err != nil {
		b.tb.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer res.Body.Close()
	got, err := io.ReadAll(res.Body)
	if err != nil {
		b.tb.Fatalf("%s %s: read body: %v", req.Method, req.URL.Path, err)
	}
	return b.check(req.Method, req.URL.Path, &response{Status: res.StatusCode, Header: res.Header, Raw: got})
}

// check fails the test unless r satisfies what every answer must: never a
// 5xx but 503, a JSON object (but for HEAD), and what the OpenAPI document
// says its operation answers with that status (openapi_validate_test.go).
func (b *testBundle) check(method, path string, r *response) *response {
	b.tb.Helper()
	if r.Status >= 500 && r.Status != http.StatusServiceUnavailable {
		b.tb.Fatalf("%s %s: status %d (never a 5xx): %s", method, path, r.Status, r.Raw)
	}
	if method == http.MethodHead {
		return r
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		b.tb.Fatalf("%s %s: Content-Type %q, want application/json (body %s)", method, path, ct, r.Raw)
	}
	if err := json.Unmarshal(r.Raw, &r.Body); err != nil {
		b.tb.Fatalf("%s %s: body is not a JSON object: %v: %s", method, path, err, r.Raw)
	}
	// The answer matches its operation's schema in the served document.
	schemas, err := docSchemas()
	if err != nil {
		b.tb.Fatalf("the OpenAPI document: %v", err)
	}
	if err := schemas.checkResponse(method, path, r.Status, r.Raw); err != nil {
		b.tb.Fatalf("%s %s: %v\nbody: %.2000s", method, path, err, r.Raw)
	}
	return r
}

// expect sends a request and fails unless it answers want.
func (b *testBundle) expect(want int, key, method, path string, body any) *response {
	b.tb.Helper()
	r := b.request(key, method, path, body)
	if r.Status != want {
		b.tb.Fatalf("%s %s: status %d, want %d: %s", method, path, r.Status, want, r.Raw)
	}
	if want >= 400 {
		if _, ok := r.Body["detail"]; !ok {
			b.tb.Fatalf("%s %s: error body has no detail: %s", method, path, r.Raw)
		}
	} else {
		checkEnvelope(b.tb, r)
	}
	return r
}

// checkEnvelope checks a success body: {"message": string, "data": ...}.
func checkEnvelope(tb testing.TB, r *response) {
	tb.Helper()
	if _, ok := r.Body["message"].(string); !ok {
		tb.Fatalf("success body has no string message: %s", r.Raw)
	}
	if _, ok := r.Body["data"]; !ok {
		tb.Fatalf("success body has no data: %s", r.Raw)
	}
}

// data is the object in a success body's data.
func (r *response) data(tb testing.TB) map[string]any {
	tb.Helper()
	d, ok := r.Body["data"].(map[string]any)
	if !ok {
		tb.Fatalf("data is not an object: %s", r.Raw)
	}
	return d
}

// items is a list body's data.items, after checking the list's shape.
func (r *response) items(tb testing.TB) []map[string]any {
	tb.Helper()
	d := r.data(tb)
	for _, k := range []string{"items", "total", "page", "size", "pages"} {
		if _, ok := d[k]; !ok {
			tb.Fatalf("list data has no %q: %s", k, r.Raw)
		}
	}
	list, ok := d["items"].([]any)
	if !ok {
		tb.Fatalf("items is not a list: %s", r.Raw)
	}
	out := make([]map[string]any, len(list))
	for i, it := range list {
		if out[i], ok = it.(map[string]any); !ok {
			tb.Fatalf("item %d is not an object: %s", i, r.Raw)
		}
	}
	return out
}

// num reads a number of a list body's data (total, page, size, pages).
func (r *response) num(tb testing.TB, key string) int {
	tb.Helper()
	n, ok := r.data(tb)[key].(float64)
	if !ok {
		tb.Fatalf("data.%s is not a number: %s", key, r.Raw)
	}
	return int(n)
}

// detail is a 422 body's list of field errors.
func (r *response) detail(tb testing.TB) []fieldError {
	tb.Helper()
	var body struct {
		Detail []fieldError `json:"detail"`
	}
	if err := json.Unmarshal(r.Raw, &body); err != nil || len(body.Detail) == 0 {
		tb.Fatalf("detail is not a non-empty list of {loc, msg, type}: %s", r.Raw)
	}
	for _, e := range body.Detail {
		if len(e.Loc) == 0 || e.Msg == "" || e.Type == "" {
			tb.Fatalf("incomplete field error %+v in %s", e, r.Raw)
		}
	}
	return body.Detail
}

// checkLoc fails unless one of a 422's errors is at loc (and of type typ, when
// typ is not empty).
func checkLoc(tb testing.TB, r *response, typ string, loc ...any) {
	tb.Helper()
	want, _ := json.Marshal(loc)
	for _, e := range r.detail(tb) {
		got, _ := json.Marshal(e.Loc)
		if bytes.Equal(got, want) && (typ == "" || e.Type == typ) {
			return
		}
	}
	tb.Fatalf("no error at loc %s (type %q) in %s", want, typ, r.Raw)
}

// str reads a string field of an object.
func str(tb testing.TB, m map[string]any, key string) string {
	tb.Helper()
	s, ok := m[key].(string)
	if !ok {
		tb.Fatalf("%q is not a string in %v", key, m)
	}
	return s
}

// hasKeys fails unless m has every key.
func hasKeys(tb testing.TB, m map[string]any, keys ...string) {
	tb.Helper()
	for _, k := range keys {
		if _, ok := m[k]; !ok {
			tb.Fatalf("missing key %q in %v", k, m)
		}
	}
}

// Fixtures: each creates one resource of account key through the API and
// returns its data.

func (b *testBundle) webhook(key string, extra map[string]any) map[string]any {
	b.tb.Helper()
	body := map[string]any{"name": "hook", "endpoint": publicEndpoint}
	for k, v := range extra {
		body[k] = v
	}
	return b.expect(http.StatusCreated, key, "POST", "/api/v1/outbound_webhook", body).data(b.tb)
}

func (b *testBundle) assistant(key, webhookID string) map[string]any {
	b.tb.Helper()
	body := map[string]any{"name": "assistant"}
	if webhookID != "" {
		body["webhook_id"] = webhookID
	}
	return b.expect(http.StatusCreated, key, "POST", "/api/v1/assistant", body).data(b.tb)
}

func (b *testBundle) widget(key, assistantID string) map[string]any {
	b.tb.Helper()
	return b.expect(http.StatusCreated, key, "POST", "/api/v1/widget",
		map[string]any{"assistant_id": assistantID, "name": "site", "widget_type": "chat"}).data(b.tb)
}

// form creates a form with a required "email" field and an optional "note".
func (b *testBundle) form(key, webhookID string) map[string]any {
	b.tb.Helper()
	body := map[string]any{"name": "lead", "fields": []any{
		map[string]any{"name": "email", "type": "text", "required": true},
		map[string]any{"name": "note", "type": "textarea", "required": false},
	}}
	if webhookID != "" {
		body["webhook_id"] = webhookID
	}
	return b.expect(http.StatusCreated, key, "POST", "/api/v1/form", body).data(b.tb)
}

func (b *testBundle) intent(key string) map[string]any {
	b.tb.Helper()
	return b.expect(http.StatusCreated, key, "POST", "/api/v1/intent", map[string]any{"name": "SALES", "description": "wants to buy"}).data(b.tb)
}

func (b *testBundle) contact(key string) map[string]any {
	b.tb.Helper()
	return b.expect(http.StatusCreated, key, "POST", "/api/v1/contact",
		map[string]any{"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com", "phone_number": "+441234"}).data(b.tb)
}

func (b *testBundle) conversation(key, assistantID, widgetID, contactID string) map[string]any {
	b.tb.Helper()
	body := map[string]any{"assistant_id": assistantID, "widget_id": widgetID, "device_type": "desktop", "attributes": map[string]any{"plan": "pro"}}
	if contactID != "" {
		body["contact_id"] = contactID
	}
	return b.expect(http.StatusCreated, key, "POST", "/api/v1/conversation", body).data(b.tb)
}

func (b *testBundle) message(key, conversationID, sender, text string) map[string]any {
	b.tb.Helper()
	return b.expect(http.StatusCreated, key, "POST", "/api/v1/conversation/"+conversationID+"/message",
		map[string]any{"sender_type": sender, "text": text}).data(b.tb)
}

// chat is an assistant with a widget and a webhook assignment.
type chat struct {
	assistant, widget string
}

func (b *testBundle) chat(key, webhookID string) chat {
	b.tb.Helper()
	a := str(b.tb, b.assistant(key, webhookID), "id")
	w := str(b.tb, b.widget(key, a), "id")
	return chat{assistant: a, widget: w}
}

// world is one of each resource of an account, so that routes taking an id
// can be called with ids of every kind.
type world struct {
	webhook, assistant, widget, form, intent, contact string
	conversation, capturedForm, event, delivery       string
	apiKey                                            string // a second key of the account (accounts_test.go)
	eventType                                         string // an own event type's name, of this world only
}

// id returns the world's id of a kind of resource.
func (w *world) id(kind string) string {
	switch kind {
	case "webhook":
		return w.webhook
	case "assistant":
		return w.assistant
	case "widget":
		return w.widget
	case "form":
		return w.form
	case "intent":
		return w.intent
	case "contact":
		return w.contact
	case "conversation":
		return w.conversation
	case "captured_form":
		return w.capturedForm
	case "event":
		return w.event
	case "delivery":
		return w.delivery
	case "api_key":
		return w.apiKey
	case "event_type":
		return w.eventType
	}
	panic("unknown kind " + kind)
}

// world builds one of each resource for the account of key, with an event
// that has a pending delivery.
func (b *testBundle) world(key string) *world {
	b.tb.Helper()
	w := &world{}
	w.webhook = str(b.tb, b.webhook(key, nil), "id")
	c := b.chat(key, w.webhook)
	w.assistant, w.widget = c.assistant, c.widget
	w.form = str(b.tb, b.form(key, w.webhook), "id")
	w.intent = str(b.tb, b.intent(key), "id")
	w.contact = str(b.tb, b.contact(key), "id")
	w.conversation = str(b.tb, b.conversation(key, w.assistant, w.widget, w.contact), "id")
	w.capturedForm = str(b.tb, b.expect(http.StatusCreated, key, "POST", "/api/v1/conversation/"+w.conversation+"/captured_form",
		map[string]any{"form_id": w.form, "field_values": map[string]any{"email": "a@b.c"}}).data(b.tb), "id")
	ev := b.lastEvent(key, "captured_form.created")
	w.event = str(b.tb, ev, "id")
	ds := ev["deliveries"].([]any)
	if len(ds) != 1 {
		b.tb.Fatalf("world event has %d deliveries, want 1", len(ds))
	}
	w.delivery = str(b.tb, ds[0].(map[string]any), "id")
	w.apiKey = str(b.tb, b.expect(http.StatusCreated, key, "POST", "/api/v1/api_key", map[string]any{"name": "second"}).data(b.tb), "id")
	// Named for this world: two accounts may each have a type of one name.
	w.eventType = str(b.tb, b.expect(http.StatusCreated, key, "POST", "/api/v1/event_type",
		map[string]any{"name": "world.t" + strings.ReplaceAll(w.webhook, "-", "")}).data(b.tb), "name")
	return w
}

// events returns the account's events of one type, newest first, each read
// by id (so with its deliveries).
func (b *testBundle) events(key, typ string) []map[string]any {
	b.tb.Helper()
	list := b.expect(http.StatusOK, key, "GET", "/api/v1/event?size=100&event="+typ, nil).items(b.tb)
	out := make([]map[string]any, len(list))
	for i, e := range list {
		out[i] = b.expect(http.StatusOK, key, "GET", "/api/v1/event/"+str(b.tb, e, "id"), nil).data(b.tb)
	}
	return out
}

// lastEvent is the newest event of a type, read by id.
func (b *testBundle) lastEvent(key, typ string) map[string]any {
	b.tb.Helper()
	evs := b.events(key, typ)
	if len(evs) == 0 {
		b.tb.Fatalf("no %s event", typ)
	}
	return evs[0]
}

// eventData is an event's payload.data.
func eventData(tb testing.TB, ev map[string]any) map[string]any {
	tb.Helper()
	p, ok := ev["payload"].(map[string]any)
	if !ok {
		tb.Fatalf("event payload is not an object: %v", ev)
	}
	d, ok := p["data"].(map[string]any)
	if !ok {
		tb.Fatalf("payload data is not an object: %v", p)
	}
	return d
}

// deliveryWebhooks lists the webhook ids of an event's deliveries.
func deliveryWebhooks(tb testing.TB, ev map[string]any) []string {
	tb.Helper()
	ds, ok := ev["deliveries"].([]any)
	if !ok {
		tb.Fatalf("event has no deliveries list: %v", ev)
	}
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = str(tb, d.(map[string]any), "webhook_id")
	}
	return out
}

// on returns the bundle reporting to tb: a subtest must fail through its own
// t, never its parent's.
func (b *testBundle) on(tb testing.TB) *testBundle {
	c := *b
	c.tb = tb
	return &c
}

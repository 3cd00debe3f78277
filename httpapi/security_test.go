package httpapi_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/agenthooks/agenthooks/egress"
	"github.com/agenthooks/agenthooks/httpapi"
	"github.com/agenthooks/agenthooks/service"
	"github.com/agenthooks/agenthooks/sqlite"
)

// setupWith is setup with the server and service configured by configure
// before the first request.
func setupWith(tb testing.TB, configure func(api *httpapi.Server, svc *service.Service)) *testBundle {
	tb.Helper()
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(tb.TempDir(), "a.db"), sqlite.Options{})
	if err != nil {
		tb.Fatalf("open store: %v", err)
	}
	tb.Cleanup(func() { _ = store.Close() })
	svc := service.New(store, egress.Policy{Resolver: resolver}, nil)
	api := httpapi.New(svc, nil)
	api.TestWait = 20 * time.Millisecond
	configure(api, svc)
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
	return &testBundle{tb: tb, svc: svc, srv: srv, keyA: a.APIKey, keyB: b.APIKey}
}

// TestConflictingCredentials: a request naming two different keys answers
// 401 whichever they are; the same key twice is one key.
func TestConflictingCredentials(t *testing.T) {
	t.Parallel()
	b := setup(t)
	cases := []struct {
		name, query, auth string
		want              int
	}{
		{"QueryAndBearerDiffer", "?api_key=" + b.keyA, "Bearer " + b.keyB, 401},
		{"QueryValidBearerWrong", "?api_key=" + b.keyA, "Bearer ak_wrong", 401},
		{"QueryWrongBearerValid", "?api_key=ak_wrong", "Bearer " + b.keyA, 401},
		{"TwoQueryKeys", "?api_key=" + b.keyA + "&api_key=" + b.keyB, "", 401},
		{"SameKeyBoth", "?api_key=" + b.keyA, "Bearer " + b.keyA, 200},
		{"SameQueryKeyTwice", "?api_key=" + b.keyA + "&api_key=" + b.keyA, "", 200},
		{"QueryAndBasic", "?api_key=" + b.keyA, "Basic eDp5", 200}, // not a key: nothing to conflict with
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := b.on(t)
			req, err := http.NewRequest("GET", b.srv.URL+"/api/v1/outbound_webhook"+tc.query, nil)
			if err != nil {
				t.Fatal(err)
			}
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}
			r := b.send(req)
			if r.Status != tc.want {
				t.Fatalf("status %d, want %d: %s", r.Status, tc.want, r.Raw)
			}
			if tc.want == 401 {
				if _, ok := r.Body["detail"].(string); !ok {
					t.Fatalf("401 without a detail: %s", r.Raw)
				}
			}
		})
	}
}

// TestSizeLimits: each bound answers 422 on its field just past the limit and
// accepts the limit itself.
func TestSizeLimits(t *testing.T) {
	t.Parallel()
	b := setup(t)
	w := b.world(b.keyA)
	nested := func(levels int) string { // an object nested levels deep
		return strings.Repeat(`{"a":`, levels-1) + `{}` + strings.Repeat(`}`, levels-1)
	}
	sized := func(n int) string { // a compact object of exactly n bytes
		return `{"a":"` + strings.Repeat("x", n-8) + `"}`
	}
	conv := func(attrs string) raw {
		return raw(`{"assistant_id": "` + w.assistant + `", "widget_id": "` + w.widget + `", "device_type": "mobile", "attributes": ` + attrs + `}`)
	}
	capture := func(values string) raw { return raw(`{"form_id": "` + w.form + `", "field_values": ` + values + `}`) }
	headers := func(n, valueLen int) map[string]any {
		h := map[string]any{}
		for i := range n {
			h["X-H"+strconv.Itoa(100+i)] = strings.Repeat("v", valueLen)
		}
		return map[string]any{"name": "h", "endpoint": publicEndpoint, "headers": h}
	}
	valuesOf := func(n int) string { return `{"email":"a@b.c","note":"` + strings.Repeat("n", n-27) + `"}` } // n bytes, compact
	cases := []struct {
		name, method, path string
		body               any
		want               int
		field              string
	}{
		{"AttributesAtLimit", "POST", "/api/v1/conversation", conv(sized(service.MaxObjectBytes)), 201, ""},
		{"AttributesOverLimit", "POST", "/api/v1/conversation", conv(sized(service.MaxObjectBytes + 1)), 422, "attributes"},
		{"AttributesSpacesDoNotCount", "POST", "/api/v1/conversation", conv(strings.Replace(sized(service.MaxObjectBytes), ":", ": "+strings.Repeat(" ", 100), 1)), 201, ""},
		{"AttributesDepthAtLimit", "POST", "/api/v1/conversation", conv(nested(service.MaxObjectDepth)), 201, ""},
		{"AttributesTooDeep", "POST", "/api/v1/conversation", conv(nested(service.MaxObjectDepth + 1)), 422, "attributes"},
		{"AttributesVeryDeep", "POST", "/api/v1/conversation", conv(nested(5000)), 422, "attributes"},
		{"AttributesDeepArrays", "POST", "/api/v1/conversation", conv(`{"a":` + strings.Repeat("[", 20) + strings.Repeat("]", 20) + `}`), 422, "attributes"},
		{"FieldValuesAtLimit", "POST", "/api/v1/conversation/" + w.conversation + "/captured_form", capture(valuesOf(service.MaxObjectBytes)), 201, ""},
		{"FieldValuesOverLimit", "POST", "/api/v1/conversation/" + w.conversation + "/captured_form", capture(valuesOf(service.MaxObjectBytes + 1)), 422, "field_values"},
		{"FieldValuesTooDeep", "POST", "/api/v1/conversation/" + w.conversation + "/captured_form",
			capture(`{"email": "a@b.c", "note": ` + nested(service.MaxObjectDepth) + `}`), 422, "field_values"},
		{"PatchFieldValuesOverLimit", "PATCH", "/api/v1/captured_form/" + w.capturedForm, raw(`{"field_values": ` + valuesOf(service.MaxObjectBytes+1) + `}`), 422, "field_values"},
		{"TextAtLimit", "POST", "/api/v1/conversation/" + w.conversation + "/message", map[string]any{"sender_type": "user", "text": strings.Repeat("t", service.MaxTextLen)}, 201, ""},
		{"TextOverLimit", "POST", "/api/v1/conversation/" + w.conversation + "/message", map[string]any{"sender_type": "user", "text": strings.Repeat("t", service.MaxTextLen+1)}, 422, "text"},
		{"TextOverLimitInRunes", "POST", "/api/v1/conversation/" + w.conversation + "/message", map[string]any{"sender_type": "user", "text": strings.Repeat("é", service.MaxTextLen/2+1)}, 422, "text"},
		{"HeadersAtCount", "POST", "/api/v1/outbound_webhook", headers(service.MaxHeaders, 10), 201, ""},
		{"HeadersOverCount", "POST", "/api/v1/outbound_webhook", headers(service.MaxHeaders+1, 1), 422, "headers"},
		{"HeadersAtBytes", "POST", "/api/v1/outbound_webhook", headers(4, service.MaxHeaderBytes/4-6), 201, ""},
		{"HeadersOverBytes", "POST", "/api/v1/outbound_webhook", headers(4, service.MaxHeaderBytes/4-5), 422, "headers"},
		{"PatchHeadersOverBytes", "PATCH", "/api/v1/outbound_webhook/" + w.webhook, map[string]any{"headers": map[string]any{"X-A": strings.Repeat("v", service.MaxHeaderBytes)}}, 422, "headers"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := b.on(t)
			r := b.expect(tc.want, b.keyA, tc.method, tc.path, tc.body)
			if tc.field != "" {
				checkLoc(t, r, "", "body", tc.field)
			}
		})
	}

	t.Run("MergedFieldValuesOverLimit", func(t *testing.T) {
		t.Parallel()
		b := b.on(t)
		cf := str(t, b.expect(201, b.keyA, "POST", "/api/v1/conversation/"+w.conversation+"/captured_form",
			capture(valuesOf(service.MaxObjectBytes-100))).data(t), "id")
		// Each part is small; together they pass the limit.
		r := b.expect(422, b.keyA, "PATCH", "/api/v1/captured_form/"+cf, map[string]any{"field_values": map[string]any{"more": strings.Repeat("m", 200)}})
		checkLoc(t, r, "", "body", "field_values")
	})
}

// TestRateLimit: an account over its rate gets 429 with Retry-After and a
// detail; another account is not held back by it.
func TestRateLimit(t *testing.T) {
	t.Parallel()
	b := setupWith(t, func(api *httpapi.Server, _ *service.Service) { api.SetRateLimit(1) }) // burst 2
	var limited *response
	allowed := 0
	for range 50 {
		r := b.request(b.keyA, "GET", "/api/v1/outbound_webhook", nil)
		if r.Status == http.StatusTooManyRequests {
			limited = r
			break
		}
		if r.Status != http.StatusOK {
			t.Fatalf("status %d: %s", r.Status, r.Raw)
		}
		allowed++
	}
	if limited == nil {
		t.Fatal("50 requests at a limit of 1/s: no 429")
	}
	if allowed < 2 {
		t.Errorf("only %d requests passed before the 429, want the burst of 2", allowed)
	}
	if _, ok := limited.Body["detail"].(string); !ok {
		t.Errorf("429 without a string detail: %s", limited.Raw)
	}
	if s, err := strconv.Atoi(limited.Header.Get("Retry-After")); err != nil || s < 1 {
		t.Errorf("Retry-After %q, want whole seconds >= 1", limited.Header.Get("Retry-After"))
	}
	b.expect(http.StatusOK, b.keyB, "GET", "/api/v1/outbound_webhook", nil)

	t.Run("Off", func(t *testing.T) {
		t.Parallel()
		b := setupWith(t, func(api *httpapi.Server, _ *service.Service) { api.SetRateLimit(0) })
		for range 200 {
			b.expect(http.StatusOK, b.keyA, "GET", "/api/v1/event_type", nil)
		}
	})
}

// TestMaxWebhooks: creating one webhook past the account's quota answers
// 422, even when the creates race; deleting one makes room again.
func TestMaxWebhooks(t *testing.T) {
	t.Parallel()
	const max = 5
	b := setupWith(t, func(_ *httpapi.Server, svc *service.Service) { svc.MaxWebhooks = max })
	var wg sync.WaitGroup
	statuses := make(chan int, 2*max)
	for range 2 * max {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses <- b.request(b.keyA, "POST", "/api/v1/outbound_webhook", map[string]any{"name": "h", "endpoint": publicEndpoint}).Status
		}()
	}
	wg.Wait()
	close(statuses)
	created := 0
	for s := range statuses {
		switch s {
		case http.StatusCreated:
			created++
		case http.StatusUnprocessableEntity:
		default:
			t.Errorf("status %d", s)
		}
	}
	if created != max {
		t.Fatalf("%d webhooks created, want %d", created, max)
	}
	r := b.expect(http.StatusUnprocessableEntity, b.keyA, "POST", "/api/v1/outbound_webhook", map[string]any{"name": "h", "endpoint": publicEndpoint})
	checkLoc(t, r, "too_many", "body")
	b.webhook(b.keyB, nil) // another account has its own quota
	first := str(t, b.expect(http.StatusOK, b.keyA, "GET", "/api/v1/outbound_webhook", nil).items(t)[0], "id")
	b.expect(http.StatusOK, b.keyA, "DELETE", "/api/v1/outbound_webhook/"+first, nil)
	b.webhook(b.keyA, nil)
}

// TestIdempotentSecrets: a replayed create or rotate shows the webhook's
// current secret, never one rotated out, and the cache keeps none.
func TestIdempotentSecrets(t *testing.T) {
	t.Parallel()
	b := setup(t)
	idem := map[string]string{"Idempotency-Key": "create-1"}
	body := map[string]any{"name": "h", "endpoint": publicEndpoint}
	first := b.requestWith(b.keyA, "POST", "/api/v1/outbound_webhook", body, idem)
	if first.Status != http.StatusCreated {
		t.Fatalf("create: %d %s", first.Status, first.Raw)
	}
	id, secret := str(t, first.data(t), "id"), str(t, first.data(t), "secret")
	again := b.requestWith(b.keyA, "POST", "/api/v1/outbound_webhook", body, idem)
	if again.Status != http.StatusCreated || str(t, again.data(t), "id") != id || str(t, again.data(t), "secret") != secret {
		t.Fatalf("replay: %d %s, want the same webhook and secret", again.Status, again.Raw)
	}
	rotated := str(t, b.expect(http.StatusOK, b.keyA, "POST", "/api/v1/outbound_webhook/"+id+"/rotate_secret", nil).data(t), "secret")
	after := b.requestWith(b.keyA, "POST", "/api/v1/outbound_webhook", body, idem)
	if got := str(t, after.data(t), "secret"); got != rotated {
		t.Fatalf("replay after a rotation shows %q, want the current secret %q", got, rotated)
	}
	b.expect(http.StatusOK, b.keyA, "DELETE", "/api/v1/outbound_webhook/"+id, nil)
	gone := b.requestWith(b.keyA, "POST", "/api/v1/outbound_webhook", body, idem)
	if gone.Status != http.StatusCreated || gone.data(t)["secret"] != nil {
		t.Fatalf("replay after a delete: %d %s, want the first answer with a null secret", gone.Status, gone.Raw)
	}
	if strings.Contains(string(gone.Raw), secret) || strings.Contains(string(gone.Raw), rotated) {
		t.Fatalf("replay after a delete shows a secret: %s", gone.Raw)
	}
}

package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/agenthooks/agenthooks/delivery"
	"github.com/agenthooks/agenthooks/egress"
	"github.com/agenthooks/agenthooks/httpapi"
	"github.com/agenthooks/agenthooks/service"
	"github.com/agenthooks/agenthooks/sqlite"
)

// apiKeyKeys are the fields an API key reads (never the key itself).
var apiKeyKeys = []string{"id", "name", "prefix", "created_at", "last_used_at"}

const testAdminKey = "the-platform-admin-key-0123456789"

// setupAdmin is setup with the admin API on (AdminKey testAdminKey) and
// loopback endpoints allowed; pool, when true, runs delivery workers that
// retry every 20ms, 50 times.
func setupAdmin(tb testing.TB, pool bool) *testBundle {
	tb.Helper()
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(tb.TempDir(), "a.db"), sqlite.Options{})
	if err != nil {
		tb.Fatalf("open store: %v", err)
	}
	tb.Cleanup(func() { _ = store.Close() })
	policy := egress.Policy{AllowPrivate: true}
	svc := service.New(store, policy, nil)
	api := httpapi.New(svc, nil)
	api.TestWait = 20 * time.Millisecond
	api.AdminKey = testAdminKey
	srv := httptest.NewServer(api)
	tb.Cleanup(srv.Close)
	if pool {
		p := delivery.New(delivery.Options{
			Store:        store,
			Client:       egress.NewClient(egress.Options{Policy: policy, Timeout: 5 * time.Second, UserAgent: "agenthooks/test"}),
			Policy:       &delivery.Policy{Schedule: slices.Repeat([]time.Duration{20 * time.Millisecond}, 50), RetryAfterMax: time.Second},
			Timeout:      5 * time.Second,
			PollInterval: 10 * time.Millisecond,
			UserAgent:    "agenthooks/test",
			// The endpoints fail on purpose: no circuit holds their retries back.
			CircuitThreshold: 1000,
		})
		if err := p.Start(context.Background()); err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			p.Stop(ctx)
		})
	}
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

func TestAPIKeys(t *testing.T) {
	t.Parallel()

	t.Run("CreateListRevoke", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		created := b.expect(http.StatusCreated, b.keyA, "POST", "/api/v1/api_key", map[string]any{"name": "  CI deploy "}).data(t)
		hasKeys(t, created, "id", "name", "key", "created_at")
		key := str(t, created, "key")
		if !strings.HasPrefix(key, "ak_") || key == b.keyA || created["name"] != "CI deploy" {
			t.Fatalf("created key: %v", created)
		}
		// The new key works beside the first one.
		b.expect(http.StatusOK, key, "GET", "/api/v1/outbound_webhook", nil)
		b.expect(http.StatusOK, b.keyA, "GET", "/api/v1/outbound_webhook", nil)

		list := b.expect(http.StatusOK, b.keyA, "GET", "/api/v1/api_key", nil)
		if strings.Contains(string(list.Raw), key) || strings.Contains(string(list.Raw), b.keyA) {
			t.Fatalf("the list shows a key: %s", list.Raw)
		}
		items := list.items(t)
		if len(items) != 2 || list.data(t)["total"] != float64(2) {
			t.Fatalf("list: %s", list.Raw)
		}
		byName := map[string]map[string]any{}
		for _, it := range items {
			hasKeys(t, it, apiKeyKeys...)
			if _, has := it["key"]; has {
				t.Errorf("a listed key has a key field: %v", it)
			}
			byName[str(t, it, "name")] = it
		}
		if p := str(t, byName["CI deploy"], "prefix"); !strings.HasPrefix(key, p) || len(p) < 8 || len(p) >= len(key)/2 {
			t.Errorf("prefix %q of key %q", p, key)
		}
		if p := str(t, byName["default"], "prefix"); !strings.HasPrefix(b.keyA, p) {
			t.Errorf("the first key is not named default with its prefix: %v", byName)
		}
		// Both keys were used above: their last use is recorded.
		for name, it := range byName {
			if _, err := time.Parse(time.RFC3339, fmt.Sprint(it["last_used_at"])); err != nil {
				t.Errorf("key %s: last_used_at %v", name, it["last_used_at"])
			}
		}
		got := b.expect(http.StatusOK, b.keyA, "GET", "/api/v1/api_key/"+str(t, created, "id"), nil).data(t)
		hasKeys(t, got, apiKeyKeys...)

		// Revoking the first key: it stops at once, the other goes on.
		first := str(t, byName["default"], "id")
		b.expect(http.StatusOK, key, "DELETE", "/api/v1/api_key/"+first, nil)
		b.expect(http.StatusUnauthorized, b.keyA, "GET", "/api/v1/outbound_webhook", nil)
		b.expect(http.StatusOK, key, "GET", "/api/v1/outbound_webhook", nil)
		// The last key cannot go.
		b.expect(http.StatusConflict, key, "DELETE", "/api/v1/api_key/"+str(t, created, "id"), nil)
		b.expect(http.StatusOK, key, "GET", "/api/v1/outbound_webhook", nil)
		// B's keys are untouched.
		b.expect(http.StatusOK, b.keyB, "GET", "/api/v1/outbound_webhook", nil)
	})

	t.Run("NeverUsed", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		id := str(t, b.expect(http.StatusCreated, b.keyA, "POST", "/api/v1/api_key", map[string]any{"name": "spare"}).data(t), "id")
		got := b.expect(http.StatusOK, b.keyA, "GET", "/api/v1/api_key/"+id, nil).data(t)
		if got["last_used_at"] != nil {
			t.Errorf("an unused key has last_used_at %v", got["last_used_at"])
		}
	})

	t.Run("Paging", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		for i := range 4 {
			b.expect(http.StatusCreated, b.keyA, "POST", "/api/v1/api_key", map[string]any{"name": fmt.Sprint("k", i)})
		}
		r := b.expect(http.StatusOK, b.keyA, "GET", "/api/v1/api_key?page=2&size=2", nil)
		d := r.data(t)
		if d["total"] != float64(5) || d["pages"] != float64(3) || d["page"] != float64(2) || len(r.items(t)) != 2 {
			t.Errorf("page 2 of 2: %s", r.Raw)
		}
		if names := fmt.Sprint(str(t, r.items(t)[0], "name"), str(t, r.items(t)[1], "name")); names != "k1k2" {
			t.Errorf("page 2 holds %s, want k1 and k2 (oldest first)", names)
		}
		b.expect(http.StatusUnprocessableEntity, b.keyA, "GET", "/api/v1/api_key?size=101", nil)
	})

	t.Run("Validation", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		for _, tc := range []struct {
			name string
			body any
			want int
		}{
			{"Missing", map[string]any{}, 422},
			{"Empty", map[string]any{"name": " "}, 422},
			{"NotString", map[string]any{"name": 7}, 422},
			{"TooLong", map[string]any{"name": strings.Repeat("x", 256)}, 422},
			{"Malformed", raw(`{"name":`), 400},
		} {
			r := b.request(b.keyA, "POST", "/api/v1/api_key", tc.body)
			if r.Status != tc.want {
				t.Errorf("%s: status %d, want %d: %s", tc.name, r.Status, tc.want, r.Raw)
			}
		}
		if n := len(b.expect(http.StatusOK, b.keyA, "GET", "/api/v1/api_key", nil).items(t)); n != 1 {
			t.Errorf("refused requests made keys: %d keys", n)
		}
		b.expect(http.StatusUnauthorized, "", "GET", "/api/v1/api_key", nil)
		b.expect(http.StatusUnauthorized, "ak_wrong", "POST", "/api/v1/api_key", map[string]any{"name": "x"})
	})
}

// adminRoutes is every admin route with a valid request.
var adminRoutes = []struct {
	method, path string
	body         any
}{
	{"POST", "/api/v1/admin/account", map[string]any{"name": "x"}},
	{"GET", "/api/v1/admin/account", nil},
	{"GET", "/api/v1/admin/account/ID", nil},
	{"POST", "/api/v1/admin/account/ID/rotate_key", nil},
	{"POST", "/api/v1/admin/account/ID/portal_session", map[string]any{"read_only": true}},
	{"DELETE", "/api/v1/admin/account/ID", nil},
}

func TestAdminRoutesCoverServer(t *testing.T) {
	t.Parallel()
	for _, p := range httpapi.RegisteredAdminRoutes(httpapi.New(nil, nil)) {
		method, path, _ := strings.Cut(p, " ")
		found := false
		for _, r := range adminRoutes {
			found = found || (r.method == method && r.path == "/api/v1"+strings.ReplaceAll(path, "{id}", "ID"))
		}
		if !found {
			t.Errorf("admin route %s is not in adminRoutes", p)
		}
	}
}

func TestAdminOff(t *testing.T) {
	t.Parallel()
	b := setup(t) // no admin key
	id := str(t, b.expect(http.StatusOK, b.keyA, "GET", "/api/v1/api_key", nil).items(t)[0], "id")
	for _, rt := range adminRoutes {
		for _, key := range []string{"", b.keyA, testAdminKey} {
			r := b.request(key, rt.method, strings.ReplaceAll(rt.path, "ID", id), rt.body)
			if r.Status != http.StatusNotFound || r.Body["detail"] != "Not Found" {
				t.Errorf("%s %s with key %.6q: %d %s, want 404 as an unknown path", rt.method, rt.path, key, r.Status, r.Raw)
			}
		}
	}
}

func TestAdminAuth(t *testing.T) {
	t.Parallel()
	b := setupAdmin(t, false)
	cases := []struct {
		name   string
		header string
		query  string
		want   int
	}{
		{"Missing", "", "", 401},
		{"Wrong", "Bearer not-the-admin-key-0123456789", "", 401},
		{"Prefix", "Bearer " + testAdminKey[:len(testAdminKey)-1], "", 401},
		{"Longer", "Bearer " + testAdminKey + "x", "", 401},
		{"Empty", "Bearer ", "", 401},
		{"AccountKey", "Bearer " + b.keyA, "", 401},
		{"AccountKeyInQuery", "", "?api_key=" + b.keyA, 401},
		{"AdminKeyInQuery", "", "?api_key=" + testAdminKey, 401},
		{"BasicScheme", "Basic " + testAdminKey, "", 401},
		{"Bearer", "Bearer " + testAdminKey, "", 200},
		{"BearerLowerCase", "bearer " + testAdminKey, "", 200},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := b.on(t)
			req, err := http.NewRequest("GET", b.srv.URL+"/api/v1/admin/account"+tc.query, nil)
			if err != nil {
				t.Fatal(err)
			}
			if tc.header != "" {
				req.Header.Set("Authorization", tc.header)
			}
			r := b.send(req)
			if r.Status != tc.want {
				t.Fatalf("status %d, want %d: %s", r.Status, tc.want, r.Raw)
			}
			if _, ok := r.Body["detail"].(string); tc.want == 401 && !ok {
				t.Fatalf("401 without a detail: %s", r.Raw)
			}
		})
	}
	// The admin key is not an account key either.
	b.expect(http.StatusUnauthorized, testAdminKey, "GET", "/api/v1/outbound_webhook", nil)
	// Every admin route refuses a wrong key.
	for _, rt := range adminRoutes {
		if r := b.request(b.keyA, rt.method, rt.path, rt.body); r.Status != http.StatusUnauthorized {
			t.Errorf("%s %s with an account key: %d", rt.method, rt.path, r.Status)
		}
	}
}

func TestAdminAccounts(t *testing.T) {
	t.Parallel()

	t.Run("Lifecycle", func(t *testing.T) {
		t.Parallel()
		b := setupAdmin(t, false)
		created := b.expect(http.StatusCreated, testAdminKey, "POST", "/api/v1/admin/account", map[string]any{"name": "Customer 42", "plan": "ignored"}).data(t)
		hasKeys(t, created, "id", "name", "api_key", "created_at")
		id, key := str(t, created, "id"), str(t, created, "api_key")
		if created["name"] != "Customer 42" || !strings.HasPrefix(key, "ak_") {
			t.Fatalf("created: %v", created)
		}
		b.expect(http.StatusOK, key, "GET", "/api/v1/outbound_webhook", nil)

		got := b.expect(http.StatusOK, testAdminKey, "GET", "/api/v1/admin/account/"+id, nil)
		if d := got.data(t); d["id"] != id || d["name"] != "Customer 42" || d["created_at"] != created["created_at"] || len(d) != 3 {
			t.Errorf("read: %s", got.Raw)
		}
		if strings.Contains(string(got.Raw), key) {
			t.Errorf("the read shows the key: %s", got.Raw)
		}

		// A portal link for the account, on the admin key; none for an
		// account that does not exist.
		portal := b.expect(http.StatusCreated, testAdminKey, "POST", "/api/v1/admin/account/"+id+"/portal_session", map[string]any{"expires_in": 120, "read_only": true}).data(t)
		hasKeys(t, portal, "url", "expires_at")
		if u := str(t, portal, "url"); !strings.Contains(u, "/portal/") {
			t.Errorf("portal url %q has no /portal/ token", u)
		}
		b.expect(http.StatusNotFound, testAdminKey, "POST", "/api/v1/admin/account/0190aaaa-0000-7000-8000-000000000000/portal_session", nil)
		b.expect(http.StatusUnauthorized, key, "POST", "/api/v1/admin/account/"+id+"/portal_session", nil)

		// A second key, then a rotation: both old keys stop at once.
		second := str(t, b.expect(http.StatusCreated, key, "POST", "/api/v1/api_key", map[string]any{"name": "second"}).data(t), "key")
		rotated := b.expect(http.StatusOK, testAdminKey, "POST", "/api/v1/admin/account/"+id+"/rotate_key", nil).data(t)
		hasKeys(t, rotated, "id", "name", "api_key")
		newKey := str(t, rotated, "api_key")
		if rotated["id"] != id || newKey == key || newKey == second {
			t.Fatalf("rotated: %v", rotated)
		}
		b.expect(http.StatusUnauthorized, key, "GET", "/api/v1/outbound_webhook", nil)
		b.expect(http.StatusUnauthorized, second, "GET", "/api/v1/outbound_webhook", nil)
		b.expect(http.StatusOK, newKey, "GET", "/api/v1/outbound_webhook", nil)
		if n := len(b.expect(http.StatusOK, newKey, "GET", "/api/v1/api_key", nil).items(t)); n != 1 {
			t.Errorf("after rotate_key the account has %d keys, want 1", n)
		}

		b.expect(http.StatusOK, testAdminKey, "DELETE", "/api/v1/admin/account/"+id, nil)
		b.expect(http.StatusUnauthorized, newKey, "GET", "/api/v1/outbound_webhook", nil)
		b.expect(http.StatusNotFound, testAdminKey, "GET", "/api/v1/admin/account/"+id, nil)
		b.expect(http.StatusNotFound, testAdminKey, "DELETE", "/api/v1/admin/account/"+id, nil)
		b.expect(http.StatusNotFound, testAdminKey, "POST", "/api/v1/admin/account/"+id+"/rotate_key", nil)
		// The other accounts are untouched.
		b.expect(http.StatusOK, b.keyA, "GET", "/api/v1/outbound_webhook", nil)
		b.expect(http.StatusOK, b.keyB, "GET", "/api/v1/outbound_webhook", nil)
	})

	t.Run("NotFound", func(t *testing.T) {
		t.Parallel()
		b := setupAdmin(t, false)
		for _, id := range []string{service.NewID(), "not-a-uuid", "x'%20OR%20'1'='1", "%00"} {
			for _, rt := range adminRoutes {
				if !strings.Contains(rt.path, "ID") {
					continue
				}
				b.expect(http.StatusNotFound, testAdminKey, rt.method, strings.ReplaceAll(rt.path, "ID", id), rt.body)
			}
		}
	})

	t.Run("Paging", func(t *testing.T) {
		t.Parallel()
		b := setupAdmin(t, false) // accounts a and b
		for i := range 3 {
			b.expect(http.StatusCreated, testAdminKey, "POST", "/api/v1/admin/account", map[string]any{"name": fmt.Sprint("c", i)})
		}
		r := b.expect(http.StatusOK, testAdminKey, "GET", "/api/v1/admin/account?page=2&size=2", nil)
		d := r.data(t)
		if d["total"] != float64(5) || d["pages"] != float64(3) || d["size"] != float64(2) || len(r.items(t)) != 2 {
			t.Fatalf("page 2 of 2: %s", r.Raw)
		}
		if names := fmt.Sprint(str(t, r.items(t)[0], "name"), ",", str(t, r.items(t)[1], "name")); names != "c0,c1" {
			t.Errorf("page 2 holds %s, want c0,c1 (oldest first)", names)
		}
		for _, it := range r.items(t) {
			if len(it) != 3 {
				t.Errorf("a listed account has %v, want id, name, created_at", it)
			}
		}
		all := b.expect(http.StatusOK, testAdminKey, "GET", "/api/v1/admin/account", nil)
		if len(all.items(t)) != 5 || strings.Contains(string(all.Raw), "ak_") {
			t.Errorf("the whole list: %s", all.Raw)
		}
		for _, q := range []string{"page=0", "size=0", "size=101", "page=x"} {
			b.expect(http.StatusUnprocessableEntity, testAdminKey, "GET", "/api/v1/admin/account?"+q, nil)
		}
	})

	t.Run("Validation", func(t *testing.T) {
		t.Parallel()
		b := setupAdmin(t, false)
		for _, body := range []any{map[string]any{}, map[string]any{"name": ""}, map[string]any{"name": 1}, map[string]any{"name": strings.Repeat("n", 256)}} {
			b.expect(http.StatusUnprocessableEntity, testAdminKey, "POST", "/api/v1/admin/account", body)
		}
		b.expect(http.StatusBadRequest, testAdminKey, "POST", "/api/v1/admin/account", raw("{"))
		if n := len(b.expect(http.StatusOK, testAdminKey, "GET", "/api/v1/admin/account", nil).items(t)); n != 2 {
			t.Errorf("refused requests made accounts: %d accounts", n)
		}
	})
}

// failingReceiver answers 500 to every request and counts them by path.
type failingReceiver struct {
	mu  sync.Mutex
	got map[string]int
}

func (f *failingReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.got[r.URL.Path]++
	f.mu.Unlock()
	w.WriteHeader(http.StatusInternalServerError)
}

func (f *failingReceiver) count(path string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.got[path]
}

// waitFor polls cond for up to 30 seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(30 * time.Second); time.Now().Before(end); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

// TestAdminDeleteStopsDeliveries: once an account is deleted, nothing more
// is delivered for it, while another account's retries go on.
func TestAdminDeleteStopsDeliveries(t *testing.T) {
	t.Parallel()
	b := setupAdmin(t, true)
	rc := &failingReceiver{got: map[string]int{}}
	receiver := httptest.NewServer(rc)
	t.Cleanup(receiver.Close)

	created := b.expect(http.StatusCreated, testAdminKey, "POST", "/api/v1/admin/account", map[string]any{"name": "leaving"}).data(t)
	doomed, doomedKey := str(t, created, "id"), str(t, created, "api_key")
	for _, k := range []struct{ key, path string }{{doomedKey, "/doomed"}, {b.keyB, "/staying"}} {
		wh := str(t, b.expect(http.StatusCreated, k.key, "POST", "/api/v1/outbound_webhook", map[string]any{"name": "w", "endpoint": receiver.URL + k.path}).data(t), "id")
		b.expect(http.StatusOK, k.key, "POST", "/api/v1/outbound_webhook/"+wh+"/test", nil)
	}
	waitFor(t, "the doomed account's delivery to be retried", func() bool { return rc.count("/doomed") >= 2 })

	b.expect(http.StatusOK, testAdminKey, "DELETE", "/api/v1/admin/account/"+doomed, nil)
	atDelete := rc.count("/doomed")
	// The other account's delivery keeps being retried: once it has been
	// tried three more times, the deleted account's would have been too.
	staying := rc.count("/staying")
	waitFor(t, "the other account's retries", func() bool { return rc.count("/staying") >= staying+3 })
	// One attempt may have been in flight when the account was deleted.
	if got := rc.count("/doomed"); got > atDelete+1 {
		t.Errorf("the deleted account's endpoint got %d requests after the delete (%d before)", got-atDelete, atDelete)
	}
}

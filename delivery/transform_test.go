package delivery_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/agenthooks/agenthooks"
	"github.com/agenthooks/agenthooks/delivery"
	"github.com/agenthooks/agenthooks/internal/testdb"
	"github.com/agenthooks/agenthooks/metrics"
	"github.com/agenthooks/agenthooks/service"
	"github.com/agenthooks/agenthooks/webhook/signature"
)

// request is what a receiver saw.
type request struct {
	method, path string
	header       http.Header
	body         []byte
}

type receiver struct {
	mu   sync.Mutex
	seen []request
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	rc.seen = append(rc.seen, request{r.Method, r.URL.Path, r.Header.Clone(), b})
	rc.mu.Unlock()
}

func (rc *receiver) requests() []request {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]request(nil), rc.seen...)
}

// A transformation makes the request: method, URL, headers and body as the
// code returned them, signed over the body it produced; the attempt records
// them. cancel ends the delivery canceled with no request.
func TestTransformationApplied(t *testing.T) {
	t.Parallel()
	testdb.ForEachEngine(t, func(t *testing.T, e testdb.Engine) {
		t.Parallel()
		rc := &receiver{}
		srv := httptest.NewServer(rc)
		defer srv.Close()
		f := newFixture(t, e, srv.URL)
		code := `function handler(w) {
  w.method = "PUT";
  w.url = w.url + "/moved";
  w.headers["X-Event"] = w.eventType;
  w.payload = {text: "closed: " + w.payload.data.chat_count};
  return w;
}`
		tr := f.addRoute(srv.URL, service.WebhookInput{Transformation: &agenthooks.Transformation{Code: code, Enabled: true}})
		cancel := f.addRoute(srv.URL, service.WebhookInput{Transformation: &agenthooks.Transformation{Code: `function handler(w) { w.cancel = true; return w }`, Enabled: true}})
		if n := canceledGauge(t, f.store); n != 0 {
			t.Errorf(`before: agenthooks_deliveries{status="canceled"} = %v, want 0`, n)
		}
		startPool(t, f, delivery.Options{})
		f.close(f.conversation(tr))
		f.close(f.conversation(cancel))
		waitFor(t, "the transformed delivery", func() bool { return f.statuses(tr.webhook.ID)[agenthooks.DeliverySucceeded] == 1 })
		waitFor(t, "the canceled delivery", func() bool { return f.statuses(cancel.webhook.ID)[agenthooks.DeliveryCanceled] == 1 })
		if n := canceledGauge(t, f.store); n != 1 {
			t.Errorf(`after the cancel: agenthooks_deliveries{status="canceled"} = %v, want 1`, n)
		}
		reqs := rc.requests()
		if len(reqs) != 1 {
			t.Fatalf("%d requests, want 1 (the canceled one makes none)", len(reqs))
		}
		r := reqs[0]
		if r.method != "PUT" || r.path != "/moved" || r.header.Get("X-Event") != agenthooks.EventConversationClosed || string(r.body) != `{"text":"closed: 0"}` {
			t.Errorf("request %s %s %v %s", r.method, r.path, r.header.Get("X-Event"), r.body)
		}
		key, _ := signature.ParseSecret(tr.webhook.Secret)
		if err := signature.Verify([][]byte{key}, r.header.Get("webhook-id"), r.header.Get("webhook-timestamp"), r.header.Get("webhook-signature"), r.body, time.Now(), time.Minute); err != nil {
			t.Errorf("signature over the body sent: %v", err)
		}
		l, err := f.svc.ListWebhookDeliveries(t.Context(), f.account, tr.webhook.ID, "", agenthooks.Page{Page: 1, Size: 1})
		if err != nil {
			t.Fatal(err)
		}
		a := f.delivery(l.Items[0].ID).Attempts
		if len(a) != 1 || a[0].RequestMethod != "PUT" || a[0].RequestURL != srv.URL+"/moved" || a[0].RequestBody != `{"text":"closed: 0"}` {
			t.Errorf("attempt records %+v", a)
		}
		l, err = f.svc.ListWebhookDeliveries(t.Context(), f.account, cancel.webhook.ID, agenthooks.DeliveryCanceled, agenthooks.Page{Page: 1, Size: 1})
		if err != nil || len(l.Items) != 1 {
			t.Fatalf("?status=canceled: %v %v", l, err)
		}
	})
}

// canceledGauge scrapes agenthooks_deliveries{status="canceled"} from fresh
// metrics over store (no cached reading).
func canceledGauge(t *testing.T, store agenthooks.Store) float64 {
	t.Helper()
	m := metrics.New(metrics.Options{Store: store, Version: "test", Role: "all"})
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	const series = `agenthooks_deliveries{status="canceled"} `
	for _, line := range strings.Split(rec.Body.String(), "\n") {
		if v, ok := strings.CutPrefix(line, series); ok {
			n, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("%s: %v", line, err)
			}
			return n
		}
	}
	t.Fatalf("no %s series in:\n%s", series, rec.Body.String())
	return 0
}

// Hostile transformations (a loop, unbounded allocation, deep recursion, a
// throw, a garbage return) fail their own attempts with the reason, and
// never stop the healthy webhooks beside them.
func TestHostileTransformations(t *testing.T) {
	t.Parallel()
	testdb.ForEachEngine(t, func(t *testing.T, e testdb.Engine) {
		t.Parallel()
		rc := &receiver{}
		srv := httptest.NewServer(rc)
		defer srv.Close()
		f := newFixture(t, e, srv.URL)
		hostile := map[string]string{
			"timed out":       `function handler(w) { for (;;) {} }`,
			"timed out after": `function handler(w) { var a = []; for (;;) { a.push("xxxxxxxxxxxxxxxx" + a.length) } }`,
			// Under the race detector on a loaded machine the stack may
			// outlast the time limit: either stops it.
			"call stack|timed out": `function f(n) { return f(n + 1) } function handler(w) { return f(0) }`,
			"Error: nope":          "function handler(w) {\n  throw new Error('nope')\n}",
			"must return the web":  `function handler(w) { return 7 }`,
		}
		routes := map[string]route{}
		for reason, code := range hostile {
			routes[reason] = f.addRoute(srv.URL+"/bad", service.WebhookInput{Transformation: &agenthooks.Transformation{Code: code, Enabled: true}})
		}
		var healthy []route
		for range 3 {
			healthy = append(healthy, f.addRoute(srv.URL+"/ok", service.WebhookInput{}))
		}
		startPool(t, f, delivery.Options{})
		for _, r := range routes {
			f.close(f.conversation(r))
		}
		for _, r := range healthy {
			for range 3 {
				f.close(f.conversation(r))
			}
		}
		for _, r := range healthy {
			waitFor(t, "healthy deliveries", func() bool { return f.statuses(r.webhook.ID)[agenthooks.DeliverySucceeded] == 3 })
		}
		for reason, r := range routes {
			waitFor(t, "hostile "+reason+" ends failed", func() bool { return f.statuses(r.webhook.ID)[agenthooks.DeliveryFailed] == 1 })
			l, err := f.svc.ListWebhookDeliveries(t.Context(), f.account, r.webhook.ID, "", agenthooks.Page{Page: 1, Size: 1})
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range f.delivery(l.Items[0].ID).Attempts {
				if !containsAny(a.Error, strings.Split(reason, "|")) {
					t.Errorf("%s: attempt error %q", reason, a.Error)
				}
			}
		}
		for _, r := range rc.requests() {
			if r.path == "/bad" {
				t.Errorf("a hostile webhook's request was sent")
			}
		}
	})
}

func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

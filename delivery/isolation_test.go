package delivery_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/agenthooks/agenthooks"
	"github.com/agenthooks/agenthooks/delivery"
	"github.com/agenthooks/agenthooks/internal/testdb"
	"github.com/agenthooks/agenthooks/service"
)

// route is one more webhook, assistant and widget in a fixture's account.
type route struct {
	webhook *agenthooks.Webhook
	asst    string
	widget  string
}

func (f *fixture) addRoute(endpoint string, in service.WebhookInput) route {
	f.t.Helper()
	ctx := context.Background()
	in.Name, in.Endpoint = "hook", endpoint
	wh, err := f.svc.CreateWebhook(ctx, f.account, in)
	if err != nil {
		f.t.Fatal(err)
	}
	as, err := f.svc.CreateAssistant(ctx, f.account, service.AssistantInput{Name: "bot", WebhookID: wh.ID})
	if err != nil {
		f.t.Fatal(err)
	}
	wg, err := f.svc.CreateWidget(ctx, f.account, service.WidgetInput{AssistantID: as.ID, Name: "chat", WidgetType: "chat"})
	if err != nil {
		f.t.Fatal(err)
	}
	return route{webhook: wh, asst: as.ID, widget: wg.ID}
}

func (f *fixture) conversation(r route) string {
	f.t.Helper()
	c, err := f.svc.CreateConversation(context.Background(), f.account, service.ConversationInput{AssistantID: r.asst, WidgetID: r.widget, DeviceType: "mobile"})
	if err != nil {
		f.t.Fatal(err)
	}
	return c.ID
}

func (f *fixture) close(conv string) {
	f.t.Helper()
	if _, err := f.svc.CloseConversation(context.Background(), f.account, conv); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) message(conv, text string) {
	f.t.Helper()
	if _, err := f.svc.AddMessage(context.Background(), f.account, conv, service.MessageInput{SenderType: "user", Text: text}); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) statuses(webhookID string) map[string]int {
	f.t.Helper()
	l, err := f.svc.ListWebhookDeliveries(context.Background(), f.account, webhookID, "", agenthooks.Page{Page: 1, Size: 100})
	if err != nil {
		f.t.Fatal(err)
	}
	n := map[string]int{}
	for _, d := range l.Items {
		n[d.Status]++
	}
	return n
}

// TestBadEndpointsDoNotSlowTheHealthy: while one endpoint hangs with its
// in-flight cap full and another fails every request, every delivery to a
// healthy endpoint completes; the failing one's circuit opens and holds its
// deliveries back (they wait: none fails, no attempts are burnt).
func TestBadEndpointsDoNotSlowTheHealthy(t *testing.T) {
	t.Parallel()
	testdb.ForEachEngine(t, func(t *testing.T, e testdb.Engine) {
		t.Parallel()
		release := make(chan struct{})
		var hangIn, hangDone, failHits atomic.Int32
		hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			hangIn.Add(1)
			select {
			case <-release:
			case <-r.Context().Done():
			}
			hangDone.Add(1)
		}))
		defer hang.Close()
		defer close(release)
		failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			failHits.Add(1)
			w.WriteHeader(http.StatusInternalServerError)
		}))
		defer failing.Close()
		var okHits atomic.Int32
		healthy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { okHits.Add(1) }))
		defer healthy.Close()

		f := newFixture(t, e, healthy.URL)
		rh := route{webhook: f.webhook, asst: f.asst, widget: f.widget}
		rHang := f.addRoute(hang.URL, service.WebhookInput{})
		rFail := f.addRoute(failing.URL, service.WebhookInput{})
		const n = 20
		for range n {
			f.close(f.conversation(rHang))
			f.close(f.conversation(rFail))
			f.close(f.conversation(rh))
		}
		long := make([]time.Duration, 10)
		for i := range long {
			long[i] = 10 * time.Millisecond
		}
		startPool(t, f, delivery.Options{
			Workers: 8, MaxInFlightPerWebhook: 2, Timeout: time.Minute,
			CircuitThreshold: 5, CircuitCooldown: time.Hour,
			Policy: &delivery.Policy{Schedule: long},
		})
		waitFor(t, "every healthy delivery", func() bool { return f.statuses(rh.webhook.ID)[agenthooks.DeliverySucceeded] == n })

		if got := hangIn.Load(); got != 2 {
			t.Errorf("%d requests reached the hanging endpoint, want its cap of 2", got)
		}
		if got := hangDone.Load(); got != 0 {
			t.Errorf("%d hanging requests ended before the healthy deliveries did; want 0 (the healthy ones did not wait)", got)
		}
		if got := failHits.Load(); got < 5 || got > 6 {
			t.Errorf("the failing endpoint got %d requests, want 5-6 (threshold 5, then the circuit holds the rest)", got)
		}
		st := f.statuses(rFail.webhook.ID)
		if st[agenthooks.DeliveryFailed] != 0 || st[agenthooks.DeliveryPending] != n {
			t.Errorf("failing webhook's deliveries %v: want all %d pending (held back, not failed)", st, n)
		}
		if okHits.Load() != n {
			t.Errorf("healthy endpoint got %d requests, want %d", okHits.Load(), n)
		}
	})
}

// TestOrderedDeliveryPerConversation: on a webhook with ordering
// "conversation", a failing event holds back the later events of its own
// conversation until it ends failed, and never another conversation's.
func TestOrderedDeliveryPerConversation(t *testing.T) {
	t.Parallel()
	testdb.ForEachEngine(t, func(t *testing.T, e testdb.Engine) {
		t.Parallel()
		var mu sync.Mutex
		var log []string // "conversation/text" per request, in arrival order
		var poison atomic.Value
		poison.Store("")
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ev := decode(t, r)
			data := ev["data"].(map[string]any)
			tr := data["transcript"].([]any)
			last := tr[len(tr)-1].(map[string]any)["text"].(string)
			mu.Lock()
			log = append(log, data["conversation_id"].(string)+"/"+last)
			mu.Unlock()
			if last == poison.Load().(string) {
				w.WriteHeader(http.StatusServiceUnavailable)
			}
		}))
		defer srv.Close()
		f := newFixture(t, e, srv.URL)
		ordered := f.addRoute(srv.URL, service.WebhookInput{Ordering: agenthooks.OrderingConversation, Events: []string{agenthooks.EventConversationUpdated}})
		a, b := f.conversation(ordered), f.conversation(ordered)
		poison.Store("a1")
		for _, m := range []struct{ conv, text string }{{a, "a1"}, {b, "b1"}, {a, "a2"}, {b, "b2"}, {a, "a3"}, {b, "b3"}} {
			f.message(m.conv, m.text)
		}
		// a1's retries are far enough apart for b's three events, each
		// claimed after the one before succeeded, on a loaded machine.
		startPool(t, f, delivery.Options{Workers: 16, Policy: &delivery.Policy{Schedule: []time.Duration{300 * time.Millisecond, 300 * time.Millisecond}}})
		waitFor(t, "all six events", func() bool {
			st := f.statuses(ordered.webhook.ID)
			return st[agenthooks.DeliverySucceeded] == 5 && st[agenthooks.DeliveryFailed] == 1
		})
		mu.Lock()
		defer mu.Unlock()
		pos := func(entry string) []int {
			var at []int
			for i, l := range log {
				if l == entry {
					at = append(at, i)
				}
			}
			return at
		}
		a1, a2, a3 := pos(a+"/a1"), pos(a+"/a2"), pos(a+"/a3")
		b1, b2, b3 := pos(b+"/b1"), pos(b+"/b2"), pos(b+"/b3")
		if len(a1) != 3 || len(a2) != 1 || len(a3) != 1 || len(b1) != 1 || len(b2) != 1 || len(b3) != 1 {
			t.Fatalf("arrivals %v: want a1 three times (1 + 2 retries), every other event once", log)
		}
		if a2[0] < a1[2] || a3[0] < a2[0] {
			t.Errorf("conversation a out of order: %v", log)
		}
		if b1[0] > b2[0] || b2[0] > b3[0] {
			t.Errorf("conversation b out of order: %v", log)
		}
		if b3[0] > a1[2] {
			t.Errorf("conversation b waited for a's failing event: %v", log)
		}
	})
}

// TestHeadersAndRateLimit: a webhook's custom headers go with every request,
// and deliveries above its rate limit wait rather than fail.
func TestHeadersAndRateLimit(t *testing.T) {
	t.Parallel()
	testdb.ForEachEngine(t, func(t *testing.T, e testdb.Engine) {
		t.Parallel()
		var mu sync.Mutex
		var at []time.Time
		var tenant []string
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			at = append(at, time.Now())
			tenant = append(tenant, r.Header.Get("X-Tenant"))
			mu.Unlock()
		}))
		defer srv.Close()
		f := newFixture(t, e, srv.URL)
		rate := 10.0
		r := f.addRoute(srv.URL, service.WebhookInput{Headers: map[string]string{"X-Tenant": "acme"}, RateLimit: &rate})
		const n = 25
		for range n {
			f.close(f.conversation(r))
		}
		startPool(t, f, delivery.Options{Workers: 64})
		waitFor(t, "every delivery", func() bool { return f.statuses(r.webhook.ID)[agenthooks.DeliverySucceeded] == n })
		mu.Lock()
		defer mu.Unlock()
		if len(at) != n {
			t.Fatalf("%d requests for %d deliveries: a rate-limited delivery must wait, not fail", len(at), n)
		}
		for _, v := range tenant {
			if v != "acme" {
				t.Fatalf("X-Tenant header %q, want acme on every request", v)
			}
		}
		// 10/s with a burst of 10: 25 requests cannot take less than 1.5s.
		first, last := at[0], at[0]
		for _, t := range at {
			if t.Before(first) {
				first = t
			}
			if t.After(last) {
				last = t
			}
		}
		if span := last.Sub(first); span < 1200*time.Millisecond {
			t.Errorf("%d requests in %v: faster than the rate limit of 10/s allows", n, span)
		}
	})
}

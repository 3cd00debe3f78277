package delivery_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/agenthooks/agenthooks"
	"github.com/agenthooks/agenthooks/delivery"
	"github.com/agenthooks/agenthooks/internal/testdb"
	"github.com/agenthooks/agenthooks/service"
)

// recorder is an endpoint that answers status and keeps the envelopes it got.
type recorder struct {
	srv    *httptest.Server
	mu     sync.Mutex
	events []map[string]any
}

func newRecorder(t *testing.T, status int) *recorder {
	r := &recorder{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		var e map[string]any
		if err := json.Unmarshal(body, &e); err != nil {
			t.Errorf("body is not JSON: %v", err)
		}
		r.mu.Lock()
		r.events = append(r.events, e)
		r.mu.Unlock()
		w.WriteHeader(status)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

// of returns the data of the events of type typ received so far.
func (r *recorder) of(typ string) []map[string]any {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []map[string]any
	for _, e := range r.events {
		if e["event"] == typ {
			d, _ := e["data"].(map[string]any)
			out = append(out, d)
		}
	}
	return out
}

// TestOperationalEvents: a 410, a delivery that ends failed, the failing
// sweep and a manual disabling each raise their event, to the webhooks that
// name it only, never to the webhook it is about, and no event is raised
// about the delivery of an operational event.
func TestOperationalEvents(t *testing.T) {
	t.Parallel()
	testdb.ForEachEngine(t, func(t *testing.T, e testdb.Engine) {
		t.Parallel()
		ctx := context.Background()
		gone, watcher, failing := newRecorder(t, http.StatusGone), newRecorder(t, http.StatusOK), newRecorder(t, http.StatusInternalServerError)
		f := newFixture(t, e, gone.srv.URL) // f.webhook: answers 410, subscribed to every event
		watch := f.addRoute(watcher.srv.URL, service.WebhookInput{Events: []string{agenthooks.EventWebhookDisabled, agenthooks.EventDeliveryFailed}})
		fail := f.addRoute(failing.srv.URL, service.WebhookInput{Events: []string{agenthooks.EventConversationClosed, agenthooks.EventDeliveryFailed}})
		goneDelivery := f.fire()
		f.close(f.conversation(fail))

		p := startPool(t, f, delivery.Options{Policy: &delivery.Policy{}, Notifier: f.svc}) // one attempt each
		waitFor(t, "the watcher's three events", func() bool {
			return len(watcher.of(agenthooks.EventWebhookDisabled)) == 1 && len(watcher.of(agenthooks.EventDeliveryFailed)) == 2
		})
		waitFor(t, "every delivery to end", func() bool {
			for _, r := range []string{f.webhook.ID, watch.webhook.ID, fail.webhook.ID} {
				if f.statuses(r)[agenthooks.DeliveryPending] > 0 {
					return false
				}
			}
			return true
		})
		stop, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		if err := p.Stop(stop); err != nil {
			t.Fatal(err)
		}

		d := watcher.of(agenthooks.EventWebhookDisabled)[0]
		if d["webhook_id"] != f.webhook.ID || d["reason"] != agenthooks.DisabledGone || d["name"] != f.webhook.Name || d["endpoint"] != f.webhook.Endpoint || d["disabled_at"] == "" {
			t.Errorf("webhook.disabled data %v, want about %s with reason gone", d, f.webhook.ID)
		}
		about := map[string]map[string]any{}
		for _, d := range watcher.of(agenthooks.EventDeliveryFailed) {
			about[d["webhook_id"].(string)] = d
		}
		if d := about[f.webhook.ID]; d == nil || d["delivery_id"] != goneDelivery.ID || d["event_id"] != goneDelivery.EventID ||
			d["event"] != agenthooks.EventConversationClosed || d["attempt_count"] != 1.0 || d["last_status_code"] != 410.0 || d["last_error"] != "HTTP 410" {
			t.Errorf("delivery.failed about the 410 delivery: %v", d)
		}
		if d := about[fail.webhook.ID]; d == nil || d["last_status_code"] != 500.0 {
			t.Errorf("delivery.failed about the failing webhook's delivery: %v", d)
		}
		// The failing webhook got its conversation.closed and the
		// delivery.failed about the other webhook's delivery, never one about
		// its own; that operational delivery failed too, and raised nothing.
		if got := failing.of(agenthooks.EventDeliveryFailed); len(got) != 1 || got[0]["webhook_id"] != f.webhook.ID {
			t.Errorf("the failing webhook got delivery.failed %v, want only the one about %s", got, f.webhook.ID)
		}
		events, err := f.svc.ListEvents(ctx, f.account, agenthooks.EventFilter{Type: agenthooks.EventDeliveryFailed}, agenthooks.Page{Page: 1, Size: 100})
		if err != nil {
			t.Fatal(err)
		}
		if events.Total != 2 {
			t.Errorf("%d delivery.failed events stored, want 2 (none about an operational delivery)", events.Total)
		}
		if len(gone.of(agenthooks.EventWebhookDisabled))+len(gone.of(agenthooks.EventDeliveryFailed)) != 0 {
			t.Error("the webhook subscribed to every event got an operational one")
		}

		// The failing sweep and a manual disabling raise webhook.disabled
		// too, in their own transactions (no pool runs now).
		if n, err := f.svc.DisableFailing(ctx, time.Now().Add(time.Hour)); err != nil || n != 1 {
			t.Fatalf("DisableFailing = %d, %v; want the failing webhook", n, err)
		}
		off := false
		other := f.addRoute(watcher.srv.URL, service.WebhookInput{})
		for _, id := range []string{other.webhook.ID, watch.webhook.ID} {
			if _, err := f.svc.UpdateWebhook(ctx, f.account, id, service.WebhookPatch{Enabled: &off}); err != nil {
				t.Fatal(err)
			}
		}
		reasons := map[string]string{}
		l, err := f.svc.ListEvents(ctx, f.account, agenthooks.EventFilter{Type: agenthooks.EventWebhookDisabled}, agenthooks.Page{Page: 1, Size: 100})
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range l.Items {
			var m map[string]any
			if err := json.Unmarshal(ev.Payload, &m); err != nil {
				t.Fatal(err)
			}
			data := m["data"].(map[string]any)
			reasons[data["webhook_id"].(string)] = data["reason"].(string)
		}
		want := map[string]string{f.webhook.ID: agenthooks.DisabledGone, fail.webhook.ID: agenthooks.DisabledFailing, other.webhook.ID: agenthooks.DisabledManual}
		// The watcher's own disabling raised nothing: it is the only webhook
		// that names webhook.disabled, and none is sent about itself.
		if len(reasons) != len(want) || reasons[f.webhook.ID] != want[f.webhook.ID] || reasons[fail.webhook.ID] != want[fail.webhook.ID] ||
			reasons[other.webhook.ID] != want[other.webhook.ID] {
			t.Errorf("webhook.disabled events by webhook: %v, want %v", reasons, want)
		}
	})
}

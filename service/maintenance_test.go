package service_test

import (
	"context"
	"testing"
	"time"

	"github.com/agenthooks/agenthooks"
	"github.com/agenthooks/agenthooks/internal/testdb"
	"github.com/agenthooks/agenthooks/service"
	"github.com/agenthooks/agenthooks/storetest"
)

type world struct {
	t       *testing.T
	clock   *storetest.Clock
	store   agenthooks.Store
	svc     *service.Service
	account string
	webhook *agenthooks.Webhook
	asst    string
	widget  string
}

func newWorld(t *testing.T, e testdb.Engine) *world {
	t.Helper()
	ctx := context.Background()
	clock := storetest.NewClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	store := e.Open(t, clock.Now)
	svc := service.New(store, nil, nil)
	acc, err := svc.CreateAccount(ctx, "acme")
	must(t, err)
	wh, err := svc.CreateWebhook(ctx, acc.ID, service.WebhookInput{Name: "crm", Endpoint: "https://example.com/hook"})
	must(t, err)
	as, err := svc.CreateAssistant(ctx, acc.ID, service.AssistantInput{Name: "bot", WebhookID: wh.ID})
	must(t, err)
	wg, err := svc.CreateWidget(ctx, acc.ID, service.WidgetInput{AssistantID: as.ID, Name: "chat", WidgetType: "chat"})
	must(t, err)
	return &world{t: t, clock: clock, store: store, svc: svc, account: acc.ID, webhook: wh, asst: as.ID, widget: wg.ID}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// fire closes a new conversation; it returns the event's one delivery.
func (w *world) fire() *agenthooks.Delivery {
	w.t.Helper()
	ctx := context.Background()
	c, err := w.svc.CreateConversation(ctx, w.account, service.ConversationInput{AssistantID: w.asst, WidgetID: w.widget, DeviceType: "desktop"})
	must(w.t, err)
	_, err = w.svc.CloseConversation(ctx, w.account, c.ID)
	must(w.t, err)
	l, err := w.svc.ListWebhookDeliveries(ctx, w.account, w.webhook.ID, "", agenthooks.Page{Page: 1, Size: 1})
	must(w.t, err)
	if len(l.Items) == 0 {
		return nil
	}
	return l.Items[0]
}

// finish claims every due delivery and completes it with status.
func (w *world) finish(status string) {
	w.t.Helper()
	must(w.t, w.store.Write(context.Background(), func(tx agenthooks.Tx) error {
		jobs, err := tx.ClaimDeliveries(100, tx.Now().Add(time.Minute))
		if err != nil {
			return err
		}
		for _, j := range jobs {
			code := 200
			if status != agenthooks.DeliverySucceeded {
				code = 500
			}
			o := &agenthooks.Outcome{DeliveryID: j.Delivery.ID, Lease: j.Lease, Status: status,
				Attempt: &agenthooks.Attempt{ID: service.NewID(), DeliveryID: j.Delivery.ID, AccountID: j.Delivery.AccountID, CreatedAt: tx.Now(), StatusCode: code}}
			if err := tx.CompleteDelivery(o); err != nil {
				return err
			}
		}
		return nil
	}))
}

func TestAutoDisable(t *testing.T) {
	t.Parallel()
	testdb.ForEachEngine(t, func(t *testing.T, e testdb.Engine) {
		t.Parallel()
		w := newWorld(t, e)
		ctx := context.Background()
		start := w.clock.Now()
		must(t, w.store.Write(ctx, func(tx agenthooks.Tx) error { return tx.MarkWebhooksFailing([]string{w.webhook.ID}, start) }))
		w.clock.Add(119 * time.Hour)
		n, err := w.svc.DisableFailing(ctx, w.clock.Now().Add(-120*time.Hour))
		must(t, err)
		if n != 0 {
			t.Fatalf("disabled %d webhooks after 119h of failures; the limit is 120h", n)
		}
		// A second failure does not restart the streak.
		must(t, w.store.Write(ctx, func(tx agenthooks.Tx) error { return tx.MarkWebhooksFailing([]string{w.webhook.ID}, w.clock.Now()) }))
		w.clock.Add(2 * time.Hour)
		n, err = w.svc.DisableFailing(ctx, w.clock.Now().Add(-120*time.Hour))
		must(t, err)
		got, err := w.svc.GetWebhook(ctx, w.account, w.webhook.ID)
		must(t, err)
		if n != 1 || got.Enabled || got.DisabledReason != agenthooks.DisabledFailing {
			t.Fatalf("after 121h of failures: disabled %d, webhook enabled=%v reason=%q", n, got.Enabled, got.DisabledReason)
		}
		// Disabled: new events do not reach it. Re-enabled: it receives again
		// and its streak starts over.
		w.fire()
		l, err := w.svc.ListWebhookDeliveries(ctx, w.account, w.webhook.ID, "", agenthooks.Page{Page: 1, Size: 10})
		must(t, err)
		if l.Total != 0 {
			t.Errorf("a disabled webhook got %d deliveries", l.Total)
		}
		on := true
		got, err = w.svc.UpdateWebhook(ctx, w.account, w.webhook.ID, service.WebhookPatch{Enabled: &on})
		must(t, err)
		if !got.Enabled || got.DisabledReason != "" || !got.FailingSince.IsZero() {
			t.Errorf("re-enabled webhook %+v", got)
		}
		w.fire()
		n, err = w.svc.DisableFailing(ctx, w.clock.Now().Add(-120*time.Hour))
		must(t, err)
		if n != 0 {
			t.Error("a re-enabled webhook was disabled again at once")
		}
	})
}

func TestRecover(t *testing.T) {
	t.Parallel()
	testdb.ForEachEngine(t, func(t *testing.T, e testdb.Engine) {
		t.Parallel()
		w := newWorld(t, e)
		ctx := context.Background()
		old := w.fire()
		w.finish(agenthooks.DeliveryFailed)
		w.clock.Add(time.Hour)
		since := w.clock.Now()
		recent := w.fire()
		w.finish(agenthooks.DeliveryFailed)
		ok := w.fire()
		w.finish(agenthooks.DeliverySucceeded)

		n, err := w.svc.RecoverWebhook(ctx, w.account, w.webhook.ID, since)
		must(t, err)
		if n != 1 {
			t.Fatalf("recovered %d deliveries, want 1 (the failed one since then)", n)
		}
		for id, want := range map[string]string{old.ID: agenthooks.DeliveryFailed, recent.ID: agenthooks.DeliveryPending, ok.ID: agenthooks.DeliverySucceeded} {
			d, err := w.svc.GetDelivery(ctx, w.account, id)
			must(t, err)
			if d.Status != want {
				t.Errorf("delivery %s is %s, want %s", id, d.Status, want)
			}
			if id == recent.ID && (len(d.Attempts) != 1 || d.AttemptCount != 0) {
				t.Errorf("recovered delivery: %d attempts kept, count %d; want history kept and a fresh schedule", len(d.Attempts), d.AttemptCount)
			}
		}
		if _, err := w.svc.RecoverWebhook(ctx, w.account, service.NewID(), since); agenthooks.ErrorCode(err) != agenthooks.ENOTFOUND {
			t.Errorf("recover of an unknown webhook: %v, want not found", err)
		}
	})
}

func TestRetention(t *testing.T) {
	t.Parallel()
	testdb.ForEachEngine(t, func(t *testing.T, e testdb.Engine) {
		t.Parallel()
		w := newWorld(t, e)
		ctx := context.Background()
		done := w.fire()
		w.finish(agenthooks.DeliverySucceeded)
		pending := w.fire()
		w.clock.Add(31 * 24 * time.Hour)
		fresh := w.fire()

		n, err := w.svc.DeleteExpired(ctx, w.clock.Now().Add(-720*time.Hour))
		must(t, err)
		if n != 1 {
			t.Fatalf("deleted %d events, want 1", n)
		}
		if _, err := w.svc.GetEvent(ctx, w.account, done.EventID); agenthooks.ErrorCode(err) != agenthooks.ENOTFOUND {
			t.Errorf("expired delivered event still there: %v", err)
		}
		if _, err := w.svc.GetDelivery(ctx, w.account, done.ID); agenthooks.ErrorCode(err) != agenthooks.ENOTFOUND {
			t.Errorf("its delivery is still there: %v", err)
		}
		for _, d := range []*agenthooks.Delivery{pending, fresh} {
			if _, err := w.svc.GetEvent(ctx, w.account, d.EventID); err != nil {
				t.Errorf("event %s was deleted: %v (pending deliveries and fresh events stay)", d.EventID, err)
			}
		}
	})
}

func TestTestWebhook(t *testing.T) {
	t.Parallel()
	testdb.ForEachEngine(t, func(t *testing.T, e testdb.Engine) {
		t.Parallel()
		w := newWorld(t, e)
		ctx := context.Background()
		// Subscribed to nothing but conversation.closed: the test event goes anyway.
		events := []string{agenthooks.EventConversationClosed}
		_, err := w.svc.UpdateWebhook(ctx, w.account, w.webhook.ID, service.WebhookPatch{Events: &events})
		must(t, err)
		d, err := w.svc.TestWebhook(ctx, w.account, w.webhook.ID)
		must(t, err)
		ev, err := w.svc.GetEvent(ctx, w.account, d.EventID)
		must(t, err)
		if ev.Type != agenthooks.EventWebhookTest || len(ev.Deliveries) != 1 {
			t.Errorf("test event %s with %d deliveries", ev.Type, len(ev.Deliveries))
		}
		off := false
		_, err = w.svc.UpdateWebhook(ctx, w.account, w.webhook.ID, service.WebhookPatch{Enabled: &off})
		must(t, err)
		if _, err := w.svc.TestWebhook(ctx, w.account, w.webhook.ID); agenthooks.ErrorCode(err) != agenthooks.ECONFLICT {
			t.Errorf("test of a disabled webhook: %v, want conflict", err)
		}
	})
}

package httpapi_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/agenthooks/agenthooks"
	"github.com/agenthooks/agenthooks/service"
)

// failAttempt records a failed attempt of the delivery (status code, or an
// error without a response) and leaves it pending, as a worker would.
func (b *testBundle) failAttempt(deliveryID string, code int, errText string) {
	b.tb.Helper()
	err := b.store.Write(context.Background(), func(tx agenthooks.Tx) error {
		jobs, err := tx.ClaimDeliveries(10, tx.Now().Add(time.Minute))
		if err != nil {
			return err
		}
		for _, j := range jobs {
			if j.Delivery.ID != deliveryID {
				continue
			}
			a := &agenthooks.Attempt{ID: service.NewID(), DeliveryID: deliveryID, AccountID: j.Delivery.AccountID, CreatedAt: tx.Now(), StatusCode: code, Error: errText}
			return tx.CompleteDelivery(&agenthooks.Outcome{DeliveryID: deliveryID, Lease: j.Lease, Attempt: a,
				Status: agenthooks.DeliveryPending, NextAttemptAt: tx.Now().Add(time.Hour)})
		}
		b.tb.Fatalf("delivery %s was not claimable", deliveryID)
		return nil
	})
	if err != nil {
		b.tb.Fatalf("record attempt: %v", err)
	}
}

func TestListDeliveries(t *testing.T) {
	t.Parallel()
	b := setup(t)
	wa := b.world(b.keyA)
	wb := b.world(b.keyB)
	other := str(t, b.webhook(b.keyA, nil), "id") // no deliveries
	b.failAttempt(wa.delivery, 401, "")

	list := b.expect(http.StatusOK, b.keyA, "GET", "/api/v1/delivery", nil).items(t)
	if len(list) != 1 || str(t, list[0], "id") != wa.delivery {
		t.Fatalf("GET /delivery = %v, want the world's one delivery", list)
	}
	d := list[0]
	hasKeys(t, d, "id", "event_id", "webhook_id", "status", "attempt_count", "next_attempt_at", "last_status_code", "last_error", "last_attempt_at", "created_at")
	if d["last_status_code"] != float64(401) || d["last_error"] != nil || d["status"] != agenthooks.DeliveryPending {
		t.Errorf("delivery after a 401 = status %v, last_status_code %v, last_error %v", d["status"], d["last_status_code"], d["last_error"])
	}

	tests := []struct {
		name  string
		query string
		want  int // deliveries listed
	}{
		{"ByWebhook", "?webhook_id=" + wa.webhook, 1},
		{"ByOtherWebhookOfAccount", "?webhook_id=" + other, 0},
		{"ByEvent", "?event_id=" + wa.event, 1},
		{"ByStatus", "?status=pending", 1},
		{"ByStatusNone", "?status=succeeded", 0},
		{"AllThree", "?status=pending&webhook_id=" + wa.webhook + "&event_id=" + wa.event, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := b.expect(http.StatusOK, b.keyA, "GET", "/api/v1/delivery"+tt.query, nil).items(t); len(got) != tt.want {
				t.Errorf("GET /delivery%s = %d items, want %d", tt.query, len(got), tt.want)
			}
		})
	}

	bad := []struct {
		name, query, loc, typ string
	}{
		{"UnknownStatus", "?status=retrying", "status", "enum"},
		{"MalformedWebhook", "?webhook_id=nope", "webhook_id", "uuid_parsing"},
		{"OtherAccountsWebhook", "?webhook_id=" + wb.webhook, "webhook_id", "value_error"},
		{"OtherAccountsEvent", "?event_id=" + wb.event, "event_id", "value_error"},
		{"UnknownEvent", "?event_id=" + service.NewID(), "event_id", "value_error"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			checkLoc(t, b.expect(http.StatusUnprocessableEntity, b.keyA, "GET", "/api/v1/delivery"+tt.query, nil), tt.typ, "query", tt.loc)
		})
	}
}

func TestReplayEvent(t *testing.T) {
	t.Parallel()
	b := setup(t)
	wa := b.world(b.keyA)
	wb := b.world(b.keyB)

	r := b.expect(http.StatusAccepted, b.keyA, "POST", "/api/v1/event/"+wa.event+"/replay", nil)
	if n := r.num(t, "queued"); n != 1 {
		t.Errorf("replay queued %d, want 1", n)
	}
	ds := b.expect(http.StatusOK, b.keyA, "GET", "/api/v1/delivery?event_id="+wa.event, nil).items(t)
	if len(ds) != 2 || str(t, ds[1], "id") != wa.delivery || str(t, ds[0], "webhook_id") != wa.webhook || str(t, ds[0], "status") != agenthooks.DeliveryPending {
		t.Fatalf("deliveries after replay = %v, want a new pending one first, then the original", ds)
	}

	// A disabled webhook gets no replay; another account's event is a 404.
	b.expect(http.StatusOK, b.keyA, "PATCH", "/api/v1/outbound_webhook/"+wa.webhook, map[string]any{"enabled": false})
	if n := b.expect(http.StatusAccepted, b.keyA, "POST", "/api/v1/event/"+wa.event+"/replay", nil).num(t, "queued"); n != 0 {
		t.Errorf("replay to a disabled webhook queued %d, want 0", n)
	}
	b.expect(http.StatusNotFound, b.keyA, "POST", "/api/v1/event/"+wb.event+"/replay", nil)
	b.expect(http.StatusNotFound, b.keyA, "POST", "/api/v1/event/not-an-id/replay", nil)
}

// A delivery a transformation canceled is listed under ?status=canceled, on
// the account's list and on its webhook's, and under no other status.
func TestListCanceledDeliveries(t *testing.T) {
	t.Parallel()
	b := setup(t)
	wa := b.world(b.keyA)
	err := b.store.Write(context.Background(), func(tx agenthooks.Tx) error {
		jobs, err := tx.ClaimDeliveries(10, tx.Now().Add(time.Minute))
		if err != nil {
			return err
		}
		if len(jobs) != 1 || jobs[0].Delivery.ID != wa.delivery {
			b.tb.Fatalf("claimed %d jobs, want the world's delivery", len(jobs))
		}
		return tx.CompleteDelivery(&agenthooks.Outcome{DeliveryID: wa.delivery, Lease: jobs[0].Lease, Status: agenthooks.DeliveryCanceled})
	})
	if err != nil {
		t.Fatalf("cancel: %v", err)
	}
	for _, path := range []string{"/api/v1/delivery", "/api/v1/outbound_webhook/" + wa.webhook + "/deliveries"} {
		for status, want := range map[string]int{"canceled": 1, "pending": 0, "failed": 0, "succeeded": 0} {
			got := b.expect(http.StatusOK, b.keyA, "GET", path+"?status="+status, nil).items(t)
			if len(got) != want {
				t.Errorf("GET %s?status=%s = %d items, want %d", path, status, len(got), want)
			}
			if want == 1 && got[0]["status"] != agenthooks.DeliveryCanceled {
				t.Errorf("GET %s?status=%s: status %v", path, status, got[0]["status"])
			}
		}
	}
}

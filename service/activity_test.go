package service_test

import (
	"context"
	"testing"
	"time"

	"github.com/agenthooks/agenthooks"
	"github.com/agenthooks/agenthooks/internal/testdb"
	"github.com/agenthooks/agenthooks/service"
)

func TestOverview(t *testing.T) {
	t.Parallel()
	testdb.ForEachEngine(t, func(t *testing.T, e testdb.Engine) {
		t.Parallel()
		ctx := context.Background()
		w := newWorld(t, e)
		// Three deliveries: one attempt succeeds now, one fails a minute
		// later, one stays pending (due).
		for range 3 {
			w.fire()
		}
		var jobs []*agenthooks.Job
		must(t, w.store.Write(ctx, func(tx agenthooks.Tx) error {
			var err error
			jobs, err = tx.ClaimDeliveries(2, w.clock.Now().Add(time.Minute))
			return err
		}))
		if len(jobs) != 2 {
			t.Fatalf("claimed %d", len(jobs))
		}
		start := w.clock.Now()
		for i, j := range jobs {
			at := start.Add(time.Duration(i) * time.Minute)
			code, status := 200, agenthooks.DeliverySucceeded
			if i == 1 {
				code, status = 503, agenthooks.DeliveryFailed
			}
			o := &agenthooks.Outcome{DeliveryID: j.Delivery.ID, Lease: j.Lease, Status: status,
				Attempt: &agenthooks.Attempt{ID: service.NewID(), DeliveryID: j.Delivery.ID, AccountID: w.account, CreatedAt: at, StatusCode: code, DurationMS: 5}}
			must(t, w.store.Write(ctx, func(tx agenthooks.Tx) error { return tx.CompleteDelivery(o) }))
		}
		w.clock.Add(5 * time.Minute)
		o, err := w.svc.GetOverview(ctx, w.account, 24*time.Hour, time.Minute)
		must(t, err)
		if len(o.Series) != 24*60 {
			t.Fatalf("series has %d buckets, want 1440 (empty ones included)", len(o.Series))
		}
		if o.Attempts != 2 || o.Failed != 1 {
			t.Errorf("attempts %d, failed %d, want 2 and 1", o.Attempts, o.Failed)
		}
		last := o.Series[len(o.Series)-1]
		if !last.Start.Equal(w.clock.Now().Truncate(time.Minute)) {
			t.Errorf("last bucket starts %v, want the current minute %v", last.Start, w.clock.Now().Truncate(time.Minute))
		}
		var seen int
		for _, b := range o.Series {
			seen += b.Attempts
		}
		if seen != 2 {
			t.Errorf("the series counts %d attempts, want 2", seen)
		}
		if o.Backlog.Pending != 1 || o.Backlog.Due != 1 || o.Backlog.OldestDue.IsZero() {
			t.Errorf("backlog %+v, want one pending delivery due", o.Backlog)
		}
		st := o.Stats[w.webhook.ID]
		if st.Attempts != 2 || st.Succeeded != 1 || st.LastStatus != 503 {
			t.Errorf("webhook stats %+v", st)
		}
		if len(o.Webhooks) != 1 {
			t.Errorf("webhooks %d, want 1", len(o.Webhooks))
		}
		// Another account's overview is empty.
		other, err := w.svc.CreateAccount(ctx, "other")
		must(t, err)
		oo, err := w.svc.GetOverview(ctx, other.ID, 24*time.Hour, time.Minute)
		must(t, err)
		if oo.Attempts != 0 || oo.Backlog.Pending != 0 || len(oo.Stats) != 0 || len(oo.Webhooks) != 0 {
			t.Errorf("another account's overview: %+v", oo)
		}
	})
}

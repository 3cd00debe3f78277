package storetest

import (
	"testing"
	"time"

	"github.com/agenthooks/agenthooks"
)

// exerciseLeases covers what the delivery workers rely on besides claiming
// and completing one delivery: lease renewal, relaxed writes, batched
// completion and the routing of operational events.
func exerciseLeases(t *testing.T, setup setupFunc) {
	t.Run("RenewLeases", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		w := b.webhook(t, b.acct)
		held, superseded, ended := b.pending(t, w, b.clock.Now()), b.pending(t, w, b.clock.Now()), b.pending(t, w, b.clock.Now())
		jobs := b.claim(t, 10, b.clock.Now().Add(10*time.Second))
		if len(jobs) != 3 {
			t.Fatalf("claimed %d, want 3", len(jobs))
		}
		claims := make([]agenthooks.Claim, 0, len(jobs)+1)
		for _, j := range jobs {
			claims = append(claims, agenthooks.Claim{DeliveryID: j.Delivery.ID, Lease: j.Lease})
		}
		claims = append(claims, agenthooks.Claim{DeliveryID: "no-such-delivery", Lease: 1})
		// One claim superseded by a retry, one ended by its outcome.
		b.write(t, func(tx agenthooks.Tx) error {
			return tx.RetryDelivery(b.acct.ID, superseded.ID, b.clock.Now().Add(time.Hour))
		})
		b.complete(t, &agenthooks.Outcome{DeliveryID: ended.ID, Lease: findJob(jobs, ended.ID).Lease, Status: agenthooks.DeliverySucceeded,
			Attempt: b.newAttempt(ended, 200, "")})

		b.clock.Add(5 * time.Second)
		until := b.clock.Now().Add(10 * time.Second)
		var n int
		b.write(t, func(tx agenthooks.Tx) error {
			var err error
			n, err = tx.RenewLeases(claims, until)
			return err
		})
		if n != 1 {
			t.Errorf("RenewLeases renewed %d, want 1 (only the claim that still holds)", n)
		}
		b.read(t, func(tx agenthooks.Tx) error {
			for _, tt := range []struct {
				d    *agenthooks.Delivery
				next time.Time
			}{{held, until}, {superseded, b.clock.Now().Add(-5 * time.Second).Add(time.Hour)}, {ended, time.Time{}}} {
				d, err := tx.FindDelivery(b.acct.ID, tt.d.ID)
				mustNil(t, err)
				if !d.NextAttemptAt.Equal(tt.next) {
					t.Errorf("delivery %s: next attempt %v, want %v", tt.d.ID, d.NextAttemptAt, tt.next)
				}
			}
			return nil
		})
		// The renewed lease holds past the first one's end, then runs out.
		b.clock.Add(6 * time.Second)
		if again := b.claim(t, 10, b.clock.Now().Add(time.Minute)); len(again) != 0 {
			t.Fatalf("claimed %v under a renewed lease", jobIDs(again))
		}
		b.clock.Add(5 * time.Second)
		again := b.claim(t, 10, b.clock.Now().Add(time.Minute))
		checkEqual(t, "claim after the renewed lease ran out", jobIDs(again), []string{held.ID})
		// The first claim is stale now: renewing it does nothing.
		b.write(t, func(tx agenthooks.Tx) error {
			var err error
			n, err = tx.RenewLeases(claims[:1], b.clock.Now().Add(time.Hour))
			return err
		})
		if n != 0 {
			t.Errorf("a stale claim was renewed")
		}
	})

	t.Run("RenewManyLeases", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		w := b.webhook(t, b.acct)
		const n = 300 // more than one statement's chunk
		for range n {
			b.pending(t, w, b.clock.Now())
		}
		jobs := b.claim(t, n, b.clock.Now().Add(time.Second))
		claims := make([]agenthooks.Claim, len(jobs))
		for i, j := range jobs {
			claims[i] = agenthooks.Claim{DeliveryID: j.Delivery.ID, Lease: j.Lease}
		}
		var got int
		b.write(t, func(tx agenthooks.Tx) error {
			var err error
			got, err = tx.RenewLeases(claims, b.clock.Now().Add(time.Minute))
			return err
		})
		if len(jobs) != n || got != n {
			t.Errorf("claimed %d and renewed %d, want %d each", len(jobs), got, n)
		}
	})

	t.Run("WriteRelaxed", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		w := b.webhook(t, b.acct)
		d := b.pending(t, w, b.clock.Now())
		var jobs []*agenthooks.Job
		if err := b.store.WriteRelaxed(t.Context(), func(tx agenthooks.Tx) error {
			var err error
			jobs, err = tx.ClaimDeliveries(10, tx.Now().Add(time.Minute))
			return err
		}); err != nil {
			t.Fatalf("WriteRelaxed: %v", err)
		}
		checkEqual(t, "claimed in a relaxed write", jobIDs(jobs), []string{d.ID})
		// A failing fn rolls back its own writes, as in Write.
		err := b.store.WriteRelaxed(t.Context(), func(tx agenthooks.Tx) error {
			if err := tx.CompleteDelivery(&agenthooks.Outcome{DeliveryID: d.ID, Lease: jobs[0].Lease, Status: agenthooks.DeliverySucceeded}); err != nil {
				return err
			}
			return agenthooks.Errorf(agenthooks.ECONFLICT, "rolled back")
		})
		if agenthooks.ErrorCode(err) != agenthooks.ECONFLICT {
			t.Fatalf("WriteRelaxed returned %v, want fn's error", err)
		}
		b.read(t, func(tx agenthooks.Tx) error {
			got, err := tx.FindDelivery(b.acct.ID, d.ID)
			mustNil(t, err)
			if got.Status != agenthooks.DeliveryPending {
				t.Errorf("status %s after a rolled-back relaxed write, want pending", got.Status)
			}
			return nil
		})
		_ = b.store.Capabilities() // each engine says what it is; nothing to compare across engines
	})

	t.Run("CompleteDeliveries", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		w := b.webhook(t, b.acct)
		ok, retry := b.pending(t, w, b.clock.Now()), b.pending(t, w, b.clock.Now())
		jobs := b.claim(t, 10, b.clock.Now().Add(time.Minute))
		next := b.clock.Now().Add(time.Hour)
		b.write(t, func(tx agenthooks.Tx) error {
			return tx.CompleteDeliveries([]*agenthooks.Outcome{
				{DeliveryID: ok.ID, Lease: findJob(jobs, ok.ID).Lease, Status: agenthooks.DeliverySucceeded, Attempt: b.newAttempt(ok, 204, "")},
				{DeliveryID: retry.ID, Lease: findJob(jobs, retry.ID).Lease, Status: agenthooks.DeliveryPending, NextAttemptAt: next, Attempt: b.newAttempt(retry, 500, "")},
				{DeliveryID: retry.ID, Lease: findJob(jobs, retry.ID).Lease, Status: agenthooks.DeliverySucceeded}, // stale now: ignored
			})
		})
		b.read(t, func(tx agenthooks.Tx) error {
			d, err := tx.FindDelivery(b.acct.ID, ok.ID)
			mustNil(t, err)
			if d.Status != agenthooks.DeliverySucceeded || d.AttemptCount != 1 {
				t.Errorf("succeeded delivery: %s with %d attempts", d.Status, d.AttemptCount)
			}
			d, err = tx.FindDelivery(b.acct.ID, retry.ID)
			mustNil(t, err)
			if d.Status != agenthooks.DeliveryPending || d.AttemptCount != 1 || !d.NextAttemptAt.Equal(next) || d.LastError != "HTTP 500" {
				t.Errorf("retried delivery: %s, %d attempts, next %v, last error %q", d.Status, d.AttemptCount, d.NextAttemptAt, d.LastError)
			}
			return nil
		})
	})

	t.Run("FindWebhooksNamingEvent", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		all := b.newWebhook(b.acct)
		all.Events = nil // every event, but names none
		named := b.newWebhook(b.acct)
		named.Events = []string{agenthooks.EventConversationClosed, agenthooks.EventWebhookDisabled}
		other := b.newWebhook(b.acct)
		other.Events = []string{agenthooks.EventDeliveryFailed}
		off := b.newWebhook(b.acct)
		off.Events, off.Enabled, off.DisabledReason = []string{agenthooks.EventWebhookDisabled}, false, agenthooks.DisabledManual
		elsewhere := b.newWebhook(b.other)
		elsewhere.Events = []string{agenthooks.EventWebhookDisabled}
		for _, w := range []*agenthooks.Webhook{all, named, other, off, elsewhere} {
			b.write(t, func(tx agenthooks.Tx) error { return tx.CreateWebhook(w) })
		}
		b.read(t, func(tx agenthooks.Tx) error {
			ws, err := tx.FindWebhooksNamingEvent(b.acct.ID, agenthooks.EventWebhookDisabled)
			mustNil(t, err)
			checkEqual(t, "webhooks naming webhook.disabled", idsOf(ws, func(w *agenthooks.Webhook) string { return w.ID }), []string{named.ID})
			ws, err = tx.FindWebhooksNamingEvent(b.acct.ID, agenthooks.EventDeliveryFailed)
			mustNil(t, err)
			checkEqual(t, "webhooks naming delivery.failed", idsOf(ws, func(w *agenthooks.Webhook) string { return w.ID }), []string{other.ID})
			return nil
		})
	})
}

package storetest

import (
	"testing"
	"time"

	"github.com/agenthooks/agenthooks"
)

// Sweeps: failing webhooks, requeueing and retention.

func exerciseSweeps(t *testing.T, setup setupFunc) {
	t.Run("MarkAndClearWebhooksFailing", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		notFailing := b.newWebhook(b.acct)
		notFailing.FailingSince = time.Time{}
		b.write(t, func(tx agenthooks.Tx) error { return tx.CreateWebhook(notFailing) })
		failing := b.webhook(t, b.acct) // failing since base-1h
		untouched := b.newWebhook(b.acct)
		untouched.FailingSince = time.Time{}
		b.write(t, func(tx agenthooks.Tx) error { return tx.CreateWebhook(untouched) })

		at := base.Add(time.Minute)
		b.write(t, func(tx agenthooks.Tx) error {
			if err := tx.MarkWebhooksFailing(nil, at); err != nil {
				return err
			}
			return tx.MarkWebhooksFailing([]string{notFailing.ID, failing.ID, NewID()}, at)
		})
		since := func(w *agenthooks.Webhook) time.Time {
			t.Helper()
			var got *agenthooks.Webhook
			b.read(t, func(tx agenthooks.Tx) error {
				var err error
				got, err = tx.FindWebhook(w.AccountID, w.ID)
				return err
			})
			return got.FailingSince
		}
		if got := since(notFailing); !got.Equal(at) {
			t.Errorf("newly failing webhook: failing_since %v, want %v", got, at)
		}
		if got, want := since(failing), stored(failing).FailingSince; !got.Equal(want) {
			t.Errorf("already failing webhook: failing_since %v, want its earlier %v kept", got, want)
		}
		if got := since(untouched); !got.IsZero() {
			t.Errorf("webhook not named: failing_since %v, want zero", got)
		}
		b.write(t, func(tx agenthooks.Tx) error {
			if err := tx.ClearWebhooksFailing(nil); err != nil {
				return err
			}
			return tx.ClearWebhooksFailing([]string{notFailing.ID, failing.ID})
		})
		for _, w := range []*agenthooks.Webhook{notFailing, failing} {
			if got := since(w); !got.IsZero() {
				t.Errorf("after ClearWebhooksFailing: failing_since %v, want zero", got)
			}
		}
	})

	t.Run("DisableFailingWebhooks", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		cutoff := base.Add(-time.Hour)
		mk := func(a *agenthooks.Account, failingSince time.Time, enabled bool) *agenthooks.Webhook {
			w := b.newWebhook(a)
			w.FailingSince, w.Enabled = failingSince, enabled
			if !enabled {
				w.DisabledReason = agenthooks.DisabledManual
			}
			b.write(t, func(tx agenthooks.Tx) error { return tx.CreateWebhook(w) })
			return w
		}
		long := mk(b.acct, cutoff.Add(-time.Microsecond), true)
		otherAcct := mk(b.other, cutoff.Add(-time.Hour), true) // any account
		atCutoff := mk(b.acct, cutoff, true)
		healthy := mk(b.acct, time.Time{}, true)
		alreadyOff := mk(b.acct, cutoff.Add(-time.Hour), false)

		now := b.clock.Add(time.Second)
		var disabled []*agenthooks.Webhook
		b.write(t, func(tx agenthooks.Tx) error {
			var err error
			disabled, err = tx.DisableFailingWebhooks(cutoff)
			return err
		})
		checkEqual(t, "disabled webhooks", sortedIDs(idsOf(disabled, webhookID)), sortedIDs([]string{long.ID, otherAcct.ID}))
		b.read(t, func(tx agenthooks.Tx) error {
			for _, w := range []*agenthooks.Webhook{long, otherAcct} {
				got, err := tx.FindWebhook(w.AccountID, w.ID)
				mustNil(t, err)
				want := stored(w)
				want.Enabled, want.DisabledReason, want.UpdatedAt = false, agenthooks.DisabledFailing, now
				checkEqual(t, "webhook disabled for failing", got, want)
			}
			for _, w := range []*agenthooks.Webhook{atCutoff, healthy, alreadyOff} {
				got, err := tx.FindWebhook(w.AccountID, w.ID)
				mustNil(t, err)
				checkEqual(t, "webhook left alone", got, stored(w))
			}
			return nil
		})
	})

	t.Run("RequeueFailedDeliveries", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		w, w2 := b.webhook(t, b.acct), b.webhook(t, b.acct)
		since := base.Add(-time.Hour)
		mk := func(w *agenthooks.Webhook, eventCreated time.Time, status string) *agenthooks.Delivery {
			e := b.newEvent(b.acct, agenthooks.EventConversationClosed)
			e.CreatedAt = eventCreated
			d := b.newDelivery(w, e, time.Time{})
			d.Status, d.AttemptCount, d.LastError = status, 3, "HTTP 500"
			b.write(t, func(tx agenthooks.Tx) error {
				if err := tx.CreateEvent(e); err != nil {
					return err
				}
				return tx.CreateDelivery(d)
			})
			return d
		}
		recent := mk(w, since, agenthooks.DeliveryFailed)
		recent2 := mk(w, base, agenthooks.DeliveryFailed)
		old := mk(w, since.Add(-time.Microsecond), agenthooks.DeliveryFailed)
		succeeded := mk(w, base, agenthooks.DeliverySucceeded)
		otherWebhook := mk(w2, base, agenthooks.DeliveryFailed)

		now := b.clock.Add(time.Minute)
		drain(b.store.Wake())
		var n int
		b.write(t, func(tx agenthooks.Tx) error {
			var err error
			n, err = tx.RequeueFailedDeliveries(b.acct.ID, w.ID, since)
			return err
		})
		if n != 2 {
			t.Errorf("RequeueFailedDeliveries = %d, want 2", n)
		}
		select {
		case <-b.store.Wake():
		case <-time.After(10 * time.Second):
			t.Error("Wake did not receive after requeueing deliveries")
		}
		b.read(t, func(tx agenthooks.Tx) error {
			for _, d := range []*agenthooks.Delivery{recent, recent2} {
				got, err := tx.FindDelivery(b.acct.ID, d.ID)
				mustNil(t, err)
				if got.Status != agenthooks.DeliveryPending || !got.NextAttemptAt.Equal(now) || got.AttemptCount != 0 || !got.UpdatedAt.Equal(now) {
					t.Errorf("requeued delivery = %+v; want pending, due now, a fresh schedule (attempt_count 0)", got)
				}
			}
			for _, d := range []*agenthooks.Delivery{old, succeeded, otherWebhook} {
				got, err := tx.FindDelivery(b.acct.ID, d.ID)
				mustNil(t, err)
				checkEqual(t, "delivery not requeued", got, stored(d))
			}
			return nil
		})
		// Another account cannot requeue ours.
		b.write(t, func(tx agenthooks.Tx) error {
			n, err := tx.RequeueFailedDeliveries(b.other.ID, w2.ID, time.Time{})
			if n != 0 {
				t.Errorf("RequeueFailedDeliveries as another account = %d, want 0", n)
			}
			return err
		})
		checkEqual(t, "claim after requeue", sortedIDs(jobIDs(b.claim(t, 10, now.Add(time.Minute)))), sortedIDs([]string{recent.ID, recent2.ID}))
	})

	t.Run("DeleteExpired", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		w := b.webhook(t, b.acct)
		before := base.Add(-24 * time.Hour)
		// mk stores an event created at created with one delivery of status
		// and an attempt made at attemptAt.
		mk := func(created time.Time, status string, attemptAt time.Time) (*agenthooks.Event, *agenthooks.Delivery, *agenthooks.Attempt) {
			e := b.newEvent(b.acct, agenthooks.EventConversationClosed)
			e.CreatedAt = created
			d := b.newDelivery(w, e, base.Add(time.Hour))
			d.Status = status
			a := b.newAttempt(d, 500, "")
			a.CreatedAt = attemptAt
			b.write(t, func(tx agenthooks.Tx) error {
				if err := tx.CreateEvent(e); err != nil {
					return err
				}
				return tx.CreateDelivery(d)
			})
			return e, d, a
		}
		// Attempts can only be stored through a completed claim: store them by claiming each delivery.
		addAttempt := func(d *agenthooks.Delivery, a *agenthooks.Attempt, status string) {
			b.write(t, func(tx agenthooks.Tx) error { return tx.RetryDelivery(d.AccountID, d.ID, b.clock.Now()) })
			jobs := b.claim(t, 1, b.clock.Now().Add(time.Minute))
			if len(jobs) != 1 || jobs[0].Delivery.ID != d.ID {
				t.Fatalf("claim for an attempt = %v, want %s", jobIDs(jobs), d.ID)
			}
			b.complete(t, &agenthooks.Outcome{DeliveryID: d.ID, Lease: jobs[0].Lease, Attempt: a, Status: status, NextAttemptAt: base.Add(time.Hour)})
		}
		var expired []*agenthooks.Event
		var expiredD []*agenthooks.Delivery
		for i := range 3 {
			e, d, a := mk(before.Add(-time.Duration(3-i)*time.Hour), agenthooks.DeliveryFailed, before.Add(-time.Hour))
			addAttempt(d, a, agenthooks.DeliveryFailed)
			expired, expiredD = append(expired, e), append(expiredD, d)
		}
		stillPendingE, stillPendingD, oldA := mk(before.Add(-5*time.Hour), agenthooks.DeliveryPending, before.Add(-time.Hour))
		addAttempt(stillPendingD, oldA, agenthooks.DeliveryPending)
		youngE, youngD, youngA := mk(before, agenthooks.DeliverySucceeded, before)
		addAttempt(youngD, youngA, agenthooks.DeliverySucceeded)

		// Idempotency keys older than the TTL go too.
		b.write(t, func(tx agenthooks.Tx) error {
			_, err := tx.ClaimIdempotencyKey(b.acct.ID, "old-key", "fp", time.Time{}, time.Time{})
			return err
		})
		b.clock.Add(agenthooks.IdempotencyTTL + time.Second)
		b.write(t, func(tx agenthooks.Tx) error {
			_, err := tx.ClaimIdempotencyKey(b.acct.ID, "young-key", "fp", time.Time{}, time.Time{})
			return err
		})

		var n1, n2 int
		b.write(t, func(tx agenthooks.Tx) error {
			var err error
			n1, err = tx.DeleteExpired(before, 2)
			return err
		})
		b.write(t, func(tx agenthooks.Tx) error {
			var err error
			n2, err = tx.DeleteExpired(before, 2)
			return err
		})
		if n1 != 2 || n2 != 1 {
			t.Errorf("DeleteExpired with limit 2, twice = %d, %d; want 2, 1", n1, n2)
		}
		b.read(t, func(tx agenthooks.Tx) error {
			for i, e := range expired {
				_, err := tx.FindEvent(b.acct.ID, e.ID)
				mustCode(t, err, agenthooks.ENOTFOUND, "expired event")
				_, err = tx.FindDelivery(b.acct.ID, expiredD[i].ID)
				mustCode(t, err, agenthooks.ENOTFOUND, "expired event's delivery")
				as, err := tx.ListAttempts(expiredD[i].ID)
				mustNil(t, err)
				if len(as) != 0 {
					t.Errorf("expired delivery keeps %d attempts", len(as))
				}
			}
			for _, e := range []*agenthooks.Event{stillPendingE, youngE} {
				_, err := tx.FindEvent(b.acct.ID, e.ID)
				mustNil(t, err)
			}
			_, err := tx.FindDelivery(b.acct.ID, stillPendingD.ID)
			mustNil(t, err)
			as, err := tx.ListAttempts(stillPendingD.ID)
			mustNil(t, err)
			if len(as) != 0 {
				t.Errorf("a live delivery's attempt older than the cutoff was kept")
			}
			as, err = tx.ListAttempts(youngD.ID)
			mustNil(t, err)
			if len(as) != 1 {
				t.Errorf("young delivery has %d attempts, want 1", len(as))
			}
			return nil
		})
		b.write(t, func(tx agenthooks.Tx) error {
			rec, err := tx.ClaimIdempotencyKey(b.acct.ID, "old-key", "fp", time.Time{}, time.Time{})
			if rec != nil {
				t.Error("idempotency key older than the TTL survived DeleteExpired")
			}
			if err != nil {
				return err
			}
			rec, err = tx.ClaimIdempotencyKey(b.acct.ID, "young-key", "fp", time.Time{}, time.Time{})
			if rec == nil {
				t.Error("young idempotency key was deleted")
			}
			return err
		})
	})
}

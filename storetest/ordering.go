package storetest

import (
	"testing"
	"time"

	"github.com/agenthooks/agenthooks"
)

// Per-conversation ordering: on a webhook with ordering "conversation" a
// delivery waits while an earlier delivery of its conversation is pending
// (in flight or waiting for a retry); an ended one (succeeded or failed)
// releases the next.

func exerciseConversationOrdering(t *testing.T, setup setupFunc) {
	// ordered stores deliveries d[0..n) to a webhook with the given ordering:
	// convs[i] is delivery i's conversation ("" for none), all due now, in id order.
	ordered := func(t *testing.T, b *testBundle, ordering string, convs ...string) []*agenthooks.Delivery {
		t.Helper()
		w := b.newWebhook(b.acct)
		w.Ordering = ordering
		b.write(t, func(tx agenthooks.Tx) error { return tx.CreateWebhook(w) })
		ds := make([]*agenthooks.Delivery, len(convs))
		for i, c := range convs {
			e := b.newEvent(b.acct, agenthooks.EventConversationUpdated)
			e.ConversationID = c
			ds[i] = b.newDelivery(w, e, b.clock.Now())
			b.write(t, func(tx agenthooks.Tx) error {
				if err := tx.CreateEvent(e); err != nil {
					return err
				}
				return tx.CreateDelivery(ds[i])
			})
		}
		return ds
	}
	lease := time.Minute

	t.Run("HeldUntilEarlierEnds", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		c1, c2 := NewID(), NewID()
		d := ordered(t, b, agenthooks.OrderingConversation, c1, c1, c2, "", "", c1)
		jobs := b.claim(t, 10, b.clock.Now().Add(lease))
		checkEqual(t, "first claim: the head of each conversation and those without one", sortedIDs(jobIDs(jobs)), sortedIDs([]string{d[0].ID, d[2].ID, d[3].ID, d[4].ID}))
		if more := b.claim(t, 10, b.clock.Now().Add(lease)); len(more) != 0 {
			t.Fatalf("claimed %v while the head of the conversation is in flight", jobIDs(more))
		}
		head := findJob(jobs, d[0].ID)
		for _, j := range jobs {
			if j != head {
				b.complete(t, &agenthooks.Outcome{DeliveryID: j.Delivery.ID, Lease: j.Lease, Attempt: b.newAttempt(&j.Delivery, 200, ""), Status: agenthooks.DeliverySucceeded})
			}
		}

		// The head fails an attempt and waits for its retry: the rest of its
		// conversation still waits, even though they are due.
		b.complete(t, &agenthooks.Outcome{DeliveryID: d[0].ID, Lease: head.Lease, Attempt: b.newAttempt(d[0], 500, ""), Status: agenthooks.DeliveryPending, NextAttemptAt: b.clock.Now().Add(time.Minute)})
		if more := b.claim(t, 10, b.clock.Now().Add(lease)); len(more) != 0 {
			t.Fatalf("claimed %v while the head of the conversation waits for its retry", jobIDs(more))
		}
		b.clock.Add(time.Minute)
		jobs = b.claim(t, 10, b.clock.Now().Add(lease))
		checkEqual(t, "claim at the retry time: the head again", jobIDs(jobs), []string{d[0].ID})

		// The head ends failed: the next one of the conversation is released, not the one after.
		b.complete(t, &agenthooks.Outcome{DeliveryID: d[0].ID, Lease: jobs[0].Lease, Attempt: b.newAttempt(d[0], 500, ""), Status: agenthooks.DeliveryFailed})
		jobs = b.claim(t, 10, b.clock.Now().Add(lease))
		checkEqual(t, "claim after the head failed", jobIDs(jobs), []string{d[1].ID})

		// It succeeds: the last one is released.
		b.complete(t, &agenthooks.Outcome{DeliveryID: d[1].ID, Lease: jobs[0].Lease, Attempt: b.newAttempt(d[1], 200, ""), Status: agenthooks.DeliverySucceeded})
		jobs = b.claim(t, 10, b.clock.Now().Add(lease))
		checkEqual(t, "claim after the next succeeded", jobIDs(jobs), []string{d[5].ID})
	})

	t.Run("DisabledHeadHoldsNothingElse", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		c := NewID()
		held := ordered(t, b, agenthooks.OrderingConversation, c, c)
		other := ordered(t, b, agenthooks.OrderingConversation, c) // same conversation, another webhook
		jobs := b.claim(t, 10, b.clock.Now().Add(lease))
		checkEqual(t, "claim: one head per webhook", sortedIDs(jobIDs(jobs)), sortedIDs([]string{held[0].ID, other[0].ID}))
	})

	t.Run("UnorderedWebhookDoesNotWait", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		c := NewID()
		d := ordered(t, b, agenthooks.OrderingNone, c, c, c)
		jobs := b.claim(t, 10, b.clock.Now().Add(lease))
		checkEqual(t, "claim on an unordered webhook", sortedIDs(jobIDs(jobs)), sortedIDs(idsOf(d, deliveryID)))
	})

	t.Run("FailPendingReleasesNothingStale", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		c := NewID()
		d := ordered(t, b, agenthooks.OrderingConversation, c, c)
		b.claim(t, 10, b.clock.Now().Add(lease))
		b.write(t, func(tx agenthooks.Tx) error {
			_, err := tx.FailPendingDeliveries(d[0].WebhookID, agenthooks.DisabledGone)
			return err
		})
		if jobs := b.claim(t, 10, b.clock.Now().Add(lease)); len(jobs) != 0 {
			t.Errorf("claimed %v after every delivery of the webhook failed", jobIDs(jobs))
		}
	})
}

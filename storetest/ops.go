package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/agenthooks/agenthooks"
)

// exerciseOps checks the operations of readiness and metrics: a heartbeat is
// a write that can be repeated, and the delivery counters the store maintains
// always equal a count of the deliveries, whatever statement changed them.
func exerciseOps(t *testing.T, setup setupFunc) {
	t.Run("Heartbeat", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		for _, at := range []time.Time{b.clock.Now(), b.clock.Now().Add(time.Second), b.clock.Now().Add(48 * time.Hour)} {
			b.write(t, func(tx agenthooks.Tx) error { return tx.Heartbeat("host:1", "all", at) })
		}
		b.write(t, func(tx agenthooks.Tx) error { return tx.Heartbeat("host:2", "worker", b.clock.Now()) })
	})

	t.Run("QueueStats", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		now := b.clock.Now()
		stats := func(t *testing.T, step string) *agenthooks.QueueStats {
			t.Helper()
			var st *agenthooks.QueueStats
			var counts map[string]int
			b.read(t, func(tx agenthooks.Tx) error {
				var err error
				if st, err = tx.QueueStats(b.clock.Now()); err != nil {
					return err
				}
				counts, err = tx.CountDeliveries()
				return err
			})
			for _, s := range []string{agenthooks.DeliveryPending, agenthooks.DeliverySucceeded, agenthooks.DeliveryFailed} {
				if st.Deliveries[s] != int64(counts[s]) {
					t.Errorf("%s: QueueStats %s = %d, want %d (the count)", step, s, st.Deliveries[s], counts[s])
				}
			}
			return st
		}
		if st := stats(t, "empty"); !st.OldestDue.IsZero() {
			t.Errorf("empty store: OldestDue = %v, want zero", st.OldestDue)
		}

		w := b.webhook(t, b.acct)
		off := b.webhook(t, b.acct)
		// A disabled webhook's deliveries wait with no time limit: they are
		// no backlog, however overdue.
		b.pending(t, off, now.Add(-time.Hour))
		off.Enabled, off.DisabledReason = false, agenthooks.DisabledManual
		b.write(t, func(tx agenthooks.Tx) error { return tx.UpdateWebhook(off) })
		b.pending(t, w, now.Add(time.Minute)) // not due yet
		first := b.pending(t, w, now.Add(-2*time.Minute))
		b.pending(t, w, now.Add(-time.Minute))
		for _, status := range []string{agenthooks.DeliverySucceeded, agenthooks.DeliveryFailed} {
			d := b.newDelivery(w, b.event(t, b.acct, agenthooks.EventConversationClosed), now.Add(-3*time.Hour))
			d.Status = status
			b.write(t, func(tx agenthooks.Tx) error { return tx.CreateDelivery(d) })
		}
		// A write that fails is rolled back, its counts with it.
		failed := errors.New("rolled back")
		if err := b.store.Write(t.Context(), func(tx agenthooks.Tx) error {
			e := b.newEvent(b.acct, agenthooks.EventConversationClosed)
			if err := tx.CreateEvent(e); err != nil {
				return err
			}
			if err := tx.CreateDelivery(b.newDelivery(w, e, now)); err != nil {
				return err
			}
			return failed
		}); !errors.Is(err, failed) {
			t.Fatalf("a failing write: %v", err)
		}
		st := stats(t, "created")
		if !st.OldestDue.Equal(first.NextAttemptAt) {
			t.Errorf("OldestDue = %v, want %v (the earliest due of an enabled webhook)", st.OldestDue, first.NextAttemptAt)
		}

		// A claim changes no status; completions and failures do.
		jobs := b.claim(t, 10, now.Add(time.Hour))
		if len(jobs) != 2 {
			t.Fatalf("claimed %d, want 2", len(jobs))
		}
		if st := stats(t, "claimed"); !st.OldestDue.IsZero() {
			t.Errorf("everything due is claimed: OldestDue = %v, want zero", st.OldestDue)
		}
		b.complete(t, &agenthooks.Outcome{DeliveryID: jobs[0].Delivery.ID, Lease: jobs[0].Lease, Status: agenthooks.DeliverySucceeded,
			Attempt: b.newAttempt(&jobs[0].Delivery, 200, "")})
		stats(t, "completed")
		b.write(t, func(tx agenthooks.Tx) error { _, err := tx.FailPendingDeliveries(w.ID, "gone"); return err })
		stats(t, "failed in one statement")
		b.clock.Add(48 * time.Hour)
		b.write(t, func(tx agenthooks.Tx) error {
			_, err := tx.DeleteExpired(b.clock.Now().Add(-time.Hour), 100)
			return err
		})
		st = stats(t, "expired")
		if st.Deliveries[agenthooks.DeliveryPending] != 1 {
			t.Errorf("after the sweep: %d pending, want 1 (the disabled webhook's)", st.Deliveries[agenthooks.DeliveryPending])
		}
	})
}

package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/agenthooks/agenthooks"
)

// countFolder is a store whose delivery counters take deltas that a fold
// moves into their totals, now and then by itself (PostgreSQL,
// postgres/counts.go). The suite also folds when it checks the counters:
// they must equal a count before a fold and after it.
type countFolder interface {
	FoldDeliveryCounts(ctx context.Context) (int64, error)
}

// checkCounts fails t unless the store's counters (QueueStats) equal a count
// of the deliveries, read in one transaction, and, for a countFolder, again
// after a fold. It returns the first reading.
func (b *testBundle) checkCounts(t testing.TB, step string) *agenthooks.QueueStats {
	t.Helper()
	read := func(step string) *agenthooks.QueueStats {
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
		for _, s := range agenthooks.DeliveryStatuses {
			if st.Deliveries[s] != int64(counts[s]) {
				t.Errorf("%s: QueueStats %s = %d, want %d (the count)", step, s, st.Deliveries[s], counts[s])
			}
		}
		return st
	}
	st := read(step)
	if f, ok := b.store.(countFolder); ok {
		if _, err := f.FoldDeliveryCounts(t.Context()); err != nil {
			t.Fatalf("%s: FoldDeliveryCounts: %v", step, err)
		}
		read(step + ", after a fold")
	}
	return st
}

// exerciseOps checks the operations of readiness and metrics: a heartbeat is
// a write that can be repeated, and the delivery counters the store maintains
// always equal a count of the deliveries, whatever statement changed them,
// however many wrote at once.
func exerciseOps(t *testing.T, setup setupFunc) {
	t.Run("Heartbeat", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		for _, at := range []time.Time{b.clock.Now(), b.clock.Now().Add(time.Second), b.clock.Now().Add(48 * time.Hour)} {
			b.write(t, func(tx agenthooks.Tx) error { return tx.Heartbeat("host:1", "all", at) })
		}
		b.write(t, func(tx agenthooks.Tx) error { return tx.Heartbeat("host:2", "worker", b.clock.Now()) })
	})

	t.Run("HeldCountsFromFirstDue", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		now := b.clock.Now()
		w := b.webhook(t, b.acct)
		d := b.pending(t, w, now.Add(-2*time.Minute))
		pending := 1
		check := func(step string, wantDue time.Time) {
			t.Helper()
			var st *agenthooks.QueueStats
			var bl agenthooks.Backlog
			b.read(t, func(tx agenthooks.Tx) error {
				var err error
				if st, err = tx.QueueStats(b.clock.Now()); err != nil {
					return err
				}
				bl, err = tx.DeliveryBacklog(b.acct.ID, b.clock.Now())
				return err
			})
			if !st.OldestDue.Equal(wantDue) {
				t.Errorf("%s: QueueStats.OldestDue = %v, want %v", step, st.OldestDue, wantDue)
			}
			wantBacklog := agenthooks.Backlog{Pending: pending, OldestDue: wantDue}
			if !wantDue.IsZero() {
				wantBacklog.Due = 1
			}
			checkEqual(t, step+": DeliveryBacklog", bl, wantBacklog)
		}
		check("due", d.NextAttemptAt)
		// Held back twice, unattempted (the circuit, the cap, the rate
		// limit): it stays due from when it first fell due.
		for i := range 2 {
			jobs := b.claim(t, 10, b.clock.Now().Add(time.Minute))
			if len(jobs) != 1 {
				t.Fatalf("hold %d: claimed %d, want 1", i, len(jobs))
			}
			check("claimed", time.Time{})
			o := &agenthooks.Outcome{DeliveryID: d.ID, Lease: jobs[0].Lease, Status: agenthooks.DeliveryPending, NextAttemptAt: b.clock.Now().Add(5 * time.Minute)}
			b.write(t, func(tx agenthooks.Tx) error {
				if i == 0 {
					return tx.CompleteDelivery(o)
				}
				return tx.CompleteDeliveries([]*agenthooks.Outcome{o}) // the pool's batch
			})
			check("held back", d.NextAttemptAt)
			b.clock.Add(6 * time.Minute)
		}
		// An attempt ends the wait: the retry is due when it is scheduled.
		jobs := b.claim(t, 10, b.clock.Now().Add(time.Minute))
		if len(jobs) != 1 {
			t.Fatalf("claimed %d, want 1", len(jobs))
		}
		b.complete(t, &agenthooks.Outcome{DeliveryID: d.ID, Lease: jobs[0].Lease, Status: agenthooks.DeliveryPending, NextAttemptAt: b.clock.Now().Add(time.Minute),
			Attempt: b.newAttempt(&jobs[0].Delivery, 500, "")})
		check("attempted, retry not due", time.Time{})
		b.clock.Add(2 * time.Minute)
		check("retry due", b.clock.Now().Add(-time.Minute))

		// A retry asked for starts a new wait.
		b.write(t, func(tx agenthooks.Tx) error { return tx.RetryDelivery(b.acct.ID, d.ID, b.clock.Now().Add(time.Hour)) })
		check("retried later", time.Time{})

		// A delivery handed to a worker as it is stored, then held back,
		// counts from when it was stored due.
		e := b.newEvent(b.acct, agenthooks.EventConversationClosed)
		h := b.newDelivery(w, e, b.clock.Now())
		due := h.NextAttemptAt
		var lease int64
		b.write(t, func(tx agenthooks.Tx) error {
			if err := tx.CreateEvent(e); err != nil {
				return err
			}
			var err error
			lease, err = tx.CreateLeasedDelivery(h, b.clock.Now().Add(time.Minute))
			return err
		})
		pending = 2
		check("handed over", time.Time{})
		b.clock.Add(time.Second)
		b.complete(t, &agenthooks.Outcome{DeliveryID: h.ID, Lease: lease, Status: agenthooks.DeliveryPending, NextAttemptAt: b.clock.Now().Add(time.Minute)})
		check("handed over, then held back", due)
	})

	t.Run("QueueStats", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		now := b.clock.Now()
		stats := b.checkCounts
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
		for _, status := range []string{agenthooks.DeliverySucceeded, agenthooks.DeliveryFailed, agenthooks.DeliveryCanceled} {
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

		if st.Deliveries[agenthooks.DeliveryCanceled] != 1 {
			t.Errorf("created: %d canceled, want 1", st.Deliveries[agenthooks.DeliveryCanceled])
		}

		// A claim changes no status; completions, cancels and failures do.
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
		// A transformation's cancel = true: no attempt, the delivery ends
		// canceled (delivery/attempt.go).
		b.complete(t, &agenthooks.Outcome{DeliveryID: jobs[1].Delivery.ID, Lease: jobs[1].Lease, Status: agenthooks.DeliveryCanceled})
		if st := stats(t, "canceled"); st.Deliveries[agenthooks.DeliveryCanceled] != 2 {
			t.Errorf("after a cancel: %d canceled, want 2", st.Deliveries[agenthooks.DeliveryCanceled])
		}
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

	// Writers store, claim, complete and fail deliveries at once while
	// readers read the counters and, on an engine that folds, folders fold
	// (as the stores of several processes do): no change is lost or
	// counted twice.
	t.Run("QueueStatsConcurrent", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		const writers, rounds = 8, 12
		now := b.clock.Now()
		w := b.webhook(t, b.acct)
		done := make(chan struct{})
		var bg sync.WaitGroup // readers and folders, until the writers are done
		loop := func(what string, fn func() error) {
			bg.Add(1)
			go func() {
				defer bg.Done()
				for {
					select {
					case <-done:
						return
					default:
					}
					if err := fn(); err != nil {
						t.Errorf("%s: %v", what, err)
						return
					}
				}
			}()
		}
		loop("QueueStats", func() error {
			return b.store.Read(t.Context(), func(tx agenthooks.Tx) error { _, err := tx.QueueStats(now); return err })
		})
		if f, ok := b.store.(countFolder); ok {
			for range 2 {
				loop("FoldDeliveryCounts", func() error { _, err := f.FoldDeliveryCounts(t.Context()); return err })
			}
		}

		var wg sync.WaitGroup
		for g := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for r := range rounds {
					if err := b.concurrentRound(t.Context(), w, now, g, r); err != nil {
						t.Errorf("writer %d, round %d: %v", g, r, err)
						return
					}
				}
			}()
		}
		wg.Wait()
		close(done)
		bg.Wait()
		st := b.checkCounts(t, "after concurrent writers")
		var total int64
		for _, s := range agenthooks.DeliveryStatuses {
			total += st.Deliveries[s]
		}
		if total != 2*writers*rounds {
			t.Errorf("%d deliveries counted, want %d", total, 2*writers*rounds)
		}
	})
}

// concurrentRound is round r of writer g of QueueStatsConcurrent: two
// deliveries stored in one transaction, as a close stores its event's, then
// a claim of a few due ones and their outcomes (succeeded, failed or
// canceled, by round); every fourth round of writer 0 fails the webhook's pending
// deliveries in one statement.
func (b *testBundle) concurrentRound(ctx context.Context, w *agenthooks.Webhook, now time.Time, g, r int) error {
	err := b.store.Write(ctx, func(tx agenthooks.Tx) error {
		for range 2 {
			e := b.newEvent(&agenthooks.Account{ID: w.AccountID}, agenthooks.EventConversationClosed)
			if err := tx.CreateEvent(e); err != nil {
				return err
			}
			if err := tx.CreateDelivery(b.newDelivery(w, e, now.Add(-time.Minute))); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	var jobs []*agenthooks.Job
	if err := b.store.WriteRelaxed(ctx, func(tx agenthooks.Tx) error {
		var err error
		jobs, err = tx.ClaimDeliveries(3, now.Add(time.Hour))
		return err
	}); err != nil {
		return fmt.Errorf("claim: %w", err)
	}
	status := agenthooks.DeliverySucceeded
	switch r % 4 {
	case 2:
		status = agenthooks.DeliveryFailed
	case 3:
		status = agenthooks.DeliveryCanceled
	}
	if err := b.store.WriteRelaxed(ctx, func(tx agenthooks.Tx) error {
		for _, j := range jobs {
			o := &agenthooks.Outcome{DeliveryID: j.Delivery.ID, Lease: j.Lease, Status: status}
			if status != agenthooks.DeliveryCanceled { // a cancel sends nothing
				o.Attempt = b.newAttempt(&j.Delivery, 200, "")
			}
			if err := tx.CompleteDelivery(o); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return fmt.Errorf("complete: %w", err)
	}
	if g == 0 && r%4 == 3 {
		if err := b.store.Write(ctx, func(tx agenthooks.Tx) error { _, err := tx.FailPendingDeliveries(w.ID, "gone"); return err }); err != nil {
			return fmt.Errorf("fail pending: %w", err)
		}
	}
	return nil
}

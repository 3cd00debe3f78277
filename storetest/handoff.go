package storetest

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/agenthooks/agenthooks"
)

// The hand-off's two store operations: OnCommit, and a delivery stored
// already leased (service/handoff.go uses them).

func exerciseHandoff(t *testing.T, setup setupFunc) {
	t.Run("OnCommit", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		// Concurrent writes, half of which fail: each write's fns run once,
		// with true exactly when its write committed, before the caller is
		// answered; a read's with false.
		var wg sync.WaitGroup
		var calls, committed atomic.Int64
		for i := range 40 {
			wg.Go(func() {
				write := b.store.Write
				if i%4 == 0 {
					write = b.store.WriteRelaxed
				}
				var mine atomic.Int64
				in := b.newIntent(b.acct)
				err := write(t.Context(), func(tx agenthooks.Tx) error {
					tx.OnCommit(func(ok bool) {
						calls.Add(1)
						mine.Add(1)
						if ok {
							committed.Add(1)
							// Committed means visible.
							if err := b.store.Read(t.Context(), func(tx agenthooks.Tx) error {
								_, err := tx.FindIntent(b.acct.ID, in.ID)
								return err
							}); err != nil && i%2 == 1 {
								t.Errorf("write %d: OnCommit(true) before its intent is visible: %v", i, err)
							}
						}
					})
					if err := tx.CreateIntent(in); err != nil {
						return err
					}
					if i%2 == 0 {
						return errors.New("refused")
					}
					return nil
				})
				if (err == nil) != (i%2 == 1) {
					t.Errorf("write %d: %v", i, err)
				}
				if mine.Load() != 1 {
					t.Errorf("write %d: its OnCommit fn ran %d times before the write returned, want 1", i, mine.Load())
				}
			})
		}
		wg.Wait()
		if calls.Load() != 40 || committed.Load() != 20 {
			t.Errorf("OnCommit: %d calls, %d committed; want 40 and 20", calls.Load(), committed.Load())
		}
		var readCommitted atomic.Int32
		readCommitted.Store(-1)
		b.read(t, func(tx agenthooks.Tx) error {
			tx.OnCommit(func(ok bool) {
				if ok {
					readCommitted.Store(1)
				} else {
					readCommitted.Store(0)
				}
			})
			return nil
		})
		if readCommitted.Load() != 0 {
			t.Errorf("a read's OnCommit: %d, want 0 (run with false)", readCommitted.Load())
		}
	})

	t.Run("CreateLeasedDelivery", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		w := b.webhook(t, b.acct)
		_, d, lease := b.leased(t, w, b.clock.Now().Add(15*time.Second))
		// Leased: no claim takes it while the lease holds.
		if jobs := b.claim(t, 10, b.clock.Now().Add(time.Minute)); len(jobs) != 0 {
			t.Fatalf("claimed %d deliveries while the leased one's lease holds, want 0", len(jobs))
		}
		// Its outcome under the returned lease is recorded.
		b.complete(t, &agenthooks.Outcome{DeliveryID: d.ID, Lease: lease, Status: agenthooks.DeliverySucceeded,
			Attempt: b.newAttempt(d, 200, "")})
		got := b.storedDelivery(t, d)
		if got.Status != agenthooks.DeliverySucceeded || got.AttemptCount != 1 {
			t.Errorf("leased delivery after its outcome: status %s, %d attempts; want succeeded, 1", got.Status, got.AttemptCount)
		}

		// A leased delivery whose worker never reports comes due when its
		// lease runs out, and is claimed under a new lease; the old lease's
		// outcome then changes nothing.
		e2, d2, lease2 := b.leased(t, w, b.clock.Now().Add(15*time.Second))
		b.clock.Add(16 * time.Second)
		jobs := b.claim(t, 10, b.clock.Now().Add(time.Minute))
		if len(jobs) != 1 || jobs[0].Delivery.ID != d2.ID || jobs[0].Lease == lease2 {
			t.Fatalf("after the lease ran out: claimed %d jobs; want d2 under a new lease", len(jobs))
		}
		if string(jobs[0].Payload) != string(e2.Payload) || jobs[0].Webhook.Endpoint != w.Endpoint {
			t.Errorf("the claimed job's payload or webhook differ from what was stored")
		}
		b.complete(t, &agenthooks.Outcome{DeliveryID: d2.ID, Lease: lease2, Status: agenthooks.DeliveryFailed,
			Attempt: b.newAttempt(d2, 500, "")})
		got = b.storedDelivery(t, d2)
		if got.Status != agenthooks.DeliveryPending || got.AttemptCount != 0 {
			t.Errorf("a stale lease's outcome was recorded: status %s, %d attempts", got.Status, got.AttemptCount)
		}
	})
}

// leased stores an event and its delivery to w, leased until until, and
// returns them with the lease number.
func (b *testBundle) leased(t testing.TB, w *agenthooks.Webhook, until time.Time) (*agenthooks.Event, *agenthooks.Delivery, int64) {
	t.Helper()
	e := b.newEvent(b.acct, agenthooks.EventConversationClosed)
	d := b.newDelivery(w, e, b.clock.Now())
	var lease int64
	b.write(t, func(tx agenthooks.Tx) error {
		if err := tx.CreateEvent(e); err != nil {
			return err
		}
		var err error
		lease, err = tx.CreateLeasedDelivery(d, until)
		return err
	})
	return e, d, lease
}

// stored reads the account's delivery d as stored now.
func (b *testBundle) storedDelivery(t testing.TB, d *agenthooks.Delivery) *agenthooks.Delivery {
	t.Helper()
	var got *agenthooks.Delivery
	b.read(t, func(tx agenthooks.Tx) error {
		var err error
		got, err = tx.FindDelivery(b.acct.ID, d.ID)
		return err
	})
	return got
}

package storetest

import (
	"testing"
	"time"

	"github.com/agenthooks/agenthooks"
)

// The queue

func exerciseQueue(t *testing.T, setup setupFunc) {
	t.Run("ClaimDueOnly", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		w := b.webhook(t, b.acct)
		now := b.clock.Now()
		past := b.pending(t, w, now.Add(-time.Second))
		atNow := b.pending(t, w, now)
		b.pending(t, w, now.Add(time.Microsecond)) // not yet due
		for _, status := range []string{agenthooks.DeliverySucceeded, agenthooks.DeliveryFailed, agenthooks.DeliveryCanceled} {
			d := b.newDelivery(w, b.event(t, b.acct, agenthooks.EventConversationClosed), now.Add(-time.Hour))
			d.Status = status // ended: never claimed, whatever its time says
			b.write(t, func(tx agenthooks.Tx) error { return tx.CreateDelivery(d) })
		}

		leaseUntil := now.Add(30 * time.Second)
		jobs := b.claim(t, 10, leaseUntil)
		checkEqual(t, "claimed ids", sortedIDs(jobIDs(jobs)), sortedIDs([]string{past.ID, atNow.ID}))

		// A job carries what the attempt needs: the leased delivery, its
		// event's exact payload and the webhook.
		b.read(t, func(tx agenthooks.Tx) error {
			wantW, err := tx.FindWebhook(b.acct.ID, w.ID)
			mustNil(t, err)
			for _, j := range jobs {
				d, err := tx.FindDelivery(b.acct.ID, j.Delivery.ID)
				mustNil(t, err)
				checkEqual(t, "job delivery", &j.Delivery, d)
				if !d.NextAttemptAt.Equal(leaseUntil) || d.Status != agenthooks.DeliveryPending || !d.UpdatedAt.Equal(now) {
					t.Errorf("claimed delivery: status %s, next %v, updated %v; want pending, %v (the lease), %v", d.Status, d.NextAttemptAt, d.UpdatedAt, leaseUntil, now)
				}
				e, err := tx.FindEvent(b.acct.ID, d.EventID)
				mustNil(t, err)
				if string(j.Payload) != string(e.Payload) {
					t.Errorf("job payload = %s, want %s", j.Payload, e.Payload)
				}
				checkEqual(t, "job webhook", &j.Webhook, wantW)
			}
			return nil
		})
	})

	t.Run("ClaimLimitAndDueOrder", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		w := b.webhook(t, b.acct)
		now := b.clock.Now()
		// Created out of due order, so that id order is not due order.
		byDue := make([]*agenthooks.Delivery, 6)
		for _, i := range []int{3, 0, 5, 1, 4, 2} {
			byDue[i] = b.pending(t, w, now.Add(time.Duration(i-6)*time.Minute))
		}
		b.pending(t, w, now.Add(time.Minute)) // not due
		jobs := b.claim(t, 4, now.Add(time.Hour))
		checkEqual(t, "first claim: the 4 earliest due (in any order)", sortedIDs(jobIDs(jobs)), sortedIDs(idsOf(byDue[:4], deliveryID)))
		jobs = b.claim(t, 4, now.Add(time.Hour))
		checkEqual(t, "second claim: the rest", sortedIDs(jobIDs(jobs)), sortedIDs(idsOf(byDue[4:], deliveryID)))
		if jobs := b.claim(t, 4, now.Add(time.Hour)); len(jobs) != 0 {
			t.Errorf("third claim = %v, want none", jobIDs(jobs))
		}
	})

	t.Run("DisabledWebhookWaits", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		on, off := b.webhook(t, b.acct), b.webhook(t, b.acct)
		off.Enabled, off.DisabledReason = false, agenthooks.DisabledManual
		b.write(t, func(tx agenthooks.Tx) error { return tx.UpdateWebhook(off) })
		dOn := b.pending(t, on, b.clock.Now())
		dOff := b.pending(t, off, b.clock.Now().Add(-time.Hour)) // due first, but its webhook is disabled

		checkEqual(t, "claim with a disabled webhook", jobIDs(b.claim(t, 10, b.clock.Now().Add(time.Minute))), []string{dOn.ID})
		b.clock.Add(time.Hour)
		// dOn's lease has run out, so it may come back; dOff must not.
		for _, id := range jobIDs(b.claim(t, 10, b.clock.Now().Add(time.Minute))) {
			if id == dOff.ID {
				t.Fatalf("claimed %v while its webhook is disabled", id)
			}
		}
		b.read(t, func(tx agenthooks.Tx) error {
			d, err := tx.FindDelivery(b.acct.ID, dOff.ID)
			mustNil(t, err)
			checkEqual(t, "waiting delivery", d, stored(dOff))
			return nil
		})

		off.Enabled, off.DisabledReason = true, ""
		b.write(t, func(tx agenthooks.Tx) error { return tx.UpdateWebhook(off) })
		jobs := b.claim(t, 10, b.clock.Now().Add(time.Minute))
		checkEqual(t, "claim after re-enabling", jobIDs(jobs), []string{dOff.ID})
		if len(jobs) == 1 && !jobs[0].Webhook.Enabled {
			t.Error("job webhook is disabled")
		}
	})

	t.Run("LeaseExpiry", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		w := b.webhook(t, b.acct)
		d := b.pending(t, w, b.clock.Now())
		lease := 30 * time.Second
		first := b.claim(t, 10, b.clock.Now().Add(lease))
		if len(first) != 1 {
			t.Fatalf("first claim = %d jobs, want 1", len(first))
		}
		if again := b.claim(t, 10, b.clock.Now().Add(lease)); len(again) != 0 {
			t.Fatalf("claimed again under a live lease: %v", jobIDs(again))
		}
		b.clock.Add(lease - time.Microsecond)
		if again := b.claim(t, 10, b.clock.Now().Add(lease)); len(again) != 0 {
			t.Fatalf("claimed again 1µs before the lease ends: %v", jobIDs(again))
		}
		b.clock.Add(time.Microsecond)
		second := b.claim(t, 10, b.clock.Now().Add(lease))
		if len(second) != 1 || second[0].Delivery.ID != d.ID {
			t.Fatalf("claim after lease expiry = %v, want [%s]", jobIDs(second), d.ID)
		}
		if second[0].Lease == first[0].Lease {
			t.Fatalf("second claim has the first claim's lease %d", first[0].Lease)
		}

		// The first worker finishes late: nothing of its outcome is kept.
		b.complete(t, &agenthooks.Outcome{
			DeliveryID: d.ID, Lease: first[0].Lease, Status: agenthooks.DeliverySucceeded,
			Attempt: b.newAttempt(d, 200, ""),
		})
		b.read(t, func(tx agenthooks.Tx) error {
			got, err := tx.FindDelivery(b.acct.ID, d.ID)
			mustNil(t, err)
			checkEqual(t, "delivery after a stale completion", got, &second[0].Delivery)
			attempts, err := tx.ListAttempts(d.ID)
			mustNil(t, err)
			if len(attempts) != 0 {
				t.Errorf("stale completion recorded %d attempts", len(attempts))
			}
			return nil
		})

		// The current holder's completion counts.
		b.complete(t, &agenthooks.Outcome{
			DeliveryID: d.ID, Lease: second[0].Lease, Status: agenthooks.DeliverySucceeded,
			Attempt: b.newAttempt(d, 204, ""),
		})
		b.read(t, func(tx agenthooks.Tx) error {
			got, err := tx.FindDelivery(b.acct.ID, d.ID)
			mustNil(t, err)
			if got.Status != agenthooks.DeliverySucceeded || got.AttemptCount != 1 {
				t.Errorf("after completion: status %s, attempts %d; want succeeded, 1", got.Status, got.AttemptCount)
			}
			return nil
		})
	})

	t.Run("Complete", func(t *testing.T) {
		t.Parallel()
		retryIn := 5 * time.Minute
		tests := []struct {
			name          string
			status        string
			next          time.Duration // outcome's NextAttemptAt, from the completion time
			attempt       func(d *agenthooks.Delivery, b *testBundle) *agenthooks.Attempt
			wantStatus    string
			wantNext      time.Duration // -1: zero time (ended)
			wantLastError string
			wantAttempts  int
		}{
			{
				name: "Succeeded", status: agenthooks.DeliverySucceeded, next: time.Hour, // ignored: it ended
				attempt:    func(d *agenthooks.Delivery, b *testBundle) *agenthooks.Attempt { return b.newAttempt(d, 200, "") },
				wantStatus: agenthooks.DeliverySucceeded, wantNext: -1, wantLastError: "", wantAttempts: 1,
			},
			{
				name: "RetryAfterHTTPError", status: agenthooks.DeliveryPending, next: retryIn,
				attempt:    func(d *agenthooks.Delivery, b *testBundle) *agenthooks.Attempt { return b.newAttempt(d, 500, "") },
				wantStatus: agenthooks.DeliveryPending, wantNext: retryIn, wantLastError: "HTTP 500", wantAttempts: 1,
			},
			{
				name: "RetryAfterNetworkError", status: agenthooks.DeliveryPending, next: retryIn,
				attempt: func(d *agenthooks.Delivery, b *testBundle) *agenthooks.Attempt {
					return b.newAttempt(d, 0, "dial tcp 203.0.113.9:443: connect: connection refused")
				},
				wantStatus: agenthooks.DeliveryPending, wantNext: retryIn, wantLastError: "dial tcp 203.0.113.9:443: connect: connection refused", wantAttempts: 1,
			},
			{
				name: "Failed", status: agenthooks.DeliveryFailed, next: time.Hour,
				attempt:    func(d *agenthooks.Delivery, b *testBundle) *agenthooks.Attempt { return b.newAttempt(d, 410, "") },
				wantStatus: agenthooks.DeliveryFailed, wantNext: -1, wantLastError: "HTTP 410", wantAttempts: 1,
			},
			{
				// Shutdown: the delivery goes back to the queue without an attempt,
				// keeping the error of its last real attempt.
				name: "ReleasedWithoutAttempt", status: agenthooks.DeliveryPending, next: 0,
				attempt:    func(d *agenthooks.Delivery, b *testBundle) *agenthooks.Attempt { return nil },
				wantStatus: agenthooks.DeliveryPending, wantNext: 0, wantLastError: "HTTP 502", wantAttempts: 0,
			},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				b := setup(t)
				w := b.webhook(t, b.acct)
				d := b.newDelivery(w, b.event(t, b.acct, agenthooks.EventConversationClosed), b.clock.Now())
				d.AttemptCount, d.LastError = 2, "HTTP 502" // two earlier attempts
				b.write(t, func(tx agenthooks.Tx) error { return tx.CreateDelivery(d) })
				jobs := b.claim(t, 1, b.clock.Now().Add(time.Minute))
				if len(jobs) != 1 {
					t.Fatalf("claim = %d jobs, want 1", len(jobs))
				}
				now := b.clock.Add(3 * time.Second) // the attempt took a while
				a := tt.attempt(d, b)
				o := &agenthooks.Outcome{DeliveryID: d.ID, Lease: jobs[0].Lease, Attempt: a, Status: tt.status, NextAttemptAt: now.Add(tt.next)}
				b.complete(t, o)

				want := stored(d)
				want.Status, want.LastError, want.UpdatedAt = tt.wantStatus, tt.wantLastError, now
				want.AttemptCount = 2 + tt.wantAttempts
				want.NextAttemptAt = time.Time{}
				if tt.wantNext >= 0 {
					want.NextAttemptAt = now.Add(tt.wantNext)
				}
				b.read(t, func(tx agenthooks.Tx) error {
					got, err := tx.FindDelivery(b.acct.ID, d.ID)
					mustNil(t, err)
					checkEqual(t, "delivery after CompleteDelivery", got, want)
					attempts, err := tx.ListAttempts(d.ID)
					mustNil(t, err)
					if len(attempts) != tt.wantAttempts {
						t.Fatalf("attempts = %d, want %d", len(attempts), tt.wantAttempts)
					}
					if a != nil {
						wantA := stored(a)
						wantA.DeliveryID = d.ID
						checkEqual(t, "attempt", attempts[0], wantA)
					}
					return nil
				})

				// Completing again with the same lease does nothing: the claim is over.
				again := *o
				if a != nil {
					again.Attempt = b.newAttempt(d, 201, "")
				}
				again.Status = agenthooks.DeliveryFailed
				b.complete(t, &again)
				b.read(t, func(tx agenthooks.Tx) error {
					got, err := tx.FindDelivery(b.acct.ID, d.ID)
					mustNil(t, err)
					checkEqual(t, "delivery after a second completion with the same lease", got, want)
					attempts, err := tx.ListAttempts(d.ID)
					mustNil(t, err)
					if len(attempts) != tt.wantAttempts {
						t.Errorf("attempts after second completion = %d, want %d", len(attempts), tt.wantAttempts)
					}
					return nil
				})

				// Pending deliveries come back exactly when due; ended ones never.
				if tt.wantNext > 0 {
					b.clock.Add(tt.wantNext - time.Microsecond)
					if jobs := b.claim(t, 10, b.clock.Now().Add(time.Minute)); len(jobs) != 0 {
						t.Fatalf("claimed %v before its next attempt time", jobIDs(jobs))
					}
					b.clock.Add(time.Microsecond)
				}
				jobs = b.claim(t, 10, b.clock.Now().Add(time.Minute))
				if tt.wantNext >= 0 && len(jobs) != 1 {
					t.Errorf("pending delivery not claimable when due: %d jobs", len(jobs))
				}
				if tt.wantNext < 0 && len(jobs) != 0 {
					t.Errorf("ended delivery claimed: %v", jobIDs(jobs))
				}
			})
		}
	})

	t.Run("ListAttemptsOldestFirst", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		d := b.pending(t, b.webhook(t, b.acct), b.clock.Now())
		var want []*agenthooks.Attempt
		for i := range 3 {
			jobs := b.claim(t, 1, b.clock.Now().Add(time.Minute))
			if len(jobs) != 1 {
				t.Fatalf("claim %d = %d jobs", i, len(jobs))
			}
			a := b.newAttempt(d, 500+i, "")
			want = append(want, stored(a))
			b.complete(t, &agenthooks.Outcome{DeliveryID: d.ID, Lease: jobs[0].Lease, Attempt: a, Status: agenthooks.DeliveryPending, NextAttemptAt: b.clock.Now()})
			b.clock.Add(time.Second)
		}
		b.read(t, func(tx agenthooks.Tx) error {
			got, err := tx.ListAttempts(d.ID)
			mustNil(t, err)
			checkEqual(t, "attempts", got, want)
			got, err = tx.ListAttempts(NewID())
			mustNil(t, err)
			if len(got) != 0 {
				t.Errorf("attempts of an unknown delivery = %d", len(got))
			}
			return nil
		})
	})

	t.Run("RetryDelivery", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		d := b.pending(t, b.webhook(t, b.acct), b.clock.Now())
		jobs := b.claim(t, 1, b.clock.Now().Add(time.Minute))
		b.complete(t, &agenthooks.Outcome{DeliveryID: d.ID, Lease: jobs[0].Lease, Attempt: b.newAttempt(d, 404, ""), Status: agenthooks.DeliveryFailed})

		now := b.clock.Add(time.Hour)
		due := now.Add(10 * time.Second)
		b.write(t, func(tx agenthooks.Tx) error { return tx.RetryDelivery(b.acct.ID, d.ID, due) })
		b.read(t, func(tx agenthooks.Tx) error {
			got, err := tx.FindDelivery(b.acct.ID, d.ID)
			mustNil(t, err)
			if got.Status != agenthooks.DeliveryPending || !got.NextAttemptAt.Equal(due) || !got.UpdatedAt.Equal(now) {
				t.Errorf("after RetryDelivery: status %s, next %v, updated %v; want pending, %v, %v", got.Status, got.NextAttemptAt, got.UpdatedAt, due, now)
			}
			if got.AttemptCount != 1 || got.LastError != "HTTP 404" {
				t.Errorf("after RetryDelivery: attempt_count %d, last_error %q; want the earlier attempt's 1, HTTP 404", got.AttemptCount, got.LastError)
			}
			attempts, err := tx.ListAttempts(d.ID)
			mustNil(t, err)
			if len(attempts) != 1 {
				t.Errorf("attempts after RetryDelivery = %d, want 1 (kept)", len(attempts))
			}
			return nil
		})
		if jobs := b.claim(t, 10, b.clock.Now().Add(time.Minute)); len(jobs) != 0 {
			t.Fatalf("retried delivery claimed before due: %v", jobIDs(jobs))
		}
		b.clock.Add(10 * time.Second)
		if jobs := b.claim(t, 10, b.clock.Now().Add(time.Minute)); len(jobs) != 1 {
			t.Fatalf("retried delivery not claimed when due: %d jobs", len(jobs))
		}
	})

	t.Run("RetrySupersedesClaim", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		d := b.pending(t, b.webhook(t, b.acct), b.clock.Now())
		old := b.claim(t, 1, b.clock.Now().Add(time.Hour))
		if len(old) != 1 {
			t.Fatalf("claim = %d jobs", len(old))
		}
		b.write(t, func(tx agenthooks.Tx) error { return tx.RetryDelivery(b.acct.ID, d.ID, b.clock.Now()) })
		fresh := b.claim(t, 1, b.clock.Now().Add(time.Hour))
		if len(fresh) != 1 || fresh[0].Lease == old[0].Lease {
			t.Fatalf("claim after RetryDelivery = %v, want the delivery under a new lease", jobIDs(fresh))
		}
		b.complete(t, &agenthooks.Outcome{DeliveryID: d.ID, Lease: old[0].Lease, Attempt: b.newAttempt(d, 200, ""), Status: agenthooks.DeliverySucceeded})
		b.read(t, func(tx agenthooks.Tx) error {
			got, err := tx.FindDelivery(b.acct.ID, d.ID)
			mustNil(t, err)
			if got.Status != agenthooks.DeliveryPending || got.AttemptCount != 0 {
				t.Errorf("superseded claim's completion took effect: status %s, attempts %d", got.Status, got.AttemptCount)
			}
			return nil
		})
	})

	t.Run("FailPendingDeliveries", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		w1, w2 := b.webhook(t, b.acct), b.webhook(t, b.acct)
		claimed := b.pending(t, w1, b.clock.Now())
		jobs := b.claim(t, 1, b.clock.Now().Add(time.Hour))
		if len(jobs) != 1 {
			t.Fatalf("claim = %d jobs", len(jobs))
		}
		waiting := b.pending(t, w1, b.clock.Now().Add(time.Hour))
		done := b.pending(t, w1, b.clock.Now())
		doneJobs := b.claim(t, 1, b.clock.Now().Add(time.Hour))
		b.complete(t, &agenthooks.Outcome{DeliveryID: done.ID, Lease: doneJobs[0].Lease, Attempt: b.newAttempt(done, 200, ""), Status: agenthooks.DeliverySucceeded})
		otherWebhook := b.pending(t, w2, b.clock.Now())

		now := b.clock.Add(time.Minute)
		var n int
		b.write(t, func(tx agenthooks.Tx) error {
			var err error
			n, err = tx.FailPendingDeliveries(w1.ID, agenthooks.DisabledGone)
			return err
		})
		if n != 2 {
			t.Errorf("FailPendingDeliveries = %d, want 2", n)
		}
		// The claim in flight is over: its completion does nothing.
		b.complete(t, &agenthooks.Outcome{DeliveryID: claimed.ID, Lease: jobs[0].Lease, Attempt: b.newAttempt(claimed, 200, ""), Status: agenthooks.DeliverySucceeded})
		b.read(t, func(tx agenthooks.Tx) error {
			for _, d := range []*agenthooks.Delivery{claimed, waiting} {
				got, err := tx.FindDelivery(b.acct.ID, d.ID)
				mustNil(t, err)
				if got.Status != agenthooks.DeliveryFailed || !got.NextAttemptAt.IsZero() || got.LastError != agenthooks.DisabledGone || !got.UpdatedAt.Equal(now) || got.AttemptCount != 0 {
					t.Errorf("failed delivery = %+v; want failed, no next attempt, last_error %q, updated now, no attempts", got, agenthooks.DisabledGone)
				}
			}
			got, err := tx.FindDelivery(b.acct.ID, done.ID)
			mustNil(t, err)
			if got.Status != agenthooks.DeliverySucceeded {
				t.Errorf("succeeded delivery became %s", got.Status)
			}
			got, err = tx.FindDelivery(b.acct.ID, otherWebhook.ID)
			mustNil(t, err)
			checkEqual(t, "another webhook's delivery", got, stored(otherWebhook))
			return nil
		})
		checkEqual(t, "claim after FailPendingDeliveries", jobIDs(b.claim(t, 10, b.clock.Now().Add(time.Hour))), []string{otherWebhook.ID})
	})

	t.Run("ReleaseClaims", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		w := b.webhook(t, b.acct)
		d1, d2 := b.pending(t, w, b.clock.Now().Add(-time.Second)), b.pending(t, w, b.clock.Now())
		old := b.claim(t, 10, b.clock.Now().Add(time.Hour))
		if len(old) != 2 {
			t.Fatalf("claim = %d jobs, want 2", len(old))
		}
		later := b.pending(t, w, b.clock.Now().Add(time.Hour)) // unclaimed: stays as it is
		done := b.pending(t, w, b.clock.Now())
		doneJobs := b.claim(t, 1, b.clock.Now().Add(time.Hour))
		b.complete(t, &agenthooks.Outcome{DeliveryID: done.ID, Lease: doneJobs[0].Lease, Attempt: b.newAttempt(done, 200, ""), Status: agenthooks.DeliverySucceeded})

		now := b.clock.Add(time.Second)
		var n int
		b.write(t, func(tx agenthooks.Tx) error {
			var err error
			n, err = tx.ReleaseClaims()
			return err
		})
		if n != 2 {
			t.Errorf("ReleaseClaims = %d, want 2", n)
		}
		b.read(t, func(tx agenthooks.Tx) error {
			for _, d := range []*agenthooks.Delivery{d1, d2} {
				got, err := tx.FindDelivery(b.acct.ID, d.ID)
				mustNil(t, err)
				if got.Status != agenthooks.DeliveryPending || !got.NextAttemptAt.Equal(now) {
					t.Errorf("released delivery: status %s, next %v; want pending, due now %v", got.Status, got.NextAttemptAt, now)
				}
			}
			got, err := tx.FindDelivery(b.acct.ID, later.ID)
			mustNil(t, err)
			checkEqual(t, "unclaimed delivery after ReleaseClaims", got, stored(later))
			return nil
		})
		fresh := b.claim(t, 10, b.clock.Now().Add(time.Hour))
		if !sameIDs(sortedIDs(jobIDs(fresh)), sortedIDs([]string{d1.ID, d2.ID})) {
			t.Fatalf("claim after ReleaseClaims = %v, want %v", jobIDs(fresh), []string{d1.ID, d2.ID})
		}
		// The released claims' leases are stale.
		for _, j := range old {
			b.complete(t, &agenthooks.Outcome{DeliveryID: j.Delivery.ID, Lease: j.Lease, Attempt: b.newAttempt(&j.Delivery, 200, ""), Status: agenthooks.DeliverySucceeded})
		}
		b.read(t, func(tx agenthooks.Tx) error {
			for _, d := range []*agenthooks.Delivery{d1, d2} {
				got, err := tx.FindDelivery(b.acct.ID, d.ID)
				mustNil(t, err)
				if got.Status != agenthooks.DeliveryPending || got.AttemptCount != 0 {
					t.Errorf("released claim's completion took effect: status %s, attempts %d", got.Status, got.AttemptCount)
				}
			}
			return nil
		})
	})

	t.Run("Wake", func(t *testing.T) {
		t.Parallel()
		tests := []struct {
			name    string
			stored  bool // the delivery exists before the write under test
			writeFn func(b *testBundle, d *agenthooks.Delivery) func(tx agenthooks.Tx) error
		}{
			{"CreateDelivery", false, func(b *testBundle, d *agenthooks.Delivery) func(tx agenthooks.Tx) error {
				return func(tx agenthooks.Tx) error { return tx.CreateDelivery(d) }
			}},
			{"RetryDelivery", true, func(b *testBundle, d *agenthooks.Delivery) func(tx agenthooks.Tx) error {
				return func(tx agenthooks.Tx) error { return tx.RetryDelivery(b.acct.ID, d.ID, b.clock.Now()) }
			}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				b := setup(t)
				w := b.webhook(t, b.acct)
				d := b.newDelivery(w, b.event(t, b.acct, agenthooks.EventConversationClosed), b.clock.Now())
				if tt.stored {
					d.Status, d.NextAttemptAt = agenthooks.DeliveryFailed, time.Time{}
					b.write(t, func(tx agenthooks.Tx) error { return tx.CreateDelivery(d) })
				}
				drain(b.store.Wake())
				b.write(t, tt.writeFn(b, d))
				// Generous: this checks that a wake-up comes, not how fast.
				select {
				case <-b.store.Wake():
				case <-time.After(10 * time.Second):
					t.Fatal("Wake did not receive within 10s of a Write that stored a delivery")
				}
			})
		}
	})
}

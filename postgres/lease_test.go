package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/agenthooks/agenthooks"
	"github.com/agenthooks/agenthooks/internal/testdb"
	"github.com/agenthooks/agenthooks/postgres"
	"github.com/agenthooks/agenthooks/storetest"
)

// A lease renewal never waits for a completion writer's transaction: it
// passes over the deliveries whose outcome is being written and renews the
// others. When it waited, it could hold rows that the writer's batch named
// too, and the two deadlocked: PostgreSQL broke the cycle after its
// deadlock_timeout (1 s) by aborting the writer's batch, which was retried
// (docs/benchmarks.md, "Deadlocks between lease renewals and completion
// writers").
func TestRenewLeasesPassesOverOutcomesBeingWritten(t *testing.T) {
	t.Parallel()
	clock := storetest.NewClock(base)
	s, err := postgres.Open(t.Context(), testdb.PostgresURL(t), postgres.Options{Now: clock.Now, MaxConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	_, ids := seed(t, s, 2, base)
	var jobs []*agenthooks.Job
	err = s.WriteRelaxed(t.Context(), func(tx agenthooks.Tx) error {
		jobs, err = tx.ClaimDeliveries(10, base.Add(time.Minute))
		return err
	})
	if err != nil || len(jobs) != len(ids) {
		t.Fatalf("claim: %d jobs, %v", len(jobs), err)
	}
	done, other := jobs[0], jobs[1]

	// A completion writer's transaction writes done's outcome and stays
	// open until released.
	locked, release, written := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		written <- s.WriteRelaxed(context.Background(), func(tx agenthooks.Tx) error {
			err := tx.CompleteDelivery(&agenthooks.Outcome{DeliveryID: done.Delivery.ID, Lease: done.Lease, Status: agenthooks.DeliverySucceeded,
				Attempt: &agenthooks.Attempt{ID: storetest.NewID(), AccountID: done.Delivery.AccountID, CreatedAt: base, StatusCode: 204}})
			close(locked)
			if err == nil {
				<-release
			}
			return err
		})
	}()
	<-locked

	// The renewal names both claims and returns while the writer's
	// transaction is still open. The deadline only turns a wait into a
	// failure instead of a hang.
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	until := base.Add(2 * time.Minute)
	var n int
	err = s.WriteRelaxed(ctx, func(tx agenthooks.Tx) error {
		n, err = tx.RenewLeases([]agenthooks.Claim{{DeliveryID: done.Delivery.ID, Lease: done.Lease}, {DeliveryID: other.Delivery.ID, Lease: other.Lease}}, until)
		return err
	})
	close(release)
	if err != nil {
		t.Fatalf("renewal while an outcome was being written: %v (it waited for the writer)", err)
	}
	if n != 1 {
		t.Errorf("renewed %d, want 1 (the claim whose outcome was not being written)", n)
	}
	if err := <-written; err != nil {
		t.Fatalf("outcome: %v", err)
	}
	err = s.Read(t.Context(), func(tx agenthooks.Tx) error {
		d, err := tx.FindDelivery(done.Delivery.AccountID, done.Delivery.ID)
		if err != nil {
			return err
		}
		if d.Status != agenthooks.DeliverySucceeded {
			t.Errorf("the written outcome: status %s, want succeeded", d.Status)
		}
		if d, err = tx.FindDelivery(other.Delivery.AccountID, other.Delivery.ID); err != nil {
			return err
		}
		if !d.NextAttemptAt.Equal(until) {
			t.Errorf("the other claim's lease ends %v, want %v", d.NextAttemptAt, until)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

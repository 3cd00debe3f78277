package postgres_test

import (
	"testing"
	"time"

	"github.com/agenthooks/agenthooks"
	"github.com/agenthooks/agenthooks/internal/testdb"
	"github.com/agenthooks/agenthooks/postgres"
	"github.com/agenthooks/agenthooks/sqlstore"
	"github.com/agenthooks/agenthooks/storetest"
)

// The delivery counters take one delta row per statement that changed the
// numbers by status (none for a claim), a reading sums the totals and the
// deltas, and a fold moves the deltas into the totals without changing the
// reading; a fold with nothing to move writes nothing. The store folds only
// when asked here (FoldCountsEvery < 0), so that the deltas can be counted.
func TestDeliveryCountDeltas(t *testing.T) {
	t.Parallel()
	clock := storetest.NewClock(base)
	s, err := postgres.Open(t.Context(), testdb.PostgresURL(t), postgres.Options{Now: clock.Now, MaxConns: 4, FoldCountsEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })

	query := func(q string, dest ...any) {
		t.Helper()
		err := s.Read(t.Context(), func(tx agenthooks.Tx) error { return tx.(*sqlstore.Tx).QueryRowForTest(q).Scan(dest...) })
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	check := func(step string, deltas int, pending, succeeded int64) {
		t.Helper()
		var n int
		query("SELECT count(*) FROM delivery_count_deltas", &n)
		if n != deltas {
			t.Errorf("%s: %d delta rows, want %d", step, n, deltas)
		}
		var st *agenthooks.QueueStats
		if err := s.Read(t.Context(), func(tx agenthooks.Tx) error {
			var err error
			st, err = tx.QueueStats(clock.Now())
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if st.Deliveries[agenthooks.DeliveryPending] != pending || st.Deliveries[agenthooks.DeliverySucceeded] != succeeded {
			t.Errorf("%s: QueueStats %v, want %d pending, %d succeeded", step, st.Deliveries, pending, succeeded)
		}
	}
	fold := func(step string, want int64) {
		t.Helper()
		n, err := s.FoldDeliveryCounts(t.Context())
		if err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		if n != want {
			t.Errorf("%s: folded %d delta rows, want %d", step, n, want)
		}
	}

	_, ids := seed(t, s, 3, base) // three INSERT statements
	check("stored", 3, 3, 0)
	var jobs []*agenthooks.Job
	err = s.WriteRelaxed(t.Context(), func(tx agenthooks.Tx) error {
		jobs, err = tx.ClaimDeliveries(10, base.Add(time.Hour))
		return err
	})
	if err != nil || len(jobs) != len(ids) {
		t.Fatalf("claim: %d jobs, %v", len(jobs), err)
	}
	check("claimed (no status changed)", 3, 3, 0)
	fold("fold", 3)
	check("folded", 0, 3, 0)

	var before, after string
	query("SELECT xmin::text FROM delivery_counts WHERE slot = 0", &before)
	fold("empty fold", 0)
	query("SELECT xmin::text FROM delivery_counts WHERE slot = 0", &after)
	if before != after {
		t.Errorf("a fold with nothing to move updated the totals (xmin %s → %s)", before, after)
	}

	err = s.WriteRelaxed(t.Context(), func(tx agenthooks.Tx) error {
		return tx.CompleteDelivery(&agenthooks.Outcome{DeliveryID: jobs[0].Delivery.ID, Lease: jobs[0].Lease, Status: agenthooks.DeliverySucceeded,
			Attempt: &agenthooks.Attempt{ID: storetest.NewID(), AccountID: jobs[0].Delivery.AccountID, CreatedAt: base, StatusCode: 204}})
	})
	if err != nil {
		t.Fatal(err)
	}
	check("completed", 1, 2, 1)
	fold("fold after the completion", 1)
	check("folded again", 0, 2, 1)
}

// The events a filter dropped are appended as deltas and folded into their
// webhooks with the delivery counts; the reading is the same before and
// after, and the deltas of a deleted webhook go with the fold.
func TestEventsFilteredFold(t *testing.T) {
	t.Parallel()
	clock := storetest.NewClock(base)
	s, err := postgres.Open(t.Context(), testdb.PostgresURL(t), postgres.Options{Now: clock.Now, MaxConns: 4, FoldCountsEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	acct := &agenthooks.Account{ID: storetest.NewID(), Name: "filtered", CreatedAt: base}
	hooks := []*agenthooks.Webhook{}
	for range 2 {
		hooks = append(hooks, &agenthooks.Webhook{ID: storetest.NewID(), AccountID: acct.ID, Name: "w", Endpoint: "https://example.com", Enabled: true,
			Ordering: agenthooks.OrderingNone, Secret: "whsec_c2VjcmV0", CreatedAt: base, UpdatedAt: base})
	}
	write := func(fn func(tx agenthooks.Tx) error) {
		t.Helper()
		if err := s.Write(t.Context(), fn); err != nil {
			t.Fatal(err)
		}
	}
	write(func(tx agenthooks.Tx) error {
		if err := tx.CreateAccount(acct, "hash-"+acct.ID); err != nil {
			return err
		}
		for _, w := range hooks {
			if err := tx.CreateWebhook(w); err != nil {
				return err
			}
		}
		return nil
	})
	write(func(tx agenthooks.Tx) error { return tx.AddEventsFiltered(hooks[0].ID, 2) })
	write(func(tx agenthooks.Tx) error { return tx.AddEventsFiltered(hooks[0].ID, 1) })
	write(func(tx agenthooks.Tx) error { return tx.AddEventsFiltered(hooks[1].ID, 4) })
	write(func(tx agenthooks.Tx) error { return tx.DeleteWebhook(acct.ID, hooks[1].ID) })
	check := func(step string, deltas int) {
		t.Helper()
		err := s.Read(t.Context(), func(tx agenthooks.Tx) error {
			var n int
			if err := tx.(*sqlstore.Tx).QueryRowForTest("SELECT count(*) FROM webhook_filtered_deltas WHERE webhook_id IN ('" + hooks[0].ID + "', '" + hooks[1].ID + "')").Scan(&n); err != nil {
				return err
			}
			if n != deltas {
				t.Errorf("%s: %d delta rows, want %d", step, n, deltas)
			}
			got, err := tx.EventsFiltered(acct.ID, []string{hooks[0].ID, hooks[1].ID})
			if err != nil {
				return err
			}
			if len(got) != 1 || got[hooks[0].ID] != 3 {
				t.Errorf("%s: EventsFiltered = %v, want %s: 3", step, got, hooks[0].ID)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	check("appended", 3)
	if _, err := s.FoldDeliveryCounts(t.Context()); err != nil {
		t.Fatal(err)
	}
	check("folded", 0)
}

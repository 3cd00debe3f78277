package sqlstore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/agenthooks/agenthooks"
	"github.com/agenthooks/agenthooks/internal/testdb"
	"github.com/agenthooks/agenthooks/sqlstore"
)

func newID() string { return uuid.Must(uuid.NewV7()).String() }

// openWithWebhook opens a store on e with clock now, an account and one
// webhook, and returns it, the account's id and a function that stores an event and its due
// delivery to that webhook (with lastErr as its last error) and returns the
// delivery's id.
func openWithWebhook(t *testing.T, e testdb.Engine, now time.Time) (agenthooks.Store, string, func(tx agenthooks.Tx, lastErr string) (string, error)) {
	t.Helper()
	s := e.Open(t, func() time.Time { return now })
	acct := &agenthooks.Account{ID: newID(), Name: "a", CreatedAt: now}
	wh := &agenthooks.Webhook{ID: newID(), AccountID: acct.ID, Name: "w", Endpoint: "https://example.com/h", Enabled: true,
		Ordering: "none", Secret: "whsec_x", CreatedAt: now, UpdatedAt: now}
	if err := s.Write(context.Background(), func(tx agenthooks.Tx) error {
		if err := tx.CreateAccount(acct, "hash"+acct.ID); err != nil {
			return err
		}
		return tx.CreateWebhook(wh)
	}); err != nil {
		t.Fatal(err)
	}
	return s, acct.ID, func(tx agenthooks.Tx, lastErr string) (string, error) {
		ev := &agenthooks.Event{ID: newID(), AccountID: acct.ID, Type: agenthooks.EventConversationClosed, Payload: []byte(`{}`), CreatedAt: now}
		if err := tx.CreateEvent(ev); err != nil {
			return "", err
		}
		d := &agenthooks.Delivery{ID: newID(), AccountID: acct.ID, EventID: ev.ID, WebhookID: wh.ID, Status: agenthooks.DeliveryPending,
			NextAttemptAt: now, CreatedAt: now, UpdatedAt: now, LastError: lastErr}
		return d.ID, tx.CreateDelivery(d)
	}
}

// CompleteDeliveries (one batch: two statements on PostgreSQL) must leave
// exactly what CompleteDelivery, one outcome at a time, leaves: the same
// delivery rows and the same attempts, stale leases included. The test
// records the same outcomes both ways on twin deliveries and compares them.
func TestCompleteDeliveriesMatchesCompleteDelivery(t *testing.T) {
	t.Parallel()
	testdb.ForEachEngine(t, func(t *testing.T, e testdb.Engine) {
		t.Parallel()
		now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
		s, acctID, addDelivery := openWithWebhook(t, e, now)
		ctx := context.Background()
		// Two twins of each case: [0] recorded one by one, [1] in a batch.
		const cases = 6
		var ds [2][cases]string
		if err := s.Write(ctx, func(tx agenthooks.Tx) error {
			for way := range 2 {
				for c := range cases {
					id, err := addDelivery(tx, "earlier error")
					if err != nil {
						return err
					}
					ds[way][c] = id
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		lease := map[string]int64{}
		if err := s.Write(ctx, func(tx agenthooks.Tx) error {
			jobs, err := tx.ClaimDeliveries(100, now.Add(time.Minute))
			for _, j := range jobs {
				lease[j.Delivery.ID] = j.Lease
			}
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if len(lease) != 2*cases {
			t.Fatalf("claimed %d deliveries, want %d", len(lease), 2*cases)
		}
		outcomes := func(way int) []*agenthooks.Outcome {
			att := func(c, status int, errText string) *agenthooks.Attempt {
				return &agenthooks.Attempt{ID: newID(), DeliveryID: ds[way][c], AccountID: acctID, CreatedAt: now, StatusCode: status,
					DurationMS: int64(10 + c), Error: errText, ResponseBody: fmt.Sprintf("body %d", c)}
			}
			return []*agenthooks.Outcome{
				{DeliveryID: ds[way][0], Lease: lease[ds[way][0]], Status: agenthooks.DeliverySucceeded, Attempt: att(0, 200, "")},
				{DeliveryID: ds[way][1], Lease: lease[ds[way][1]], Status: agenthooks.DeliveryPending, NextAttemptAt: now.Add(5 * time.Second), Attempt: att(1, 503, "")},
				{DeliveryID: ds[way][2], Lease: lease[ds[way][2]], Status: agenthooks.DeliveryFailed, Attempt: att(2, 0, "connection refused")},
				// Released without an attempt (held back): the last error stands.
				{DeliveryID: ds[way][3], Lease: lease[ds[way][3]], Status: agenthooks.DeliveryPending, NextAttemptAt: now.Add(100 * time.Millisecond)},
				// A stale lease changes nothing and records no attempt.
				{DeliveryID: ds[way][4], Lease: lease[ds[way][4]] + 7, Status: agenthooks.DeliverySucceeded, Attempt: att(4, 200, "")},
				{DeliveryID: ds[way][5], Lease: lease[ds[way][5]], Status: agenthooks.DeliveryFailed, Attempt: att(5, 410, "")},
			}
		}
		if err := s.Write(ctx, func(tx agenthooks.Tx) error {
			for _, o := range outcomes(0) {
				if err := tx.CompleteDelivery(o); err != nil {
					return err
				}
			}
			return tx.(*sqlstore.Tx).CompleteDeliveries(outcomes(1))
		}); err != nil {
			t.Fatal(err)
		}
		err := s.Read(ctx, func(tx agenthooks.Tx) error {
			for c := range cases {
				var got [2]*agenthooks.Delivery
				var attempts [2][]*agenthooks.Attempt
				for way := range 2 {
					d, err := tx.FindDelivery(acctID, ds[way][c])
					if err != nil {
						return err
					}
					got[way] = d
					if attempts[way], err = tx.ListAttempts(d.ID); err != nil {
						return err
					}
				}
				a, b := *got[0], *got[1]
				if a.Status != b.Status || a.AttemptCount != b.AttemptCount || !a.NextAttemptAt.Equal(b.NextAttemptAt) || a.LastError != b.LastError || !a.UpdatedAt.Equal(b.UpdatedAt) {
					t.Errorf("case %d: one by one %+v, batch %+v", c, a, b)
				}
				if len(attempts[0]) != len(attempts[1]) {
					t.Errorf("case %d: %d attempts one by one, %d in a batch", c, len(attempts[0]), len(attempts[1]))
					continue
				}
				for i := range attempts[0] {
					x, y := *attempts[0][i], *attempts[1][i]
					if x.StatusCode != y.StatusCode || x.DurationMS != y.DurationMS || x.Error != y.Error || x.ResponseBody != y.ResponseBody || !x.CreatedAt.Equal(y.CreatedAt) {
						t.Errorf("case %d attempt %d: one by one %+v, batch %+v", c, i, x, y)
					}
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}

// Batches longer than one chunk (256) and of sizes that are not powers of two
// are recorded whole.
func TestCompleteDeliveriesChunks(t *testing.T) {
	t.Parallel()
	testdb.ForEachEngine(t, func(t *testing.T, e testdb.Engine) {
		t.Parallel()
		now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
		s, acctID, addDelivery := openWithWebhook(t, e, now)
		ctx := context.Background()
		const n = 300
		if err := s.Write(ctx, func(tx agenthooks.Tx) error {
			for range n {
				if _, err := addDelivery(tx, ""); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		var os []*agenthooks.Outcome
		for len(os) < n {
			if err := s.Write(ctx, func(tx agenthooks.Tx) error {
				jobs, err := tx.ClaimDeliveries(256, now.Add(time.Minute))
				for _, j := range jobs {
					os = append(os, &agenthooks.Outcome{DeliveryID: j.Delivery.ID, Lease: j.Lease, Status: agenthooks.DeliverySucceeded,
						Attempt: &agenthooks.Attempt{ID: newID(), DeliveryID: j.Delivery.ID, AccountID: acctID, CreatedAt: now, StatusCode: 204}})
				}
				return err
			}); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Write(ctx, func(tx agenthooks.Tx) error { return tx.(*sqlstore.Tx).CompleteDeliveries(os) }); err != nil {
			t.Fatal(err)
		}
		if err := s.Read(ctx, func(tx agenthooks.Tx) error {
			ds, total, err := tx.ListDeliveries(acctID, agenthooks.DeliveryFilter{Status: agenthooks.DeliverySucceeded}, agenthooks.Page{Page: 1, Size: 1})
			if err != nil {
				return err
			}
			if total != n || len(ds) != 1 {
				t.Errorf("%d deliveries succeeded, want %d", total, n)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	})
}

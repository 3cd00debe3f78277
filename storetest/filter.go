package storetest

import (
	"errors"
	"testing"

	"github.com/agenthooks/agenthooks"
)

// Filters: the webhook's filter is a column of the webhook (RoundTrip and
// Update in webhook.go); the events it dropped are counted per webhook,
// exactly on every engine whatever the engine keeps in between (PostgreSQL:
// deltas folded later), and a filter removed keeps its count.
func exerciseFilters(t *testing.T, setup setupFunc) {
	t.Run("EventsFiltered", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		w1, w2, foreign := b.newWebhook(b.acct), b.newWebhook(b.acct), b.newWebhook(b.other)
		w1.Filter = []byte(`{"data.intent_name": "SALES"}`)
		b.write(t, func(tx agenthooks.Tx) error {
			for _, w := range []*agenthooks.Webhook{w1, w2, foreign} {
				if err := tx.CreateWebhook(w); err != nil {
					return err
				}
			}
			return nil
		})
		counts := func(step string, a *agenthooks.Account, ids []string, want map[string]int64) {
			t.Helper()
			b.read(t, func(tx agenthooks.Tx) error {
				got, err := tx.EventsFiltered(a.ID, ids)
				mustNil(t, err)
				checkEqual(t, step, got, want)
				return nil
			})
		}
		counts("none yet", b.acct, []string{w1.ID, w2.ID}, map[string]int64{})
		counts("no ids", b.acct, nil, map[string]int64{})
		b.write(t, func(tx agenthooks.Tx) error {
			mustNil(t, tx.AddEventsFiltered(w1.ID, 1))
			mustNil(t, tx.AddEventsFiltered(w1.ID, 2))
			mustNil(t, tx.AddEventsFiltered(w2.ID, 0))
			mustNil(t, tx.AddEventsFiltered(foreign.ID, 5))
			mustNil(t, tx.AddEventsFiltered("no-such-webhook", 1))
			// The transaction reads its own counts.
			got, err := tx.EventsFiltered(b.acct.ID, []string{w1.ID})
			mustNil(t, err)
			checkEqual(t, "in the transaction", got, map[string]int64{w1.ID: 3})
			return nil
		})
		counts("added", b.acct, []string{w1.ID, w2.ID, foreign.ID}, map[string]int64{w1.ID: 3})
		counts("other account", b.other, []string{foreign.ID, w1.ID}, map[string]int64{foreign.ID: 5})

		// A rolled-back drop counts nothing.
		rollback := errors.New("rolled back")
		if err := b.store.Write(t.Context(), func(tx agenthooks.Tx) error {
			mustNil(t, tx.AddEventsFiltered(w1.ID, 10))
			return rollback
		}); !errors.Is(err, rollback) {
			t.Fatalf("Write = %v, want the rollback", err)
		}
		counts("rolled back", b.acct, []string{w1.ID}, map[string]int64{w1.ID: 3})

		// Removing the filter keeps the count; the webhook reads it back.
		w1.Filter = nil
		b.write(t, func(tx agenthooks.Tx) error { return tx.UpdateWebhook(w1) })
		counts("filter removed", b.acct, []string{w1.ID}, map[string]int64{w1.ID: 3})
		b.read(t, func(tx agenthooks.Tx) error {
			got, err := tx.FindWebhook(b.acct.ID, w1.ID)
			mustNil(t, err)
			if got.Filter != nil {
				t.Errorf("filter = %q after removing it, want nil", got.Filter)
			}
			return nil
		})
	})
}

package delivery_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/agenthooks/agenthooks"
	"github.com/agenthooks/agenthooks/delivery"
	"github.com/agenthooks/agenthooks/internal/testdb"
)

// Deliveries held back by an open circuit stay due from when they first
// fell due: the queue age (agenthooks_queue_oldest_due_seconds reads
// QueueStats) grows while they wait, where moving their due time kept it
// at 0 and the backlog alert could never fire (CONTRACT.md section 8).
func TestHeldDeliveriesCountInQueueAge(t *testing.T) {
	t.Parallel()
	testdb.ForEachEngine(t, func(t *testing.T, e testdb.Engine) {
		t.Parallel()
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusInternalServerError)
		}))
		defer srv.Close()
		f := newFixture(t, e, srv.URL)
		const n = 10
		for range n {
			f.fire()
		}
		p := startPool(t, f, delivery.Options{CircuitThreshold: 1, CircuitCooldown: time.Second, CircuitMaxPause: time.Second})
		waitFor(t, "deliveries held back by the open circuit", func() bool { return p.Stats().HeldBack >= n })
		heldAt := time.Now()
		stats := func() *agenthooks.QueueStats {
			var st *agenthooks.QueueStats
			if err := f.store.Read(context.Background(), func(tx agenthooks.Tx) error {
				var err error
				st, err = tx.QueueStats(time.Now())
				return err
			}); err != nil {
				t.Fatal(err)
			}
			return st
		}
		if got := stats().OldestDue; got.IsZero() || got.After(heldAt) {
			t.Fatalf("OldestDue = %v while the circuit holds deliveries back, want a time before %v", got, heldAt)
		}
		// Held again and again, they keep the time they first fell due
		// (one probe per pause ends one delivery's wait: most still wait).
		held := p.Stats().HeldBack
		waitFor(t, "more hold-backs", func() bool { return p.Stats().HeldBack > held+n })
		if got := stats().OldestDue; got.IsZero() || got.After(heldAt) {
			t.Errorf("OldestDue = %v after more hold-backs, want a time before %v: holding moved it", got, heldAt)
		}
	})
}

package delivery_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/agenthooks/agenthooks"
	"github.com/agenthooks/agenthooks/delivery"
	"github.com/agenthooks/agenthooks/internal/testdb"
	"github.com/agenthooks/agenthooks/service"
)

// countedFixture is a fixture whose endpoint answers 200 and counts the
// requests it got.
func countedFixture(t *testing.T, e testdb.Engine) (*fixture, *atomic.Int64) {
	t.Helper()
	arrived := new(atomic.Int64)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { arrived.Add(1) }))
	t.Cleanup(srv.Close)
	return newFixture(t, e, srv.URL), arrived
}

// A delivery stored by a service whose Handoff is the pool goes to a worker
// from the transaction that stored it: it arrives with no claim of it, and
// the stored row is leased until the outcome is written.
func TestHandoff(t *testing.T) {
	t.Parallel()
	for _, e := range testdb.Engines() {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			f, arrived := countedFixture(t, e)
			// A poll far slower than the test: a delivery that arrives in
			// time was handed over, not claimed by a poll.
			p := startPoolPolling(t, f, delivery.Options{}, time.Hour)
			f.svc.Handoff = p
			fire := func(n int) {
				for range n {
					d := f.fire()
					waitFor(t, "the delivery's success", func() bool { return f.delivery(d.ID).Status == agenthooks.DeliverySucceeded })
				}
			}
			fire(5)
			claims := p.Stats().Claims
			fire(10)
			if st := p.Stats(); st.Handed != 15 || st.Delivered != 15 {
				t.Errorf("Stats: %d handed, %d delivered; want 15 and 15", st.Handed, st.Delivered)
			}
			// Nothing is due when every delivery is handed over: the writers
			// record the outcomes without claiming in the same transactions
			// (at most one claim more, for a stray wake-up).
			if st := p.Stats(); st.Claims > claims+1 {
				t.Errorf("Stats: %d claims after 10 more handed deliveries, %d before; want no claim per outcome", st.Claims, claims)
			}
			if arrived.Load() != 15 {
				t.Errorf("%d requests arrived, want 15", arrived.Load())
			}
		})
	}
}

// Lease refuses what a worker could not take at once: a pool not started,
// paused or stopped, a webhook that orders its deliveries, every worker
// taken; Unlease gives a reservation back.
func TestLeaseRefusals(t *testing.T) {
	t.Parallel()
	e := testdb.Engines()[0]
	f := newFixture(t, e, "http://127.0.0.1:1/")
	now := time.Now()
	w := f.webhook
	p := delivery.New(delivery.Options{Store: f.store, Workers: 2, PollInterval: time.Hour})
	if _, ok := p.Lease(w, now); ok {
		t.Error("Lease on a pool not started succeeded")
	}
	if err := p.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Stop(context.Background()) })
	ordered := *w
	ordered.Ordering = agenthooks.OrderingConversation
	if _, ok := p.Lease(&ordered, now); ok {
		t.Error("Lease for a webhook with ordering conversation succeeded")
	}
	p.Pause()
	if _, ok := p.Lease(w, now); ok {
		t.Error("Lease on a paused pool succeeded")
	}
	p.Resume()
	until, ok := p.Lease(w, now)
	if !ok || !until.After(now) {
		t.Fatalf("Lease = %v, %v; want a lease in the future", until, ok)
	}
	if _, ok := p.Lease(w, now); !ok {
		t.Fatal("a second Lease with 2 workers failed")
	}
	if _, ok := p.Lease(w, now); ok {
		t.Error("a third Lease with 2 workers succeeded")
	}
	p.Unlease()
	if _, ok := p.Lease(w, now); !ok {
		t.Error("Lease after Unlease failed")
	}
	p.Unlease()
	p.Unlease()
	if err := p.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, ok := p.Lease(w, now); ok {
		t.Error("Lease on a stopped pool succeeded")
	}
}

// A write that reserved a worker and then failed gives the worker back and
// hands nothing over: its delivery was never stored.
func TestHandoffRolledBack(t *testing.T) {
	t.Parallel()
	for _, e := range testdb.Engines() {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			f, arrived := countedFixture(t, e)
			p := startPoolPolling(t, f, delivery.Options{Workers: 1}, time.Hour)
			errRefused := errors.New("refused after the delivery was stored")
			// The dispatcher's first claim may hold the one worker a moment.
			var until time.Time
			waitFor(t, "a lease on an idle pool", func() bool {
				var ok bool
				until, ok = p.Lease(f.webhook, time.Now())
				return ok
			})
			err := f.store.Write(context.Background(), func(tx agenthooks.Tx) error {
				ev := &agenthooks.Event{ID: service.NewID(), AccountID: f.account, Type: agenthooks.EventConversationClosed, Payload: []byte(`{}`), CreatedAt: tx.Now()}
				if err := tx.CreateEvent(ev); err != nil {
					return err
				}
				d := &agenthooks.Delivery{ID: service.NewID(), AccountID: f.account, EventID: ev.ID, WebhookID: f.webhook.ID,
					Status: agenthooks.DeliveryPending, CreatedAt: tx.Now(), UpdatedAt: tx.Now()}
				lease, err := tx.CreateLeasedDelivery(d, until)
				if err != nil {
					return err
				}
				j := &agenthooks.Job{Delivery: *d, Lease: lease, Payload: ev.Payload, Webhook: *f.webhook}
				tx.OnCommit(func(ok bool) {
					if ok {
						p.Handed(j)
					} else {
						p.Unlease()
					}
				})
				return errRefused
			})
			if !errors.Is(err, errRefused) {
				t.Fatalf("Write = %v, want the refusal", err)
			}
			waitFor(t, "the reservation given back", func() bool {
				_, ok := p.Lease(f.webhook, time.Now())
				return ok
			})
			p.Unlease()
			if st := p.Stats(); st.Handed != 0 || st.Busy != 0 || arrived.Load() != 0 {
				t.Errorf("after a failed write: %d handed, %d busy, %d arrived; want 0", st.Handed, st.Busy, arrived.Load())
			}
		})
	}
}

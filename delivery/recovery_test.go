package delivery_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/agenthooks/agenthooks"
	"github.com/agenthooks/agenthooks/delivery"
	"github.com/agenthooks/agenthooks/internal/testdb"
)

// downStore is a store whose relaxed writes (everything the pool writes)
// fail while down is set, as when the database is unreachable.
type downStore struct {
	agenthooks.Store
	down atomic.Bool
}

func (s *downStore) WriteRelaxed(ctx context.Context, fn func(agenthooks.Tx) error) error {
	if s.down.Load() {
		return agenthooks.Errorf(agenthooks.EUNAVAILABLE, "The store is unavailable.")
	}
	return s.Store.WriteRelaxed(ctx, fn)
}

// An outcome that cannot be written while the store is down is kept and
// written when the store is back: the delivery is not sent again.
func TestOutcomesHeldWhileStoreIsDown(t *testing.T) {
	t.Parallel()
	testdb.ForEachEngine(t, func(t *testing.T, e testdb.Engine) {
		t.Parallel()
		var requests atomic.Int32
		var store *downStore
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			requests.Add(1)
			store.down.Store(true) // the store goes down while the attempt runs
		}))
		defer srv.Close()
		f := newFixture(t, e, srv.URL)
		store = &downStore{Store: f.store}
		d := f.fire()
		o := delivery.Options{Store: store, PollInterval: 10 * time.Millisecond}
		p := delivery.New(o)
		if err := p.Start(t.Context()); err != nil {
			t.Fatal(err)
		}
		defer func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = p.Stop(ctx)
		}()
		waitFor(t, "the outcome to be held", func() bool { return p.Stats().Held == 1 })
		if st := f.delivery(d.ID); st.Status != agenthooks.DeliveryPending {
			t.Fatalf("status %s while the store is down, want pending", st.Status)
		}
		store.down.Store(false)
		waitFor(t, "the held outcome to be written", func() bool { return f.delivery(d.ID).Status == agenthooks.DeliverySucceeded })
		waitFor(t, "nothing held", func() bool { return p.Stats().Held == 0 })
		if n := requests.Load(); n != 1 {
			t.Errorf("%d requests, want 1: the held outcome was written, not the delivery repeated", n)
		}
		if dv := f.delivery(d.ID); dv.AttemptCount != 1 || len(dv.Attempts) != 1 {
			t.Errorf("%d attempts recorded, want 1", dv.AttemptCount)
		}
	})
}

// A lease shorter than an attempt holds while the attempt runs: the
// pool renews it, so a second pool on the same store (another worker
// process) never takes the delivery. (That a lease no longer renewed runs
// out is the store's part: storetest's Lease/RenewLeases.)
func TestLeaseRenewedWhileAttemptRuns(t *testing.T) {
	t.Parallel()
	testdb.ForEachEngine(t, func(t *testing.T, e testdb.Engine) {
		t.Parallel()
		var first *delivery.Pool
		var requests atomic.Int32
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			requests.Add(1)
			// Hold the attempt until its lease has been renewed five
			// times: well past the 2s lease it was claimed with (renewed
			// every 667ms, which leaves a loaded machine 1.3s per renewal).
			for deadline := time.Now().Add(30 * time.Second); first.Stats().Renewals < 5 && time.Now().Before(deadline); {
				time.Sleep(5 * time.Millisecond)
			}
		}))
		defer srv.Close()
		f := newFixture(t, e, srv.URL)
		d := f.fire()
		first = delivery.New(delivery.Options{Store: f.store, Lease: 2 * time.Second, PollInterval: 10 * time.Millisecond})
		if err := first.Start(t.Context()); err != nil {
			t.Fatal(err)
		}
		defer first.Stop(context.Background()) //nolint:errcheck // it ends when the attempt does
		waitFor(t, "the attempt to start", func() bool { return requests.Load() == 1 })
		second := startPool(t, f, delivery.Options{Lease: 2 * time.Second})
		waitFor(t, "success", func() bool { return f.delivery(d.ID).Status == agenthooks.DeliverySucceeded })
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := second.Stop(ctx); err != nil {
			t.Fatal(err)
		}
		if n, a := requests.Load(), second.Stats().Attempts; n != 1 || a != 0 {
			t.Errorf("%d requests (%d by the second pool), want 1 by the first: its lease was not renewed", n, a)
		}
	})
}

// poisonStore refuses, with an error that is not the store's
// unavailability, every completion that includes one delivery.
type poisonStore struct {
	agenthooks.Store
	poison atomic.Value // delivery id
}

type poisonTx struct {
	agenthooks.Tx
	poison string
}

func (tx poisonTx) CompleteDeliveries(os []*agenthooks.Outcome) error {
	for _, o := range os {
		if o.DeliveryID == tx.poison {
			return errors.New("refused")
		}
	}
	return tx.Tx.CompleteDeliveries(os)
}

func (s *poisonStore) WriteRelaxed(ctx context.Context, fn func(agenthooks.Tx) error) error {
	id, _ := s.poison.Load().(string)
	return s.Store.WriteRelaxed(ctx, func(tx agenthooks.Tx) error { return fn(poisonTx{Tx: tx, poison: id}) })
}

// An outcome the store keeps refusing (not because it is unavailable) does
// not hold the others back: after a few tries each is written on its own,
// and the refused one is given up (its lease will run out).
func TestRefusedOutcomeDoesNotHoldOthers(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	f := newFixture(t, testdb.Engines()[0], srv.URL)
	poisoned, healthy := f.fire(), f.fire()
	store := &poisonStore{Store: f.store}
	store.poison.Store(poisoned.ID)
	p := delivery.New(delivery.Options{Store: store, Lease: time.Hour, PollInterval: 10 * time.Millisecond})
	if err := p.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = p.Stop(ctx)
	}()
	waitFor(t, "the healthy delivery's outcome", func() bool { return f.delivery(healthy.ID).Status == agenthooks.DeliverySucceeded })
	waitFor(t, "nothing held", func() bool { return p.Stats().Held == 0 })
	if d := f.delivery(poisoned.ID); d.Status != agenthooks.DeliveryPending || d.AttemptCount != 0 {
		t.Errorf("refused outcome: delivery %s with %d attempts, want pending with none recorded", d.Status, d.AttemptCount)
	}
}

// An outage as long as the lease: the leases of the attempts that
// succeeded while the store was down run out, but the process writes the
// outcomes it held before it claims again, so it never attempts one of
// them a second time (CONTRACT.md section 8).
func TestHeldOutcomesWrittenBeforeClaimingAgain(t *testing.T) {
	t.Parallel()
	testdb.ForEachEngine(t, func(t *testing.T, e testdb.Engine) {
		t.Parallel()
		const n, lease = 12, time.Second
		var (
			store   *downStore
			mu      sync.Mutex
			hits    = map[string]int{}
			start   = make(chan struct{})
			tripped atomic.Bool
		)
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			<-start
			mu.Lock()
			hits[r.Header.Get("webhook-id")]++
			mu.Unlock()
			if tripped.CompareAndSwap(false, true) {
				store.down.Store(true) // the store goes down while the attempts run
			}
		}))
		defer srv.Close()
		f := newFixture(t, e, srv.URL)
		store = &downStore{Store: f.store}
		for range n {
			f.fire()
		}
		p := delivery.New(delivery.Options{Store: store, Lease: lease, PollInterval: 10 * time.Millisecond})
		if err := p.Start(t.Context()); err != nil {
			t.Fatal(err)
		}
		defer func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = p.Stop(ctx)
		}()
		waitFor(t, "every delivery in flight", func() bool { return p.Stats().Busy == n })
		close(start)
		waitFor(t, "every outcome held", func() bool { return p.Stats().Held == n })
		// The outage lasts longer than the lease: no renewal could be made.
		downAt := time.Now()
		waitFor(t, "the leases to run out", func() bool { return time.Since(downAt) > lease+lease/2 })
		store.down.Store(false)
		waitFor(t, "every delivery succeeded", func() bool {
			ds, err := f.svc.ListDeliveries(context.Background(), f.account, agenthooks.DeliveryFilter{Status: agenthooks.DeliverySucceeded}, agenthooks.Page{Page: 1, Size: 100})
			return err == nil && ds.Total == n
		})
		waitFor(t, "nothing held", func() bool { return p.Stats().Held == 0 })
		mu.Lock()
		defer mu.Unlock()
		if len(hits) != n {
			t.Errorf("%d events received, want %d", len(hits), n)
		}
		for id, k := range hits {
			if k != 1 {
				t.Errorf("event %s received %d times, want once: its held outcome was written after a claim took it again", id, k)
			}
		}
	})
}

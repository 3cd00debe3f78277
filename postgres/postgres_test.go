package postgres_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/agenthooks/agenthooks"
	"github.com/agenthooks/agenthooks/internal/testdb"
	"github.com/agenthooks/agenthooks/postgres"
	"github.com/agenthooks/agenthooks/sqlstore"
	"github.com/agenthooks/agenthooks/storetest"
)

func TestExercise(t *testing.T) {
	t.Parallel()
	storetest.Exercise(t, testdb.OpenPostgres)
}

var base = time.Date(2025, 3, 14, 15, 9, 26, 535897000, time.UTC)

// openOn opens a store on the database at url (several instances may share
// it, as several processes do); it is closed at the end of t.
func openOn(t *testing.T, url string, now func() time.Time, maxConns int) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(t.Context(), url, postgres.Options{Now: now, MaxConns: maxConns})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// seed stores an account, an enabled webhook (no per-conversation ordering)
// and n pending deliveries due at due, each of its own event, in one write.
func seed(t *testing.T, s agenthooks.Store, n int, due time.Time) (*agenthooks.Webhook, []string) {
	t.Helper()
	acct := &agenthooks.Account{ID: storetest.NewID(), Name: "acct", CreatedAt: base}
	w := &agenthooks.Webhook{
		ID: storetest.NewID(), AccountID: acct.ID, Name: "hook", Endpoint: "https://example.com/",
		Enabled: true, Ordering: agenthooks.OrderingNone, Secret: "whsec_eA==", CreatedAt: base, UpdatedAt: base,
	}
	ids := make([]string, n)
	err := s.Write(t.Context(), func(tx agenthooks.Tx) error {
		if err := tx.CreateAccount(acct, "hash-"+acct.ID); err != nil {
			return err
		}
		if err := tx.CreateWebhook(w); err != nil {
			return err
		}
		for i := range ids {
			e := &agenthooks.Event{ID: storetest.NewID(), AccountID: acct.ID, Type: agenthooks.EventConversationClosed, Payload: []byte(`{}`), CreatedAt: base}
			if err := tx.CreateEvent(e); err != nil {
				return err
			}
			ids[i] = storetest.NewID()
			if err := tx.CreateDelivery(&agenthooks.Delivery{
				ID: ids[i], AccountID: acct.ID, EventID: e.ID, WebhookID: w.ID, Status: agenthooks.DeliveryPending,
				NextAttemptAt: due, CreatedAt: base, UpdatedAt: base,
			}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("seed: %v", err)
	}
	return w, ids
}

func TestSynchronousCommit(t *testing.T) {
	t.Parallel()

	t.Run("On", func(t *testing.T) {
		t.Parallel()
		s := openOn(t, testdb.PostgresURL(t), nil, 4)
		for range 4 { // more than one pooled connection
			v, err := s.Setting(t.Context(), "synchronous_commit")
			if err != nil {
				t.Fatal(err)
			}
			if v != "on" {
				t.Fatalf("synchronous_commit = %q, want on", v)
			}
		}
	})

	// A database whose default is off (an operator's tuning) still gets
	// durable commits: the store sets the parameter on every connection.
	t.Run("OnWhenDatabaseDefaultIsOff", func(t *testing.T) {
		t.Parallel()
		url := testdb.PostgresURL(t)
		conn, err := pgx.Connect(t.Context(), url)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := conn.Exec(t.Context(), "ALTER DATABASE "+pgx.Identifier{conn.Config().Database}.Sanitize()+" SET synchronous_commit = off"); err != nil {
			t.Fatal(err)
		}
		var def string
		if err := conn.QueryRow(t.Context(), "SELECT current_setting('synchronous_commit')").Scan(&def); err != nil {
			t.Fatal(err)
		}
		conn.Close(t.Context())
		s := openOn(t, url, nil, 4)
		v, err := s.Setting(t.Context(), "synchronous_commit")
		if err != nil {
			t.Fatal(err)
		}
		if v != "on" {
			t.Fatalf("synchronous_commit = %q with a database default of %q, want on", v, def)
		}
	})
}

func TestMigrations(t *testing.T) {
	t.Parallel()
	ms := postgres.Migrations()
	for i, m := range ms {
		if m.Version != i+1 || m.SQL == "" {
			t.Errorf("migration %d: version %d, %d bytes", i, m.Version, len(m.SQL))
		}
	}
	// Instances starting together apply each migration once.
	url := testdb.PostgresURL(t)
	var wg sync.WaitGroup
	stores := make([]*postgres.Store, 4)
	errs := make([]error, len(stores))
	for i := range stores {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stores[i], errs[i] = postgres.Open(t.Context(), url, postgres.Options{MaxConns: 2})
		}()
	}
	wg.Wait()
	for i, s := range stores {
		if errs[i] != nil {
			t.Fatalf("concurrent Open %d: %v", i, errs[i])
		}
		t.Cleanup(func() { s.Close() })
	}
	var count, maxVersion int
	err := stores[0].Read(t.Context(), func(tx agenthooks.Tx) error {
		return tx.(*sqlstore.Tx).QueryRowForTest("SELECT COUNT(*), MAX(version) FROM schema_migrations").Scan(&count, &maxVersion)
	})
	if err != nil {
		t.Fatal(err)
	}
	if count != len(ms) || maxVersion != len(ms) {
		t.Errorf("schema_migrations: %d rows, max %d; want %d", count, maxVersion, len(ms))
	}
}

// Two instances on one database, each with many workers claiming in loops:
// with leases far longer than the test, every delivery must be claimed
// exactly once. This is the proof that two processes never work the same
// delivery at the same time (FOR UPDATE SKIP LOCKED plus the lease).
func TestTwoInstancesNeverClaimTheSameDelivery(t *testing.T) {
	t.Parallel()
	const deliveries, workersPerInstance, batch = 2000, 8, 7
	url := testdb.PostgresURL(t)
	clock := storetest.NewClock(base)
	a := openOn(t, url, clock.Now, workersPerInstance+2)
	b := openOn(t, url, clock.Now, workersPerInstance+2)
	_, ids := seed(t, a, deliveries, base)
	want := make(map[string]bool, len(ids))
	for _, id := range ids {
		want[id] = true
	}

	var (
		mu      sync.Mutex
		claimed = make(map[string]string, deliveries) // delivery id → instance/worker
		dups    []string
		total   atomic.Int64
	)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	var wg sync.WaitGroup
	for inst, s := range map[string]*postgres.Store{"A": a, "B": b} {
		for w := range workersPerInstance {
			who := fmt.Sprintf("%s/%d", inst, w)
			wg.Add(1)
			go func() {
				defer wg.Done()
				for total.Load() < deliveries && ctx.Err() == nil {
					var jobs []*agenthooks.Job
					err := s.Write(ctx, func(tx agenthooks.Tx) error {
						var err error
						jobs, err = tx.ClaimDeliveries(batch, base.Add(time.Hour))
						return err
					})
					if err != nil {
						if ctx.Err() == nil {
							t.Errorf("%s: claim: %v", who, err)
						}
						return
					}
					mu.Lock()
					for _, j := range jobs {
						if prev, ok := claimed[j.Delivery.ID]; ok {
							dups = append(dups, fmt.Sprintf("%s claimed by %s and %s", j.Delivery.ID, prev, who))
						}
						claimed[j.Delivery.ID] = who
					}
					mu.Unlock()
					total.Add(int64(len(jobs)))
					// Finish half of the jobs at once, as workers do; the rest stay leased.
					for i, j := range jobs {
						if i%2 == 1 {
							continue
						}
						err := s.Write(ctx, func(tx agenthooks.Tx) error {
							return tx.CompleteDelivery(&agenthooks.Outcome{
								DeliveryID: j.Delivery.ID, Lease: j.Lease, Status: agenthooks.DeliverySucceeded,
								Attempt: &agenthooks.Attempt{ID: storetest.NewID(), AccountID: j.Delivery.AccountID, CreatedAt: base, StatusCode: 204},
							})
						})
						if err != nil && ctx.Err() == nil {
							t.Errorf("%s: complete: %v", who, err)
						}
					}
				}
			}()
		}
	}
	wg.Wait()
	if ctx.Err() != nil {
		t.Fatalf("claimed %d of %d deliveries before the deadline", total.Load(), deliveries)
	}
	for _, d := range dups {
		t.Error(d)
	}
	if len(claimed) != deliveries || total.Load() != deliveries {
		t.Errorf("claimed %d distinct deliveries in %d claims, want %d exactly once", len(claimed), total.Load(), deliveries)
	}
	byInstance := map[byte]int{}
	for id, who := range claimed {
		if !want[id] {
			t.Errorf("claimed unknown delivery %s", id)
		}
		byInstance[who[0]]++
	}
	t.Logf("claims per instance: A=%d B=%d", byInstance['A'], byInstance['B'])
	// Nothing is left to claim while the leases last.
	for _, s := range []*postgres.Store{a, b} {
		err := s.Write(t.Context(), func(tx agenthooks.Tx) error {
			jobs, err := tx.ClaimDeliveries(100, base.Add(time.Hour))
			if len(jobs) != 0 {
				t.Errorf("claimed %d more deliveries under live leases", len(jobs))
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// Two instances claiming deliveries of conversation-ordered webhooks: a
// conversation's next delivery is claimed only after the previous one ended,
// so each conversation is delivered in creation order across processes.
func TestTwoInstancesKeepConversationOrder(t *testing.T) {
	t.Parallel()
	const conversations, perConversation, workersPerInstance = 100, 8, 6
	url := testdb.PostgresURL(t)
	clock := storetest.NewClock(base)
	a := openOn(t, url, clock.Now, workersPerInstance+2)
	b := openOn(t, url, clock.Now, workersPerInstance+2)

	acct := &agenthooks.Account{ID: storetest.NewID(), Name: "acct", CreatedAt: base}
	w := &agenthooks.Webhook{ID: storetest.NewID(), AccountID: acct.ID, Name: "ordered", Endpoint: "https://example.com/", Enabled: true,
		Ordering: agenthooks.OrderingConversation, Secret: "whsec_eA==", CreatedAt: base, UpdatedAt: base}
	order := map[string][]string{} // conversation → delivery ids in creation order
	convOf := map[string]string{}
	err := a.Write(t.Context(), func(tx agenthooks.Tx) error {
		if err := tx.CreateAccount(acct, "h"); err != nil {
			return err
		}
		if err := tx.CreateWebhook(w); err != nil {
			return err
		}
		convs := make([]string, conversations)
		for i := range convs {
			convs[i] = storetest.NewID()
		}
		for range perConversation { // interleaved, as live traffic is
			for _, c := range convs {
				e := &agenthooks.Event{ID: storetest.NewID(), AccountID: acct.ID, Type: agenthooks.EventConversationUpdated, ConversationID: c, Payload: []byte(`{}`), CreatedAt: base}
				if err := tx.CreateEvent(e); err != nil {
					return err
				}
				d := &agenthooks.Delivery{ID: storetest.NewID(), AccountID: acct.ID, EventID: e.ID, WebhookID: w.ID, ConversationID: c,
					Status: agenthooks.DeliveryPending, NextAttemptAt: base, CreatedAt: base, UpdatedAt: base}
				if err := tx.CreateDelivery(d); err != nil {
					return err
				}
				order[c] = append(order[c], d.ID)
				convOf[d.ID] = c
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	var (
		seq       atomic.Int64
		mu        sync.Mutex
		claimSeq  = map[string]int64{} // delivery → sequence number taken after its claim committed
		finishSeq = map[string]int64{} // delivery → sequence number taken before its completion commits
		done      atomic.Int64
	)
	const total = conversations * perConversation
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	var wg sync.WaitGroup
	for i := range 2 * workersPerInstance {
		s := a
		if i%2 == 1 {
			s = b
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for done.Load() < total && ctx.Err() == nil {
				var jobs []*agenthooks.Job
				err := s.Write(ctx, func(tx agenthooks.Tx) error {
					var err error
					jobs, err = tx.ClaimDeliveries(5, base.Add(time.Hour))
					return err
				})
				if err != nil {
					if ctx.Err() == nil {
						t.Errorf("claim: %v", err)
					}
					return
				}
				mu.Lock()
				for _, j := range jobs {
					if _, dup := claimSeq[j.Delivery.ID]; dup {
						t.Errorf("delivery %s claimed twice", j.Delivery.ID)
					}
					claimSeq[j.Delivery.ID] = seq.Add(1)
				}
				mu.Unlock()
				for _, j := range jobs {
					mu.Lock()
					finishSeq[j.Delivery.ID] = seq.Add(1)
					mu.Unlock()
					err := s.Write(ctx, func(tx agenthooks.Tx) error {
						return tx.CompleteDelivery(&agenthooks.Outcome{DeliveryID: j.Delivery.ID, Lease: j.Lease, Status: agenthooks.DeliverySucceeded,
							Attempt: &agenthooks.Attempt{ID: storetest.NewID(), AccountID: acct.ID, CreatedAt: base, StatusCode: 200}})
					})
					if err != nil {
						if ctx.Err() == nil {
							t.Errorf("complete: %v", err)
						}
						return
					}
					done.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	if got := done.Load(); got != total {
		t.Fatalf("completed %d of %d deliveries", got, total)
	}
	for c, ids := range order {
		for k := 1; k < len(ids); k++ {
			prev, next := ids[k-1], ids[k]
			if claimSeq[next] < finishSeq[prev] {
				t.Errorf("conversation %s: delivery %d claimed (seq %d) before delivery %d finished (seq %d)", c, k, claimSeq[next], k-1, finishSeq[prev])
			}
		}
	}
}

// A's lease runs out (by the shared injected clock) before A finishes; B
// claims the delivery; A's late completion must change nothing.
func TestLeaseExpiryAcrossInstances(t *testing.T) {
	t.Parallel()
	url := testdb.PostgresURL(t)
	clock := storetest.NewClock(base)
	a := openOn(t, url, clock.Now, 4)
	b := openOn(t, url, clock.Now, 4)
	w, ids := seed(t, a, 1, base)
	id := ids[0]
	const lease = 30 * time.Second

	claim := func(s *postgres.Store) []*agenthooks.Job {
		t.Helper()
		var jobs []*agenthooks.Job
		err := s.Write(t.Context(), func(tx agenthooks.Tx) error {
			var err error
			jobs, err = tx.ClaimDeliveries(10, clock.Now().Add(lease))
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return jobs
	}
	complete := func(s *postgres.Store, j *agenthooks.Job, code int) {
		t.Helper()
		err := s.Write(t.Context(), func(tx agenthooks.Tx) error {
			return tx.CompleteDelivery(&agenthooks.Outcome{
				DeliveryID: j.Delivery.ID, Lease: j.Lease, Status: agenthooks.DeliverySucceeded,
				Attempt: &agenthooks.Attempt{ID: storetest.NewID(), AccountID: j.Delivery.AccountID, CreatedAt: clock.Now(), StatusCode: code},
			})
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	find := func() (*agenthooks.Delivery, []*agenthooks.Attempt) {
		t.Helper()
		var d *agenthooks.Delivery
		var as []*agenthooks.Attempt
		err := b.Read(t.Context(), func(tx agenthooks.Tx) error {
			var err error
			if d, err = tx.FindDelivery(w.AccountID, id); err != nil {
				return err
			}
			as, err = tx.ListAttempts(id)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return d, as
	}

	ja := claim(a)
	if len(ja) != 1 {
		t.Fatalf("A claimed %d, want 1", len(ja))
	}
	if jb := claim(b); len(jb) != 0 {
		t.Fatalf("B claimed under A's live lease: %d jobs", len(jb))
	}
	clock.Add(lease)
	jb := claim(b)
	if len(jb) != 1 || jb[0].Delivery.ID != id || jb[0].Lease == ja[0].Lease {
		t.Fatalf("B after A's lease expired: %d jobs, want the delivery under a new lease", len(jb))
	}

	complete(a, ja[0], 200) // too late
	d, as := find()
	if d.Status != agenthooks.DeliveryPending || d.AttemptCount != 0 || len(as) != 0 {
		t.Fatalf("A's stale completion took effect: status %s, attempt_count %d, %d attempts", d.Status, d.AttemptCount, len(as))
	}
	complete(b, jb[0], 204)
	d, as = find()
	if d.Status != agenthooks.DeliverySucceeded || d.AttemptCount != 1 || len(as) != 1 || as[0].StatusCode != 204 {
		t.Fatalf("B's completion: status %s, attempt_count %d, %d attempts; want succeeded with B's 204", d.Status, d.AttemptCount, len(as))
	}
}

// A delivery stored through instance A wakes instance B's workers through
// LISTEN/NOTIFY; a rolled-back write does not.
func TestNotifyWakesOtherInstance(t *testing.T) {
	t.Parallel()
	url := testdb.PostgresURL(t)
	a := openOn(t, url, nil, 4)
	b := openOn(t, url, nil, 4)
	w, _ := seed(t, a, 0, base)

	// B's listener signals once when its LISTEN is in place: after that,
	// every notification reaches it.
	wait := func(what string) {
		t.Helper()
		select {
		case <-b.Wake():
		case <-time.After(10 * time.Second): // generous: not a speed assertion
			t.Fatalf("B's Wake did not receive within 10s %s", what)
		}
	}
	wait("of opening (listener ready)")
	drain(b.Wake())

	store := func(fail bool) error {
		return a.Write(t.Context(), func(tx agenthooks.Tx) error {
			e := &agenthooks.Event{ID: storetest.NewID(), AccountID: w.AccountID, Type: agenthooks.EventConversationClosed, Payload: []byte(`{}`), CreatedAt: base}
			if err := tx.CreateEvent(e); err != nil {
				return err
			}
			if err := tx.CreateDelivery(&agenthooks.Delivery{ID: storetest.NewID(), AccountID: w.AccountID, EventID: e.ID, WebhookID: w.ID, Status: agenthooks.DeliveryPending, NextAttemptAt: base, CreatedAt: base, UpdatedAt: base}); err != nil {
				return err
			}
			if fail {
				return fmt.Errorf("roll back")
			}
			return nil
		})
	}

	if err := store(true); err == nil {
		t.Fatal("failing write succeeded")
	}
	select {
	case <-b.Wake():
		t.Fatal("B woke for a write that rolled back")
	case <-time.After(time.Second):
	}

	if err := store(false); err != nil {
		t.Fatal(err)
	}
	wait("of A storing a delivery")
}

func drain(c <-chan struct{}) {
	for {
		select {
		case <-c:
		default:
			return
		}
	}
}

package storetest

import (
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/agenthooks/agenthooks"
)

// globalTables hold no account's rows: the deletion test does not expect
// ownEverything to put a row in them, nor compares their row counts (the
// heartbeats of processes and the queue's counters by status, whose rows a
// write may add: storetest/ops.go checks those counts). An engine need not
// have all of them (delivery_count_deltas is PostgreSQL's).
var globalTables = map[string]bool{"schema_migrations": true, "heartbeats": true, "delivery_counts": true, "delivery_count_deltas": true,
	"webhook_filtered_deltas": true} // transient, folded into webhooks (migration filter)

// accountRows is tableRows without the global tables.
func (b *testBundle) accountRows(t testing.TB) map[string]int {
	rows := b.tableRows(t)
	for table := range globalTables {
		delete(rows, table)
	}
	return rows
}

func (b *testBundle) newKey(a *agenthooks.Account, name string) *agenthooks.APIKey {
	id := NewID()
	return &agenthooks.APIKey{ID: id, AccountID: a.ID, Name: name, Prefix: "ak_" + id[:9], Hash: "hash-" + id, CreatedAt: b.clock.Now()}
}

func (b *testBundle) apiKey(t testing.TB, a *agenthooks.Account, name string) *agenthooks.APIKey {
	t.Helper()
	k := b.newKey(a, name)
	b.write(t, func(tx agenthooks.Tx) error { return tx.CreateAPIKey(k) })
	return k
}

func (b *testBundle) tableRows(t testing.TB) map[string]int {
	t.Helper()
	var counts map[string]int
	b.read(t, func(tx agenthooks.Tx) error {
		var err error
		counts, err = tx.CountTableRows()
		return err
	})
	return counts
}

// owned is what ownEverything made.
type owned struct {
	keys     []*agenthooks.APIKey
	inFlight *agenthooks.Job // claimed and not completed
}

// ownEverything gives account a one row of every kind there is: keys,
// resources, a conversation with all that hangs on it, events, a pending
// delivery, a delivery with an attempt, one claimed and in flight, and an
// idempotency key. due is when its deliveries are due; when claim is true,
// they are claimed (every other due delivery must be due later). A table a
// migration adds needs a row here too: TestExercise/AccountDeletion fails
// until it gets one.
func (b *testBundle) ownEverything(t testing.TB, a *agenthooks.Account, claim bool) owned {
	t.Helper()
	var o owned
	o.keys = append(o.keys, b.apiKey(t, a, "second"), b.apiKey(t, a, "third"))
	w := b.webhook(t, a)
	as := b.assistant(t, a, w.ID)
	b.widget(t, a)
	f := b.form(t, a, w.ID)
	in := b.intent(t, a)
	b.eventType(t, a, "call.ended")
	ct := b.contact(t, a)
	c := b.conversation(t, a, as.ID, b.clock.Now())
	b.message(t, a, c.ID, "hello "+unicode)
	now := b.clock.Now()
	b.write(t, func(tx agenthooks.Tx) error {
		if err := tx.CreateCapturedForm(&agenthooks.CapturedForm{ID: NewID(), AccountID: a.ID, ConversationID: c.ID, FormID: f.ID,
			FieldValues: map[string]any{"email": "x@example.com"}, CreatedAt: now, UpdatedAt: now}); err != nil {
			return err
		}
		if err := tx.CreateCapturedIntent(&agenthooks.CapturedIntent{ID: NewID(), AccountID: a.ID, ConversationID: c.ID, IntentID: in.ID, CreatedAt: now}); err != nil {
			return err
		}
		_ = ct
		if err := tx.AddAssistantIntent(a.ID, as.ID, in.ID); err != nil {
			return err
		}
		if err := tx.CreateSession(&agenthooks.Session{TokenHash: "session " + a.ID, AccountID: a.ID, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
			return err
		}
		if err := tx.CreatePortalToken(&agenthooks.PortalToken{TokenHash: "portal " + a.ID, AccountID: a.ID, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
			return err
		}
		if _, err := tx.ClaimIdempotencyKey(a.ID, "idem "+a.ID, "fp", now.Add(-time.Minute), now.Add(-time.Hour)); err != nil {
			return err
		}
		return tx.FinishIdempotencyKey(a.ID, "idem "+a.ID, 201, []byte(`{"ok":true}`))
	})
	due := b.clock.Now()
	if !claim {
		due = due.Add(1000 * time.Hour)
	}
	done := b.pending(t, w, due)
	flying := b.pending(t, w, due)
	b.pending(t, w, due.Add(time.Hour)) // waits for its turn
	if !claim {
		return o
	}
	jobs := b.claim(t, 10, b.clock.Now().Add(time.Minute))
	if !sameIDs(jobIDs(jobs), []string{done.ID, flying.ID}) {
		t.Fatalf("claimed %v, want %v", jobIDs(jobs), []string{done.ID, flying.ID})
	}
	j := findJob(jobs, done.ID)
	b.complete(t, &agenthooks.Outcome{DeliveryID: done.ID, Lease: j.Lease, Attempt: b.newAttempt(done, 500, ""),
		Status: agenthooks.DeliveryPending, NextAttemptAt: b.clock.Now()})
	o.inFlight = findJob(jobs, flying.ID)
	return o
}

func exerciseAPIKeys(t *testing.T, setup setupFunc) {
	t.Run("CreateAccountKey", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		a := &agenthooks.Account{ID: NewID(), Name: "Keyed", CreatedAt: b.clock.Now()}
		k := b.newKey(a, "first "+unicode)
		b.write(t, func(tx agenthooks.Tx) error { return tx.CreateAccountWithKey(a, k) })
		b.read(t, func(tx agenthooks.Tx) error {
			got, err := tx.FindAccountByKeyHash(k.Hash)
			mustNil(t, err)
			checkEqual(t, "FindAccountByKeyHash", got, stored(a))
			keys, total, err := tx.ListAPIKeys(a.ID, agenthooks.Page{Page: 1, Size: 10})
			mustNil(t, err)
			want := stored(k)
			want.Hash = ""
			checkEqual(t, "ListAPIKeys", keys, []*agenthooks.APIKey{want})
			if total != 1 {
				t.Errorf("total %d, want 1", total)
			}
			return nil
		})
		// The key CreateAccount stores from a hash alone is named "default".
		b.read(t, func(tx agenthooks.Tx) error {
			keys, _, err := tx.ListAPIKeys(b.acct.ID, agenthooks.Page{Page: 1, Size: 10})
			mustNil(t, err)
			if len(keys) != 1 || keys[0].Name != "default" || keys[0].ID == "" || !keys[0].LastUsedAt.IsZero() {
				t.Errorf("CreateAccount's key: %+v", keys)
			}
			return nil
		})
	})

	t.Run("SeveralKeys", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		k1 := b.apiKey(t, b.acct, "one")
		b.clock.Add(time.Second)
		k2 := b.apiKey(t, b.acct, "two")
		b.apiKey(t, b.other, "theirs")
		b.read(t, func(tx agenthooks.Tx) error {
			for _, k := range []*agenthooks.APIKey{k1, k2} {
				got, err := tx.FindAccountByKeyHash(k.Hash)
				mustNil(t, err)
				checkEqual(t, "account of key "+k.Name, got, stored(b.acct))
			}
			keys, total, err := tx.ListAPIKeys(b.acct.ID, agenthooks.Page{Page: 1, Size: 2})
			mustNil(t, err)
			if total != 3 || len(keys) != 2 || keys[0].Name != "default" || keys[1].ID != k1.ID {
				t.Errorf("page 1: total %d, %v", total, keys)
			}
			keys, _, err = tx.ListAPIKeys(b.acct.ID, agenthooks.Page{Page: 2, Size: 2})
			mustNil(t, err)
			if len(keys) != 1 || keys[0].ID != k2.ID || keys[0].Hash != "" {
				t.Errorf("page 2: %v", keys)
			}
			got, err := tx.FindAPIKey(b.acct.ID, k2.ID)
			mustNil(t, err)
			want := stored(k2)
			want.Hash = ""
			checkEqual(t, "FindAPIKey", got, want)
			_, err = tx.FindAPIKey(b.other.ID, k2.ID)
			mustCode(t, err, agenthooks.ENOTFOUND, "another account's key")
			for _, id := range badIDs() {
				_, err = tx.FindAPIKey(b.acct.ID, id)
				mustCode(t, err, agenthooks.ENOTFOUND, fmt.Sprintf("FindAPIKey(%.40q)", id))
			}
			return nil
		})
	})

	t.Run("Delete", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		k1 := b.apiKey(t, b.acct, "one")
		theirs := b.apiKey(t, b.other, "theirs")
		err := b.store.Write(t.Context(), func(tx agenthooks.Tx) error { return tx.DeleteAPIKey(b.acct.ID, theirs.ID) })
		mustCode(t, err, agenthooks.ENOTFOUND, "deleting another account's key")
		for _, id := range badIDs() {
			err := b.store.Write(t.Context(), func(tx agenthooks.Tx) error { return tx.DeleteAPIKey(b.acct.ID, id) })
			mustCode(t, err, agenthooks.ENOTFOUND, fmt.Sprintf("DeleteAPIKey(%.40q)", id))
		}
		err = b.store.Write(t.Context(), func(tx agenthooks.Tx) error { return tx.DeleteAPIKey(NewID(), k1.ID) })
		mustCode(t, err, agenthooks.ENOTFOUND, "deleting a key of an unknown account")

		b.write(t, func(tx agenthooks.Tx) error { return tx.DeleteAPIKey(b.acct.ID, k1.ID) })
		b.read(t, func(tx agenthooks.Tx) error {
			_, err := tx.FindAccountByKeyHash(k1.Hash)
			mustCode(t, err, agenthooks.ENOTFOUND, "a deleted key")
			_, err = tx.FindAccountByKeyHash("hash-" + b.acct.ID)
			mustNil(t, err)
			return nil
		})
		var last *agenthooks.APIKey
		b.read(t, func(tx agenthooks.Tx) error {
			keys, _, err := tx.ListAPIKeys(b.acct.ID, agenthooks.Page{Page: 1, Size: 10})
			if len(keys) == 1 {
				last = keys[0]
			}
			return err
		})
		if last == nil {
			t.Fatal("the account does not have exactly one key left")
		}
		err = b.store.Write(t.Context(), func(tx agenthooks.Tx) error { return tx.DeleteAPIKey(b.acct.ID, last.ID) })
		mustCode(t, err, agenthooks.ECONFLICT, "deleting the last key")
		b.read(t, func(tx agenthooks.Tx) error {
			_, err := tx.FindAccountByKeyHash("hash-" + b.acct.ID)
			mustNil(t, err)
			_, err = tx.FindAccountByKeyHash(theirs.Hash)
			mustNil(t, err)
			return nil
		})
	})

	t.Run("ReplaceAccountKeys", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		old := b.apiKey(t, b.acct, "old")
		k := b.newKey(b.acct, "default")
		b.write(t, func(tx agenthooks.Tx) error { return tx.ReplaceAccountKeys(b.acct.ID, k) })
		b.read(t, func(tx agenthooks.Tx) error {
			for _, h := range []string{old.Hash, "hash-" + b.acct.ID} {
				_, err := tx.FindAccountByKeyHash(h)
				mustCode(t, err, agenthooks.ENOTFOUND, "a replaced key")
			}
			_, err := tx.FindAccountByKeyHash(k.Hash)
			mustNil(t, err)
			_, total, err := tx.ListAPIKeys(b.acct.ID, agenthooks.Page{Page: 1, Size: 10})
			mustNil(t, err)
			if total != 1 {
				t.Errorf("%d keys after ReplaceAccountKeys, want 1", total)
			}
			_, err = tx.FindAccountByKeyHash("hash-" + b.other.ID)
			mustNil(t, err)
			return err
		})
		err := b.store.Write(t.Context(), func(tx agenthooks.Tx) error { return tx.ReplaceAccountKeys(NewID(), b.newKey(b.acct, "x")) })
		mustCode(t, err, agenthooks.ENOTFOUND, "ReplaceAccountKeys of an unknown account")
	})

	t.Run("LastUsed", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		k := b.apiKey(t, b.acct, "used")
		other := b.apiKey(t, b.acct, "unused")
		lastUsed := func() time.Time {
			var got *agenthooks.APIKey
			b.read(t, func(tx agenthooks.Tx) error {
				var err error
				got, err = tx.FindAPIKey(b.acct.ID, k.ID)
				return err
			})
			return got.LastUsedAt
		}
		first := b.clock.Add(time.Second)
		touch := func(at time.Time) {
			b.write(t, func(tx agenthooks.Tx) error { return tx.TouchAPIKey(k.Hash, at) })
		}
		touch(first)
		if got := lastUsed(); !got.Equal(first) {
			t.Fatalf("last use %v, want %v", got, first)
		}
		touch(first.Add(agenthooks.APIKeyTouchEvery - time.Microsecond))
		if got := lastUsed(); !got.Equal(first) {
			t.Errorf("a use within a minute of the last was written: %v, want %v", got, first)
		}
		later := first.Add(agenthooks.APIKeyTouchEvery)
		touch(later)
		if got := lastUsed(); !got.Equal(later) {
			t.Errorf("last use %v, want %v", got, later)
		}
		b.write(t, func(tx agenthooks.Tx) error { return tx.TouchAPIKey("no such hash", later) })
		b.read(t, func(tx agenthooks.Tx) error {
			got, err := tx.FindAPIKey(b.acct.ID, other.ID)
			if err == nil && !got.LastUsedAt.IsZero() {
				t.Errorf("another key's last use changed: %v", got.LastUsedAt)
			}
			return err
		})
	})

	t.Run("FindAccounts", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		third := b.account(t, "third")
		b.read(t, func(tx agenthooks.Tx) error {
			all, total, err := tx.FindAccounts(agenthooks.Page{Page: 1, Size: 10})
			mustNil(t, err)
			checkEqual(t, "FindAccounts", all, []*agenthooks.Account{stored(b.acct), stored(b.other), stored(third)})
			if total != 3 {
				t.Errorf("total %d, want 3", total)
			}
			page, _, err := tx.FindAccounts(agenthooks.Page{Page: 2, Size: 2})
			mustNil(t, err)
			checkEqual(t, "FindAccounts page 2", page, []*agenthooks.Account{stored(third)})
			return nil
		})
	})
}

// exerciseAccountDeletion deletes an account that owns one of everything and
// checks, from the database's catalogue, that every table is back to its row
// count from before the account existed, that other accounts keep all
// theirs, and that nothing more is claimed or recorded for the account.
func exerciseAccountDeletion(t *testing.T, setup setupFunc) {
	t.Run("RemovesEveryRow", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.ownEverything(t, b.other, false)
		before := b.tableRows(t)
		if len(before) < 10 {
			t.Fatalf("CountTableRows found %d tables: %v", len(before), before)
		}

		doomed := b.account(t, "doomed")
		o := b.ownEverything(t, doomed, true)
		during := b.tableRows(t)
		var tables []string
		for table := range during {
			tables = append(tables, table)
		}
		sort.Strings(tables)
		for _, table := range tables {
			if !globalTables[table] && during[table] <= before[table] {
				t.Errorf("table %s got no row from ownEverything: add one there (storetest/accounts.go), so that account deletion is checked on it", table)
			}
		}

		b.write(t, func(tx agenthooks.Tx) error { return tx.DeleteAccount(doomed.ID) })
		after := b.accountRows(t)
		for table := range globalTables {
			delete(before, table)
		}
		checkEqual(t, "rows of every table after DeleteAccount", after, before)

		// The delivery in flight completes into nothing.
		j := o.inFlight
		b.complete(t, &agenthooks.Outcome{DeliveryID: j.Delivery.ID, Lease: j.Lease, Attempt: b.newAttempt(&j.Delivery, 200, ""),
			Status: agenthooks.DeliverySucceeded})
		b.write(t, func(tx agenthooks.Tx) error {
			if bc, ok := tx.(interface {
				CompleteDeliveries(os []*agenthooks.Outcome) error
			}); ok {
				return bc.CompleteDeliveries([]*agenthooks.Outcome{{DeliveryID: j.Delivery.ID, Lease: j.Lease,
					Attempt: b.newAttempt(&j.Delivery, 200, ""), Status: agenthooks.DeliverySucceeded}})
			}
			return nil
		})
		b.clock.Add(10 * time.Hour)
		if jobs := b.claim(t, 100, b.clock.Now().Add(time.Minute)); len(jobs) != 0 {
			t.Errorf("claimed %d deliveries after the account's deletion, want none (the other account's are due later): %v", len(jobs), jobIDs(jobs))
		}
		checkEqual(t, "rows of every table after the in-flight completion", b.accountRows(t), before)

		b.read(t, func(tx agenthooks.Tx) error {
			_, err := tx.FindAccountByID(doomed.ID)
			mustCode(t, err, agenthooks.ENOTFOUND, "a deleted account")
			for _, h := range []string{"hash-" + doomed.ID, o.keys[0].Hash, o.keys[1].Hash} {
				_, err = tx.FindAccountByKeyHash(h)
				mustCode(t, err, agenthooks.ENOTFOUND, "a deleted account's key")
			}
			_, err = tx.FindAccountByKeyHash("hash-" + b.other.ID)
			mustNil(t, err)
			return nil
		})
		err := b.store.Write(t.Context(), func(tx agenthooks.Tx) error { return tx.DeleteAccount(doomed.ID) })
		mustCode(t, err, agenthooks.ENOTFOUND, "deleting a deleted account")
		for _, id := range badIDs() {
			err := b.store.Write(t.Context(), func(tx agenthooks.Tx) error { return tx.DeleteAccount(id) })
			mustCode(t, err, agenthooks.ENOTFOUND, fmt.Sprintf("DeleteAccount(%.40q)", id))
		}
	})
}

// LegacyKeys returns the SQL that stores, in a schema before the API-key
// migration (004), account accountID with one key per hash, as an older
// version wrote them; engine tests run it, migrate, and pass the store to
// CheckLegacyKeys.
func LegacyKeys(accountID string, hashes []string) []string {
	stmts := []string{fmt.Sprintf("INSERT INTO accounts (id, name, created_at) VALUES ('%s', 'old', 1)", accountID)}
	for i, h := range hashes {
		stmts = append(stmts, fmt.Sprintf("INSERT INTO api_keys (key_hash, account_id, created_at) VALUES ('%s', '%s', %d)", h, accountID, i+1))
	}
	return stmts
}

// CheckLegacyKeys checks that keys stored before the API-key migration (by
// LegacyKeys) came through it: each still authenticates, has a distinct
// UUID-shaped id, the name "default", the prefix "ak_" and no last use; and
// that the account can get more keys and delete them.
func CheckLegacyKeys(t *testing.T, s agenthooks.Store, accountID string, hashes []string) {
	t.Helper()
	var keys []*agenthooks.APIKey
	err := s.Read(t.Context(), func(tx agenthooks.Tx) error {
		for _, h := range hashes {
			a, err := tx.FindAccountByKeyHash(h)
			if err != nil {
				return fmt.Errorf("key %s: %w", h, err)
			}
			if a.ID != accountID {
				return fmt.Errorf("key %s authenticates account %s", h, a.ID)
			}
		}
		var err error
		keys, _, err = tx.ListAPIKeys(accountID, agenthooks.Page{Page: 1, Size: 100})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != len(hashes) {
		t.Fatalf("%d keys after the migration, want %d", len(keys), len(hashes))
	}
	ids := map[string]bool{}
	for _, k := range keys {
		if _, err := uuid.Parse(k.ID); err != nil || ids[k.ID] {
			t.Errorf("migrated key id %q: not a distinct UUID (%v)", k.ID, err)
		}
		ids[k.ID] = true
		if k.Name != "default" || k.Prefix != "ak_" || !k.LastUsedAt.IsZero() {
			t.Errorf("migrated key: %+v", k)
		}
	}
	extra := &agenthooks.APIKey{ID: NewID(), AccountID: accountID, Name: "new", Prefix: "ak_x", Hash: "new-hash", CreatedAt: time.Now()}
	err = s.Write(t.Context(), func(tx agenthooks.Tx) error {
		if err := tx.CreateAPIKey(extra); err != nil {
			return err
		}
		return tx.DeleteAPIKey(accountID, keys[0].ID)
	})
	if err != nil {
		t.Errorf("another key and a deletion after the migration: %v", err)
	}
}

package sqlite_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/agenthooks/agenthooks"
	"github.com/agenthooks/agenthooks/internal/testdb"
	"github.com/agenthooks/agenthooks/sqlstore"
	"github.com/agenthooks/agenthooks/storetest"
)

// WriteRelaxed commits like Write, but a group commit made only of relaxed
// writes runs with synchronous=NORMAL (no fsync of its own), and any durable
// write in a group makes the whole commit synchronous=FULL again.
func TestWriteRelaxed(t *testing.T) {
	t.Parallel()
	s := open(t, testdb.SQLitePath(t))
	ctx := context.Background()
	synchronous := func(write func(context.Context, func(agenthooks.Tx) error) error) string {
		t.Helper()
		var v string
		if err := write(ctx, func(tx agenthooks.Tx) error {
			return tx.(*sqlstore.Tx).QueryRowForTest("PRAGMA synchronous").Scan(&v)
		}); err != nil {
			t.Fatal(err)
		}
		return v
	}
	before := s.Stats()
	if got := synchronous(s.WriteRelaxed); got != "1" {
		t.Errorf("synchronous in a relaxed group commit = %s, want 1 (NORMAL)", got)
	}
	if got := synchronous(s.Write); got != "2" {
		t.Errorf("synchronous in a durable write after a relaxed one = %s, want 2 (FULL)", got)
	}
	after := s.Stats()
	if commits, synced := after.Commits-before.Commits, after.Synced-before.Synced; commits != 2 || synced != 1 {
		t.Errorf("%d commits, %d with fsync; want 2 and 1", commits, synced)
	}

	// What a relaxed write commits is there, as a durable write's is.
	acct := &agenthooks.Account{ID: storetest.NewID(), Name: "relaxed", CreatedAt: time.Now()}
	if err := s.WriteRelaxed(ctx, func(tx agenthooks.Tx) error { return tx.CreateAccount(acct, "h-"+acct.ID) }); err != nil {
		t.Fatal(err)
	}
	if err := s.Read(ctx, func(tx agenthooks.Tx) error { _, err := tx.FindAccountByID(acct.ID); return err }); err != nil {
		t.Errorf("relaxed write not visible: %v", err)
	}

	// Durable and relaxed writes racing: every group commit that holds a
	// durable write runs with FULL, seen from inside each durable write.
	var wg sync.WaitGroup
	for i := range 200 {
		wg.Go(func() {
			if i%2 == 0 {
				_ = synchronous(s.WriteRelaxed)
				return
			}
			if got := synchronous(s.Write); got != "2" {
				t.Errorf("a durable write ran with synchronous=%s", got)
			}
		})
	}
	wg.Wait()
}

package storetest

import (
	"testing"
	"time"

	"github.com/agenthooks/agenthooks"
)

// exerciseAccountList checks ListAllAccounts: every account, oldest first
// by creation time (the id breaks ties), whatever the order of the ids.
func exerciseAccountList(t *testing.T, setup setupFunc) {
	t.Run("OldestFirst", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		// Made last (its id sorts after the others) but created earliest.
		early := &agenthooks.Account{ID: NewID(), Name: "Early", CreatedAt: b.clock.Now().Add(-time.Hour)}
		b.write(t, func(tx agenthooks.Tx) error { return tx.CreateAccount(early, "hash-"+early.ID) })
		b.read(t, func(tx agenthooks.Tx) error {
			got, err := tx.ListAllAccounts()
			mustNil(t, err)
			checkEqual(t, "ListAllAccounts", got, []*agenthooks.Account{stored(early), stored(b.acct), stored(b.other)})
			return nil
		})
	})
}

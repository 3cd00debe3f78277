package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/agenthooks/agenthooks"
)

// Accounts

func exerciseAccounts(t *testing.T, setup setupFunc) {
	t.Run("RoundTrip", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		a := &agenthooks.Account{ID: NewID(), Name: unicode, CreatedAt: time.Date(2024, 2, 29, 23, 59, 59, 999999999, time.FixedZone("X", -7*3600))}
		b.write(t, func(tx agenthooks.Tx) error { return tx.CreateAccount(a, "hash-"+a.ID) })
		want := stored(a)
		b.read(t, func(tx agenthooks.Tx) error {
			got, err := tx.FindAccountByID(a.ID)
			mustNil(t, err)
			checkEqual(t, "FindAccountByID", got, want)
			got, err = tx.FindAccountByKeyHash("hash-" + a.ID)
			mustNil(t, err)
			checkEqual(t, "FindAccountByKeyHash", got, want)
			n, err := tx.CountAccounts()
			mustNil(t, err)
			if n != 3 { // setup made two
				t.Errorf("CountAccounts = %d, want 3", n)
			}
			return nil
		})
	})

	t.Run("ReplaceAccountKey", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.write(t, func(tx agenthooks.Tx) error { return tx.ReplaceAccountKey(b.acct.ID, "new-hash") })
		b.read(t, func(tx agenthooks.Tx) error {
			_, err := tx.FindAccountByKeyHash("hash-" + b.acct.ID)
			mustCode(t, err, agenthooks.ENOTFOUND, "old key after ReplaceAccountKey")
			got, err := tx.FindAccountByKeyHash("new-hash")
			mustNil(t, err)
			checkEqual(t, "account by new key", got, stored(b.acct))
			got, err = tx.FindAccountByKeyHash("hash-" + b.other.ID)
			mustNil(t, err) // the other account's key is untouched
			checkEqual(t, "other account by its key", got, stored(b.other))
			return nil
		})
	})

	t.Run("ReadOne", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		r := b.store
		var got *agenthooks.Account
		err := r.ReadOne(t.Context(), func(tx agenthooks.Tx) error {
			var err error
			got, err = tx.FindAccountByKeyHash("hash-" + b.acct.ID)
			return err
		})
		mustNil(t, err)
		checkEqual(t, "ReadOne FindAccountByKeyHash", got, stored(b.acct))
		// It sees a write committed just before, and reports not-found.
		b.write(t, func(tx agenthooks.Tx) error { return tx.ReplaceAccountKey(b.acct.ID, "rotated") })
		err = r.ReadOne(t.Context(), func(tx agenthooks.Tx) error {
			_, err := tx.FindAccountByKeyHash("hash-" + b.acct.ID)
			return err
		})
		mustCode(t, err, agenthooks.ENOTFOUND, "ReadOne with a revoked key")
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if err := r.ReadOne(ctx, func(tx agenthooks.Tx) error { _, err := tx.FindAccountByKeyHash("rotated"); return err }); err == nil {
			t.Error("ReadOne with a cancelled context succeeded")
		}
	})

	t.Run("NotFound", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		for _, id := range badIDs() {
			b.read(t, func(tx agenthooks.Tx) error {
				_, err := tx.FindAccountByID(id)
				mustCode(t, err, agenthooks.ENOTFOUND, fmt.Sprintf("FindAccountByID(%.40q)", id))
				_, err = tx.FindAccountByKeyHash(id)
				mustCode(t, err, agenthooks.ENOTFOUND, fmt.Sprintf("FindAccountByKeyHash(%.40q)", id))
				return nil
			})
			err := b.store.Write(t.Context(), func(tx agenthooks.Tx) error { return tx.ReplaceAccountKey(id, "h-"+NewID()) })
			mustCode(t, err, agenthooks.ENOTFOUND, fmt.Sprintf("ReplaceAccountKey(%.40q)", id))
		}
	})
}

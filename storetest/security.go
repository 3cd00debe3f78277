package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/agenthooks/agenthooks"
)

// exerciseSecurity covers the quota count and the re-encryption walk. The
// suite's stores have no keyring, so every secret is current: the walk
// rewrites none, and must still visit every webhook of every account once.
func exerciseSecurity(t *testing.T, setup setupFunc) {
	t.Run("CountWebhooksForCreate", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		for range 3 {
			b.webhook(t, b.acct)
		}
		b.webhook(t, b.other)
		b.write(t, func(tx agenthooks.Tx) error {
			n, err := tx.CountWebhooksForCreate(b.acct.ID)
			mustNil(t, err)
			if n != 3 {
				t.Errorf("CountWebhooksForCreate = %d, want 3 (the other account's not counted)", n)
			}
			return nil
		})
		b.read(t, func(tx agenthooks.Tx) error {
			n, err := tx.CountWebhooksForCreate(b.other.ID)
			mustNil(t, err)
			if n != 1 {
				t.Errorf("CountWebhooksForCreate in a read = %d, want 1", n)
			}
			return nil
		})
	})

	t.Run("SecretKeyIDs", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.read(t, func(tx agenthooks.Tx) error {
			ids, err := tx.SecretKeyIDs()
			mustNil(t, err)
			if len(ids) != 0 {
				t.Errorf("SecretKeyIDs with no webhooks = %q", ids)
			}
			return nil
		})
		b.webhook(t, b.acct)
		b.webhook(t, b.other)
		b.read(t, func(tx agenthooks.Tx) error {
			ids, err := tx.SecretKeyIDs()
			mustNil(t, err)
			if !slices.Equal(ids, []string{""}) {
				t.Errorf("SecretKeyIDs of plain secrets = %q, want [\"\"]", ids)
			}
			return nil
		})
	})

	t.Run("ReencryptSecretsWalk", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		want := map[string]bool{}
		for range 5 {
			want[b.webhook(t, b.acct).ID] = true
			want[b.webhook(t, b.other).ID] = true
		}
		seen, after := 0, ""
		for {
			var n int
			var last string
			b.write(t, func(tx agenthooks.Tx) error {
				var err error
				n, last, err = tx.ReencryptSecrets(after, 3)
				return err
			})
			if n != 0 {
				t.Errorf("rewrote %d plain secrets with no keyring", n)
			}
			if last == "" {
				break
			}
			if last <= after || !want[last] {
				t.Fatalf("walk went from %q to %q", after, last)
			}
			seen++
			after = last
		}
		if seen != 4 { // ceil(10/3)
			t.Errorf("walked %d batches of 3 over 10 webhooks, want 4", seen)
		}
		b.read(t, func(tx agenthooks.Tx) error { // secrets read back unchanged
			for id := range want {
				w, err := tx.FindWebhooksByID(b.acct.ID, []string{id})
				mustNil(t, err)
				for _, w := range w {
					if w.Secret == "" {
						t.Errorf("webhook %s lost its secret", w.ID)
					}
				}
			}
			return nil
		})
	})
}

// exerciseEventPages: the ids of a page are ListEvents' ids in its order,
// and FindEventsByID returns whole events of the account only.
func exerciseEventPages(t *testing.T, setup setupFunc) {
	t.Parallel()
	b := setup(t)
	var mine []*agenthooks.Event
	for i := range 7 {
		typ := agenthooks.EventConversationUpdated
		if i%3 == 0 {
			typ = agenthooks.EventConversationClosed
		}
		mine = append(mine, b.event(t, b.acct, typ))
	}
	theirs := b.event(t, b.other, agenthooks.EventConversationUpdated)
	b.read(t, func(tx agenthooks.Tx) error {
		for _, f := range []agenthooks.EventFilter{{}, {Type: agenthooks.EventConversationClosed}} {
			for _, p := range []agenthooks.Page{{Page: 1, Size: 3}, {Page: 2, Size: 3}, {Page: 3, Size: 3}, {Page: 9, Size: 3}} {
				events, total, err := tx.ListEvents(b.acct.ID, f, p)
				mustNil(t, err)
				ids, idTotal, err := tx.ListEventIDs(b.acct.ID, f, p)
				mustNil(t, err)
				want := make([]string, len(events))
				for i, e := range events {
					want[i] = e.ID
				}
				if !slices.Equal(ids, want) || idTotal != total {
					t.Errorf("ListEventIDs(%+v, %+v) = %v (%d), want %v (%d)", f, p, ids, idTotal, want, total)
				}
			}
		}
		ids := []string{mine[0].ID, mine[4].ID, theirs.ID, NewID()}
		got, err := tx.FindEventsByID(b.acct.ID, ids)
		mustNil(t, err)
		if len(got) != 2 {
			t.Fatalf("FindEventsByID returned %d events, want the account's 2", len(got))
		}
		for _, e := range got {
			want := mine[0]
			if e.ID == mine[4].ID {
				want = mine[4]
			}
			checkEqual(t, "FindEventsByID", e, stored(want))
		}
		none, err := tx.FindEventsByID(b.acct.ID, nil)
		mustNil(t, err)
		if len(none) != 0 {
			t.Errorf("FindEventsByID(nil) = %v", none)
		}
		return nil
	})
}

// exerciseRecentAttempts: the last attempts of a delivery, oldest first.
func exerciseRecentAttempts(t *testing.T, setup setupFunc) {
	t.Parallel()
	b := setup(t)
	d := b.pending(t, b.webhook(t, b.acct), b.clock.Now())
	var all []*agenthooks.Attempt
	for i := range 5 {
		jobs := b.claim(t, 1, b.clock.Now().Add(time.Minute))
		if len(jobs) != 1 {
			t.Fatalf("claim %d = %d jobs", i, len(jobs))
		}
		a := b.newAttempt(d, 500+i, "")
		all = append(all, stored(a))
		b.complete(t, &agenthooks.Outcome{DeliveryID: d.ID, Lease: jobs[0].Lease, Attempt: a, Status: agenthooks.DeliveryPending, NextAttemptAt: b.clock.Now()})
		b.clock.Add(time.Second)
	}
	b.read(t, func(tx agenthooks.Tx) error {
		got, err := tx.ListRecentAttempts(d.ID, 3)
		mustNil(t, err)
		checkEqual(t, "last 3 attempts", got, all[2:])
		got, err = tx.ListRecentAttempts(d.ID, 10)
		mustNil(t, err)
		checkEqual(t, "last 10 of 5 attempts", got, all)
		got, err = tx.ListRecentAttempts(NewID(), 3)
		mustNil(t, err)
		if len(got) != 0 {
			t.Errorf("attempts of an unknown delivery = %d", len(got))
		}
		return nil
	})

	// LatestAttempts: the last of each delivery's attempts, none for a
	// delivery without one, and nothing of another account's.
	fresh := b.pending(t, b.webhook(t, b.acct), b.clock.Now().Add(time.Hour))
	b.read(t, func(tx agenthooks.Tx) error {
		got, err := tx.LatestAttempts(b.acct.ID, []string{d.ID, fresh.ID, NewID()})
		mustNil(t, err)
		checkEqual(t, "latest attempts", got, map[string]*agenthooks.Attempt{d.ID: all[4]})
		got, err = tx.LatestAttempts(b.other.ID, []string{d.ID})
		mustNil(t, err)
		if len(got) != 0 {
			t.Errorf("another account's latest attempts = %v", got)
		}
		got, err = tx.LatestAttempts(b.acct.ID, nil)
		mustNil(t, err)
		if len(got) != 0 {
			t.Errorf("latest attempts of no delivery = %v", got)
		}
		return nil
	})
}

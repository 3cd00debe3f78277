package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/agenthooks/agenthooks"
)

// Write and Read

func exerciseWrite(t *testing.T, setup setupFunc) {
	t.Run("ErrorRollsBack", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		w := b.webhook(t, b.acct)
		errBoom := errors.New("boom")
		tests := []struct {
			name  string
			ret   error
			check func(t *testing.T, err error)
		}{
			{"PlainError", errBoom, func(t *testing.T, err error) {
				if !errors.Is(err, errBoom) {
					t.Errorf("Write = %v, want fn's error", err)
				}
			}},
			{"DomainError", agenthooks.Errorf(agenthooks.ECONFLICT, "nope"), func(t *testing.T, err error) {
				if agenthooks.ErrorCode(err) != agenthooks.ECONFLICT || agenthooks.ErrorMessage(err) != "nope" {
					t.Errorf("Write = %v, want fn's ECONFLICT error", err)
				}
			}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				e := b.newEvent(b.acct, agenthooks.EventConversationClosed)
				d := b.newDelivery(w, e, b.clock.Now())
				newW := b.newWebhook(b.acct)
				err := b.store.Write(t.Context(), func(tx agenthooks.Tx) error {
					up := *w
					up.Name = "changed"
					for _, step := range []func() error{
						func() error { return tx.UpdateWebhook(&up) },
						func() error { return tx.CreateWebhook(newW) },
						func() error { return tx.CreateEvent(e) },
						func() error { return tx.CreateDelivery(d) },
					} {
						if err := step(); err != nil {
							return fmt.Errorf("unexpected: %w", err)
						}
					}
					return tt.ret
				})
				tt.check(t, err)
				b.read(t, func(tx agenthooks.Tx) error {
					got, err := tx.FindWebhook(b.acct.ID, w.ID)
					mustNil(t, err)
					checkEqual(t, "updated-then-rolled-back webhook", got, stored(w))
					_, err = tx.FindWebhook(b.acct.ID, newW.ID)
					mustCode(t, err, agenthooks.ENOTFOUND, "rolled-back webhook")
					_, err = tx.FindEvent(b.acct.ID, e.ID)
					mustCode(t, err, agenthooks.ENOTFOUND, "rolled-back event")
					_, err = tx.FindDelivery(b.acct.ID, d.ID)
					mustCode(t, err, agenthooks.ENOTFOUND, "rolled-back delivery")
					return nil
				})
				if jobs := b.claim(t, 10, b.clock.Now().Add(time.Minute)); len(jobs) != 0 {
					t.Errorf("rolled-back delivery claimed: %v", jobIDs(jobs))
				}
			})
		}
	})

	// Many concurrent writes, a third of them failing: exactly the successful
	// ones persist. On SQLite this runs them through group commit, one
	// savepoint each, so failures land in the same transaction as successes.
	t.Run("ConcurrentWritesIsolateFailures", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		existing := b.intent(t, b.acct)
		const rounds, writers = 4, 50
		errFail := errors.New("fail on purpose")
		type result struct {
			intent, contact string
			ok              bool
			err             error
		}
		results := make([]result, rounds*writers)
		for r := range rounds {
			start := make(chan struct{})
			var wg sync.WaitGroup
			for i := range writers {
				n := r*writers + i
				wg.Add(1)
				go func() {
					defer wg.Done()
					in := b.newIntent(b.acct)
					c := b.newContact(b.acct)
					<-start
					res := &results[n]
					res.intent, res.contact = in.ID, c.ID
					res.ok = n%3 == 0 || n%3 == 1 && n%2 == 0
					res.err = b.store.Write(t.Context(), func(tx agenthooks.Tx) error {
						if err := tx.CreateIntent(in); err != nil {
							return err
						}
						if err := tx.CreateContact(c); err != nil {
							return err
						}
						switch {
						case res.ok:
							return nil
						case n%2 == 0:
							return errFail
						default:
							// A statement that fails in the database: a duplicate key.
							dup := *existing
							return tx.CreateIntent(&dup)
						}
					})
				}()
			}
			close(start)
			wg.Wait()
		}
		wantIntents, wantContacts := map[string]bool{existing.ID: true}, map[string]bool{}
		for i, r := range results {
			if r.ok != (r.err == nil) {
				t.Errorf("write %d: ok=%v but Write returned %v", i, r.ok, r.err)
			}
			if r.ok {
				wantIntents[r.intent], wantContacts[r.contact] = true, true
			}
		}
		b.read(t, func(tx agenthooks.Tx) error {
			intents, total, err := tx.ListIntents(b.acct.ID, agenthooks.Page{Page: 1, Size: 100})
			mustNil(t, err)
			for p := 2; len(intents) < total; p++ {
				more, _, err := tx.ListIntents(b.acct.ID, agenthooks.Page{Page: p, Size: 100})
				mustNil(t, err)
				intents = append(intents, more...)
			}
			checkEqual(t, "stored intents", setOf(idsOf(intents, func(i *agenthooks.Intent) string { return i.ID })), wantIntents)
			contacts, total, err := tx.ListContacts(b.acct.ID, agenthooks.Page{Page: 1, Size: 100})
			mustNil(t, err)
			for p := 2; len(contacts) < total; p++ {
				more, _, err := tx.ListContacts(b.acct.ID, agenthooks.Page{Page: p, Size: 100})
				mustNil(t, err)
				contacts = append(contacts, more...)
			}
			checkEqual(t, "stored contacts", setOf(idsOf(contacts, func(c *agenthooks.Contact) string { return c.ID })), wantContacts)
			return nil
		})
	})

	// A panic inside fn must not leave a transaction, a lock or another
	// caller's write behind. SQLite runs fn on its writer goroutine, shared by
	// every caller: it must turn the panic into that caller's error. PostgreSQL
	// runs fn on the caller's goroutine: it rolls back and lets the panic go on.
	t.Run("Panic", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		w := b.webhook(t, b.acct)
		doomed := b.newIntent(b.acct)

		var wg sync.WaitGroup
		start := make(chan struct{})
		bystanders := make([]*agenthooks.Intent, 20)
		errs := make([]error, len(bystanders))
		for i := range bystanders {
			bystanders[i] = b.newIntent(b.acct)
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				errs[i] = b.store.Write(t.Context(), func(tx agenthooks.Tx) error { return tx.CreateIntent(bystanders[i]) })
			}()
		}
		var err error
		var recovered any
		func() {
			defer func() { recovered = recover() }()
			close(start)
			err = b.store.Write(t.Context(), func(tx agenthooks.Tx) error {
				// Lock and change a row, store something, then panic.
				locked, ferr := tx.FindWebhook(b.acct.ID, w.ID)
				if ferr != nil {
					return ferr
				}
				locked.Name = "panicked"
				if uerr := tx.UpdateWebhook(locked); uerr != nil {
					return uerr
				}
				if cerr := tx.CreateIntent(doomed); cerr != nil {
					return cerr
				}
				panic("write exploded")
			})
		}()
		wg.Wait()

		switch b.store.Engine() {
		case "sqlite":
			if err == nil || recovered != nil {
				t.Errorf("sqlite: Write = %v, panic %v; want an error and no panic", err, recovered)
			}
		default:
			if err == nil && recovered == nil {
				t.Errorf("%s: a panicking Write returned nil without panicking", b.store.Engine())
			}
		}
		for i, err := range errs {
			if err != nil {
				t.Errorf("bystander write %d: %v", i, err)
			}
		}

		// No lock is left behind: the row the panicking fn locked can be
		// locked and changed again (bounded wait, in case it is not).
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		err = b.store.Write(ctx, func(tx agenthooks.Tx) error {
			locked, err := tx.FindWebhook(b.acct.ID, w.ID)
			if err != nil {
				return err
			}
			if locked.Name == "panicked" {
				return errors.New("the panicking write's update is visible")
			}
			locked.Name = "after"
			return tx.UpdateWebhook(locked)
		})
		if err != nil {
			t.Fatalf("write after the panic: %v", err)
		}
		b.read(t, func(tx agenthooks.Tx) error {
			_, err := tx.FindIntent(b.acct.ID, doomed.ID)
			mustCode(t, err, agenthooks.ENOTFOUND, "the panicking write's intent")
			for _, in := range bystanders {
				_, err := tx.FindIntent(b.acct.ID, in.ID)
				mustNil(t, err)
			}
			return nil
		})
	})

	t.Run("CanceledContext", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		in := b.newIntent(b.acct)
		ran := false
		err := b.store.Write(ctx, func(tx agenthooks.Tx) error {
			ran = true
			return tx.CreateIntent(in)
		})
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Write with a canceled context = %v, want context.Canceled", err)
		}
		if ran {
			t.Error("fn ran under a canceled context")
		}
		b.read(t, func(tx agenthooks.Tx) error {
			_, err := tx.FindIntent(b.acct.ID, in.ID)
			mustCode(t, err, agenthooks.ENOTFOUND, "intent of a canceled write")
			return nil
		})
	})

	t.Run("ReadIsReadOnly", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		in := b.newIntent(b.acct)
		if err := b.store.Read(t.Context(), func(tx agenthooks.Tx) error { return tx.CreateIntent(in) }); err == nil {
			t.Error("CreateIntent inside Read succeeded")
		}
		b.read(t, func(tx agenthooks.Tx) error {
			_, err := tx.FindIntent(b.acct.ID, in.ID)
			mustCode(t, err, agenthooks.ENOTFOUND, "intent created in a Read")
			return nil
		})
	})

	t.Run("ReadReturnsFnError", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		err := b.store.Read(t.Context(), func(tx agenthooks.Tx) error {
			_, err := tx.FindWebhook(b.acct.ID, NewID())
			return err
		})
		mustCode(t, err, agenthooks.ENOTFOUND, "Read returning a finder's error")
	})

	t.Run("NowOncePerTransaction", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		check := func(tx agenthooks.Tx) error {
			want := b.clock.Now()
			if got := tx.Now(); !got.Equal(want) || got.Location() != time.UTC {
				t.Errorf("tx.Now() = %v, want %v in UTC", got, want)
			}
			b.clock.Add(time.Hour)
			if got := tx.Now(); !got.Equal(want) {
				t.Errorf("tx.Now() moved within the transaction: %v, want %v", got, want)
			}
			return nil
		}
		b.write(t, check)
		b.read(t, check)
	})

	t.Run("Engine", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		if e := b.store.Engine(); e != "sqlite" && e != "postgres" {
			t.Errorf("Engine() = %q", e)
		}
	})
}

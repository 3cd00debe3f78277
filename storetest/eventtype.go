package storetest

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/agenthooks/agenthooks"
)

// The account's own event types: a round trip of every field, names unique
// per account (and only per account), updates, deletion and what it does to
// the webhooks' events lists, and no reach into another account's types.

func (b *testBundle) newEventType(a *agenthooks.Account, name string) *agenthooks.OwnEventType {
	now := b.clock.Now()
	return &agenthooks.OwnEventType{AccountID: a.ID, Name: name, Description: "Ein Anruf endete " + unicode,
		Schema:     json.RawMessage(`{"type": "object", "required": ["duration_s"], "properties": {"duration_s": {"type": "integer"}, "ü": {"const": "東京"}}}`),
		Deprecated: false, CreatedAt: now, UpdatedAt: now.Add(time.Microsecond)}
}

func (b *testBundle) eventType(t testing.TB, a *agenthooks.Account, name string) *agenthooks.OwnEventType {
	t.Helper()
	et := b.newEventType(a, name)
	b.write(t, func(tx agenthooks.Tx) error { return tx.CreateEventType(et) })
	return et
}

func exerciseEventTypes(t *testing.T, setup setupFunc) {
	t.Run("RoundTrip", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		et := b.eventType(t, b.acct, "call.ended")
		bare := &agenthooks.OwnEventType{AccountID: b.acct.ID, Name: "appointment.booked", CreatedAt: b.clock.Now(), UpdatedAt: b.clock.Now()}
		b.write(t, func(tx agenthooks.Tx) error { return tx.CreateEventType(bare) })
		b.read(t, func(tx agenthooks.Tx) error {
			got, err := tx.FindEventType(b.acct.ID, et.Name)
			mustNil(t, err)
			checkEqual(t, "stored event type", got, stored(et))
			got, err = tx.FindEventType(b.acct.ID, bare.Name)
			mustNil(t, err)
			checkEqual(t, "stored event type without schema (nil, not empty)", got, stored(bare))
			list, err := tx.ListEventTypes(b.acct.ID)
			mustNil(t, err)
			checkEqual(t, "listed by name", []*agenthooks.OwnEventType(list), []*agenthooks.OwnEventType{stored(bare), stored(et)})
			return nil
		})
	})
	t.Run("DuplicateIsConflictPerAccount", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.eventType(t, b.acct, "call.ended")
		err := b.store.Write(t.Context(), func(tx agenthooks.Tx) error { return tx.CreateEventType(b.newEventType(b.acct, "call.ended")) })
		mustCode(t, err, agenthooks.ECONFLICT, "a second type of the same name")
		// The same name in another account is its own type.
		b.eventType(t, b.other, "call.ended")
		b.read(t, func(tx agenthooks.Tx) error {
			list, err := tx.ListEventTypes(b.acct.ID)
			mustNil(t, err)
			checkEqual(t, "types after the refused duplicate", len(list), 1)
			return nil
		})
	})
	t.Run("Update", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		et := b.eventType(t, b.acct, "call.ended")
		et.Description, et.Schema, et.Deprecated, et.UpdatedAt = "", nil, true, b.clock.Add(time.Minute)
		b.write(t, func(tx agenthooks.Tx) error { return tx.UpdateEventType(et) })
		b.read(t, func(tx agenthooks.Tx) error {
			got, err := tx.FindEventType(b.acct.ID, et.Name)
			mustNil(t, err)
			checkEqual(t, "updated event type", got, stored(et))
			return nil
		})
		missing := b.newEventType(b.acct, "no.such_type")
		err := b.store.Write(t.Context(), func(tx agenthooks.Tx) error { return tx.UpdateEventType(missing) })
		mustCode(t, err, agenthooks.ENOTFOUND, "updating a type that does not exist")
	})
	t.Run("DeleteTakesTheNameOutOfWebhooks", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.eventType(t, b.acct, "call.ended")
		b.eventType(t, b.acct, "call.ended_late") // a name the first is a prefix of stays
		b.eventType(t, b.other, "call.ended")
		mixed := b.newWebhook(b.acct)
		mixed.Events = []string{agenthooks.EventConversationClosed, "call.ended", "call.ended_late"}
		only := b.newWebhook(b.acct)
		only.Events = []string{"call.ended"}
		disabled := b.newWebhook(b.acct)
		disabled.Enabled, disabled.DisabledReason, disabled.Events = false, agenthooks.DisabledManual, []string{"call.ended", agenthooks.EventConversationUpdated}
		unrelated := b.newWebhook(b.acct)
		theirs := b.newWebhook(b.other)
		theirs.Events = []string{"call.ended", agenthooks.EventConversationClosed}
		for _, w := range []*agenthooks.Webhook{mixed, only, disabled, unrelated, theirs} {
			b.write(t, func(tx agenthooks.Tx) error { return tx.CreateWebhook(w) })
		}
		var changed int
		b.clock.Add(time.Minute)
		b.write(t, func(tx agenthooks.Tx) error {
			var err error
			changed, err = tx.DeleteEventType(b.acct.ID, "call.ended")
			return err
		})
		checkEqual(t, "webhook lists changed", changed, 2)
		b.read(t, func(tx agenthooks.Tx) error {
			_, err := tx.FindEventType(b.acct.ID, "call.ended")
			mustCode(t, err, agenthooks.ENOTFOUND, "a deleted type")
			_, err = tx.FindEventType(b.other.ID, "call.ended")
			mustNil(t, err)
			want := map[*agenthooks.Webhook][]string{
				mixed:     {agenthooks.EventConversationClosed, "call.ended_late"},
				only:      {"call.ended"},
				disabled:  {agenthooks.EventConversationUpdated},
				unrelated: unrelated.Events,
				theirs:    theirs.Events,
			}
			for w, events := range want {
				got, err := tx.FindWebhook(w.AccountID, w.ID)
				mustNil(t, err)
				checkEqual(t, "events of "+w.Name+" after the delete", got.Events, events)
				if len(events) != len(w.Events) && !got.UpdatedAt.Equal(b.clock.Now()) {
					t.Errorf("a changed webhook's updated_at = %v, want %v", got.UpdatedAt, b.clock.Now())
				}
			}
			return nil
		})
		_, err := deleteEventType(t, b, b.acct.ID, "call.ended")
		mustCode(t, err, agenthooks.ENOTFOUND, "deleting a deleted type")
	})
	t.Run("AnotherAccountsTypeIsInvisible", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		et := b.eventType(t, b.other, "call.ended")
		b.read(t, func(tx agenthooks.Tx) error {
			_, err := tx.FindEventType(b.acct.ID, et.Name)
			mustCode(t, err, agenthooks.ENOTFOUND, "another account's type")
			list, err := tx.ListEventTypes(b.acct.ID)
			mustNil(t, err)
			checkEqual(t, "types listed for an account with none", len(list), 0)
			return nil
		})
		hijack := *et
		hijack.AccountID, hijack.Description = b.acct.ID, "hijacked"
		err := b.store.Write(t.Context(), func(tx agenthooks.Tx) error { return tx.UpdateEventType(&hijack) })
		mustCode(t, err, agenthooks.ENOTFOUND, "updating another account's type")
		_, err = deleteEventType(t, b, b.acct.ID, et.Name)
		mustCode(t, err, agenthooks.ENOTFOUND, "deleting another account's type")
		b.read(t, func(tx agenthooks.Tx) error {
			got, err := tx.FindEventType(b.other.ID, et.Name)
			mustNil(t, err)
			checkEqual(t, "the other account's type, untouched", got, stored(et))
			return nil
		})
	})
}

func deleteEventType(t testing.TB, b *testBundle, accountID, name string) (int, error) {
	var n int
	err := b.store.Write(t.Context(), func(tx agenthooks.Tx) error {
		var err error
		n, err = tx.DeleteEventType(accountID, name)
		return err
	})
	return n, err
}

package storetest

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/agenthooks/agenthooks"
)

// Account scope: no finder or mutator reaches another account's rows.

func exerciseAccountScope(t *testing.T, setup setupFunc) {
	type scoped struct {
		name string
		// create makes a resource of account a and returns its id.
		create func(t *testing.T, b *testBundle, a *agenthooks.Account) string
		// find reads it as accountID.
		find func(tx agenthooks.Tx, accountID, id string) (any, error)
		// mutate changes or deletes it as accountID.
		mutate []func(tx agenthooks.Tx, accountID, id string) error
	}
	tests := []scoped{
		{
			name:   "Webhook",
			create: func(t *testing.T, b *testBundle, a *agenthooks.Account) string { return b.webhook(t, a).ID },
			find:   func(tx agenthooks.Tx, acct, id string) (any, error) { return tx.FindWebhook(acct, id) },
			mutate: []func(tx agenthooks.Tx, acct, id string) error{
				func(tx agenthooks.Tx, acct, id string) error {
					return tx.UpdateWebhook(&agenthooks.Webhook{ID: id, AccountID: acct, Name: "hijacked"})
				},
				func(tx agenthooks.Tx, acct, id string) error { return tx.DeleteWebhook(acct, id) },
			},
		},
		{
			name:   "Assistant",
			create: func(t *testing.T, b *testBundle, a *agenthooks.Account) string { return b.assistant(t, a, "").ID },
			find:   func(tx agenthooks.Tx, acct, id string) (any, error) { return tx.FindAssistant(acct, id) },
			mutate: []func(tx agenthooks.Tx, acct, id string) error{
				func(tx agenthooks.Tx, acct, id string) error {
					return tx.UpdateAssistant(&agenthooks.Assistant{ID: id, AccountID: acct, Name: "hijacked"})
				},
				func(tx agenthooks.Tx, acct, id string) error { return tx.DeleteAssistant(acct, id) },
			},
		},
		{
			name:   "Widget",
			create: func(t *testing.T, b *testBundle, a *agenthooks.Account) string { return b.widget(t, a).ID },
			find:   func(tx agenthooks.Tx, acct, id string) (any, error) { return tx.FindWidget(acct, id) },
			mutate: []func(tx agenthooks.Tx, acct, id string) error{
				func(tx agenthooks.Tx, acct, id string) error {
					return tx.UpdateWidget(&agenthooks.Widget{ID: id, AccountID: acct, Name: "hijacked", WidgetType: "chat"})
				},
				func(tx agenthooks.Tx, acct, id string) error { return tx.DeleteWidget(acct, id) },
			},
		},
		{
			name:   "Form",
			create: func(t *testing.T, b *testBundle, a *agenthooks.Account) string { return b.form(t, a, "").ID },
			find:   func(tx agenthooks.Tx, acct, id string) (any, error) { return tx.FindForm(acct, id) },
			mutate: []func(tx agenthooks.Tx, acct, id string) error{
				func(tx agenthooks.Tx, acct, id string) error {
					return tx.UpdateForm(&agenthooks.Form{ID: id, AccountID: acct, Name: "hijacked"})
				},
			},
		},
		{
			name:   "Intent",
			create: func(t *testing.T, b *testBundle, a *agenthooks.Account) string { return b.intent(t, a).ID },
			find:   func(tx agenthooks.Tx, acct, id string) (any, error) { return tx.FindIntent(acct, id) },
			mutate: []func(tx agenthooks.Tx, acct, id string) error{
				func(tx agenthooks.Tx, acct, id string) error { return tx.DeleteIntent(acct, id) },
			},
		},
		{
			name:   "Contact",
			create: func(t *testing.T, b *testBundle, a *agenthooks.Account) string { return b.contact(t, a).ID },
			find:   func(tx agenthooks.Tx, acct, id string) (any, error) { return tx.FindContact(acct, id) },
			mutate: []func(tx agenthooks.Tx, acct, id string) error{
				func(tx agenthooks.Tx, acct, id string) error {
					return tx.UpdateContact(&agenthooks.Contact{ID: id, AccountID: acct, FirstName: "hijacked"})
				},
			},
		},
		{
			name: "Conversation",
			create: func(t *testing.T, b *testBundle, a *agenthooks.Account) string {
				return b.conversation(t, a, NewID(), b.clock.Now()).ID
			},
			find: func(tx agenthooks.Tx, acct, id string) (any, error) { return tx.FindConversation(acct, id) },
			mutate: []func(tx agenthooks.Tx, acct, id string) error{
				func(tx agenthooks.Tx, acct, id string) error {
					return tx.UpdateConversation(&agenthooks.Conversation{ID: id, AccountID: acct, Closed: true})
				},
			},
		},
		{
			name: "CapturedForm",
			create: func(t *testing.T, b *testBundle, a *agenthooks.Account) string {
				c := &agenthooks.CapturedForm{ID: NewID(), AccountID: a.ID, ConversationID: NewID(), FormID: NewID(), FieldValues: map[string]any{"k": "v"}, CreatedAt: base, UpdatedAt: base}
				b.write(t, func(tx agenthooks.Tx) error { return tx.CreateCapturedForm(c) })
				return c.ID
			},
			find: func(tx agenthooks.Tx, acct, id string) (any, error) { return tx.FindCapturedForm(acct, id) },
			mutate: []func(tx agenthooks.Tx, acct, id string) error{
				func(tx agenthooks.Tx, acct, id string) error {
					return tx.UpdateCapturedForm(&agenthooks.CapturedForm{ID: id, AccountID: acct, FieldValues: map[string]any{"k": "hijacked"}})
				},
			},
		},
		{
			name: "Event",
			create: func(t *testing.T, b *testBundle, a *agenthooks.Account) string {
				return b.event(t, a, agenthooks.EventWebhookTest).ID
			},
			find: func(tx agenthooks.Tx, acct, id string) (any, error) { return tx.FindEvent(acct, id) },
		},
		{
			name: "Delivery",
			create: func(t *testing.T, b *testBundle, a *agenthooks.Account) string {
				return b.pending(t, b.webhook(t, a), b.clock.Now()).ID
			},
			find: func(tx agenthooks.Tx, acct, id string) (any, error) { return tx.FindDelivery(acct, id) },
			mutate: []func(tx agenthooks.Tx, acct, id string) error{
				func(tx agenthooks.Tx, acct, id string) error { return tx.RetryDelivery(acct, id, base.Add(time.Hour)) },
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			foreignID := tt.create(t, b, b.other)
			var before any
			b.read(t, func(tx agenthooks.Tx) error {
				var err error
				before, err = tt.find(tx, b.other.ID, foreignID)
				mustNil(t, err)
				return nil
			})
			for _, id := range append(badIDs(), foreignID) {
				what := fmt.Sprintf("%s %.40q as another account", tt.name, id)
				// Finders in a read and in a write transaction (where they may lock).
				b.read(t, func(tx agenthooks.Tx) error {
					_, err := tt.find(tx, b.acct.ID, id)
					mustCode(t, err, agenthooks.ENOTFOUND, "find "+what)
					return nil
				})
				err := b.store.Write(t.Context(), func(tx agenthooks.Tx) error {
					_, err := tt.find(tx, b.acct.ID, id)
					return err
				})
				mustCode(t, err, agenthooks.ENOTFOUND, "find (write) "+what)
				for i, m := range tt.mutate {
					err := b.store.Write(t.Context(), func(tx agenthooks.Tx) error { return m(tx, b.acct.ID, id) })
					mustCode(t, err, agenthooks.ENOTFOUND, fmt.Sprintf("mutation %d of %s", i, what))
				}
			}
			b.read(t, func(tx agenthooks.Tx) error {
				after, err := tt.find(tx, b.other.ID, foreignID)
				mustNil(t, err)
				checkEqual(t, "the other account's "+tt.name+" after foreign calls", after, before)
				return nil
			})
		})
	}
}

// badIDs returns ids that name nothing: unknown, malformed, hostile.
func badIDs() []string {
	return []string{
		NewID(),
		"",
		"not-a-uuid",
		"00000000-0000-0000-0000-000000000000",
		"' OR '1'='1",
		"%",
		"_",
		"ü🚀",
		strings.Repeat("9", 4096),
	}
}

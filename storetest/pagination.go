package storetest

import (
	"reflect"
	"testing"
	"time"

	"github.com/agenthooks/agenthooks"
)

// Pagination: every list counts the account's rows and pages in a stable order.

func exercisePagination(t *testing.T, setup setupFunc) {
	type listKind struct {
		name string
		// newestFirst: the list is in reverse creation order (events, deliveries,
		// conversations); the others are oldest first (by UUIDv7 id).
		newestFirst bool
		create      func(t *testing.T, b *testBundle, a *agenthooks.Account, i int) string
		list        func(tx agenthooks.Tx, accountID string, p agenthooks.Page) ([]string, int, error)
	}
	kinds := []listKind{
		{
			name:   "Webhooks",
			create: func(t *testing.T, b *testBundle, a *agenthooks.Account, i int) string { return b.webhook(t, a).ID },
			list: func(tx agenthooks.Tx, acct string, p agenthooks.Page) ([]string, int, error) {
				l, n, err := tx.ListWebhooks(acct, p)
				return idsOf(l, webhookID), n, err
			},
		},
		{
			name: "Assistants",
			create: func(t *testing.T, b *testBundle, a *agenthooks.Account, i int) string {
				return b.assistant(t, a, "").ID
			},
			list: func(tx agenthooks.Tx, acct string, p agenthooks.Page) ([]string, int, error) {
				l, n, err := tx.ListAssistants(acct, p)
				return idsOf(l, func(x *agenthooks.Assistant) string { return x.ID }), n, err
			},
		},
		{
			name:   "Widgets",
			create: func(t *testing.T, b *testBundle, a *agenthooks.Account, i int) string { return b.widget(t, a).ID },
			list: func(tx agenthooks.Tx, acct string, p agenthooks.Page) ([]string, int, error) {
				l, n, err := tx.ListWidgets(acct, p)
				return idsOf(l, func(x *agenthooks.Widget) string { return x.ID }), n, err
			},
		},
		{
			name:   "Forms",
			create: func(t *testing.T, b *testBundle, a *agenthooks.Account, i int) string { return b.form(t, a, "").ID },
			list: func(tx agenthooks.Tx, acct string, p agenthooks.Page) ([]string, int, error) {
				l, n, err := tx.ListForms(acct, p)
				return idsOf(l, func(x *agenthooks.Form) string { return x.ID }), n, err
			},
		},
		{
			name:   "Intents",
			create: func(t *testing.T, b *testBundle, a *agenthooks.Account, i int) string { return b.intent(t, a).ID },
			list: func(tx agenthooks.Tx, acct string, p agenthooks.Page) ([]string, int, error) {
				l, n, err := tx.ListIntents(acct, p)
				return idsOf(l, func(x *agenthooks.Intent) string { return x.ID }), n, err
			},
		},
		{
			name:   "Contacts",
			create: func(t *testing.T, b *testBundle, a *agenthooks.Account, i int) string { return b.contact(t, a).ID },
			list: func(tx agenthooks.Tx, acct string, p agenthooks.Page) ([]string, int, error) {
				l, n, err := tx.ListContacts(acct, p)
				return idsOf(l, func(x *agenthooks.Contact) string { return x.ID }), n, err
			},
		},
		{
			name:        "Events",
			newestFirst: true,
			create: func(t *testing.T, b *testBundle, a *agenthooks.Account, i int) string {
				return b.event(t, a, agenthooks.EventConversationClosed).ID
			},
			list: func(tx agenthooks.Tx, acct string, p agenthooks.Page) ([]string, int, error) {
				l, n, err := tx.ListEvents(acct, agenthooks.EventFilter{}, p)
				return idsOf(l, func(x *agenthooks.Event) string { return x.ID }), n, err
			},
		},
		{
			name:        "Deliveries",
			newestFirst: true,
			create: func(t *testing.T, b *testBundle, a *agenthooks.Account, i int) string {
				return b.pending(t, b.webhook(t, a), base).ID
			},
			list: func(tx agenthooks.Tx, acct string, p agenthooks.Page) ([]string, int, error) {
				l, n, err := tx.ListDeliveries(acct, agenthooks.DeliveryFilter{}, p)
				return idsOf(l, func(x *agenthooks.Delivery) string { return x.ID }), n, err
			},
		},
		{
			// created_at DESC, then id DESC: pairs share a created_at to check the tie-break.
			name:        "Conversations",
			newestFirst: true,
			create: func(t *testing.T, b *testBundle, a *agenthooks.Account, i int) string {
				return b.conversation(t, a, NewID(), base.Add(time.Duration(i/2)*time.Minute)).ID
			},
			list: func(tx agenthooks.Tx, acct string, p agenthooks.Page) ([]string, int, error) {
				l, n, err := tx.ListConversations(acct, agenthooks.ConversationFilter{}, p)
				return idsOf(l, conversationID), n, err
			},
		},
	}
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			var ids []string
			for i := range 5 {
				ids = append(ids, k.create(t, b, b.acct, i))
				k.create(t, b, b.other, i) // interleaved: never counted for acct
			}
			if k.newestFirst {
				for i, j := 0, len(ids)-1; i < j; i, j = i+1, j-1 {
					ids[i], ids[j] = ids[j], ids[i]
				}
			}
			pages := []struct {
				p    agenthooks.Page
				want []string
			}{
				{agenthooks.Page{Page: 1, Size: 2}, ids[0:2]},
				{agenthooks.Page{Page: 2, Size: 2}, ids[2:4]},
				{agenthooks.Page{Page: 3, Size: 2}, ids[4:5]},
				{agenthooks.Page{Page: 4, Size: 2}, nil},
				{agenthooks.Page{Page: 1, Size: 5}, ids},
				{agenthooks.Page{Page: 2, Size: 5}, nil},
				{agenthooks.Page{Page: 1, Size: 100}, ids},
				{agenthooks.Page{Page: 2, Size: 3}, ids[3:5]},
			}
			b.read(t, func(tx agenthooks.Tx) error {
				for _, pg := range pages {
					got, total, err := k.list(tx, b.acct.ID, pg.p)
					mustNil(t, err)
					if total != 5 {
						t.Errorf("%+v: total = %d, want 5", pg.p, total)
					}
					if len(got) != len(pg.want) || (len(got) > 0 && !reflect.DeepEqual(got, pg.want)) {
						t.Errorf("%+v: ids = %v, want %v", pg.p, got, pg.want)
					}
				}
				got, total, err := k.list(tx, NewID(), agenthooks.Page{Page: 1, Size: 10})
				mustNil(t, err)
				if total != 0 || len(got) != 0 {
					t.Errorf("unknown account: %d items, total %d; want none", len(got), total)
				}
				return nil
			})
		})
	}
}

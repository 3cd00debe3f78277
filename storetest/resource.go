package storetest

import (
	"testing"
	"time"

	"github.com/agenthooks/agenthooks"
)

// Assistants, widgets, forms, intents, contacts

func exerciseResources(t *testing.T, setup setupFunc) {
	t.Run("Assistant", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		for _, webhookID := range []string{"", NewID()} {
			a := b.newAssistant(b.acct, webhookID)
			b.write(t, func(tx agenthooks.Tx) error { return tx.CreateAssistant(a) })
			b.read(t, func(tx agenthooks.Tx) error {
				got, err := tx.FindAssistant(b.acct.ID, a.ID)
				mustNil(t, err)
				checkEqual(t, "FindAssistant", got, stored(a))
				return nil
			})
		}

		a := b.assistant(t, b.acct, "")
		up := *a
		up.Name, up.AssistantType, up.WebhookID = "renamed "+unicode, "voice", NewID()
		up.UpdatedAt = b.clock.Add(time.Second)
		up.CreatedAt = time.Time{} // immutable
		b.write(t, func(tx agenthooks.Tx) error { return tx.UpdateAssistant(&up) })
		want := stored(&up)
		want.CreatedAt = stored(a).CreatedAt
		b.read(t, func(tx agenthooks.Tx) error {
			got, err := tx.FindAssistant(b.acct.ID, a.ID)
			mustNil(t, err)
			checkEqual(t, "assistant after UpdateAssistant", got, want)
			return nil
		})

		b.write(t, func(tx agenthooks.Tx) error { return tx.DeleteAssistant(b.acct.ID, a.ID) })
		b.read(t, func(tx agenthooks.Tx) error {
			_, err := tx.FindAssistant(b.acct.ID, a.ID)
			mustCode(t, err, agenthooks.ENOTFOUND, "deleted assistant")
			_, total, err := tx.ListAssistants(b.acct.ID, agenthooks.Page{Page: 1, Size: 10})
			mustNil(t, err)
			if total != 2 {
				t.Errorf("ListAssistants total after delete = %d, want 2", total)
			}
			return nil
		})
	})

	t.Run("Widget", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		w := b.widget(t, b.acct)
		b.read(t, func(tx agenthooks.Tx) error {
			got, err := tx.FindWidget(b.acct.ID, w.ID)
			mustNil(t, err)
			checkEqual(t, "FindWidget", got, stored(w))
			return nil
		})
	})

	t.Run("Form", func(t *testing.T) {
		t.Parallel()
		tests := []struct {
			name   string
			fields []agenthooks.FormField
			want   []agenthooks.FormField
		}{
			{name: "Fields", fields: []agenthooks.FormField{
				{Name: "email", Type: "text", Required: true},
				{Name: "nachricht " + unicode, Type: "textarea"},
				{Name: "gdpr", Type: "gdpr", Required: true},
			}},
			{name: "NilFields", fields: nil, want: []agenthooks.FormField{}},
			{name: "EmptyFields", fields: []agenthooks.FormField{}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				b := setup(t)
				f := b.newForm(b.acct, "")
				f.Fields = tt.fields
				b.write(t, func(tx agenthooks.Tx) error { return tx.CreateForm(f) })
				want := stored(f)
				if tt.want != nil {
					want.Fields = tt.want
				}
				b.read(t, func(tx agenthooks.Tx) error {
					got, err := tx.FindForm(b.acct.ID, f.ID)
					mustNil(t, err)
					checkEqual(t, "FindForm", got, want)
					return nil
				})

				up := *f
				up.Name, up.WebhookID = "renamed", NewID()
				up.Fields = []agenthooks.FormField{{Name: "tel", Type: "tel"}}
				up.UpdatedAt = b.clock.Add(time.Second)
				b.write(t, func(tx agenthooks.Tx) error { return tx.UpdateForm(&up) })
				b.read(t, func(tx agenthooks.Tx) error {
					got, err := tx.FindForm(b.acct.ID, f.ID)
					mustNil(t, err)
					checkEqual(t, "form after UpdateForm", got, stored(&up))
					return nil
				})
			})
		}
	})

	t.Run("Intent", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		i := b.intent(t, b.acct)
		b.read(t, func(tx agenthooks.Tx) error {
			got, err := tx.FindIntent(b.acct.ID, i.ID)
			mustNil(t, err)
			checkEqual(t, "FindIntent", got, stored(i))
			return nil
		})
	})

	t.Run("Contact", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		c := b.contact(t, b.acct)
		empty := &agenthooks.Contact{ID: NewID(), AccountID: b.acct.ID, CreatedAt: b.clock.Now()}
		b.write(t, func(tx agenthooks.Tx) error { return tx.CreateContact(empty) })
		b.read(t, func(tx agenthooks.Tx) error {
			for _, want := range []*agenthooks.Contact{c, empty} {
				got, err := tx.FindContact(b.acct.ID, want.ID)
				mustNil(t, err)
				checkEqual(t, "FindContact", got, stored(want))
			}
			return nil
		})
	})
}

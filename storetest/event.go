package storetest

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/agenthooks/agenthooks"
)

// Events, deliveries and attempts as records

func exerciseEventsAndDeliveries(t *testing.T, setup setupFunc) {
	t.Run("EventRoundTrip", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		e := b.newEvent(b.acct, agenthooks.EventCapturedFormCreated)
		// The payload is the signed envelope: it must come back byte for byte.
		text, err := json.Marshal(unicode)
		mustNil(t, err)
		e.Payload = json.RawMessage(`{"type":"captured_form.created",  "data":{"text":` + string(text) + `, "raw":"\u00fc"}, "n": 1.0e3}`)
		if !json.Valid(e.Payload) {
			t.Fatalf("test payload is not JSON: %s", e.Payload)
		}
		test := b.newEvent(b.acct, agenthooks.EventWebhookTest)
		test.ConversationID = ""
		b.write(t, func(tx agenthooks.Tx) error {
			if err := tx.CreateEvent(e); err != nil {
				return err
			}
			return tx.CreateEvent(test)
		})
		b.read(t, func(tx agenthooks.Tx) error {
			for _, want := range []*agenthooks.Event{e, test} {
				got, err := tx.FindEvent(b.acct.ID, want.ID)
				mustNil(t, err)
				checkEqual(t, "FindEvent", got, stored(want))
			}
			return nil
		})
	})

	t.Run("EventListFilter", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		e1 := b.event(t, b.acct, agenthooks.EventConversationClosed)
		e2 := b.event(t, b.acct, agenthooks.EventCapturedIntentCreated)
		e3 := b.event(t, b.acct, agenthooks.EventConversationClosed)
		b.event(t, b.other, agenthooks.EventConversationClosed)
		tests := []struct {
			typ  string
			want []string
		}{
			{"", []string{e3.ID, e2.ID, e1.ID}},
			{agenthooks.EventConversationClosed, []string{e3.ID, e1.ID}},
			{agenthooks.EventCapturedIntentCreated, []string{e2.ID}},
			{agenthooks.EventWebhookTest, nil},
		}
		for _, tt := range tests {
			b.read(t, func(tx agenthooks.Tx) error {
				got, total, err := tx.ListEvents(b.acct.ID, agenthooks.EventFilter{Type: tt.typ}, agenthooks.Page{Page: 1, Size: 100})
				mustNil(t, err)
				if ids := idsOf(got, func(e *agenthooks.Event) string { return e.ID }); total != len(tt.want) || !sameIDs(ids, tt.want) {
					t.Errorf("ListEvents(type %q) = %v (total %d), want %v", tt.typ, ids, total, tt.want)
				}
				return nil
			})
		}
	})

	t.Run("DeliveryRoundTrip", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		w := b.webhook(t, b.acct)
		e := b.event(t, b.acct, agenthooks.EventConversationUpdated)
		tests := []*agenthooks.Delivery{
			{Status: agenthooks.DeliveryPending, NextAttemptAt: base.Add(time.Minute + 3*time.Microsecond), ConversationID: e.ConversationID},
			{Status: agenthooks.DeliveryFailed, AttemptCount: 7, LastError: "HTTP 503 " + unicode},
			{Status: agenthooks.DeliverySucceeded, AttemptCount: 1},
		}
		for _, d := range tests {
			d.ID, d.AccountID, d.EventID, d.WebhookID = NewID(), b.acct.ID, e.ID, w.ID
			d.CreatedAt, d.UpdatedAt = base.Add(-time.Hour), base
			b.write(t, func(tx agenthooks.Tx) error { return tx.CreateDelivery(d) })
			b.read(t, func(tx agenthooks.Tx) error {
				got, err := tx.FindDelivery(b.acct.ID, d.ID)
				mustNil(t, err)
				checkEqual(t, "FindDelivery", got, stored(d))
				return nil
			})
		}
	})

	t.Run("DeliveryListFilters", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		w1, w2 := b.webhook(t, b.acct), b.webhook(t, b.acct)
		e1, e2 := b.event(t, b.acct, agenthooks.EventConversationClosed), b.event(t, b.acct, agenthooks.EventConversationUpdated)
		mk := func(w *agenthooks.Webhook, e *agenthooks.Event, status string) string {
			d := b.newDelivery(w, e, base)
			d.Status = status
			b.write(t, func(tx agenthooks.Tx) error { return tx.CreateDelivery(d) })
			return d.ID
		}
		d1 := mk(w1, e1, agenthooks.DeliveryPending)
		d2 := mk(w2, e1, agenthooks.DeliverySucceeded)
		d3 := mk(w1, e2, agenthooks.DeliveryFailed)
		d4 := mk(w2, e2, agenthooks.DeliveryPending)
		b.pending(t, b.webhook(t, b.other), base) // another account's

		tests := []struct {
			name string
			f    agenthooks.DeliveryFilter
			want []string // newest first
		}{
			{"None", agenthooks.DeliveryFilter{}, []string{d4, d3, d2, d1}},
			{"Webhook", agenthooks.DeliveryFilter{WebhookID: w1.ID}, []string{d3, d1}},
			{"Event", agenthooks.DeliveryFilter{EventID: e1.ID}, []string{d2, d1}},
			{"Status", agenthooks.DeliveryFilter{Status: agenthooks.DeliveryPending}, []string{d4, d1}},
			{"WebhookAndEvent", agenthooks.DeliveryFilter{WebhookID: w2.ID, EventID: e2.ID}, []string{d4}},
			{"AllThree", agenthooks.DeliveryFilter{WebhookID: w1.ID, EventID: e2.ID, Status: agenthooks.DeliveryFailed}, []string{d3}},
			{"NoMatch", agenthooks.DeliveryFilter{WebhookID: w1.ID, Status: agenthooks.DeliverySucceeded}, nil},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				b.read(t, func(tx agenthooks.Tx) error {
					got, total, err := tx.ListDeliveries(b.acct.ID, tt.f, agenthooks.Page{Page: 1, Size: 100})
					mustNil(t, err)
					if ids := idsOf(got, func(d *agenthooks.Delivery) string { return d.ID }); total != len(tt.want) || !sameIDs(ids, tt.want) {
						t.Errorf("ListDeliveries(%+v) = %v (total %d), want %v", tt.f, ids, total, tt.want)
					}
					return nil
				})
			})
		}
	})
}

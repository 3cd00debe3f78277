package storetest

import (
	"testing"
	"time"

	"github.com/agenthooks/agenthooks"
)

// Webhooks

func exerciseWebhooks(t *testing.T, setup setupFunc) {
	t.Run("RoundTrip", func(t *testing.T) {
		t.Parallel()
		rate := 2.5
		tests := []struct {
			name string
			mod  func(w *agenthooks.Webhook)
			want func(w *agenthooks.Webhook) // how the stored webhook differs from the created one
		}{
			{name: "AllFields"},
			{
				name: "NilCollections",
				mod: func(w *agenthooks.Webhook) {
					w.Events, w.Headers, w.RateLimit = nil, nil, nil
					w.PreviousSecret, w.PreviousSecretUntil, w.FailingSince = "", time.Time{}, time.Time{}
				},
				// nil lists and maps come back empty, not nil, so that the API
				// renders [] and {} rather than null.
				want: func(w *agenthooks.Webhook) { w.Events, w.Headers = []string{}, map[string]string{} },
			},
			{
				name: "TLS", // storetest/webhooktls.go
				mod: func(w *agenthooks.Webhook) {
					w.TLS = &agenthooks.WebhookTLS{ClientCertificate: "-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n",
						ClientKey: "-----BEGIN PRIVATE KEY-----\nAA==\n-----END PRIVATE KEY-----\n", CACertificates: "ca"}
				},
			},
			{
				name: "Transformation", // migration transformations
				mod: func(w *agenthooks.Webhook) {
					w.Transformation = &agenthooks.Transformation{Code: "function handler(w) {\n  return w // ünïcode\n}", Enabled: false}
				},
			},
			{
				name: "Filter", // migration filter
				mod: func(w *agenthooks.Webhook) {
					w.Filter = []byte(`{"data.intent_name": {"$in": ["SALES", "ünïcode"]}}`)
				},
			},
			{
				name: "EmptyCollections",
				mod:  func(w *agenthooks.Webhook) { w.Events, w.Headers = []string{}, map[string]string{} },
			},
			{
				name: "DisabledWithNanosecondsAndZone",
				mod: func(w *agenthooks.Webhook) {
					w.Enabled, w.DisabledReason = false, agenthooks.DisabledGone
					w.RateLimit = &rate
					w.CreatedAt = time.Date(2025, 1, 2, 3, 4, 5, 678912345, time.FixedZone("CET", 3600))
				},
			},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				b := setup(t)
				w := b.newWebhook(b.acct)
				if tt.mod != nil {
					tt.mod(w)
				}
				b.write(t, func(tx agenthooks.Tx) error { return tx.CreateWebhook(w) })
				want := stored(w)
				if tt.want != nil {
					tt.want(want)
				}
				b.read(t, func(tx agenthooks.Tx) error {
					got, err := tx.FindWebhook(b.acct.ID, w.ID)
					mustNil(t, err)
					checkEqual(t, "FindWebhook", got, want)
					list, total, err := tx.ListWebhooks(b.acct.ID, agenthooks.Page{Page: 1, Size: 100})
					mustNil(t, err)
					if total != 1 || len(list) != 1 {
						t.Fatalf("ListWebhooks = %d items, total %d; want 1", len(list), total)
					}
					checkEqual(t, "ListWebhooks[0]", list[0], want)
					byID, err := tx.FindWebhooksByID(b.acct.ID, []string{w.ID})
					mustNil(t, err)
					if len(byID) != 1 {
						t.Fatalf("FindWebhooksByID = %d items, want 1", len(byID))
					}
					checkEqual(t, "FindWebhooksByID[0]", byID[0], want)
					return nil
				})
			})
		}
	})

	t.Run("Update", func(t *testing.T) {
		t.Parallel()
		rate := 0.25
		tests := []struct {
			name string
			mod  func(w *agenthooks.Webhook)
		}{
			{
				name: "EveryMutableField",
				mod: func(w *agenthooks.Webhook) {
					w.Name, w.Endpoint = "renamed "+unicode, "https://example.org/new"
					w.Enabled, w.DisabledReason = false, agenthooks.DisabledManual
					w.Events, w.Ordering = []string{agenthooks.EventConversationUpdated}, agenthooks.OrderingNone
					w.Headers, w.RateLimit = map[string]string{"Authorization": "Bearer ✓"}, &rate
					w.Secret, w.PreviousSecret = "whsec_bmV3", "whsec_b2xk"
					w.PreviousSecretUntil, w.FailingSince = base.Add(time.Hour+time.Microsecond), base.Add(-time.Minute)
					w.Filter = []byte(`{"event": "conversation.updated"}`)
				},
			},
			{
				name: "RateLimitToNilAndTimesToZero",
				mod: func(w *agenthooks.Webhook) {
					w.RateLimit = nil
					w.PreviousSecret, w.PreviousSecretUntil, w.FailingSince = "", time.Time{}, time.Time{}
				},
			},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				b := setup(t)
				w := b.webhook(t, b.acct)
				created := stored(w).CreatedAt
				up := *w
				tt.mod(&up)
				up.UpdatedAt = b.clock.Add(time.Minute)
				up.CreatedAt = base.Add(-1000 * time.Hour) // immutable: must be ignored
				b.write(t, func(tx agenthooks.Tx) error { return tx.UpdateWebhook(&up) })
				want := stored(&up)
				want.CreatedAt = created
				b.read(t, func(tx agenthooks.Tx) error {
					got, err := tx.FindWebhook(b.acct.ID, w.ID)
					mustNil(t, err)
					checkEqual(t, "webhook after UpdateWebhook", got, want)
					return nil
				})
			})
		}
	})

	t.Run("RateLimitNilToValue", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		w := b.newWebhook(b.acct)
		w.RateLimit = nil
		b.write(t, func(tx agenthooks.Tx) error { return tx.CreateWebhook(w) })
		rate := 12.0
		w.RateLimit = &rate
		b.write(t, func(tx agenthooks.Tx) error { return tx.UpdateWebhook(w) })
		b.read(t, func(tx agenthooks.Tx) error {
			got, err := tx.FindWebhook(b.acct.ID, w.ID)
			mustNil(t, err)
			if got.RateLimit == nil || *got.RateLimit != 12 {
				t.Errorf("RateLimit = %v, want 12", got.RateLimit)
			}
			return nil
		})
	})

	t.Run("Delete", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		w1, w2 := b.webhook(t, b.acct), b.webhook(t, b.acct)
		b.write(t, func(tx agenthooks.Tx) error { return tx.DeleteWebhook(b.acct.ID, w1.ID) })
		b.read(t, func(tx agenthooks.Tx) error {
			_, err := tx.FindWebhook(b.acct.ID, w1.ID)
			mustCode(t, err, agenthooks.ENOTFOUND, "deleted webhook")
			_, err = tx.FindWebhook(b.acct.ID, w2.ID)
			mustNil(t, err)
			return nil
		})
		err := b.store.Write(t.Context(), func(tx agenthooks.Tx) error { return tx.DeleteWebhook(b.acct.ID, w1.ID) })
		mustCode(t, err, agenthooks.ENOTFOUND, "deleting a deleted webhook")
	})

	t.Run("FindWebhooksByID", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		w1, w2, w3 := b.webhook(t, b.acct), b.webhook(t, b.acct), b.webhook(t, b.acct)
		foreign := b.webhook(t, b.other)
		b.read(t, func(tx agenthooks.Tx) error {
			got, err := tx.FindWebhooksByID(b.acct.ID, []string{w3.ID, foreign.ID, NewID(), "junk", w1.ID})
			mustNil(t, err)
			checkEqual(t, "FindWebhooksByID (own ones, by id)", idsOf(got, webhookID), []string{w1.ID, w3.ID})
			got, err = tx.FindWebhooksByID(b.acct.ID, nil)
			mustNil(t, err)
			if len(got) != 0 {
				t.Errorf("FindWebhooksByID(nil) = %d webhooks, want none", len(got))
			}
			_ = w2
			return nil
		})
	})

	t.Run("AssistantWebhook", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		w := b.webhook(t, b.acct)
		withHook := b.assistant(t, b.acct, w.ID)
		without := b.assistant(t, b.acct, "")
		dangling := b.assistant(t, b.acct, NewID())
		foreign := b.assistant(t, b.other, w.ID) // another account's assistant naming this webhook
		b.read(t, func(tx agenthooks.Tx) error {
			got, err := tx.AssistantWebhook(b.acct.ID, withHook.ID)
			mustNil(t, err)
			// The whole webhook, secrets opened: a delivery handed to a worker
			// from the transaction that stores it is signed and sent with it.
			checkEqual(t, "AssistantWebhook", got, stored(w))
			for name, id := range map[string][2]string{
				"no webhook":        {b.acct.ID, without.ID},
				"deleted webhook":   {b.acct.ID, dangling.ID},
				"missing assistant": {b.acct.ID, NewID()},
				"other account":     {b.other.ID, withHook.ID},
				"foreign assistant": {b.other.ID, foreign.ID},
			} {
				got, err := tx.AssistantWebhook(id[0], id[1])
				mustNil(t, err)
				if got != nil {
					t.Errorf("AssistantWebhook (%s) = %+v, want nil", name, got)
				}
			}
			return nil
		})
	})

	t.Run("UnassignWebhook", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		w1, w2 := b.webhook(t, b.acct), b.webhook(t, b.acct)
		as1 := b.assistant(t, b.acct, w1.ID)
		as2 := b.assistant(t, b.acct, w2.ID)
		f1 := b.form(t, b.acct, w1.ID)
		f2 := b.form(t, b.acct, w2.ID)
		// Another account's rows that happen to hold the same string are not ours to clear.
		asForeign := b.assistant(t, b.other, w1.ID)
		fForeign := b.form(t, b.other, w1.ID)

		now := b.clock.Add(time.Hour)
		b.write(t, func(tx agenthooks.Tx) error { return tx.UnassignWebhook(b.acct.ID, w1.ID) })

		wantAs1, wantF1 := stored(as1), stored(f1)
		wantAs1.WebhookID, wantAs1.UpdatedAt = "", now
		wantF1.WebhookID, wantF1.UpdatedAt = "", now
		b.read(t, func(tx agenthooks.Tx) error {
			for _, c := range []struct {
				a    *agenthooks.Account
				id   string
				want *agenthooks.Assistant
			}{{b.acct, as1.ID, wantAs1}, {b.acct, as2.ID, stored(as2)}, {b.other, asForeign.ID, stored(asForeign)}} {
				got, err := tx.FindAssistant(c.a.ID, c.id)
				mustNil(t, err)
				checkEqual(t, "assistant after UnassignWebhook", got, c.want)
			}
			for _, c := range []struct {
				a    *agenthooks.Account
				id   string
				want *agenthooks.Form
			}{{b.acct, f1.ID, wantF1}, {b.acct, f2.ID, stored(f2)}, {b.other, fForeign.ID, stored(fForeign)}} {
				got, err := tx.FindForm(c.a.ID, c.id)
				mustNil(t, err)
				checkEqual(t, "form after UnassignWebhook", got, c.want)
			}
			return nil
		})
	})
}

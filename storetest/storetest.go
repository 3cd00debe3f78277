// Package storetest is the conformance suite every agenthooks.Store engine
// must pass (after River's riverdrivertest): each engine's tests call Exercise
// with a function that opens a fresh, empty store of that engine.
//
// The suite checks what the rest of agenthooks relies on and cannot see from
// outside: every field of every resource survives a round trip (times to the
// microsecond, JSON bytes, nil against empty), finders never cross accounts,
// pages and filters select and order as sqlstore documents, the queue leases
// each due delivery to one worker at a time and ignores stale completions, and
// Write keeps one caller's failure from touching another's work. Time is an
// injected Clock: nothing sleeps.
package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/agenthooks/agenthooks"
)

// Clock is a settable clock for stores under test. Its zero value is not
// usable; make one with NewClock.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock reading t until moved.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's reading; pass it as the store's clock.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Add moves the clock by d and returns the new reading.
func (c *Clock) Add(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	return c.t
}

// base is the suite's starting time, with microsecond precision (what stores keep).
var base = time.Date(2025, 3, 14, 15, 9, 26, 535897000, time.UTC)

// unicode is stored in every free-text field to check the engines keep it.
const unicode = "Grüße, 東京 🚀 — \"quoted\" 'single' \\ back\nslash\ttab é"

// NewID returns a new UUIDv7 string, the id format of agenthooks: ids made
// one after another sort in creation order.
func NewID() string { return uuid.Must(uuid.NewV7()).String() }

// testBundle is what each subtest gets from setup: a fresh store whose clock
// it controls, the account under test and another account whose resources
// the first must never see.
type testBundle struct {
	store agenthooks.Store
	clock *Clock
	acct  *agenthooks.Account
	other *agenthooks.Account
}

// Exercise runs the conformance suite. open must return a fresh, empty store
// of the engine under test that reads the time from now and is closed when t
// ends (t.Cleanup). Subtests run in parallel, each on its own store.
func Exercise(t *testing.T, open func(t testing.TB, now func() time.Time) agenthooks.Store) {
	t.Helper()

	setup := func(t *testing.T) *testBundle {
		t.Helper()
		clock := NewClock(base)
		b := &testBundle{store: open(t, clock.Now), clock: clock}
		b.acct = b.account(t, "Acme "+unicode)
		b.other = b.account(t, "Other account")
		return b
	}

	t.Run("Account", func(t *testing.T) { t.Parallel(); exerciseAccounts(t, setup) })
	t.Run("Webhook", func(t *testing.T) { t.Parallel(); exerciseWebhooks(t, setup) })
	t.Run("Resource", func(t *testing.T) { t.Parallel(); exerciseResources(t, setup) })
	t.Run("Conversation", func(t *testing.T) { t.Parallel(); exerciseConversations(t, setup) })
	t.Run("AccountScope", func(t *testing.T) { t.Parallel(); exerciseAccountScope(t, setup) })
	t.Run("Pagination", func(t *testing.T) { t.Parallel(); exercisePagination(t, setup) })
	t.Run("EventAndDelivery", func(t *testing.T) { t.Parallel(); exerciseEventsAndDeliveries(t, setup) })
	t.Run("Queue", func(t *testing.T) { t.Parallel(); exerciseQueue(t, setup) })
	t.Run("Write", func(t *testing.T) { t.Parallel(); exerciseWrite(t, setup) })
	t.Run("ConversationOrdering", func(t *testing.T) { t.Parallel(); exerciseConversationOrdering(t, setup) })
	t.Run("Sweep", func(t *testing.T) { t.Parallel(); exerciseSweeps(t, setup) })
	t.Run("Idempotency", func(t *testing.T) { t.Parallel(); exerciseIdempotency(t, setup) })
	t.Run("APIKey", func(t *testing.T) { t.Parallel(); exerciseAPIKeys(t, setup) })
	t.Run("AccountDeletion", func(t *testing.T) { t.Parallel(); exerciseAccountDeletion(t, setup) })
	t.Run("Insighto", func(t *testing.T) { t.Parallel(); exerciseInsighto(t, setup) })
	t.Run("Lease", func(t *testing.T) { t.Parallel(); exerciseLeases(t, setup) })
	t.Run("Session", func(t *testing.T) { t.Parallel(); exerciseSessions(t, setup) })
	t.Run("Insight", func(t *testing.T) { t.Parallel(); exerciseInsight(t, setup) })
	t.Run("AccountList", func(t *testing.T) { t.Parallel(); exerciseAccountList(t, setup) })
	t.Run("Ops", func(t *testing.T) { t.Parallel(); exerciseOps(t, setup) })
	t.Run("Security", func(t *testing.T) { t.Parallel(); exerciseSecurity(t, setup) })
	t.Run("EventPages", func(t *testing.T) { exerciseEventPages(t, setup) })
	t.Run("RecentAttempts", func(t *testing.T) { exerciseRecentAttempts(t, setup) })
}

type setupFunc func(t *testing.T) *testBundle

// ---------------------------------------------------------------------------
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

// ---------------------------------------------------------------------------
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
			want := &agenthooks.Webhook{ID: w.ID, AccountID: w.AccountID, Enabled: w.Enabled, Events: w.Events}
			checkEqual(t, "AssistantWebhook (routing fields)", got, want)
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

// ---------------------------------------------------------------------------
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

// ---------------------------------------------------------------------------
// Conversations, messages, captured forms and intents

func exerciseConversations(t *testing.T, setup setupFunc) {
	t.Run("RoundTrip", func(t *testing.T) {
		t.Parallel()
		tests := []struct {
			name string
			mod  func(c *agenthooks.Conversation)
			want func(c *agenthooks.Conversation)
		}{
			{name: "Open"},
			{
				name: "Closed",
				mod: func(c *agenthooks.Conversation) {
					c.Closed, c.ClosedAt = true, base.Add(time.Hour+7*time.Microsecond)
					c.ContactID, c.ChatCount, c.FirstMessage = NewID(), 42, unicode
				},
			},
			{
				// Attributes are kept byte for byte: key order and spacing included.
				name: "AttributesVerbatim",
				mod: func(c *agenthooks.Conversation) {
					c.Attributes = json.RawMessage(`{ "z": 1,  "a": ["ü", null, {"n": 1.50}], "s": "\u00e9 🚀" }`)
				},
			},
			{
				name: "NilAttributes",
				mod:  func(c *agenthooks.Conversation) { c.Attributes = nil },
				want: func(c *agenthooks.Conversation) { c.Attributes = json.RawMessage(`{}`) },
			},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				b := setup(t)
				c := b.newConversation(b.acct, NewID(), b.clock.Now())
				if tt.mod != nil {
					tt.mod(c)
				}
				b.write(t, func(tx agenthooks.Tx) error { return tx.CreateConversation(c) })
				want := stored(c)
				if tt.want != nil {
					tt.want(want)
				}
				b.read(t, func(tx agenthooks.Tx) error {
					got, err := tx.FindConversation(b.acct.ID, c.ID)
					mustNil(t, err)
					checkEqual(t, "FindConversation", got, want)
					return nil
				})
			})
		}
	})

	t.Run("Update", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		c := b.conversation(t, b.acct, NewID(), b.clock.Now())
		up := *c
		up.ContactID, up.Attributes = NewID(), json.RawMessage(`{"plan":"pro"}`)
		up.ChatCount, up.FirstMessage = 3, "hola "+unicode
		up.Closed, up.ClosedAt = true, b.clock.Add(time.Minute)
		up.LastActivityAt, up.UpdatedAt = b.clock.Now(), b.clock.Now()
		// Immutable fields: the update must not write them.
		up.AssistantID, up.WidgetID, up.DeviceType, up.CreatedAt = "x", "y", "tablet", time.Time{}
		// Read and update under the write lock, as the service does.
		b.write(t, func(tx agenthooks.Tx) error {
			if _, err := tx.FindConversation(b.acct.ID, c.ID); err != nil {
				return err
			}
			return tx.UpdateConversation(&up)
		})
		want := stored(&up)
		orig := stored(c)
		want.AssistantID, want.WidgetID, want.DeviceType, want.CreatedAt = orig.AssistantID, orig.WidgetID, orig.DeviceType, orig.CreatedAt
		b.read(t, func(tx agenthooks.Tx) error {
			got, err := tx.FindConversation(b.acct.ID, c.ID)
			mustNil(t, err)
			checkEqual(t, "conversation after UpdateConversation", got, want)
			return nil
		})
	})

	t.Run("CloseConversation", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		c := b.conversation(t, b.acct, NewID(), b.clock.Now())
		at := b.clock.Add(time.Minute)
		var got *agenthooks.Conversation
		b.write(t, func(tx agenthooks.Tx) error {
			var err error
			got, err = tx.CloseConversation(b.acct.ID, c.ID, at)
			return err
		})
		want := stored(c)
		want.Closed, want.ClosedAt, want.UpdatedAt = true, stored(&struct{ T time.Time }{at}).T, stored(&struct{ T time.Time }{at}).T
		checkEqual(t, "CloseConversation's answer", got, want)
		b.read(t, func(tx agenthooks.Tx) error {
			read, err := tx.FindConversation(b.acct.ID, c.ID)
			mustNil(t, err)
			checkEqual(t, "conversation after CloseConversation", read, want)
			return nil
		})
		cases := []struct {
			name, account, id, code string
		}{
			{"already closed", b.acct.ID, c.ID, agenthooks.ECONFLICT},
			{"missing", b.acct.ID, NewID(), agenthooks.ENOTFOUND},
			{"other account", b.other.ID, c.ID, agenthooks.ENOTFOUND},
		}
		for _, tc := range cases {
			err := b.store.Write(t.Context(), func(tx agenthooks.Tx) error {
				_, err := tx.CloseConversation(tc.account, tc.id, b.clock.Now())
				return err
			})
			mustCode(t, err, tc.code, "CloseConversation ("+tc.name+")")
		}
		b.read(t, func(tx agenthooks.Tx) error {
			read, err := tx.FindConversation(b.acct.ID, c.ID)
			mustNil(t, err)
			checkEqual(t, "conversation after a second close", read, want)
			return nil
		})
	})

	t.Run("ListFilters", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		a1, a2 := NewID(), NewID()
		c1 := b.conversation(t, b.acct, a1, base.Add(-3*time.Hour))
		c2 := b.conversation(t, b.acct, a2, base.Add(-2*time.Hour))
		c3 := b.conversation(t, b.acct, a1, base.Add(-time.Hour))
		c4 := b.conversation(t, b.acct, a1, base)
		b.conversation(t, b.other, a1, base.Add(-time.Hour)) // never listed for acct

		tests := []struct {
			name string
			f    agenthooks.ConversationFilter
			want []*agenthooks.Conversation // newest first
		}{
			{name: "None", want: []*agenthooks.Conversation{c4, c3, c2, c1}},
			{name: "Assistant", f: agenthooks.ConversationFilter{AssistantID: a1}, want: []*agenthooks.Conversation{c4, c3, c1}},
			{name: "UnknownAssistant", f: agenthooks.ConversationFilter{AssistantID: NewID()}},
			{name: "FromInclusive", f: agenthooks.ConversationFilter{From: base.Add(-2 * time.Hour)}, want: []*agenthooks.Conversation{c4, c3, c2}},
			{name: "ToInclusive", f: agenthooks.ConversationFilter{To: base.Add(-2 * time.Hour)}, want: []*agenthooks.Conversation{c2, c1}},
			{name: "FromTo", f: agenthooks.ConversationFilter{From: base.Add(-2 * time.Hour), To: base.Add(-time.Hour)}, want: []*agenthooks.Conversation{c3, c2}},
			{name: "ToJustBefore", f: agenthooks.ConversationFilter{To: base.Add(-time.Microsecond)}, want: []*agenthooks.Conversation{c3, c2, c1}},
			{name: "AssistantFrom", f: agenthooks.ConversationFilter{AssistantID: a1, From: base.Add(-2 * time.Hour)}, want: []*agenthooks.Conversation{c4, c3}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				b.read(t, func(tx agenthooks.Tx) error {
					got, total, err := tx.ListConversations(b.acct.ID, tt.f, agenthooks.Page{Page: 1, Size: 100})
					mustNil(t, err)
					checkEqual(t, "ListConversations ids", idsOf(got, conversationID), idsOf(tt.want, conversationID))
					if total != len(tt.want) {
						t.Errorf("total = %d, want %d", total, len(tt.want))
					}
					for i := range min(len(got), len(tt.want)) {
						checkEqual(t, "listed conversation", got[i], stored(tt.want[i]))
					}
					return nil
				})
			})
		}
	})

	t.Run("FindIdleConversations", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		cutoff := base.Add(-time.Hour)
		mk := func(a *agenthooks.Account, last time.Time, closed bool) *agenthooks.Conversation {
			c := b.newConversation(a, NewID(), base.Add(-5*time.Hour))
			c.LastActivityAt, c.Closed = last, closed
			if closed {
				c.ClosedAt = last
			}
			b.write(t, func(tx agenthooks.Tx) error { return tx.CreateConversation(c) })
			return c
		}
		idle2 := mk(b.acct, cutoff.Add(-2*time.Minute), false)
		mk(b.acct, cutoff, false)                             // at the cutoff: not idle
		mk(b.acct, cutoff.Add(-3*time.Hour), true)            // closed
		idle3 := mk(b.other, cutoff.Add(-time.Minute), false) // any account
		idle1 := mk(b.acct, cutoff.Add(-3*time.Minute), false)
		mk(b.acct, base, false) // recent

		b.read(t, func(tx agenthooks.Tx) error {
			got, err := tx.FindIdleConversations(cutoff, 10)
			mustNil(t, err)
			checkEqual(t, "idle conversations, least recent first", idsOf(got, conversationID), []string{idle1.ID, idle2.ID, idle3.ID})
			got, err = tx.FindIdleConversations(cutoff, 2)
			mustNil(t, err)
			checkEqual(t, "idle conversations with limit 2", idsOf(got, conversationID), []string{idle1.ID, idle2.ID})
			return nil
		})
	})

	t.Run("ListMessages", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		c := b.conversation(t, b.acct, NewID(), base)
		otherConv := b.conversation(t, b.acct, NewID(), base)
		var msgs []*agenthooks.Message
		for i := range 5 {
			m := b.message(t, b.acct, c.ID, fmt.Sprintf("message %d %s", i, unicode))
			msgs = append(msgs, m)
			b.message(t, b.acct, otherConv.ID, "elsewhere")
		}
		tests := []struct {
			name    string
			account string
			limit   int
			want    []*agenthooks.Message
		}{
			{name: "LastThreeOldestFirst", account: b.acct.ID, limit: 3, want: msgs[2:]},
			{name: "LimitAboveCount", account: b.acct.ID, limit: 100, want: msgs},
			{name: "LimitOne", account: b.acct.ID, limit: 1, want: msgs[4:]},
			{name: "OtherAccount", account: b.other.ID, limit: 100},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				b.read(t, func(tx agenthooks.Tx) error {
					got, err := tx.ListMessages(tt.account, c.ID, tt.limit)
					mustNil(t, err)
					want := make([]*agenthooks.Message, len(tt.want))
					for i, m := range tt.want {
						want[i] = stored(m)
					}
					if len(got) != len(want) {
						t.Fatalf("ListMessages = %d messages, want %d", len(got), len(want))
					}
					for i := range got {
						checkEqual(t, fmt.Sprintf("message %d", i), got[i], want[i])
					}
					return nil
				})
			})
		}
	})

	t.Run("CapturedForm", func(t *testing.T) {
		t.Parallel()
		tests := []struct {
			name   string
			values map[string]any
			want   map[string]any
		}{
			{name: "Values", values: map[string]any{
				"email": "jo@example.com", "nachricht": unicode, "gdpr": true, "count": json.Number("3.5"), "order": json.Number("12345678901234567890"),
				"tags": []any{"a", "ü"}, "nested": map[string]any{"k": nil}, "empty": "",
			}},
			{name: "NilValues", values: nil, want: map[string]any{}},
			{name: "EmptyValues", values: map[string]any{}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				b := setup(t)
				c := &agenthooks.CapturedForm{
					ID: NewID(), AccountID: b.acct.ID, ConversationID: NewID(), FormID: NewID(),
					FieldValues: tt.values, CreatedAt: b.clock.Now(), UpdatedAt: b.clock.Now(),
				}
				b.write(t, func(tx agenthooks.Tx) error { return tx.CreateCapturedForm(c) })
				want := stored(c)
				if tt.want != nil {
					want.FieldValues = tt.want
				}
				b.read(t, func(tx agenthooks.Tx) error {
					got, err := tx.FindCapturedForm(b.acct.ID, c.ID)
					mustNil(t, err)
					checkEqual(t, "FindCapturedForm", got, want)
					return nil
				})

				up := *c
				up.FieldValues = map[string]any{"email": "new@example.com", "extra": false}
				up.UpdatedAt = b.clock.Add(time.Minute)
				b.write(t, func(tx agenthooks.Tx) error {
					if _, err := tx.FindCapturedForm(b.acct.ID, c.ID); err != nil {
						return err
					}
					return tx.UpdateCapturedForm(&up)
				})
				b.read(t, func(tx agenthooks.Tx) error {
					got, err := tx.FindCapturedForm(b.acct.ID, c.ID)
					mustNil(t, err)
					checkEqual(t, "captured form after UpdateCapturedForm", got, stored(&up))
					return nil
				})
			})
		}
	})

	t.Run("CapturedIntent", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		ci := &agenthooks.CapturedIntent{ID: NewID(), AccountID: b.acct.ID, ConversationID: NewID(), IntentID: NewID(), CreatedAt: b.clock.Now()}
		b.write(t, func(tx agenthooks.Tx) error { return tx.CreateCapturedIntent(ci) })
		err := b.store.Write(t.Context(), func(tx agenthooks.Tx) error { return tx.CreateCapturedIntent(ci) })
		if err == nil {
			t.Error("CreateCapturedIntent with a duplicate id succeeded")
		}
	})
}

// ---------------------------------------------------------------------------
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

// ---------------------------------------------------------------------------
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

// ---------------------------------------------------------------------------
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

// ---------------------------------------------------------------------------
// The queue

func exerciseQueue(t *testing.T, setup setupFunc) {
	t.Run("ClaimDueOnly", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		w := b.webhook(t, b.acct)
		now := b.clock.Now()
		past := b.pending(t, w, now.Add(-time.Second))
		atNow := b.pending(t, w, now)
		b.pending(t, w, now.Add(time.Microsecond)) // not yet due
		for _, status := range []string{agenthooks.DeliverySucceeded, agenthooks.DeliveryFailed} {
			d := b.newDelivery(w, b.event(t, b.acct, agenthooks.EventConversationClosed), now.Add(-time.Hour))
			d.Status = status // ended: never claimed, whatever its time says
			b.write(t, func(tx agenthooks.Tx) error { return tx.CreateDelivery(d) })
		}

		leaseUntil := now.Add(30 * time.Second)
		jobs := b.claim(t, 10, leaseUntil)
		checkEqual(t, "claimed ids", sortedIDs(jobIDs(jobs)), sortedIDs([]string{past.ID, atNow.ID}))

		// A job carries what the attempt needs: the leased delivery, its
		// event's exact payload and the webhook.
		b.read(t, func(tx agenthooks.Tx) error {
			wantW, err := tx.FindWebhook(b.acct.ID, w.ID)
			mustNil(t, err)
			for _, j := range jobs {
				d, err := tx.FindDelivery(b.acct.ID, j.Delivery.ID)
				mustNil(t, err)
				checkEqual(t, "job delivery", &j.Delivery, d)
				if !d.NextAttemptAt.Equal(leaseUntil) || d.Status != agenthooks.DeliveryPending || !d.UpdatedAt.Equal(now) {
					t.Errorf("claimed delivery: status %s, next %v, updated %v; want pending, %v (the lease), %v", d.Status, d.NextAttemptAt, d.UpdatedAt, leaseUntil, now)
				}
				e, err := tx.FindEvent(b.acct.ID, d.EventID)
				mustNil(t, err)
				if string(j.Payload) != string(e.Payload) {
					t.Errorf("job payload = %s, want %s", j.Payload, e.Payload)
				}
				checkEqual(t, "job webhook", &j.Webhook, wantW)
			}
			return nil
		})
	})

	t.Run("ClaimLimitAndDueOrder", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		w := b.webhook(t, b.acct)
		now := b.clock.Now()
		// Created out of due order, so that id order is not due order.
		byDue := make([]*agenthooks.Delivery, 6)
		for _, i := range []int{3, 0, 5, 1, 4, 2} {
			byDue[i] = b.pending(t, w, now.Add(time.Duration(i-6)*time.Minute))
		}
		b.pending(t, w, now.Add(time.Minute)) // not due
		jobs := b.claim(t, 4, now.Add(time.Hour))
		checkEqual(t, "first claim: the 4 earliest due (in any order)", sortedIDs(jobIDs(jobs)), sortedIDs(idsOf(byDue[:4], deliveryID)))
		jobs = b.claim(t, 4, now.Add(time.Hour))
		checkEqual(t, "second claim: the rest", sortedIDs(jobIDs(jobs)), sortedIDs(idsOf(byDue[4:], deliveryID)))
		if jobs := b.claim(t, 4, now.Add(time.Hour)); len(jobs) != 0 {
			t.Errorf("third claim = %v, want none", jobIDs(jobs))
		}
	})

	t.Run("DisabledWebhookWaits", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		on, off := b.webhook(t, b.acct), b.webhook(t, b.acct)
		off.Enabled, off.DisabledReason = false, agenthooks.DisabledManual
		b.write(t, func(tx agenthooks.Tx) error { return tx.UpdateWebhook(off) })
		dOn := b.pending(t, on, b.clock.Now())
		dOff := b.pending(t, off, b.clock.Now().Add(-time.Hour)) // due first, but its webhook is disabled

		checkEqual(t, "claim with a disabled webhook", jobIDs(b.claim(t, 10, b.clock.Now().Add(time.Minute))), []string{dOn.ID})
		b.clock.Add(time.Hour)
		// dOn's lease has run out, so it may come back; dOff must not.
		for _, id := range jobIDs(b.claim(t, 10, b.clock.Now().Add(time.Minute))) {
			if id == dOff.ID {
				t.Fatalf("claimed %v while its webhook is disabled", id)
			}
		}
		b.read(t, func(tx agenthooks.Tx) error {
			d, err := tx.FindDelivery(b.acct.ID, dOff.ID)
			mustNil(t, err)
			checkEqual(t, "waiting delivery", d, stored(dOff))
			return nil
		})

		off.Enabled, off.DisabledReason = true, ""
		b.write(t, func(tx agenthooks.Tx) error { return tx.UpdateWebhook(off) })
		jobs := b.claim(t, 10, b.clock.Now().Add(time.Minute))
		checkEqual(t, "claim after re-enabling", jobIDs(jobs), []string{dOff.ID})
		if len(jobs) == 1 && !jobs[0].Webhook.Enabled {
			t.Error("job webhook is disabled")
		}
	})

	t.Run("LeaseExpiry", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		w := b.webhook(t, b.acct)
		d := b.pending(t, w, b.clock.Now())
		lease := 30 * time.Second
		first := b.claim(t, 10, b.clock.Now().Add(lease))
		if len(first) != 1 {
			t.Fatalf("first claim = %d jobs, want 1", len(first))
		}
		if again := b.claim(t, 10, b.clock.Now().Add(lease)); len(again) != 0 {
			t.Fatalf("claimed again under a live lease: %v", jobIDs(again))
		}
		b.clock.Add(lease - time.Microsecond)
		if again := b.claim(t, 10, b.clock.Now().Add(lease)); len(again) != 0 {
			t.Fatalf("claimed again 1µs before the lease ends: %v", jobIDs(again))
		}
		b.clock.Add(time.Microsecond)
		second := b.claim(t, 10, b.clock.Now().Add(lease))
		if len(second) != 1 || second[0].Delivery.ID != d.ID {
			t.Fatalf("claim after lease expiry = %v, want [%s]", jobIDs(second), d.ID)
		}
		if second[0].Lease == first[0].Lease {
			t.Fatalf("second claim has the first claim's lease %d", first[0].Lease)
		}

		// The first worker finishes late: nothing of its outcome is kept.
		b.complete(t, &agenthooks.Outcome{
			DeliveryID: d.ID, Lease: first[0].Lease, Status: agenthooks.DeliverySucceeded,
			Attempt: b.newAttempt(d, 200, ""),
		})
		b.read(t, func(tx agenthooks.Tx) error {
			got, err := tx.FindDelivery(b.acct.ID, d.ID)
			mustNil(t, err)
			checkEqual(t, "delivery after a stale completion", got, &second[0].Delivery)
			attempts, err := tx.ListAttempts(d.ID)
			mustNil(t, err)
			if len(attempts) != 0 {
				t.Errorf("stale completion recorded %d attempts", len(attempts))
			}
			return nil
		})

		// The current holder's completion counts.
		b.complete(t, &agenthooks.Outcome{
			DeliveryID: d.ID, Lease: second[0].Lease, Status: agenthooks.DeliverySucceeded,
			Attempt: b.newAttempt(d, 204, ""),
		})
		b.read(t, func(tx agenthooks.Tx) error {
			got, err := tx.FindDelivery(b.acct.ID, d.ID)
			mustNil(t, err)
			if got.Status != agenthooks.DeliverySucceeded || got.AttemptCount != 1 {
				t.Errorf("after completion: status %s, attempts %d; want succeeded, 1", got.Status, got.AttemptCount)
			}
			return nil
		})
	})

	t.Run("Complete", func(t *testing.T) {
		t.Parallel()
		retryIn := 5 * time.Minute
		tests := []struct {
			name          string
			status        string
			next          time.Duration // outcome's NextAttemptAt, from the completion time
			attempt       func(d *agenthooks.Delivery, b *testBundle) *agenthooks.Attempt
			wantStatus    string
			wantNext      time.Duration // -1: zero time (ended)
			wantLastError string
			wantAttempts  int
		}{
			{
				name: "Succeeded", status: agenthooks.DeliverySucceeded, next: time.Hour, // ignored: it ended
				attempt:    func(d *agenthooks.Delivery, b *testBundle) *agenthooks.Attempt { return b.newAttempt(d, 200, "") },
				wantStatus: agenthooks.DeliverySucceeded, wantNext: -1, wantLastError: "", wantAttempts: 1,
			},
			{
				name: "RetryAfterHTTPError", status: agenthooks.DeliveryPending, next: retryIn,
				attempt:    func(d *agenthooks.Delivery, b *testBundle) *agenthooks.Attempt { return b.newAttempt(d, 500, "") },
				wantStatus: agenthooks.DeliveryPending, wantNext: retryIn, wantLastError: "HTTP 500", wantAttempts: 1,
			},
			{
				name: "RetryAfterNetworkError", status: agenthooks.DeliveryPending, next: retryIn,
				attempt: func(d *agenthooks.Delivery, b *testBundle) *agenthooks.Attempt {
					return b.newAttempt(d, 0, "dial tcp 203.0.113.9:443: connect: connection refused")
				},
				wantStatus: agenthooks.DeliveryPending, wantNext: retryIn, wantLastError: "dial tcp 203.0.113.9:443: connect: connection refused", wantAttempts: 1,
			},
			{
				name: "Failed", status: agenthooks.DeliveryFailed, next: time.Hour,
				attempt:    func(d *agenthooks.Delivery, b *testBundle) *agenthooks.Attempt { return b.newAttempt(d, 410, "") },
				wantStatus: agenthooks.DeliveryFailed, wantNext: -1, wantLastError: "HTTP 410", wantAttempts: 1,
			},
			{
				// Shutdown: the delivery goes back to the queue without an attempt,
				// keeping the error of its last real attempt.
				name: "ReleasedWithoutAttempt", status: agenthooks.DeliveryPending, next: 0,
				attempt:    func(d *agenthooks.Delivery, b *testBundle) *agenthooks.Attempt { return nil },
				wantStatus: agenthooks.DeliveryPending, wantNext: 0, wantLastError: "HTTP 502", wantAttempts: 0,
			},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				b := setup(t)
				w := b.webhook(t, b.acct)
				d := b.newDelivery(w, b.event(t, b.acct, agenthooks.EventConversationClosed), b.clock.Now())
				d.AttemptCount, d.LastError = 2, "HTTP 502" // two earlier attempts
				b.write(t, func(tx agenthooks.Tx) error { return tx.CreateDelivery(d) })
				jobs := b.claim(t, 1, b.clock.Now().Add(time.Minute))
				if len(jobs) != 1 {
					t.Fatalf("claim = %d jobs, want 1", len(jobs))
				}
				now := b.clock.Add(3 * time.Second) // the attempt took a while
				a := tt.attempt(d, b)
				o := &agenthooks.Outcome{DeliveryID: d.ID, Lease: jobs[0].Lease, Attempt: a, Status: tt.status, NextAttemptAt: now.Add(tt.next)}
				b.complete(t, o)

				want := stored(d)
				want.Status, want.LastError, want.UpdatedAt = tt.wantStatus, tt.wantLastError, now
				want.AttemptCount = 2 + tt.wantAttempts
				want.NextAttemptAt = time.Time{}
				if tt.wantNext >= 0 {
					want.NextAttemptAt = now.Add(tt.wantNext)
				}
				b.read(t, func(tx agenthooks.Tx) error {
					got, err := tx.FindDelivery(b.acct.ID, d.ID)
					mustNil(t, err)
					checkEqual(t, "delivery after CompleteDelivery", got, want)
					attempts, err := tx.ListAttempts(d.ID)
					mustNil(t, err)
					if len(attempts) != tt.wantAttempts {
						t.Fatalf("attempts = %d, want %d", len(attempts), tt.wantAttempts)
					}
					if a != nil {
						wantA := stored(a)
						wantA.DeliveryID = d.ID
						checkEqual(t, "attempt", attempts[0], wantA)
					}
					return nil
				})

				// Completing again with the same lease does nothing: the claim is over.
				again := *o
				if a != nil {
					again.Attempt = b.newAttempt(d, 201, "")
				}
				again.Status = agenthooks.DeliveryFailed
				b.complete(t, &again)
				b.read(t, func(tx agenthooks.Tx) error {
					got, err := tx.FindDelivery(b.acct.ID, d.ID)
					mustNil(t, err)
					checkEqual(t, "delivery after a second completion with the same lease", got, want)
					attempts, err := tx.ListAttempts(d.ID)
					mustNil(t, err)
					if len(attempts) != tt.wantAttempts {
						t.Errorf("attempts after second completion = %d, want %d", len(attempts), tt.wantAttempts)
					}
					return nil
				})

				// Pending deliveries come back exactly when due; ended ones never.
				if tt.wantNext > 0 {
					b.clock.Add(tt.wantNext - time.Microsecond)
					if jobs := b.claim(t, 10, b.clock.Now().Add(time.Minute)); len(jobs) != 0 {
						t.Fatalf("claimed %v before its next attempt time", jobIDs(jobs))
					}
					b.clock.Add(time.Microsecond)
				}
				jobs = b.claim(t, 10, b.clock.Now().Add(time.Minute))
				if tt.wantNext >= 0 && len(jobs) != 1 {
					t.Errorf("pending delivery not claimable when due: %d jobs", len(jobs))
				}
				if tt.wantNext < 0 && len(jobs) != 0 {
					t.Errorf("ended delivery claimed: %v", jobIDs(jobs))
				}
			})
		}
	})

	t.Run("ListAttemptsOldestFirst", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		d := b.pending(t, b.webhook(t, b.acct), b.clock.Now())
		var want []*agenthooks.Attempt
		for i := range 3 {
			jobs := b.claim(t, 1, b.clock.Now().Add(time.Minute))
			if len(jobs) != 1 {
				t.Fatalf("claim %d = %d jobs", i, len(jobs))
			}
			a := b.newAttempt(d, 500+i, "")
			want = append(want, stored(a))
			b.complete(t, &agenthooks.Outcome{DeliveryID: d.ID, Lease: jobs[0].Lease, Attempt: a, Status: agenthooks.DeliveryPending, NextAttemptAt: b.clock.Now()})
			b.clock.Add(time.Second)
		}
		b.read(t, func(tx agenthooks.Tx) error {
			got, err := tx.ListAttempts(d.ID)
			mustNil(t, err)
			checkEqual(t, "attempts", got, want)
			got, err = tx.ListAttempts(NewID())
			mustNil(t, err)
			if len(got) != 0 {
				t.Errorf("attempts of an unknown delivery = %d", len(got))
			}
			return nil
		})
	})

	t.Run("RetryDelivery", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		d := b.pending(t, b.webhook(t, b.acct), b.clock.Now())
		jobs := b.claim(t, 1, b.clock.Now().Add(time.Minute))
		b.complete(t, &agenthooks.Outcome{DeliveryID: d.ID, Lease: jobs[0].Lease, Attempt: b.newAttempt(d, 404, ""), Status: agenthooks.DeliveryFailed})

		now := b.clock.Add(time.Hour)
		due := now.Add(10 * time.Second)
		b.write(t, func(tx agenthooks.Tx) error { return tx.RetryDelivery(b.acct.ID, d.ID, due) })
		b.read(t, func(tx agenthooks.Tx) error {
			got, err := tx.FindDelivery(b.acct.ID, d.ID)
			mustNil(t, err)
			if got.Status != agenthooks.DeliveryPending || !got.NextAttemptAt.Equal(due) || !got.UpdatedAt.Equal(now) {
				t.Errorf("after RetryDelivery: status %s, next %v, updated %v; want pending, %v, %v", got.Status, got.NextAttemptAt, got.UpdatedAt, due, now)
			}
			if got.AttemptCount != 1 || got.LastError != "HTTP 404" {
				t.Errorf("after RetryDelivery: attempt_count %d, last_error %q; want the earlier attempt's 1, HTTP 404", got.AttemptCount, got.LastError)
			}
			attempts, err := tx.ListAttempts(d.ID)
			mustNil(t, err)
			if len(attempts) != 1 {
				t.Errorf("attempts after RetryDelivery = %d, want 1 (kept)", len(attempts))
			}
			return nil
		})
		if jobs := b.claim(t, 10, b.clock.Now().Add(time.Minute)); len(jobs) != 0 {
			t.Fatalf("retried delivery claimed before due: %v", jobIDs(jobs))
		}
		b.clock.Add(10 * time.Second)
		if jobs := b.claim(t, 10, b.clock.Now().Add(time.Minute)); len(jobs) != 1 {
			t.Fatalf("retried delivery not claimed when due: %d jobs", len(jobs))
		}
	})

	t.Run("RetrySupersedesClaim", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		d := b.pending(t, b.webhook(t, b.acct), b.clock.Now())
		old := b.claim(t, 1, b.clock.Now().Add(time.Hour))
		if len(old) != 1 {
			t.Fatalf("claim = %d jobs", len(old))
		}
		b.write(t, func(tx agenthooks.Tx) error { return tx.RetryDelivery(b.acct.ID, d.ID, b.clock.Now()) })
		fresh := b.claim(t, 1, b.clock.Now().Add(time.Hour))
		if len(fresh) != 1 || fresh[0].Lease == old[0].Lease {
			t.Fatalf("claim after RetryDelivery = %v, want the delivery under a new lease", jobIDs(fresh))
		}
		b.complete(t, &agenthooks.Outcome{DeliveryID: d.ID, Lease: old[0].Lease, Attempt: b.newAttempt(d, 200, ""), Status: agenthooks.DeliverySucceeded})
		b.read(t, func(tx agenthooks.Tx) error {
			got, err := tx.FindDelivery(b.acct.ID, d.ID)
			mustNil(t, err)
			if got.Status != agenthooks.DeliveryPending || got.AttemptCount != 0 {
				t.Errorf("superseded claim's completion took effect: status %s, attempts %d", got.Status, got.AttemptCount)
			}
			return nil
		})
	})

	t.Run("FailPendingDeliveries", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		w1, w2 := b.webhook(t, b.acct), b.webhook(t, b.acct)
		claimed := b.pending(t, w1, b.clock.Now())
		jobs := b.claim(t, 1, b.clock.Now().Add(time.Hour))
		if len(jobs) != 1 {
			t.Fatalf("claim = %d jobs", len(jobs))
		}
		waiting := b.pending(t, w1, b.clock.Now().Add(time.Hour))
		done := b.pending(t, w1, b.clock.Now())
		doneJobs := b.claim(t, 1, b.clock.Now().Add(time.Hour))
		b.complete(t, &agenthooks.Outcome{DeliveryID: done.ID, Lease: doneJobs[0].Lease, Attempt: b.newAttempt(done, 200, ""), Status: agenthooks.DeliverySucceeded})
		otherWebhook := b.pending(t, w2, b.clock.Now())

		now := b.clock.Add(time.Minute)
		var n int
		b.write(t, func(tx agenthooks.Tx) error {
			var err error
			n, err = tx.FailPendingDeliveries(w1.ID, agenthooks.DisabledGone)
			return err
		})
		if n != 2 {
			t.Errorf("FailPendingDeliveries = %d, want 2", n)
		}
		// The claim in flight is over: its completion does nothing.
		b.complete(t, &agenthooks.Outcome{DeliveryID: claimed.ID, Lease: jobs[0].Lease, Attempt: b.newAttempt(claimed, 200, ""), Status: agenthooks.DeliverySucceeded})
		b.read(t, func(tx agenthooks.Tx) error {
			for _, d := range []*agenthooks.Delivery{claimed, waiting} {
				got, err := tx.FindDelivery(b.acct.ID, d.ID)
				mustNil(t, err)
				if got.Status != agenthooks.DeliveryFailed || !got.NextAttemptAt.IsZero() || got.LastError != agenthooks.DisabledGone || !got.UpdatedAt.Equal(now) || got.AttemptCount != 0 {
					t.Errorf("failed delivery = %+v; want failed, no next attempt, last_error %q, updated now, no attempts", got, agenthooks.DisabledGone)
				}
			}
			got, err := tx.FindDelivery(b.acct.ID, done.ID)
			mustNil(t, err)
			if got.Status != agenthooks.DeliverySucceeded {
				t.Errorf("succeeded delivery became %s", got.Status)
			}
			got, err = tx.FindDelivery(b.acct.ID, otherWebhook.ID)
			mustNil(t, err)
			checkEqual(t, "another webhook's delivery", got, stored(otherWebhook))
			return nil
		})
		checkEqual(t, "claim after FailPendingDeliveries", jobIDs(b.claim(t, 10, b.clock.Now().Add(time.Hour))), []string{otherWebhook.ID})
	})

	t.Run("ReleaseClaims", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		w := b.webhook(t, b.acct)
		d1, d2 := b.pending(t, w, b.clock.Now().Add(-time.Second)), b.pending(t, w, b.clock.Now())
		old := b.claim(t, 10, b.clock.Now().Add(time.Hour))
		if len(old) != 2 {
			t.Fatalf("claim = %d jobs, want 2", len(old))
		}
		later := b.pending(t, w, b.clock.Now().Add(time.Hour)) // unclaimed: stays as it is
		done := b.pending(t, w, b.clock.Now())
		doneJobs := b.claim(t, 1, b.clock.Now().Add(time.Hour))
		b.complete(t, &agenthooks.Outcome{DeliveryID: done.ID, Lease: doneJobs[0].Lease, Attempt: b.newAttempt(done, 200, ""), Status: agenthooks.DeliverySucceeded})

		now := b.clock.Add(time.Second)
		var n int
		b.write(t, func(tx agenthooks.Tx) error {
			var err error
			n, err = tx.ReleaseClaims()
			return err
		})
		if n != 2 {
			t.Errorf("ReleaseClaims = %d, want 2", n)
		}
		b.read(t, func(tx agenthooks.Tx) error {
			for _, d := range []*agenthooks.Delivery{d1, d2} {
				got, err := tx.FindDelivery(b.acct.ID, d.ID)
				mustNil(t, err)
				if got.Status != agenthooks.DeliveryPending || !got.NextAttemptAt.Equal(now) {
					t.Errorf("released delivery: status %s, next %v; want pending, due now %v", got.Status, got.NextAttemptAt, now)
				}
			}
			got, err := tx.FindDelivery(b.acct.ID, later.ID)
			mustNil(t, err)
			checkEqual(t, "unclaimed delivery after ReleaseClaims", got, stored(later))
			return nil
		})
		fresh := b.claim(t, 10, b.clock.Now().Add(time.Hour))
		if !sameIDs(sortedIDs(jobIDs(fresh)), sortedIDs([]string{d1.ID, d2.ID})) {
			t.Fatalf("claim after ReleaseClaims = %v, want %v", jobIDs(fresh), []string{d1.ID, d2.ID})
		}
		// The released claims' leases are stale.
		for _, j := range old {
			b.complete(t, &agenthooks.Outcome{DeliveryID: j.Delivery.ID, Lease: j.Lease, Attempt: b.newAttempt(&j.Delivery, 200, ""), Status: agenthooks.DeliverySucceeded})
		}
		b.read(t, func(tx agenthooks.Tx) error {
			for _, d := range []*agenthooks.Delivery{d1, d2} {
				got, err := tx.FindDelivery(b.acct.ID, d.ID)
				mustNil(t, err)
				if got.Status != agenthooks.DeliveryPending || got.AttemptCount != 0 {
					t.Errorf("released claim's completion took effect: status %s, attempts %d", got.Status, got.AttemptCount)
				}
			}
			return nil
		})
	})

	t.Run("Wake", func(t *testing.T) {
		t.Parallel()
		tests := []struct {
			name    string
			stored  bool // the delivery exists before the write under test
			writeFn func(b *testBundle, d *agenthooks.Delivery) func(tx agenthooks.Tx) error
		}{
			{"CreateDelivery", false, func(b *testBundle, d *agenthooks.Delivery) func(tx agenthooks.Tx) error {
				return func(tx agenthooks.Tx) error { return tx.CreateDelivery(d) }
			}},
			{"RetryDelivery", true, func(b *testBundle, d *agenthooks.Delivery) func(tx agenthooks.Tx) error {
				return func(tx agenthooks.Tx) error { return tx.RetryDelivery(b.acct.ID, d.ID, b.clock.Now()) }
			}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				b := setup(t)
				w := b.webhook(t, b.acct)
				d := b.newDelivery(w, b.event(t, b.acct, agenthooks.EventConversationClosed), b.clock.Now())
				if tt.stored {
					d.Status, d.NextAttemptAt = agenthooks.DeliveryFailed, time.Time{}
					b.write(t, func(tx agenthooks.Tx) error { return tx.CreateDelivery(d) })
				}
				drain(b.store.Wake())
				b.write(t, tt.writeFn(b, d))
				// Generous: this checks that a wake-up comes, not how fast.
				select {
				case <-b.store.Wake():
				case <-time.After(10 * time.Second):
					t.Fatal("Wake did not receive within 10s of a Write that stored a delivery")
				}
			})
		}
	})
}

// ---------------------------------------------------------------------------
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

// ---------------------------------------------------------------------------
// Per-conversation ordering: on a webhook with ordering "conversation" a
// delivery waits while an earlier delivery of its conversation is pending
// (in flight or waiting for a retry); an ended one (succeeded or failed)
// releases the next.

func exerciseConversationOrdering(t *testing.T, setup setupFunc) {
	// ordered stores deliveries d[0..n) to a webhook with the given ordering:
	// convs[i] is delivery i's conversation ("" for none), all due now, in id order.
	ordered := func(t *testing.T, b *testBundle, ordering string, convs ...string) []*agenthooks.Delivery {
		t.Helper()
		w := b.newWebhook(b.acct)
		w.Ordering = ordering
		b.write(t, func(tx agenthooks.Tx) error { return tx.CreateWebhook(w) })
		ds := make([]*agenthooks.Delivery, len(convs))
		for i, c := range convs {
			e := b.newEvent(b.acct, agenthooks.EventConversationUpdated)
			e.ConversationID = c
			ds[i] = b.newDelivery(w, e, b.clock.Now())
			b.write(t, func(tx agenthooks.Tx) error {
				if err := tx.CreateEvent(e); err != nil {
					return err
				}
				return tx.CreateDelivery(ds[i])
			})
		}
		return ds
	}
	lease := time.Minute

	t.Run("HeldUntilEarlierEnds", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		c1, c2 := NewID(), NewID()
		d := ordered(t, b, agenthooks.OrderingConversation, c1, c1, c2, "", "", c1)
		jobs := b.claim(t, 10, b.clock.Now().Add(lease))
		checkEqual(t, "first claim: the head of each conversation and those without one", sortedIDs(jobIDs(jobs)), sortedIDs([]string{d[0].ID, d[2].ID, d[3].ID, d[4].ID}))
		if more := b.claim(t, 10, b.clock.Now().Add(lease)); len(more) != 0 {
			t.Fatalf("claimed %v while the head of the conversation is in flight", jobIDs(more))
		}
		head := findJob(jobs, d[0].ID)
		for _, j := range jobs {
			if j != head {
				b.complete(t, &agenthooks.Outcome{DeliveryID: j.Delivery.ID, Lease: j.Lease, Attempt: b.newAttempt(&j.Delivery, 200, ""), Status: agenthooks.DeliverySucceeded})
			}
		}

		// The head fails an attempt and waits for its retry: the rest of its
		// conversation still waits, even though they are due.
		b.complete(t, &agenthooks.Outcome{DeliveryID: d[0].ID, Lease: head.Lease, Attempt: b.newAttempt(d[0], 500, ""), Status: agenthooks.DeliveryPending, NextAttemptAt: b.clock.Now().Add(time.Minute)})
		if more := b.claim(t, 10, b.clock.Now().Add(lease)); len(more) != 0 {
			t.Fatalf("claimed %v while the head of the conversation waits for its retry", jobIDs(more))
		}
		b.clock.Add(time.Minute)
		jobs = b.claim(t, 10, b.clock.Now().Add(lease))
		checkEqual(t, "claim at the retry time: the head again", jobIDs(jobs), []string{d[0].ID})

		// The head ends failed: the next one of the conversation is released, not the one after.
		b.complete(t, &agenthooks.Outcome{DeliveryID: d[0].ID, Lease: jobs[0].Lease, Attempt: b.newAttempt(d[0], 500, ""), Status: agenthooks.DeliveryFailed})
		jobs = b.claim(t, 10, b.clock.Now().Add(lease))
		checkEqual(t, "claim after the head failed", jobIDs(jobs), []string{d[1].ID})

		// It succeeds: the last one is released.
		b.complete(t, &agenthooks.Outcome{DeliveryID: d[1].ID, Lease: jobs[0].Lease, Attempt: b.newAttempt(d[1], 200, ""), Status: agenthooks.DeliverySucceeded})
		jobs = b.claim(t, 10, b.clock.Now().Add(lease))
		checkEqual(t, "claim after the next succeeded", jobIDs(jobs), []string{d[5].ID})
	})

	t.Run("DisabledHeadHoldsNothingElse", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		c := NewID()
		held := ordered(t, b, agenthooks.OrderingConversation, c, c)
		other := ordered(t, b, agenthooks.OrderingConversation, c) // same conversation, another webhook
		jobs := b.claim(t, 10, b.clock.Now().Add(lease))
		checkEqual(t, "claim: one head per webhook", sortedIDs(jobIDs(jobs)), sortedIDs([]string{held[0].ID, other[0].ID}))
	})

	t.Run("UnorderedWebhookDoesNotWait", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		c := NewID()
		d := ordered(t, b, agenthooks.OrderingNone, c, c, c)
		jobs := b.claim(t, 10, b.clock.Now().Add(lease))
		checkEqual(t, "claim on an unordered webhook", sortedIDs(jobIDs(jobs)), sortedIDs(idsOf(d, deliveryID)))
	})

	t.Run("FailPendingReleasesNothingStale", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		c := NewID()
		d := ordered(t, b, agenthooks.OrderingConversation, c, c)
		b.claim(t, 10, b.clock.Now().Add(lease))
		b.write(t, func(tx agenthooks.Tx) error {
			_, err := tx.FailPendingDeliveries(d[0].WebhookID, agenthooks.DisabledGone)
			return err
		})
		if jobs := b.claim(t, 10, b.clock.Now().Add(lease)); len(jobs) != 0 {
			t.Errorf("claimed %v after every delivery of the webhook failed", jobIDs(jobs))
		}
	})
}

// ---------------------------------------------------------------------------
// Sweeps: failing webhooks, requeueing and retention.

func exerciseSweeps(t *testing.T, setup setupFunc) {
	t.Run("MarkAndClearWebhooksFailing", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		notFailing := b.newWebhook(b.acct)
		notFailing.FailingSince = time.Time{}
		b.write(t, func(tx agenthooks.Tx) error { return tx.CreateWebhook(notFailing) })
		failing := b.webhook(t, b.acct) // failing since base-1h
		untouched := b.newWebhook(b.acct)
		untouched.FailingSince = time.Time{}
		b.write(t, func(tx agenthooks.Tx) error { return tx.CreateWebhook(untouched) })

		at := base.Add(time.Minute)
		b.write(t, func(tx agenthooks.Tx) error {
			if err := tx.MarkWebhooksFailing(nil, at); err != nil {
				return err
			}
			return tx.MarkWebhooksFailing([]string{notFailing.ID, failing.ID, NewID()}, at)
		})
		since := func(w *agenthooks.Webhook) time.Time {
			t.Helper()
			var got *agenthooks.Webhook
			b.read(t, func(tx agenthooks.Tx) error {
				var err error
				got, err = tx.FindWebhook(w.AccountID, w.ID)
				return err
			})
			return got.FailingSince
		}
		if got := since(notFailing); !got.Equal(at) {
			t.Errorf("newly failing webhook: failing_since %v, want %v", got, at)
		}
		if got, want := since(failing), stored(failing).FailingSince; !got.Equal(want) {
			t.Errorf("already failing webhook: failing_since %v, want its earlier %v kept", got, want)
		}
		if got := since(untouched); !got.IsZero() {
			t.Errorf("webhook not named: failing_since %v, want zero", got)
		}
		b.write(t, func(tx agenthooks.Tx) error {
			if err := tx.ClearWebhooksFailing(nil); err != nil {
				return err
			}
			return tx.ClearWebhooksFailing([]string{notFailing.ID, failing.ID})
		})
		for _, w := range []*agenthooks.Webhook{notFailing, failing} {
			if got := since(w); !got.IsZero() {
				t.Errorf("after ClearWebhooksFailing: failing_since %v, want zero", got)
			}
		}
	})

	t.Run("DisableFailingWebhooks", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		cutoff := base.Add(-time.Hour)
		mk := func(a *agenthooks.Account, failingSince time.Time, enabled bool) *agenthooks.Webhook {
			w := b.newWebhook(a)
			w.FailingSince, w.Enabled = failingSince, enabled
			if !enabled {
				w.DisabledReason = agenthooks.DisabledManual
			}
			b.write(t, func(tx agenthooks.Tx) error { return tx.CreateWebhook(w) })
			return w
		}
		long := mk(b.acct, cutoff.Add(-time.Microsecond), true)
		otherAcct := mk(b.other, cutoff.Add(-time.Hour), true) // any account
		atCutoff := mk(b.acct, cutoff, true)
		healthy := mk(b.acct, time.Time{}, true)
		alreadyOff := mk(b.acct, cutoff.Add(-time.Hour), false)

		now := b.clock.Add(time.Second)
		var disabled []*agenthooks.Webhook
		b.write(t, func(tx agenthooks.Tx) error {
			var err error
			disabled, err = tx.DisableFailingWebhooks(cutoff)
			return err
		})
		checkEqual(t, "disabled webhooks", sortedIDs(idsOf(disabled, webhookID)), sortedIDs([]string{long.ID, otherAcct.ID}))
		b.read(t, func(tx agenthooks.Tx) error {
			for _, w := range []*agenthooks.Webhook{long, otherAcct} {
				got, err := tx.FindWebhook(w.AccountID, w.ID)
				mustNil(t, err)
				want := stored(w)
				want.Enabled, want.DisabledReason, want.UpdatedAt = false, agenthooks.DisabledFailing, now
				checkEqual(t, "webhook disabled for failing", got, want)
			}
			for _, w := range []*agenthooks.Webhook{atCutoff, healthy, alreadyOff} {
				got, err := tx.FindWebhook(w.AccountID, w.ID)
				mustNil(t, err)
				checkEqual(t, "webhook left alone", got, stored(w))
			}
			return nil
		})
	})

	t.Run("RequeueFailedDeliveries", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		w, w2 := b.webhook(t, b.acct), b.webhook(t, b.acct)
		since := base.Add(-time.Hour)
		mk := func(w *agenthooks.Webhook, eventCreated time.Time, status string) *agenthooks.Delivery {
			e := b.newEvent(b.acct, agenthooks.EventConversationClosed)
			e.CreatedAt = eventCreated
			d := b.newDelivery(w, e, time.Time{})
			d.Status, d.AttemptCount, d.LastError = status, 3, "HTTP 500"
			b.write(t, func(tx agenthooks.Tx) error {
				if err := tx.CreateEvent(e); err != nil {
					return err
				}
				return tx.CreateDelivery(d)
			})
			return d
		}
		recent := mk(w, since, agenthooks.DeliveryFailed)
		recent2 := mk(w, base, agenthooks.DeliveryFailed)
		old := mk(w, since.Add(-time.Microsecond), agenthooks.DeliveryFailed)
		succeeded := mk(w, base, agenthooks.DeliverySucceeded)
		otherWebhook := mk(w2, base, agenthooks.DeliveryFailed)

		now := b.clock.Add(time.Minute)
		drain(b.store.Wake())
		var n int
		b.write(t, func(tx agenthooks.Tx) error {
			var err error
			n, err = tx.RequeueFailedDeliveries(b.acct.ID, w.ID, since)
			return err
		})
		if n != 2 {
			t.Errorf("RequeueFailedDeliveries = %d, want 2", n)
		}
		select {
		case <-b.store.Wake():
		case <-time.After(10 * time.Second):
			t.Error("Wake did not receive after requeueing deliveries")
		}
		b.read(t, func(tx agenthooks.Tx) error {
			for _, d := range []*agenthooks.Delivery{recent, recent2} {
				got, err := tx.FindDelivery(b.acct.ID, d.ID)
				mustNil(t, err)
				if got.Status != agenthooks.DeliveryPending || !got.NextAttemptAt.Equal(now) || got.AttemptCount != 0 || !got.UpdatedAt.Equal(now) {
					t.Errorf("requeued delivery = %+v; want pending, due now, a fresh schedule (attempt_count 0)", got)
				}
			}
			for _, d := range []*agenthooks.Delivery{old, succeeded, otherWebhook} {
				got, err := tx.FindDelivery(b.acct.ID, d.ID)
				mustNil(t, err)
				checkEqual(t, "delivery not requeued", got, stored(d))
			}
			return nil
		})
		// Another account cannot requeue ours.
		b.write(t, func(tx agenthooks.Tx) error {
			n, err := tx.RequeueFailedDeliveries(b.other.ID, w2.ID, time.Time{})
			if n != 0 {
				t.Errorf("RequeueFailedDeliveries as another account = %d, want 0", n)
			}
			return err
		})
		checkEqual(t, "claim after requeue", sortedIDs(jobIDs(b.claim(t, 10, now.Add(time.Minute)))), sortedIDs([]string{recent.ID, recent2.ID}))
	})

	t.Run("DeleteExpired", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		w := b.webhook(t, b.acct)
		before := base.Add(-24 * time.Hour)
		// mk stores an event created at created with one delivery of status
		// and an attempt made at attemptAt.
		mk := func(created time.Time, status string, attemptAt time.Time) (*agenthooks.Event, *agenthooks.Delivery, *agenthooks.Attempt) {
			e := b.newEvent(b.acct, agenthooks.EventConversationClosed)
			e.CreatedAt = created
			d := b.newDelivery(w, e, base.Add(time.Hour))
			d.Status = status
			a := b.newAttempt(d, 500, "")
			a.CreatedAt = attemptAt
			b.write(t, func(tx agenthooks.Tx) error {
				if err := tx.CreateEvent(e); err != nil {
					return err
				}
				return tx.CreateDelivery(d)
			})
			return e, d, a
		}
		// Attempts can only be stored through a completed claim: store them by claiming each delivery.
		addAttempt := func(d *agenthooks.Delivery, a *agenthooks.Attempt, status string) {
			b.write(t, func(tx agenthooks.Tx) error { return tx.RetryDelivery(d.AccountID, d.ID, b.clock.Now()) })
			jobs := b.claim(t, 1, b.clock.Now().Add(time.Minute))
			if len(jobs) != 1 || jobs[0].Delivery.ID != d.ID {
				t.Fatalf("claim for an attempt = %v, want %s", jobIDs(jobs), d.ID)
			}
			b.complete(t, &agenthooks.Outcome{DeliveryID: d.ID, Lease: jobs[0].Lease, Attempt: a, Status: status, NextAttemptAt: base.Add(time.Hour)})
		}
		var expired []*agenthooks.Event
		var expiredD []*agenthooks.Delivery
		for i := range 3 {
			e, d, a := mk(before.Add(-time.Duration(3-i)*time.Hour), agenthooks.DeliveryFailed, before.Add(-time.Hour))
			addAttempt(d, a, agenthooks.DeliveryFailed)
			expired, expiredD = append(expired, e), append(expiredD, d)
		}
		stillPendingE, stillPendingD, oldA := mk(before.Add(-5*time.Hour), agenthooks.DeliveryPending, before.Add(-time.Hour))
		addAttempt(stillPendingD, oldA, agenthooks.DeliveryPending)
		youngE, youngD, youngA := mk(before, agenthooks.DeliverySucceeded, before)
		addAttempt(youngD, youngA, agenthooks.DeliverySucceeded)

		// Idempotency keys older than the TTL go too.
		b.write(t, func(tx agenthooks.Tx) error {
			_, err := tx.ClaimIdempotencyKey(b.acct.ID, "old-key", "fp", time.Time{}, time.Time{})
			return err
		})
		b.clock.Add(agenthooks.IdempotencyTTL + time.Second)
		b.write(t, func(tx agenthooks.Tx) error {
			_, err := tx.ClaimIdempotencyKey(b.acct.ID, "young-key", "fp", time.Time{}, time.Time{})
			return err
		})

		var n1, n2 int
		b.write(t, func(tx agenthooks.Tx) error {
			var err error
			n1, err = tx.DeleteExpired(before, 2)
			return err
		})
		b.write(t, func(tx agenthooks.Tx) error {
			var err error
			n2, err = tx.DeleteExpired(before, 2)
			return err
		})
		if n1 != 2 || n2 != 1 {
			t.Errorf("DeleteExpired with limit 2, twice = %d, %d; want 2, 1", n1, n2)
		}
		b.read(t, func(tx agenthooks.Tx) error {
			for i, e := range expired {
				_, err := tx.FindEvent(b.acct.ID, e.ID)
				mustCode(t, err, agenthooks.ENOTFOUND, "expired event")
				_, err = tx.FindDelivery(b.acct.ID, expiredD[i].ID)
				mustCode(t, err, agenthooks.ENOTFOUND, "expired event's delivery")
				as, err := tx.ListAttempts(expiredD[i].ID)
				mustNil(t, err)
				if len(as) != 0 {
					t.Errorf("expired delivery keeps %d attempts", len(as))
				}
			}
			for _, e := range []*agenthooks.Event{stillPendingE, youngE} {
				_, err := tx.FindEvent(b.acct.ID, e.ID)
				mustNil(t, err)
			}
			_, err := tx.FindDelivery(b.acct.ID, stillPendingD.ID)
			mustNil(t, err)
			as, err := tx.ListAttempts(stillPendingD.ID)
			mustNil(t, err)
			if len(as) != 0 {
				t.Errorf("a live delivery's attempt older than the cutoff was kept")
			}
			as, err = tx.ListAttempts(youngD.ID)
			mustNil(t, err)
			if len(as) != 1 {
				t.Errorf("young delivery has %d attempts, want 1", len(as))
			}
			return nil
		})
		b.write(t, func(tx agenthooks.Tx) error {
			rec, err := tx.ClaimIdempotencyKey(b.acct.ID, "old-key", "fp", time.Time{}, time.Time{})
			if rec != nil {
				t.Error("idempotency key older than the TTL survived DeleteExpired")
			}
			if err != nil {
				return err
			}
			rec, err = tx.ClaimIdempotencyKey(b.acct.ID, "young-key", "fp", time.Time{}, time.Time{})
			if rec == nil {
				t.Error("young idempotency key was deleted")
			}
			return err
		})
	})
}

// ---------------------------------------------------------------------------
// Idempotency keys

func exerciseIdempotency(t *testing.T, setup setupFunc) {
	claimKey := func(t *testing.T, b *testBundle, acct, key, fp string, stale, expired time.Time) *agenthooks.Idempotency {
		t.Helper()
		var rec *agenthooks.Idempotency
		b.write(t, func(tx agenthooks.Tx) error {
			var err error
			rec, err = tx.ClaimIdempotencyKey(acct, key, fp, stale, expired)
			return err
		})
		return rec
	}

	t.Run("Lifecycle", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		key := "key " + unicode
		if rec := claimKey(t, b, b.acct.ID, key, "fp1", time.Time{}, time.Time{}); rec != nil {
			t.Fatalf("first claim = %+v, want nil (claimed)", rec)
		}
		claimedAt := b.clock.Now()
		b.clock.Add(time.Second)
		rec := claimKey(t, b, b.acct.ID, key, "fp2", time.Time{}, time.Time{})
		checkEqual(t, "claim while the first request runs", rec, &agenthooks.Idempotency{Fingerprint: "fp1", Running: true, Response: []byte{}, CreatedAt: claimedAt})

		// The same key in another account is another key.
		if rec := claimKey(t, b, b.other.ID, key, "fp1", time.Time{}, time.Time{}); rec != nil {
			t.Errorf("claim of the same key in another account = %+v, want nil", rec)
		}

		resp := []byte(`{"id":"x","name":"` + "Grüße 🚀" + `"}`)
		b.write(t, func(tx agenthooks.Tx) error { return tx.FinishIdempotencyKey(b.acct.ID, key, 201, resp) })
		rec = claimKey(t, b, b.acct.ID, key, "fp1", time.Time{}, time.Time{})
		checkEqual(t, "claim after the first request finished", rec, &agenthooks.Idempotency{Fingerprint: "fp1", Status: 201, Response: resp, CreatedAt: claimedAt})

		b.write(t, func(tx agenthooks.Tx) error { return tx.ForgetIdempotencyKey(b.acct.ID, key) })
		if rec := claimKey(t, b, b.acct.ID, key, "fp3", time.Time{}, time.Time{}); rec != nil {
			t.Errorf("claim after ForgetIdempotencyKey = %+v, want nil", rec)
		}
	})

	t.Run("ExpiredAndStale", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		created := b.clock.Now()
		claimKey(t, b, b.acct.ID, "done", "fp", time.Time{}, time.Time{})
		b.write(t, func(tx agenthooks.Tx) error { return tx.FinishIdempotencyKey(b.acct.ID, "done", 200, []byte("{}")) })
		claimKey(t, b, b.acct.ID, "running", "fp", time.Time{}, time.Time{})
		b.clock.Add(time.Hour)

		tests := []struct {
			name           string
			key            string
			stale, expired time.Time
			wantAbsent     bool
		}{
			{"DoneNotExpired", "done", created.Add(time.Minute), created, false},
			{"RunningNotStale", "running", created, created, false},
			{"DoneNotStaleable", "done", created.Add(time.Minute), created.Add(-time.Minute), false}, // stale applies to running keys only
			{"RunningStale", "running", created.Add(time.Microsecond), created, true},
			{"DoneExpired", "done", time.Time{}, created.Add(time.Microsecond), true},
		}
		for _, tt := range tests {
			rec := claimKey(t, b, b.acct.ID, tt.key, "fp-new", tt.stale, tt.expired)
			if absent := rec == nil; absent != tt.wantAbsent {
				t.Errorf("%s: claim = %+v, want absent=%v", tt.name, rec, tt.wantAbsent)
			}
		}
		// A key found absent was claimed anew.
		rec := claimKey(t, b, b.acct.ID, "running", "fp-other", time.Time{}, time.Time{})
		if rec == nil || rec.Fingerprint != "fp-new" || !rec.Running || !rec.CreatedAt.Equal(b.clock.Now()) {
			t.Errorf("stale key after reclaim = %+v, want running with the new fingerprint, created now", rec)
		}
	})

	// Requests racing on one key: exactly one claims it.
	t.Run("ConcurrentClaims", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		const n = 20
		var wg sync.WaitGroup
		start := make(chan struct{})
		recs := make([]*agenthooks.Idempotency, n)
		errs := make([]error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				errs[i] = b.store.Write(t.Context(), func(tx agenthooks.Tx) error {
					var err error
					recs[i], err = tx.ClaimIdempotencyKey(b.acct.ID, "race", fmt.Sprint("fp", i), time.Time{}, time.Time{})
					return err
				})
			}()
		}
		close(start)
		wg.Wait()
		winners := 0
		for i := range n {
			if errs[i] != nil {
				t.Errorf("claim %d: %v", i, errs[i])
			} else if recs[i] == nil {
				winners++
			} else if !recs[i].Running {
				t.Errorf("claim %d saw a finished record", i)
			}
		}
		if winners != 1 {
			t.Errorf("%d requests claimed the key, want exactly 1", winners)
		}
	})
}

// ---------------------------------------------------------------------------
// Fixtures: newX builds a fully populated value; x also stores it.

func (b *testBundle) write(t testing.TB, fn func(tx agenthooks.Tx) error) {
	t.Helper()
	if err := b.store.Write(t.Context(), fn); err != nil {
		t.Fatalf("Write: %v", err)
	}
}

func (b *testBundle) read(t testing.TB, fn func(tx agenthooks.Tx) error) {
	t.Helper()
	if err := b.store.Read(t.Context(), fn); err != nil {
		t.Fatalf("Read: %v", err)
	}
}

func (b *testBundle) account(t testing.TB, name string) *agenthooks.Account {
	t.Helper()
	a := &agenthooks.Account{ID: NewID(), Name: name, CreatedAt: b.clock.Now()}
	b.write(t, func(tx agenthooks.Tx) error { return tx.CreateAccount(a, "hash-"+a.ID) })
	return a
}

func (b *testBundle) newWebhook(a *agenthooks.Account) *agenthooks.Webhook {
	rate := 2.5
	now := b.clock.Now()
	return &agenthooks.Webhook{
		ID: NewID(), AccountID: a.ID, Name: "Hook " + unicode, Endpoint: "https://hooks.example.com/in/ü?x=1&y=%20",
		Enabled: true, Events: []string{agenthooks.EventCapturedFormCreated, agenthooks.EventConversationClosed},
		Ordering: agenthooks.OrderingConversation, Headers: map[string]string{"X-Token": "ß≠", "X-Empty": ""},
		RateLimit: &rate, Secret: "whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQ=", PreviousSecret: "whsec_b2xkLXNlY3JldA==",
		PreviousSecretUntil: now.Add(24*time.Hour + 123*time.Microsecond), FailingSince: now.Add(-time.Hour),
		CreatedAt: now, UpdatedAt: now.Add(time.Microsecond),
	}
}

func (b *testBundle) webhook(t testing.TB, a *agenthooks.Account) *agenthooks.Webhook {
	t.Helper()
	w := b.newWebhook(a)
	b.write(t, func(tx agenthooks.Tx) error { return tx.CreateWebhook(w) })
	return w
}

func (b *testBundle) newAssistant(a *agenthooks.Account, webhookID string) *agenthooks.Assistant {
	now := b.clock.Now()
	return &agenthooks.Assistant{ID: NewID(), AccountID: a.ID, Name: "Asistente " + unicode, AssistantType: "chat", WebhookID: webhookID,
		Description: "Vende " + unicode, LLMModel: "gpt-4o", SystemPrompt: "Sei gentile.\n" + unicode, Voice: "alloy",
		VoiceLanguages: []string{"de-DE", "ja-JP", "ü"}, Attributes: json.RawMessage(`{"tone": "warm", "n": [1, 2.50]}`),
		CreatedAt: now, UpdatedAt: now}
}

func (b *testBundle) assistant(t testing.TB, a *agenthooks.Account, webhookID string) *agenthooks.Assistant {
	t.Helper()
	as := b.newAssistant(a, webhookID)
	b.write(t, func(tx agenthooks.Tx) error { return tx.CreateAssistant(as) })
	return as
}

func (b *testBundle) widget(t testing.TB, a *agenthooks.Account) *agenthooks.Widget {
	t.Helper()
	w := &agenthooks.Widget{ID: NewID(), AccountID: a.ID, AssistantID: NewID(), Name: "Widget " + unicode, WidgetType: "whatsapp", CreatedAt: b.clock.Now()}
	b.write(t, func(tx agenthooks.Tx) error { return tx.CreateWidget(w) })
	return w
}

func (b *testBundle) newForm(a *agenthooks.Account, webhookID string) *agenthooks.Form {
	now := b.clock.Now()
	return &agenthooks.Form{
		ID: NewID(), AccountID: a.ID, Name: "Formulaire " + unicode, WebhookID: webhookID, CreatedAt: now, UpdatedAt: now,
		Fields: []agenthooks.FormField{{Name: "email", Type: "text", Required: true}},
	}
}

func (b *testBundle) form(t testing.TB, a *agenthooks.Account, webhookID string) *agenthooks.Form {
	t.Helper()
	f := b.newForm(a, webhookID)
	b.write(t, func(tx agenthooks.Tx) error { return tx.CreateForm(f) })
	return f
}

func (b *testBundle) newIntent(a *agenthooks.Account) *agenthooks.Intent {
	return &agenthooks.Intent{ID: NewID(), AccountID: a.ID, Name: "SALES", Description: "wants to buy " + unicode, CreatedAt: b.clock.Now()}
}

func (b *testBundle) intent(t testing.TB, a *agenthooks.Account) *agenthooks.Intent {
	t.Helper()
	i := b.newIntent(a)
	b.write(t, func(tx agenthooks.Tx) error { return tx.CreateIntent(i) })
	return i
}

func (b *testBundle) newContact(a *agenthooks.Account) *agenthooks.Contact {
	return &agenthooks.Contact{ID: NewID(), AccountID: a.ID, FirstName: "Zoë", LastName: "Ñúñez " + unicode, Email: "zoe@example.com", PhoneNumber: "+49 30 1234567", CreatedAt: b.clock.Now()}
}

func (b *testBundle) contact(t testing.TB, a *agenthooks.Account) *agenthooks.Contact {
	t.Helper()
	c := b.newContact(a)
	b.write(t, func(tx agenthooks.Tx) error { return tx.CreateContact(c) })
	return c
}

func (b *testBundle) newConversation(a *agenthooks.Account, assistantID string, created time.Time) *agenthooks.Conversation {
	return &agenthooks.Conversation{
		ID: NewID(), AccountID: a.ID, AssistantID: assistantID, WidgetID: NewID(), DeviceType: "mobile",
		Attributes: json.RawMessage(`{"lang":"de","tags":["vip","ü"]}`), LastActivityAt: created.Add(time.Second),
		CreatedAt: created, UpdatedAt: created.Add(time.Second),
	}
}

func (b *testBundle) conversation(t testing.TB, a *agenthooks.Account, assistantID string, created time.Time) *agenthooks.Conversation {
	t.Helper()
	c := b.newConversation(a, assistantID, created)
	b.write(t, func(tx agenthooks.Tx) error { return tx.CreateConversation(c) })
	return c
}

func (b *testBundle) message(t testing.TB, a *agenthooks.Account, conversationID, text string) *agenthooks.Message {
	t.Helper()
	m := &agenthooks.Message{ID: NewID(), AccountID: a.ID, ConversationID: conversationID, SenderType: "user", MessageType: "text", Text: text, CreatedAt: b.clock.Add(time.Microsecond)}
	b.write(t, func(tx agenthooks.Tx) error { return tx.CreateMessage(m) })
	return m
}

func (b *testBundle) newEvent(a *agenthooks.Account, typ string) *agenthooks.Event {
	id := NewID()
	return &agenthooks.Event{
		ID: id, AccountID: a.ID, Type: typ, ConversationID: NewID(),
		Payload: json.RawMessage(`{"id":"` + id + `","type":"` + typ + `","data":{"text":"Grüße 🚀"}}`), CreatedAt: b.clock.Now(),
	}
}

func (b *testBundle) event(t testing.TB, a *agenthooks.Account, typ string) *agenthooks.Event {
	t.Helper()
	e := b.newEvent(a, typ)
	b.write(t, func(tx agenthooks.Tx) error { return tx.CreateEvent(e) })
	return e
}

func (b *testBundle) newDelivery(w *agenthooks.Webhook, e *agenthooks.Event, due time.Time) *agenthooks.Delivery {
	now := b.clock.Now()
	return &agenthooks.Delivery{
		ID: NewID(), AccountID: w.AccountID, EventID: e.ID, WebhookID: w.ID, ConversationID: e.ConversationID,
		Status: agenthooks.DeliveryPending, NextAttemptAt: due, CreatedAt: now, UpdatedAt: now,
	}
}

// pending stores an event and its pending delivery to w, due at due.
func (b *testBundle) pending(t testing.TB, w *agenthooks.Webhook, due time.Time) *agenthooks.Delivery {
	t.Helper()
	e := b.newEvent(&agenthooks.Account{ID: w.AccountID}, agenthooks.EventConversationClosed)
	d := b.newDelivery(w, e, due)
	b.write(t, func(tx agenthooks.Tx) error {
		if err := tx.CreateEvent(e); err != nil {
			return err
		}
		return tx.CreateDelivery(d)
	})
	return d
}

func (b *testBundle) newAttempt(d *agenthooks.Delivery, status int, errText string) *agenthooks.Attempt {
	body := ""
	if status != 0 {
		body = fmt.Sprintf(`{"status":%d,"msg":"Grüße 🚀"}`, status)
	}
	return &agenthooks.Attempt{
		ID: NewID(), DeliveryID: d.ID, AccountID: d.AccountID, CreatedAt: b.clock.Now(),
		StatusCode: status, DurationMS: 1234, Error: errText, ResponseBody: body,
	}
}

func (b *testBundle) claim(t testing.TB, limit int, leaseUntil time.Time) []*agenthooks.Job {
	t.Helper()
	var jobs []*agenthooks.Job
	b.write(t, func(tx agenthooks.Tx) error {
		var err error
		jobs, err = tx.ClaimDeliveries(limit, leaseUntil)
		return err
	})
	return jobs
}

func (b *testBundle) complete(t testing.TB, o *agenthooks.Outcome) {
	t.Helper()
	b.write(t, func(tx agenthooks.Tx) error { return tx.CompleteDelivery(o) })
}

// ---------------------------------------------------------------------------
// Assertions

// stored returns a copy of *v as a store gives it back: times in UTC,
// truncated to microseconds.
func stored[T any](v *T) *T {
	c := *v
	rv := reflect.ValueOf(&c).Elem()
	for i := range rv.NumField() {
		f := rv.Field(i)
		if tm, ok := f.Interface().(time.Time); ok && f.CanSet() {
			f.Set(reflect.ValueOf(tm.UTC().Truncate(time.Microsecond)))
		}
	}
	return &c
}

func checkEqual(t testing.TB, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s: got differs from want\n%s", what, describeDiff(got, want))
	}
}

// describeDiff names the differing fields of two structs (or pointers to
// them), or shows both values.
func describeDiff(got, want any) string {
	g, w := reflect.ValueOf(got), reflect.ValueOf(want)
	for g.IsValid() && w.IsValid() && g.Kind() == reflect.Pointer && w.Kind() == reflect.Pointer && !g.IsNil() && !w.IsNil() {
		g, w = g.Elem(), w.Elem()
	}
	if !g.IsValid() || !w.IsValid() || g.Kind() != reflect.Struct || g.Type() != w.Type() {
		return fmt.Sprintf("   got %s\n  want %s", show(g), show(w))
	}
	var sb strings.Builder
	for i := range g.NumField() {
		if !reflect.DeepEqual(g.Field(i).Interface(), w.Field(i).Interface()) {
			fmt.Fprintf(&sb, "  %s: got %s, want %s\n", g.Type().Field(i).Name, show(g.Field(i)), show(w.Field(i)))
		}
	}
	return sb.String()
}

func show(v reflect.Value) string {
	switch {
	case !v.IsValid():
		return "<nil>"
	case v.Kind() == reflect.Pointer && !v.IsNil():
		return "&" + show(v.Elem())
	case (v.Kind() == reflect.Slice || v.Kind() == reflect.Map) && v.IsNil():
		return v.Type().String() + "(nil)"
	}
	if raw, ok := v.Interface().(json.RawMessage); ok {
		return fmt.Sprintf("json.RawMessage(%q)", string(raw))
	}
	return fmt.Sprintf("%#v", v.Interface())
}

func mustNil(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
}

func mustCode(t testing.TB, err error, code, what string) {
	t.Helper()
	if got := agenthooks.ErrorCode(err); got != code {
		t.Errorf("%s: error %v (code %q), want code %q", what, err, got, code)
	}
}

func idsOf[T any](items []T, id func(T) string) []string {
	ids := make([]string, len(items))
	for i, it := range items {
		ids[i] = id(it)
	}
	return ids
}

func webhookID(w *agenthooks.Webhook) string           { return w.ID }
func conversationID(c *agenthooks.Conversation) string { return c.ID }
func deliveryID(d *agenthooks.Delivery) string         { return d.ID }

func jobIDs(jobs []*agenthooks.Job) []string {
	return idsOf(jobs, func(j *agenthooks.Job) string { return j.Delivery.ID })
}

// sameIDs compares two id lists in order, treating nil and empty alike.
func sameIDs(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func sortedIDs(ids []string) []string {
	out := append([]string{}, ids...)
	sort.Strings(out)
	return out
}

func findJob(jobs []*agenthooks.Job, deliveryID string) *agenthooks.Job {
	for _, j := range jobs {
		if j.Delivery.ID == deliveryID {
			return j
		}
	}
	return &agenthooks.Job{}
}

func setOf(ids []string) map[string]bool {
	m := make(map[string]bool, len(ids))
	for _, id := range ids {
		m[id] = true
	}
	return m
}

func drain(c <-chan struct{}) {
	for {
		select {
		case <-c:
		default:
			return
		}
	}
}

package storetest

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/agenthooks/agenthooks"
)

// ---------------------------------------------------------------------------
// Insighto's own routes: assistants' descriptive fields, widget and contact
// updates, contact matching, transcripts and conversations by contact, the
// intents an assistant uses (widget.go, contact.go, conversation.go and
// assistant.go at the repository's root).

func exerciseInsighto(t *testing.T, setup setupFunc) {
	t.Run("AssistantFields", func(t *testing.T) {
		t.Parallel()
		tests := []struct {
			name string
			mod  func(a *agenthooks.Assistant)
			want func(a *agenthooks.Assistant)
		}{
			{name: "Populated"},
			{
				name: "Empty",
				mod: func(a *agenthooks.Assistant) {
					a.Description, a.LLMModel, a.SystemPrompt, a.Voice, a.VoiceName = "", "", "", false, ""
					a.VoiceLanguages, a.Attributes = []string{}, json.RawMessage(`{}`)
				},
			},
			{
				name: "NilListAndObject",
				mod:  func(a *agenthooks.Assistant) { a.VoiceLanguages, a.Attributes = nil, nil },
				want: func(a *agenthooks.Assistant) { a.VoiceLanguages, a.Attributes = []string{}, json.RawMessage(`{}`) },
			},
			{
				name: "EscapedLanguages",
				mod:  func(a *agenthooks.Assistant) { a.VoiceLanguages = []string{`a"b`, `c\d`, "ü", "x,y"} },
			},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				b := setup(t)
				a := b.newAssistant(b.acct, "")
				if tt.mod != nil {
					tt.mod(a)
				}
				b.write(t, func(tx agenthooks.Tx) error { return tx.CreateAssistant(a) })
				want := stored(a)
				if tt.want != nil {
					tt.want(want)
				}
				b.read(t, func(tx agenthooks.Tx) error {
					got, err := tx.FindAssistant(b.acct.ID, a.ID)
					mustNil(t, err)
					checkEqual(t, "FindAssistant", got, want)
					list, _, err := tx.ListAssistants(b.acct.ID, agenthooks.Page{Page: 1, Size: 10})
					mustNil(t, err)
					if len(list) != 1 {
						t.Fatalf("ListAssistants = %d assistants, want 1", len(list))
					}
					checkEqual(t, "listed assistant", list[0], want)
					return nil
				})

				up := *want
				up.Description, up.LLMModel, up.SystemPrompt, up.Voice, up.VoiceName = "neu "+unicode, "claude", "prompt "+unicode, false, "nova"
				up.VoiceLanguages, up.Attributes = []string{"fr-FR"}, json.RawMessage(`{"k":{"deep":[true]}}`)
				up.UpdatedAt = b.clock.Add(time.Second)
				b.write(t, func(tx agenthooks.Tx) error { return tx.UpdateAssistant(&up) })
				b.read(t, func(tx agenthooks.Tx) error {
					got, err := tx.FindAssistant(b.acct.ID, a.ID)
					mustNil(t, err)
					checkEqual(t, "assistant after UpdateAssistant", got, stored(&up))
					return nil
				})
			})
		}
	})

	t.Run("WidgetUpdateAndDelete", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		w := b.widget(t, b.acct)
		keep := b.widget(t, b.acct)
		up := *w
		up.AssistantID, up.Name, up.WidgetType = NewID(), "renamed "+unicode, "web_call"
		up.CreatedAt = time.Time{} // immutable
		b.write(t, func(tx agenthooks.Tx) error { return tx.UpdateWidget(&up) })
		want := stored(&up)
		want.CreatedAt = stored(w).CreatedAt
		b.read(t, func(tx agenthooks.Tx) error {
			got, err := tx.FindWidget(b.acct.ID, w.ID)
			mustNil(t, err)
			checkEqual(t, "widget after UpdateWidget", got, want)
			return nil
		})

		b.write(t, func(tx agenthooks.Tx) error { return tx.DeleteWidget(b.acct.ID, w.ID) })
		err := b.store.Write(t.Context(), func(tx agenthooks.Tx) error { return tx.DeleteWidget(b.acct.ID, w.ID) })
		mustCode(t, err, agenthooks.ENOTFOUND, "DeleteWidget again")
		err = b.store.Write(t.Context(), func(tx agenthooks.Tx) error { return tx.UpdateWidget(&up) })
		mustCode(t, err, agenthooks.ENOTFOUND, "UpdateWidget of a deleted widget")
		b.read(t, func(tx agenthooks.Tx) error {
			_, err := tx.FindWidget(b.acct.ID, w.ID)
			mustCode(t, err, agenthooks.ENOTFOUND, "deleted widget")
			got, err := tx.FindWidget(b.acct.ID, keep.ID)
			mustNil(t, err)
			checkEqual(t, "the other widget", got, stored(keep))
			return nil
		})
	})

	t.Run("ContactUpdate", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		c := b.contact(t, b.acct)
		up := *c
		up.FirstName, up.LastName, up.Email, up.PhoneNumber = "Ada "+unicode, "", "Ada@Example.org", "(030) 555-01"
		up.CreatedAt = time.Time{} // immutable
		b.write(t, func(tx agenthooks.Tx) error { return tx.UpdateContact(&up) })
		want := stored(&up)
		want.CreatedAt = stored(c).CreatedAt
		b.read(t, func(tx agenthooks.Tx) error {
			got, err := tx.FindContact(b.acct.ID, c.ID)
			mustNil(t, err)
			checkEqual(t, "contact after UpdateContact", got, want)
			// The match keys follow the update.
			got, err = tx.MatchContact(b.acct.ID, "ada@example.ORG ", "")
			mustNil(t, err)
			checkEqual(t, "contact matched by its new email", got.ID, c.ID)
			got, err = tx.MatchContact(b.acct.ID, "", "030.555.01")
			mustNil(t, err)
			checkEqual(t, "contact matched by its new phone", got.ID, c.ID)
			_, err = tx.MatchContact(b.acct.ID, c.Email, c.PhoneNumber)
			mustCode(t, err, agenthooks.ENOTFOUND, "MatchContact by the old email and phone")
			return nil
		})
	})

	t.Run("MatchContact", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		mk := func(a *agenthooks.Account, email, phone string) *agenthooks.Contact {
			c := &agenthooks.Contact{ID: NewID(), AccountID: a.ID, FirstName: "x", Email: email, PhoneNumber: phone, CreatedAt: b.clock.Now()}
			b.write(t, func(tx agenthooks.Tx) error { return tx.CreateContact(c) })
			return c
		}
		oldest := mk(b.acct, " Jo@Example.com", "")
		mk(b.acct, "jo@example.com", "+44 20 7946 0000") // same email, newer
		byPhone := mk(b.acct, "", "+1 (555) 010-9999")
		both := mk(b.acct, "both@example.com", "+49-30-1234")
		mk(b.acct, "", "")                                   // matches nothing
		mk(b.other, "solo@example.com", "+33 1 23 45 67 89") // another account's

		tests := []struct {
			name, email, phone string
			want               string // "" for ENOTFOUND
		}{
			{name: "EmailCaseAndSpaces", email: "  JO@example.COM\t", want: oldest.ID},
			{name: "PhoneSpacing", phone: "+15550109999", want: byPhone.ID},
			{name: "PhoneDotsAndDashes", phone: "+1.555.010.9999", want: byPhone.ID},
			{name: "EmailBeforePhone", email: "both@example.com", phone: "+15550109999", want: both.ID},
			{name: "PhoneWhenEmailMatchesNothing", email: "nobody@example.com", phone: "+4930 1234", want: both.ID},
			{name: "PlusKept", phone: "15550109999"},
			{name: "Nothing"},
			{name: "EmptyMatchesNoEmptyKey", email: " ", phone: "()"},
			{name: "OtherAccountsContact", email: "solo@example.com", phone: "+33123456789"},
			{name: "LikeWildcardsAreLiteral", email: "%", phone: "_"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				check := func(tx agenthooks.Tx) error {
					got, err := tx.MatchContact(b.acct.ID, tt.email, tt.phone)
					if tt.want == "" {
						mustCode(t, err, agenthooks.ENOTFOUND, "MatchContact")
						return nil
					}
					mustNil(t, err)
					checkEqual(t, "matched contact", got.ID, tt.want)
					return nil
				}
				b.read(t, check)
				b.write(t, check) // in a write transaction, where it locks
			})
		}
	})

	t.Run("ConcurrentMatchOrCreate", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		// What an upsert does: match, else create. Run at once for one new
		// email, exactly one contact must come out of it. Each call waits
		// after its match until every call has matched (so that without the
		// serialisation all of them would create) or, as they must when the
		// store serialises them, until a short while has passed.
		const n = 8
		var wg sync.WaitGroup
		var matched atomic.Int32
		allMatched := make(chan struct{})
		errs := make([]error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = b.store.Write(t.Context(), func(tx agenthooks.Tx) error {
					_, err := tx.MatchContact(b.acct.ID, fmt.Sprintf("New@Example.com%s", strings.Repeat(" ", i)), "")
					if agenthooks.ErrorCode(err) != agenthooks.ENOTFOUND {
						return err
					}
					if matched.Add(1) == n {
						close(allMatched)
					}
					select {
					case <-allMatched:
					case <-time.After(50 * time.Millisecond):
					}
					return tx.CreateContact(&agenthooks.Contact{ID: NewID(), AccountID: b.acct.ID, Email: "new@example.com", CreatedAt: b.clock.Now()})
				})
			}()
		}
		wg.Wait()
		for _, err := range errs {
			mustNil(t, err)
		}
		b.read(t, func(tx agenthooks.Tx) error {
			_, total, err := tx.ListContacts(b.acct.ID, agenthooks.Page{Page: 1, Size: 100})
			mustNil(t, err)
			if total != 1 {
				t.Errorf("%d concurrent match-or-create calls made %d contacts, want 1", n, total)
			}
			return nil
		})
	})

	t.Run("Transcript", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		c := b.conversation(t, b.acct, NewID(), base)
		elsewhere := b.conversation(t, b.acct, NewID(), base)
		var msgs []*agenthooks.Message
		for i := range 5 {
			msgs = append(msgs, stored(b.message(t, b.acct, c.ID, fmt.Sprintf("m%d %s", i, unicode))))
			b.message(t, b.acct, elsewhere.ID, "elsewhere")
		}
		tests := []struct {
			name    string
			account string
			p       agenthooks.Page
			want    []*agenthooks.Message
			total   int
		}{
			{name: "FirstPageOldestFirst", account: b.acct.ID, p: agenthooks.Page{Page: 1, Size: 2}, want: msgs[:2], total: 5},
			{name: "LastPage", account: b.acct.ID, p: agenthooks.Page{Page: 3, Size: 2}, want: msgs[4:], total: 5},
			{name: "PastTheEnd", account: b.acct.ID, p: agenthooks.Page{Page: 4, Size: 2}, total: 5},
			{name: "All", account: b.acct.ID, p: agenthooks.Page{Page: 1, Size: 100}, want: msgs, total: 5},
			{name: "OtherAccount", account: b.other.ID, p: agenthooks.Page{Page: 1, Size: 100}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				b.read(t, func(tx agenthooks.Tx) error {
					got, total, err := tx.ListTranscript(tt.account, c.ID, tt.p)
					mustNil(t, err)
					if total != tt.total {
						t.Errorf("total = %d, want %d", total, tt.total)
					}
					if len(got) != len(tt.want) {
						t.Fatalf("ListTranscript = %d messages, want %d", len(got), len(tt.want))
					}
					for i := range got {
						checkEqual(t, fmt.Sprintf("message %d", i), got[i], tt.want[i])
					}
					return nil
				})
			})
		}
	})

	t.Run("ConversationsByContact", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		contact := NewID()
		mk := func(a *agenthooks.Account, contactID string, created time.Time) *agenthooks.Conversation {
			c := b.newConversation(a, NewID(), created)
			c.ContactID = contactID
			b.write(t, func(tx agenthooks.Tx) error { return tx.CreateConversation(c) })
			return c
		}
		c1 := mk(b.acct, contact, base.Add(-3*time.Hour))
		mk(b.acct, NewID(), base.Add(-2*time.Hour)) // another contact's
		c3 := mk(b.acct, contact, base.Add(-time.Hour))
		mk(b.acct, "", base)       // no contact
		mk(b.other, contact, base) // another account's, same contact id
		c4 := mk(b.acct, contact, base)

		tests := []struct {
			name    string
			account string
			p       agenthooks.Page
			want    []*agenthooks.Conversation
			total   int
		}{
			{name: "NewestFirst", account: b.acct.ID, p: agenthooks.Page{Page: 1, Size: 10}, want: []*agenthooks.Conversation{c4, c3, c1}, total: 3},
			{name: "Paged", account: b.acct.ID, p: agenthooks.Page{Page: 2, Size: 2}, want: []*agenthooks.Conversation{c1}, total: 3},
			{name: "OtherAccount", account: NewID(), p: agenthooks.Page{Page: 1, Size: 10}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				b.read(t, func(tx agenthooks.Tx) error {
					got, total, err := tx.ListConversations(tt.account, agenthooks.ConversationFilter{ContactID: contact}, tt.p)
					mustNil(t, err)
					checkEqual(t, "conversation ids", idsOf(got, conversationID), idsOf(tt.want, conversationID))
					if total != tt.total {
						t.Errorf("total = %d, want %d", total, tt.total)
					}
					for i := range min(len(got), len(tt.want)) {
						checkEqual(t, "listed conversation", got[i], stored(tt.want[i]))
					}
					return nil
				})
			})
		}
	})

	t.Run("AssistantIntents", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		a1, a2, lone := b.assistant(t, b.acct, ""), b.assistant(t, b.acct, ""), b.assistant(t, b.acct, "")
		i1, i2, i3 := b.intent(t, b.acct), b.intent(t, b.acct), b.intent(t, b.acct)
		link := func(a *agenthooks.Assistant, i *agenthooks.Intent) {
			b.write(t, func(tx agenthooks.Tx) error { return tx.AddAssistantIntent(b.acct.ID, a.ID, i.ID) })
		}
		link(a1, i3)
		link(a1, i1)
		link(a1, i1) // again: no duplicate
		link(a2, i2)
		link(a2, i3)
		ids := func(t *testing.T, accountID string, assistants ...*agenthooks.Assistant) map[string][]string {
			t.Helper()
			var got map[string][]string
			b.read(t, func(tx agenthooks.Tx) error {
				var err error
				got, err = tx.AssistantIntentIDs(accountID, idsOf(assistants, func(a *agenthooks.Assistant) string { return a.ID }))
				return err
			})
			return got
		}
		checkEqual(t, "intents in creation order", ids(t, b.acct.ID, a1, a2, lone),
			map[string][]string{a1.ID: {i1.ID, i3.ID}, a2.ID: {i2.ID, i3.ID}})
		checkEqual(t, "intents seen by another account", ids(t, b.other.ID, a1, a2), map[string][]string{})
		checkEqual(t, "intents of no assistant", ids(t, b.acct.ID), map[string][]string{})

		b.write(t, func(tx agenthooks.Tx) error { return tx.RemoveAssistantIntent(b.acct.ID, a1.ID, i3.ID) })
		for _, tc := range []struct {
			name                string
			account, asst, intt string
		}{
			{"not used any more", b.acct.ID, a1.ID, i3.ID},
			{"never used", b.acct.ID, lone.ID, i1.ID},
			{"another account", b.other.ID, a2.ID, i2.ID},
		} {
			err := b.store.Write(t.Context(), func(tx agenthooks.Tx) error { return tx.RemoveAssistantIntent(tc.account, tc.asst, tc.intt) })
			mustCode(t, err, agenthooks.ENOTFOUND, "RemoveAssistantIntent ("+tc.name+")")
		}
		checkEqual(t, "intents after a removal", ids(t, b.acct.ID, a1, a2), map[string][]string{a1.ID: {i1.ID}, a2.ID: {i2.ID, i3.ID}})

		// Deleting an intent or an assistant removes their links.
		b.write(t, func(tx agenthooks.Tx) error { return tx.DeleteIntent(b.acct.ID, i3.ID) })
		b.write(t, func(tx agenthooks.Tx) error { return tx.DeleteAssistant(b.acct.ID, a1.ID) })
		checkEqual(t, "intents after deleting an intent and an assistant", ids(t, b.acct.ID, a1, a2), map[string][]string{a2.ID: {i2.ID}})
		b.read(t, func(tx agenthooks.Tx) error {
			_, err := tx.FindIntent(b.acct.ID, i3.ID)
			mustCode(t, err, agenthooks.ENOTFOUND, "deleted intent")
			return nil
		})
		err := b.store.Write(t.Context(), func(tx agenthooks.Tx) error { return tx.DeleteIntent(b.acct.ID, i3.ID) })
		mustCode(t, err, agenthooks.ENOTFOUND, "DeleteIntent again")
	})

	t.Run("AccountScope", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		c := b.contact(t, b.other)
		i := b.intent(t, b.other)
		a := b.assistant(t, b.other, "")
		b.write(t, func(tx agenthooks.Tx) error { return tx.AddAssistantIntent(b.other.ID, a.ID, i.ID) })
		conv := b.conversation(t, b.other, a.ID, base)
		b.message(t, b.other, conv.ID, "theirs")

		// UpdateWidget, DeleteWidget, UpdateContact and DeleteIntent are in
		// exerciseAccountScope's table (storetest.go).
		for _, id := range append(badIDs(), a.ID) {
			err := b.store.Write(t.Context(), func(tx agenthooks.Tx) error { return tx.RemoveAssistantIntent(b.acct.ID, id, i.ID) })
			mustCode(t, err, agenthooks.ENOTFOUND, fmt.Sprintf("RemoveAssistantIntent(%.40q) as another account", id))
		}
		b.read(t, func(tx agenthooks.Tx) error {
			links, err := tx.AssistantIntentIDs(b.other.ID, []string{a.ID})
			mustNil(t, err)
			checkEqual(t, "the other account's assistant intents", links, map[string][]string{a.ID: {i.ID}})
			_, err = tx.MatchContact(b.acct.ID, c.Email, c.PhoneNumber)
			mustCode(t, err, agenthooks.ENOTFOUND, "MatchContact of the other account's contact")
			msgs, total, err := tx.ListTranscript(b.acct.ID, conv.ID, agenthooks.Page{Page: 1, Size: 10})
			mustNil(t, err)
			if len(msgs) != 0 || total != 0 {
				t.Errorf("ListTranscript of the other account's conversation = %d messages, total %d; want none", len(msgs), total)
			}
			return nil
		})
	})
}

// ---------------------------------------------------------------------------
// The insighto migration (NNN_insighto.sql of each engine) on rows written
// before it. Engine tests apply the migrations before it, run
// InsightoMigrationSeed, open the store (which applies the rest) and call
// CheckInsightoMigration.

// Ids of the rows InsightoMigrationSeed writes.
const (
	legacyAccount   = "01960000-0000-7000-8000-000000000001"
	legacyAssistant = "01960000-0000-7000-8000-000000000002"
	legacyOddType   = "01960000-0000-7000-8000-000000000003"
	legacyMessenger = "01960000-0000-7000-8000-000000000004"
	legacyWhatsApp  = "01960000-0000-7000-8000-000000000005"
	legacyContact   = "01960000-0000-7000-8000-000000000006"
)

// InsightoMigrationSeed are statements, valid on both engines against the
// schema just before the insighto migration, that write what the API stored
// then: an assistant of the old default type "personal" and one of a type
// the API accepted then, a "messenger" widget, a contact with mixed-case
// email and a formatted phone number.
var InsightoMigrationSeed = []string{
	"INSERT INTO accounts (id, name, created_at) VALUES ('" + legacyAccount + "', 'legacy', 1)",
	"INSERT INTO assistants (id, account_id, name, assistant_type, webhook_id, created_at, updated_at) VALUES ('" + legacyAssistant + "', '" + legacyAccount + "', 'old', 'personal', '', 1, 1)",
	"INSERT INTO assistants (id, account_id, name, assistant_type, webhook_id, created_at, updated_at) VALUES ('" + legacyOddType + "', '" + legacyAccount + "', 'odd', 'voice', '', 1, 1)",
	"INSERT INTO widgets (id, account_id, assistant_id, name, widget_type, created_at) VALUES ('" + legacyMessenger + "', '" + legacyAccount + "', '" + legacyAssistant + "', 'fb', 'messenger', 1)",
	"INSERT INTO widgets (id, account_id, assistant_id, name, widget_type, created_at) VALUES ('" + legacyWhatsApp + "', '" + legacyAccount + "', '" + legacyAssistant + "', 'wa', 'whatsapp', 1)",
	"INSERT INTO contacts (id, account_id, first_name, last_name, email, phone_number, created_at) VALUES ('" + legacyContact + "', '" + legacyAccount + "', 'Ada', '', ' Ada@Example.COM ', '+1 (555) 010-9999', 1)",
}

// CheckInsightoMigration checks what the insighto migration made of
// InsightoMigrationSeed's rows.
func CheckInsightoMigration(t *testing.T, store agenthooks.Store) {
	t.Helper()
	err := store.Read(t.Context(), func(tx agenthooks.Tx) error {
		a, err := tx.FindAssistant(legacyAccount, legacyAssistant)
		mustNil(t, err)
		want := &agenthooks.Assistant{ID: legacyAssistant, AccountID: legacyAccount, Name: "old", AssistantType: "simple",
			VoiceLanguages: []string{}, Attributes: json.RawMessage("{}"), CreatedAt: time.UnixMicro(1).UTC(), UpdatedAt: time.UnixMicro(1).UTC()}
		checkEqual(t, "assistant of type personal after the migration", a, want)
		odd, err := tx.FindAssistant(legacyAccount, legacyOddType)
		mustNil(t, err)
		checkEqual(t, "assistant of another old type after the migration", odd.AssistantType, "voice")
		w, err := tx.FindWidget(legacyAccount, legacyMessenger)
		mustNil(t, err)
		checkEqual(t, "messenger widget after the migration", w.WidgetType, "fb_messenger")
		w, err = tx.FindWidget(legacyAccount, legacyWhatsApp)
		mustNil(t, err)
		checkEqual(t, "whatsapp widget after the migration", w.WidgetType, "whatsapp")
		for _, m := range []struct{ email, phone string }{{"ada@example.com", ""}, {"", "+15550109999"}} {
			c, err := tx.MatchContact(legacyAccount, m.email, m.phone)
			mustNil(t, err)
			checkEqual(t, "contact matched after the migration", c.ID, legacyContact)
			checkEqual(t, "contact's email kept as written", c.Email, " Ada@Example.COM ")
		}
		return nil
	})
	mustNil(t, err)
}

package storetest

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/agenthooks/agenthooks"
)

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

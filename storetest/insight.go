package storetest

import (
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/agenthooks/agenthooks"
)

// exerciseInsight checks the dashboard's filtered lists and aggregates, and
// that none of them reaches into another account.
func exerciseInsight(t *testing.T, setup setupFunc) {
	all := agenthooks.Page{Page: 1, Size: 100}
	eventIDs := func(es []*agenthooks.Event) []string {
		return idsOf(es, func(e *agenthooks.Event) string { return e.ID })
	}

	t.Run("QueryEvents", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		as := b.assistant(t, b.acct, "")
		conv := b.conversation(t, b.acct, as.ID, b.clock.Now())
		other := b.conversation(t, b.acct, NewID(), b.clock.Now())
		mk := func(a *agenthooks.Account, typ, convID string) *agenthooks.Event {
			e := b.newEvent(a, typ)
			e.ConversationID = convID
			e.CreatedAt = b.clock.Add(time.Minute)
			b.write(t, func(tx agenthooks.Tx) error { return tx.CreateEvent(e) })
			return e
		}
		e1 := mk(b.acct, agenthooks.EventConversationUpdated, conv.ID)
		e2 := mk(b.acct, agenthooks.EventConversationClosed, conv.ID)
		e3 := mk(b.acct, agenthooks.EventConversationClosed, other.ID)
		e4 := mk(b.acct, agenthooks.EventWebhookTest, "")
		foreign := mk(b.other, agenthooks.EventConversationClosed, conv.ID) // another account's, same ids

		tests := []struct {
			name string
			q    agenthooks.EventQuery
			want []*agenthooks.Event
		}{
			{"All", agenthooks.EventQuery{}, []*agenthooks.Event{e4, e3, e2, e1}},
			{"Type", agenthooks.EventQuery{Type: agenthooks.EventConversationClosed}, []*agenthooks.Event{e3, e2}},
			{"Conversation", agenthooks.EventQuery{ConversationID: conv.ID}, []*agenthooks.Event{e2, e1}},
			{"Assistant", agenthooks.EventQuery{AssistantID: as.ID}, []*agenthooks.Event{e2, e1}},
			{"AssistantAndType", agenthooks.EventQuery{AssistantID: as.ID, Type: agenthooks.EventConversationUpdated}, []*agenthooks.Event{e1}},
			{"From", agenthooks.EventQuery{From: e3.CreatedAt}, []*agenthooks.Event{e4, e3}},
			{"ToExcluded", agenthooks.EventQuery{To: e2.CreatedAt}, []*agenthooks.Event{e1}},
			{"Range", agenthooks.EventQuery{From: e2.CreatedAt, To: e4.CreatedAt}, []*agenthooks.Event{e3, e2}},
			{"UnknownAssistant", agenthooks.EventQuery{AssistantID: NewID()}, nil},
		}
		for _, tt := range tests {
			b.read(t, func(tx agenthooks.Tx) error {
				got, total, err := tx.QueryEvents(b.acct.ID, tt.q, all)
				mustNil(t, err)
				if !sameIDs(eventIDs(got), eventIDs(tt.want)) || total != len(tt.want) {
					t.Errorf("%s: QueryEvents = %v (total %d), want %v", tt.name, eventIDs(got), total, eventIDs(tt.want))
				}
				return nil
			})
		}
		b.read(t, func(tx agenthooks.Tx) error {
			types, err := tx.EventTypesByID(b.acct.ID, []string{e1.ID, e4.ID, NewID(), foreign.ID})
			mustNil(t, err)
			checkEqual(t, "EventTypesByID", types, map[string]string{e1.ID: e1.Type, e4.ID: e4.Type})
			none, err := tx.EventTypesByID(b.acct.ID, nil)
			mustNil(t, err)
			if len(none) != 0 {
				t.Errorf("EventTypesByID(nil) = %v", none)
			}
			got, total, err := tx.QueryEvents(b.acct.ID, agenthooks.EventQuery{}, agenthooks.Page{Page: 2, Size: 3})
			mustNil(t, err)
			if !sameIDs(eventIDs(got), []string{e1.ID}) || total != 4 {
				t.Errorf("page 2 of 3 = %v (total %d), want [%s] of 4", eventIDs(got), total, e1.ID)
			}
			// Summary: the same events and total, without their payloads.
			sum, total, err := tx.QueryEvents(b.acct.ID, agenthooks.EventQuery{Summary: true, ConversationID: conv.ID}, all)
			mustNil(t, err)
			if !sameIDs(eventIDs(sum), []string{e2.ID, e1.ID}) || total != 2 || sum[0].Type != e2.Type || len(sum[0].Payload) != 0 || !sum[0].CreatedAt.Equal(e2.CreatedAt) {
				t.Errorf("Summary = %v (total %d), want [%s %s] of 2 with types and no payload", eventIDs(sum), total, e2.ID, e1.ID)
			}
			return nil
		})
	})

	t.Run("QueryConversations", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		as := NewID()
		c1 := b.conversation(t, b.acct, as, b.clock.Add(time.Minute))
		c2 := b.conversation(t, b.acct, as, b.clock.Add(time.Minute))
		c3 := b.conversation(t, b.acct, NewID(), b.clock.Add(time.Minute))
		b.conversation(t, b.other, as, b.clock.Add(time.Minute))
		b.write(t, func(tx agenthooks.Tx) error {
			_, err := tx.CloseConversation(b.acct.ID, c2.ID, b.clock.Now())
			return err
		})
		yes, no := true, false
		tests := []struct {
			name string
			q    agenthooks.ConversationQuery
			want []*agenthooks.Conversation
		}{
			{"All", agenthooks.ConversationQuery{}, []*agenthooks.Conversation{c3, c2, c1}},
			{"Assistant", agenthooks.ConversationQuery{AssistantID: as}, []*agenthooks.Conversation{c2, c1}},
			{"Closed", agenthooks.ConversationQuery{Closed: &yes}, []*agenthooks.Conversation{c2}},
			{"Open", agenthooks.ConversationQuery{Closed: &no}, []*agenthooks.Conversation{c3, c1}},
			{"OpenOfAssistant", agenthooks.ConversationQuery{Closed: &no, AssistantID: as}, []*agenthooks.Conversation{c1}},
			{"Range", agenthooks.ConversationQuery{From: c2.CreatedAt, To: c3.CreatedAt}, []*agenthooks.Conversation{c2}},
		}
		for _, tt := range tests {
			b.read(t, func(tx agenthooks.Tx) error {
				got, total, err := tx.QueryConversations(b.acct.ID, tt.q, all)
				mustNil(t, err)
				if !sameIDs(idsOf(got, conversationID), idsOf(tt.want, conversationID)) || total != len(tt.want) {
					t.Errorf("%s: QueryConversations = %v (total %d), want %v", tt.name, idsOf(got, conversationID), total, idsOf(tt.want, conversationID))
				}
				return nil
			})
		}
	})

	t.Run("ListAssistantWidgets", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		as, other := NewID(), NewID()
		mk := func(a *agenthooks.Account, assistantID string) *agenthooks.Widget {
			w := &agenthooks.Widget{ID: NewID(), AccountID: a.ID, AssistantID: assistantID, Name: "W " + unicode, WidgetType: "web_call", CreatedAt: b.clock.Add(time.Second)}
			b.write(t, func(tx agenthooks.Tx) error { return tx.CreateWidget(w) })
			return w
		}
		w1, w2 := mk(b.acct, as), mk(b.acct, as)
		mk(b.acct, other)
		mk(b.other, as) // another account's, same assistant id
		w3 := mk(b.acct, as)
		b.read(t, func(tx agenthooks.Tx) error {
			got, total, err := tx.ListAssistantWidgets(b.acct.ID, as, all)
			mustNil(t, err)
			checkEqual(t, "ListAssistantWidgets", got, []*agenthooks.Widget{stored(w1), stored(w2), stored(w3)})
			if total != 3 {
				t.Errorf("total = %d, want 3", total)
			}
			got, total, err = tx.ListAssistantWidgets(b.acct.ID, as, agenthooks.Page{Page: 2, Size: 2})
			mustNil(t, err)
			if len(got) != 1 || got[0].ID != w3.ID || total != 3 {
				t.Errorf("page 2 of 2 = %d items (total %d), want [w3] of 3", len(got), total)
			}
			return nil
		})
	})

	t.Run("ConversationFormsAndIntents", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		conv := b.conversation(t, b.acct, NewID(), b.clock.Now())
		f1 := &agenthooks.CapturedForm{ID: NewID(), AccountID: b.acct.ID, ConversationID: conv.ID, FormID: NewID(),
			FieldValues: map[string]any{"name": unicode}, CreatedAt: b.clock.Now(), UpdatedAt: b.clock.Now()}
		f2 := &agenthooks.CapturedForm{ID: NewID(), AccountID: b.acct.ID, ConversationID: conv.ID, FormID: NewID(),
			FieldValues: map[string]any{}, CreatedAt: b.clock.Now(), UpdatedAt: b.clock.Now()}
		foreign := &agenthooks.CapturedForm{ID: NewID(), AccountID: b.other.ID, ConversationID: conv.ID, FormID: NewID(),
			FieldValues: map[string]any{}, CreatedAt: b.clock.Now(), UpdatedAt: b.clock.Now()}
		i1 := &agenthooks.CapturedIntent{ID: NewID(), AccountID: b.acct.ID, ConversationID: conv.ID, IntentID: NewID(), CreatedAt: b.clock.Now()}
		i2 := &agenthooks.CapturedIntent{ID: NewID(), AccountID: b.other.ID, ConversationID: conv.ID, IntentID: NewID(), CreatedAt: b.clock.Now()}
		b.write(t, func(tx agenthooks.Tx) error {
			for _, f := range []*agenthooks.CapturedForm{f1, f2, foreign} {
				mustNil(t, tx.CreateCapturedForm(f))
			}
			mustNil(t, tx.CreateCapturedIntent(i1))
			return tx.CreateCapturedIntent(i2)
		})
		b.read(t, func(tx agenthooks.Tx) error {
			fs, err := tx.ListConversationForms(b.acct.ID, conv.ID)
			mustNil(t, err)
			checkEqual(t, "ListConversationForms", fs, []*agenthooks.CapturedForm{stored(f1), stored(f2)})
			is, err := tx.ListConversationIntents(b.acct.ID, conv.ID)
			mustNil(t, err)
			checkEqual(t, "ListConversationIntents", is, []*agenthooks.CapturedIntent{stored(i1)})
			none, err := tx.ListConversationForms(b.acct.ID, NewID())
			mustNil(t, err)
			if len(none) != 0 {
				t.Errorf("ListConversationForms of an unknown conversation = %d items, want 0", len(none))
			}
			return nil
		})
	})

	t.Run("AttemptsAndBacklog", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		start := b.clock.Now()
		w1, w2 := b.webhook(t, b.acct), b.webhook(t, b.acct)
		wo := b.webhook(t, b.other)
		// attempt records one attempt of a new delivery to w, made at at.
		attempt := func(w *agenthooks.Webhook, at time.Time, status int, errText string) {
			d := b.pending(t, w, b.clock.Now())
			jobs := b.claim(t, 100, b.clock.Now().Add(time.Minute))
			j := findJob(jobs, d.ID)
			if j == nil {
				t.Fatalf("delivery %s not claimed", d.ID)
			}
			a := b.newAttempt(d, status, errText)
			a.CreatedAt = at
			outcome := agenthooks.DeliverySucceeded
			if status < 200 || status > 299 {
				outcome = agenthooks.DeliveryFailed
			}
			b.complete(t, &agenthooks.Outcome{DeliveryID: d.ID, Lease: j.Lease, Attempt: a, Status: outcome})
		}
		attempt(w1, start.Add(-time.Hour), 200, "") // before the window
		attempt(w1, start.Add(10*time.Second), 200, "")
		attempt(w1, start.Add(50*time.Second), 500, "")
		attempt(w2, start.Add(70*time.Second), 0, "connection refused")
		attempt(w1, start.Add(3*time.Minute), 204, "")
		attempt(wo, start.Add(10*time.Second), 500, "") // another account's
		b.read(t, func(tx agenthooks.Tx) error {
			got, err := tx.AttemptSeries(b.acct.ID, start, start.Add(time.Hour), time.Minute)
			mustNil(t, err)
			want := []agenthooks.AttemptBucket{
				{Start: start, Attempts: 2, Failed: 1},
				{Start: start.Add(time.Minute), Attempts: 1, Failed: 1},
				{Start: start.Add(3 * time.Minute), Attempts: 1, Failed: 0},
			}
			checkEqual(t, "AttemptSeries", got, want)

			stats, err := tx.WebhookAttemptStats(b.acct.ID, start)
			mustNil(t, err)
			byID := map[string]agenthooks.WebhookStats{}
			for _, s := range stats {
				byID[s.WebhookID] = s
			}
			if len(stats) != 2 {
				t.Errorf("WebhookAttemptStats returned %d webhooks, want 2", len(stats))
			}
			checkEqual(t, "stats of w1", byID[w1.ID], agenthooks.WebhookStats{WebhookID: w1.ID, Attempts: 3, Succeeded: 2, LastAttemptAt: start.Add(3 * time.Minute), LastStatus: 204})
			checkEqual(t, "stats of w2", byID[w2.ID], agenthooks.WebhookStats{WebhookID: w2.ID, Attempts: 1, LastAttemptAt: start.Add(70 * time.Second), LastError: "connection refused"})
			return nil
		})

		now := b.clock.Now()
		d1 := b.pending(t, w1, now.Add(-2*time.Minute))
		b.pending(t, w2, now.Add(-time.Minute))
		b.pending(t, w1, now.Add(time.Hour))
		b.pending(t, wo, now.Add(-time.Hour))
		b.read(t, func(tx agenthooks.Tx) error {
			got, err := tx.DeliveryBacklog(b.acct.ID, now)
			mustNil(t, err)
			checkEqual(t, "DeliveryBacklog", got, agenthooks.Backlog{Pending: 3, Due: 2, OldestDue: d1.NextAttemptAt})
			got, err = tx.DeliveryBacklog(NewID(), now)
			mustNil(t, err)
			checkEqual(t, "DeliveryBacklog of an account without deliveries", got, agenthooks.Backlog{})
			return nil
		})
	})

	t.Run("SearchByText", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		w, wo := b.webhook(t, b.acct), b.webhook(t, b.other)
		start := b.clock.Now()
		// mk stores an event with text in its payload, made at at, and its
		// delivery to w.
		mk := func(w *agenthooks.Webhook, at time.Time, text string) (*agenthooks.Event, *agenthooks.Delivery) {
			e := b.newEvent(&agenthooks.Account{ID: w.AccountID}, agenthooks.EventConversationClosed)
			e.CreatedAt = at
			e.Payload = json.RawMessage(`{"id":"` + e.ID + `","data":{"text":` + strconv.Quote(text) + `}}`)
			d := b.newDelivery(w, e, at)
			d.CreatedAt = at
			b.write(t, func(tx agenthooks.Tx) error {
				mustNil(t, tx.CreateEvent(e))
				return tx.CreateDelivery(d)
			})
			return e, d
		}
		old, _ := mk(w, start.Add(-time.Hour), "Refund for order 42") // before the window
		e1, d1 := mk(w, start.Add(time.Minute), "refund for ORDER 42")
		e2, d2 := mk(w, start.Add(2*time.Minute), "Ask about a REFUND, Grüße")
		mk(w, start.Add(3*time.Minute), "a flu jab")
		e4, d4 := mk(w, start.Add(4*time.Minute), `100% sure_thing \ ok`)
		mk(wo, start.Add(time.Minute), "refund") // another account's
		_ = old
		tests := []struct {
			name, text string
			want       []*agenthooks.Event
			wantD      []*agenthooks.Delivery
		}{
			{"AnyCase", "Refund", []*agenthooks.Event{e2, e1}, []*agenthooks.Delivery{d2, d1}},
			{"Phrase", "order 42", []*agenthooks.Event{e1}, []*agenthooks.Delivery{d1}},
			{"NonASCII", "Grüße", []*agenthooks.Event{e2}, []*agenthooks.Delivery{d2}},
			{"PercentIsLiteral", "0% s", []*agenthooks.Event{e4}, []*agenthooks.Delivery{d4}},
			{"UnderscoreIsLiteral", "e_t", []*agenthooks.Event{e4}, []*agenthooks.Delivery{d4}},
			{"BackslashIsLiteral", `\ ok`, []*agenthooks.Event{e4}, []*agenthooks.Delivery{d4}},
			{"WildcardsMatchNothingElse", "%", []*agenthooks.Event{e4}, []*agenthooks.Delivery{d4}},
			{"None", "nowhere", nil, nil},
		}
		deliveryIDs := func(ds []*agenthooks.Delivery) []string {
			return idsOf(ds, func(d *agenthooks.Delivery) string { return d.ID })
		}
		for _, tt := range tests {
			b.read(t, func(tx agenthooks.Tx) error {
				got, total, err := tx.QueryEvents(b.acct.ID, agenthooks.EventQuery{Text: tt.text, From: start}, all)
				mustNil(t, err)
				if !sameIDs(eventIDs(got), eventIDs(tt.want)) || total != len(tt.want) {
					t.Errorf("%s: QueryEvents(Text %q) = %v (total %d), want %v", tt.name, tt.text, eventIDs(got), total, eventIDs(tt.want))
				}
				ds, total, err := tx.ListDeliveries(b.acct.ID, agenthooks.DeliveryFilter{Text: tt.text, From: start}, all)
				mustNil(t, err)
				if !sameIDs(deliveryIDs(ds), deliveryIDs(tt.wantD)) || total != len(tt.wantD) {
					t.Errorf("%s: ListDeliveries(Text %q) = %v (total %d), want %v", tt.name, tt.text, deliveryIDs(ds), total, deliveryIDs(tt.wantD))
				}
				return nil
			})
		}
		b.read(t, func(tx agenthooks.Tx) error {
			got, total, err := tx.QueryEvents(b.acct.ID, agenthooks.EventQuery{Text: "refund", From: start}, agenthooks.Page{Page: 2, Size: 1})
			mustNil(t, err)
			if !sameIDs(eventIDs(got), []string{e1.ID}) || total != 2 {
				t.Errorf("page 2 of 1 = %v (total %d), want [%s] of 2", eventIDs(got), total, e1.ID)
			}
			got, total, err = tx.QueryEvents(b.acct.ID, agenthooks.EventQuery{Text: "refund", From: start}, agenthooks.Page{Page: 3, Size: 1})
			mustNil(t, err)
			if len(got) != 0 || total != 2 {
				t.Errorf("page 3 of 1 = %v (total %d), want none of 2", eventIDs(got), total)
			}
			// Without a window the older event matches too.
			_, total, err = tx.QueryEvents(b.acct.ID, agenthooks.EventQuery{Text: "refund"}, all)
			mustNil(t, err)
			if total != 3 {
				t.Errorf("QueryEvents(refund, no window) total %d, want 3", total)
			}
			return nil
		})
	})

	t.Run("CountDeliveriesByStatus", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		w, wo := b.webhook(t, b.acct), b.webhook(t, b.other)
		start := b.clock.Now()
		at := func(w *agenthooks.Webhook, created time.Time, status string) {
			e := b.newEvent(&agenthooks.Account{ID: w.AccountID}, agenthooks.EventConversationClosed)
			d := b.newDelivery(w, e, created)
			d.CreatedAt, d.Status = created, status
			if status != agenthooks.DeliveryPending {
				d.NextAttemptAt = time.Time{}
			}
			b.write(t, func(tx agenthooks.Tx) error {
				if err := tx.CreateEvent(e); err != nil {
					return err
				}
				return tx.CreateDelivery(d)
			})
		}
		at(w, start.Add(-time.Second), agenthooks.DeliverySucceeded) // before the window
		at(w, start, agenthooks.DeliverySucceeded)
		at(w, start.Add(time.Minute), agenthooks.DeliverySucceeded)
		at(w, start.Add(2*time.Minute), agenthooks.DeliveryFailed)
		at(w, start.Add(3*time.Minute), agenthooks.DeliveryPending)
		at(w, start.Add(time.Hour), agenthooks.DeliveryFailed)    // at until: excluded
		at(wo, start.Add(time.Minute), agenthooks.DeliveryFailed) // another account's
		b.read(t, func(tx agenthooks.Tx) error {
			got, err := tx.CountDeliveriesByStatus(b.acct.ID, start, start.Add(time.Hour))
			mustNil(t, err)
			checkEqual(t, "CountDeliveriesByStatus", got, map[string]int{agenthooks.DeliverySucceeded: 2, agenthooks.DeliveryFailed: 1, agenthooks.DeliveryPending: 1})
			got, err = tx.CountDeliveriesByStatus(NewID(), start, start.Add(time.Hour))
			mustNil(t, err)
			checkEqual(t, "CountDeliveriesByStatus of an account without deliveries", got, map[string]int{})
			return nil
		})
	})
}

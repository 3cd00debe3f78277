package storetest

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/agenthooks/agenthooks"
)

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
		Description: "Vende " + unicode, LLMModel: "gpt-4o", SystemPrompt: "Sei gentile.\n" + unicode, Voice: true, VoiceName: "alloy",
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
		RequestMethod: "PUT", RequestURL: "https://hooks.example.com/x?y=1", RequestBody: `{"text":"Grüße 🚀"}`,
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

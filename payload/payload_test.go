package payload_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/agenthooks/agenthooks"
	"github.com/agenthooks/agenthooks/payload"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func seedTime(t *testing.T, s string) time.Time {
	t.Helper()
	ts, err := time.Parse(payload.TimeLayout, s)
	if err != nil {
		t.Fatal(err)
	}
	return ts
}

// The three examples of Insighto's help article (docs/wire-format.md), rebuilt
// from domain values with the article's ids and
// times. The golden files freeze the bytes receivers get; the two deliberate
// differences from the article (underscore event names, null contact) and the
// newer docs' additions (attributes, transcript, device_type on forms) show in them.
func TestGolden(t *testing.T) {
	t.Parallel()
	conv := &agenthooks.Conversation{
		ID: "018eb05d-cf6c-7631-8992-fd8377db4145", AssistantID: "018cd9c8-e317-7079-accd-17be51784256",
		WidgetID: "018cd9c9-a864-7de1-98c0-6478c74b9c2b", DeviceType: "desktop", Attributes: json.RawMessage(`{}`),
	}
	form := &agenthooks.Form{ID: "018eaff3-67cb-7d86-bb5e-65c952c8dc2a", Name: "Algoscale Leads"}
	cf := &agenthooks.CapturedForm{ID: "018eb05e-7177-7374-af12-66132614cb9f", FieldValues: map[string]any{
		"name": "Smith Stevens", "email": "smith@example.com", "query": "flask developer"}}

	intentConv := &agenthooks.Conversation{
		ID: "019ec453-1017-2567-904d-ff39862b334", AssistantID: "018eb657-5027-7a36-ad61-77e2bd4ec683",
		WidgetID: "018eb656-5692-7a92-836b-80e2cd1eca56", DeviceType: "mobile", ChatCount: 2,
	}
	intent := &agenthooks.Intent{ID: "023eca5e-a584-1002-960d-4857d7d28c67", Name: "SALES"}

	closed := &agenthooks.Conversation{
		ID: "018ec933-3037-7469-80d8-ff393043b889", AssistantID: "018eb657-5027-7a36-836b-77e2cd1ec683",
		WidgetID: "018eb657-e189-7219-960d-4535d7d24d99", DeviceType: "desktop", ChatCount: 2,
		FirstMessage: "hi may i know how much is flu jab",
	}
	msgTime := seedTime(t, "2024-04-10 18:16:40")
	transcript := []*agenthooks.Message{
		{ID: "018ec933-4000-7000-8000-000000000001", ConversationID: closed.ID, SenderType: "user", MessageType: "text", Text: "hi may i know how much is flu jab", CreatedAt: msgTime},
		{ID: "018ec933-4000-7000-8000-000000000002", ConversationID: closed.ID, SenderType: "bot", MessageType: "text", Text: "A flu jab costs £15 — book one at the front desk.", CreatedAt: msgTime.Add(5 * time.Second)},
	}

	tests := []struct {
		name, id, event, at string
		data                any
	}{
		{"captured_form.created", "018eb05e-7efd-7bef-a765-7bccbd9f39d9", agenthooks.EventCapturedFormCreated, "2024-04-05 22:26:08", payload.NewCapturedForm(cf, form, conv)},
		{"captured_form.updated", "018eb05e-7efd-7bef-a765-7bccbd9f39da", agenthooks.EventCapturedFormUpdated, "2024-04-05 22:27:08", payload.NewCapturedForm(cf, form, conv)},
		{"conversation.updated", "018ec93a-1393-7002-a528-199c149be8e2", agenthooks.EventConversationUpdated, "2024-04-10 18:16:45", payload.NewConversation(closed, transcript)},
		{"captured_intent.created", "012ec784-e78d-80c2-a729-101c148de8c2", agenthooks.EventCapturedIntentCreated, "2024-04-10 18:16:50", payload.NewCapturedIntent(intent, intentConv)},
		{"conversation.closed", "018ec93a-1393-7002-a528-199c149be8e3", agenthooks.EventConversationClosed, "2024-04-10 18:16:50", payload.NewConversation(closed, transcript)},
		{"webhook.test", "018ec93a-1393-7002-a528-199c149be8e4", agenthooks.EventWebhookTest, "2024-04-10 18:16:50", payload.Test{WebhookID: "018ec93a-0000-7002-a528-199c149be8e4", Message: "This is a test event from agenthooks."}},
		{"webhook.disabled", "018ec93a-1393-7002-a528-199c149be8e5", agenthooks.EventWebhookDisabled, "2024-04-10 18:16:50", payload.NewWebhookDisabled(&agenthooks.Webhook{
			ID: "018ec93a-0000-7002-a528-199c149be8e4", Name: "CRM", Endpoint: "https://crm.example.com/hooks/insighto", DisabledReason: agenthooks.DisabledGone,
			UpdatedAt: seedTime(t, "2024-04-10 18:16:49")})},
		{"delivery.failed", "018ec93a-1393-7002-a528-199c149be8e6", agenthooks.EventDeliveryFailed, "2024-04-10 18:16:50", payload.NewDeliveryFailed(&agenthooks.Delivery{
			ID: "018ec93a-1393-7002-a528-199c149be8f0", EventID: "018ec93a-1393-7002-a528-199c149be8e3", WebhookID: "018ec93a-0000-7002-a528-199c149be8e4", AttemptCount: 8},
			agenthooks.EventConversationClosed, 503, "HTTP 503")},
		{"delivery.failed.no_answer", "018ec93a-1393-7002-a528-199c149be8e7", agenthooks.EventDeliveryFailed, "2024-04-10 18:16:50", payload.NewDeliveryFailed(&agenthooks.Delivery{
			ID: "018ec93a-1393-7002-a528-199c149be8f1", EventID: "018ec93a-1393-7002-a528-199c149be8e3", WebhookID: "018ec93a-0000-7002-a528-199c149be8e4", AttemptCount: 1},
			agenthooks.EventCapturedFormCreated, 0, "")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := payload.Encode(tt.id, tt.event, seedTime(t, tt.at), tt.data)
			if err != nil {
				t.Fatal(err)
			}
			var pretty bytes.Buffer
			if err := json.Indent(&pretty, got, "", "  "); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", tt.name+".golden.json")
			if *update {
				if err := os.WriteFile(path, append(pretty.Bytes(), '\n'), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./payload -update to create it)", err)
			}
			if strings.TrimSpace(pretty.String()) != strings.TrimSpace(string(want)) {
				t.Errorf("payload changed; receivers would see:\n%s\nwant:\n%s", pretty.String(), want)
			}
		})
	}
}

func TestConversationFacts(t *testing.T) {
	t.Parallel()
	c := &agenthooks.Conversation{ID: "c", ContactID: "k", ChatCount: 150}
	var msgs []*agenthooks.Message
	for i := 0; i < 150; i++ {
		msgs = append(msgs, &agenthooks.Message{ID: string(rune('a' + i%26)), Text: "héllo"})
	}
	d := payload.NewConversation(c, msgs)
	if len(d.Transcript) != payload.TranscriptLimit {
		t.Errorf("transcript has %d messages, want %d", len(d.Transcript), payload.TranscriptLimit)
	}
	if d.ChatCount != 150 {
		t.Errorf("chat_count = %d, want 150", d.ChatCount)
	}
	if d.ContactID == nil || *d.ContactID != "k" {
		t.Errorf("contact_id = %v, want k", d.ContactID)
	}
	if d.Transcript[0].CharCount != 5 {
		t.Errorf("char_count = %d, want 5 runes", d.Transcript[0].CharCount)
	}
	if d.FirstMessage != "" {
		t.Errorf("first_message = %q, want empty with no user message", d.FirstMessage)
	}
	noContact := payload.NewConversation(&agenthooks.Conversation{ID: "c"}, nil)
	b, err := payload.Encode("e", agenthooks.EventConversationClosed, time.Date(2024, 4, 10, 18, 16, 50, 0, time.UTC), noContact)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"contact_id":null`, `"transcript":[]`, `"attributes":{}`, `"created_at":"2024-04-10 18:16:50"`} {
		if !bytes.Contains(b, []byte(want)) {
			t.Errorf("payload %s lacks %s", b, want)
		}
	}
}

func TestEncodeTimeIsUTC(t *testing.T) {
	t.Parallel()
	loc := time.FixedZone("X", 5*3600)
	b, err := payload.Encode("e", "x", time.Date(2024, 4, 6, 3, 26, 8, 999, loc), payload.Test{})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(`"created_at":"2024-04-05 22:26:08"`)) {
		t.Errorf("created_at not in UTC seed format: %s", b)
	}
}

func BenchmarkEncodeConversation(b *testing.B) {
	c := &agenthooks.Conversation{ID: "018ec933-3037-7469-80d8-ff393043b889", AssistantID: "a", WidgetID: "w", DeviceType: "desktop", ChatCount: 10, FirstMessage: "hi"}
	var msgs []*agenthooks.Message
	for i := 0; i < 10; i++ {
		msgs = append(msgs, &agenthooks.Message{ID: "m", ConversationID: c.ID, SenderType: "user", MessageType: "text", Text: "hello there, how much is a flu jab?"})
	}
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := payload.Encode("018ec93a-1393-7002-a528-199c149be8e3", agenthooks.EventConversationClosed, now, payload.NewConversation(c, msgs)); err != nil {
			b.Fatal(err)
		}
	}
}

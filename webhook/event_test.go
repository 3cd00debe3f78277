package webhook_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/agenthooks/agenthooks/webhook"
)

func ptr[T any](v T) *T { return &v }

func TestParse(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name    string
		body    string
		want    *webhook.Event
		wantErr bool
	}{
		{
			name: "OK",
			body: `{"id":"e1","object":"event","event":"webhook.test","created_at":"2024-04-10 18:16:50","data":{"message":"hi"}}`,
			want: &webhook.Event{ID: "e1", Object: "event", Type: "webhook.test", CreatedAt: "2024-04-10 18:16:50", Data: json.RawMessage(`{"message":"hi"}`)},
		},
		{
			name: "OKExtraFields",
			body: `{"id":"e1","event":"x.y","future":{"a":1}}`,
			want: &webhook.Event{ID: "e1", Type: "x.y"},
		},
		{name: "ErrNotJSON", body: `not json`, wantErr: true},
		{name: "ErrArray", body: `[]`, wantErr: true},
		{name: "ErrEmpty", body: ``, wantErr: true},
		{name: "ErrMissingID", body: `{"event":"webhook.test"}`, wantErr: true},
		{name: "ErrMissingEvent", body: `{"id":"e1"}`, wantErr: true},
		{name: "ErrWrongType", body: `{"id":1,"event":"webhook.test"}`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := webhook.Parse([]byte(tt.body))
			if tt.wantErr {
				if err == nil {
					t.Fatalf("Parse = %+v, want an error", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Parse = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestEventDecode(t *testing.T) {
	t.Parallel()

	closedTranscript := []webhook.Message{
		{
			ID: "018ec933-4000-7000-8000-000000000001", ConversationID: "018ec933-3037-7469-80d8-ff393043b889",
			SenderType: "user", MessageType: "text", Text: "hi may i know how much is flu jab",
			DataSources: json.RawMessage("null"),
			CreatedAt:   "2024-04-10 18:15:02", UpdatedAt: "2024-04-10 18:15:02", CharCount: 33,
		},
		{
			ID: "018ec933-4000-7000-8000-000000000002", ConversationID: "018ec933-3037-7469-80d8-ff393043b889",
			SenderType: "bot", MessageType: "text", Text: "A flu jab costs €15.",
			DataSources: json.RawMessage("null"),
			CreatedAt:   "2024-04-10 18:15:04", UpdatedAt: "2024-04-10 18:15:04", CharCount: 20,
		},
	}
	tests := []struct {
		fixture  string
		wantType string
		want     any
	}{
		{"captured_form.created.json", webhook.EventCapturedFormCreated, &webhook.CapturedForm{
			FormID: "018eaff3-67cb-7d86-bb5e-65c952c8dc2a", FormName: "Algoscale Leads",
			WidgetID: "018cd9c9-a864-7de1-98c0-6478c74b9c2b", AssistantID: "018cd9c8-e317-7079-accd-17be51784256",
			FieldValues:    map[string]any{"name": "Smith Stevens", "email": "smith@example.com", "query": "flask developer", "gdpr": true},
			ConversationID: "018eb05d-cf6c-7631-8992-fd8377db4145", CapturedFormID: "018eb05e-7177-7374-af12-66132614cb9f",
			DeviceType: "desktop", Attributes: map[string]any{"utm_source": "newsletter"},
		}},
		{"captured_intent.created.json", webhook.EventCapturedIntentCreated, &webhook.CapturedIntent{
			IntentID: "023eca5e-a584-1002-960d-4857d7d28c67", ChatCount: 2, IntentName: "SALES", DeviceType: "mobile",
			WidgetID: "018eb656-5692-7a92-836b-80e2cd1eca56", AssistantID: "018eb657-5027-7a36-ad61-77e2bd4ec683",
			ConversationID: "019ec453-1017-2567-904d-ff39862b334",
		}},
		{"conversation.closed.json", webhook.EventConversationClosed, &webhook.Conversation{
			WidgetID: "018eb657-e189-7219-960d-4535d7d24d99", ChatCount: 2, ContactID: nil, DeviceType: "desktop",
			AssistantID: "018eb657-5027-7a36-836b-77e2cd1ec683", FirstMessage: "User: hi may i know how much is flu jab",
			ConversationID: "018ec933-3037-7469-80d8-ff393043b889", Attributes: map[string]any{}, Transcript: closedTranscript,
		}},
		{"conversation.updated.json", webhook.EventConversationUpdated, &webhook.Conversation{
			WidgetID: "018eb657-e189-7219-960d-4535d7d24d99", ChatCount: 1, ContactID: ptr("018eb657-0000-7000-8000-00000000c0de"),
			DeviceType: "phone", AssistantID: "018eb657-5027-7a36-836b-77e2cd1ec683", FirstMessage: "User: hello",
			ConversationID: "018ec933-3037-7469-80d8-ff393043b889", Attributes: map[string]any{"plan": "pro"},
			Transcript: []webhook.Message{{
				ID: "018ec933-4000-7000-8000-000000000003", ConversationID: "018ec933-3037-7469-80d8-ff393043b889",
				SenderType: "user", MessageType: "voice", Text: "hello", DataSources: json.RawMessage("null"),
				CreatedAt: "2024-04-10 18:15:04", UpdatedAt: "2024-04-10 18:15:04", CharCount: 5,
			}},
		}},
		{"webhook.test.json", webhook.EventWebhookTest, &webhook.Test{
			WebhookID: "0190b7e6-0000-7000-8000-0000000000aa", Message: "This is a test event from agenthooks.",
		}},
		// The examples of Insighto's help article: legacy event names, contact_id "None".
		{"insighto-capturedform.created.json", "capturedform.created", &webhook.CapturedForm{
			FormID: "018eaff3-67cb-7d86-bb5e-65c952c8dc2a", FormName: "Algoscale Leads",
			WidgetID: "018cd9c9-a864-7de1-98c0-6478c74b9c2b", AssistantID: "018cd9c8-e317-7079-accd-17be51784256",
			FieldValues:    map[string]any{"name": "Smith Stevens", "email": "smith@example.com", "query": "flask developer"},
			ConversationID: "018eb05d-cf6c-7631-8992-fd8377db4145", CapturedFormID: "018eb05e-7177-7374-af12-66132614cb9f",
		}},
		{"insighto-conversation.closed.json", webhook.EventConversationClosed, &webhook.Conversation{
			WidgetID: "018eb657-e189-7219-960d-4535d7d24d99", ChatCount: 2, ContactID: ptr("None"), DeviceType: "desktop",
			AssistantID: "018eb657-5027-7a36-836b-77e2cd1ec683", FirstMessage: "User: hi may i know how much is flu jab",
			ConversationID: "018ec933-3037-7469-80d8-ff393043b889",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			t.Parallel()
			e, err := webhook.Parse(fixture(t, tt.fixture))
			if err != nil {
				t.Fatal(err)
			}
			if e.Type != tt.wantType || e.Object != "event" {
				t.Fatalf("Type, Object = %q, %q; want %q, event", e.Type, e.Object, tt.wantType)
			}
			got, err := e.Decode()
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Decode =\n%#v\nwant\n%#v", got, tt.want)
			}
		})
	}
}

func TestEventDecodeErrors(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name        string
		event       webhook.Event
		wantUnknown bool
	}{
		{"ErrOwnTypeDataNotObject", webhook.Event{ID: "e", Type: "invoice.paid", Data: json.RawMessage(`[1]`)}, false},
		{"ErrOwnTypeNoData", webhook.Event{ID: "e", Type: "invoice.paid"}, false},
		{"ErrWrongFieldType", webhook.Event{ID: "e", Type: webhook.EventCapturedIntentCreated, Data: json.RawMessage(`{"chat_count":"two"}`)}, false},
		{"ErrDataNotObject", webhook.Event{ID: "e", Type: webhook.EventWebhookTest, Data: json.RawMessage(`[1]`)}, false},
		{"ErrNoData", webhook.Event{ID: "e", Type: webhook.EventConversationClosed}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := tt.event.Decode()
			if err == nil {
				t.Fatalf("Decode = %#v, want an error", got)
			}
			if errors.Is(err, webhook.ErrUnknownEventType) != tt.wantUnknown {
				t.Fatalf("Decode error %v: errors.Is(ErrUnknownEventType) = %v", err, !tt.wantUnknown)
			}
		})
	}
}

func TestEventCreatedTime(t *testing.T) {
	t.Parallel()

	tests := []struct {
		in      string
		want    time.Time
		wantErr bool
	}{
		{"2024-04-05 22:26:08", time.Date(2024, 4, 5, 22, 26, 8, 0, time.UTC), false},
		{"2024-04-05T22:26:08Z", time.Time{}, true},
		{"", time.Time{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := (&webhook.Event{CreatedAt: tt.in}).CreatedTime()
			if (err != nil) != tt.wantErr || !got.Equal(tt.want) || (!tt.wantErr && got.Location() != time.UTC) {
				t.Fatalf("CreatedTime(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
		})
	}
}

// TestEventRoundTrip checks that an Event marshals back to the wire names.
func TestEventRoundTrip(t *testing.T) {
	t.Parallel()

	e, err := webhook.Parse(fixture(t, "webhook.test.json"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	var got, want map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(fixture(t, "webhook.test.json"), &want); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("round trip = %v, want %v", got, want)
	}
}

// FuzzParse checks that Parse and Decode never panic on any body.
func FuzzParse(f *testing.F) {
	for _, name := range []string{
		"captured_form.created.json", "captured_intent.created.json", "conversation.closed.json",
		"conversation.updated.json", "webhook.test.json", "insighto-capturedform.created.json",
	} {
		f.Add(fixture(f, name))
	}
	f.Add([]byte(`{"id":"e","event":"conversation.closed","data":null}`))
	f.Add([]byte(`{"id":"e","event":"captured_form.updated","data":{"field_values":[]}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		e, err := webhook.Parse(body)
		if err != nil {
			return
		}
		if e.ID == "" || e.Type == "" {
			t.Fatalf("Parse accepted an event without id or type: %+v", e)
		}
		_, _ = e.Decode()
		_, _ = e.CreatedTime()
	})
}

// An event type the package does not know (a platform's own, POST /event)
// decodes as its raw data, without error.
func TestEventDecodeUnknownTypeAsRawData(t *testing.T) {
	t.Parallel()
	body := []byte(`{"id":"0190b5c2-7d1e-7a4b-9c3d-2e1f0a9b8c7d","object":"event","event":"call.ended","created_at":"2024-04-05 22:26:08","data":{"duration_s":42,"caller":{"phone":"+44 20"}}}`)
	e, err := webhook.Parse(body)
	if err != nil {
		t.Fatal(err)
	}
	got, err := e.Decode()
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	raw, ok := got.(json.RawMessage)
	if !ok {
		t.Fatalf("Decode = %T, want json.RawMessage", got)
	}
	var call struct {
		DurationS int `json:"duration_s"`
		Caller    struct {
			Phone string `json:"phone"`
		} `json:"caller"`
	}
	if err := json.Unmarshal(raw, &call); err != nil || call.DurationS != 42 || call.Caller.Phone != "+44 20" {
		t.Fatalf("raw data %s decodes to %+v (%v)", raw, call, err)
	}
	if errors.Is(err, webhook.ErrUnknownEventType) {
		t.Error("Decode of an own type returns ErrUnknownEventType")
	}
}

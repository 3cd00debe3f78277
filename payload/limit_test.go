package payload_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/agenthooks/agenthooks"
	"github.com/agenthooks/agenthooks/payload"
)

// TestEnvelopeLimit: a conversation whose transcript would make the envelope
// larger than MaxEnvelopeBytes loses its oldest messages until it fits;
// chat_count still counts all, and the newest message is kept.
func TestEnvelopeLimit(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	messages := func(n int, text string) []*agenthooks.Message {
		ms := make([]*agenthooks.Message, n)
		for i := range ms {
			ms[i] = &agenthooks.Message{ID: fmt.Sprintf("m%03d", i), ConversationID: "c", SenderType: "user", MessageType: "text",
				Text: fmt.Sprintf("%03d:", i) + text, CreatedAt: now}
		}
		return ms
	}
	cases := []struct {
		name     string
		msgs     []*agenthooks.Message
		attrs    string
		wantAll  bool // the whole transcript fits
		wantSome bool // at least the newest message fits
	}{
		{"Small", messages(100, "hello"), `{}`, true, true},
		{"MaximalTexts", messages(100, strings.Repeat("x", 32<<10)), `{}`, false, true},
		{"EscapedTexts", messages(100, strings.Repeat("\x01", 32<<10)), `{"a":"` + strings.Repeat("b", 16<<10-8) + `"}`, false, true},
		{"JustOver", messages(9, strings.Repeat("y", 30<<10)), `{}`, false, true},
		// first_message (the first user message, here 192 KiB escaped)
		// leaves no room for any message of the same size.
		{"NoRoomLeft", messages(3, strings.Repeat("\x01", 32<<10)), `{}`, false, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := &agenthooks.Conversation{ID: "c", AssistantID: "a", WidgetID: "w", DeviceType: "desktop",
				Attributes: json.RawMessage(tc.attrs), ChatCount: 1000, FirstMessage: "hi"}
			if !tc.wantSome {
				c.FirstMessage = tc.msgs[0].Text
			}
			b, err := payload.Encode("e", agenthooks.EventConversationUpdated, now, payload.NewConversation(c, tc.msgs))
			if err != nil {
				t.Fatal(err)
			}
			if len(b) > payload.MaxEnvelopeBytes {
				t.Fatalf("envelope is %d bytes, over %d", len(b), payload.MaxEnvelopeBytes)
			}
			var env struct {
				Data struct {
					ChatCount  int `json:"chat_count"`
					Transcript []struct {
						ID string `json:"id"`
					} `json:"transcript"`
				} `json:"data"`
			}
			if err := json.Unmarshal(b, &env); err != nil {
				t.Fatalf("envelope is not JSON: %v", err)
			}
			if env.Data.ChatCount != 1000 {
				t.Errorf("chat_count %d, want 1000 (all messages)", env.Data.ChatCount)
			}
			got := env.Data.Transcript
			if tc.wantAll && len(got) != len(tc.msgs) {
				t.Errorf("transcript has %d messages, want all %d", len(got), len(tc.msgs))
			}
			if !tc.wantAll && len(got) >= len(tc.msgs) {
				t.Errorf("transcript kept all %d messages in %d bytes", len(got), len(b))
			}
			if tc.wantSome && (len(got) == 0 || got[len(got)-1].ID != tc.msgs[len(tc.msgs)-1].ID) {
				t.Fatalf("the newest message was left out (%d kept)", len(got))
			}
			// Oldest first, and a suffix of the transcript: only the oldest go.
			for i, m := range got {
				if want := tc.msgs[len(tc.msgs)-len(got)+i].ID; m.ID != want {
					t.Fatalf("transcript[%d] is %s, want %s", i, m.ID, want)
				}
			}
			// As many as fit: one more message would not.
			if !tc.wantAll && tc.wantSome {
				more := tc.msgs[len(tc.msgs)-len(got)-1:]
				conv := payload.NewConversation(c, more)
				whole, err := json.Marshal(conv)
				if err != nil {
					t.Fatal(err)
				}
				if len(whole)+100 < payload.MaxEnvelopeBytes {
					t.Errorf("one more message (%d bytes of data) would have fitted", len(whole))
				}
			}
		})
	}
}

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

// FuzzEncodeConversation: whatever the transcript's texts, the envelope is
// valid JSON of at most MaxEnvelopeBytes (unless it is over without any
// message) and keeps the newest messages, in order.
func FuzzEncodeConversation(f *testing.F) {
	f.Add("hello", 3, 10)
	f.Add(strings.Repeat("\x01", 1000), 100, 300)
	f.Add("<&>\u2028", 50, 32<<10)
	f.Fuzz(func(t *testing.T, text string, n, repeat int) {
		n, repeat = max(0, n%120), max(0, repeat%(40<<10))
		long := strings.Repeat(text, max(1, repeat/max(1, len(text))))
		if len(long) > 64<<10 {
			long = long[:64<<10]
		}
		now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
		msgs := make([]*agenthooks.Message, n)
		for i := range msgs {
			msgs[i] = &agenthooks.Message{ID: fmt.Sprint(i), ConversationID: "c", SenderType: "user", MessageType: "text", Text: long, CreatedAt: now}
		}
		c := &agenthooks.Conversation{ID: "c", ChatCount: n, Attributes: json.RawMessage(`{}`), FirstMessage: "hi"}
		b, err := payload.Encode("e", agenthooks.EventConversationUpdated, now, payload.NewConversation(c, msgs))
		if err != nil {
			t.Fatal(err)
		}
		var env struct {
			Data struct {
				Transcript []struct {
					ID string `json:"id"`
				} `json:"transcript"`
			} `json:"data"`
		}
		if err := json.Unmarshal(b, &env); err != nil {
			t.Fatalf("not JSON: %v", err)
		}
		got := env.Data.Transcript
		if len(b) > payload.MaxEnvelopeBytes && len(got) > 0 {
			t.Fatalf("%d bytes with %d messages left", len(b), len(got))
		}
		kept := min(n, payload.TranscriptLimit)
		for i, m := range got {
			if want := fmt.Sprint(n - len(got) + i); m.ID != want || len(got) > kept {
				t.Fatalf("transcript[%d] = %s, want %s (kept %d of %d)", i, m.ID, want, len(got), n)
			}
		}
	})
}

package transform

import (
	"encoding/json"
	"strings"
	"testing"
)

// Each template turns each built-in golden envelope (and an event type of
// the account's own) into the documented shape of its service's message,
// with the event's facts in it.
func TestTemplates(t *testing.T) {
	envs := golden(t)
	// What each event's message must mention.
	mentions := map[string][]string{
		"captured_form.created":   {"Smith Stevens", "smith@example.com"},
		"captured_form.updated":   {"@"},
		"captured_intent.created": {"SALES"},
		"conversation.closed":     {"hi may i know how much is flu jab", "2"},
		"conversation.updated":    {"flu jab"},
		"webhook.disabled":        {"CRM", "gone"},
		"delivery.failed":         {"conversation.closed", "HTTP 503"},
		"custom":                  {"call.ended", "duration"},
	}
	shapes := map[string]func(t *testing.T, m map[string]any){
		"slack": func(t *testing.T, m map[string]any) {
			if s, _ := m["text"].(string); s == "" {
				t.Error("no text")
			}
			blocks, _ := m["blocks"].([]any)
			if len(blocks) == 0 || len(blocks) > 50 {
				t.Fatalf("blocks: %v", m["blocks"])
			}
			for _, b := range blocks {
				b := b.(map[string]any)
				switch b["type"] {
				case "header":
					if tx := b["text"].(map[string]any); tx["type"] != "plain_text" || len(tx["text"].(string)) > 150 {
						t.Errorf("header %v", tx)
					}
				case "section":
					if b["text"] == nil && b["fields"] == nil {
						t.Errorf("section without text or fields")
					}
					if f, ok := b["fields"].([]any); ok && len(f) > 10 {
						t.Errorf("%d fields, Slack takes 10", len(f))
					}
				default:
					t.Errorf("block type %v", b["type"])
				}
			}
		},
		"discord": func(t *testing.T, m map[string]any) {
			c, _ := m["content"].(string)
			if c == "" || len([]rune(c)) > 2000 {
				t.Errorf("content of %d characters", len([]rune(c)))
			}
			embeds, _ := m["embeds"].([]any)
			if len(embeds) < 1 || len(embeds) > 10 {
				t.Fatalf("embeds %v", m["embeds"])
			}
			e := embeds[0].(map[string]any)
			if len([]rune(e["title"].(string))) > 256 || len(e["fields"].([]any)) > 25 {
				t.Errorf("embed over Discord's limits")
			}
		},
		"teams": func(t *testing.T, m map[string]any) {
			if m["type"] != "message" {
				t.Errorf("type %v", m["type"])
			}
			att := m["attachments"].([]any)
			a := att[0].(map[string]any)
			if a["contentType"] != "application/vnd.microsoft.card.adaptive" {
				t.Errorf("contentType %v", a["contentType"])
			}
			card := a["content"].(map[string]any)
			if card["type"] != "AdaptiveCard" || card["version"] == nil || len(card["body"].([]any)) == 0 {
				t.Errorf("card %v", card)
			}
		},
		"google_chat": func(t *testing.T, m map[string]any) {
			if s, _ := m["text"].(string); s == "" {
				t.Error("no text")
			}
			cards := m["cardsV2"].([]any)
			c := cards[0].(map[string]any)
			if c["cardId"] == "" || c["card"].(map[string]any)["sections"] == nil {
				t.Errorf("cardsV2 %v", c)
			}
		},
	}
	if len(Templates) != len(shapes) {
		t.Fatalf("%d templates, %d shapes", len(Templates), len(shapes))
	}
	for _, tpl := range Templates {
		p, err := Compile(tpl.Code)
		if err != nil {
			t.Fatalf("%s: %v", tpl.Name, err)
		}
		for name, env := range envs {
			t.Run(tpl.Name+"/"+name, func(t *testing.T) {
				var probe struct{ Event string }
				_ = json.Unmarshal(env, &probe)
				out, err := p.Run(Input{Method: "POST", URL: "https://hooks.example.com/x", EventType: probe.Event, Payload: env})
				if err != nil {
					t.Fatal(err)
				}
				var m map[string]any
				if err := json.Unmarshal(out.Body, &m); err != nil {
					t.Fatal(err)
				}
				shapes[tpl.Name](t, m)
				for _, want := range mentions[name] {
					if !strings.Contains(string(out.Body), want) {
						t.Errorf("message does not mention %q: %s", want, out.Body)
					}
				}
			})
		}
	}
}

package transform

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/agenthooks/agenthooks"
)

// Each template's message, for every built-in event (the golden envelopes
// and envelopes at the contract's size limits), is POSTed to a local
// receiver that stands in for the service: it checks the message against
// that service's documented incoming-webhook shape and limits, and answers
// 400 with the first violation, as the services do.
func TestTemplatesAtReceivers(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(serveChat))
	defer srv.Close()
	envs := golden(t)
	for name, env := range limitEnvelopes(t) {
		envs[name] = env
	}
	// Every built-in event type has an envelope here.
	for _, et := range agenthooks.EventTable {
		if _, ok := envs[et.Name]; !ok {
			t.Errorf("no envelope of %s", et.Name)
		}
	}
	for _, tpl := range Templates {
		p, err := Compile(tpl.Code)
		if err != nil {
			t.Fatalf("%s: %v", tpl.Name, err)
		}
		for name, env := range envs {
			t.Run(tpl.Name+"/"+name, func(t *testing.T) {
				out, err := p.Run(Input{Method: "POST", URL: srv.URL + "/" + tpl.Name, Payload: env})
				if err != nil {
					t.Fatal(err)
				}
				req, _ := http.NewRequest(out.Method, out.URL, bytes.NewReader(out.Body))
				req.Header.Set("Content-Type", "application/json")
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					t.Errorf("%s answered %d: %s\nmessage: %.600s", tpl.Name, resp.StatusCode, b, out.Body)
				}
			})
		}
	}
}

// limitEnvelopes are built-in events at the contract's limits: a message
// text of 32 KiB (not ASCII), a form of 40 fields of long names and values,
// an intent name of 255 characters.
func limitEnvelopes(t *testing.T) map[string][]byte {
	envs := golden(t)
	edit := func(name string, f func(data map[string]any)) []byte {
		var e map[string]any
		if err := json.Unmarshal(envs[name], &e); err != nil {
			t.Fatal(err)
		}
		f(e["data"].(map[string]any))
		b, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	long := strings.Repeat("é", 16<<10) // 32 KiB
	fields := map[string]any{"name": strings.Repeat("N", 255), "email": "a@example.com"}
	for i := range 40 {
		fields[fmt.Sprintf("field_%02d_%s", i, strings.Repeat("k", 200))] = strings.Repeat("v", 350)
	}
	return map[string][]byte{
		"limits/conversation.closed":     edit("conversation.closed", func(d map[string]any) { d["first_message"] = long }),
		"limits/conversation.updated":    edit("conversation.updated", func(d map[string]any) { d["first_message"] = long }),
		"limits/captured_form.created":   edit("captured_form.created", func(d map[string]any) { d["field_values"] = fields; d["form_name"] = strings.Repeat("F", 255) }),
		"limits/captured_intent.created": edit("captured_intent.created", func(d map[string]any) { d["intent_name"] = strings.Repeat("I", 255) }),
		"limits/delivery.failed":         edit("delivery.failed", func(d map[string]any) { d["last_error"] = long }),
		"limits/webhook.disabled": edit("webhook.disabled", func(d map[string]any) {
			d["name"] = strings.Repeat("W", 255)
			d["endpoint"] = "https://x.example/" + strings.Repeat("p", 2000)
		}),
	}
}

// serveChat checks a message by the path's service.
func serveChat(w http.ResponseWriter, r *http.Request) {
	var m map[string]any
	err := func() error {
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
			return fmt.Errorf("%s with %s", r.Method, r.Header.Get("Content-Type"))
		}
		b, err := io.ReadAll(r.Body)
		if err != nil {
			return err
		}
		if err := json.Unmarshal(b, &m); err != nil {
			return fmt.Errorf("not a JSON object: %w", err)
		}
		switch r.URL.Path {
		case "/slack":
			return checkSlack(m)
		case "/discord":
			return checkDiscord(m)
		case "/teams":
			return checkTeams(m, len(b))
		case "/google_chat":
			return checkGoogleChat(m, len(b))
		}
		return fmt.Errorf("no service at %s", r.URL.Path)
	}()
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	_, _ = io.WriteString(w, "ok")
}

func chars(v any) int { s, _ := v.(string); return utf8.RuneCountInString(s) }

// checkSlack: https://api.slack.com/messaging/webhooks and the Block Kit
// reference: text (the notification), at most 50 blocks; a header's
// plain_text at most 150 characters; a section's text at most 3000, its
// fields at most 10 of at most 2000 each.
func checkSlack(m map[string]any) error {
	if s, _ := m["text"].(string); s == "" {
		return fmt.Errorf("no text")
	}
	if n := chars(m["text"]); n > 40000 {
		return fmt.Errorf("text of %d characters", n)
	}
	blocks, _ := m["blocks"].([]any)
	if len(blocks) == 0 || len(blocks) > 50 {
		return fmt.Errorf("%d blocks", len(blocks))
	}
	for _, b := range blocks {
		b, _ := b.(map[string]any)
		switch b["type"] {
		case "header":
			tx, _ := b["text"].(map[string]any)
			if tx["type"] != "plain_text" || chars(tx["text"]) == 0 || chars(tx["text"]) > 150 {
				return fmt.Errorf("header %v", tx)
			}
		case "section":
			tx, hasText := b["text"].(map[string]any)
			fields, hasFields := b["fields"].([]any)
			if !hasText && !hasFields {
				return fmt.Errorf("a section without text or fields")
			}
			if hasText && (chars(tx["text"]) == 0 || chars(tx["text"]) > 3000 || (tx["type"] != "mrkdwn" && tx["type"] != "plain_text")) {
				return fmt.Errorf("section text of %d characters, type %v", chars(tx["text"]), tx["type"])
			}
			if hasFields && (len(fields) == 0 || len(fields) > 10) {
				return fmt.Errorf("%d section fields", len(fields))
			}
			for _, f := range fields {
				f, _ := f.(map[string]any)
				if chars(f["text"]) == 0 || chars(f["text"]) > 2000 {
					return fmt.Errorf("a section field of %d characters", chars(f["text"]))
				}
			}
		case "divider", "context":
		default:
			return fmt.Errorf("block type %v", b["type"])
		}
	}
	return nil
}

// checkDiscord: https://discord.com/developers/docs/resources/message#embed-object-embed-limits:
// content at most 2000 characters; at most 10 embeds; a title at most 256,
// a description at most 4096, at most 25 fields of a name at most 256 and a
// value at most 1024; at most 6000 characters in all the embeds together.
func checkDiscord(m map[string]any) error {
	if c := chars(m["content"]); c == 0 || c > 2000 {
		return fmt.Errorf("content of %d characters", c)
	}
	embeds, _ := m["embeds"].([]any)
	if len(embeds) > 10 {
		return fmt.Errorf("%d embeds", len(embeds))
	}
	total := 0
	for _, e := range embeds {
		e, _ := e.(map[string]any)
		if chars(e["title"]) > 256 || chars(e["description"]) > 4096 {
			return fmt.Errorf("embed title %d, description %d characters", chars(e["title"]), chars(e["description"]))
		}
		total += chars(e["title"]) + chars(e["description"])
		fields, _ := e["fields"].([]any)
		if len(fields) > 25 {
			return fmt.Errorf("%d embed fields", len(fields))
		}
		for _, f := range fields {
			f, _ := f.(map[string]any)
			if chars(f["name"]) == 0 || chars(f["name"]) > 256 || chars(f["value"]) == 0 || chars(f["value"]) > 1024 {
				return fmt.Errorf("embed field name %d, value %d characters", chars(f["name"]), chars(f["value"]))
			}
			total += chars(f["name"]) + chars(f["value"])
		}
		if ts, ok := e["timestamp"].(string); ok && !strings.HasSuffix(ts, "Z") {
			return fmt.Errorf("timestamp %q is not ISO 8601 UTC", ts)
		}
	}
	if total > 6000 {
		return fmt.Errorf("%d characters in the embeds", total)
	}
	return nil
}

// checkTeams: a Workflows incoming webhook message (type message, an
// attachment of contentType application/vnd.microsoft.card.adaptive whose
// content is an AdaptiveCard with a version and a body of known elements),
// at most 28 KB.
func checkTeams(m map[string]any, size int) error {
	if m["type"] != "message" {
		return fmt.Errorf("type %v", m["type"])
	}
	if size > 28000 {
		return fmt.Errorf("message of %d bytes", size)
	}
	att, _ := m["attachments"].([]any)
	if len(att) == 0 {
		return fmt.Errorf("no attachments")
	}
	a, _ := att[0].(map[string]any)
	if a["contentType"] != "application/vnd.microsoft.card.adaptive" {
		return fmt.Errorf("contentType %v", a["contentType"])
	}
	card, _ := a["content"].(map[string]any)
	body, _ := card["body"].([]any)
	if card["type"] != "AdaptiveCard" || card["version"] == nil || len(body) == 0 {
		return fmt.Errorf("card %v", card)
	}
	for _, el := range body {
		el, _ := el.(map[string]any)
		switch el["type"] {
		case "TextBlock":
			if chars(el["text"]) == 0 {
				return fmt.Errorf("an empty TextBlock")
			}
		case "FactSet":
			facts, _ := el["facts"].([]any)
			for _, f := range facts {
				f, _ := f.(map[string]any)
				if chars(f["title"]) == 0 || chars(f["value"]) == 0 {
					return fmt.Errorf("a fact %v", f)
				}
			}
		default:
			return fmt.Errorf("card element %v", el["type"])
		}
	}
	return nil
}

// checkGoogleChat: https://developers.google.com/workspace/chat/api/reference/rest/v1/spaces.messages:
// text or cardsV2 (each with a cardId and a card of sections of widgets);
// a message at most 32,000 bytes, its text at most 4096 characters.
func checkGoogleChat(m map[string]any, size int) error {
	cards, hasCards := m["cardsV2"].([]any)
	if chars(m["text"]) == 0 && !hasCards {
		return fmt.Errorf("neither text nor cardsV2")
	}
	if size > 32000 {
		return fmt.Errorf("message of %d bytes", size)
	}
	if n := chars(m["text"]); n > 4096 {
		return fmt.Errorf("text of %d characters", n)
	}
	for _, c := range cards {
		c, _ := c.(map[string]any)
		card, _ := c["card"].(map[string]any)
		sections, _ := card["sections"].([]any)
		if chars(c["cardId"]) == 0 || len(sections) == 0 {
			return fmt.Errorf("cardsV2 entry %v", c)
		}
		for _, s := range sections {
			s, _ := s.(map[string]any)
			widgets, _ := s["widgets"].([]any)
			if len(widgets) == 0 || len(widgets) > 100 {
				return fmt.Errorf("a section of %d widgets", len(widgets))
			}
		}
	}
	return nil
}

package httpapi_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

// The audit of the contract's Insighto section (CONTRACT section 3): every
// resource created with every field a client may set, read back by id and in
// its list, each field of the contract's list present with its JSON type, the
// derived ones filled in.

// jsonKind is a field's JSON type as the contract gives it; a trailing "?"
// allows null.
type jsonKind string

const (
	kUUID    jsonKind = "uuid"
	kTime    jsonKind = "time" // RFC 3339, UTC
	kBool    jsonKind = "bool"
	kStr     jsonKind = "string"
	kNum     jsonKind = "number"
	kObj     jsonKind = "object"
	kList    jsonKind = "list"
	kUUIDs   jsonKind = "uuid list"
	kStrs    jsonKind = "string list"
	nullable          = "?"
)

var uuidRe = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// rfc3339UTC reports whether s is an RFC 3339 timestamp in UTC ("Z").
func rfc3339UTC(s string) bool {
	t, err := time.Parse(time.RFC3339Nano, s)
	return err == nil && strings.HasSuffix(s, "Z") && t.Location() == time.UTC
}

// kindOK reports whether v is of kind k (null only where k allows it).
func kindOK(v any, k jsonKind) bool {
	base, null := strings.CutSuffix(string(k), nullable)
	if v == nil {
		return null
	}
	switch jsonKind(base) {
	case kUUID:
		s, ok := v.(string)
		return ok && uuidRe.MatchString(s)
	case kTime:
		s, ok := v.(string)
		return ok && rfc3339UTC(s)
	case kBool:
		_, ok := v.(bool)
		return ok
	case kStr:
		_, ok := v.(string)
		return ok
	case kNum:
		_, ok := v.(float64)
		return ok
	case kObj:
		_, ok := v.(map[string]any)
		return ok
	case kList:
		_, ok := v.([]any)
		return ok
	case kUUIDs, kStrs:
		l, ok := v.([]any)
		for _, e := range l {
			if !kindOK(e, map[jsonKind]jsonKind{kUUIDs: kUUID, kStrs: kStr}[jsonKind(base)]) {
				return false
			}
		}
		return ok
	}
	panic("unknown kind " + k)
}

// checkKinds fails unless m has every field of want with its kind.
func checkKinds(t *testing.T, what string, m map[string]any, want map[string]jsonKind) {
	t.Helper()
	for name, k := range want {
		v, ok := m[name]
		switch {
		case !ok:
			t.Errorf("%s: no field %q", what, name)
		case !kindOK(v, k):
			t.Errorf("%s %s = %#v, want %s", what, name, v, k)
		}
	}
}

var (
	assistantKinds = map[string]jsonKind{
		"assistant_type": kStr, "attributes": kObj, "conversation_flow_id": kStr, "custom_voice": kStr, "description": kStr,
		"has_human_agent": kBool, "hide_ds": kBool, "id": kUUID, "llm_model": kStr, "name": kStr, "org_id": kUUID,
		"show_images": kBool, "system_prompt": kStr, "use_tools": kBool, "voice": kBool, "voice_languages": kStrs,
		"webhook_id": kUUID, "voice_name": kStr, "intent_ids": kUUIDs, "created_at": kTime, "updated_at": kTime,
	}
	widgetKinds = map[string]jsonKind{
		"action_buttons": kList, "action_buttons_color": kStr, "assistant_id": kUUID, "attributes": kObj, "bot_icon_color": kStr,
		"bot_message_color": kStr, "bot_text_message_color": kStr, "bubble_bot_icon": kStr, "bubble_color": kStr,
		"bubble_text": kStr, "conversation_bot_icon": kStr, "description": kStr, "display_name": kStr, "header_color": kStr,
		"header_text_color": kStr, "ice_break_color": kStr, "id": kUUID, "intro_message": kStr, "name": kStr, "org_id": kUUID,
		"provider_user_friendly_label": kStr, "remove_branding": kBool, "style_params": kObj, "textbox_default_text": kStr,
		"user_message_color": kStr, "user_opening_messages": kStrs, "user_text_message_color": kStr, "widget_provider": kStr,
		"widget_type": kStr, "created_at": kTime,
	}
	intentKinds = map[string]jsonKind{
		"attributes": kObj, "description": kStr, "id": kUUID, "intent_type": kStr, "is_active": kBool, "name": kStr, "created_at": kTime,
	}
	contactKinds = map[string]jsonKind{
		"channels": kStrs, "created_at": kTime, "custom_fields": kObj, "email": kStr, "first_assistant_id": kUUID, "first_name": kStr,
		"first_widget_id": kUUID, "id": kUUID, "last_assistant_id": kUUID, "last_name": kStr, "last_seen": kTime, "last_sent": kTime,
		"last_widget_id": kUUID, "org_id": kUUID, "user_attributes": kObj, "phone_number": kStr,
	}
	conversationKinds = map[string]jsonKind{
		"id": kUUID, "assistant_id": kUUID, "widget_id": kUUID, "contact_id": kUUID, "device_type": kStr, "attributes": kObj,
		"chat_count": kNum, "first_message": kStr, "unique_device_id": kStr, "includes_voice": kBool, "summary": kStr,
		"status": kStr, "closed_at": kTime, "last_activity_at": kTime, "created_at": kTime, "updated_at": kTime,
	}
	rowKinds = merge(conversationKinds, map[string]jsonKind{
		"assistant_name": kStr, "contact_first_name": kStr, "contact_last_name": kStr, "includes_voice": kBool,
		"intent_name": kStr, "summary": kStr, "widget_provider": kStr, "widget_type": kStr,
	})
)

func merge(a, b map[string]jsonKind) map[string]jsonKind {
	out := map[string]jsonKind{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

// auditWorld is one of each Insighto resource, every settable field set, the
// conversation closed with a summary after a voice message and an intent.
type auditWorld struct {
	webhook, assistant, widget, intent, contact, conversation string
}

func (b *testBundle) auditWorld(t *testing.T) auditWorld {
	t.Helper()
	var w auditWorld
	w.webhook = str(t, b.webhook(b.keyA, nil), "id")
	w.assistant = str(t, b.expect(http.StatusCreated, b.keyA, "POST", "/api/v1/assistant", map[string]any{
		"name": "Sales", "assistant_type": "realtime_openai", "webhook_id": w.webhook, "description": "sells", "llm_model": "gpt-4o",
		"system_prompt": "Be kind.", "voice": true, "voice_name": "alloy", "voice_languages": []any{"en-US"}, "attributes": map[string]any{"tier": "gold"},
		"conversation_flow_id": "flow-1", "custom_voice": "my-voice", "has_human_agent": true, "hide_ds": true, "show_images": true, "use_tools": true,
	}).data(t), "id")
	w.widget = str(t, b.expect(http.StatusCreated, b.keyA, "POST", "/api/v1/widget", map[string]any{
		"assistant_id": w.assistant, "name": "site", "widget_type": "web_call",
		"action_buttons": []any{map[string]any{"label": "Book"}}, "action_buttons_color": "#111111", "attributes": map[string]any{"k": 1},
		"bot_icon_color": "#222222", "bot_message_color": "#333333", "bot_text_message_color": "#444444",
		"bubble_bot_icon": "https://example.com/b.png", "bubble_color": "#555555", "bubble_text": "Chat with us",
		"conversation_bot_icon": "https://example.com/c.png", "description": "the site widget", "display_name": "Helper",
		"header_color": "#666666", "header_text_color": "#777777", "ice_break_color": "#888888", "intro_message": "Hello!",
		"provider_user_friendly_label": "Web call", "remove_branding": true, "style_params": map[string]any{"radius": 8},
		"textbox_default_text": "Type here", "user_message_color": "#999999", "user_opening_messages": []any{"Pricing?"},
		"user_text_message_color": "#aaaaaa", "widget_provider": "insighto",
	}).data(t), "id")
	w.intent = str(t, b.expect(http.StatusCreated, b.keyA, "POST", "/api/v1/intent", map[string]any{
		"name": "SALES", "description": "wants to buy", "attributes": map[string]any{"score": 3}, "intent_type": "lead", "is_active": true,
	}).data(t), "id")
	b.expect(http.StatusOK, b.keyA, "POST", "/api/v1/assistant/"+w.assistant+"/intent/"+w.intent, nil)
	w.contact = str(t, b.expect(http.StatusCreated, b.keyA, "POST", "/api/v1/contact", map[string]any{
		"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com", "phone_number": "+441234",
		"channels": []any{"sms"}, "custom_fields": map[string]any{"plan": "pro"}, "user_attributes": map[string]any{"vip": true},
	}).data(t), "id")
	w.conversation = str(t, b.expect(http.StatusCreated, b.keyA, "POST", "/api/v1/conversation", map[string]any{
		"assistant_id": w.assistant, "widget_id": w.widget, "device_type": "phone", "contact_id": w.contact,
		"unique_device_id": "dev-1", "attributes": map[string]any{"plan": "pro"},
	}).data(t), "id")
	for _, m := range []map[string]any{
		{"sender_type": "user", "text": "hi", "message_type": "voice"},
		{"sender_type": "bot", "text": "hello"},
	} {
		b.expect(http.StatusCreated, b.keyA, "POST", "/api/v1/conversation/"+w.conversation+"/message", m)
	}
	b.expect(http.StatusCreated, b.keyA, "POST", "/api/v1/conversation/"+w.conversation+"/captured_intent", map[string]any{"intent_id": w.intent})
	b.expect(http.StatusOK, b.keyA, "POST", "/api/v1/conversation/"+w.conversation+"/close", map[string]any{"summary": "Wants a demo."})
	return w
}

// TestInsightoAudit reads each resource by id and in its list and checks
// every field's JSON type (every field set, so none may be null) and the
// derived values.
func TestInsightoAudit(t *testing.T) {
	t.Parallel()
	b := setup(t)
	w := b.auditWorld(t)
	cases := []struct {
		name, one, list string
		kinds           map[string]jsonKind
		derived         map[string]any
	}{
		{"Assistant", "/api/v1/assistant/" + w.assistant, "/api/v1/assistant", assistantKinds,
			map[string]any{"intent_ids": []any{w.intent}}},
		{"Widget", "/api/v1/widget/" + w.widget, "/api/v1/widget", widgetKinds, nil},
		{"Intent", "/api/v1/intent/" + w.intent, "/api/v1/intent/list", intentKinds, nil},
		{"Contact", "/api/v1/contact/" + w.contact, "/api/v1/contact", contactKinds, map[string]any{
			"first_assistant_id": w.assistant, "last_assistant_id": w.assistant, "first_widget_id": w.widget, "last_widget_id": w.widget}},
		{"Conversation", "/api/v1/conversation/" + w.conversation, "/api/v1/conversation", rowKinds, map[string]any{
			"includes_voice": true, "summary": "Wants a demo.", "intent_name": "SALES", "assistant_name": "Sales",
			"contact_first_name": "Ada", "contact_last_name": "Lovelace", "widget_type": "web_call", "widget_provider": "insighto",
			"status": "closed", "chat_count": 2}},
		{"ConversationByContact", "", "/api/v1/conversation/by-contact/" + w.contact, rowKinds, map[string]any{"intent_name": "SALES"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var reads []map[string]any
			if c.one != "" {
				one := b.expect(http.StatusOK, b.keyA, "GET", c.one, nil).data(t)
				kinds := c.kinds
				if c.name == "Conversation" {
					// The read by id is the conversation with its transcript, not a row.
					kinds = merge(conversationKinds, map[string]jsonKind{"transcript": kList})
				}
				checkKinds(t, "GET "+c.one, one, kinds)
				reads = append(reads, one)
			}
			items := b.expect(http.StatusOK, b.keyA, "GET", c.list, nil).items(t)
			if len(items) != 1 {
				t.Fatalf("GET %s: %d items, want 1", c.list, len(items))
			}
			checkKinds(t, "GET "+c.list, items[0], c.kinds)
			reads = append(reads, items[0])
			for i, r := range reads {
				if id, ok := r["org_id"]; ok && id == r["id"] {
					t.Errorf("org_id %v is the resource's id, want the account's", id)
				}
				if c.name == "Conversation" && i == 0 {
					// The row fields are the list's; the read by id has the conversation's own.
					checkFields(t, c.name, r, map[string]any{"includes_voice": true, "summary": "Wants a demo.", "status": "closed"})
					continue
				}
				checkFields(t, c.name, r, c.derived)
			}
		})
	}
	// org_id is the account's, the same on each resource.
	orgs := map[any]bool{}
	for _, p := range []string{"/api/v1/assistant/" + w.assistant, "/api/v1/widget/" + w.widget, "/api/v1/contact/" + w.contact} {
		orgs[b.expect(http.StatusOK, b.keyA, "GET", p, nil).data(t)["org_id"]] = true
	}
	if len(orgs) != 1 {
		t.Errorf("org_id differs between resources of one account: %v", orgs)
	}
	// A contact's last_sent is its user's message.
	contact := b.expect(http.StatusOK, b.keyA, "GET", "/api/v1/contact/"+w.contact, nil).data(t)
	conv := b.expect(http.StatusOK, b.keyA, "GET", "/api/v1/conversation/"+w.conversation, nil).data(t)
	tr, _ := conv["transcript"].([]any)
	if len(tr) != 2 {
		t.Fatalf("transcript: %d messages, want 2", len(tr))
	}
	// last_seen is the latest activity of the contact's conversations (here the close).
	user := tr[0].(map[string]any)
	if contact["last_sent"] != user["created_at"] || contact["last_seen"] != conv["last_activity_at"] {
		t.Errorf("last_sent %v, last_seen %v; want the user's message %v and the last activity %v", contact["last_sent"], contact["last_seen"],
			user["created_at"], conv["last_activity_at"])
	}
}

// Every GET /conversation filter value it cannot apply, and a page or size
// out of range, is a 422 on that query parameter; a list of 26 answers 25.
func TestInsightoAuditConversationQuery(t *testing.T) {
	t.Parallel()
	b := setup(t)
	w := b.world(b.keyA)
	for _, q := range []struct{ query, loc, typ string }{
		{"date_to=2026-13-01", "date_to", ""},
		{"date_from=2026-01-01T00:00:00", "date_from", ""},
		{"intent_id=" + w.assistant, "intent_id", ""},
		{"includes_voice=", "includes_voice", ""},
		{"includes_voice=yes", "includes_voice", ""},
		{"assistant_id=" + w.widget + "x", "assistant_id", ""},
		{"page=0", "page", ""},
		{"size=0", "size", ""},
		{"size=101", "size", ""},
		{"size=ten", "size", ""},
	} {
		t.Run(q.query, func(t *testing.T) {
			r := b.expect(http.StatusUnprocessableEntity, b.keyA, "GET", "/api/v1/conversation?"+q.query, nil)
			checkLoc(t, r, q.typ, "query", q.loc)
		})
	}
	for range 25 {
		b.conversation(b.keyA, w.assistant, w.widget, "")
	}
	r := b.expect(http.StatusOK, b.keyA, "GET", "/api/v1/conversation", nil)
	if n := len(r.items(t)); n != 25 || r.num(t, "size") != 25 || r.num(t, "total") != 26 || r.num(t, "pages") != 2 {
		t.Errorf("GET /conversation of 26: %d items, size %d, total %d, pages %d; want 25, 25, 26, 2",
			n, r.num(t, "size"), r.num(t, "total"), r.num(t, "pages"))
	}
}

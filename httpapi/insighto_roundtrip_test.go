package httpapi_test

import (
	"encoding/json"
	"net/http"
	"reflect"
	"slices"
	"sort"
	"testing"
)

// Insighto field for field (CONTRACT section 3): each resource answers every
// field of the contract's lists (and the few of ours), keeps what a client
// sets, and fills in what agenthooks derives.

// The contract's field lists, and the fields of ours each resource adds.
var (
	contractAssistantKeys = []string{"assistant_type", "attributes", "conversation_flow_id", "custom_voice", "description", "has_human_agent",
		"hide_ds", "id", "llm_model", "name", "org_id", "show_images", "system_prompt", "use_tools", "voice", "voice_languages", "webhook_id"}
	contractWidgetKeys = []string{"action_buttons", "action_buttons_color", "assistant_id", "attributes", "bot_icon_color", "bot_message_color",
		"bot_text_message_color", "bubble_bot_icon", "bubble_color", "bubble_text", "conversation_bot_icon", "description", "display_name",
		"header_color", "header_text_color", "ice_break_color", "id", "intro_message", "name", "org_id", "provider_user_friendly_label",
		"remove_branding", "style_params", "textbox_default_text", "user_message_color", "user_opening_messages", "user_text_message_color",
		"widget_provider", "widget_type"}
	contractIntentKeys  = []string{"attributes", "description", "id", "intent_type", "is_active", "name"}
	contractContactKeys = []string{"channels", "created_at", "custom_fields", "email", "first_assistant_id", "first_name", "first_widget_id", "id",
		"last_assistant_id", "last_name", "last_seen", "last_sent", "last_widget_id", "org_id", "user_attributes", "phone_number"}
	contractRowKeys = []string{"assistant_name", "contact_first_name", "contact_last_name", "includes_voice", "intent_name", "summary",
		"widget_provider", "widget_type"}
	conversationKeys = []string{"id", "assistant_id", "widget_id", "contact_id", "device_type", "attributes", "chat_count", "first_message",
		"unique_device_id", "includes_voice", "summary", "status", "closed_at", "last_activity_at", "created_at", "updated_at"}

	insightoAssistantKeys = append(slices.Clone(contractAssistantKeys), "voice_name", "intent_ids", "created_at", "updated_at")
	insightoWidgetKeys    = append(slices.Clone(contractWidgetKeys), "created_at")
	insightoIntentKeys    = append(slices.Clone(contractIntentKeys), "created_at")
	insightoContactKeys   = contractContactKeys
	insightoRowKeys       = append(slices.Clone(conversationKeys), contractRowKeys...)
)

// checkKeySet fails unless m's keys are exactly want.
func checkKeySet(t *testing.T, what string, m map[string]any, want []string) {
	t.Helper()
	got := make([]string, 0, len(m))
	for k := range m {
		got = append(got, k)
	}
	w := slices.Clone(want)
	sort.Strings(got)
	sort.Strings(w)
	if !slices.Equal(got, slices.Compact(w)) {
		t.Errorf("%s keys:\n got %v\nwant %v", what, got, w)
	}
}

// checkFields fails unless m holds each of want's values (compared as JSON).
func checkFields(t *testing.T, what string, m, want map[string]any) {
	t.Helper()
	for k, v := range want {
		a, _ := json.Marshal(m[k])
		b, _ := json.Marshal(v)
		var av, bv any
		_ = json.Unmarshal(a, &av)
		_ = json.Unmarshal(b, &bv)
		if !reflect.DeepEqual(av, bv) {
			t.Errorf("%s %s = %s, want %s", what, k, a, b)
		}
	}
}

func TestInsightoAssistantFieldForField(t *testing.T) {
	t.Parallel()
	b := setup(t)
	wh := str(t, b.webhook(b.keyA, nil), "id")
	set := map[string]any{
		"name": "Sales", "assistant_type": "realtime_openai", "webhook_id": wh, "description": "sells", "llm_model": "gpt-4o",
		"system_prompt": "Be kind.", "voice": true, "voice_name": "alloy", "voice_languages": []any{"en-US"}, "attributes": map[string]any{"tier": "gold"},
		"conversation_flow_id": "flow-1", "custom_voice": "my-voice", "has_human_agent": true, "hide_ds": true, "show_images": true, "use_tools": true,
	}
	created := b.expect(http.StatusCreated, b.keyA, "POST", "/api/v1/assistant", set).data(t)
	id := str(t, created, "id")
	got := b.expect(http.StatusOK, b.keyA, "GET", "/api/v1/assistant/"+id, nil).data(t)
	checkKeySet(t, "assistant", got, insightoAssistantKeys)
	checkFields(t, "assistant", got, set)
	if got["org_id"] == nil || got["org_id"] == "" {
		t.Errorf("org_id = %v, want the account's id", got["org_id"])
	}
	listed := b.expect(http.StatusOK, b.keyA, "GET", "/api/v1/assistant", nil).items(t)
	checkFields(t, "listed assistant", listed[0], set)

	// PUT changes the fields given; null clears a string, false turns a flag off.
	change := map[string]any{"voice": false, "use_tools": false, "conversation_flow_id": nil, "custom_voice": "other"}
	b.expect(http.StatusOK, b.keyA, "PUT", "/api/v1/assistant/"+id, change)
	got = b.expect(http.StatusOK, b.keyA, "GET", "/api/v1/assistant/"+id, nil).data(t)
	checkFields(t, "assistant after PUT", got, change)
	checkFields(t, "assistant after PUT (kept)", got, map[string]any{"has_human_agent": true, "voice_name": "alloy", "name": "Sales"})

	// Optional name; defaults of Insighto's types.
	bare := b.expect(http.StatusCreated, b.keyA, "POST", "/api/v1/assistant", map[string]any{"voice": true}).data(t)
	checkKeySet(t, "bare assistant", bare, insightoAssistantKeys)
	checkFields(t, "bare assistant", bare, map[string]any{"name": nil, "voice": true, "has_human_agent": false, "hide_ds": false,
		"show_images": false, "use_tools": false, "conversation_flow_id": nil, "custom_voice": nil, "assistant_type": "simple"})
}

func TestInsightoWidgetFieldForField(t *testing.T) {
	t.Parallel()
	b := setup(t)
	as := str(t, b.assistant(b.keyA, ""), "id")
	set := map[string]any{
		"assistant_id": as, "name": "site", "widget_type": "web_call",
		"action_buttons":       []any{map[string]any{"label": "Book", "url": "https://example.com/book"}},
		"action_buttons_color": "#111111", "attributes": map[string]any{"k": []any{1.5, "x"}},
		"bot_icon_color": "#222222", "bot_message_color": "#333333", "bot_text_message_color": "#444444",
		"bubble_bot_icon": "https://example.com/b.png", "bubble_color": "#555555", "bubble_text": "Chat with us",
		"conversation_bot_icon": "https://example.com/c.png", "description": "the site widget", "display_name": "Helper",
		"header_color": "#666666", "header_text_color": "#777777", "ice_break_color": "#888888", "intro_message": "Hello!",
		"provider_user_friendly_label": "Web call", "remove_branding": true, "style_params": map[string]any{"radius": 8},
		"textbox_default_text": "Type here", "user_message_color": "#999999", "user_opening_messages": []any{"Pricing?", "Demo?"},
		"user_text_message_color": "#aaaaaa", "widget_provider": "insighto",
	}
	id := str(t, b.expect(http.StatusCreated, b.keyA, "POST", "/api/v1/widget", set).data(t), "id")
	got := b.expect(http.StatusOK, b.keyA, "GET", "/api/v1/widget/"+id, nil).data(t)
	checkKeySet(t, "widget", got, insightoWidgetKeys)
	checkFields(t, "widget", got, set)
	listed := b.expect(http.StatusOK, b.keyA, "GET", "/api/v1/widget", nil).items(t)
	checkFields(t, "listed widget", listed[0], set)

	for _, method := range []string{"PUT", "PATCH"} {
		change := map[string]any{"user_opening_messages": []any{method}, "remove_branding": false, "bubble_color": nil, "style_params": nil}
		b.expect(http.StatusOK, b.keyA, method, "/api/v1/widget/"+id, change)
		got = b.expect(http.StatusOK, b.keyA, "GET", "/api/v1/widget/"+id, nil).data(t)
		checkFields(t, "widget after "+method, got, map[string]any{"user_opening_messages": []any{method}, "remove_branding": false,
			"bubble_color": nil, "style_params": map[string]any{}, "intro_message": "Hello!", "action_buttons": set["action_buttons"]})
	}
}

// A widget without name or assistant_id is created; it takes no
// conversations until it has an assistant (422 on widget_id).
func TestInsightoWidgetWithoutAssistant(t *testing.T) {
	t.Parallel()
	b := setup(t)
	as := str(t, b.assistant(b.keyA, ""), "id")
	w := b.expect(http.StatusCreated, b.keyA, "POST", "/api/v1/widget", map[string]any{"widget_type": "chat"}).data(t)
	checkKeySet(t, "bare widget", w, insightoWidgetKeys)
	checkFields(t, "bare widget", w, map[string]any{"name": nil, "assistant_id": nil, "action_buttons": []any{}, "user_opening_messages": []any{},
		"attributes": map[string]any{}, "style_params": map[string]any{}, "remove_branding": false, "widget_provider": nil})
	id := str(t, w, "id")
	conv := map[string]any{"assistant_id": as, "widget_id": id, "device_type": "desktop"}
	r := b.expect(http.StatusUnprocessableEntity, b.keyA, "POST", "/api/v1/conversation", conv)
	checkLoc(t, r, "value_error", "body", "widget_id")
	b.expect(http.StatusOK, b.keyA, "PATCH", "/api/v1/widget/"+id, map[string]any{"assistant_id": as})
	b.expect(http.StatusCreated, b.keyA, "POST", "/api/v1/conversation", conv)
	// null takes the assistant away again.
	got := b.expect(http.StatusOK, b.keyA, "PUT", "/api/v1/widget/"+id, map[string]any{"assistant_id": nil}).data(t)
	checkFields(t, "widget after assistant_id null", got, map[string]any{"assistant_id": nil})
	b.expect(http.StatusUnprocessableEntity, b.keyA, "POST", "/api/v1/conversation", conv)
}

func TestInsightoIntentFieldForField(t *testing.T) {
	t.Parallel()
	b := setup(t)
	set := map[string]any{"name": "SALES", "description": "wants to buy", "attributes": map[string]any{"score": 3}, "intent_type": "lead", "is_active": false}
	id := str(t, b.expect(http.StatusCreated, b.keyA, "POST", "/api/v1/intent", set).data(t), "id")
	got := b.expect(http.StatusOK, b.keyA, "GET", "/api/v1/intent/"+id, nil).data(t)
	checkKeySet(t, "intent", got, insightoIntentKeys)
	checkFields(t, "intent", got, set)
	listed := b.expect(http.StatusOK, b.keyA, "GET", "/api/v1/intent/list", nil).items(t)
	checkFields(t, "listed intent", listed[0], set)
	bare := b.expect(http.StatusCreated, b.keyA, "POST", "/api/v1/intent", map[string]any{}).data(t)
	checkFields(t, "intent without name", bare, map[string]any{"name": nil, "is_active": true, "attributes": map[string]any{}, "intent_type": nil})
}

func TestInsightoContactFieldForField(t *testing.T) {
	t.Parallel()
	b := setup(t)
	set := map[string]any{"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com", "phone_number": "+441234",
		"channels": []any{"whatsapp", "sms"}, "custom_fields": map[string]any{"plan": "pro"}, "user_attributes": map[string]any{"vip": true}}
	id := str(t, b.expect(http.StatusCreated, b.keyA, "POST", "/api/v1/contact", set).data(t), "id")
	got := b.expect(http.StatusOK, b.keyA, "GET", "/api/v1/contact/"+id, nil).data(t)
	checkKeySet(t, "contact", got, insightoContactKeys)
	checkFields(t, "contact", got, set)
	checkFields(t, "contact before any conversation", got, map[string]any{"first_assistant_id": nil, "last_widget_id": nil, "last_seen": nil, "last_sent": nil})

	change := map[string]any{"custom_fields": map[string]any{"plan": "team"}, "channels": nil}
	b.expect(http.StatusOK, b.keyA, "PUT", "/api/v1/contact/"+id, change)
	got = b.expect(http.StatusOK, b.keyA, "GET", "/api/v1/contact/"+id, nil).data(t)
	checkFields(t, "contact after PUT", got, map[string]any{"custom_fields": map[string]any{"plan": "team"}, "channels": []any{}, "user_attributes": map[string]any{"vip": true}})

	// Derived from its conversations: the first and the last one's assistant and widget, last_seen, last_sent.
	first, second := b.chat(b.keyA, ""), b.chat(b.keyA, "")
	c1 := str(t, b.conversation(b.keyA, first.assistant, first.widget, id), "id")
	b.message(b.keyA, c1, "user", "hi")
	c2 := str(t, b.conversation(b.keyA, second.assistant, second.widget, id), "id")
	m := b.message(b.keyA, c2, "bot", "hello")
	got = b.expect(http.StatusOK, b.keyA, "GET", "/api/v1/contact/"+id, nil).data(t)
	checkFields(t, "contact after two conversations", got, map[string]any{
		"first_assistant_id": first.assistant, "first_widget_id": first.widget,
		"last_assistant_id": second.assistant, "last_widget_id": second.widget,
	})
	if got["last_sent"] == nil || got["last_seen"] == nil {
		t.Fatalf("last_sent %v, last_seen %v: want timestamps", got["last_sent"], got["last_seen"])
	}
	if got["last_seen"] != m["created_at"] {
		t.Errorf("last_seen = %v, want the last message's time %v", got["last_seen"], m["created_at"])
	}
	if got["last_sent"].(string) >= got["last_seen"].(string) {
		t.Errorf("last_sent %v should be the user's message, before the bot's %v", got["last_sent"], got["last_seen"])
	}
	listed := b.expect(http.StatusOK, b.keyA, "GET", "/api/v1/contact", nil).items(t)
	checkFields(t, "listed contact", listed[0], map[string]any{"last_widget_id": second.widget, "last_seen": got["last_seen"]})
}

// A GET /conversation row carries the row fields; intent_id and
// includes_voice filter, with the other filters.
func TestInsightoConversationRowsAndFilters(t *testing.T) {
	t.Parallel()
	b := setup(t)
	as := b.expect(http.StatusCreated, b.keyA, "POST", "/api/v1/assistant", map[string]any{"name": "Sales"}).data(t)
	aid := str(t, as, "id")
	wid := str(t, b.expect(http.StatusCreated, b.keyA, "POST", "/api/v1/widget",
		map[string]any{"assistant_id": aid, "widget_type": "web_call", "widget_provider": "twilio"}).data(t), "id")
	contact := str(t, b.contact(b.keyA), "id")
	first := str(t, b.intent(b.keyA), "id")
	second := str(t, b.expect(http.StatusCreated, b.keyA, "POST", "/api/v1/intent", map[string]any{"name": "SUPPORT"}).data(t), "id")

	voiced := b.expect(http.StatusCreated, b.keyA, "POST", "/api/v1/conversation", map[string]any{
		"assistant_id": aid, "widget_id": wid, "device_type": "phone", "contact_id": contact, "unique_device_id": "dev-1"}).data(t)
	vid := str(t, voiced, "id")
	checkFields(t, "created conversation", voiced, map[string]any{"unique_device_id": "dev-1", "includes_voice": false, "summary": nil})
	b.expect(http.StatusCreated, b.keyA, "POST", "/api/v1/conversation/"+vid+"/message", map[string]any{"sender_type": "user", "text": "hi", "message_type": "voice"})
	b.expect(http.StatusCreated, b.keyA, "POST", "/api/v1/conversation/"+vid+"/captured_intent", map[string]any{"intent_id": first})
	b.expect(http.StatusCreated, b.keyA, "POST", "/api/v1/conversation/"+vid+"/captured_intent", map[string]any{"intent_id": second})
	closed := b.expect(http.StatusOK, b.keyA, "POST", "/api/v1/conversation/"+vid+"/close", map[string]any{"summary": "Wants a demo."}).data(t)
	checkFields(t, "closed conversation", closed, map[string]any{"summary": "Wants a demo.", "includes_voice": true})

	plain := str(t, b.conversation(b.keyA, aid, wid, ""), "id")
	b.message(b.keyA, plain, "user", "typed")
	b.expect(http.StatusCreated, b.keyA, "POST", "/api/v1/conversation/"+plain+"/captured_intent", map[string]any{"intent_id": second})

	rows := b.expect(http.StatusOK, b.keyA, "GET", "/api/v1/conversation", nil).items(t)
	if len(rows) != 2 {
		t.Fatalf("%d rows, want 2", len(rows))
	}
	for _, r := range rows {
		checkKeySet(t, "conversation row", r, insightoRowKeys)
	}
	checkFields(t, "voiced row", rows[1], map[string]any{"id": vid, "assistant_name": "Sales", "contact_first_name": "Ada", "contact_last_name": "Lovelace",
		"includes_voice": true, "intent_name": "SUPPORT", "summary": "Wants a demo.", "widget_provider": "twilio", "widget_type": "web_call", "unique_device_id": "dev-1"})
	checkFields(t, "plain row", rows[0], map[string]any{"id": plain, "contact_first_name": nil, "includes_voice": false, "intent_name": "SUPPORT", "summary": nil})
	byContact := b.expect(http.StatusOK, b.keyA, "GET", "/api/v1/conversation/by-contact/"+contact, nil).items(t)
	if len(byContact) != 1 {
		t.Fatalf("by-contact: %d rows, want 1", len(byContact))
	}
	checkKeySet(t, "by-contact row", byContact[0], insightoRowKeys)

	ids := func(q string) []string {
		var out []string
		for _, r := range b.expect(http.StatusOK, b.keyA, "GET", "/api/v1/conversation?"+q, nil).items(t) {
			out = append(out, str(t, r, "id"))
		}
		return out
	}
	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"intent_id=" + first, []string{vid}},
		{"intent_id=" + second, []string{plain, vid}},
		{"includes_voice=true", []string{vid}},
		{"includes_voice=false", []string{plain}},
		{"includes_voice=true&intent_id=" + second, []string{vid}},
		{"includes_voice=false&intent_id=" + first, nil},
		{"intent_id=" + second + "&assistant_id=" + aid + "&date_from=2000-01-01", []string{plain, vid}},
		{"intent_id=" + second + "&date_to=2000-01-01", nil},
	} {
		if got := ids(tc.query); !slices.Equal(got, tc.want) {
			t.Errorf("GET /conversation?%s = %v, want %v", tc.query, got, tc.want)
		}
	}
	r := b.expect(http.StatusUnprocessableEntity, b.keyA, "POST", "/api/v1/conversation/"+plain+"/close", map[string]any{"summary": 5})
	checkLoc(t, r, "string_type", "body", "summary")
}

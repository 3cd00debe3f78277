package httpapi_test

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/agenthooks/agenthooks"
)

// Insighto's own routes, driven as its clients call them: the key as
// ?api_key= or a Bearer token, PUT for updates, lists paged with page and size.

// withKey adds ?api_key= (or &api_key=) to path, the way Insighto's clients
// authenticate; send it with key "" so that no Bearer token goes along.
func withKey(path, key string) string {
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	return path + sep + "api_key=" + url.QueryEscape(key)
}

func TestInsightoPutIsPatch(t *testing.T) {
	t.Parallel()
	b := setup(t)
	wh := str(t, b.webhook(b.keyA, nil), "id")
	as := b.expect(http.StatusCreated, b.keyA, "POST", "/api/v1/assistant", map[string]any{
		"name": "Sales", "assistant_type": "chat", "webhook_id": wh, "description": "sells", "llm_model": "gpt-4o",
		"system_prompt": "Be kind.", "voice": true, "voice_name": "alloy", "voice_languages": []string{"en-US", "hi-IN"}, "attributes": map[string]any{"tier": "gold"},
	}).data(t)
	id := str(t, as, "id")
	widget := str(t, b.widget(b.keyA, id), "id")
	contact := str(t, b.contact(b.keyA), "id")

	tests := []struct {
		name, path string
		body       map[string]any
		want       map[string]any // fields after the PUT: the given ones changed, the others kept
	}{
		{
			name: "Assistant", path: "/api/v1/assistant/" + id, body: map[string]any{"llm_model": "claude", "voice_languages": []string{"fr-FR"}},
			want: map[string]any{"name": "Sales", "assistant_type": "chat", "webhook_id": wh, "description": "sells", "llm_model": "claude",
				"system_prompt": "Be kind.", "voice": true, "voice_name": "alloy", "voice_languages": []any{"fr-FR"}, "attributes": map[string]any{"tier": "gold"}},
		},
		{
			name: "AssistantNullClears", path: "/api/v1/assistant/" + id, body: map[string]any{"description": nil, "voice_languages": nil, "attributes": nil, "webhook_id": nil},
			want: map[string]any{"name": "Sales", "description": "", "voice_languages": []any{}, "attributes": map[string]any{}, "webhook_id": nil, "llm_model": "claude"},
		},
		{
			name: "AssistantTypePersonalIsSimple", path: "/api/v1/assistant/" + id, body: map[string]any{"assistant_type": "personal"},
			want: map[string]any{"assistant_type": "simple", "name": "Sales"},
		},
		{
			name: "Widget", path: "/api/v1/widget/" + widget, body: map[string]any{"widget_type": "telnyx_call"},
			want: map[string]any{"name": "site", "widget_type": "telnyx_call", "assistant_id": id},
		},
		{
			name: "WidgetMessengerIsFbMessenger", path: "/api/v1/widget/" + widget, body: map[string]any{"name": "FB", "widget_type": "messenger"},
			want: map[string]any{"name": "FB", "widget_type": "fb_messenger"},
		},
		{
			name: "Contact", path: "/api/v1/contact/" + contact, body: map[string]any{"last_name": "King"},
			want: map[string]any{"first_name": "Ada", "last_name": "King", "email": "ada@example.com", "phone_number": "+441234"},
		},
		{
			name: "ContactNullClears", path: "/api/v1/contact/" + contact, body: map[string]any{"phone_number": nil, "first_name": ""},
			want: map[string]any{"first_name": nil, "last_name": "King", "email": "ada@example.com", "phone_number": nil},
		},
		{name: "EmptyBody", path: "/api/v1/contact/" + contact, want: map[string]any{"last_name": "King"}},
	}
	for _, tt := range tests { // in order: each builds on the one before
		t.Run(tt.name, func(t *testing.T) {
			b := b.on(t)
			var body any
			if tt.body != nil {
				body = tt.body
			}
			got := b.expect(http.StatusOK, "", "PUT", withKey(tt.path, b.keyA), body).data(t)
			read := b.expect(http.StatusOK, b.keyA, "GET", tt.path, nil).data(t)
			for k, v := range tt.want {
				if fmt.Sprint(got[k]) != fmt.Sprint(v) || fmt.Sprint(read[k]) != fmt.Sprint(v) {
					t.Errorf("%s = %v after PUT and %v on read, want %v", k, got[k], read[k], v)
				}
			}
		})
	}

	t.Run("Errors", func(t *testing.T) {
		b := b.on(t)
		cases := []struct {
			name, path string
			body       any
			loc        string
		}{
			{"UnknownAssistantType", "/api/v1/assistant/" + id, map[string]any{"assistant_type": "robot"}, "assistant_type"},
			{"VoiceLanguagesNotAList", "/api/v1/assistant/" + id, map[string]any{"voice_languages": "en-US"}, "voice_languages"},
			{"AttributesNotAnObject", "/api/v1/assistant/" + id, map[string]any{"attributes": []any{1}}, "attributes"},
			{"AttributesTooDeep", "/api/v1/assistant/" + id, map[string]any{"attributes": deepObject(20)}, "attributes"},
			{"UnknownWidgetType", "/api/v1/widget/" + widget, map[string]any{"widget_type": "fax"}, "widget_type"},
			{"WidgetOfAnotherAccountsAssistant", "/api/v1/widget/" + widget, map[string]any{"assistant_id": str(t, b.assistant(b.keyB, ""), "id")}, "assistant_id"},
			{"ContactBadEmail", "/api/v1/contact/" + contact, map[string]any{"email": "nope"}, "email"},
		}
		for _, c := range cases {
			for _, method := range []string{"PUT", "PATCH"} {
				r := b.expect(http.StatusUnprocessableEntity, b.keyA, method, c.path, c.body)
				checkLoc(t, r, "", "body", c.loc)
			}
		}
	})
}

// deepObject is {"a": {"a": ... {}}} nested n levels.
func deepObject(n int) map[string]any {
	m := map[string]any{}
	for range n - 1 {
		m = map[string]any{"a": m}
	}
	return m
}

func TestInsightoWidgetTypes(t *testing.T) {
	t.Parallel()
	b := setup(t)
	assistant := str(t, b.assistant(b.keyA, ""), "id")
	want := []string{"chat", "fb_messenger", "html", "html_call", "instagram", "leadconnector", "leadconnector_call", "phone",
		"plivo_call", "render_form", "sip", "sms", "telegram", "telnyx_call", "web_call", "whatsapp"}
	if got := agenthooks.WidgetTypeNames(); !slices.Equal(got, want) {
		t.Fatalf("WidgetTypeNames = %v, want Insighto's %v", got, want)
	}
	for _, wt := range agenthooks.WidgetTypes {
		if wt.Label == "" || strings.Contains(wt.Label, "(voice)") != wt.Voice {
			t.Errorf("widget type %s: label %q does not say whether it is a voice channel (Voice %v)", wt.Name, wt.Label, wt.Voice)
		}
	}
	cases := append(slices.Clone(want), "messenger")
	for _, typ := range cases {
		t.Run(typ, func(t *testing.T) {
			t.Parallel()
			b := b.on(t)
			w := b.expect(http.StatusCreated, "", "POST", withKey("/api/v1/widget", b.keyA),
				map[string]any{"assistant_id": assistant, "name": typ, "widget_type": typ}).data(t)
			wantType := typ
			if typ == "messenger" {
				wantType = "fb_messenger"
			}
			if w["widget_type"] != wantType {
				t.Errorf("created widget_type = %v, want %s", w["widget_type"], wantType)
			}
			read := b.expect(http.StatusOK, b.keyA, "GET", "/api/v1/widget/"+str(t, w, "id"), nil).data(t)
			if read["widget_type"] != wantType {
				t.Errorf("read widget_type = %v, want %s", read["widget_type"], wantType)
			}
		})
	}
	for _, bad := range []any{"fax", "Chat", "", "fb-messenger", 5, nil} {
		t.Run(fmt.Sprintf("Refused %v", bad), func(t *testing.T) {
			t.Parallel()
			b := b.on(t)
			r := b.expect(http.StatusUnprocessableEntity, b.keyA, "POST", "/api/v1/widget",
				map[string]any{"assistant_id": assistant, "name": "x", "widget_type": bad})
			checkLoc(t, r, "", "body", "widget_type")
		})
	}
}

func TestInsightoAssistantTypes(t *testing.T) {
	t.Parallel()
	b := setup(t)
	cases := []struct {
		give any // nil: not sent
		want string
	}{
		{nil, "simple"}, {"chat", "chat"}, {"nl2sql", "nl2sql"}, {"phone", "phone"}, {"realtime_openai", "realtime_openai"},
		{"simple", "simple"}, {"personal", "simple"},
	}
	for _, c := range cases {
		body := map[string]any{"name": "a"}
		if c.give != nil {
			body["assistant_type"] = c.give
		}
		a := b.expect(http.StatusCreated, b.keyA, "POST", "/api/v1/assistant", body).data(t)
		if a["assistant_type"] != c.want {
			t.Errorf("assistant_type %v: created as %v, want %s", c.give, a["assistant_type"], c.want)
		}
		hasKeys(t, a, assistantKeys...)
	}
	for _, bad := range []any{"robot", "Chat", 3} {
		r := b.expect(http.StatusUnprocessableEntity, b.keyA, "POST", "/api/v1/assistant", map[string]any{"name": "a", "assistant_type": bad})
		checkLoc(t, r, "", "body", "assistant_type")
	}
}

func TestInsightoContactUpsert(t *testing.T) {
	t.Parallel()
	b := setup(t)
	upsert := func(t *testing.T, key, params string, want int) *response {
		t.Helper()
		return b.on(t).expect(want, "", "POST", withKey("/api/v1/contact/upsert?"+params, key), nil)
	}
	created := upsert(t, b.keyA, "first_name=Ada&last_name=Lovelace&email=Ada%40Example.com&phone_number=%2B44+20+7946+0000", http.StatusCreated).data(t)
	id := str(t, created, "id")

	tests := []struct {
		name   string
		params string
		want   map[string]any // fields after the call
	}{
		{"EmailCaseAndSpaces", "email=+ADA%40example.COM+&first_name=Augusta",
			map[string]any{"first_name": "Augusta", "last_name": "Lovelace", "email": "ADA@example.COM"}},
		{"PhoneFormatting", "phone_number=%2B44-20-7946.0000&last_name=King",
			map[string]any{"first_name": "Augusta", "last_name": "King", "phone_number": "+44-20-7946.0000"}},
		{"PhoneParentheses", "phone_number=%2B44+%2820%29+7946+0000", map[string]any{"last_name": "King"}},
		{"EmptyParamsChangeNothing", "first_name=&last_name=&email=ada%40example.com&phone_number=",
			map[string]any{"first_name": "Augusta", "last_name": "King", "phone_number": "+44 (20) 7946 0000"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := upsert(t, b.keyA, tt.params, http.StatusOK).data(t)
			if got["id"] != id {
				t.Fatalf("upsert matched %v, want the contact %s", got["id"], id)
			}
			read := b.on(t).expect(http.StatusOK, b.keyA, "GET", "/api/v1/contact/"+id, nil).data(t)
			for k, v := range tt.want {
				if got[k] != v || read[k] != v {
					t.Errorf("%s = %v answered, %v read; want %v", k, got[k], read[k], v)
				}
			}
		})
	}

	t.Run("NoMatchCreates", func(t *testing.T) {
		other := upsert(t, b.keyA, "phone_number=%2B1+555+0100", http.StatusCreated).data(t)
		if other["id"] == id || other["email"] != nil || other["phone_number"] != "+1 555 0100" {
			t.Errorf("created %v", other)
		}
		again := upsert(t, b.keyA, "phone_number=%2B15550100&email=new%40example.com", http.StatusOK).data(t)
		if again["id"] != other["id"] || again["email"] != "new@example.com" {
			t.Errorf("second upsert by phone = %v, want the contact %v with the email added", again, other["id"])
		}
	})
	t.Run("AnotherAccountsContactIsNotMatched", func(t *testing.T) {
		theirs := upsert(t, b.keyB, "email=ada%40example.com", http.StatusCreated).data(t)
		if theirs["id"] == id {
			t.Fatal("account B's upsert matched account A's contact")
		}
		b := b.on(t)
		b.expect(http.StatusNotFound, b.keyA, "GET", "/api/v1/contact/"+str(t, theirs, "id"), nil)
	})
	t.Run("Errors", func(t *testing.T) {
		cases := []struct {
			name, params, loc string
		}{
			{"NeitherEmailNorPhone", "first_name=Ada&last_name=L", "email"},
			{"Nothing", "", "email"},
			{"OnlyBlanks", "email=+&phone_number=", "email"},
			{"NotAnEmail", "email=ada.example.com", "email"},
			{"TooLong", "email=a%40b&first_name=" + strings.Repeat("x", 300), "first_name"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				r := upsert(t, b.keyA, c.params, http.StatusUnprocessableEntity)
				checkLoc(t, r, "", "query", c.loc)
			})
		}
	})
	t.Run("IdempotencyKeyCoversTheQuery", func(t *testing.T) {
		b := b.on(t)
		h := map[string]string{"Idempotency-Key": "upsert-key"}
		first := b.requestWith(b.keyA, "POST", "/api/v1/contact/upsert?email=idem%40example.com", nil, h)
		if first.Status != http.StatusCreated {
			t.Fatalf("first upsert: %d %s", first.Status, first.Raw)
		}
		replay := b.requestWith("", "POST", withKey("/api/v1/contact/upsert?email=idem%40example.com", b.keyA), nil, h)
		if replay.Status != http.StatusCreated || replay.Header.Get("Idempotent-Replayed") != "true" {
			t.Errorf("replay with the key in the query: %d %s", replay.Status, replay.Raw)
		}
		other := b.requestWith(b.keyA, "POST", "/api/v1/contact/upsert?email=other%40example.com", nil, h)
		if other.Status != http.StatusUnprocessableEntity {
			t.Errorf("the same key with other parameters: %d %s, want 422", other.Status, other.Raw)
		}
	})
}

func TestInsightoTranscriptAndByContact(t *testing.T) {
	t.Parallel()
	b := setup(t)
	wh := str(t, b.webhook(b.keyA, nil), "id")
	c := b.chat(b.keyA, wh)
	contact := str(t, b.contact(b.keyA), "id")
	var convs []string
	for range 3 {
		convs = append(convs, str(t, b.conversation(b.keyA, c.assistant, c.widget, contact), "id"))
	}
	b.conversation(b.keyA, c.assistant, c.widget, "") // no contact
	theirs := b.world(b.keyB)
	var texts []string
	for i := range 5 {
		texts = append(texts, fmt.Sprintf("message %d: Grüße 🚀", i))
		b.message(b.keyA, convs[0], []string{"user", "bot"}[i%2], texts[i])
	}

	t.Run("TranscriptOldestFirstPaged", func(t *testing.T) {
		b := b.on(t)
		seedTime := regexp.MustCompile(`^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$`)
		var got []string
		for page := 1; page <= 3; page++ {
			r := b.expect(http.StatusOK, "", "GET", withKey(fmt.Sprintf("/api/v1/conversation/%s/transcript?page=%d&size=2", convs[0], page), b.keyA), nil)
			if r.num(t, "total") != 5 || r.num(t, "pages") != 3 || r.num(t, "page") != page || r.num(t, "size") != 2 {
				t.Errorf("page %d: %s", page, r.Raw)
			}
			for _, m := range r.items(t) {
				hasKeys(t, m, "id", "conversation_id", "sender_type", "message_type", "text", "voice_base64", "data_sources", "created_at", "updated_at", "char_count")
				if m["voice_base64"] != nil || m["data_sources"] != nil || !seedTime.MatchString(str(t, m, "created_at")) {
					t.Errorf("message is not as in a delivery's transcript: %v", m)
				}
				got = append(got, str(t, m, "text"))
			}
		}
		if !slices.Equal(got, texts) {
			t.Errorf("transcript = %q, want %q (oldest first)", got, texts)
		}
		empty := b.expect(http.StatusOK, b.keyA, "GET", "/api/v1/conversation/"+convs[1]+"/transcript", nil)
		if len(empty.items(t)) != 0 || empty.num(t, "total") != 0 {
			t.Errorf("a conversation without messages: %s", empty.Raw)
		}
		r := b.expect(http.StatusUnprocessableEntity, b.keyA, "GET", "/api/v1/conversation/"+convs[0]+"/transcript?size=101", nil)
		checkLoc(t, r, "", "query", "size")
		b.expect(http.StatusNotFound, b.keyA, "GET", "/api/v1/conversation/"+theirs.conversation+"/transcript", nil)
	})

	t.Run("ByContactNewestFirstPaged", func(t *testing.T) {
		b := b.on(t)
		var got []string
		for page := 1; page <= 2; page++ {
			r := b.expect(http.StatusOK, b.keyA, "GET", fmt.Sprintf("/api/v1/conversation/by-contact/%s?page=%d&size=2", contact, page), nil)
			if r.num(t, "total") != 3 || r.num(t, "pages") != 2 {
				t.Errorf("page %d: %s", page, r.Raw)
			}
			for _, cv := range r.items(t) {
				if cv["contact_id"] != contact {
					t.Errorf("listed a conversation of contact %v", cv["contact_id"])
				}
				got = append(got, str(t, cv, "id"))
			}
		}
		want := slices.Clone(convs)
		slices.Reverse(want)
		if !slices.Equal(got, want) {
			t.Errorf("by-contact = %v, want %v (newest first)", got, want)
		}
		b.expect(http.StatusNotFound, b.keyA, "GET", "/api/v1/conversation/by-contact/"+theirs.contact, nil)
		b.expect(http.StatusNotFound, "", "GET", withKey("/api/v1/conversation/by-contact/"+convs[0], b.keyA), nil)
		r := b.expect(http.StatusUnprocessableEntity, b.keyA, "GET", "/api/v1/conversation/by-contact/"+contact+"?page=0", nil)
		checkLoc(t, r, "", "query", "page")
	})

	t.Run("EventsCarryTheContact", func(t *testing.T) {
		b := b.on(t)
		ev := b.lastEvent(b.keyA, agenthooks.EventConversationUpdated)
		if d := eventData(t, ev); d["contact_id"] != contact || d["conversation_id"] != convs[0] {
			t.Errorf("conversation.updated data: contact_id %v, conversation_id %v; want %s, %s", d["contact_id"], d["conversation_id"], contact, convs[0])
		}
	})
}

func TestInsightoAssistantIntents(t *testing.T) {
	t.Parallel()
	b := setup(t)
	assistant := str(t, b.assistant(b.keyA, ""), "id")
	i1, i2 := str(t, b.intent(b.keyA), "id"), str(t, b.intent(b.keyA), "id")
	theirs := b.world(b.keyB)
	intentIDs := func(t *testing.T, a map[string]any) []string {
		t.Helper()
		list, ok := a["intent_ids"].([]any)
		if !ok {
			t.Fatalf("intent_ids is not a list: %v", a)
		}
		out := make([]string, len(list))
		for i, v := range list {
			out[i] = v.(string)
		}
		return out
	}
	link := func(method, intent string, want int) *response {
		return b.expect(want, "", method, withKey("/api/v1/assistant/"+assistant+"/intent/"+intent, b.keyA), nil)
	}

	// POST answers Insighto's assistant-intent record; the assistant reads the link back.
	used := func() []string {
		return intentIDs(t, b.expect(http.StatusOK, b.keyA, "GET", "/api/v1/assistant/"+assistant, nil).data(t))
	}
	rec := link("POST", i2, http.StatusOK).data(t)
	if rec["assistant_id"] != assistant || rec["intent_id"] != i2 || rec["is_active"] != true || rec["id"] == "" {
		t.Errorf("assistant-intent record: %v", rec)
	}
	if attrs, ok := rec["attributes"].(map[string]any); !ok || len(attrs) != 0 {
		t.Errorf("record attributes = %v, want {}", rec["attributes"])
	}
	if got := used(); !slices.Equal(got, []string{i2}) {
		t.Errorf("after adding i2: %v", got)
	}
	first := link("POST", i1, http.StatusOK).data(t)
	if again := link("POST", i1, http.StatusOK).data(t); again["id"] != first["id"] || first["id"] == rec["id"] {
		t.Errorf("record ids: i1 %v then %v, i2 %v; want one stable id per pair", first["id"], again["id"], rec["id"])
	}
	if got := used(); !slices.Equal(got, []string{i1, i2}) {
		t.Errorf("after adding i1 twice: %v, want [i1 i2] (creation order, once)", got)
	}
	read := b.expect(http.StatusOK, b.keyA, "GET", "/api/v1/assistant/"+assistant, nil).data(t)
	if got := intentIDs(t, read); !slices.Equal(got, []string{i1, i2}) {
		t.Errorf("read back: %v", got)
	}
	for _, a := range b.expect(http.StatusOK, b.keyA, "GET", "/api/v1/assistant?page=1&size=10", nil).items(t) {
		if a["id"] == assistant && !slices.Equal(intentIDs(t, a), []string{i1, i2}) {
			t.Errorf("listed: %v", a["intent_ids"])
		}
	}

	// Another account's intent, or one that does not exist, is 404 (as its assistant is, in TestNotFound).
	for _, method := range []string{"POST", "DELETE"} {
		for _, bad := range []string{theirs.intent, "not-an-id", assistant} {
			link(method, bad, http.StatusNotFound)
		}
	}

	if got := intentIDs(t, link("DELETE", i2, http.StatusOK).data(t)); !slices.Equal(got, []string{i1}) {
		t.Errorf("after removing i2: %v", got)
	}
	link("DELETE", i2, http.StatusNotFound) // not used any more
	b.expect(http.StatusOK, b.keyA, "DELETE", "/api/v1/intent/"+i1, nil)
	b.expect(http.StatusNotFound, b.keyA, "GET", "/api/v1/intent/"+i1, nil)
	if got := intentIDs(t, b.expect(http.StatusOK, b.keyA, "GET", "/api/v1/assistant/"+assistant, nil).data(t)); len(got) != 0 {
		t.Errorf("a deleted intent is still used: %v", got)
	}
}

func TestInsightoIntentList(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for range 3 {
		b.intent(b.keyA)
	}
	b.intent(b.keyB)
	for _, size := range []int{1, 2, 50} {
		for page := 1; page <= 3; page++ {
			q := fmt.Sprintf("?page=%d&size=%d", page, size)
			insighto := b.expect(http.StatusOK, "", "GET", withKey("/api/v1/intent/list"+q, b.keyA), nil)
			ours := b.expect(http.StatusOK, b.keyA, "GET", "/api/v1/intent"+q, nil)
			if string(insighto.Raw) != string(ours.Raw) {
				t.Errorf("%s: GET /intent/list answered %s, GET /intent %s", q, insighto.Raw, ours.Raw)
			}
			if insighto.num(t, "total") != 3 {
				t.Errorf("%s: total %d, want the account's 3", q, insighto.num(t, "total"))
			}
		}
	}
}

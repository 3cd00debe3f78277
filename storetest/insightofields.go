package storetest

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/agenthooks/agenthooks"
)

// ---------------------------------------------------------------------------
// The insighto_fields migration (NNN_insighto_fields.sql of each engine) on
// rows written before it. Engine tests apply the migrations before it (found
// by name), run InsightoFieldsMigrationSeed, open the store (which applies
// the rest) and call CheckInsightoFieldsMigration.

// Ids of the rows InsightoFieldsMigrationSeed writes.
const (
	OldFieldsAccount   = "01960000-0000-7000-8000-0000000000a1"
	OldFieldsAssistant = "01960000-0000-7000-8000-0000000000a2" // stored with the voice name "alloy"
	OldFieldsMute      = "01960000-0000-7000-8000-0000000000a3" // stored with no voice
	OldFieldsWidget    = "01960000-0000-7000-8000-0000000000a4"
	OldFieldsIntent    = "01960000-0000-7000-8000-0000000000a5"
	OldFieldsContact   = "01960000-0000-7000-8000-0000000000a6"
	OldFieldsVoiceConv = "01960000-0000-7000-8000-0000000000a7" // has a voice message and captured the intent
	OldFieldsTextConv  = "01960000-0000-7000-8000-0000000000a8" // has only a text message
)

// InsightoFieldsMigrationSeed are statements, valid on both engines against
// the schema just before the insighto_fields migration, that write what the
// API stored then: an assistant whose voice was a name and one without, a
// widget, an intent, a contact, a conversation with a voice message that
// captured the intent, and one with a text message only.
var InsightoFieldsMigrationSeed = []string{
	"INSERT INTO accounts (id, name, created_at) VALUES ('" + OldFieldsAccount + "', 'old fields', 1)",
	"INSERT INTO assistants (id, account_id, name, assistant_type, webhook_id, created_at, updated_at, description, llm_model, system_prompt, voice, voice_languages, attributes) VALUES ('" +
		OldFieldsAssistant + "', '" + OldFieldsAccount + "', 'talker', 'chat', '', 1, 1, 'd', 'gpt-4o', 'p', 'alloy', '[\"en-US\"]', '{\"k\": 1}')",
	"INSERT INTO assistants (id, account_id, name, assistant_type, webhook_id, created_at, updated_at) VALUES ('" +
		OldFieldsMute + "', '" + OldFieldsAccount + "', 'mute', 'simple', '', 1, 1)",
	"INSERT INTO widgets (id, account_id, assistant_id, name, widget_type, created_at) VALUES ('" +
		OldFieldsWidget + "', '" + OldFieldsAccount + "', '" + OldFieldsAssistant + "', 'site', 'chat', 1)",
	"INSERT INTO intents (id, account_id, name, description, created_at) VALUES ('" + OldFieldsIntent + "', '" + OldFieldsAccount + "', 'SALES', '', 1)",
	"INSERT INTO contacts (id, account_id, first_name, last_name, email, phone_number, created_at) VALUES ('" +
		OldFieldsContact + "', '" + OldFieldsAccount + "', 'Ada', 'L', 'ada@example.com', '', 1)",
	"INSERT INTO conversations (id, account_id, assistant_id, widget_id, contact_id, device_type, attributes, chat_count, first_message, last_activity_at, created_at, updated_at) VALUES ('" +
		OldFieldsVoiceConv + "', '" + OldFieldsAccount + "', '" + OldFieldsAssistant + "', '" + OldFieldsWidget + "', '" + OldFieldsContact + "', 'phone', '{\"a\": 1}', 1, 'hello', 3000000, 2000000, 3000000)",
	"INSERT INTO conversations (id, account_id, assistant_id, widget_id, contact_id, device_type, attributes, chat_count, first_message, last_activity_at, created_at, updated_at) VALUES ('" +
		OldFieldsTextConv + "', '" + OldFieldsAccount + "', '" + OldFieldsAssistant + "', '" + OldFieldsWidget + "', '', 'desktop', '{}', 1, 'hi', 1000000, 1000000, 1000000)",
	"INSERT INTO messages (id, account_id, conversation_id, sender_type, message_type, text, created_at) VALUES ('01960000-0000-7000-8000-0000000000b1', '" +
		OldFieldsAccount + "', '" + OldFieldsVoiceConv + "', 'user', 'voice', 'hello', 3000000)",
	"INSERT INTO messages (id, account_id, conversation_id, sender_type, message_type, text, created_at) VALUES ('01960000-0000-7000-8000-0000000000b2', '" +
		OldFieldsAccount + "', '" + OldFieldsTextConv + "', 'user', 'text', 'hi', 1000000)",
	"INSERT INTO captured_intents (id, account_id, conversation_id, intent_id, created_at) VALUES ('01960000-0000-7000-8000-0000000000b3', '" +
		OldFieldsAccount + "', '" + OldFieldsVoiceConv + "', '" + OldFieldsIntent + "', 3000000)",
}

// CheckInsightoFieldsMigration checks what the insighto_fields migration made
// of InsightoFieldsMigrationSeed's rows: a voice name became voice true (the
// name kept as VoiceName), every profile reads as nothing set, and the
// conversation with a voice message includes voice, which the filters see.
func CheckInsightoFieldsMigration(t *testing.T, store agenthooks.Store) {
	t.Helper()
	err := store.Read(t.Context(), func(tx agenthooks.Tx) error {
		a, err := tx.FindAssistant(OldFieldsAccount, OldFieldsAssistant)
		mustNil(t, err)
		checkEqual(t, "assistant stored with a voice name", []any{a.Voice, a.VoiceName, a.Profile}, []any{true, "alloy", agenthooks.AssistantProfile{}})
		checkEqual(t, "its other fields", []any{a.Description, a.LLMModel, a.VoiceLanguages, string(a.Attributes)}, []any{"d", "gpt-4o", []string{"en-US"}, `{"k": 1}`})
		m, err := tx.FindAssistant(OldFieldsAccount, OldFieldsMute)
		mustNil(t, err)
		checkEqual(t, "assistant stored with no voice", []any{m.Voice, m.VoiceName}, []any{false, ""})

		w, err := tx.FindWidget(OldFieldsAccount, OldFieldsWidget)
		mustNil(t, err)
		checkEqual(t, "widget's profile", profileJSON(t, w.Profile), profileJSON(t, agenthooks.WidgetProfile{}))
		i, err := tx.FindIntent(OldFieldsAccount, OldFieldsIntent)
		mustNil(t, err)
		checkEqual(t, "intent's profile and active", []any{profileJSON(t, i.Profile), i.Active()}, []any{profileJSON(t, agenthooks.IntentProfile{}), true})
		c, err := tx.FindContact(OldFieldsAccount, OldFieldsContact)
		mustNil(t, err)
		checkEqual(t, "contact's profile", profileJSON(t, c.Profile), profileJSON(t, agenthooks.ContactProfile{}))
		act, err := tx.ContactActivity(OldFieldsAccount, []string{OldFieldsContact})
		mustNil(t, err)
		checkEqual(t, "contact's activity", act[OldFieldsContact], agenthooks.ContactActivity{
			FirstAssistantID: OldFieldsAssistant, FirstWidgetID: OldFieldsWidget, LastAssistantID: OldFieldsAssistant, LastWidgetID: OldFieldsWidget,
			LastSeen: time.UnixMicro(3000000).UTC(), LastSent: time.UnixMicro(3000000).UTC(),
		})

		voice, err := tx.FindConversation(OldFieldsAccount, OldFieldsVoiceConv)
		mustNil(t, err)
		checkEqual(t, "conversation with a voice message", []any{voice.IncludesVoice, voice.UniqueDeviceID, voice.Summary}, []any{true, "", ""})
		text, err := tx.FindConversation(OldFieldsAccount, OldFieldsTextConv)
		mustNil(t, err)
		checkEqual(t, "conversation with text only", text.IncludesVoice, false)

		yes, no := true, false
		for _, f := range []struct {
			name   string
			filter agenthooks.ConversationFilter
			want   []string
		}{
			{"includes_voice true", agenthooks.ConversationFilter{Voice: &yes}, []string{OldFieldsVoiceConv}},
			{"includes_voice false", agenthooks.ConversationFilter{Voice: &no}, []string{OldFieldsTextConv}},
			{"intent_id", agenthooks.ConversationFilter{IntentID: OldFieldsIntent}, []string{OldFieldsVoiceConv}},
		} {
			got, total, err := tx.ListConversations(OldFieldsAccount, f.filter, agenthooks.Page{Page: 1, Size: 25})
			mustNil(t, err)
			checkEqual(t, "conversations with "+f.name, []any{idsOf(got, conversationID), total}, []any{f.want, len(f.want)})
		}
		rows, err := tx.ConversationRows(OldFieldsAccount, []*agenthooks.Conversation{voice})
		mustNil(t, err)
		checkEqual(t, "the voice conversation's row", rows[OldFieldsVoiceConv], agenthooks.ConversationRow{
			AssistantName: "talker", ContactFirstName: "Ada", ContactLastName: "L", IntentName: "SALES", WidgetType: "chat",
		})
		return nil
	})
	mustNil(t, err)
}

// profileJSON is a profile as the API writes it, to compare profiles whose
// nil and empty lists read the same.
func profileJSON(t testing.TB, p any) string {
	t.Helper()
	b, err := json.Marshal(p)
	mustNil(t, err)
	return string(b)
}

// ---------------------------------------------------------------------------
// Insighto's fields (CONTRACT section 3, "Field for field as Insighto"): each
// resource's profile, the conversation's unique_device_id, includes_voice
// and summary, and the list filters on them, kept by both engines.

func exerciseInsightoFields(t *testing.T, setup setupFunc) {
	s := func(v string) *string { return &v }
	yes, no := true, false
	t.Run("Profiles", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		a := b.newAssistant(b.acct, "")
		a.Profile = agenthooks.AssistantProfile{ConversationFlowID: s("flow " + unicode), CustomVoice: s("v"), HasHumanAgent: &yes, HideDS: &no, ShowImages: &yes, UseTools: &yes}
		w := &agenthooks.Widget{ID: NewID(), AccountID: b.acct.ID, Name: "", WidgetType: "chat", CreatedAt: b.clock.Now(), Profile: agenthooks.WidgetProfile{
			ActionButtons: agenthooks.JSONList(`[{"label":` + profileJSON(t, "Buy "+unicode) + `,"url":"https://example.com/?a=1&b=\"2\""}]`), ActionButtonsColor: s("#fff"),
			Attributes: agenthooks.JSONObject(`{"n":[1,2.5],"deep":{"x":null}}`), BubbleText: s(unicode), RemoveBranding: &yes,
			StyleParams: agenthooks.JSONObject(`{}`), UserOpeningMessages: []string{"Hi " + unicode, `"quoted"`}, WidgetProvider: s("insighto"),
		}}
		i := b.newIntent(b.acct)
		i.Profile = agenthooks.IntentProfile{Attributes: agenthooks.JSONObject(`{"k":"v"}`), IntentType: s("lead"), IsActive: &no}
		c := b.newContact(b.acct)
		c.Profile = agenthooks.ContactProfile{Channels: agenthooks.JSONList(`["sms","web"]`), CustomFields: agenthooks.JSONObject(`{"plan":"gold"}`), UserAttributes: agenthooks.JSONObject(`{"age":42}`)}
		b.write(t, func(tx agenthooks.Tx) error {
			mustNil(t, tx.CreateAssistant(a))
			mustNil(t, tx.CreateWidget(w))
			mustNil(t, tx.CreateIntent(i))
			return tx.CreateContact(c)
		})
		check := func(when string) {
			t.Helper()
			b.read(t, func(tx agenthooks.Tx) error {
				ga, err := tx.FindAssistant(b.acct.ID, a.ID)
				mustNil(t, err)
				checkEqual(t, "assistant profile "+when, profileJSON(t, ga.Profile), profileJSON(t, a.Profile))
				gw, err := tx.FindWidget(b.acct.ID, w.ID)
				mustNil(t, err)
				checkEqual(t, "widget profile "+when, profileJSON(t, gw.Profile), profileJSON(t, w.Profile))
				checkEqual(t, "widget without assistant or name "+when, []string{gw.AssistantID, gw.Name}, []string{"", ""})
				gi, err := tx.FindIntent(b.acct.ID, i.ID)
				mustNil(t, err)
				checkEqual(t, "intent profile "+when, []any{profileJSON(t, gi.Profile), gi.Active()}, []any{profileJSON(t, i.Profile), i.Active()})
				gc, err := tx.FindContact(b.acct.ID, c.ID)
				mustNil(t, err)
				checkEqual(t, "contact profile "+when, profileJSON(t, gc.Profile), profileJSON(t, c.Profile))
				ws, _, err := tx.ListWidgets(b.acct.ID, agenthooks.Page{Page: 1, Size: 25})
				mustNil(t, err)
				checkEqual(t, "widget profile in the list "+when, profileJSON(t, ws[0].Profile), profileJSON(t, w.Profile))
				return nil
			})
		}
		check("as created")
		a.Profile.UseTools, a.Profile.CustomVoice = nil, s("other")
		w.Profile.UserOpeningMessages, w.Profile.ActionButtons, w.Profile.BubbleColor = nil, agenthooks.JSONList(`[]`), s("#000")
		c.Profile.Channels, c.Profile.CustomFields = nil, agenthooks.JSONObject(`{"plan":"free","seats":3}`)
		b.write(t, func(tx agenthooks.Tx) error {
			mustNil(t, tx.UpdateAssistant(a))
			mustNil(t, tx.UpdateWidget(w))
			return tx.UpdateContact(c)
		})
		check("as updated")
	})
	t.Run("ConversationFields", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		as := b.assistant(t, b.acct, "")
		intent := b.intent(t, b.acct)
		voice := b.newConversation(b.acct, as.ID, b.clock.Now())
		voice.UniqueDeviceID, voice.IncludesVoice = "device "+unicode, true
		text := b.newConversation(b.acct, as.ID, b.clock.Now().Add(time.Second))
		b.write(t, func(tx agenthooks.Tx) error {
			mustNil(t, tx.CreateConversation(voice))
			mustNil(t, tx.CreateConversation(text))
			return tx.CreateCapturedIntent(&agenthooks.CapturedIntent{ID: NewID(), AccountID: b.acct.ID, ConversationID: voice.ID, IntentID: intent.ID, CreatedAt: b.clock.Now()})
		})
		text.Summary = "Wants a demo " + unicode
		b.write(t, func(tx agenthooks.Tx) error { return tx.UpdateConversation(text) })
		b.read(t, func(tx agenthooks.Tx) error {
			gv, err := tx.FindConversation(b.acct.ID, voice.ID)
			mustNil(t, err)
			checkEqual(t, "voice conversation", []any{gv.UniqueDeviceID, gv.IncludesVoice, gv.Summary}, []any{voice.UniqueDeviceID, true, ""})
			gt, err := tx.FindConversation(b.acct.ID, text.ID)
			mustNil(t, err)
			checkEqual(t, "text conversation", []any{gt.UniqueDeviceID, gt.IncludesVoice, gt.Summary}, []any{"", false, text.Summary})
			for _, f := range []struct {
				name   string
				filter agenthooks.ConversationFilter
				want   []string
			}{
				{"voice", agenthooks.ConversationFilter{Voice: &yes}, []string{voice.ID}},
				{"no voice", agenthooks.ConversationFilter{Voice: &no}, []string{text.ID}},
				{"the intent", agenthooks.ConversationFilter{IntentID: intent.ID}, []string{voice.ID}},
				{"the intent and no voice", agenthooks.ConversationFilter{IntentID: intent.ID, Voice: &no}, nil},
				{"an unknown intent", agenthooks.ConversationFilter{IntentID: NewID()}, nil},
			} {
				got, total, err := tx.ListConversations(b.acct.ID, f.filter, agenthooks.Page{Page: 1, Size: 25})
				mustNil(t, err)
				checkEqual(t, "conversations of "+f.name, []any{sortedIDs(idsOf(got, conversationID)), total}, []any{sortedIDs(f.want), len(f.want)})
			}
			// Another account sees none of them through the intent filter.
			got, _, err := tx.ListConversations(b.other.ID, agenthooks.ConversationFilter{IntentID: intent.ID}, agenthooks.Page{Page: 1, Size: 25})
			mustNil(t, err)
			checkEqual(t, "another account's conversations of the intent", len(got), 0)
			return nil
		})
	})
}

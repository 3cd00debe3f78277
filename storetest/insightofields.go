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

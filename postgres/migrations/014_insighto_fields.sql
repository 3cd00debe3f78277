-- Insighto field for field (CONTRACT section 3, "Insighto's own routes").
-- Each resource's descriptive fields (colours, opening messages, action
-- buttons, custom fields, ...) are one JSON object of Insighto's names, kept
-- and returned (agenthooks.AssistantProfile, WidgetProfile, IntentProfile,
-- ContactProfile); '{}' reads as nothing set.
ALTER TABLE assistants ADD COLUMN profile TEXT NOT NULL DEFAULT '{}';
ALTER TABLE widgets ADD COLUMN profile TEXT NOT NULL DEFAULT '{}';
ALTER TABLE intents ADD COLUMN profile TEXT NOT NULL DEFAULT '{}';
ALTER TABLE contacts ADD COLUMN profile TEXT NOT NULL DEFAULT '{}';
-- An assistant's voice is Insighto's boolean now; the column voice keeps the
-- voice's name (read as voice_name), and an assistant stored with one speaks.
ALTER TABLE assistants ADD COLUMN voice_enabled BIGINT NOT NULL DEFAULT 0;
UPDATE assistants SET voice_enabled = 1 WHERE voice <> '';
-- A conversation's unique_device_id (as the client gives it), whether it
-- had a voice message (GET /conversation?includes_voice=), and the summary
-- reported when it was closed.
ALTER TABLE conversations ADD COLUMN unique_device_id TEXT NOT NULL DEFAULT '';
ALTER TABLE conversations ADD COLUMN includes_voice BIGINT NOT NULL DEFAULT 0;
ALTER TABLE conversations ADD COLUMN summary TEXT NOT NULL DEFAULT '';
UPDATE conversations SET includes_voice = 1
    WHERE EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = conversations.id AND m.message_type = 'voice');
-- GET /conversation?intent_id=: the conversations that captured an intent.
CREATE INDEX captured_intents_intent ON captured_intents(account_id, intent_id, conversation_id);

-- Insighto's own routes: assistants' descriptive fields, Insighto's widget and
-- assistant type names, contact match keys for POST /contact/upsert, the
-- intents an assistant uses, conversations by contact.
ALTER TABLE assistants ADD COLUMN description TEXT NOT NULL DEFAULT '';
ALTER TABLE assistants ADD COLUMN llm_model TEXT NOT NULL DEFAULT '';
ALTER TABLE assistants ADD COLUMN system_prompt TEXT NOT NULL DEFAULT '';
ALTER TABLE assistants ADD COLUMN voice TEXT NOT NULL DEFAULT '';
ALTER TABLE assistants ADD COLUMN voice_languages TEXT NOT NULL DEFAULT '[]';
ALTER TABLE assistants ADD COLUMN attributes TEXT NOT NULL DEFAULT '{}';
-- Old names, read under Insighto's from now on (agenthooks.CanonicalWidgetType
-- and CanonicalAssistantType map them on input too).
UPDATE assistants SET assistant_type = 'simple' WHERE assistant_type = 'personal';
UPDATE widgets SET widget_type = 'fb_messenger' WHERE widget_type = 'messenger';
-- Match keys (agenthooks.ContactEmailKey and ContactPhoneKey): the store
-- writes them with every contact; existing rows get them here (lower() folds
-- ASCII only, as all but a few real addresses are).
ALTER TABLE contacts ADD COLUMN email_key TEXT NOT NULL DEFAULT '';
ALTER TABLE contacts ADD COLUMN phone_key TEXT NOT NULL DEFAULT '';
UPDATE contacts SET email_key = lower(trim(email)),
    phone_key = replace(replace(replace(replace(replace(replace(replace(phone_number, ' ', ''), '-', ''), '.', ''), '(', ''), ')', ''), chr(9), ''), chr(10), '');
CREATE INDEX contacts_email_key ON contacts(account_id, email_key, id) WHERE email_key <> '';
CREATE INDEX contacts_phone_key ON contacts(account_id, phone_key, id) WHERE phone_key <> '';
-- The intents an assistant uses (POST /assistant/{id}/intent/{intent_id}).
CREATE TABLE assistant_intents (
    account_id   TEXT NOT NULL,
    assistant_id TEXT NOT NULL,
    intent_id    TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (assistant_id, intent_id)
);
CREATE INDEX assistant_intents_intent ON assistant_intents(intent_id);
-- GET /conversation/by-contact/{contact_id}: newest first.
CREATE INDEX conversations_contact ON conversations(account_id, contact_id, created_at) WHERE contact_id <> '';

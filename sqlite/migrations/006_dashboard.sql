-- Dashboard sessions and single-use portal links: only token hashes are
-- stored, so that a copy of the database signs nobody in.
CREATE TABLE sessions (
    token_hash   TEXT PRIMARY KEY,
    account_id   TEXT NOT NULL,
    read_only    INTEGER NOT NULL DEFAULT 0,
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL
);
CREATE INDEX sessions_account ON sessions(account_id);
CREATE INDEX sessions_expires ON sessions(expires_at);
CREATE INDEX sessions_last_seen ON sessions(last_seen_at);
CREATE TABLE portal_tokens (
    token_hash TEXT PRIMARY KEY,
    account_id TEXT NOT NULL,
    read_only  INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX portal_tokens_account ON portal_tokens(account_id);
CREATE INDEX portal_tokens_expires ON portal_tokens(expires_at);
-- The dashboard's reads: an assistant's widgets, a conversation's events, captured forms and intents,
-- and the overview's attempt counts over the last 24 hours.
CREATE INDEX events_conversation ON events(conversation_id, id);
CREATE INDEX widgets_assistant ON widgets(assistant_id, id);
CREATE INDEX captured_forms_conversation ON captured_forms(conversation_id, id);
CREATE INDEX captured_intents_conversation ON captured_intents(conversation_id, id);
CREATE INDEX attempts_account_created ON attempts(account_id, created_at);

-- Times are Unix microseconds (UTC); JSON values are TEXT; booleans are 0/1.
CREATE TABLE accounts (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE TABLE api_keys (
    key_hash   TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts(id),
    created_at INTEGER NOT NULL
);
CREATE INDEX api_keys_account ON api_keys(account_id);
CREATE TABLE webhooks (
    id                    TEXT PRIMARY KEY,
    account_id            TEXT NOT NULL REFERENCES accounts(id),
    name                  TEXT NOT NULL,
    endpoint              TEXT NOT NULL,
    enabled               INTEGER NOT NULL,
    disabled_reason       TEXT NOT NULL DEFAULT '',
    events                TEXT NOT NULL,
    ordering              TEXT NOT NULL,
    headers               TEXT NOT NULL,
    rate_limit            REAL,
    secret                TEXT NOT NULL,
    previous_secret       TEXT NOT NULL DEFAULT '',
    previous_secret_until INTEGER NOT NULL DEFAULT 0,
    failing_since         INTEGER NOT NULL DEFAULT 0,
    created_at            INTEGER NOT NULL,
    updated_at            INTEGER NOT NULL
);
CREATE INDEX webhooks_account ON webhooks(account_id, id);
CREATE TABLE assistants (
    id             TEXT PRIMARY KEY,
    account_id     TEXT NOT NULL REFERENCES accounts(id),
    name           TEXT NOT NULL,
    assistant_type TEXT NOT NULL,
    webhook_id     TEXT NOT NULL DEFAULT '',
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
);
CREATE INDEX assistants_account ON assistants(account_id, id);
CREATE INDEX assistants_webhook ON assistants(webhook_id);
CREATE TABLE widgets (
    id           TEXT PRIMARY KEY,
    account_id   TEXT NOT NULL REFERENCES accounts(id),
    assistant_id TEXT NOT NULL,
    name         TEXT NOT NULL,
    widget_type  TEXT NOT NULL,
    created_at   INTEGER NOT NULL
);
CREATE INDEX widgets_account ON widgets(account_id, id);
CREATE TABLE forms (
    id         TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts(id),
    name       TEXT NOT NULL,
    fields     TEXT NOT NULL,
    webhook_id TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX forms_account ON forms(account_id, id);
CREATE INDEX forms_webhook ON forms(webhook_id);
CREATE TABLE intents (
    id          TEXT PRIMARY KEY,
    account_id  TEXT NOT NULL REFERENCES accounts(id),
    name        TEXT NOT NULL,
    description TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);
CREATE INDEX intents_account ON intents(account_id, id);
CREATE TABLE contacts (
    id           TEXT PRIMARY KEY,
    account_id   TEXT NOT NULL REFERENCES accounts(id),
    first_name   TEXT NOT NULL,
    last_name    TEXT NOT NULL,
    email        TEXT NOT NULL,
    phone_number TEXT NOT NULL,
    created_at   INTEGER NOT NULL
);
CREATE INDEX contacts_account ON contacts(account_id, id);
CREATE TABLE conversations (
    id               TEXT PRIMARY KEY,
    account_id       TEXT NOT NULL REFERENCES accounts(id),
    assistant_id     TEXT NOT NULL,
    widget_id        TEXT NOT NULL,
    contact_id       TEXT NOT NULL DEFAULT '',
    device_type      TEXT NOT NULL,
    attributes       TEXT NOT NULL,
    chat_count       INTEGER NOT NULL DEFAULT 0,
    first_message    TEXT NOT NULL DEFAULT '',
    closed           INTEGER NOT NULL DEFAULT 0,
    closed_at        INTEGER NOT NULL DEFAULT 0,
    last_activity_at INTEGER NOT NULL,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
);
CREATE INDEX conversations_account ON conversations(account_id, created_at);
CREATE INDEX conversations_open ON conversations(last_activity_at) WHERE closed = 0;
CREATE TABLE messages (
    id              TEXT PRIMARY KEY,
    account_id      TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    sender_type     TEXT NOT NULL,
    message_type    TEXT NOT NULL,
    text            TEXT NOT NULL,
    created_at      INTEGER NOT NULL
);
CREATE INDEX messages_conversation ON messages(conversation_id, id);
CREATE TABLE captured_forms (
    id              TEXT PRIMARY KEY,
    account_id      TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    form_id         TEXT NOT NULL,
    field_values    TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE TABLE captured_intents (
    id              TEXT PRIMARY KEY,
    account_id      TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    intent_id       TEXT NOT NULL,
    created_at      INTEGER NOT NULL
);
CREATE TABLE events (
    id              TEXT PRIMARY KEY,
    account_id      TEXT NOT NULL,
    type            TEXT NOT NULL,
    conversation_id TEXT NOT NULL DEFAULT '',
    payload         TEXT NOT NULL,
    created_at      INTEGER NOT NULL
);
CREATE INDEX events_account ON events(account_id, id);
CREATE TABLE deliveries (
    id              TEXT PRIMARY KEY,
    account_id      TEXT NOT NULL,
    event_id        TEXT NOT NULL,
    webhook_id      TEXT NOT NULL,
    conversation_id TEXT NOT NULL DEFAULT '',
    status          TEXT NOT NULL,
    attempt_count   INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL DEFAULT 0,
    claimed         INTEGER NOT NULL DEFAULT 0,
    lease           INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
-- The queue: due pending deliveries in due order.
CREATE INDEX deliveries_due ON deliveries(next_attempt_at) WHERE status = 'pending';
CREATE INDEX deliveries_webhook ON deliveries(webhook_id, status, id);
CREATE INDEX deliveries_event ON deliveries(event_id);
CREATE INDEX deliveries_account ON deliveries(account_id, id);
CREATE TABLE attempts (
    id            TEXT PRIMARY KEY,
    delivery_id   TEXT NOT NULL,
    account_id    TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    status_code   INTEGER NOT NULL,
    duration_ms   INTEGER NOT NULL,
    error         TEXT NOT NULL,
    response_body TEXT NOT NULL
);
CREATE INDEX attempts_delivery ON attempts(delivery_id, id);

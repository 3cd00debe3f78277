-- The account's own event types (POST /event_type): the JSON Schema of their
-- events' data as given ('' for none); names are unique per account.
CREATE TABLE event_types (
    account_id  TEXT NOT NULL REFERENCES accounts(id),
    name        TEXT NOT NULL,
    description TEXT NOT NULL,
    data_schema TEXT NOT NULL,
    deprecated  INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (account_id, name)
);

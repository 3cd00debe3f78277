-- Filters (docs/events.md, "Filters"): a webhook's filter as JSON ('' for
-- none), and how many events it dropped. SQLite has one writer, so a drop
-- adds to the webhook's row in the event's transaction; the deltas table is
-- PostgreSQL's (where that row would be a hot one) and stays empty here, so
-- that one query reads the count on both engines.
ALTER TABLE webhooks ADD COLUMN filter TEXT NOT NULL DEFAULT '';
ALTER TABLE webhooks ADD COLUMN events_filtered INTEGER NOT NULL DEFAULT 0;
CREATE TABLE webhook_filtered_deltas (
    webhook_id TEXT NOT NULL,
    n          INTEGER NOT NULL
);

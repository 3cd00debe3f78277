-- Filters (docs/events.md, "Filters"): a webhook's filter as JSON ('' for
-- none), and how many events it dropped.
--
-- A drop is counted in the event's transaction without touching the
-- webhook's row: an UPDATE of it would hold the row until that commit is on
-- disk, and every event of a busy webhook would queue behind the previous
-- one's fsync (as the delivery counters did: migration 008). Each drop
-- appends a row to webhook_filtered_deltas (no index: an append waits on no
-- other transaction); the store folds them into webhooks.events_filtered
-- with the delivery counts (postgres/counts.go), and a reading adds what is
-- not folded yet. Deltas of a deleted webhook are dropped by the fold.
ALTER TABLE webhooks ADD COLUMN filter TEXT NOT NULL DEFAULT '';
ALTER TABLE webhooks ADD COLUMN events_filtered BIGINT NOT NULL DEFAULT 0;
CREATE TABLE webhook_filtered_deltas (
    webhook_id TEXT NOT NULL,
    n          BIGINT NOT NULL
);

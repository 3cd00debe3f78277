-- Operations: readiness proves a write, and the metrics read the deliveries
-- by status without counting the table.

-- heartbeats: each process's /readyz upserts its row, so that readiness
-- proves the store takes a write (a full disk fails it), not only a read.
CREATE TABLE heartbeats (
    process TEXT PRIMARY KEY,
    role    TEXT NOT NULL,
    beat_at INTEGER NOT NULL
);

-- delivery_counts: the deliveries by status, so that a scrape of /metrics
-- reads one row instead of counting millions. The store keeps it (see
-- sqlite/counts.go): the writer connection's pre-update hook sees every
-- change of a delivery's status, and each group commit adds what changed to
-- this row in the same transaction. Not triggers: a trigger makes every
-- single-row write of deliveries open a statement journal, which doubled the
-- cost of recording an outcome.
CREATE TABLE delivery_counts (
    slot      INTEGER PRIMARY KEY,
    pending   INTEGER NOT NULL DEFAULT 0,
    succeeded INTEGER NOT NULL DEFAULT 0,
    failed    INTEGER NOT NULL DEFAULT 0
);
INSERT INTO delivery_counts (slot, pending, succeeded, failed)
SELECT 0, COALESCE(SUM(status = 'pending'), 0), COALESCE(SUM(status = 'succeeded'), 0), COALESCE(SUM(status = 'failed'), 0)
FROM deliveries;

-- Operations: readiness proves a write, and the metrics read the deliveries
-- by status without counting the table.

-- heartbeats: each process's /readyz upserts its row, so that readiness
-- proves the store takes a write (a full disk fails it), not only a read.
CREATE TABLE heartbeats (
    process TEXT PRIMARY KEY,
    role    TEXT NOT NULL,
    beat_at INTEGER NOT NULL
);

-- delivery_counts: the deliveries by status, maintained by triggers, so that
-- a scrape of /metrics reads one row instead of counting millions. SQLite has
-- one writer, so one row (slot 0) takes no contention.
CREATE TABLE delivery_counts (
    slot      INTEGER PRIMARY KEY,
    pending   INTEGER NOT NULL DEFAULT 0,
    succeeded INTEGER NOT NULL DEFAULT 0,
    failed    INTEGER NOT NULL DEFAULT 0
);
INSERT INTO delivery_counts (slot, pending, succeeded, failed)
SELECT 0, COALESCE(SUM(status = 'pending'), 0), COALESCE(SUM(status = 'succeeded'), 0), COALESCE(SUM(status = 'failed'), 0)
FROM deliveries;

CREATE TRIGGER deliveries_count_insert AFTER INSERT ON deliveries BEGIN
    UPDATE delivery_counts SET pending = pending + (NEW.status = 'pending'),
        succeeded = succeeded + (NEW.status = 'succeeded'), failed = failed + (NEW.status = 'failed')
    WHERE slot = 0;
END;
CREATE TRIGGER deliveries_count_update AFTER UPDATE OF status ON deliveries WHEN OLD.status <> NEW.status BEGIN
    UPDATE delivery_counts SET pending = pending + (NEW.status = 'pending') - (OLD.status = 'pending'),
        succeeded = succeeded + (NEW.status = 'succeeded') - (OLD.status = 'succeeded'),
        failed = failed + (NEW.status = 'failed') - (OLD.status = 'failed')
    WHERE slot = 0;
END;
CREATE TRIGGER deliveries_count_delete AFTER DELETE ON deliveries BEGIN
    UPDATE delivery_counts SET pending = pending - (OLD.status = 'pending'),
        succeeded = succeeded - (OLD.status = 'succeeded'), failed = failed - (OLD.status = 'failed')
    WHERE slot = 0;
END;

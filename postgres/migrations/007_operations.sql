-- Operations: readiness proves a write, and the metrics read the deliveries
-- by status without counting the table.

-- heartbeats: each process's /readyz upserts its row, so that readiness
-- proves the store takes a write, not only a read.
CREATE TABLE heartbeats (
    process TEXT PRIMARY KEY,
    role    TEXT NOT NULL,
    beat_at BIGINT NOT NULL
);

-- delivery_counts: the deliveries by status, maintained by triggers, so that
-- a scrape of /metrics sums 16 rows instead of counting millions. Each
-- connection adds to its own slot (backend pid mod 16): concurrent writers
-- rarely wait on one another's counter row, and a transaction touches one
-- row only, so counters cannot deadlock. The triggers run once per statement
-- (transition tables): a batched completion of many deliveries costs one
-- counter update, and an UPDATE that changes no status (claims, leases)
-- costs none.
CREATE TABLE delivery_counts (
    slot      INTEGER PRIMARY KEY,
    pending   BIGINT NOT NULL DEFAULT 0,
    succeeded BIGINT NOT NULL DEFAULT 0,
    failed    BIGINT NOT NULL DEFAULT 0
);
INSERT INTO delivery_counts (slot) SELECT generate_series(0, 15);
UPDATE delivery_counts SET
    pending = (SELECT count(*) FROM deliveries WHERE status = 'pending'),
    succeeded = (SELECT count(*) FROM deliveries WHERE status = 'succeeded'),
    failed = (SELECT count(*) FROM deliveries WHERE status = 'failed')
WHERE slot = 0;

CREATE FUNCTION delivery_counts_add(dp BIGINT, ds BIGINT, df BIGINT) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF dp <> 0 OR ds <> 0 OR df <> 0 THEN
        UPDATE delivery_counts SET pending = pending + dp, succeeded = succeeded + ds, failed = failed + df
        WHERE slot = pg_backend_pid() % 16;
    END IF;
END $$;

CREATE FUNCTION deliveries_count_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM delivery_counts_add(
        count(*) FILTER (WHERE status = 'pending'), count(*) FILTER (WHERE status = 'succeeded'), count(*) FILTER (WHERE status = 'failed'))
    FROM new_rows;
    RETURN NULL;
END $$;
CREATE FUNCTION deliveries_count_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM delivery_counts_add(
        count(*) FILTER (WHERE n.status = 'pending') - count(*) FILTER (WHERE o.status = 'pending'),
        count(*) FILTER (WHERE n.status = 'succeeded') - count(*) FILTER (WHERE o.status = 'succeeded'),
        count(*) FILTER (WHERE n.status = 'failed') - count(*) FILTER (WHERE o.status = 'failed'))
    FROM new_rows n JOIN old_rows o ON o.id = n.id
    WHERE n.status <> o.status;
    RETURN NULL;
END $$;
CREATE FUNCTION deliveries_count_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM delivery_counts_add(
        -count(*) FILTER (WHERE status = 'pending'), -count(*) FILTER (WHERE status = 'succeeded'), -count(*) FILTER (WHERE status = 'failed'))
    FROM old_rows;
    RETURN NULL;
END $$;

CREATE TRIGGER deliveries_count_insert AFTER INSERT ON deliveries
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION deliveries_count_insert();
CREATE TRIGGER deliveries_count_update AFTER UPDATE ON deliveries
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION deliveries_count_update();
CREATE TRIGGER deliveries_count_delete AFTER DELETE ON deliveries
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION deliveries_count_delete();

-- Canceled deliveries in the counts: a transformation that sets cancel =
-- true ends its delivery canceled (docs/events.md), and the metrics'
-- agenthooks_deliveries{status="canceled"} reads this column. The triggers
-- of 007 took a canceled delivery out of pending and added it nowhere, so
-- the backfill counts the canceled rows there are; the other columns were
-- right and stay.
--
-- The SHARE lock waits for the transactions writing deliveries now (under
-- the old triggers) and holds new ones off until this migration commits, so
-- that no canceled row is counted twice or missed between the backfill and
-- the new triggers. It lasts as long as the count of canceled rows.
-- A process of the previous version still running after this migration
-- folds deltas without their canceled column, so the canceled changes it
-- folds drop out of the count (the other columns stay exact): replace the
-- old processes promptly after migrating.
LOCK TABLE deliveries IN SHARE MODE;

ALTER TABLE delivery_counts ADD COLUMN canceled BIGINT NOT NULL DEFAULT 0;
ALTER TABLE delivery_count_deltas ADD COLUMN canceled BIGINT NOT NULL DEFAULT 0;
UPDATE delivery_counts SET canceled = (SELECT count(*) FROM deliveries WHERE status = 'canceled') WHERE slot = 0;

-- The four-column append; the trigger functions below call it. The
-- three-column one of 008 goes: nothing calls it any more.
CREATE FUNCTION delivery_counts_add(dp BIGINT, ds BIGINT, df BIGINT, dc BIGINT) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF dp <> 0 OR ds <> 0 OR df <> 0 OR dc <> 0 THEN
        INSERT INTO delivery_count_deltas (pending, succeeded, failed, canceled) VALUES (dp, ds, df, dc);
    END IF;
END $$;

CREATE OR REPLACE FUNCTION deliveries_count_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM delivery_counts_add(
        count(*) FILTER (WHERE status = 'pending'), count(*) FILTER (WHERE status = 'succeeded'),
        count(*) FILTER (WHERE status = 'failed'), count(*) FILTER (WHERE status = 'canceled'))
    FROM new_rows;
    RETURN NULL;
END $$;
CREATE OR REPLACE FUNCTION deliveries_count_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM delivery_counts_add(
        count(*) FILTER (WHERE n.status = 'pending') - count(*) FILTER (WHERE o.status = 'pending'),
        count(*) FILTER (WHERE n.status = 'succeeded') - count(*) FILTER (WHERE o.status = 'succeeded'),
        count(*) FILTER (WHERE n.status = 'failed') - count(*) FILTER (WHERE o.status = 'failed'),
        count(*) FILTER (WHERE n.status = 'canceled') - count(*) FILTER (WHERE o.status = 'canceled'))
    FROM new_rows n JOIN old_rows o ON o.id = n.id
    WHERE n.status <> o.status;
    RETURN NULL;
END $$;
CREATE OR REPLACE FUNCTION deliveries_count_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM delivery_counts_add(
        -count(*) FILTER (WHERE status = 'pending'), -count(*) FILTER (WHERE status = 'succeeded'),
        -count(*) FILTER (WHERE status = 'failed'), -count(*) FILTER (WHERE status = 'canceled'))
    FROM old_rows;
    RETURN NULL;
END $$;

DROP FUNCTION delivery_counts_add(BIGINT, BIGINT, BIGINT);

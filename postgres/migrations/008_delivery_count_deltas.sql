-- Delivery counters without a hot row: the triggers of 007 append deltas
-- instead of adding to a counter row.
--
-- Why: under 64 concurrent API clients each storing an event and its
-- delivery, the counter UPDATE of 007 waited on the other connections of
-- its slot (16 slots for 64 connections), and a counter row stays locked
-- until its transaction's commit is on disk; the closes queued behind one
-- another's fsync (pg_stat_statements: 9.9 ms per counter update, 630
-- events/s end to end). An INSERT into a table with no index waits on no
-- other transaction, however many write at once.
--
-- delivery_count_deltas: one row per statement that changed the number of
-- deliveries by status (a batched completion still costs one row; a claim
-- or a lease renewal, which changes no status, costs none). The PostgreSQL
-- store folds the rows into delivery_counts every second (postgres/counts.go:
-- one statement that DELETEs the deltas RETURNING them and adds their sum to
-- the totals, so a delta is counted in the totals or in this table, never in
-- both and never in neither, however many processes fold at once), and
-- QueueStats sums delivery_counts and what is left here in one statement
-- (one snapshot). No index: inserts then touch one heap page, and the fold
-- and the reading scan the whole table anyway; it holds about a second of
-- deltas, plus the dead rows of the folds until VACUUM.
CREATE TABLE delivery_count_deltas (
    pending   BIGINT NOT NULL,
    succeeded BIGINT NOT NULL,
    failed    BIGINT NOT NULL
);

-- The 16 slots of delivery_counts stay, and keep their sums: the fold adds
-- to slot 0, a reading sums all 16 (no cost), and deleting slots here could
-- drop the addition of a transaction that waits on one of them while this
-- migration runs. The trigger functions of 007 call this one, and so now
-- append; replacing it changes all three at once. A process of the previous
-- version still running during an upgrade reads delivery_counts alone: its
-- counts lag by the deltas not folded yet (about a second's), no more.
CREATE OR REPLACE FUNCTION delivery_counts_add(dp BIGINT, ds BIGINT, df BIGINT) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF dp <> 0 OR ds <> 0 OR df <> 0 THEN
        INSERT INTO delivery_count_deltas (pending, succeeded, failed) VALUES (dp, ds, df);
    END IF;
END $$;

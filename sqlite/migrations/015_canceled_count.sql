-- Canceled deliveries in the counts: a transformation that sets cancel =
-- true ends its delivery canceled (docs/events.md), and the metrics'
-- agenthooks_deliveries{status="canceled"} reads this column. Until now the
-- writer's pre-update hook (sqlite/counts.go) took a canceled delivery out of
-- pending and added it nowhere, so the backfill counts the canceled rows
-- there are; the other columns were right and stay.
ALTER TABLE delivery_counts ADD COLUMN canceled INTEGER NOT NULL DEFAULT 0;
UPDATE delivery_counts SET canceled = (SELECT count(*) FROM deliveries WHERE status = 'canceled') WHERE slot = 0;

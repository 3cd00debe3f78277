-- first_due_at is when a pending delivery first fell due and has waited
-- since without an attempt (0 when it is not waiting): a claim sets it from
-- the due time its lease replaces, an attempt's outcome clears it, and a
-- delivery handed back unattempted (held by its webhook's circuit, in-flight
-- cap or rate limit, or released) keeps it while its next_attempt_at moves
-- on. The queue-age metric and the dashboard count a held delivery from
-- that time (CONTRACT.md section 8).
ALTER TABLE deliveries ADD COLUMN first_due_at BIGINT NOT NULL DEFAULT 0;
-- The held deliveries, oldest first: few rows (none in flight).
CREATE INDEX deliveries_held ON deliveries(first_due_at) WHERE status = 'pending' AND claimed = 0 AND first_due_at > 0;

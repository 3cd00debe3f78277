-- The dashboard reads an account's recent events and deliveries by time: the
-- Overview counts the deliveries made in its range (1 h, 24 h, 7 d) and search
-- looks through the payloads of the last 7 days. Both walk these indexes from
-- the window's start instead of every row the account ever had.
CREATE INDEX events_account_created ON events(account_id, created_at);
CREATE INDEX deliveries_account_created ON deliveries(account_id, created_at);

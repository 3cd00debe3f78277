-- The dashboard reads an account's recent events and deliveries by time: the
-- Overview counts the deliveries made in its range (1 h, 24 h, 7 d) and search
-- looks through the payloads of the last 7 days. Both walk these indexes from
-- the window's start instead of every row the account ever had.
CREATE INDEX events_account_created ON events(account_id, created_at);
CREATE INDEX deliveries_account_created ON deliveries(account_id, created_at);
-- A portal link made with embed: true signs in a session drawn for an iframe
-- (no brand bar, account name or sign-out of its own), with the platform's
-- theme: an accent colour (#rrggbb, '' for ours) and a logo URL ('' for none).
ALTER TABLE portal_tokens ADD COLUMN embed INTEGER NOT NULL DEFAULT 0;
ALTER TABLE portal_tokens ADD COLUMN accent_color TEXT NOT NULL DEFAULT '';
ALTER TABLE portal_tokens ADD COLUMN logo_url TEXT NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN embed INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN accent_color TEXT NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN logo_url TEXT NOT NULL DEFAULT '';

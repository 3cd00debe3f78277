-- A dashboard session records the API key it was signed in with, so that
-- deleting the key ends it ('' for a portal link's session). Sessions from
-- before this migration name no key: they are ended (their visitors sign in
-- again) rather than left outliving a key that may be deleted.
DELETE FROM sessions;
ALTER TABLE sessions ADD COLUMN api_key_id TEXT NOT NULL DEFAULT '';
CREATE INDEX sessions_api_key ON sessions(account_id, api_key_id);

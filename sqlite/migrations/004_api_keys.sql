-- API keys: several per account, each with an id, a name, the first characters
-- of the key (to tell keys apart; the key itself is only hashed) and the last
-- time it was used (0: never). Keys made before this migration are named
-- "default"; their ids are taken from their hashes, shaped as UUIDs.
ALTER TABLE api_keys ADD COLUMN id TEXT NOT NULL DEFAULT '';
ALTER TABLE api_keys ADD COLUMN name TEXT NOT NULL DEFAULT 'default';
ALTER TABLE api_keys ADD COLUMN prefix TEXT NOT NULL DEFAULT 'ak_';
ALTER TABLE api_keys ADD COLUMN last_used_at INTEGER NOT NULL DEFAULT 0;
UPDATE api_keys SET id = substr(key_hash, 1, 8) || '-' || substr(key_hash, 9, 4) || '-' || substr(key_hash, 13, 4) || '-' ||
    substr(key_hash, 17, 4) || '-' || substr(key_hash, 21, 12) WHERE id = '';
CREATE UNIQUE INDEX api_keys_id ON api_keys(id);

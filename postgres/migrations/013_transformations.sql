-- Transformations (docs/events.md): a webhook's JavaScript transformation
-- as JSON {code, enabled} ('' for none), and the request each attempt sent
-- (method, URL, first 4 KiB of the body), which a transformation may change.
ALTER TABLE webhooks ADD COLUMN transformation TEXT NOT NULL DEFAULT '';
ALTER TABLE attempts ADD COLUMN request_method TEXT NOT NULL DEFAULT '';
ALTER TABLE attempts ADD COLUMN request_url TEXT NOT NULL DEFAULT '';
ALTER TABLE attempts ADD COLUMN request_body TEXT NOT NULL DEFAULT '';

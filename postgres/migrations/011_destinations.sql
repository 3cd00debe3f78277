-- Destinations besides HTTP (docs/destinations.md): a webhook's broker
-- destination. destination is its JSON settings without the URL ('' for
-- HTTP to the endpoint); destination_url is the broker's URL, credentials
-- included, sealed like the secrets (AGENTHOOKS_ENCRYPTION_KEY).
ALTER TABLE webhooks ADD COLUMN destination TEXT NOT NULL DEFAULT '';
ALTER TABLE webhooks ADD COLUMN destination_url TEXT NOT NULL DEFAULT '';

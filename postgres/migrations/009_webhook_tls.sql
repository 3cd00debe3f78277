-- A webhook's TLS settings for its endpoint (PEM): a client certificate and
-- its key for mutual TLS, and a CA bundle replacing the system roots. The
-- key is sealed like the secrets (sqlstore/secrets.go, AGENTHOOKS_ENCRYPTION_KEY);
-- '' is none.
ALTER TABLE webhooks ADD COLUMN tls_client_certificate TEXT NOT NULL DEFAULT '';
ALTER TABLE webhooks ADD COLUMN tls_client_key TEXT NOT NULL DEFAULT '';
ALTER TABLE webhooks ADD COLUMN tls_ca_certificates TEXT NOT NULL DEFAULT '';

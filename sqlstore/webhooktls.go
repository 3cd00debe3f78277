package sqlstore

import (
	"fmt"

	"github.com/agenthooks/agenthooks"
)

// webhookTLSCols are the webhook's TLS settings (migration webhook_tls),
// read and written after the other webhookCols.
const webhookTLSCols = "tls_client_certificate, tls_client_key, tls_ca_certificates"

// tlsKeyID is the additional data the client key is sealed with: the
// webhook's id, marked so that a sealed key copied into the secret column
// (or a secret into the key's) does not open there.
func tlsKeyID(webhookID string) string { return webhookID + "/tls_client_key" }

// sealTLS returns the stored forms of w's TLS settings: the key sealed like
// the secrets (AGENTHOOKS_ENCRYPTION_KEY), the certificates as they are
// (they are public).
func (tx *Tx) sealTLS(w *agenthooks.Webhook) (cert, key, cas string, err error) {
	if w.TLS == nil {
		return "", "", "", nil
	}
	if key, err = tx.keys.Seal(tlsKeyID(w.ID), w.TLS.ClientKey); err != nil {
		return "", "", "", fmt.Errorf("seal webhook %s tls client key: %w", w.ID, err)
	}
	return w.TLS.ClientCertificate, key, w.TLS.CACertificates, nil
}

// openTLS opens the client key of a webhook as scanned.
func (tx *Tx) openTLS(w *agenthooks.Webhook) error {
	if w.TLS == nil || w.TLS.ClientKey == "" {
		return nil
	}
	key, err := tx.keys.Open(tlsKeyID(w.ID), w.TLS.ClientKey)
	if err != nil {
		return fmt.Errorf("webhook %s tls client key: %w", w.ID, err)
	}
	w.TLS.ClientKey = key
	return nil
}

// reseal returns a stored value sealed with the first key (for
// ReencryptSecrets): opened with whichever key sealed it, sealed again.
func (tx *Tx) reseal(id, stored string) (string, error) {
	if tx.keys.current(stored) {
		return stored, nil
	}
	plain, err := tx.keys.Open(id, stored)
	if err != nil {
		return "", err
	}
	return tx.keys.Seal(id, plain)
}

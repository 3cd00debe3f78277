package sqlstore

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/agenthooks/agenthooks"
)

// Keyring seals webhook secrets at rest with AES-256-GCM
// (AGENTHOOKS_ENCRYPTION_KEY): the first key seals, any key opens. A sealed
// value reads "enc:v1:<key id>:<base64url of nonce and ciphertext>", where
// the key id is the first 8 hex digits of the key's SHA-256 (it names the
// key without revealing it); a value without that prefix is a plain secret
// stored before encryption was turned on, and reads as it is. The webhook's
// id is the additional data, so a sealed secret copied onto another row does
// not open there.
//
// A nil *Keyring stores secrets as they are.
type Keyring struct {
	keys []ringKey
}

type ringKey struct {
	id   string
	aead cipher.AEAD
}

// sealedPrefix marks a sealed secret.
const sealedPrefix = "enc:v1:"

// NewKeyring returns a keyring over 32-byte keys, the first one sealing;
// no keys returns nil (secrets stored as they are).
func NewKeyring(keys [][]byte) (*Keyring, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	k := &Keyring{}
	for i, key := range keys {
		if len(key) != 32 {
			return nil, fmt.Errorf("encryption key %d: %d bytes, want 32", i+1, len(key))
		}
		block, err := aes.NewCipher(key)
		if err != nil {
			return nil, fmt.Errorf("encryption key %d: %w", i+1, err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("encryption key %d: %w", i+1, err)
		}
		sum := sha256.Sum256(key)
		k.keys = append(k.keys, ringKey{id: hex.EncodeToString(sum[:4]), aead: aead})
	}
	return k, nil
}

// Seal returns the stored form of a secret of the webhook id. The empty
// string (no previous secret) stays empty.
func (k *Keyring) Seal(id, secret string) (string, error) {
	if k == nil || secret == "" {
		return secret, nil
	}
	key := k.keys[0]
	nonce := make([]byte, key.aead.NonceSize(), key.aead.NonceSize()+len(secret)+key.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("seal secret: %w", err)
	}
	sealed := key.aead.Seal(nonce, nonce, []byte(secret), []byte(id))
	return sealedPrefix + key.id + ":" + base64.RawURLEncoding.EncodeToString(sealed), nil
}

// errUnknownKey is an opened value sealed with a key the ring lacks.
var errUnknownKey = errors.New("sealed with a key that AGENTHOOKS_ENCRYPTION_KEY does not hold")

// Open returns the secret a stored value holds.
func (k *Keyring) Open(id, stored string) (string, error) {
	rest, ok := strings.CutPrefix(stored, sealedPrefix)
	if !ok {
		return stored, nil // plain: stored before encryption was turned on
	}
	keyID, b64, ok := strings.Cut(rest, ":")
	if !ok {
		return "", errors.New("malformed sealed secret")
	}
	if k == nil {
		return "", errUnknownKey
	}
	for _, key := range k.keys {
		if key.id != keyID {
			continue
		}
		sealed, err := base64.RawURLEncoding.DecodeString(b64)
		if err != nil || len(sealed) < key.aead.NonceSize() {
			return "", errors.New("malformed sealed secret")
		}
		n := key.aead.NonceSize()
		plain, err := key.aead.Open(nil, sealed[:n], sealed[n:], []byte(id))
		if err != nil {
			return "", errors.New("sealed secret does not open (altered, or moved from another webhook)")
		}
		return string(plain), nil
	}
	return "", errUnknownKey
}

// current reports whether a stored value is in the form Seal writes now:
// sealed with the first key, or plain when there is no key.
func (k *Keyring) current(stored string) bool {
	if stored == "" {
		return true
	}
	if k == nil {
		return !strings.HasPrefix(stored, sealedPrefix)
	}
	return strings.HasPrefix(stored, sealedPrefix+k.keys[0].id+":")
}

// WithKeyring makes the transaction seal and open webhook secrets with k
// (engines call it on every Tx they make; nil stores them as they are).
func (tx *Tx) WithKeyring(k *Keyring) *Tx {
	tx.keys = k
	return tx
}

// scanWebhook reads a webhook row (webhookCols) and opens its secrets. Every
// read of webhookCols goes through it, the claim query's included.
func (tx *Tx) scanWebhook(s scanner) (*agenthooks.Webhook, error) {
	w, err := scanWebhookRow(s)
	if err != nil {
		return nil, err
	}
	if w.Secret, err = tx.keys.Open(w.ID, w.Secret); err != nil {
		return nil, fmt.Errorf("webhook %s secret: %w", w.ID, err)
	}
	if w.PreviousSecret, err = tx.keys.Open(w.ID, w.PreviousSecret); err != nil {
		return nil, fmt.Errorf("webhook %s previous secret: %w", w.ID, err)
	}
	if err := tx.openTLS(w); err != nil {
		return nil, err
	}
	return w, nil
}

// sealSecrets returns the stored forms of w's secrets.
func (tx *Tx) sealSecrets(w *agenthooks.Webhook) (secret, previous string, err error) {
	if secret, err = tx.keys.Seal(w.ID, w.Secret); err != nil {
		return "", "", err
	}
	if previous, err = tx.keys.Seal(w.ID, w.PreviousSecret); err != nil {
		return "", "", err
	}
	return secret, previous, nil
}

// CountWebhooksForCreate returns the account's number of webhooks, holding
// the account's row in a write transaction (FOR UPDATE on PostgreSQL; SQLite
// has one writer) so that concurrent creates count one after the other.
func (tx *Tx) CountWebhooksForCreate(accountID string) (int, error) {
	if tx.write && tx.d.LockSuffix != "" {
		var id string
		if err := tx.queryRow("SELECT id FROM accounts WHERE id = ?"+tx.d.LockSuffix, accountID).Scan(&id); err != nil {
			return 0, notFound(err, "account")
		}
	}
	var n int
	if err := tx.queryRow("SELECT COUNT(*) FROM webhooks WHERE account_id = ?", accountID).Scan(&n); err != nil {
		return 0, fmt.Errorf("count webhooks: %w", err)
	}
	return n, nil
}

// ReencryptSecrets seals with the first key the secrets of up to limit
// webhooks after afterID (in id order) that are stored plain or under an
// older key.
func (tx *Tx) ReencryptSecrets(afterID string, limit int) (int, string, error) {
	if tx.d.SecureDelete != "" {
		// Overwrite what a rewrite frees: the plain secret would otherwise
		// stay in the page's free space, readable in the file.
		if _, err := tx.exec(tx.d.SecureDelete); err != nil {
			return 0, "", fmt.Errorf("secure delete: %w", err)
		}
	}
	rows, err := tx.query("SELECT id, secret, previous_secret, tls_client_key FROM webhooks WHERE id > ? ORDER BY id LIMIT ?"+tx.lock(), afterID, limit)
	if err != nil {
		return 0, "", fmt.Errorf("select webhook secrets: %w", err)
	}
	type row struct{ id, secret, previous, tlsKey string }
	var stale []row
	last := ""
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.id, &r.secret, &r.previous, &r.tlsKey); err != nil {
			rows.Close()
			return 0, "", fmt.Errorf("scan webhook secrets: %w", err)
		}
		last = r.id
		if !tx.keys.current(r.secret) || !tx.keys.current(r.previous) || !tx.keys.current(r.tlsKey) {
			stale = append(stale, r)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, "", fmt.Errorf("select webhook secrets: %w", err)
	}
	for _, r := range stale {
		w := &agenthooks.Webhook{ID: r.id}
		if w.Secret, err = tx.keys.Open(r.id, r.secret); err != nil {
			return 0, "", fmt.Errorf("webhook %s secret: %w", r.id, err)
		}
		if w.PreviousSecret, err = tx.keys.Open(r.id, r.previous); err != nil {
			return 0, "", fmt.Errorf("webhook %s previous secret: %w", r.id, err)
		}
		secret, previous, err := tx.sealSecrets(w)
		if err != nil {
			return 0, "", err
		}
		tlsKey, err := tx.reseal(tlsKeyID(r.id), r.tlsKey)
		if err != nil {
			return 0, "", fmt.Errorf("webhook %s tls client key: %w", r.id, err)
		}
		if _, err := tx.exec("UPDATE webhooks SET secret = ?, previous_secret = ?, tls_client_key = ? WHERE id = ?", secret, previous, tlsKey, r.id); err != nil {
			return 0, "", fmt.Errorf("reencrypt webhook %s: %w", r.id, err)
		}
	}
	return len(stale), last, nil
}

// SecretKeyIDs returns the key ids of the sealed secrets in store, "" for
// plain ones: the prefix "enc:v1:<8 hex digits>:" is 16 characters.
func (tx *Tx) SecretKeyIDs() ([]string, error) {
	rows, err := tx.query(`SELECT substr(secret, 1, 16) FROM webhooks WHERE secret <> ''
		UNION SELECT substr(previous_secret, 1, 16) FROM webhooks WHERE previous_secret <> ''`)
	if err != nil {
		return nil, fmt.Errorf("select secret key ids: %w", err)
	}
	defer rows.Close()
	seen := map[string]bool{}
	var ids []string
	for rows.Next() {
		var prefix string
		if err := rows.Scan(&prefix); err != nil {
			return nil, fmt.Errorf("scan secret key id: %w", err)
		}
		id := ""
		if rest, ok := strings.CutPrefix(prefix, sealedPrefix); ok {
			id, _, _ = strings.Cut(rest, ":")
		}
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	return ids, rows.Err()
}

// Missing returns the key ids among ids that the ring cannot open ("" for
// plain secrets is always readable).
func (k *Keyring) Missing(ids []string) []string {
	var out []string
	for _, id := range ids {
		if id == "" {
			continue
		}
		found := false
		if k != nil {
			for _, key := range k.keys {
				found = found || key.id == id
			}
		}
		if !found {
			out = append(out, id)
		}
	}
	return out
}

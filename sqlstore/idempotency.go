package sqlstore

import (
	"fmt"
	"time"

	"github.com/agenthooks/agenthooks"
)

// The Idempotency-Key records (docs/api.md): one row per account and key,
// claimed by the first request, holding its response once it finished.

// ClaimIdempotencyKey returns a live record of key or claims it.
func (tx *Tx) ClaimIdempotencyKey(accountID, key, fingerprint string, stale, expired time.Time) (*agenthooks.Idempotency, error) {
	var rec agenthooks.Idempotency
	var state, response string
	var created int64
	err := tx.queryRow("SELECT fingerprint, state, status, response, created_at FROM idempotency_keys WHERE account_id = ? AND key = ?"+tx.lock(), accountID, key).
		Scan(&rec.Fingerprint, &state, &rec.Status, &response, &created)
	switch {
	case err == nil:
		rec.Running, rec.Response, rec.CreatedAt = state == "running", []byte(response), FromMicros(created)
		if rec.CreatedAt.Before(expired) || (rec.Running && rec.CreatedAt.Before(stale)) {
			if err := tx.ForgetIdempotencyKey(accountID, key); err != nil {
				return nil, err
			}
			break
		}
		return &rec, nil
	case !isNoRows(err):
		return nil, fmt.Errorf("find idempotency key: %w", err)
	}
	res, err := tx.exec("INSERT INTO idempotency_keys (account_id, key, fingerprint, state, created_at) VALUES (?, ?, ?, 'running', ?) ON CONFLICT DO NOTHING",
		accountID, key, fingerprint, Micros(tx.now))
	if err != nil {
		return nil, fmt.Errorf("claim idempotency key: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return nil, fmt.Errorf("rows affected: %w", err)
	} else if n == 0 {
		// Another request claimed it between our read and insert.
		return &agenthooks.Idempotency{Fingerprint: fingerprint, Running: true, CreatedAt: tx.now}, nil
	}
	return nil, nil
}

// FinishIdempotencyKey stores the response of a claimed key.
func (tx *Tx) FinishIdempotencyKey(accountID, key string, status int, response []byte) error {
	if _, err := tx.exec("UPDATE idempotency_keys SET state = 'done', status = ?, response = ? WHERE account_id = ? AND key = ?",
		status, string(response), accountID, key); err != nil {
		return fmt.Errorf("finish idempotency key: %w", err)
	}
	return nil
}

// ForgetIdempotencyKey deletes a key.
func (tx *Tx) ForgetIdempotencyKey(accountID, key string) error {
	if _, err := tx.exec("DELETE FROM idempotency_keys WHERE account_id = ? AND key = ?", accountID, key); err != nil {
		return fmt.Errorf("forget idempotency key: %w", err)
	}
	return nil
}

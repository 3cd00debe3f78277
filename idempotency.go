package agenthooks

import "time"

// IdempotencyTTL is how long the first response to an Idempotency-Key is replayed.
const IdempotencyTTL = 24 * time.Hour

// Idempotency records the first response to an Idempotency-Key. Running is
// true while the first request is still being served.
type Idempotency struct {
	Fingerprint string
	Running     bool
	Status      int
	Response    []byte
	CreatedAt   time.Time
}

// Operations on Idempotency-Key records; part of Tx.
type idempotencyTx interface {
	// ClaimIdempotencyKey returns the record of key if one is alive, or
	// claims the key (state running) and returns nil. A record created before
	// expired, or still running since before stale (its request died with its
	// process), counts as absent.
	ClaimIdempotencyKey(accountID, key, fingerprint string, stale, expired time.Time) (*Idempotency, error)
	// FinishIdempotencyKey stores the response of a claimed key.
	FinishIdempotencyKey(accountID, key string, status int, response []byte) error
	// ForgetIdempotencyKey deletes a key (responses that are not remembered).
	ForgetIdempotencyKey(accountID, key string) error
}

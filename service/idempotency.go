package service

import (
	"context"
	"time"

	"github.com/agenthooks/agenthooks"
)

// idempotencyStale is how long a claimed key may stay running before it is
// taken for abandoned (its request's process died before answering).
const idempotencyStale = 2 * time.Minute

// ClaimIdempotencyKey returns the live record of key, or claims it for this
// request and returns nil.
func (s *Service) ClaimIdempotencyKey(ctx context.Context, accountID, key, fingerprint string) (*agenthooks.Idempotency, error) {
	return write(ctx, s, func(tx agenthooks.Tx) (*agenthooks.Idempotency, error) {
		return tx.ClaimIdempotencyKey(accountID, key, fingerprint, tx.Now().Add(-idempotencyStale), tx.Now().Add(-agenthooks.IdempotencyTTL))
	})
}

// FinishIdempotencyKey remembers the response to a claimed key; remember
// false forgets the key instead, so that the request may be sent again.
func (s *Service) FinishIdempotencyKey(ctx context.Context, accountID, key string, remember bool, status int, response []byte) error {
	return s.store.Write(ctx, func(tx agenthooks.Tx) error {
		if !remember {
			return tx.ForgetIdempotencyKey(accountID, key)
		}
		return tx.FinishIdempotencyKey(accountID, key, status, response)
	})
}

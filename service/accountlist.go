package service

import (
	"context"

	"github.com/agenthooks/agenthooks"
)

// ListAccounts returns every account, oldest first, without keys.
func (s *Service) ListAccounts(ctx context.Context) ([]*agenthooks.Account, error) {
	var out []*agenthooks.Account
	err := s.store.Read(ctx, func(tx agenthooks.Tx) error {
		var err error
		out, err = tx.ListAllAccounts()
		return err
	})
	return out, err
}

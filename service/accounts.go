package service

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/agenthooks/agenthooks"
)

// newKey makes a key named name for the account and returns it with the
// secret key, which is shown once and never stored.
func newKey(name string, now time.Time) (*agenthooks.APIKey, string, error) {
	key, hash, err := NewAPIKey()
	if err != nil {
		return nil, "", err
	}
	return &agenthooks.APIKey{ID: NewID(), Name: name, Prefix: key[:agenthooks.APIKeyPrefixLen], Hash: hash, CreatedAt: now}, key, nil
}

// FindAccounts returns a page of every account, oldest first (the admin API).
func (s *Service) FindAccounts(ctx context.Context, p agenthooks.Page) (*List[*agenthooks.Account], error) {
	return list(ctx, s, p, func(tx agenthooks.Tx) ([]*agenthooks.Account, int, error) { return tx.FindAccounts(p) })
}

// GetAccount returns the account, or ENOTFOUND.
func (s *Service) GetAccount(ctx context.Context, id string) (*agenthooks.Account, error) {
	return read(ctx, s, func(tx agenthooks.Tx) (*agenthooks.Account, error) { return tx.FindAccountByID(id) })
}

// DeleteAccount removes the account with its keys and everything it owns;
// its pending deliveries are gone, and the completions of those in flight
// record nothing. ENOTFOUND if there is no such account.
func (s *Service) DeleteAccount(ctx context.Context, id string) error {
	err := s.store.Write(ctx, func(tx agenthooks.Tx) error { return tx.DeleteAccount(id) })
	if err == nil {
		s.log.Info("deleted an account and everything it owned", slog.String("account_id", id))
	}
	return err
}

// CreatedAPIKey is a new key of an account, with the key itself (shown once).
type CreatedAPIKey struct {
	*agenthooks.APIKey
	Key string
}

// CreateAPIKey makes another key for the account, named name.
func (s *Service) CreateAPIKey(ctx context.Context, accountID, name string) (*CreatedAPIKey, error) {
	name = strings.TrimSpace(name)
	if err := checkName("name", name); err != nil {
		return nil, err
	}
	var created *CreatedAPIKey
	err := s.store.Write(ctx, func(tx agenthooks.Tx) error {
		if _, err := tx.FindAccountByID(accountID); err != nil {
			return err
		}
		k, key, err := newKey(name, tx.Now())
		if err != nil {
			return err
		}
		k.AccountID = accountID
		created = &CreatedAPIKey{APIKey: k, Key: key}
		return tx.CreateAPIKey(k)
	})
	if err != nil {
		return nil, err
	}
	return created, nil
}

// ListAPIKeys returns a page of the account's keys (never the keys themselves).
func (s *Service) ListAPIKeys(ctx context.Context, accountID string, p agenthooks.Page) (*List[*agenthooks.APIKey], error) {
	return list(ctx, s, p, func(tx agenthooks.Tx) ([]*agenthooks.APIKey, int, error) { return tx.ListAPIKeys(accountID, p) })
}

// GetAPIKey returns one of the account's keys (never the key itself), or ENOTFOUND.
func (s *Service) GetAPIKey(ctx context.Context, accountID, id string) (*agenthooks.APIKey, error) {
	return read(ctx, s, func(tx agenthooks.Tx) (*agenthooks.APIKey, error) { return tx.FindAPIKey(accountID, id) })
}

// DeleteAPIKey revokes one of the account's keys at once: ENOTFOUND if the
// account has no such key, ECONFLICT if it is the last one.
func (s *Service) DeleteAPIKey(ctx context.Context, accountID, id string) error {
	return s.store.Write(ctx, func(tx agenthooks.Tx) error { return tx.DeleteAPIKey(accountID, id) })
}

// keyTouches remembers when this process last wrote each key's last use, so
// that an authenticated request costs a write at most once a minute per key
// (and TouchAPIKey's condition keeps several processes near that too). The
// zero value is ready to use.
type keyTouches struct {
	mu   sync.Mutex
	last map[string]time.Time // key hash → when this process last wrote it
}

// due reports whether the key's last use should be written now, and if so
// counts it as written.
func (k *keyTouches) due(hash string, now time.Time) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.last == nil {
		k.last = map[string]time.Time{}
	}
	if t, ok := k.last[hash]; ok && now.Sub(t) < agenthooks.APIKeyTouchEvery {
		return false
	}
	if len(k.last) >= 4096 {
		// Only valid keys get here, so the map holds the keys in use; drop
		// the ones not written within the period (revoked or idle keys).
		for h, t := range k.last {
			if now.Sub(t) >= agenthooks.APIKeyTouchEvery {
				delete(k.last, h)
			}
		}
	}
	k.last[hash] = now
	return true
}

// touch records that the key with hash was used, at most once a minute per
// key. A failure is logged, not returned: the request it authenticates goes on.
func (s *Service) touch(ctx context.Context, hash string) {
	if !s.touches.due(hash, time.Now()) {
		return
	}
	err := s.store.Write(ctx, func(tx agenthooks.Tx) error { return tx.TouchAPIKey(hash, tx.Now()) })
	if err != nil {
		s.log.Warn("record an API key's last use", slog.Any("error", err))
	}
}

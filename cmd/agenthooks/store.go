package main

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/agenthooks/agenthooks"
	"github.com/agenthooks/agenthooks/postgres"
	"github.com/agenthooks/agenthooks/sqlite"
	"github.com/agenthooks/agenthooks/sqlstore"
)

// openStore opens the store a database URL names, applying migrations.
// Webhook secrets are stored as they are: commands that read or write them
// use openStoreKeys.
func openStore(ctx context.Context, databaseURL string, log *slog.Logger) (agenthooks.Store, error) {
	return openStoreKeys(ctx, databaseURL, log, nil)
}

// openStoreKeys is openStore with the keys that seal webhook secrets at rest
// (AGENTHOOKS_ENCRYPTION_KEY; none: stored as they are).
func openStoreKeys(ctx context.Context, databaseURL string, log *slog.Logger, keys [][]byte) (agenthooks.Store, error) {
	keyring, err := sqlstore.NewKeyring(keys)
	if err != nil {
		return nil, fmt.Errorf("AGENTHOOKS_ENCRYPTION_KEY: %w", err)
	}
	switch {
	case strings.HasPrefix(databaseURL, "sqlite:"):
		path := strings.TrimPrefix(strings.TrimPrefix(databaseURL, "sqlite:"), "//")
		s, err := sqlite.Open(ctx, path, sqlite.Options{Keyring: keyring})
		if err != nil {
			return nil, fmt.Errorf("open %s: %w", databaseURL, err)
		}
		return s, nil
	case postgres.IsURL(databaseURL):
		s, err := postgres.Open(ctx, databaseURL, postgres.Options{Logger: log, Keyring: keyring})
		if err != nil {
			return nil, fmt.Errorf("open %s: %w", redactURL(databaseURL), err)
		}
		return s, nil
	}
	return nil, fmt.Errorf("AGENTHOOKS_DATABASE_URL %q: must start with sqlite: or postgres://", redactURL(databaseURL))
}

package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"strings"

	"github.com/agenthooks/agenthooks"
	"github.com/agenthooks/agenthooks/postgres"
	"github.com/agenthooks/agenthooks/sqlite"
	"github.com/agenthooks/agenthooks/sqlstore"
)

// openStore opens the store a database URL names, applying migrations.
// owner is true for serve, the process that owns an SQLite file and runs
// its workers (sqlite.Options.Owner); false for the commands that open it
// beside a running serve. It holds no key for webhook secrets: commands that
// read or write them use openStoreKeys.
func openStore(ctx context.Context, databaseURL string, log *slog.Logger, owner bool) (agenthooks.Store, error) {
	return openEngine(ctx, databaseURL, log, owner, nil)
}

// openStoreKeys is openStore with the keys that seal webhook secrets at rest
// (AGENTHOOKS_ENCRYPTION_KEY; none: stored as they are). It refuses a
// database whose secrets are sealed with a key it is not given.
func openStoreKeys(ctx context.Context, databaseURL string, log *slog.Logger, owner bool, keys [][]byte) (agenthooks.Store, error) {
	keyring, err := sqlstore.NewKeyring(keys)
	if err != nil {
		return nil, fmt.Errorf("AGENTHOOKS_ENCRYPTION_KEY: %w", err)
	}
	s, err := openEngine(ctx, databaseURL, log, owner, keyring)
	if err != nil {
		return nil, err
	}
	if err := checkSecretKeys(ctx, s, keyring); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// checkSecretKeys refuses a store whose webhook secrets are sealed with a
// key that is not configured: every delivery of those webhooks would fail.
func checkSecretKeys(ctx context.Context, s agenthooks.Store, keyring *sqlstore.Keyring) error {
	var ids []string
	err := s.Read(ctx, func(tx agenthooks.Tx) error {
		var err error
		ids, err = tx.SecretKeyIDs()
		return err
	})
	if err != nil {
		return err
	}
	if missing := keyring.Missing(ids); len(missing) > 0 {
		return fmt.Errorf("AGENTHOOKS_ENCRYPTION_KEY: webhook secrets are sealed with keys it does not hold (key ids %s); "+
			"give every key still in use (the new one first), and run 'agenthooks migrate --reencrypt' before dropping one", strings.Join(missing, ", "))
	}
	return nil
}

// openEngine opens the engine a database URL names.
func openEngine(ctx context.Context, databaseURL string, log *slog.Logger, owner bool, keyring *sqlstore.Keyring) (agenthooks.Store, error) {
	switch path, isSQLite := sqlitePath(databaseURL); {
	case isSQLite:
		s, err := sqlite.Open(ctx, path, sqlite.Options{Owner: owner, Logger: log, Keyring: keyring})
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

// sqliteMustExist refuses an sqlite: URL whose file does not exist: the
// account commands open a database that serve or migrate made, and opening
// a typo would silently create an empty one (issue 26). Only serve and
// migrate create the file.
func sqliteMustExist(databaseURL string) error {
	path, isSQLite := sqlitePath(databaseURL)
	if !isSQLite || path == "" || path == ":memory:" || strings.Contains(path, "mode=memory") {
		return nil
	}
	file, _, _ := strings.Cut(strings.TrimPrefix(path, "file:"), "?")
	if _, err := os.Stat(file); errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("the SQLite file %s does not exist: check AGENTHOOKS_DATABASE_URL (or --database-url); 'agenthooks migrate' or 'agenthooks serve' creates it", file)
	}
	return nil
}

// sqlitePath returns the file an sqlite: URL names.
func sqlitePath(databaseURL string) (string, bool) {
	if !strings.HasPrefix(databaseURL, "sqlite:") {
		return "", false
	}
	return strings.TrimPrefix(strings.TrimPrefix(databaseURL, "sqlite:"), "//"), true
}

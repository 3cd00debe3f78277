package main

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/agenthooks/agenthooks"
	"github.com/agenthooks/agenthooks/postgres"
	"github.com/agenthooks/agenthooks/sqlite"
)

// openStore opens the store a database URL names, applying migrations.
// owner is true for serve, the process that owns an SQLite file and runs
// its workers (sqlite.Options.Owner); false for the commands that open it
// beside a running serve.
func openStore(ctx context.Context, databaseURL string, log *slog.Logger, owner bool) (agenthooks.Store, error) {
	switch path, isSQLite := sqlitePath(databaseURL); {
	case isSQLite:
		s, err := sqlite.Open(ctx, path, sqlite.Options{Owner: owner, Logger: log})
		if err != nil {
			return nil, fmt.Errorf("open %s: %w", databaseURL, err)
		}
		return s, nil
	case postgres.IsURL(databaseURL):
		s, err := postgres.Open(ctx, databaseURL, postgres.Options{Logger: log})
		if err != nil {
			return nil, fmt.Errorf("open %s: %w", redactURL(databaseURL), err)
		}
		return s, nil
	}
	return nil, fmt.Errorf("AGENTHOOKS_DATABASE_URL %q: must start with sqlite: or postgres://", redactURL(databaseURL))
}

// sqlitePath returns the file an sqlite: URL names.
func sqlitePath(databaseURL string) (string, bool) {
	if !strings.HasPrefix(databaseURL, "sqlite:") {
		return "", false
	}
	return strings.TrimPrefix(strings.TrimPrefix(databaseURL, "sqlite:"), "//"), true
}

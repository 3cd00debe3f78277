package main

import (
	"context"
	"fmt"
	"io"

	"github.com/agenthooks/agenthooks"
	"github.com/agenthooks/agenthooks/service"
)

// migrateCmd applies migrations (opening the store does) and exits; with
// --reencrypt it also seals every webhook secret with the first key of
// AGENTHOOKS_ENCRYPTION_KEY.
func migrateCmd(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	fs := newFlagSet("migrate", stderr)
	load := configFlags(fs, getenv, "AGENTHOOKS_DATABASE_URL", "AGENTHOOKS_ENCRYPTION_KEY")
	reencrypt := fs.Bool("reencrypt", false, "also re-encrypt every webhook secret with the first key of AGENTHOOKS_ENCRYPTION_KEY (after a key rotation)")
	h := help{"agenthooks migrate [--reencrypt] [flags]",
		"Applies the schema migrations the database lacks, then exits (serve applies them too);\n--reencrypt also seals every webhook secret with the first encryption key."}
	if code, done := parseFlags(fs, args, h, stdout, stderr); done {
		return code
	}
	cfg, err := load()
	if err != nil {
		fmt.Fprintf(stderr, "agenthooks: %v\n", err)
		return 2
	}
	if *reencrypt && len(cfg.EncryptionKeys) == 0 {
		fmt.Fprintln(stderr, "agenthooks: migrate --reencrypt needs AGENTHOOKS_ENCRYPTION_KEY (the new key first, then the old ones)")
		return 2
	}
	log := newLogger(cfg, stderr)
	var store agenthooks.Store
	if *reencrypt {
		store, err = openStoreKeys(ctx, cfg.DatabaseURL, log, false, cfg.EncryptionKeys)
	} else {
		store, err = openStore(ctx, cfg.DatabaseURL, log, false)
	}
	if err != nil {
		fmt.Fprintf(stderr, "agenthooks: %v\n", err)
		return 1
	}
	defer store.Close()
	fmt.Fprintf(stdout, "migrations applied (%s)\n", store.Engine())
	if !*reencrypt {
		return 0
	}
	n, err := service.New(store, nil, nil).ReencryptSecrets(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "agenthooks: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "re-encrypted the secrets of %d webhooks with the first key\n", n)
	return 0
}

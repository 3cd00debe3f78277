package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"

	"github.com/agenthooks/agenthooks"
	"github.com/agenthooks/agenthooks/service"
)

// migrateCmd applies migrations (opening the store does) and exits; with
// --reencrypt it also seals every webhook secret with the first key of
// AGENTHOOKS_ENCRYPTION_KEY.
func migrateCmd(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	load := configFlags(fs, getenv)
	reencrypt := fs.Bool("reencrypt", false, "also re-encrypt every webhook secret with the first key of AGENTHOOKS_ENCRYPTION_KEY (after a key rotation)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	cfg, err := load()
	if err != nil {
		fmt.Fprintf(stderr, "agenthooks: %v\n", err)
		return 2
	}
	log := newLogger(cfg, stderr)
	open := openStore
	if *reencrypt {
		open = func(ctx context.Context, url string, log *slog.Logger) (agenthooks.Store, error) {
			return openStoreKeys(ctx, url, log, cfg.EncryptionKeys)
		}
	}
	store, err := open(ctx, cfg.DatabaseURL, log)
	if err != nil {
		fmt.Fprintf(stderr, "agenthooks: %v\n", err)
		return 1
	}
	defer store.Close()
	fmt.Fprintf(stdout, "migrations applied (%s)\n", store.Engine())
	if *reencrypt {
		return reencryptSecrets(ctx, store, cfg, stdout, stderr)
	}
	return 0
}

// reencryptSecrets is migrate --reencrypt: every webhook secret is sealed
// with the first key of AGENTHOOKS_ENCRYPTION_KEY (rotation: put the new key
// first, run this, then drop the old key).
func reencryptSecrets(ctx context.Context, store agenthooks.Store, cfg *Config, stdout, stderr io.Writer) int {
	if len(cfg.EncryptionKeys) == 0 {
		fmt.Fprintln(stderr, "agenthooks: migrate --reencrypt needs AGENTHOOKS_ENCRYPTION_KEY (the new key first, then the old ones)")
		return 2
	}
	n, err := service.New(store, nil, nil).ReencryptSecrets(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "agenthooks: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "re-encrypted the secrets of %d webhooks with the first key\n", n)
	return 0
}

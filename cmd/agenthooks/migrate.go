package main

import (
	"context"
	"fmt"
	"io"
)

// migrateCmd applies migrations (opening the store does) and exits.
func migrateCmd(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	fs := newFlagSet("migrate", stderr)
	load := configFlags(fs, getenv, "AGENTHOOKS_DATABASE_URL")
	h := help{"agenthooks migrate [flags]",
		"Applies the schema migrations the database lacks, then exits (serve applies them too)."}
	if code, done := parseFlags(fs, args, h, stdout, stderr); done {
		return code
	}
	cfg, err := load()
	if err != nil {
		fmt.Fprintf(stderr, "agenthooks: %v\n", err)
		return 2
	}
	log := newLogger(cfg, stderr)
	store, err := openStore(ctx, cfg.DatabaseURL, log, false)
	if err != nil {
		fmt.Fprintf(stderr, "agenthooks: %v\n", err)
		return 1
	}
	defer store.Close()
	fmt.Fprintf(stdout, "migrations applied (%s)\n", store.Engine())
	return 0
}

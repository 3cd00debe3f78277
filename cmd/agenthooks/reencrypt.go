package main

import (
	"context"
	"fmt"
	"io"

	"github.com/agenthooks/agenthooks"
	"github.com/agenthooks/agenthooks/service"
)

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

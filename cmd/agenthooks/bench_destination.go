package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/agenthooks/agenthooks/internal/destbench"
)

// benchDestination is `bench --destination rabbitmq|nats|redis`: an
// agenthooks of its own on a fresh SQLite file drains --events events to
// the broker (--webhooks webhooks, each with the broker as destination),
// then a plain publisher measures the broker's own rate in the same run.
func benchDestination(ctx context.Context, o destbench.Options, stdout, stderr io.Writer, getenv func(string) string) int {
	dir, err := os.MkdirTemp("", "agenthooks-bench-")
	if err != nil {
		fmt.Fprintf(stderr, "agenthooks bench: %v\n", err)
		return 1
	}
	defer os.RemoveAll(dir)
	fixed := map[string]string{
		"AGENTHOOKS_DATABASE_URL":            "sqlite:" + filepath.Join(dir, "bench.db"),
		"AGENTHOOKS_ADDR":                    "127.0.0.1:0",
		"AGENTHOOKS_ALLOW_PRIVATE_ENDPOINTS": "true", // the broker is on loopback
		"AGENTHOOKS_IDLE_CLOSE":              "0",
		"AGENTHOOKS_API_RATE_LIMIT":          "0",
		"AGENTHOOKS_LOG_LEVEL":               "warn",
		"AGENTHOOKS_DATABASE_URL_FILE":       "",
	}
	env := func(k string) string {
		if v, ok := fixed[k]; ok {
			return v
		}
		return getenv(k)
	}
	a, first, err := startInProcess(ctx, "all", env, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "agenthooks bench: %v\n", err)
		return 1
	}
	defer a.stop()
	res, err := destbench.Run(ctx, o, &destbench.Server{URL: a.URL(), APIKey: first.APIKey, Pause: a.pool.Pause, Resume: a.pool.Resume})
	if err != nil {
		fmt.Fprintf(stderr, "agenthooks bench: %v\n", err)
		return 1
	}
	return printJSON(stdout, res)
}

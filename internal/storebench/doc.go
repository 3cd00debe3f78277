// Package storebench holds the Go benchmarks of the stores' hot paths, run
// against both engines on real databases (a fresh SQLite file; a fresh
// PostgreSQL database on AGENTHOOKS_TEST_DATABASE_URL's server):
//
//	go test -run '^$' -bench . -benchtime 2s ./internal/storebench
//
// It has no code of its own; docs/benchmarks.md has the figures of the
// development machine.
package storebench

// Package testdb gives tests fresh, empty databases of both engines: a file in
// t.TempDir() for SQLite, and a newly created database on the PostgreSQL server
// named by AGENTHOOKS_TEST_DATABASE_URL (dropped at the end of the test).
//
// When that server cannot be reached, PostgreSQL tests are skipped on a
// developer's machine and fail in CI (CI=true), so that a green CI run means
// both engines were tested.
package testdb

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/agenthooks/agenthooks"
	"github.com/agenthooks/agenthooks/postgres"
	"github.com/agenthooks/agenthooks/sqlite"
	"github.com/agenthooks/agenthooks/sqlstore"
)

// DefaultPostgresURL is the server used when AGENTHOOKS_TEST_DATABASE_URL is
// unset: a local PostgreSQL with trust authentication.
const DefaultPostgresURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// SQLitePath returns the path of a database file, not yet created, in a
// directory removed at the end of t.
func SQLitePath(t testing.TB) string {
	t.Helper()
	return filepath.Join(t.TempDir(), "agenthooks.db")
}

// ServerURL returns the URL of the PostgreSQL server tests create their
// databases on (AGENTHOOKS_TEST_DATABASE_URL, default DefaultPostgresURL).
func ServerURL() string {
	if u := os.Getenv("AGENTHOOKS_TEST_DATABASE_URL"); u != "" {
		return u
	}
	return DefaultPostgresURL
}

var (
	probeOnce sync.Once
	probeErr  error
	dbCounter atomic.Int64
	runID     = randomHex(3)
)

// probe connects to the server once per test binary, so that a server that is
// down costs one failed connection, not one per test.
func probe(serverURL string) error {
	probeOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, serverURL)
		if err != nil {
			probeErr = err
			return
		}
		probeErr = conn.Close(ctx)
	})
	return probeErr
}

// PostgresURL creates a fresh database on the test server and returns its URL;
// the database is dropped (its sessions ended) at the end of t, after the
// cleanups registered later, such as closing a store, have run. If the server
// is unreachable, it skips t, or fails it when CI=true.
func PostgresURL(t testing.TB) string {
	t.Helper()
	server := ServerURL()
	if err := probe(server); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("testdb: PostgreSQL at AGENTHOOKS_TEST_DATABASE_URL is required in CI: %v", err)
		}
		t.Skipf("testdb: skipping, PostgreSQL unreachable (set AGENTHOOKS_TEST_DATABASE_URL or start a local server): %v", err)
	}
	// Unique across parallel tests and concurrently running test binaries.
	name := fmt.Sprintf("agenthooks_test_%d_%s_%d", os.Getpid(), runID, dbCounter.Add(1))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	u, err := postgres.CreateDatabase(ctx, server, name)
	if err != nil {
		t.Fatalf("testdb: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := postgres.DropDatabase(ctx, server, name); err != nil {
			t.Errorf("testdb: %v", err)
		}
	})
	return u
}

// OpenSQLite opens a store on a fresh SQLite file with clock now; the store is
// closed at the end of t.
func OpenSQLite(t testing.TB, now func() time.Time) agenthooks.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), SQLitePath(t), sqlite.Options{Now: now})
	if err != nil {
		t.Fatalf("testdb: open sqlite: %v", err)
	}
	closeAtCleanup(t, s)
	return s
}

// OpenPostgres opens a store on a fresh PostgreSQL database with clock now;
// the store is closed, then the database dropped, at the end of t. The pool is
// kept small so that parallel tests stay under the server's max_connections.
func OpenPostgres(t testing.TB, now func() time.Time) agenthooks.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), PostgresURL(t), postgres.Options{Now: now, MaxConns: 8})
	if err != nil {
		t.Fatalf("testdb: open postgres: %v", err)
	}
	closeAtCleanup(t, s)
	return s
}

func closeAtCleanup(t testing.TB, s agenthooks.Store) {
	t.Cleanup(func() {
		if err := s.Close(); err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("testdb: close %s store: %v", s.Engine(), err)
		}
	})
}

// Engine is one store engine that a test can run against.
type Engine struct {
	// Name is the engine's name, as Store.Engine returns it.
	Name string
	// DSN returns a fresh, empty database for t: a file path (SQLite) or a
	// postgres:// URL. End-to-end tests hand it to the server.
	DSN func(t testing.TB) string
	// Open opens a store with clock now on a fresh database; it is closed at
	// the end of t.
	Open func(t testing.TB, now func() time.Time) agenthooks.Store
}

// Engines lists both engines, SQLite first.
func Engines() []Engine {
	return []Engine{
		{Name: "sqlite", DSN: SQLitePath, Open: OpenSQLite},
		{Name: "postgres", DSN: PostgresURL, Open: OpenPostgres},
	}
}

// ForEachEngine runs fn as one subtest per engine, named by the engine. A
// PostgreSQL subtest is skipped (or fails in CI) when its server is down, as
// PostgresURL says.
func ForEachEngine(t *testing.T, fn func(t *testing.T, e Engine)) {
	t.Helper()
	for _, e := range Engines() {
		t.Run(e.Name, func(t *testing.T) { fn(t, e) })
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b)
}

// MigrationsBefore returns the migrations of ms that come before the one
// named NNN_name.sql, for tests that write rows as an older schema had them;
// the test fails when ms has no such migration.
func MigrationsBefore(t testing.TB, ms []sqlstore.Migration, name string) []sqlstore.Migration {
	t.Helper()
	for i, m := range ms {
		if strings.HasSuffix(m.Name, "_"+name+".sql") {
			return ms[:i]
		}
	}
	t.Fatalf("no %s migration", name)
	return nil
}

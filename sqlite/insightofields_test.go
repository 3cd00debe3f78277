package sqlite_test

import (
	"database/sql"
	"testing"

	"github.com/agenthooks/agenthooks/internal/testdb"
	"github.com/agenthooks/agenthooks/sqlite"
	"github.com/agenthooks/agenthooks/sqlstore"
	"github.com/agenthooks/agenthooks/storetest"
)

// Rows written before the insighto_fields migration keep reading
// (storetest.InsightoFieldsMigrationSeed); the migration is found by name.
func TestInsightoFieldsMigration(t *testing.T) {
	t.Parallel()
	path := testdb.SQLitePath(t)
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	conn, err := db.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	before := testdb.MigrationsBefore(t, sqlite.Migrations(), "insighto_fields")
	if _, err := sqlstore.Migrate(t.Context(), conn, &sqlstore.Dialect{}, before); err != nil {
		t.Fatalf("migrate to before the insighto_fields migration: %v", err)
	}
	for _, stmt := range storetest.InsightoFieldsMigrationSeed {
		if _, err := conn.ExecContext(t.Context(), stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	if err := conn.Close(); err != nil {
		t.Fatal(err)
	}
	storetest.CheckInsightoFieldsMigration(t, open(t, path))
}

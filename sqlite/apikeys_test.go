package sqlite_test

import (
	"database/sql"
	"testing"

	"github.com/agenthooks/agenthooks/internal/testdb"
	"github.com/agenthooks/agenthooks/service"
	"github.com/agenthooks/agenthooks/sqlite"
	"github.com/agenthooks/agenthooks/sqlstore"
	"github.com/agenthooks/agenthooks/storetest"
)

// TestMigrateLegacyKeys: keys stored before the API-key migration keep
// working, and get an id, the name "default" and a prefix.
func TestMigrateLegacyKeys(t *testing.T) {
	t.Parallel()
	path := testdb.SQLitePath(t)
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := db.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sqlstore.Migrate(t.Context(), conn, &sqlstore.Dialect{}, sqlite.Migrations()[:3]); err != nil {
		t.Fatal(err)
	}
	account := storetest.NewID()
	hashes := []string{service.HashAPIKey("ak_one"), service.HashAPIKey("ak_two")}
	for _, q := range storetest.LegacyKeys(account, hashes) {
		if _, err := conn.ExecContext(t.Context(), q); err != nil {
			t.Fatal(err)
		}
	}
	conn.Close()
	db.Close()
	storetest.CheckLegacyKeys(t, open(t, path), account, hashes)
}

package postgres_test

import (
	"testing"

	"github.com/jackc/pgx/v5/stdlib"

	"github.com/agenthooks/agenthooks/internal/testdb"
	"github.com/agenthooks/agenthooks/postgres"
	"github.com/agenthooks/agenthooks/service"
	"github.com/agenthooks/agenthooks/sqlstore"
	"github.com/agenthooks/agenthooks/storetest"
)

// TestMigrateLegacyKeys: keys stored before the API-key migration keep
// working, and get an id, the name "default" and a prefix.
func TestMigrateLegacyKeys(t *testing.T) {
	t.Parallel()
	url := testdb.PostgresURL(t)
	cfg, err := postgres.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	db := stdlib.OpenDB(*cfg)
	conn, err := db.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sqlstore.Migrate(t.Context(), conn, &sqlstore.Dialect{Numbered: true}, postgres.Migrations()[:3]); err != nil {
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
	storetest.CheckLegacyKeys(t, openOn(t, url, nil, 2), account, hashes)
}

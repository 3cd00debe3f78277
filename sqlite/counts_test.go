package sqlite_test

import (
	"database/sql"
	"fmt"
	"strings"
	"testing"

	"github.com/agenthooks/agenthooks/internal/testdb"
	"github.com/agenthooks/agenthooks/sqlite"
	"github.com/agenthooks/agenthooks/sqlstore"
	"github.com/agenthooks/agenthooks/storetest"
)

// TestMigrateCanceledCount: deliveries canceled before the canceled_count
// migration are counted by it (the counters did not count them).
func TestMigrateCanceledCount(t *testing.T) {
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
	ms := sqlite.Migrations()
	before := len(testdb.MigrationsBefore(t, ms, "canceled_count"))
	if _, err := sqlstore.Migrate(t.Context(), conn, &sqlstore.Dialect{}, ms[:before]); err != nil {
		t.Fatal(err)
	}
	// Rows with every required column set (no foreign keys checked on this
	// bare connection): three canceled, one pending.
	rows, err := conn.QueryContext(t.Context(), "SELECT name, type FROM pragma_table_info('deliveries') WHERE \"notnull\" = 1 AND dflt_value IS NULL")
	if err != nil {
		t.Fatal(err)
	}
	var cols, kinds []string
	for rows.Next() {
		var name, typ string
		if err := rows.Scan(&name, &typ); err != nil {
			t.Fatal(err)
		}
		cols, kinds = append(cols, name), append(kinds, strings.ToUpper(typ))
	}
	rows.Close()
	for i, status := range []string{"canceled", "canceled", "pending", "canceled"} {
		vals := make([]string, len(cols))
		for j, c := range cols {
			switch {
			case c == "status":
				vals[j] = "'" + status + "'"
			case c == "id":
				vals[j] = "'" + storetest.NewID() + "'"
			case strings.Contains(kinds[j], "INT"):
				vals[j] = fmt.Sprint(i + 1)
			default:
				vals[j] = "'x'"
			}
		}
		if _, err := conn.ExecContext(t.Context(), "INSERT INTO deliveries ("+strings.Join(cols, ", ")+") VALUES ("+strings.Join(vals, ", ")+")"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := sqlstore.Migrate(t.Context(), conn, &sqlstore.Dialect{}, ms); err != nil {
		t.Fatal(err)
	}
	var canceled int
	if err := conn.QueryRowContext(t.Context(), "SELECT canceled FROM delivery_counts WHERE slot = 0").Scan(&canceled); err != nil {
		t.Fatal(err)
	}
	if canceled != 3 {
		t.Errorf("after the migration delivery_counts.canceled = %d, want 3 (the canceled rows)", canceled)
	}
	conn.Close()
	db.Close()
}

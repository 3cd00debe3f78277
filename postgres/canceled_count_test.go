package postgres_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/stdlib"

	"github.com/agenthooks/agenthooks/internal/testdb"
	"github.com/agenthooks/agenthooks/postgres"
	"github.com/agenthooks/agenthooks/sqlstore"
	"github.com/agenthooks/agenthooks/storetest"
)

// TestMigrateCanceledCount: deliveries canceled before the canceled_count
// migration are counted by it (the triggers did not count them), and the
// new triggers count a cancel after it.
func TestMigrateCanceledCount(t *testing.T) {
	t.Parallel()
	url := testdb.PostgresURL(t)
	cfg, err := postgres.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	db := stdlib.OpenDB(*cfg)
	defer db.Close()
	conn, err := db.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ms := postgres.Migrations()
	before := len(testdb.MigrationsBefore(t, ms, "canceled_count"))
	d := &sqlstore.Dialect{Numbered: true}
	if _, err := sqlstore.Migrate(t.Context(), conn, d, ms[:before]); err != nil {
		t.Fatal(err)
	}
	// Rows with every required column set, foreign keys off for this
	// session (replica role; the counting triggers are off too, and the
	// backfill does not need them): three canceled, one pending.
	if _, err := conn.ExecContext(t.Context(), "SET session_replication_role = replica"); err != nil {
		t.Fatal(err)
	}
	rows, err := conn.QueryContext(t.Context(), `SELECT column_name, data_type FROM information_schema.columns
		WHERE table_schema = current_schema() AND table_name = 'deliveries' AND is_nullable = 'NO' AND column_default IS NULL`)
	if err != nil {
		t.Fatal(err)
	}
	var cols, kinds []string
	for rows.Next() {
		var name, typ string
		if err := rows.Scan(&name, &typ); err != nil {
			t.Fatal(err)
		}
		cols, kinds = append(cols, name), append(kinds, typ)
	}
	rows.Close()
	for i, status := range []string{"canceled", "canceled", "pending", "canceled"} {
		vals := make([]string, len(cols))
		for j, c := range cols {
			switch {
			case c == "status":
				vals[j] = "'" + status + "'"
			case kinds[j] == "uuid" || c == "id":
				vals[j] = "'" + storetest.NewID() + "'"
			case strings.Contains(kinds[j], "int"), kinds[j] == "numeric":
				vals[j] = fmt.Sprint(i + 1)
			case kinds[j] == "boolean":
				vals[j] = "false"
			case strings.Contains(kinds[j], "json"):
				vals[j] = "'{}'"
			default:
				vals[j] = "'x'"
			}
		}
		if _, err := conn.ExecContext(t.Context(), "INSERT INTO deliveries ("+strings.Join(cols, ", ")+") VALUES ("+strings.Join(vals, ", ")+")"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := conn.ExecContext(t.Context(), "SET session_replication_role = DEFAULT"); err != nil {
		t.Fatal(err)
	}
	if _, err := sqlstore.Migrate(t.Context(), conn, d, ms); err != nil {
		t.Fatal(err)
	}
	canceled := func() int {
		var n int
		if err := conn.QueryRowContext(t.Context(), `SELECT COALESCE(SUM(canceled), 0) FROM (
			SELECT canceled FROM delivery_counts UNION ALL SELECT canceled FROM delivery_count_deltas) c`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := canceled(); n != 3 {
		t.Errorf("after the migration %d canceled counted, want 3 (the canceled rows)", n)
	}
	// The new triggers: the pending one canceled.
	if _, err := conn.ExecContext(t.Context(), "UPDATE deliveries SET status = 'canceled' WHERE status = 'pending'"); err != nil {
		t.Fatal(err)
	}
	if n := canceled(); n != 4 {
		t.Errorf("after a cancel %d canceled counted, want 4", n)
	}
}

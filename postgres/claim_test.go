package postgres_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/agenthooks/agenthooks/internal/testdb"
	"github.com/agenthooks/agenthooks/postgres"
	"github.com/agenthooks/agenthooks/sqlstore"
)

// The claim reads the due deliveries in the order of the due index and
// stops at its limit, whatever the planner knows of the tables. On a
// database whose tables had never been analysed (a new deployment, every
// bench run; this machine's server runs without autovacuum) it planned a
// nested loop over the webhooks that read every pending delivery of each
// and sorted them all (148 ms per claim of 64 out of 20,000 pending), and
// without the join a bitmap scan of every due delivery and a sort
// (docs/benchmarks.md, "The claim's plan").
func TestClaimPlanFollowsDueIndex(t *testing.T) {
	t.Parallel()
	url := testdb.PostgresURL(t)
	s, err := postgres.Open(t.Context(), url, postgres.Options{MaxConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	for range 10 {
		seed(t, s, 200, base)
	}
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(t.Context())
	// Numbered placeholders, as the store sends it.
	q := postgres.ClaimSQL
	for i := 1; strings.Contains(q, "?"); i++ {
		q = strings.Replace(q, "?", fmt.Sprintf("$%d", i), 1)
	}
	now := sqlstore.Micros(base)
	for _, mode := range []string{"auto", "force_generic_plan"} {
		tx, err := conn.Begin(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		for _, stmt := range []string{"SET LOCAL plan_cache_mode = " + mode, postgres.ClaimPlan} {
			if _, err := tx.Exec(t.Context(), stmt); err != nil {
				t.Fatalf("%s: %v", stmt, err)
			}
		}
		rows, err := tx.Query(t.Context(), "EXPLAIN "+q, now+60_000_000, now, now, 64)
		if err != nil {
			t.Fatalf("explain the claim: %v", err)
		}
		lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		_ = tx.Rollback(t.Context())
		plan := strings.Join(lines, "\n")
		if !strings.Contains(plan, "Index Scan using deliveries_due") || strings.Contains(plan, "Sort") {
			t.Errorf("plan_cache_mode %s: the claim does not read the due index in order:\n%s", mode, plan)
		}
	}
}

package postgres_test

import (
	"strings"
	"testing"

	"github.com/agenthooks/agenthooks/internal/testdb"
	"github.com/agenthooks/agenthooks/postgres"
	"github.com/agenthooks/agenthooks/storetest"
)

// A URL's pool_max_conns sizes the store's pool (an explicit
// Options.MaxConns wins), and the server never sees it.
func TestOpenPoolMaxConns(t *testing.T) {
	t.Parallel()
	url := testdb.PostgresURL(t)
	sep := "?"
	if strings.Contains(url, "?") {
		sep = "&"
	}
	for _, tt := range []struct {
		name    string
		query   string
		options int
		want    int
	}{
		{"Default", "", 0, 32},
		{"FromURL", sep + "pool_max_conns=3", 0, 3},
		{"OptionsWin", sep + "pool_max_conns=3", 5, 5},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, err := postgres.Open(t.Context(), url+tt.query, postgres.Options{MaxConns: tt.options})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if got := postgres.PoolSize(s); got != tt.want {
				t.Errorf("pool size %d, want %d", got, tt.want)
			}
		})
	}
	// The bench and the tests create and drop databases on such a URL too.
	name := "agenthooks_pool_max_conns_" + strings.ReplaceAll(storetest.NewID(), "-", "")
	u, err := postgres.CreateDatabase(t.Context(), testdb.ServerURL()+sep+"pool_max_conns=2", name)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(u, "pool_max_conns=2") {
		t.Errorf("the new database's URL %q lost pool_max_conns", u)
	}
	if err := postgres.DropDatabase(t.Context(), testdb.ServerURL()+sep+"pool_max_conns=2", name); err != nil {
		t.Fatal(err)
	}
}

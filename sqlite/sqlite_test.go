package sqlite_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/agenthooks/agenthooks"
	"github.com/agenthooks/agenthooks/internal/testdb"
	"github.com/agenthooks/agenthooks/sqlite"
	"github.com/agenthooks/agenthooks/sqlstore"
	"github.com/agenthooks/agenthooks/storetest"

	msqlite "modernc.org/sqlite"
)

func TestExercise(t *testing.T) {
	t.Parallel()
	storetest.Exercise(t, testdb.OpenSQLite)
}

func open(t *testing.T, path string) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(t.Context(), path, sqlite.Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// Every connection, the writer's and each reader's, must run with the
// durability settings: a pragma set on one connection only would leave the
// others in the default rollback-journal, synchronous=NORMAL... state.
func TestPragmas(t *testing.T) {
	t.Parallel()
	s := open(t, testdb.SQLitePath(t))
	tests := []struct {
		pragma       string
		write        string
		read         string
		whyItMatters string
	}{
		{"journal_mode", "wal", "wal", "readers beside the writer"},
		{"synchronous", "2", "2", "FULL: a commit fsyncs the WAL before an API call answers"},
		{"busy_timeout", "10000", "10000", "other processes' writes are waited for, not failed"},
		{"foreign_keys", "1", "1", "account references are enforced"},
		{"query_only", "0", "1", "the read pool cannot write"},
	}
	for _, tt := range tests {
		t.Run(tt.pragma, func(t *testing.T) {
			// Several reads so that more than one pooled read connection is checked.
			for range 3 {
				w, r, err := s.Pragma(t.Context(), tt.pragma)
				if err != nil {
					t.Fatalf("Pragma(%s): %v", tt.pragma, err)
				}
				if w != tt.write || r != tt.read {
					t.Errorf("%s = %q on the write connection, %q on a read connection; want %q, %q (%s)", tt.pragma, w, r, tt.write, tt.read, tt.whyItMatters)
				}
			}
		})
	}
}

func TestMigrations(t *testing.T) {
	t.Parallel()

	t.Run("EmbeddedAndWellFormed", func(t *testing.T) {
		t.Parallel()
		ms := sqlite.Migrations()
		if len(ms) == 0 {
			t.Fatal("no embedded migrations")
		}
		name := regexp.MustCompile(`^\d{3}_[a-z0-9_]+\.sql$`)
		for i, m := range ms {
			if m.Version != i+1 {
				t.Errorf("migration %d has version %d", i, m.Version)
			}
			if !name.MatchString(m.Name) || !strings.HasPrefix(m.Name, fmt.Sprintf("%03d_", m.Version)) {
				t.Errorf("migration name %q does not match NNN_name.sql with NNN = %d", m.Name, m.Version)
			}
			if strings.TrimSpace(m.SQL) == "" {
				t.Errorf("migration %s is empty", m.Name)
			}
		}
	})

	t.Run("ReopenIsIdempotent", func(t *testing.T) {
		t.Parallel()
		path := testdb.SQLitePath(t)
		s1, err := sqlite.Open(t.Context(), path, sqlite.Options{})
		if err != nil {
			t.Fatalf("first Open: %v", err)
		}
		acct := &agenthooks.Account{ID: storetest.NewID(), Name: "kept", CreatedAt: time.Now()}
		if err := s1.Write(t.Context(), func(tx agenthooks.Tx) error { return tx.CreateAccount(acct, "h") }); err != nil {
			t.Fatal(err)
		}
		// A second store on the same file while the first is open (another
		// process, such as "agenthooks account create"), then a reopen.
		s2 := open(t, path)
		if err := s1.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		s3 := open(t, path)
		for _, s := range []*sqlite.Store{s2, s3} {
			count, max := schemaVersions(t, s)
			if count != len(sqlite.Migrations()) || max != len(sqlite.Migrations()) {
				t.Errorf("schema_migrations: %d rows, max version %d; want %d each", count, max, len(sqlite.Migrations()))
			}
			if err := s.Read(t.Context(), func(tx agenthooks.Tx) error {
				_, err := tx.FindAccountByKeyHash("h")
				return err
			}); err != nil {
				t.Errorf("account lost across reopen: %v", err)
			}
		}
	})

	t.Run("RefusesNewerSchema", func(t *testing.T) {
		t.Parallel()
		path := testdb.SQLitePath(t)
		s, err := sqlite.Open(t.Context(), path, sqlite.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		// A newer binary migrated this file.
		db, err := sql.Open("sqlite", "file:"+path)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if _, err := db.ExecContext(t.Context(), "INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, '999_future.sql', 0)"); err != nil {
			t.Fatal(err)
		}
		if s, err := sqlite.Open(t.Context(), path, sqlite.Options{}); err == nil {
			s.Close()
			t.Fatal("Open succeeded on a database with a newer schema")
		} else if !strings.Contains(err.Error(), "newer") {
			t.Errorf("Open error = %v, want one that says the schema is newer", err)
		}
	})
}

func schemaVersions(t *testing.T, s *sqlite.Store) (count, maxVersion int) {
	t.Helper()
	err := s.Read(t.Context(), func(tx agenthooks.Tx) error {
		return tx.(*sqlstore.Tx).QueryRowForTest("SELECT COUNT(*), MAX(version) FROM schema_migrations").Scan(&count, &maxVersion)
	})
	if err != nil {
		t.Fatalf("read schema_migrations: %v", err)
	}
	return count, maxVersion
}

func TestOpenErrors(t *testing.T) {
	t.Parallel()
	for _, path := range []string{"", "a?b.db", "a#b.db"} {
		if s, err := sqlite.Open(t.Context(), path, sqlite.Options{}); err == nil {
			s.Close()
			t.Errorf("Open(%q) succeeded", path)
		}
	}
}

func TestClose(t *testing.T) {
	t.Parallel()

	t.Run("LaterWritesFail", func(t *testing.T) {
		t.Parallel()
		path := testdb.SQLitePath(t)
		s, err := sqlite.Open(t.Context(), path, sqlite.Options{})
		if err != nil {
			t.Fatal(err)
		}
		acct := &agenthooks.Account{ID: storetest.NewID(), Name: "before close", CreatedAt: time.Now()}
		if err := s.Write(t.Context(), func(tx agenthooks.Tx) error { return tx.CreateAccount(acct, "h") }); err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		for i := range 20 { // Write picks among ready channels at random: try it often
			var ran atomic.Bool
			errc := make(chan error, 1)
			go func() { errc <- s.Write(t.Context(), func(tx agenthooks.Tx) error { ran.Store(true); return nil }) }()
			var err error
			select {
			case err = <-errc:
			case <-time.After(10 * time.Second):
				t.Fatalf("Write %d after Close did not return within 10s", i)
			}
			if !errors.Is(err, sqlite.ErrClosed) || agenthooks.ErrorCode(err) != agenthooks.EUNAVAILABLE {
				t.Fatalf("Write %d after Close = %v, want ErrClosed (EUNAVAILABLE)", i, err)
			}
			if ran.Load() {
				t.Fatal("fn ran after Close")
			}
		}
		if err := s.Read(t.Context(), func(tx agenthooks.Tx) error { return nil }); err == nil {
			t.Error("Read after Close succeeded")
		}
		if err := s.Close(); err != nil {
			t.Errorf("second Close = %v, want nil", err)
		}
		// What was committed before Close is on disk.
		s2 := open(t, path)
		if err := s2.Read(t.Context(), func(tx agenthooks.Tx) error {
			_, err := tx.FindAccountByID(acct.ID)
			return err
		}); err != nil {
			t.Errorf("write committed before Close is lost: %v", err)
		}
	})

	// Writes racing Close each end, committed or with ErrClosed; none hangs,
	// and every write reported committed is on disk.
	t.Run("WritesRacingClose", func(t *testing.T) {
		t.Parallel()
		for round := range 10 {
			path := testdb.SQLitePath(t)
			s, err := sqlite.Open(t.Context(), path, sqlite.Options{})
			if err != nil {
				t.Fatal(err)
			}
			const writers = 32
			ids := make([]string, writers)
			errs := make([]error, writers)
			var wg sync.WaitGroup
			for i := range writers {
				ids[i] = storetest.NewID()
				wg.Add(1)
				go func() {
					defer wg.Done()
					errs[i] = s.Write(context.Background(), func(tx agenthooks.Tx) error {
						return tx.CreateAccount(&agenthooks.Account{ID: ids[i], Name: "racer", CreatedAt: time.Now()}, ids[i])
					})
				}()
			}
			if err := s.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			done := make(chan struct{})
			go func() { wg.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(30 * time.Second):
				t.Fatalf("round %d: writes racing Close did not return within 30s", round)
			}
			s2 := open(t, path)
			for i, err := range errs {
				if err != nil && !errors.Is(err, sqlite.ErrClosed) {
					t.Errorf("round %d: write %d = %v, want nil or ErrClosed", round, i, err)
				}
				if err != nil {
					continue
				}
				if err := s2.Read(t.Context(), func(tx agenthooks.Tx) error {
					_, err := tx.FindAccountByID(ids[i])
					return err
				}); err != nil {
					t.Errorf("round %d: write %d reported committed but is missing: %v", round, i, err)
				}
			}
			s2.Close()
		}
	})
}

// cancelCaller is called by the SQL function agenthooks_test_cancel, which a
// statement runs to end its caller's context while the statement is running.
var cancelCaller atomic.Pointer[context.CancelFunc]

func init() {
	msqlite.MustRegisterScalarFunction("agenthooks_test_cancel", 1, func(_ *msqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
		if args[0] == int64(1) {
			if cancel := cancelCaller.Load(); cancel != nil {
				(*cancel)()
				// The driver interrupts from another goroutine: give it time
				// to flag the statement, which then still has rows to go.
				time.Sleep(20 * time.Millisecond)
			}
		}
		return int64(0), nil
	})
}

// One caller's context ending while its fn runs inside a group commit must not
// undo or fail the other callers' writes in the same transaction. (SQLite
// rolls back the whole transaction when a write statement is interrupted, as
// the driver does when a statement's context ends.)
func TestCanceledCallerInGroupCommit(t *testing.T) {
	t.Parallel()
	s := open(t, testdb.SQLitePath(t))

	// Hold the writer so that the next writes queue up and share one batch.
	release := make(chan struct{})
	holding := make(chan struct{})
	go func() {
		_ = s.Write(context.Background(), func(tx agenthooks.Tx) error {
			close(holding)
			<-release
			return nil
		})
	}()
	<-holding

	const good = 10
	var wg sync.WaitGroup
	goodErrs := make([]error, good)
	ids := make([]string, good)
	for i := range good {
		ids[i] = storetest.NewID()
		wg.Add(1)
		go func() {
			defer wg.Done()
			goodErrs[i] = s.Write(context.Background(), func(tx agenthooks.Tx) error {
				return tx.CreateAccount(&agenthooks.Account{ID: ids[i], Name: "good", CreatedAt: time.Now()}, ids[i])
			})
		}()
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cancelCaller.Store(&cancel)
	wg.Add(1)
	go func() {
		defer wg.Done()
		_ = s.Write(ctx, func(tx agenthooks.Tx) error {
			// A write statement whose caller gives up while it runs.
			return tx.(*sqlstore.Tx).QueryRowForTest(`WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 20000)
				UPDATE accounts SET name = name WHERE id IN (SELECT 'none-' || x FROM c WHERE agenthooks_test_cancel(x) = 0)`).Scan()
		})
	}()
	time.Sleep(50 * time.Millisecond) // let the writes queue behind the held one
	close(release)
	wg.Wait()
	if ctx.Err() == nil {
		t.Fatal("the statement did not run: the test proves nothing")
	}

	for i, err := range goodErrs {
		if err != nil {
			t.Errorf("write %d failed because another caller's context ended: %v", i, err)
			continue
		}
		if err := s.Read(t.Context(), func(tx agenthooks.Tx) error {
			_, err := tx.FindAccountByID(ids[i])
			return err
		}); err != nil {
			t.Errorf("write %d reported committed but is missing: %v", i, err)
		}
	}
}

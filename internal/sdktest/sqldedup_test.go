package sdktest_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite"

	"github.com/agenthooks/agenthooks/internal/testdb"
	"github.com/agenthooks/agenthooks/webhook"
	"github.com/agenthooks/agenthooks/webhook/dedupetest"
	"github.com/agenthooks/agenthooks/webhook/signature"
)

// fakeClock is a settable clock, safe for concurrent use.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Date(2024, 4, 10, 18, 16, 50, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// openSQLite opens a fresh SQLite database in a temporary directory, with the
// busy timeout NewSQLDeduper's documentation asks for.
func openSQLite(t testing.TB) (*sql.DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "receiver.db")
	db := openSQLitePath(t, path)
	return db, path
}

func openSQLitePath(t testing.TB, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// openPostgres opens a fresh database of its own on the test server.
func openPostgres(t testing.TB) *sql.DB {
	t.Helper()
	db, err := sql.Open("pgx", testdb.PostgresURL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func newSQLDeduper(t testing.TB, db *sql.DB, clock *fakeClock) *webhook.SQLDeduper {
	t.Helper()
	d, err := webhook.NewSQLDeduper(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	d.Now = clock.Now
	return d
}

// TestSQLDeduperConformance runs the Deduper conformance suite on SQLDeduper
// over both databases it supports.
func TestSQLDeduperConformance(t *testing.T) {
	t.Parallel()
	for name, open := range map[string]func(t testing.TB) *sql.DB{
		"SQLite":     func(t testing.TB) *sql.DB { db, _ := openSQLite(t); return db },
		"PostgreSQL": openPostgres,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dedupetest.Exercise(t, func(t *testing.T, ttl time.Duration, now func() time.Time) webhook.Deduper {
				d, err := webhook.NewSQLDeduper(context.Background(), open(t))
				if err != nil {
					t.Fatal(err)
				}
				d.Now, d.TTL = now, ttl
				d.ClaimTimeout = 24 * time.Hour // claims outlive every test here
				return d
			})
		})
	}
}

func TestSQLDeduper(t *testing.T) {
	t.Parallel()

	ctx := context.Background()

	t.Run("AbandonedClaimTimesOut", func(t *testing.T) {
		t.Parallel()
		db, _ := openSQLite(t)
		clock := newFakeClock()
		d := newSQLDeduper(t, db, clock)
		if s, err := d.Claim(ctx, "a"); err != nil || s != webhook.Claimed {
			t.Fatalf("Claim = %v, %v", s, err)
		}
		clock.Advance(webhook.DefaultClaimTimeout - time.Millisecond)
		if s, err := d.Claim(ctx, "a"); err != nil || s != webhook.InProgress {
			t.Fatalf("Claim before the timeout = %v, %v; want in progress", s, err)
		}
		clock.Advance(time.Millisecond)
		if s, err := d.Claim(ctx, "a"); err != nil || s != webhook.Claimed {
			t.Fatalf("Claim after the timeout = %v, %v; want claimed", s, err)
		}
	})

	t.Run("SharedAcrossInstancesAndRestarts", func(t *testing.T) {
		t.Parallel()
		db, path := openSQLite(t)
		clock := newFakeClock()
		d1 := newSQLDeduper(t, db, clock)
		if s, _ := d1.Claim(ctx, "a"); s != webhook.Claimed {
			t.Fatalf("Claim = %v", s)
		}
		// A second replica on the same database sees the claim...
		d2 := newSQLDeduper(t, openSQLitePath(t, path), clock)
		if s, err := d2.Claim(ctx, "a"); err != nil || s != webhook.InProgress {
			t.Fatalf("Claim on replica = %v, %v; want in progress", s, err)
		}
		if err := d1.Complete(ctx, "a"); err != nil {
			t.Fatal(err)
		}
		// ...and, after a restart (table creation runs again), the completion.
		db.Close()
		d3 := newSQLDeduper(t, openSQLitePath(t, path), clock)
		if s, err := d3.Claim(ctx, "a"); err != nil || s != webhook.Duplicate {
			t.Fatalf("Claim after restart = %v, %v; want duplicate", s, err)
		}
	})

	t.Run("Prune", func(t *testing.T) {
		t.Parallel()
		db, _ := openSQLite(t)
		clock := newFakeClock()
		d := newSQLDeduper(t, db, clock)
		d.TTL = time.Hour
		d.ClaimTimeout = time.Minute
		for _, id := range []string{"done1", "done2", "claimed"} {
			if _, err := d.Claim(ctx, id); err != nil {
				t.Fatal(err)
			}
		}
		_ = d.Complete(ctx, "done1")
		_ = d.Complete(ctx, "done2")
		clock.Advance(30 * time.Minute)
		_ = d.Complete(ctx, "recent")
		if n, err := d.Prune(ctx); err != nil || n != 1 {
			t.Fatalf("Prune after 30m = %d, %v; want the abandoned claim only", n, err)
		}
		clock.Advance(30 * time.Minute)
		if n, err := d.Prune(ctx); err != nil || n != 2 {
			t.Fatalf("Prune after 1h = %d, %v; want 2", n, err)
		}
		var left int
		if err := db.QueryRow(`SELECT count(*) FROM webhook_deliveries_seen`).Scan(&left); err != nil || left != 1 {
			t.Fatalf("rows left = %d, %v; want 1", left, err)
		}
	})

	t.Run("ClaimPrunesNowAndThen", func(t *testing.T) {
		t.Parallel()
		db, _ := openSQLite(t)
		clock := newFakeClock()
		d := newSQLDeduper(t, db, clock)
		d.TTL = time.Hour
		_ = d.Complete(ctx, "old")
		clock.Advance(2 * time.Hour)
		if _, err := d.Claim(ctx, "new"); err != nil {
			t.Fatal(err)
		}
		var n int
		if err := db.QueryRow(`SELECT count(*) FROM webhook_deliveries_seen WHERE id = 'old'`).Scan(&n); err != nil || n != 0 {
			t.Fatalf("expired row still there: %d, %v", n, err)
		}
	})

	t.Run("ErrClosedDB", func(t *testing.T) {
		t.Parallel()
		db, _ := openSQLite(t)
		d := newSQLDeduper(t, db, newFakeClock())
		db.Close()
		if _, err := d.Claim(ctx, "a"); err == nil {
			t.Fatal("Claim on a closed database succeeded")
		}
		if err := d.Complete(ctx, "a"); err == nil {
			t.Fatal("Complete on a closed database succeeded")
		}
		if err := d.Release(ctx, "a"); err == nil {
			t.Fatal("Release on a closed database succeeded")
		}
		if _, err := webhook.NewSQLDeduper(ctx, db); err == nil {
			t.Fatal("NewSQLDeduper on a closed database succeeded")
		}
	})
}

// TestSQLDeduperWithHandler is the SDK's ExampleNewSQLDeduper, run with a
// driver: the handler's 500 is not remembered, so the platform's retry runs
// the function again, and the copy after the success is a duplicate.
func TestSQLDeduperWithHandler(t *testing.T) {
	t.Parallel()
	db, _ := openSQLite(t)
	dedup, err := webhook.NewSQLDeduper(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	secret, err := signature.NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	v, err := webhook.NewVerifier(secret)
	if err != nil {
		t.Fatal(err)
	}
	calls := 0
	h := webhook.NewHandler(v, func(ctx context.Context, e *webhook.Event) error {
		calls++
		if calls == 1 {
			return errors.New("CRM unavailable")
		}
		return nil
	}, webhook.WithDeduper(dedup))
	key, err := signature.ParseSecret(secret)
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"id":"evt_1","object":"event","event":"webhook.test","created_at":"2024-04-10 18:16:50","data":{"webhook_id":"w1","message":"hello"}}`)
	var codes []int
	for range 3 {
		ts := time.Now().Unix()
		r := httptest.NewRequest(http.MethodPost, "/hooks", bytes.NewReader(body))
		r.Header.Set(signature.HeaderID, "evt_1")
		r.Header.Set(signature.HeaderTimestamp, strconv.FormatInt(ts, 10))
		r.Header.Set(signature.HeaderSignature, signature.Sign(key, "evt_1", ts, body))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		codes = append(codes, w.Code)
	}
	if codes[0] != 500 || codes[1] != 200 || codes[2] != 200 || calls != 2 {
		t.Fatalf("codes %v, %d calls; want [500 200 200], 2 calls", codes, calls)
	}
}

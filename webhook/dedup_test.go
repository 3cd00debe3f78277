package webhook_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"sync"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/agenthooks/agenthooks/webhook"
)

// fakeClock is a settable clock, safe for concurrent use.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{t: testNow} }

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

func newSQLDeduper(t testing.TB, db *sql.DB, clock *fakeClock) *webhook.SQLDeduper {
	t.Helper()
	d, err := webhook.NewSQLDeduper(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	d.Now = clock.Now
	return d
}

const dedupTTL = time.Hour

// dedupers lists the implementations that must pass the Deduper conformance
// tests, each made with a TTL of dedupTTL and the given clock.
var dedupers = []struct {
	name string
	new  func(t *testing.T, clock *fakeClock) webhook.Deduper
}{
	{"Memory", func(t *testing.T, clock *fakeClock) webhook.Deduper {
		d := webhook.NewMemoryDeduper(dedupTTL)
		d.Now = clock.Now
		return d
	}},
	{"SQLite", func(t *testing.T, clock *fakeClock) webhook.Deduper {
		db, _ := openSQLite(t)
		d := newSQLDeduper(t, db, clock)
		d.TTL = dedupTTL
		d.ClaimTimeout = 24 * time.Hour // claims outlive every test here
		return d
	}},
}

func TestDeduper(t *testing.T) {
	t.Parallel()

	for _, impl := range dedupers {
		t.Run(impl.name, func(t *testing.T) {
			t.Parallel()
			testDeduper(t, impl.new)
		})
	}
}

func testDeduper(t *testing.T, newDeduper func(t *testing.T, clock *fakeClock) webhook.Deduper) {
	ctx := context.Background()

	type testBundle struct {
		d     webhook.Deduper
		clock *fakeClock
	}
	setup := func(t *testing.T) *testBundle {
		t.Helper()
		clock := newFakeClock()
		return &testBundle{d: newDeduper(t, clock), clock: clock}
	}
	claim := func(t *testing.T, d webhook.Deduper, id string, want webhook.ClaimStatus) {
		t.Helper()
		got, err := d.Claim(ctx, id)
		if err != nil {
			t.Fatalf("Claim(%q): %v", id, err)
		}
		if got != want {
			t.Fatalf("Claim(%q) = %v, want %v", id, got, want)
		}
	}
	must := func(t *testing.T, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}

	t.Run("ClaimCompleteDuplicate", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		claim(t, b.d, "a", webhook.Claimed)
		claim(t, b.d, "a", webhook.InProgress)
		must(t, b.d.Complete(ctx, "a"))
		claim(t, b.d, "a", webhook.Duplicate)
		claim(t, b.d, "a", webhook.Duplicate)
	})

	t.Run("ReleaseLetsRetryRun", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		claim(t, b.d, "a", webhook.Claimed)
		must(t, b.d.Release(ctx, "a"))
		claim(t, b.d, "a", webhook.Claimed)
		must(t, b.d.Complete(ctx, "a"))
		claim(t, b.d, "a", webhook.Duplicate)
	})

	t.Run("ReleaseDoesNotForgetCompleted", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		claim(t, b.d, "a", webhook.Claimed)
		must(t, b.d.Complete(ctx, "a"))
		must(t, b.d.Release(ctx, "a"))
		claim(t, b.d, "a", webhook.Duplicate)
	})

	t.Run("ReleaseUnknown", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		must(t, b.d.Release(ctx, "never-seen"))
		claim(t, b.d, "never-seen", webhook.Claimed)
	})

	t.Run("CompleteWithoutClaim", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		must(t, b.d.Complete(ctx, "a"))
		claim(t, b.d, "a", webhook.Duplicate)
	})

	t.Run("IDsAreIndependent", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		claim(t, b.d, "a", webhook.Claimed)
		claim(t, b.d, "b", webhook.Claimed)
		must(t, b.d.Complete(ctx, "a"))
		claim(t, b.d, "b", webhook.InProgress)
		claim(t, b.d, "c", webhook.Claimed)
	})

	t.Run("CompletedExpireAfterTTL", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		claim(t, b.d, "a", webhook.Claimed)
		must(t, b.d.Complete(ctx, "a"))
		b.clock.Advance(dedupTTL - time.Millisecond)
		claim(t, b.d, "a", webhook.Duplicate)
		b.clock.Advance(time.Millisecond)
		claim(t, b.d, "a", webhook.Claimed)
		claim(t, b.d, "a", webhook.InProgress)
		must(t, b.d.Complete(ctx, "a"))
		claim(t, b.d, "a", webhook.Duplicate)
		b.clock.Advance(dedupTTL)
		claim(t, b.d, "a", webhook.Claimed)
	})

	t.Run("ConcurrentClaimsOneWins", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		const n = 16
		var wg sync.WaitGroup
		results := make(chan webhook.ClaimStatus, n)
		for range n {
			wg.Go(func() {
				s, err := b.d.Claim(ctx, "a")
				if err != nil {
					t.Error(err)
				}
				results <- s
			})
		}
		wg.Wait()
		close(results)
		counts := map[webhook.ClaimStatus]int{}
		for s := range results {
			counts[s]++
		}
		if counts[webhook.Claimed] != 1 || counts[webhook.InProgress] != n-1 {
			t.Fatalf("claims = %v, want 1 claimed and %d in progress", counts, n-1)
		}
	})
}

func TestMemoryDeduperForgetsExpired(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	clock := newFakeClock()
	d := webhook.NewMemoryDeduper(time.Minute)
	d.Now = clock.Now
	for i := range 1000 {
		id := string(rune('a'+i%26)) + time.Duration(i).String()
		if _, err := d.Claim(ctx, id); err != nil {
			t.Fatal(err)
		}
		if err := d.Complete(ctx, id); err != nil {
			t.Fatal(err)
		}
		clock.Advance(time.Second)
	}
	// Completions of the last minute, 941s to 999s, are kept.
	if got := d.Len(); got != 59 {
		t.Fatalf("Len = %d, want 59", got)
	}
	clock.Advance(time.Minute)
	if got := d.Len(); got != 0 {
		t.Fatalf("Len after the TTL = %d, want 0", got)
	}
}

func TestMemoryDeduperNoTTL(t *testing.T) {
	t.Parallel()

	ctx := context.Background()
	clock := newFakeClock()
	d := webhook.NewMemoryDeduper(0)
	d.Now = clock.Now
	if s, _ := d.Claim(ctx, "a"); s != webhook.Claimed {
		t.Fatalf("Claim = %v", s)
	}
	_ = d.Complete(ctx, "a")
	clock.Advance(100 * 365 * 24 * time.Hour)
	if s, _ := d.Claim(ctx, "a"); s != webhook.Duplicate {
		t.Fatalf("Claim after a century = %v, want duplicate", s)
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

func TestClaimStatusString(t *testing.T) {
	t.Parallel()

	for s, want := range map[webhook.ClaimStatus]string{
		webhook.Claimed: "claimed", webhook.Duplicate: "duplicate", webhook.InProgress: "in_progress", 0: "ClaimStatus(0)",
	} {
		if got := s.String(); got != want {
			t.Errorf("%d.String() = %q, want %q", int(s), got, want)
		}
	}
}

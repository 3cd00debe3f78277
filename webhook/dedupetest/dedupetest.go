// Package dedupetest is the conformance suite of webhook.Deduper: run
// Exercise on your own Deduper (one on Redis, on DynamoDB, ...) to check it
// behaves as the handler of package webhook relies on. The SDK runs it on its
// MemoryDeduper, and agenthooks' own tests on SQLDeduper over SQLite and
// PostgreSQL.
package dedupetest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/agenthooks/agenthooks/webhook"
)

// TTL is the time-to-live Exercise asks its Dedupers to remember completed
// ids for.
const TTL = time.Hour

// fakeClock is a settable clock, safe for concurrent use.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

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

// Exercise runs the conformance tests, each in parallel on a Deduper of its
// own that newDeduper makes: one that remembers completed ids for ttl, reads
// the time from now, and whose claims outlive every test (an hour at least).
func Exercise(t *testing.T, newDeduper func(t *testing.T, ttl time.Duration, now func() time.Time) webhook.Deduper) {
	t.Helper()
	ctx := context.Background()

	type testBundle struct {
		d     webhook.Deduper
		clock *fakeClock
	}
	setup := func(t *testing.T) *testBundle {
		t.Helper()
		clock := &fakeClock{t: time.Date(2024, 4, 10, 18, 16, 50, 0, time.UTC)}
		return &testBundle{d: newDeduper(t, TTL, clock.Now), clock: clock}
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
		b.clock.Advance(TTL - time.Millisecond)
		claim(t, b.d, "a", webhook.Duplicate)
		b.clock.Advance(time.Millisecond)
		claim(t, b.d, "a", webhook.Claimed)
		claim(t, b.d, "a", webhook.InProgress)
		must(t, b.d.Complete(ctx, "a"))
		claim(t, b.d, "a", webhook.Duplicate)
		b.clock.Advance(TTL)
		claim(t, b.d, "a", webhook.Claimed)
	})

	t.Run("ConcurrentClaimsOneWins", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		const n = 16
		var wg sync.WaitGroup
		results := make(chan webhook.ClaimStatus, n)
		for range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				s, err := b.d.Claim(ctx, "a")
				if err != nil {
					t.Error(err)
				}
				results <- s
			}()
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

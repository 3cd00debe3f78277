package webhook_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/agenthooks/agenthooks/webhook"
	"github.com/agenthooks/agenthooks/webhook/dedupetest"
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

func TestDeduper(t *testing.T) {
	t.Parallel()
	dedupetest.Exercise(t, func(t *testing.T, ttl time.Duration, now func() time.Time) webhook.Deduper {
		d := webhook.NewMemoryDeduper(ttl)
		d.Now = now
		return d
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

package ratelimit

import (
	"testing"
	"time"
)

// A key gets its burst (twice the rate), then waits; keys are apart; an
// idle bucket refills and is swept.
func TestBuckets(t *testing.T) {
	now := time.Unix(1e9, 0)
	l := New(2, func() time.Time { return now })
	for i := range 4 {
		if _, ok := l.Take("a"); !ok {
			t.Fatalf("request %d of the burst refused", i+1)
		}
	}
	wait, ok := l.Take("a")
	if ok || wait <= 0 || wait > time.Second {
		t.Fatalf("fifth request: ok %v wait %v, want refused with a wait up to 1s", ok, wait)
	}
	if RetryAfter(wait) != 1 {
		t.Errorf("RetryAfter(%v) = %d", wait, RetryAfter(wait))
	}
	if _, ok := l.Take("b"); !ok {
		t.Error("another key was refused")
	}
	now = now.Add(2 * time.Minute)
	if _, ok := l.Take("a"); !ok {
		t.Error("refused after two idle minutes")
	}
	l.mu.Lock()
	n := len(l.buckets)
	l.mu.Unlock()
	if n != 1 {
		t.Errorf("%d buckets after the sweep, want 1 (b's was idle)", n)
	}
}

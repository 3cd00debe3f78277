package delivery

import (
	"testing"
	"time"

	"github.com/agenthooks/agenthooks"
)

func TestGateCircuit(t *testing.T) {
	t.Parallel()
	g := newGate(10, 3, time.Second)
	w := &agenthooks.Webhook{ID: "w"}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	fail := func() {
		t.Helper()
		if wait := g.admit(w, now); wait != 0 {
			t.Fatalf("admit held back %v while closed", wait)
		}
		g.done("w", true, false, now)
	}
	fail()
	fail()
	if g.open("w") {
		t.Fatal("circuit opened after 2 failures; threshold is 3")
	}
	fail()
	if !g.open("w") {
		t.Fatal("circuit still closed after 3 consecutive failures")
	}
	if wait := g.admit(w, now.Add(100*time.Millisecond)); wait != 900*time.Millisecond {
		t.Errorf("open circuit holds back %v, want the rest of the cooldown (900ms)", wait)
	}
	// After the cooldown one probe goes; others wait while it is out.
	now = now.Add(time.Second)
	if wait := g.admit(w, now); wait != 0 {
		t.Fatalf("probe held back %v", wait)
	}
	if wait := g.admit(w, now); wait != heldBack {
		t.Errorf("second attempt during the probe: %v, want %v", wait, heldBack)
	}
	// The probe fails: open again for twice as long.
	g.done("w", true, false, now)
	if wait := g.admit(w, now); wait != 2*time.Second {
		t.Errorf("after a failed probe: held back %v, want 2s", wait)
	}
	now = now.Add(2 * time.Second)
	if wait := g.admit(w, now); wait != 0 {
		t.Fatalf("second probe held back %v", wait)
	}
	g.done("w", true, true, now)
	if g.open("w") {
		t.Fatal("a successful probe did not close the circuit")
	}
	fail()
	fail()
	if g.open("w") {
		t.Error("the failure count was not reset by the success")
	}
}

func TestGateSuccessResetsStreak(t *testing.T) {
	t.Parallel()
	g := newGate(10, 2, time.Second)
	w := &agenthooks.Webhook{ID: "w"}
	now := time.Now()
	for _, ok := range []bool{false, true, false, true, false} {
		g.admit(w, now)
		g.done("w", true, ok, now)
	}
	if g.open("w") {
		t.Error("circuit opened without consecutive failures")
	}
	// A cancelled attempt (shutdown) says nothing about the endpoint.
	g.admit(w, now)
	g.done("w", false, false, now)
	g.admit(w, now)
	g.done("w", false, false, now)
	if g.open("w") {
		t.Error("cancelled attempts opened the circuit")
	}
}

func TestGateInFlightCap(t *testing.T) {
	t.Parallel()
	g := newGate(2, 5, time.Second)
	w := &agenthooks.Webhook{ID: "w"}
	other := &agenthooks.Webhook{ID: "o"}
	now := time.Now()
	if g.admit(w, now) != 0 || g.admit(w, now) != 0 {
		t.Fatal("the first two attempts were held back")
	}
	if wait := g.admit(w, now); wait != heldBack {
		t.Errorf("third attempt: %v, want held back %v", wait, heldBack)
	}
	if g.admit(other, now) != 0 {
		t.Error("another webhook was held back by this one's cap")
	}
	g.done("w", true, true, now)
	if g.admit(w, now) != 0 {
		t.Error("a freed slot was not reused")
	}
}

func TestGateRateLimit(t *testing.T) {
	t.Parallel()
	g := newGate(100, 5, time.Second)
	rate := 2.0
	w := &agenthooks.Webhook{ID: "w", RateLimit: &rate}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	admitted := 0
	for range 5 {
		if g.admit(w, now) == 0 {
			admitted++
			g.done("w", true, true, now)
		}
	}
	if admitted != 2 {
		t.Errorf("admitted %d at once, want the burst of 2", admitted)
	}
	if wait := g.admit(w, now); wait != 500*time.Millisecond {
		t.Errorf("over the limit: wait %v, want 500ms (one token at 2/s)", wait)
	}
	now = now.Add(500 * time.Millisecond)
	if wait := g.admit(w, now); wait != 0 {
		t.Errorf("after 500ms: held back %v", wait)
	}
}

// TestRotationOverlapEnds: the previous secret signs alongside the new one
// until PreviousSecretUntil, then stops.
func TestRotationOverlapEnds(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	w := &agenthooks.Webhook{Secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", PreviousSecret: "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD", PreviousSecretUntil: now.Add(24 * time.Hour)}
	for _, tt := range []struct {
		at   time.Time
		keys int
	}{{now, 2}, {now.Add(24*time.Hour - time.Second), 2}, {now.Add(24 * time.Hour), 1}, {now.Add(48 * time.Hour), 1}} {
		ks, err := keys(w, tt.at)
		if err != nil {
			t.Fatal(err)
		}
		if len(ks) != tt.keys {
			t.Errorf("at %v: %d signing keys, want %d", tt.at.Sub(now), len(ks), tt.keys)
		}
	}
}

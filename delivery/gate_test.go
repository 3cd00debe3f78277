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
	if first, second := g.admit(w, now), g.admit(w, now); first != 0 || second != 0 {
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

// TestGateCapacityProbe checks the claim allowance for unknown webhooks:
// always granted when the gate knows no webhook, withdrawn for probeEvery
// after a claim spent it on known webhooks only, kept while claims find
// webhooks the gate did not know.
func TestGateCapacityProbe(t *testing.T) {
	t.Parallel()
	const maxFlight = 4
	g := newGate(maxFlight, 5, time.Second)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	job := func(webhookID string) *agenthooks.Job {
		return &agenthooks.Job{Webhook: agenthooks.Webhook{ID: webhookID}}
	}
	check := func(what string, wantN int, wantProbe bool) {
		t.Helper()
		n, probe := g.capacity(now)
		if n != wantN || probe != wantProbe {
			t.Errorf("%s: capacity = %d, %v; want %d, %v", what, n, probe, wantN, wantProbe)
		}
	}
	check("empty gate", 2*maxFlight, true)

	// Webhook "a" full: maxFlight in flight and maxFlight parked.
	for range 2 * maxFlight {
		if wait, _ := g.admitOrPark(job("a"), now); wait != 0 {
			t.Fatalf("admitOrPark held back %v", wait)
		}
	}
	check("one full webhook, probe due", 2*maxFlight, true)
	// A probing claim finds only "a": the allowance was wasted.
	g.claimed([]*agenthooks.Job{job("a"), job("a")}, 0, now)
	check("after a wasted probe", 0, false)
	now = now.Add(probeEvery / 2)
	check("before probeEvery passed", 0, false)
	now = now.Add(probeEvery / 2)
	check("after probeEvery", 2*maxFlight, true)
	// A probing claim that finds an unknown webhook keeps the allowance.
	g.claimed([]*agenthooks.Job{job("a"), job("b")}, 0, now)
	check("after a probe found another webhook", 2*maxFlight, true)
	// A claim within the known room does not withdraw it either.
	g.claimed([]*agenthooks.Job{job("a")}, 1, now)
	check("after a claim within the room", 2*maxFlight, true)

	// One attempt ends: a parked job takes its slot, "a" has room for one.
	if next, _ := g.done("a", true, true, now); next == nil {
		t.Fatal("done handed over no parked job")
	}
	g.claimed([]*agenthooks.Job{job("a"), job("a")}, 1, now)
	check("room for one, probe withdrawn", 1, false)
}

// TestGateForgetsIdleWebhooks checks that a healthy webhook with nothing in
// flight keeps counting its room for forgetAfter (so claims take its share
// without the probe allowance), and is forgotten after that.
func TestGateForgetsIdleWebhooks(t *testing.T) {
	t.Parallel()
	const maxFlight = 4
	g := newGate(maxFlight, 5, time.Second)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	w := &agenthooks.Webhook{ID: "w"}
	if wait := g.admit(w, now); wait != 0 {
		t.Fatalf("admit held back %v", wait)
	}
	g.done("w", true, true, now)
	later := now.Add(forgetAfter / 2)
	g.claimed(nil, -1, later) // a wasted probe: only known webhooks' room counts now
	if n, probe := g.capacity(later); n != 2*maxFlight || probe {
		t.Errorf("idle webhook: capacity = %d, %v; want its room %d without probe", n, probe, 2*maxFlight)
	}
	if n, probe := g.capacity(now.Add(forgetAfter + time.Millisecond)); n != 2*maxFlight || !probe || len(g.hooks) != 0 {
		t.Errorf("after forgetAfter: capacity = %d, %v with %d webhooks known; want %d, true, none", n, probe, len(g.hooks), 2*maxFlight)
	}
	// A failing webhook is never forgotten while its streak lasts.
	if wait := g.admit(w, now); wait != 0 {
		t.Fatalf("admit held back %v", wait)
	}
	g.done("w", true, false, now)
	g.capacity(now.Add(time.Hour))
	if len(g.hooks) != 1 {
		t.Error("a webhook with a failure streak was forgotten")
	}
}

package delivery

import (
	"testing"
	"time"

	"github.com/agenthooks/agenthooks"
)

// gateTest drives a gate through admit and done, the calls the pool's
// workers make, and records what it tells the Observer about circuits.
type gateTest struct {
	t    *testing.T
	g    *gate
	open map[string]bool
}

func newGateTest(t *testing.T, maxFlight, threshold int, cooldown, maxPause time.Duration) *gateTest {
	gt := &gateTest{t: t, open: map[string]bool{}}
	gt.g = newGate(maxFlight, threshold, cooldown, maxPause, func(id string, open bool) {
		if gt.open[id] == open {
			t.Errorf("circuit of %s reported open=%v twice in a row", id, open)
		}
		gt.open[id] = open
	})
	return gt
}

func job(webhookID string) *agenthooks.Job {
	return &agenthooks.Job{Webhook: agenthooks.Webhook{ID: webhookID}}
}

// admit admits a job that must not be parked and returns its wait.
func (gt *gateTest) admit(j *agenthooks.Job, now time.Time) time.Duration {
	gt.t.Helper()
	wait, turn := gt.g.admit(j, now)
	if turn != nil {
		gt.t.Fatalf("job of %s parked", j.Webhook.ID)
	}
	return wait
}

func TestGateCircuit(t *testing.T) {
	t.Parallel()
	gt := newGateTest(t, 10, 3, time.Second, 3*time.Second)
	w := job("w")
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	fail := func() {
		t.Helper()
		if wait := gt.admit(w, now); wait != 0 {
			t.Fatalf("admit held back %v while closed", wait)
		}
		gt.g.done("w", true, false, now)
	}
	fail()
	fail()
	if gt.open["w"] {
		t.Fatal("circuit opened after 2 failures; threshold is 3")
	}
	fail()
	if !gt.open["w"] {
		t.Fatal("circuit still closed after 3 consecutive failures")
	}
	if wait := gt.admit(w, now.Add(100*time.Millisecond)); wait != 900*time.Millisecond {
		t.Errorf("open circuit holds back %v, want the rest of the cooldown (900ms)", wait)
	}
	// After the cooldown one probe goes; others wait while it is out.
	now = now.Add(time.Second)
	if wait := gt.admit(w, now); wait != 0 {
		t.Fatalf("probe held back %v", wait)
	}
	if wait := gt.admit(w, now); wait != heldBack {
		t.Errorf("second attempt during the probe: %v, want %v", wait, heldBack)
	}
	// The probe fails: open again for twice as long, then never longer
	// than the cap.
	for _, want := range []time.Duration{2 * time.Second, 3 * time.Second, 3 * time.Second} {
		gt.g.done("w", true, false, now)
		if wait := gt.admit(w, now); wait != want {
			t.Errorf("after a failed probe: held back %v, want %v", wait, want)
		}
		now = now.Add(want)
		if wait := gt.admit(w, now); wait != 0 {
			t.Fatalf("probe held back %v", wait)
		}
	}
	gt.g.done("w", true, true, now)
	if gt.open["w"] {
		t.Fatal("a successful probe did not close the circuit")
	}
	fail()
	fail()
	if gt.open["w"] {
		t.Error("the failure count was not reset by the success")
	}
}

func TestGateSuccessResetsStreak(t *testing.T) {
	t.Parallel()
	gt := newGateTest(t, 10, 2, time.Second, time.Second)
	w := job("w")
	now := time.Now()
	for _, ok := range []bool{false, true, false, true, false} {
		gt.admit(w, now)
		gt.g.done("w", true, ok, now)
	}
	if gt.open["w"] {
		t.Error("circuit opened without consecutive failures")
	}
	// A cancelled attempt (shutdown) says nothing about the endpoint.
	for range 2 {
		gt.admit(w, now)
		gt.g.done("w", false, false, now)
	}
	if gt.open["w"] {
		t.Error("cancelled attempts opened the circuit")
	}
}

// TestGateInFlightCap: past the cap, jobs park (up to the cap), then are
// held back; another webhook is not affected.
func TestGateInFlightCap(t *testing.T) {
	t.Parallel()
	gt := newGateTest(t, 2, 5, time.Second, time.Second)
	now := time.Now()
	if first, second := gt.admit(job("w"), now), gt.admit(job("w"), now); first != 0 || second != 0 {
		t.Fatal("the first two attempts were held back")
	}
	for range 2 {
		if _, turn := gt.g.admit(job("w"), now); turn == nil {
			t.Fatal("a job within the park's room was not parked")
		}
	}
	if wait := gt.admit(job("w"), now); wait != heldBack {
		t.Errorf("fifth job: %v, want held back %v", wait, heldBack)
	}
	if gt.admit(job("o"), now) != 0 {
		t.Error("another webhook was held back by this one's cap")
	}
}

func TestGateRateLimit(t *testing.T) {
	t.Parallel()
	gt := newGateTest(t, 100, 5, time.Second, time.Second)
	rate := 2.0
	w := job("w")
	w.Webhook.RateLimit = &rate
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	admitted := 0
	for range 5 {
		if gt.admit(w, now) == 0 {
			admitted++
			gt.g.done("w", true, true, now)
		}
	}
	if admitted != 2 {
		t.Errorf("admitted %d at once, want the burst of 2", admitted)
	}
	if wait := gt.admit(w, now); wait != 500*time.Millisecond {
		t.Errorf("over the limit: wait %v, want 500ms (one token at 2/s)", wait)
	}
	now = now.Add(500 * time.Millisecond)
	if wait := gt.admit(w, now); wait != 0 {
		t.Errorf("after 500ms: held back %v", wait)
	}
	// A changed limit takes effect on the next admission.
	faster := 100.0
	w.Webhook.RateLimit = &faster
	gt.g.done("w", true, true, now)
	if wait := gt.admit(w, now); wait != 0 {
		t.Errorf("after the limit was raised: held back %v", wait)
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

// TestGateCapacityAllowance checks the claim allowance for unknown webhooks:
// always granted when the gate knows no webhook, withdrawn for
// allowanceEvery after a claim spent it on known webhooks only, kept while
// claims find webhooks the gate did not know.
func TestGateCapacityAllowance(t *testing.T) {
	t.Parallel()
	const maxFlight = 4
	g := newGate(maxFlight, 5, time.Second, time.Second, nil)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	check := func(what string, wantN int, wantAllowance bool) {
		t.Helper()
		n, allowance := g.capacity(now)
		if n != wantN || allowance != wantAllowance {
			t.Errorf("%s: capacity = %d, %v; want %d, %v", what, n, allowance, wantN, wantAllowance)
		}
	}
	check("empty gate", 2*maxFlight, true)

	// Webhook "a" full: maxFlight in flight and maxFlight parked.
	var turns []<-chan time.Duration
	for range 2 * maxFlight {
		wait, turn := g.admit(job("a"), now)
		if wait != 0 {
			t.Fatalf("admit held back %v", wait)
		}
		if turn != nil {
			turns = append(turns, turn)
		}
	}
	check("one full webhook, allowance due", 2*maxFlight, true)
	// A claim made with the allowance finds only "a": it was wasted.
	g.claimed([]*agenthooks.Job{job("a"), job("a")}, 0, now)
	check("after a wasted allowance", 0, false)
	now = now.Add(allowanceEvery / 2)
	check("before allowanceEvery passed", 0, false)
	now = now.Add(allowanceEvery / 2)
	check("after allowanceEvery", 2*maxFlight, true)
	// A claim that finds an unknown webhook keeps the allowance.
	g.claimed([]*agenthooks.Job{job("a"), job("b")}, 0, now)
	check("after the allowance found another webhook", 2*maxFlight, true)
	// A claim within the known room does not withdraw it either.
	g.claimed([]*agenthooks.Job{job("a")}, 1, now)
	check("after a claim within the room", 2*maxFlight, true)

	// One attempt ends: a parked job takes its slot, "a" has room for one.
	g.done("a", true, true, now)
	if wait := <-turns[0]; wait != 0 {
		t.Fatalf("the parked job's turn came with a hold-back of %v", wait)
	}
	g.claimed([]*agenthooks.Job{job("a"), job("a")}, 1, now)
	check("room for one, allowance withdrawn", 1, false)
}

// TestGateForgetsIdleWebhooks checks that a healthy webhook with nothing in
// flight keeps counting its room for forgetAfter (so claims take its share
// without the allowance), and is forgotten after that.
func TestGateForgetsIdleWebhooks(t *testing.T) {
	t.Parallel()
	const maxFlight = 4
	gt := newGateTest(t, maxFlight, 5, time.Second, time.Second)
	g := gt.g
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if wait := gt.admit(job("w"), now); wait != 0 {
		t.Fatalf("admit held back %v", wait)
	}
	g.done("w", true, true, now)
	later := now.Add(forgetAfter / 2)
	g.claimed(nil, -1, later) // a wasted allowance: only known webhooks' room counts now
	if n, allowance := g.capacity(later); n != 2*maxFlight || allowance {
		t.Errorf("idle webhook: capacity = %d, %v; want its room %d without allowance", n, allowance, 2*maxFlight)
	}
	if n, allowance := g.capacity(now.Add(forgetAfter + time.Millisecond)); n != 2*maxFlight || !allowance || len(g.hooks) != 0 {
		t.Errorf("after forgetAfter: capacity = %d, %v with %d webhooks known; want %d, true, none", n, allowance, len(g.hooks), 2*maxFlight)
	}
	// A failing webhook is never forgotten while its streak lasts.
	if wait := gt.admit(job("w"), now); wait != 0 {
		t.Fatalf("admit held back %v", wait)
	}
	g.done("w", true, false, now)
	g.capacity(now.Add(time.Hour))
	if len(g.hooks) != 1 {
		t.Error("a webhook with a failure streak was forgotten")
	}
}

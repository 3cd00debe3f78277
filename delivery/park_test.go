package delivery

import (
	"testing"
	"time"

	"github.com/agenthooks/agenthooks"
)

func parkJob(webhook, id string) *agenthooks.Job {
	j := &agenthooks.Job{}
	j.Webhook.ID = webhook
	j.Delivery.ID = id
	return j
}

// turnOf reads a parked job's turn, which must have come.
func turnOf(t *testing.T, what string, turn <-chan time.Duration) time.Duration {
	t.Helper()
	select {
	case wait := <-turn:
		return wait
	default:
		t.Fatalf("%s: no turn given", what)
		return 0
	}
}

// noTurn checks that a parked job's turn has not come.
func noTurn(t *testing.T, what string, turn <-chan time.Duration) {
	t.Helper()
	select {
	case wait := <-turn:
		t.Fatalf("%s: turn given (wait %v) with no attempt ended", what, wait)
	default:
	}
}

// A job that finds only its webhook's in-flight cap full is parked and
// gets, oldest first, the slot of the attempt that ends next; the number
// parked per webhook is bounded by the cap, beyond which jobs are held back.
func TestGateParking(t *testing.T) {
	t.Parallel()
	g := newGate(2, 5, time.Second, time.Second, nil)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, id := range []string{"a", "b"} {
		if wait, turn := g.admit(parkJob("w", id), now); wait != 0 || turn != nil {
			t.Fatalf("%s: wait %v, parked %v; want admitted", id, wait, turn != nil)
		}
	}
	turns := map[string]<-chan time.Duration{}
	for _, id := range []string{"c", "d"} {
		wait, turn := g.admit(parkJob("w", id), now)
		if wait != 0 || turn == nil {
			t.Fatalf("%s: wait %v, parked %v; want parked", id, wait, turn != nil)
		}
		turns[id] = turn
	}
	if wait, turn := g.admit(parkJob("w", "e"), now); wait != heldBack || turn != nil {
		t.Errorf("e: wait %v, parked %v; want held back %v with the park full", wait, turn != nil, heldBack)
	}
	if wait, turn := g.admit(parkJob("other", "x"), now); wait != 0 || turn != nil {
		t.Errorf("another webhook: wait %v, parked %v; want admitted", wait, turn != nil)
	}
	noTurn(t, "c", turns["c"])
	g.done("w", true, true, now)
	if wait := turnOf(t, "c", turns["c"]); wait != 0 {
		t.Fatalf("c's turn came with wait %v, want admitted", wait)
	}
	noTurn(t, "d", turns["d"])
	g.done("w", true, true, now)
	if wait := turnOf(t, "d", turns["d"]); wait != 0 {
		t.Fatalf("d's turn came with wait %v, want admitted", wait)
	}
	// c and d took a and b's slots: the cap is still full.
	wait, f := g.admit(parkJob("w", "f"), now)
	if wait != 0 || f == nil {
		t.Fatalf("f: wait %v, parked %v; want parked behind c and d's attempts", wait, f != nil)
	}
	g.done("w", true, true, now)
	if wait := turnOf(t, "f", f); wait != 0 {
		t.Fatalf("f's turn came with wait %v", wait)
	}
	g.done("w", true, true, now) // nothing parked: the slot is free
	if wait, turn := g.admit(parkJob("w", "g"), now); wait != 0 || turn != nil {
		t.Errorf("g: wait %v, parked %v; want admitted into the freed slot", wait, turn != nil)
	}
}

// Parked jobs are not attempted into an open circuit: each gets its turn as
// a hold-back for the cooldown, as the attempts in flight end.
func TestGateParkingCircuit(t *testing.T) {
	t.Parallel()
	g := newGate(1, 1, time.Second, time.Second, nil)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if wait, turn := g.admit(parkJob("w", "a"), now); wait != 0 || turn != nil {
		t.Fatal("a was not admitted")
	}
	_, b := g.admit(parkJob("w", "b"), now)
	if b == nil {
		t.Fatal("b was not parked")
	}
	g.done("w", true, false, now) // opens the circuit
	if wait := turnOf(t, "b", b); wait != time.Second {
		t.Fatalf("b's turn came with wait %v; want held back for the 1s cooldown", wait)
	}
	if wait, turn := g.admit(parkJob("w", "c"), now); turn != nil || wait != time.Second {
		t.Errorf("c: wait %v, parked %v; an open circuit holds back, it does not park", wait, turn != nil)
	}
}

// While a webhook's cap and park stay full and no attempt ends (a hanging
// endpoint), each hold-back period doubles the next, up to maxHold; the end
// of an attempt brings it back to heldBack.
func TestGateHoldBackGrows(t *testing.T) {
	t.Parallel()
	g := newGate(1, 5, time.Second, time.Second, nil)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	g.admit(parkJob("w", "in flight"), now)
	_, parked := g.admit(parkJob("w", "parked"), now)
	hold := func() time.Duration {
		t.Helper()
		wait, turn := g.admit(parkJob("w", "x"), now)
		if turn != nil {
			t.Fatal("parked beyond the cap")
		}
		return wait
	}
	if got := hold(); got != heldBack {
		t.Fatalf("first hold-back %v, want %v", got, heldBack)
	}
	if got := hold(); got != heldBack {
		t.Errorf("a burst at the same moment: %v, want %v for all of it", got, heldBack)
	}
	want := heldBack
	for range 10 {
		now = now.Add(want)
		want = min(2*want, maxHold)
		if got := hold(); got != want {
			t.Fatalf("after a period with no attempt ending: %v, want %v", got, want)
		}
	}
	g.done("w", true, false, now) // an attempt ended; the parked job takes its slot
	turnOf(t, "parked", parked)
	if _, turn := g.admit(parkJob("w", "parked again"), now); turn == nil {
		t.Fatal("the park's freed place was not taken")
	}
	if got := hold(); got != heldBack {
		t.Errorf("after an attempt ended: %v, want %v", got, heldBack)
	}
}

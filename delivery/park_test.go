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

// A job that finds only its webhook's in-flight cap full waits in memory and
// is handed, oldest first, to the worker whose attempt ends next; the number
// parked per webhook is bounded by the cap, beyond which jobs are held back.
func TestGateParking(t *testing.T) {
	t.Parallel()
	g := newGate(2, 5, time.Second)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	admit := func(j *agenthooks.Job) (time.Duration, bool) { t.Helper(); return g.admitOrPark(j, now) }
	for _, id := range []string{"a", "b"} {
		if wait, parked := admit(parkJob("w", id)); wait != 0 || parked {
			t.Fatalf("%s: wait %v, parked %v; want admitted", id, wait, parked)
		}
	}
	for _, id := range []string{"c", "d"} {
		if wait, parked := admit(parkJob("w", id)); wait != 0 || !parked {
			t.Fatalf("%s: wait %v, parked %v; want parked", id, wait, parked)
		}
	}
	if wait, parked := admit(parkJob("w", "e")); wait != heldBack || parked {
		t.Errorf("e: wait %v, parked %v; want held back %v with the park full", wait, parked, heldBack)
	}
	if wait, parked := admit(parkJob("other", "x")); wait != 0 || parked {
		t.Errorf("another webhook: wait %v, parked %v; want admitted", wait, parked)
	}
	for _, want := range []string{"c", "d"} {
		next, wait := g.done("w", true, true, now)
		if next == nil || next.Delivery.ID != want || wait != 0 {
			t.Fatalf("done handed over %v (wait %v), want %s admitted", next, wait, want)
		}
	}
	// c and d took a and b's slots: the cap is still full.
	if wait, parked := admit(parkJob("w", "f")); wait != 0 || !parked {
		t.Errorf("f: wait %v, parked %v; want parked behind c and d's attempts", wait, parked)
	}
	if next, _ := g.done("w", true, true, now); next == nil || next.Delivery.ID != "f" {
		t.Fatalf("done handed over %v, want f", next)
	}
	if next, _ := g.done("w", true, true, now); next != nil {
		t.Errorf("done handed over %v with nothing parked", next.Delivery.ID)
	}
	if wait, parked := admit(parkJob("w", "g")); wait != 0 || parked {
		t.Errorf("g: wait %v, parked %v; want admitted into the freed slot", wait, parked)
	}
}

// Parked jobs are not attempted into an open circuit: each is handed back,
// held back for the cooldown, as the attempts in flight end.
func TestGateParkingCircuit(t *testing.T) {
	t.Parallel()
	g := newGate(1, 1, time.Second)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if wait, parked := g.admitOrPark(parkJob("w", "a"), now); wait != 0 || parked {
		t.Fatal("a was not admitted")
	}
	if _, parked := g.admitOrPark(parkJob("w", "b"), now); !parked {
		t.Fatal("b was not parked")
	}
	next, wait := g.done("w", true, false, now) // opens the circuit
	if next == nil || next.Delivery.ID != "b" || wait != time.Second {
		t.Fatalf("done handed over %v with wait %v; want b held back for the 1s cooldown", next, wait)
	}
	if wait, parked := g.admitOrPark(parkJob("w", "c"), now); parked || wait != time.Second {
		t.Errorf("c: wait %v, parked %v; an open circuit holds back, it does not park", wait, parked)
	}
}

// A job parked longer than maxPark goes back to the queue when its turn
// comes: its lease may no longer cover an attempt.
func TestGateParkingExpires(t *testing.T) {
	t.Parallel()
	g := newGate(1, 5, time.Second)
	g.maxPark = time.Second
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	g.admitOrPark(parkJob("w", "a"), now)
	if _, parked := g.admitOrPark(parkJob("w", "b"), now); !parked {
		t.Fatal("b was not parked")
	}
	next, wait := g.done("w", true, true, now.Add(2*time.Second))
	if next == nil || wait <= 0 {
		t.Fatalf("done handed over %v with wait %v; want b handed back", next, wait)
	}
	// Its slot was not taken: the next job goes at once.
	if wait, parked := g.admitOrPark(parkJob("w", "c"), now.Add(2*time.Second)); wait != 0 || parked {
		t.Errorf("c: wait %v, parked %v; want admitted", wait, parked)
	}
}

// While a webhook's cap and park stay full and no attempt ends (a hanging
// endpoint), each hold-back period doubles the next, up to maxHold; the end
// of an attempt brings it back to heldBack.
func TestGateHoldBackGrows(t *testing.T) {
	t.Parallel()
	g := newGate(1, 5, time.Second)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	g.admitOrPark(parkJob("w", "in flight"), now)
	g.admitOrPark(parkJob("w", "parked"), now)
	hold := func() time.Duration {
		t.Helper()
		wait, parked := g.admitOrPark(parkJob("w", "x"), now)
		if parked {
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
	if _, parked := g.admitOrPark(parkJob("w", "parked again"), now); !parked {
		t.Fatal("the park's freed place was not taken")
	}
	if got := hold(); got != heldBack {
		t.Errorf("after an attempt ended: %v, want %v", got, heldBack)
	}
}

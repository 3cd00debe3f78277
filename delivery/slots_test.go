package delivery

import (
	"testing"
	"time"
)

// While hand-offs go on, a claim leaves a share of the workers free for
// them; without hand-offs it may take every free worker. reserveOne never
// takes a worker reserved by a claim under way.
func TestSlotsLeaveWorkersToTheHandoff(t *testing.T) {
	now := time.Now()
	newSlots := func() *slots {
		return &slots{workers: 64, batch: 256, gate: newGate(1000, 5, time.Second, time.Second, nil)}
	}

	s := newSlots()
	if c := s.reserve(now); c.n != 64 {
		t.Errorf("a claim with no hand-off under way reserved %d of 64 free workers, want 64", c.n)
	}
	if s.reserveOne("w", now) {
		t.Error("reserveOne took a worker a claim under way had reserved")
	}

	s = newSlots()
	if !s.reserveOne("w", now) {
		t.Fatal("reserveOne on idle slots failed")
	}
	c := s.reserve(now.Add(10 * time.Millisecond))
	if want := 64 - 1 - 64/handoffShare; c.n != want {
		t.Errorf("a claim while hand-offs go on reserved %d workers, want %d (leaving %d)", c.n, want, 64/handoffShare)
	}
	for i := range 64 / handoffShare {
		if !s.reserveOne("w", now.Add(10*time.Millisecond)) {
			t.Fatalf("hand-off %d found no worker beside the claim", i+1)
		}
	}
	s.cancel(c)
	// Nine hand-offs still hold their workers; the rest is the claim's.
	if c := s.reserve(now.Add(10*time.Millisecond + handoffActive)); c.n != 64-1-64/handoffShare {
		t.Errorf("a claim once hand-offs stopped reserved %d, want every free worker (%d)", c.n, 64-1-64/handoffShare)
	}
}

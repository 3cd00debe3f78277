package delivery

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/agenthooks/agenthooks"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// laneJob is a claimed job of delivery id to webhook.
func laneJob(webhook, id string) *agenthooks.Job {
	return &agenthooks.Job{Webhook: agenthooks.Webhook{ID: webhook}, Delivery: agenthooks.Delivery{ID: id, WebhookID: webhook}}
}

// check verifies the structure's rules (lanes' doc comment).
func (ls *lanes) check() error {
	queued, held := 0, 0
	for id, l := range ls.byID {
		if l.webhookID != id {
			return fmt.Errorf("lane %s filed under %s", l.webhookID, id)
		}
		queued += len(l.jobs)
		held += l.inflight
		for _, j := range l.jobs {
			if j.Webhook.ID != id {
				return fmt.Errorf("job of %s in lane %s", j.Webhook.ID, id)
			}
		}
		wantReady := len(l.jobs) > 0 && l.inflight < ls.maxFlight && !l.probing
		if (l.index >= 0) != wantReady {
			return fmt.Errorf("lane %s: in ready %v, want %v (jobs %d, in flight %d, probing %v)", id, l.index >= 0, wantReady, len(l.jobs), l.inflight, l.probing)
		}
		if l.index >= 0 && (l.index >= len(ls.ready) || ls.ready[l.index] != l) {
			return fmt.Errorf("lane %s: index %d wrong", id, l.index)
		}
		if l.inflight > ls.maxFlight {
			return fmt.Errorf("lane %s: %d in flight, cap %d", id, l.inflight, ls.maxFlight)
		}
	}
	for i, l := range ls.ready {
		if ls.byID[l.webhookID] != l || l.index != i {
			return fmt.Errorf("ready[%d] is lane %s (index %d), not a known lane in place", i, l.webhookID, l.index)
		}
	}
	if queued != ls.queued || held != ls.held {
		return fmt.Errorf("counted %d queued and %d held, lanes hold %d and %d", ls.queued, ls.held, queued, held)
	}
	return nil
}

// take calls next and returns the delivery id taken ("" if none).
func take(t *testing.T, ls *lanes, now time.Time) string {
	t.Helper()
	j, _ := ls.next(now)
	if err := ls.check(); err != nil {
		t.Fatal(err)
	}
	if j == nil {
		return ""
	}
	return j.Delivery.ID
}

func TestLanesFIFOAndTurns(t *testing.T) {
	t.Parallel()
	ls := newLanes(10, 100, 5, time.Second, time.Second, nil)
	for _, j := range []*agenthooks.Job{laneJob("a", "a1"), laneJob("a", "a2"), laneJob("b", "b1"), laneJob("a", "a3"), laneJob("b", "b2")} {
		ls.push(j, t0)
	}
	var got []string
	for id := take(t, ls, t0); id != ""; id = take(t, ls, t0) {
		got = append(got, id)
	}
	// Each lane gives its oldest first; lanes take turns.
	if want := []string{"a1", "b1", "a2", "b2", "a3"}; !slices.Equal(got, want) {
		t.Errorf("order %v, want %v", got, want)
	}
	if ls.queued != 0 || ls.held != 5 {
		t.Errorf("queued %d held %d, want 0 and 5", ls.queued, ls.held)
	}
}

func TestLanesInFlightCap(t *testing.T) {
	t.Parallel()
	ls := newLanes(2, 100, 5, time.Second, time.Second, nil)
	for i := range 3 {
		ls.push(laneJob("a", fmt.Sprint(i)), t0)
	}
	ls.push(laneJob("b", "b"), t0)
	var got []string
	for id := take(t, ls, t0); id != ""; id = take(t, ls, t0) {
		got = append(got, id)
	}
	if want := []string{"0", "b", "1"}; !slices.Equal(got, want) {
		t.Fatalf("taken %v with a cap of 2, want %v", got, want)
	}
	if j, at := ls.next(t0); j != nil || !at.IsZero() {
		t.Fatalf("next gave %v (at %v) with a's cap full and nothing else queued", j, at)
	}
	ls.done("a", true, true, t0)
	if id := take(t, ls, t0); id != "2" {
		t.Errorf("after an attempt ended: took %q, want 2", id)
	}
}

// ids returns the delivery ids of jobs.
func ids(jobs []*agenthooks.Job) []string {
	var out []string
	for _, j := range jobs {
		out = append(out, j.Delivery.ID)
	}
	return out
}

func TestLanesCircuit(t *testing.T) {
	t.Parallel()
	var reports []string
	ls := newLanes(10, 100, 2, time.Second, 3*time.Second, func(id string, open bool) { reports = append(reports, fmt.Sprintf("%s %v", id, open)) })
	now := t0
	for i := range 6 {
		ls.push(laneJob("a", fmt.Sprint(i)), now)
	}
	take(t, ls, now)
	take(t, ls, now)
	if back, _ := ls.done("a", true, false, now); back != nil || len(ls.blocked(now)) != 0 {
		t.Fatal("blocked or handed back after one failure; threshold 2")
	}
	back, until := ls.done("a", true, false, now)
	if !slices.Equal(reports, []string{"a true"}) {
		t.Fatalf("circuit reports %v, want [a true]", reports)
	}
	// The queued jobs go back to the store, due when the pause ends.
	if got := ids(back); !slices.Equal(got, []string{"2", "3", "4", "5"}) || !until.Equal(now.Add(time.Second)) {
		t.Fatalf("handed back %v until %v, want [2 3 4 5] until +1s", got, until)
	}
	if err := ls.check(); err != nil {
		t.Fatal(err)
	}
	if b := ls.blocked(now); !slices.Equal(b, []string{"a"}) || ls.room("a", now) {
		t.Errorf("blocked %v (room %v) with the circuit open, want [a] and no room", b, ls.room("a", now))
	}
	// A job a claim pushed meanwhile waits for the pause's end.
	ls.push(back[0], now)
	if j, at := ls.next(now.Add(100 * time.Millisecond)); j != nil || !at.Equal(until) {
		t.Fatalf("open circuit: next gave %v, eligible at %v; want nothing until %v", j, at, until)
	}
	// After the pause one probe goes; the lane gives nothing while it is out.
	now = until
	if !ls.room("a", now) {
		t.Error("no room after the pause: the claim would leave the probe out")
	}
	for _, j := range back[1:] {
		ls.push(j, now)
	}
	if id := take(t, ls, now); id != "2" {
		t.Fatalf("probe: took %q, want 2", id)
	}
	if id := take(t, ls, now); id != "" {
		t.Fatalf("took %q while the probe is out", id)
	}
	if !slices.Equal(ls.blocked(now), []string{"a"}) {
		t.Error("not blocked while the probe is out")
	}
	// A failed probe doubles the pause, up to the most.
	for _, pause := range []time.Duration{2 * time.Second, 3 * time.Second} {
		back, until := ls.done("a", true, false, now)
		if err := ls.check(); err != nil {
			t.Fatal(err)
		}
		if len(back) == 0 || !until.Equal(now.Add(pause)) {
			t.Fatalf("after a failed probe: %d handed back until %v, want some until %v", len(back), until, now.Add(pause))
		}
		now = until
		for _, j := range back {
			ls.push(j, now)
		}
		if id := take(t, ls, now); id == "" {
			t.Fatal("no probe after the pause")
		}
	}
	if back, _ := ls.done("a", true, true, now); back != nil {
		t.Errorf("a successful probe handed back %v", ids(back))
	}
	if !slices.Equal(reports, []string{"a true", "a false"}) {
		t.Errorf("circuit reports %v, want it closed", reports)
	}
	if id := take(t, ls, now); id == "" {
		t.Error("closed circuit gives nothing")
	}
	ls.done("a", true, false, now)
	// An attempt that says nothing about the endpoint leaves the streak.
	ls.push(laneJob("a", "6"), now)
	take(t, ls, now)
	ls.done("a", false, false, now)
	if l := ls.byID["a"]; l == nil || l.failures != 1 {
		t.Errorf("lane %+v after a failure and an unattempted job, want 1 failure", l)
	}
}

// A success of an attempt begun before the circuit opened closes it: a job
// pushed while it was open may go at once.
func TestLanesCircuitClosedBySuccessInFlight(t *testing.T) {
	t.Parallel()
	ls := newLanes(10, 100, 1, 5*time.Second, 5*time.Second, nil)
	ls.push(laneJob("a", "1"), t0)
	ls.push(laneJob("a", "2"), t0)
	take(t, ls, t0)
	take(t, ls, t0)
	ls.done("a", true, false, t0) // opens the circuit
	ls.push(laneJob("a", "3"), t0)
	if id := take(t, ls, t0); id != "" {
		t.Fatalf("took %q with the circuit open", id)
	}
	ls.done("a", true, true, t0)
	if id := take(t, ls, t0); id != "3" {
		t.Errorf("after the circuit closed: took %q, want 3", id)
	}
}

func TestLanesRateLimit(t *testing.T) {
	t.Parallel()
	ls := newLanes(10, 100, 5, time.Second, time.Second, nil)
	r := 2.0
	for i := range 4 {
		j := laneJob("a", fmt.Sprint(i))
		j.Webhook.RateLimit = &r
		ls.push(j, t0)
	}
	ls.push(laneJob("b", "b"), t0)
	got := []string{take(t, ls, t0), take(t, ls, t0), take(t, ls, t0)}
	if want := []string{"0", "b", "1"}; !slices.Equal(got, want) {
		t.Fatalf("taken %v within a burst of 2, want %v", got, want)
	}
	j, at := ls.next(t0)
	if j != nil || !at.Equal(t0.Add(500*time.Millisecond)) {
		t.Fatalf("rate spent: next gave %v, eligible at %v; want nothing until +500ms", j, at)
	}
	if id := take(t, ls, at); id != "2" {
		t.Errorf("at the next token: took %q, want 2", id)
	}
}

func TestLanesFullAndRoom(t *testing.T) {
	t.Parallel()
	ls := newLanes(1, 2, 5, time.Second, time.Second, nil)
	ls.push(laneJob("a", "1"), t0)
	if !ls.room("a", t0) || len(ls.blocked(t0)) != 0 {
		t.Fatal("a lane with 1 of 2 queued is full")
	}
	ls.push(laneJob("a", "2"), t0)
	if ls.room("a", t0) || !slices.Equal(ls.blocked(t0), []string{"a"}) {
		t.Fatal("a lane with 2 of 2 queued is not full")
	}
	// A claim may overfill a lane: nothing pushed is lost.
	ls.push(laneJob("a", "3"), t0)
	if ls.queued != 3 {
		t.Fatalf("queued %d, want 3", ls.queued)
	}
	take(t, ls, t0)
	take(t, ls, t0) // the cap of 1 holds the second
	if !slices.Equal(ls.blocked(t0), []string{"a"}) {
		t.Error("2 queued of 2: not blocked")
	}
	ls.done("a", true, true, t0)
	take(t, ls, t0)
	if !ls.room("a", t0) || !ls.room("unknown", t0) {
		t.Error("no room with 1 of 2 queued, or for a webhook with no lane")
	}
}

func TestLanesForgetAndDrain(t *testing.T) {
	t.Parallel()
	ls := newLanes(10, 100, 5, time.Second, time.Second, nil)
	ls.push(laneJob("a", "1"), t0)
	ls.push(laneJob("b", "1"), t0)
	take(t, ls, t0)
	take(t, ls, t0)
	ls.done("a", true, true, t0)
	ls.done("b", true, false, t0)
	if _, ok := ls.byID["a"]; ok {
		t.Error("a healthy idle lane is kept")
	}
	if _, ok := ls.byID["b"]; !ok {
		t.Error("a lane with a failure streak is forgotten")
	}
	for i := range 3 {
		ls.push(laneJob("c", fmt.Sprint(i)), t0)
	}
	take(t, ls, t0)
	drained := ls.drain(t0)
	if len(drained) != 2 || ls.queued != 0 || ls.held != 1 {
		t.Errorf("drained %d (queued %d, held %d), want 2, 0 and the 1 a worker holds", len(drained), ls.queued, ls.held)
	}
	if err := ls.check(); err != nil {
		t.Fatal(err)
	}
	if j, at := ls.next(t0); j != nil || !at.IsZero() {
		t.Error("next gives after drain")
	}
}

// The invariant over random sequences of pushes, takes, ends and drains:
// every job pushed is, at each step, in exactly one lane or held by exactly
// one worker until its end, and the structure keeps its rules.
func TestLanesInvariant(t *testing.T) {
	t.Parallel()
	for seed := range uint64(300) {
		rng := rand.New(rand.NewPCG(seed, 7))
		ls := newLanes(1+rng.IntN(3), 1+rng.IntN(4), 1+rng.IntN(3), 100*time.Millisecond, 400*time.Millisecond, nil)
		now := t0
		where := map[string]string{} // delivery id → "queued" or "held"
		var heldJobs []*agenthooks.Job
		n := 0
		for step := range 400 {
			switch op := rng.IntN(10); {
			case op < 4:
				j := laneJob(fmt.Sprint("w", rng.IntN(4)), fmt.Sprint(n))
				if rng.IntN(4) == 0 {
					r := float64(1 + rng.IntN(20))
					j.Webhook.RateLimit = &r
				}
				n++
				ls.push(j, now)
				where[j.Delivery.ID] = "queued"
			case op < 7:
				j, _ := ls.next(now)
				if j == nil {
					break
				}
				if where[j.Delivery.ID] != "queued" {
					t.Fatalf("seed %d step %d: next gave %s, which is %q", seed, step, j.Delivery.ID, where[j.Delivery.ID])
				}
				where[j.Delivery.ID] = "held"
				heldJobs = append(heldJobs, j)
			case op < 9:
				if len(heldJobs) == 0 {
					break
				}
				i := rng.IntN(len(heldJobs))
				j := heldJobs[i]
				heldJobs = slices.Delete(heldJobs, i, i+1)
				back, _ := ls.done(j.Webhook.ID, rng.IntN(5) > 0, rng.IntN(2) == 0, now)
				delete(where, j.Delivery.ID)
				for _, b := range back {
					if where[b.Delivery.ID] != "queued" {
						t.Fatalf("seed %d step %d: done handed back %s, which is %q", seed, step, b.Delivery.ID, where[b.Delivery.ID])
					}
					delete(where, b.Delivery.ID)
				}
			default:
				if rng.IntN(10) == 0 {
					for _, j := range ls.drain(now) {
						if where[j.Delivery.ID] != "queued" {
							t.Fatalf("seed %d step %d: drain gave %s, which is %q", seed, step, j.Delivery.ID, where[j.Delivery.ID])
						}
						delete(where, j.Delivery.ID)
					}
				}
			}
			now = now.Add(time.Duration(rng.IntN(60)) * time.Millisecond)
			if err := ls.check(); err != nil {
				t.Fatalf("seed %d step %d: %v", seed, step, err)
			}
			queued := 0
			for _, w := range where {
				if w == "queued" {
					queued++
				}
			}
			if queued != ls.queued || len(heldJobs) != ls.held {
				t.Fatalf("seed %d step %d: lanes count %d queued and %d held, the model %d and %d", seed, step, ls.queued, ls.held, queued, len(heldJobs))
			}
		}
		// Everything queued comes out, in time, once the workers end theirs.
		for _, j := range heldJobs {
			ls.done(j.Webhook.ID, false, false, now)
		}
		for range 10000 {
			if ls.queued == 0 {
				break
			}
			j, at := ls.next(now)
			switch {
			case j != nil:
				ls.done(j.Webhook.ID, true, true, now)
			case at.IsZero():
				t.Fatalf("seed %d: %d queued and none eligible ever", seed, ls.queued)
			default:
				now = at
			}
		}
		if ls.queued != 0 || ls.held != 0 {
			t.Fatalf("seed %d: left %d queued, %d held", seed, ls.queued, ls.held)
		}
		for id, l := range ls.byID {
			if l.failures == 0 && l.limiter == nil {
				t.Errorf("seed %d: lane %s kept with nothing to remember", seed, id)
			}
		}
	}
}

package delivery

import (
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/agenthooks/agenthooks"
)

// gate holds per-webhook state that keeps one bad endpoint from hurting the
// others: a cap on attempts in flight, a circuit breaker and a rate limit.
// Deliveries it holds back are handed back to the queue with a due time;
// they wait, they do not fail and they consume no attempt. A delivery that
// finds only the in-flight cap full may instead be parked (admit returns a
// turn): its goroutine waits, up to maxFlight of them per webhook, until an
// attempt to that webhook ends and done gives it the freed slot, with no
// trip through the store.
//
// The state lives in this process. With several worker processes on
// PostgreSQL each keeps its own, so a webhook's cap and rate are per process.
type gate struct {
	mu        sync.Mutex
	hooks     map[string]*hookState
	maxFlight int
	threshold int           // consecutive failures that open the circuit
	cooldown  time.Duration // first pause of an opened circuit; doubles on each failed probe
	maxPause  time.Duration // the most a circuit pauses (docs/delivery.md says why it is short)
	// allowanceAt is when capacity next grants the allowance for webhooks
	// it does not know (see capacity).
	allowanceAt time.Time
	// circuit is told when a webhook's circuit opens or closes (g.mu held).
	circuit func(webhookID string, open bool)
}

type hookState struct {
	inflight  int
	failures  int       // consecutive failed attempts
	openUntil time.Time // zero when the circuit is closed
	cooldown  time.Duration
	probing   bool          // the circuit's half-open probe is in flight
	limiter   *rate.Limiter // nil while the webhook has no rate limit
	limit     float64       // the rate limiter was made for
	parked    []parkedJob   // waiting for a slot, oldest first
	hold      time.Duration // current hold-back while the cap stays full; 0 after an attempt ends
	holdSince time.Time
	idleSince time.Time // when its last attempt ended well with none in flight; zero while busy
}

// parkedJob is a job whose goroutine waits for its turn.
type parkedJob struct {
	webhook *agenthooks.Webhook // as claimed with the job
	turn    chan time.Duration  // buffered: done never blocks on it
}

// forgetAfter is how long the gate keeps the state of a healthy webhook
// with nothing in flight.
const forgetAfter = 10 * time.Second

// forgettable reports whether h holds nothing but idleness since before.
func (h *hookState) forgettable(before time.Time) bool {
	return !h.idleSince.IsZero() && h.idleSince.Before(before) && h.inflight == 0 && len(h.parked) == 0 &&
		h.failures == 0 && h.openUntil.IsZero() && h.limiter == nil
}

func newGate(maxFlight, threshold int, cooldown, maxPause time.Duration, circuit func(string, bool)) *gate {
	if circuit == nil {
		circuit = func(string, bool) {}
	}
	return &gate{hooks: map[string]*hookState{}, maxFlight: maxFlight, threshold: threshold, cooldown: cooldown,
		maxPause: max(maxPause, cooldown), circuit: circuit}
}

// heldBack is how long to wait before trying again when the in-flight cap is
// full or the circuit's probe is already out.
const heldBack = 100 * time.Millisecond

// maxHold bounds the hold-back of a webhook whose in-flight cap stays full.
const maxHold = 5 * time.Second

// holdFull is how long to hold back a job that finds the webhook's in-flight
// cap and its park full: heldBack at first, then twice as long for each
// hold-back period that passes with no attempt ending (up to maxHold), so a
// hanging endpoint's backlog does not come back through the store ten times
// a second; done resets it. g.mu is held.
func (g *gate) holdFull(h *hookState, now time.Time) time.Duration {
	switch {
	case h.hold == 0:
		h.hold, h.holdSince = heldBack, now
	case now.Sub(h.holdSince) >= h.hold:
		h.hold, h.holdSince = min(2*h.hold, maxHold), now
	}
	return h.hold
}

// admit decides what a claimed job does. It returns 0 and a nil turn when
// the attempt may start now (it is counted in flight); a non-nil turn when
// the job is parked: done sends on it, when an attempt to the webhook ends,
// 0 if the job takes the freed slot or how long to hold it back; else how
// long to hold the job back. A job is parked only when the in-flight cap is
// all that stands in its way and fewer than maxFlight are parked already.
func (g *gate) admit(j *agenthooks.Job, now time.Time) (wait time.Duration, turn <-chan time.Duration) {
	g.mu.Lock()
	defer g.mu.Unlock()
	w := &j.Webhook
	h := g.hooks[w.ID]
	if h == nil {
		h = &hookState{cooldown: g.cooldown}
		g.hooks[w.ID] = h
	}
	if h.inflight >= g.maxFlight {
		// Parked jobs never outnumber the attempts in flight, so each is
		// given a turn by the end of one of them.
		if h.openUntil.IsZero() && len(h.parked) < g.maxFlight {
			c := make(chan time.Duration, 1)
			h.parked = append(h.parked, parkedJob{webhook: w, turn: c})
			return 0, c
		}
		return g.holdFull(h, now), nil
	}
	return g.pass(h, w, now), nil
}

// pass applies the circuit and the rate limit to an attempt that has a slot;
// if it may go, it counts it in flight and returns 0. g.mu is held.
func (g *gate) pass(h *hookState, w *agenthooks.Webhook, now time.Time) time.Duration {
	probe := false
	if !h.openUntil.IsZero() {
		if now.Before(h.openUntil) {
			return h.openUntil.Sub(now)
		}
		if h.probing {
			return heldBack
		}
		probe = true // half-open: this attempt is the probe
	}
	if w.RateLimit != nil && *w.RateLimit > 0 {
		if r := *w.RateLimit; h.limiter == nil || h.limit != r {
			h.limiter, h.limit = rate.NewLimiter(rate.Limit(r), max(1, int(r))), r
		}
		res := h.limiter.ReserveN(now, 1)
		if d := res.DelayFrom(now); d > 0 {
			res.CancelAt(now)
			return max(d, time.Millisecond)
		}
	} else {
		h.limiter = nil
	}
	h.probing = probe
	h.inflight++
	h.idleSince = time.Time{}
	return 0
}

// capacity is how many more claimed jobs the webhooks can take at once,
// in flight or parked: the room left by those with attempts in flight and a
// closed circuit, plus, when allowance is true, room for one more webhook
// (one the gate does not know may have due deliveries too).
//
// That allowance is what lets a webhook the gate does not know yet get
// past a busy webhook's backlog: the busy one's excess is handed back with
// a hold-back, which moves it behind the others in the due order. But
// when every due delivery belongs to webhooks that are full, it buys
// nothing and costs a claim and a release per delivery: with one busy
// webhook the drain halved. So it is granted while claims find webhooks the
// gate did not know (see claimed), and otherwise once every allowanceEvery.
func (g *gate) capacity(now time.Time) (n int, allowance bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for id, h := range g.hooks {
		if h.forgettable(now.Add(-forgetAfter)) {
			delete(g.hooks, id)
			continue
		}
		if h.openUntil.IsZero() {
			n += max(0, 2*g.maxFlight-h.inflight-len(h.parked))
		}
	}
	if len(g.hooks) == 0 || !now.Before(g.allowanceAt) {
		n, allowance = n+2*g.maxFlight, true
	}
	return n, allowance
}

// room reports whether webhook id can take one more job at once, in flight
// or parked: its circuit is closed and its cap and park are not full (a
// webhook the gate does not know has room).
func (g *gate) room(id string, now time.Time) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	h := g.hooks[id]
	if h == nil {
		return true
	}
	if !h.openUntil.IsZero() && now.Before(h.openUntil) {
		return false
	}
	return h.inflight+len(h.parked) < 2*g.maxFlight
}

// allowanceEvery is how often a claim may take more than the known webhooks
// have room for, when the last such claim found no other webhook.
const allowanceEvery = 20 * time.Millisecond

// claimed learns from a claim made with capacity's allowance: if it found a
// webhook the gate does not know, the allowance stays; if it found none and
// took more than the known webhooks' room, the allowance was spent on
// deliveries that will be handed back, and the next one waits
// allowanceEvery. Called before the jobs are admitted.
func (g *gate) claimed(jobs []*agenthooks.Job, room int, now time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, j := range jobs {
		if g.hooks[j.Webhook.ID] == nil {
			return
		}
	}
	if len(jobs) > room {
		g.allowanceAt = now.Add(allowanceEvery)
	}
}

// done records the end of an admitted attempt. attempted is false when the
// attempt was cancelled by shutdown (it says nothing about the endpoint).
// When jobs are parked on the webhook, the oldest gets its turn: the slot
// this attempt freed, or a hold-back if the circuit or the rate limit stands
// in its way now.
func (g *gate) done(webhookID string, attempted, ok bool, now time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	h := g.hooks[webhookID]
	if h == nil {
		return
	}
	h.inflight--
	h.hold = 0
	wasProbe := h.probing
	h.probing = false
	if attempted {
		if ok {
			if !h.openUntil.IsZero() {
				g.circuit(webhookID, false)
			}
			h.failures, h.openUntil, h.cooldown = 0, time.Time{}, g.cooldown
		} else {
			h.failures++
			switch {
			case wasProbe:
				h.cooldown = min(h.cooldown*2, g.maxPause)
				h.openUntil = now.Add(h.cooldown)
			case h.openUntil.IsZero() && h.failures >= g.threshold:
				h.openUntil = now.Add(h.cooldown)
				g.circuit(webhookID, true)
			}
		}
	}
	if len(h.parked) > 0 {
		pj := h.parked[0]
		h.parked[0] = parkedJob{}
		h.parked = h.parked[1:]
		if len(h.parked) == 0 {
			h.parked = nil
		}
		pj.turn <- g.pass(h, pj.webhook, now)
		return
	}
	if attempted && ok && h.inflight == 0 && h.limiter == nil {
		// Nothing to remember but that it is healthy and has room: kept a
		// while so that claims count its room (capacity), then forgotten.
		h.idleSince = now
	}
}

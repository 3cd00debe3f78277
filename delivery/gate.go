package delivery

import (
	"sync"
	"time"

	"github.com/agenthooks/agenthooks"
)

// gate holds per-webhook state that keeps one bad endpoint from hurting the
// others: a cap on attempts in flight, a circuit breaker and a rate limit.
// Deliveries it holds back are released to the queue with a due time; they
// wait, they do not fail and they consume no attempt. A delivery that finds
// only the in-flight cap full may instead be parked (admitOrPark): it waits
// in memory, up to maxFlight of them per webhook, and the worker whose
// attempt to that webhook ends next takes it over (done), with no trip
// through the store.
//
// The state lives in this process. With several worker processes on
// PostgreSQL each keeps its own, so a webhook's cap and rate are per process.
type gate struct {
	mu        sync.Mutex
	hooks     map[string]*hookState
	maxFlight int
	threshold int           // consecutive failures that open the circuit
	cooldown  time.Duration // first open period; doubles on each failed probe
	maxCool   time.Duration
	// maxPark is the longest a parked delivery may wait: its lease must
	// still cover an attempt when it goes (0: no limit).
	maxPark time.Duration
	// probeAt is when capacity next grants room for a webhook it does not
	// know (see capacity).
	probeAt time.Time
}

type hookState struct {
	inflight  int
	failures  int       // consecutive failed attempts
	openUntil time.Time // zero when the circuit is closed
	cooldown  time.Duration
	probing   bool // a half-open probe is in flight
	tokens    float64
	refilled  time.Time
	parked    []parkedJob   // waiting for a slot, oldest first
	hold      time.Duration // current hold-back while the cap stays full; 0 after an attempt ends
	holdSince time.Time
	idleSince time.Time // when its last attempt ended well with none in flight; zero while busy
}

// forgetAfter is how long the gate keeps the state of a healthy webhook
// with nothing in flight.
const forgetAfter = 10 * time.Second

// forgettable reports whether h holds nothing but idleness since before.
func (h *hookState) forgettable(before time.Time) bool {
	return !h.idleSince.IsZero() && h.idleSince.Before(before) && h.inflight == 0 && len(h.parked) == 0 &&
		h.failures == 0 && h.openUntil.IsZero() && h.refilled.IsZero()
}

type parkedJob struct {
	job *agenthooks.Job
	at  time.Time
}

func newGate(maxFlight, threshold int, cooldown time.Duration) *gate {
	return &gate{hooks: map[string]*hookState{}, maxFlight: maxFlight, threshold: threshold, cooldown: cooldown, maxCool: 5 * time.Minute}
}

// heldBack is how long to wait before trying again when the in-flight cap is
// full or a probe is already out.
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

// admit decides whether an attempt to w may start now. If it may, it counts
// the attempt in flight and returns 0; else it returns how long to wait.
func (g *gate) admit(w *agenthooks.Webhook, now time.Time) time.Duration {
	g.mu.Lock()
	defer g.mu.Unlock()
	h := g.hooks[w.ID]
	if h == nil {
		h = &hookState{cooldown: g.cooldown}
		g.hooks[w.ID] = h
	}
	if h.inflight >= g.maxFlight {
		return heldBack
	}
	return g.pass(h, w, now)
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
		rate := *w.RateLimit
		burst := max(1, rate)
		if h.refilled.IsZero() {
			h.tokens = burst
		} else {
			h.tokens = min(burst, h.tokens+now.Sub(h.refilled).Seconds()*rate)
		}
		h.refilled = now
		if h.tokens < 1 {
			return max(time.Duration((1-h.tokens)/rate*float64(time.Second)), time.Millisecond)
		}
		h.tokens--
	}
	h.probing = probe
	h.inflight++
	h.idleSince = time.Time{}
	return 0
}

// admitOrPark is admit for a claimed job, which may be parked instead of held
// back when the webhook's in-flight cap is all that stands in its way and
// fewer than maxFlight jobs are parked already. It returns 0, false when the
// attempt may start; 0, true when the job is parked (done hands it to a
// worker later; it keeps its own worker slot meanwhile); else how long to
// hold it back.
func (g *gate) admitOrPark(j *agenthooks.Job, now time.Time) (time.Duration, bool) {
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
		// taken over by the end of one of them.
		if h.openUntil.IsZero() && len(h.parked) < g.maxFlight {
			h.parked = append(h.parked, parkedJob{job: j, at: now})
			return 0, true
		}
		return g.holdFull(h, now), false
	}
	return g.pass(h, w, now), false
}

// capacity is how many more claimed jobs the webhooks can take at once,
// in flight or parked: the room left by those with attempts in flight and a
// closed circuit, plus, when probe is true, room for one more webhook (one
// the gate does not know may have due deliveries too).
//
// That allowance is what lets a webhook the gate does not know yet get
// past a busy webhook's backlog: the busy one's excess is handed back with
// a hold-back, which moves it behind the others in the due order. But
// when every due delivery belongs to webhooks that are full, it buys
// nothing and costs a claim and a release per delivery: with one busy
// webhook the drain halved. So it is a probe: granted while claims find
// webhooks the gate did not know (see claimed), and otherwise once every
// probeEvery.
func (g *gate) capacity(now time.Time) (n int, probe bool) {
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
	if len(g.hooks) == 0 || !now.Before(g.probeAt) {
		n, probe = n+2*g.maxFlight, true
	}
	return n, probe
}

// probeEvery is how often a claim may take more than the known webhooks
// have room for, when the last such claim found no other webhook.
const probeEvery = 20 * time.Millisecond

// claimed learns from a claim made with capacity's probe allowance:
// if it found a webhook the gate does not know, the allowance stays;
// if it found none and took more than the known webhooks' room, the
// allowance was spent on deliveries that will be handed back, and the
// next one waits probeEvery. Called before the jobs are dispatched.
func (g *gate) claimed(jobs []*agenthooks.Job, room int, now time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, j := range jobs {
		if g.hooks[j.Webhook.ID] == nil {
			return
		}
	}
	if len(jobs) > room {
		g.probeAt = now.Add(probeEvery)
	}
}

// done records the end of an admitted attempt. attempted is false when the
// attempt was cancelled by shutdown (it says nothing about the endpoint).
// When jobs are parked on the webhook, it returns the oldest: admitted (its
// slot is the one this attempt freed) when wait is 0, else to be held back
// for wait.
func (g *gate) done(webhookID string, attempted, ok bool, now time.Time) (next *agenthooks.Job, wait time.Duration) {
	g.mu.Lock()
	defer g.mu.Unlock()
	h := g.hooks[webhookID]
	if h == nil {
		return nil, 0
	}
	h.inflight--
	h.hold = 0
	wasProbe := h.probing
	h.probing = false
	if attempted {
		if ok {
			h.failures, h.openUntil, h.cooldown = 0, time.Time{}, g.cooldown
		} else {
			h.failures++
			switch {
			case wasProbe:
				h.cooldown = min(h.cooldown*2, g.maxCool)
				h.openUntil = now.Add(h.cooldown)
			case h.openUntil.IsZero() && h.failures >= g.threshold:
				h.openUntil = now.Add(h.cooldown)
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
		if g.maxPark > 0 && now.Sub(pj.at) > g.maxPark {
			// Waited so long that its lease may not cover an attempt:
			// back to the queue, due now.
			return pj.job, time.Nanosecond
		}
		return pj.job, g.pass(h, &pj.job.Webhook, now)
	}
	if attempted && ok && h.inflight == 0 && h.refilled.IsZero() {
		// Nothing to remember but that it is healthy and has room: kept a
		// while so that claims count its room (capacity), then forgotten.
		h.idleSince = now
	}
	return nil, 0
}

// open reports whether the webhook's circuit is open (for metrics and tests).
func (g *gate) open(webhookID string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	h := g.hooks[webhookID]
	return h != nil && !h.openUntil.IsZero()
}

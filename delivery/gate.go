package delivery

import (
	"sync"
	"time"

	"github.com/agenthooks/agenthooks"
)

// gate holds per-webhook state that keeps one bad endpoint from hurting the
// others: a cap on attempts in flight, a circuit breaker and a rate limit.
// Deliveries it holds back are released to the queue with a due time; they
// wait, they do not fail and they consume no attempt.
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
}

type hookState struct {
	inflight  int
	failures  int       // consecutive failed attempts
	openUntil time.Time // zero when the circuit is closed
	cooldown  time.Duration
	probing   bool // a half-open probe is in flight
	tokens    float64
	refilled  time.Time
}

func newGate(maxFlight, threshold int, cooldown time.Duration) *gate {
	return &gate{hooks: map[string]*hookState{}, maxFlight: maxFlight, threshold: threshold, cooldown: cooldown, maxCool: 5 * time.Minute}
}

// heldBack is how long to wait before trying again when the in-flight cap is
// full or a probe is already out.
const heldBack = 100 * time.Millisecond

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
	return 0
}

// done records the end of an admitted attempt. attempted is false when the
// attempt was cancelled by shutdown (it says nothing about the endpoint).
func (g *gate) done(webhookID string, attempted, ok bool, now time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	h := g.hooks[webhookID]
	if h == nil {
		return
	}
	h.inflight--
	wasProbe := h.probing
	h.probing = false
	if !attempted {
		return
	}
	if ok {
		h.failures, h.openUntil, h.cooldown = 0, time.Time{}, g.cooldown
		if h.inflight == 0 && h.refilled.IsZero() {
			delete(g.hooks, webhookID)
		}
		return
	}
	h.failures++
	switch {
	case wasProbe:
		h.cooldown = min(h.cooldown*2, g.maxCool)
		h.openUntil = now.Add(h.cooldown)
	case h.openUntil.IsZero() && h.failures >= g.threshold:
		h.openUntil = now.Add(h.cooldown)
	}
}

// open reports whether the webhook's circuit is open (for metrics and tests).
func (g *gate) open(webhookID string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	h := g.hooks[webhookID]
	return h != nil && !h.openUntil.IsZero()
}

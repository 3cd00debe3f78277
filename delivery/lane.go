package delivery

import (
	"container/heap"
	"time"

	"golang.org/x/time/rate"

	"github.com/agenthooks/agenthooks"
)

// lane is one webhook's share of the pool: the claimed jobs waiting for a
// worker (a FIFO, oldest first), how many of its attempts are in flight,
// its circuit and its rate limit, and when it may next give a worker a job.
// A lane holds no goroutine and no lock: lanes, which owns every lane, is
// used under the pool's lock.
type lane struct {
	webhookID string
	jobs      []*agenthooks.Job // waiting, oldest first
	inflight  int               // jobs taken by workers whose outcome is not sent yet
	failures  int               // consecutive failed attempts
	openUntil time.Time         // zero while the circuit is closed
	cooldown  time.Duration     // the next pause of the circuit
	probing   bool              // the half-open circuit's probe is in flight
	limiter   *rate.Limiter     // nil while the webhook has no rate limit
	limit     float64           // the rate limiter was made for
	// eligibleAt is when the lane may next give a job (the circuit's end,
	// the rate limiter's next token, or when it last became eligible: the
	// earliest is served first, so equally eligible lanes take turns).
	eligibleAt time.Time
	seq        uint64 // order among lanes of the same eligibleAt
	index      int    // in lanes.ready; -1 when not there
}

// lanes are the pool's claimed jobs, one lane per webhook, and the heap of
// the lanes that have a job to give, by eligibility.
//
// Invariant: every claimed job is in exactly one lane (queued) or held by
// exactly one worker (taken by next, counted in its lane's inflight) until
// done is called for it, after which its outcome is sent; drain moves every
// queued job to the caller at once, which then owns them. check verifies it
// in tests, with the structure's own rules:
//   - queued is the sum of the lanes' jobs, held the sum of their inflight;
//   - a lane is in ready exactly when it has jobs, room for one more attempt
//     (inflight < maxFlight) and no probe out; there index is its place;
//   - a lane with nothing queued or in flight, a closed circuit, no failure
//     streak and a full rate limiter is forgotten.
type lanes struct {
	byID   map[string]*lane
	ready  laneHeap
	queued int // jobs waiting in lanes
	held   int // jobs taken by workers, outcome not sent
	seq    uint64

	maxFlight int           // attempts in flight per webhook
	bound     int           // jobs queued per lane before its webhook is kept out of claims
	threshold int           // consecutive failures that open the circuit
	cooldown  time.Duration // first pause of an opened circuit; doubles after each failed probe
	maxPause  time.Duration // the longest pause
	// circuit is told when a webhook's circuit opens or closes.
	circuit func(webhookID string, open bool)
}

func newLanes(maxFlight, bound, threshold int, cooldown, maxPause time.Duration, circuit func(string, bool)) *lanes {
	if circuit == nil {
		circuit = func(string, bool) {}
	}
	return &lanes{byID: map[string]*lane{}, maxFlight: max(1, maxFlight), bound: max(1, bound), threshold: max(1, threshold),
		cooldown: cooldown, maxPause: max(maxPause, cooldown), circuit: circuit}
}

// lane returns webhook id's lane, made on first use.
func (ls *lanes) lane(id string) *lane {
	l := ls.byID[id]
	if l == nil {
		l = &lane{webhookID: id, cooldown: ls.cooldown, index: -1}
		ls.byID[id] = l
	}
	return l
}

// push queues a claimed job at the back of its webhook's lane. A lane takes
// every job pushed: its bound keeps the webhook out of the next claims
// (blocked), so one claim overfills a lane by at most its own size.
func (ls *lanes) push(j *agenthooks.Job, now time.Time) {
	l := ls.lane(j.Webhook.ID)
	l.setRate(j.Webhook.RateLimit)
	l.jobs = append(l.jobs, j)
	ls.queued++
	if l.index < 0 && len(l.jobs) == 1 {
		ls.schedule(l, now)
	}
}

// setRate follows the webhook's rate limit as its latest job carries it.
func (l *lane) setRate(limit *float64) {
	if limit == nil || *limit <= 0 {
		l.limiter, l.limit = nil, 0
		return
	}
	if r := *limit; l.limiter == nil || l.limit != r {
		l.limiter, l.limit = rate.NewLimiter(rate.Limit(r), max(1, int(r))), r
	}
}

// schedule puts l in the ready heap if it has a job to give, eligible from
// the end of its circuit's pause, or from now.
func (ls *lanes) schedule(l *lane, now time.Time) {
	if l.index >= 0 || len(l.jobs) == 0 || l.inflight >= ls.maxFlight || l.probing {
		return
	}
	l.eligibleAt = now
	if !l.openUntil.IsZero() && l.openUntil.After(now) {
		l.eligibleAt = l.openUntil
	}
	ls.seq++
	l.seq = ls.seq
	heap.Push(&ls.ready, l)
}

// next takes the oldest job of the first eligible lane for a worker, which
// holds it until done. When no lane may give a job now it returns nil and
// when the first one may (zero when no job is queued at all).
func (ls *lanes) next(now time.Time) (*agenthooks.Job, time.Time) {
	for ls.ready.Len() > 0 {
		l := ls.ready[0]
		if l.eligibleAt.After(now) {
			return nil, l.eligibleAt
		}
		if l.limiter != nil {
			res := l.limiter.ReserveN(now, 1)
			if d := res.DelayFrom(now); d > 0 {
				res.CancelAt(now)
				l.eligibleAt = now.Add(d)
				heap.Fix(&ls.ready, 0)
				continue
			}
		}
		heap.Pop(&ls.ready)
		if !l.openUntil.IsZero() {
			l.probing = true // half-open: this attempt is the probe
		}
		j := l.jobs[0]
		l.jobs[0] = nil
		l.jobs = l.jobs[1:]
		if len(l.jobs) == 0 {
			l.jobs = nil
		}
		ls.queued--
		l.inflight++
		ls.held++
		ls.schedule(l, now) // behind the lanes already eligible
		return j, time.Time{}
	}
	return nil, time.Time{}
}

// peek returns when the first ready lane may give a job, as next would
// see it (zero when no lane is ready).
func (ls *lanes) peek() time.Time {
	if ls.ready.Len() == 0 {
		return time.Time{}
	}
	return ls.ready[0].eligibleAt
}

// done ends a job a worker took: its outcome is about to be sent.
// attempted is false when no attempt said anything about the endpoint
// (shutdown cancelled it, a transformation cancelled the delivery); ok
// tells whether the attempt succeeded. It runs the circuit: threshold
// consecutive failures open it for cooldown, a failed probe doubles the
// pause (up to maxPause), a success closes it.
//
// When the circuit is open after it, the lane's queued jobs are taken out
// and returned with the pause's end: the caller owns them and hands them
// back to the queue, due then. Claims leave the webhook out while its
// circuit is open, so its deliveries wait in the store, where the queue's
// age counts them (a job waiting in a lane is leased, and the queue's age
// cannot see it).
func (ls *lanes) done(webhookID string, attempted, ok bool, now time.Time) (handBack []*agenthooks.Job, until time.Time) {
	l := ls.byID[webhookID]
	if l == nil || l.inflight == 0 {
		return nil, time.Time{}
	}
	l.inflight--
	ls.held--
	wasProbe := l.probing
	l.probing = false
	if attempted {
		switch {
		case ok:
			if !l.openUntil.IsZero() {
				ls.circuit(webhookID, false)
			}
			l.failures, l.openUntil, l.cooldown = 0, time.Time{}, ls.cooldown
		case wasProbe:
			l.failures++
			l.cooldown = min(2*l.cooldown, ls.maxPause)
			l.openUntil = now.Add(l.cooldown)
		default:
			l.failures++
			if l.openUntil.IsZero() && l.failures >= ls.threshold {
				l.openUntil = now.Add(l.cooldown)
				ls.circuit(webhookID, true)
			}
		}
	}
	if l.open(now) && len(l.jobs) > 0 {
		handBack, until = l.jobs, l.openUntil
		l.jobs = nil
		ls.queued -= len(handBack)
		if l.index >= 0 {
			heap.Remove(&ls.ready, l.index)
		}
	}
	if l.index >= 0 && l.openUntil.IsZero() && l.eligibleAt.After(now) {
		// The circuit closed while the lane waited for its end.
		l.eligibleAt = now
		heap.Fix(&ls.ready, l.index)
	}
	ls.schedule(l, now)
	ls.forget(l, now)
	return handBack, until
}

// forget drops a lane that holds nothing worth keeping.
func (ls *lanes) forget(l *lane, now time.Time) {
	if len(l.jobs) == 0 && l.inflight == 0 && l.failures == 0 && l.openUntil.IsZero() &&
		(l.limiter == nil || l.limiter.TokensAt(now) >= float64(l.limiter.Burst())) {
		delete(ls.byID, l.webhookID)
	}
}

// blocked returns the webhooks a claim must leave out: those whose lane is
// full and those whose circuit is open (their deliveries would only wait
// in the lane, holding its room and lease renewals).
func (ls *lanes) blocked(now time.Time) []string {
	var ids []string
	for id, l := range ls.byID {
		if l.full(ls.bound) || l.open(now) {
			ids = append(ids, id)
		}
	}
	return ids
}

// room reports whether webhook id's lane takes one more job now (a
// hand-off): it is not full and its circuit is not open.
func (ls *lanes) room(id string, now time.Time) bool {
	l := ls.byID[id]
	return l == nil || !l.full(ls.bound) && !l.open(now)
}

func (l *lane) full(bound int) bool { return len(l.jobs) >= bound }

// open reports whether the circuit holds the lane's jobs back now (its
// pause runs, or its probe is out).
func (l *lane) open(now time.Time) bool {
	return !l.openUntil.IsZero() && (l.probing || now.Before(l.openUntil))
}

// drain takes every queued job out of the lanes (the pool is stopping:
// they go back to the queue). Jobs held by workers stay theirs.
func (ls *lanes) drain(now time.Time) []*agenthooks.Job {
	var out []*agenthooks.Job
	for _, l := range ls.byID {
		out = append(out, l.jobs...)
		l.jobs = nil
		if l.index >= 0 {
			heap.Remove(&ls.ready, l.index)
		}
		ls.forget(l, now)
	}
	ls.queued = 0
	return out
}

// laneHeap orders ready lanes by eligibility, then by when they became
// ready.
type laneHeap []*lane

func (h laneHeap) Len() int { return len(h) }
func (h laneHeap) Less(i, j int) bool {
	if !h[i].eligibleAt.Equal(h[j].eligibleAt) {
		return h[i].eligibleAt.Before(h[j].eligibleAt)
	}
	return h[i].seq < h[j].seq
}
func (h laneHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}
func (h *laneHeap) Push(x any) {
	l := x.(*lane)
	l.index = len(*h)
	*h = append(*h, l)
}
func (h *laneHeap) Pop() any {
	old := *h
	l := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	l.index = -1
	return l
}

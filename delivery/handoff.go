package delivery

import (
	"time"

	"github.com/agenthooks/agenthooks"
)

// The hand-off (service.Handoff): a delivery stored by a transaction of
// this process goes straight to one of its workers when one is free for it,
// stored already leased (agenthooks.Tx.CreateLeasedDelivery), instead of
// being stored due and then claimed. Lease reserves the worker in slots as
// a claim of one would; Handed, called once the transaction committed,
// settles it and starts the job's goroutine; Unlease gives it back.

// Lease reserves a worker for a delivery to w about to be stored, unless
// the pool is not running or is paused, every worker is taken or reserved,
// the pool is recovering from a failed write (Pool.unsure),
// w's circuit is open or its in-flight cap and park are full (the job would
// only be handed back), or w orders its deliveries per conversation (the
// claim's rule decides which of a conversation's deliveries may go).
func (p *Pool) Lease(w *agenthooks.Webhook, now time.Time) (time.Time, bool) {
	if !p.live.Load() || p.paused.Load() || p.unsure.Load() || w.Ordering == agenthooks.OrderingConversation {
		return time.Time{}, false
	}
	if !p.slots.reserveOne(w.ID, now) {
		return time.Time{}, false
	}
	return now.Add(p.o.Lease), true
}

// Handed starts the job of a reservation whose delivery was committed. If
// the pool began stopping meanwhile, the job is handed back to the queue
// (from another goroutine: Handed runs on the store's).
func (p *Pool) Handed(j *agenthooks.Job) {
	jobs := []*agenthooks.Job{j}
	c := claimSize{n: 1}
	if !p.slots.settle(c, jobs, p.o.Now()) {
		go p.release(jobs)
		return
	}
	p.handed.Add(1)
	p.leases.add(jobs)
	go p.work(j)
}

// Unlease gives back a reservation whose transaction did not commit.
func (p *Pool) Unlease() { p.slots.cancel(claimSize{n: 1}) }

package delivery

import (
	"sync"
	"time"

	"github.com/agenthooks/agenthooks"
)

// slots is the pool's claim accounting: it sizes each claim and counts the
// workers that hold claimed jobs. Claims are made by the dispatcher when
// deliveries are stored, and by the completion writers in the transactions
// that record outcomes (the workers those outcomes freed take the next
// deliveries at no extra commit); they run their transactions in parallel.
//
// Invariants, under mu:
//   - busy+reserved <= workers: a claim never takes more deliveries than
//     there are free workers, however many claims run at once.
//   - reserved is the sum of the sizes of the claims whose transactions are
//     running: reserve adds a claim's size, cancel or settle takes it off.
//   - busy is the number of claimed jobs that a goroutine of the pool owns,
//     one goroutine per job, from settle until free: it makes the job's
//     attempt, or waits parked on its webhook for a slot, or hands the job
//     back to the queue. No slot is held by a job that no goroutine owns.
//   - the wait group counts those goroutines until they have handed their
//     outcome to the writers (exited), so that Stop closes the writers'
//     channel only after the last send.
//   - once stopping, reserve grants nothing and settle dispatches nothing.
type slots struct {
	mu       sync.Mutex
	workers  int
	batch    int
	busy     int
	reserved int
	stopping bool
	gate     *gate
	// leasedAt is when reserveOne was last asked for a worker: while
	// hand-offs go on, claims leave a share of the workers to them.
	leasedAt time.Time
	wg       sync.WaitGroup
}

// claimSize is the size of one claim. allowance tells that it includes
// the gate's allowance for webhooks it does not know, beyond room, the
// known webhooks' room.
type claimSize struct {
	n         int
	allowance bool
	room      int
}

// reserve sizes a claim and reserves its workers: as many deliveries as
// there are free workers not reserved by other claims, up to the batch, and
// no more than the webhooks can take (a claim beyond their in-flight caps
// and parks would only hand deliveries back); none once stopping. The claim
// then runs its transaction and ends with settle, or cancel if it failed.
func (s *slots) reserve(now time.Time) claimSize {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopping {
		return claimSize{}
	}
	n, allowance := s.gate.capacity(now)
	free := s.workers - s.busy - s.reserved
	if now.Sub(s.leasedAt) < handoffActive {
		// Fresh deliveries are being handed over: leave them workers
		// while this claim's transaction runs (reserveOne).
		free -= s.workers / handoffShare
	}
	c := claimSize{n: max(0, min(free, s.batch, n-s.reserved)), allowance: allowance}
	if allowance {
		c.room = n - 2*s.gate.maxFlight - s.reserved
	}
	s.reserved += c.n
	return c
}

// reserveOne reserves a worker for one delivery to webhook id (a hand-off),
// if a worker is free and the gate has room for it; it then ends with
// settle or cancel as a claim of one.
func (s *slots) reserveOne(webhookID string, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.leasedAt = now
	if s.stopping || s.workers-s.busy-s.reserved < 1 || !s.gate.room(webhookID, now) {
		return false
	}
	s.reserved++
	return true
}

// While hand-offs happen (one within handoffActive), a claim leaves
// 1/handoffShare of the workers free: a claim reserves every free worker
// for its transaction's length, and a fresh delivery that finds none free
// is stored due, which wakes the dispatcher, whose claim reserves them
// all again.
const (
	handoffActive = time.Second
	handoffShare  = 8
)

// cancel gives back the reservation of a claim that took nothing.
func (s *slots) cancel(c claimSize) {
	s.mu.Lock()
	s.reserved -= c.n
	s.mu.Unlock()
}

// settle ends a claim that committed: it gives back the reservation and,
// unless the pool began stopping meanwhile, counts the jobs busy and in
// the wait group, and reports true: the caller then starts one goroutine
// per job, which ends with free and exited. Else the caller hands the jobs
// back to the queue.
func (s *slots) settle(c claimSize, jobs []*agenthooks.Job, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reserved -= c.n
	if s.stopping {
		return false
	}
	s.busy += len(jobs)
	s.wg.Add(len(jobs))
	if c.allowance {
		s.gate.claimed(jobs, c.room, now)
	}
	return true
}

// free gives back the slot of a job whose outcome is decided, before the
// outcome is handed to the writers: the claim made with that outcome counts
// the freed worker.
func (s *slots) free() {
	s.mu.Lock()
	s.busy--
	s.mu.Unlock()
}

// exited ends the count of a job's goroutine, after its outcome is handed over.
func (s *slots) exited() { s.wg.Done() }

// stop makes every later reserve grant nothing.
func (s *slots) stop() {
	s.mu.Lock()
	s.stopping = true
	s.mu.Unlock()
}

// wait returns a channel closed when every job's goroutine has exited.
// Call it after stop: no goroutine is added after that.
func (s *slots) wait() <-chan struct{} {
	c := make(chan struct{})
	go func() { s.wg.Wait(); close(c) }()
	return c
}

// inUse returns how many workers hold a job.
func (s *slots) inUse() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.busy
}

package delivery

import (
	"sync"
	"time"

	"github.com/agenthooks/agenthooks"
)

// slots is the pool's claim accounting: it sizes each claim and counts the
// claimed jobs the pool holds. Claims are made by the dispatcher when
// deliveries are stored, and by the completion writers in the transactions
// that record outcomes (the jobs those outcomes ended make room for the
// next deliveries at no extra commit); they run their transactions in
// parallel.
//
// Invariants, under mu:
//   - busy+reserved <= workers: a claim never takes more deliveries than
//     the pool has room for, however many claims run at once.
//   - reserved is the sum of the sizes of the claims whose transactions are
//     running: reserve adds a claim's size, cancel or settle takes it off.
//   - busy is the number of claimed jobs the pool holds, from settle until
//     free: queued in their webhook's lane or held by a worker (lanes),
//     or on their way back to the queue. Free is called once a job's
//     outcome is decided.
//   - the wait group counts those jobs until their outcome is handed to the
//     writers (exited), so that Stop closes the writers' channel only after
//     the last send.
//   - once stopping, reserve grants nothing and settle takes nothing.
type slots struct {
	mu       sync.Mutex
	workers  int
	batch    int
	busy     int
	reserved int
	stopping bool
	// leasedAt is when reserveOne was last asked for a worker: while
	// hand-offs go on, claims leave a share of the workers to them.
	leasedAt time.Time
	wg       sync.WaitGroup
}

// claimSize is the size of one claim.
type claimSize struct {
	n int
}

// reserve sizes a claim and reserves its room: as many deliveries as the
// pool has room for not reserved by other claims, up to the batch; none
// once stopping. The claim then runs its transaction and ends with settle,
// or cancel if it failed. (The webhooks that could not take more are left
// out by the claim itself: lanes.blocked.)
func (s *slots) reserve(now time.Time) claimSize {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopping {
		return claimSize{}
	}
	free := s.workers - s.busy - s.reserved
	if now.Sub(s.leasedAt) < handoffActive {
		// Fresh deliveries are being handed over: leave them room while
		// this claim's transaction runs (reserveOne).
		free -= s.workers / handoffShare
	}
	c := claimSize{n: max(0, min(free, s.batch))}
	s.reserved += c.n
	return c
}

// reserveOne reserves room for one delivery (a hand-off) if there is some
// and its webhook's lane has room (room); it then ends with settle or
// cancel as a claim of one.
func (s *slots) reserveOne(room bool, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.leasedAt = now
	if s.stopping || s.workers-s.busy-s.reserved < 1 || !room {
		return false
	}
	s.reserved++
	return true
}

// While hand-offs happen (one within handoffActive), a claim leaves
// 1/handoffShare of the room free: a claim reserves all the free room
// for its transaction's length, and a fresh delivery that finds none free
// is stored due, which wakes the dispatcher, whose claim reserves it all
// again.
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
// the wait group, and reports true: the caller then pushes them into
// their lanes; each ends with free and exited. Else the caller hands the
// jobs back to the queue.
func (s *slots) settle(c claimSize, jobs []*agenthooks.Job) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reserved -= c.n
	if s.stopping {
		return false
	}
	s.busy += len(jobs)
	s.wg.Add(len(jobs))
	return true
}

// free gives back the room of a job whose outcome is decided, before the
// outcome is handed to the writers: the claim made with that outcome counts
// the room freed.
func (s *slots) free() {
	s.mu.Lock()
	s.busy--
	s.mu.Unlock()
}

// exited ends the count of a job, after its outcome is handed over.
func (s *slots) exited() { s.wg.Done() }

// stop makes every later reserve grant nothing.
func (s *slots) stop() {
	s.mu.Lock()
	s.stopping = true
	s.mu.Unlock()
}

// wait returns a channel closed when every job's outcome is handed over.
// Call it after stop: no job is added after that.
func (s *slots) wait() <-chan struct{} {
	c := make(chan struct{})
	go func() { s.wg.Wait(); close(c) }()
	return c
}

// inUse returns how many claimed jobs the pool holds.
func (s *slots) inUse() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.busy
}

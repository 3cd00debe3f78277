// Package delivery runs the workers that deliver events: they claim due
// deliveries from the store under a lease, sign each with the webhook's
// secret(s) per Standard Webhooks, POST it, record the attempt and schedule
// the next one by the retry policy. Completions are written in batches, so on
// SQLite they share group commits with the API's writes.
//
// The files follow the jobs: pool.go the lifecycle and the dispatcher,
// slots.go the claim accounting, gate.go the per-webhook limits and
// circuit, attempt.go the HTTP attempt, complete.go the batched completion
// (and the outcomes held while the store is down), lease.go the renewal of
// the leases this process holds. docs/delivery.md describes the behaviour.
package delivery

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/agenthooks/agenthooks"
)

// Options configure a Pool. Zero values take the defaults.
type Options struct {
	Store  agenthooks.Store
	Client *http.Client
	// Senders publishes to broker destinations (RabbitMQ, NATS, Redis);
	// nil fails a broker webhook's attempts.
	Senders Sender
	Policy  *Policy
	// Workers is the most attempts in flight in this process (default 512).
	Workers int
	// MaxInFlightPerWebhook caps attempts in flight to one webhook (default 32).
	MaxInFlightPerWebhook int
	// Timeout is the per-attempt timeout (default 15s).
	Timeout time.Duration
	// Lease is how long a claim stays with this process before another may
	// take it (default 15s). The pool renews the leases it holds every
	// Lease/3 while their attempts run and their outcomes wait to be
	// written, so a lease outlives the attempt however long it takes, and a
	// dead worker's deliveries come due again one lease after it died.
	Lease time.Duration
	// PollInterval is the fallback poll when no wake-up arrives (default 250ms).
	PollInterval time.Duration
	// Batch is the most deliveries claimed or completed at once (default 256).
	Batch int
	// Writers is how many goroutines record outcomes (and claim the next
	// deliveries in the same transaction) at once. Default: 1 on a store
	// whose writes commit through one writer of its own
	// (Capabilities.OneWriter, SQLite: more would only queue there), 2
	// otherwise (PostgreSQL: each round trip of one writer leaves the server
	// idle; more than 2 cost more in contention than they gained on the
	// development machine, docs/benchmarks.md).
	Writers int
	// MaxHeldOutcomes is the most outcomes one writer keeps while the store
	// cannot record them (default 2×Workers: every attempt in flight and
	// as many again).
	MaxHeldOutcomes int
	// CircuitThreshold is how many consecutive failed attempts to one webhook
	// open its circuit (default 5).
	CircuitThreshold int
	// CircuitCooldown is how long an opened circuit holds a webhook's
	// deliveries back before its probe may go (default 5s); it doubles after
	// each failed probe, up to CircuitMaxPause.
	CircuitCooldown time.Duration
	// CircuitMaxPause is the longest pause of an open circuit (default 10s,
	// and never less than CircuitCooldown): a receiver that comes back gets
	// new events within that long (docs/delivery.md).
	CircuitMaxPause time.Duration
	// UserAgent is sent with every request.
	UserAgent string
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Logger (default slog.Default()).
	Logger *slog.Logger
	// Observer is told about attempts and circuits, for metrics (nil: none).
	Observer Observer
	// Notifier raises the operational events (nil: none are raised).
	Notifier Notifier

	// ClientFor, when set, returns the client of a webhook with TLS
	// settings of its own (delivery/transport.go); nil sends every
	// delivery with Client.
	ClientFor ClientForFunc
	// Tracer, when set, wraps each attempt in a span (delivery/transport.go).
	Tracer AttemptTracer
}

// Pool delivers events. Start it once; Stop it once (more calls of either
// are safe: see Start and Stop).
type Pool struct {
	o   Options
	log *slog.Logger
	obs Observer

	lifeMu  sync.Mutex // guards state
	state   int        // notStarted, running or stopped
	stopped chan struct{}

	stop   chan struct{} // closed by Stop: the dispatcher ends
	live   atomic.Bool   // between Start and Stop: Lease may reserve
	paused atomic.Bool
	// unsure is set when a write of the pool failed (a claim, a renewal,
	// an outcome): the leases this process holds may have run out since,
	// and a claim could take back deliveries whose outcomes it still holds
	// or whose attempts still run. While set, no claim or hand-off is made
	// but the dispatcher's recovery claim (claim), which waits until every
	// held outcome is written and renews the leases still held in its own
	// transaction first.
	unsure atomic.Bool
	resume chan struct{}
	// due wakes the dispatcher when deliveries it held back come due, so
	// that they do not wait for the next poll.
	due chan struct{}

	slots  *slots
	gate   *gate
	leases *leases

	attemptCtx    context.Context
	cancelAttempt context.CancelFunc

	results   chan result
	flushCtx  context.Context // Stop's, set before results is closed
	loopDone  chan struct{}
	writeDone chan struct{}
	renewStop chan struct{}
	renewDone chan struct{}

	delivered, failed, attempts, heldBack atomic.Int64
	claims, renewals, heldOutcomes        atomic.Int64
	handed                                atomic.Int64
	// dueGen counts the signs that deliveries may be due, dueSeen is the
	// count when a claim last found none left (mayBeDue).
	dueGen, dueSeen atomic.Int64
}

// States of a Pool.
const (
	notStarted = iota
	running
	stopped
)

// New returns a pool; call Start to run it.
func New(o Options) *Pool {
	if o.Workers <= 0 {
		o.Workers = 512
	}
	if o.MaxInFlightPerWebhook <= 0 {
		o.MaxInFlightPerWebhook = 32
	}
	if o.Timeout <= 0 {
		o.Timeout = 15 * time.Second
	}
	if o.Lease <= 0 {
		o.Lease = 15 * time.Second
	}
	if o.PollInterval <= 0 {
		o.PollInterval = 250 * time.Millisecond
	}
	if o.Batch <= 0 {
		o.Batch = 256
	}
	if o.Writers <= 0 {
		o.Writers = 2
		if o.Store.Capabilities().OneWriter {
			o.Writers = 1
		}
	}
	if o.MaxHeldOutcomes <= 0 {
		o.MaxHeldOutcomes = 2 * o.Workers
	}
	if o.CircuitThreshold <= 0 {
		o.CircuitThreshold = 5
	}
	if o.CircuitCooldown <= 0 {
		o.CircuitCooldown = 5 * time.Second
	}
	if o.CircuitMaxPause <= 0 {
		o.CircuitMaxPause = 10 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Policy == nil {
		o.Policy = &Policy{Schedule: DefaultSchedule, Jitter: 0.2, RetryAfterMax: 24 * time.Hour}
	}
	if o.Client == nil {
		o.Client = &http.Client{Timeout: o.Timeout}
	}
	var obs Observer = nopObserver{}
	if o.Observer != nil {
		obs = o.Observer
	}
	ctx, cancel := context.WithCancel(context.Background())
	g := newGate(o.MaxInFlightPerWebhook, o.CircuitThreshold, o.CircuitCooldown, o.CircuitMaxPause, obs.CircuitChanged)
	return &Pool{
		o: o, log: o.Logger, obs: obs,
		stopped: make(chan struct{}),
		stop:    make(chan struct{}), resume: make(chan struct{}, 1), due: make(chan struct{}, 1),
		slots:      &slots{workers: o.Workers, batch: o.Batch, gate: g},
		gate:       g,
		leases:     newLeases(),
		attemptCtx: ctx, cancelAttempt: cancel,
		results:   make(chan result, o.Workers),
		loopDone:  make(chan struct{}),
		writeDone: make(chan struct{}),
		renewStop: make(chan struct{}),
		renewDone: make(chan struct{}),
	}
}

// ErrStarted is returned by Start on a pool that was started before.
var ErrStarted = errors.New("delivery: pool already started")

// ErrStopped is returned by Start on a pool that was stopped: a pool runs
// once; make a new one to run again.
var ErrStopped = errors.New("delivery: pool stopped")

// Start runs the dispatcher, the completion writers and the lease renewer,
// and returns at once. The pool runs until Stop, whatever becomes of ctx:
// ending the work is Stop's (it lets attempts in flight finish), and a
// cancelled signal context must not cut them short. Start returns ctx's
// error if it is already done, ErrStarted on a running pool and ErrStopped
// on a stopped one.
func (p *Pool) Start(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	p.lifeMu.Lock()
	defer p.lifeMu.Unlock()
	switch p.state {
	case running:
		return ErrStarted
	case stopped:
		return ErrStopped
	}
	p.state = running
	p.live.Store(true)
	p.mayBeDue() // an earlier run may have left deliveries due
	var writers sync.WaitGroup
	for range p.o.Writers {
		writers.Go(p.writer)
	}
	go func() {
		writers.Wait()
		close(p.writeDone)
	}()
	go p.renewer(p.renewStop)
	go p.loop()
	return nil
}

// Stop stops claiming, waits for attempts in flight until ctx is done, then
// cancels the rest (they are released for retry, with no attempt counted),
// writes every outcome it can (retrying until ctx is done if the store is
// down) and returns: ctx's error if attempts had to be cancelled, else nil.
// Stop on a pool never started returns nil at once; a second Stop waits for
// the first to finish (or for its own ctx) and returns nil.
func (p *Pool) Stop(ctx context.Context) error {
	p.lifeMu.Lock()
	prev := p.state
	p.state = stopped
	p.lifeMu.Unlock()
	switch prev {
	case notStarted:
		return nil
	case stopped:
		select {
		case <-p.stopped:
		case <-ctx.Done():
		}
		return nil
	}
	defer close(p.stopped)
	p.live.Store(false)
	p.slots.stop()
	close(p.stop)
	<-p.loopDone
	var err error
	waited := p.slots.wait()
	select {
	case <-waited:
	case <-ctx.Done():
		err = ctx.Err()
		p.cancelAttempt()
		<-waited
	}
	p.cancelAttempt()
	p.flushCtx = ctx
	close(p.results)
	<-p.writeDone
	close(p.renewStop)
	<-p.renewDone
	return err
}

// Pause stops claiming new deliveries (attempts in flight go on); Resume
// starts again. The benchmark uses them to build a backlog.
func (p *Pool) Pause() { p.paused.Store(true) }

// Resume undoes Pause.
func (p *Pool) Resume() {
	p.paused.Store(false)
	p.mayBeDue()
	select {
	case p.resume <- struct{}{}:
	default:
	}
}

// Stats are counters since Start, and two gauges.
type Stats struct {
	Attempts  int64 // HTTP attempts made
	Delivered int64 // deliveries that succeeded
	Failed    int64 // deliveries that ended failed
	HeldBack  int64 // claimed deliveries handed back unattempted (circuit, rate limit, in-flight cap)
	Claims    int64 // claim transactions that committed (those of the dispatcher and of the writers)
	Handed    int64 // deliveries handed to a worker by the transaction that stored them (no claim)
	Renewals  int64 // lease renewals tried
	Busy      int64 // gauge: workers holding a job now
	Held      int64 // gauge: outcomes held because the store could not record them
}

// Stats returns the pool's counters.
func (p *Pool) Stats() Stats {
	return Stats{Attempts: p.attempts.Load(), Delivered: p.delivered.Load(), Failed: p.failed.Load(), HeldBack: p.heldBack.Load(),
		Claims: p.claims.Load(), Handed: p.handed.Load(), Renewals: p.renewals.Load(), Busy: int64(p.slots.inUse()), Held: p.heldOutcomes.Load()}
}

// loop is the dispatcher: it claims when deliveries may be due (a wake-up
// from the store, a poll, a resume, held-back deliveries coming due), and
// again at once while claims fill their batch.
func (p *Pool) loop() {
	defer close(p.loopDone)
	ticker := time.NewTicker(p.o.PollInterval)
	defer ticker.Stop()
	failing := false
	for {
		full := false
		if !p.paused.Load() {
			var err error
			full, err = p.claim()
			switch {
			case err != nil && !failing:
				p.log.Error("claim deliveries", slog.Any("error", err))
			case err == nil && failing:
				p.log.Info("claiming deliveries again")
			}
			failing = err != nil
		}
		if full {
			select {
			case <-p.stop:
				return
			default:
				continue
			}
		}
		select {
		case <-p.stop:
			return
		case <-p.o.Store.Wake():
		case <-ticker.C:
		case <-p.resume:
		case <-p.due:
		}
		p.mayBeDue()
	}
}

// mayBeDue records that deliveries may have come due: stored due by some
// process (a wake-up), a lease or a retry's time passed (a poll), held-back
// ones due again. The completion writers claim in their transactions only
// while deliveries may be due (see claimedAll): when every fresh delivery
// is handed over (handoff.go) the queue holds none, and an empty claim
// would cost a statement and reserve the free workers for nothing.
func (p *Pool) mayBeDue() { p.dueGen.Add(1) }

// dueMaybe reports whether deliveries may be due since the last claim that
// found fewer than it asked for; gen is the generation to pass to
// claimedAll for a claim made now.
func (p *Pool) dueMaybe() (maybe bool, gen int64) {
	gen = p.dueGen.Load()
	return gen != p.dueSeen.Load(), gen
}

// claimedAll records that a claim begun at generation gen took fewer
// deliveries than it asked for: none was left due then.
func (p *Pool) claimedAll(gen int64) { p.dueSeen.Store(gen) }

// claim takes as many due deliveries as there are free workers (up to
// Batch) and starts an attempt for each. It reports whether it filled its
// batch, in which case more may be due at once.
//
// After a failed write (unsure) it claims only once no outcome is held
// (the writers retry them), and renews the leases this process still holds
// in the claim's transaction, before the claim: an outage as long as the
// lease let them run out, and the claim would take back the deliveries of
// attempts that ran meanwhile (CONTRACT.md section 8).
func (p *Pool) claim() (bool, error) {
	unsure := p.unsure.Load()
	if unsure && p.heldOutcomes.Load() > 0 {
		return false, nil
	}
	_, gen := p.dueMaybe()
	c := p.slots.reserve(p.o.Now())
	if c.n == 0 && !unsure {
		return false, nil
	}
	var jobs []*agenthooks.Job
	err := p.o.Store.WriteRelaxed(context.Background(), func(tx agenthooks.Tx) error {
		jobs = nil
		if unsure {
			if claims := p.leases.held(); len(claims) > 0 {
				if _, err := tx.RenewLeases(claims, tx.Now().Add(p.o.Lease)); err != nil {
					return err
				}
			}
		}
		if c.n == 0 {
			return nil
		}
		var err error
		jobs, err = tx.ClaimDeliveries(c.n, tx.Now().Add(p.o.Lease))
		return err
	})
	if err != nil {
		p.unsure.Store(true)
		p.slots.cancel(c)
		return false, err
	}
	if unsure {
		p.unsure.CompareAndSwap(true, false)
	}
	if c.n == 0 {
		p.slots.cancel(c)
		return false, nil
	}
	p.dispatchClaimed(c, jobs, gen)
	return len(jobs) == c.n, nil
}

// dispatchClaimed ends a claim that committed: one goroutine per job, or,
// if the pool began stopping meanwhile, the jobs handed back to the queue,
// due now.
func (p *Pool) dispatchClaimed(c claimSize, jobs []*agenthooks.Job, gen int64) {
	p.claims.Add(1)
	if len(jobs) < c.n {
		p.claimedAll(gen)
	}
	if !p.slots.settle(c, jobs, p.o.Now()) {
		if len(jobs) > 0 {
			p.release(jobs)
		}
		return
	}
	p.leases.add(jobs)
	for _, j := range jobs {
		go p.work(j)
	}
}

// release hands claimed jobs back to the queue, due now, with no attempt
// counted. If that fails their leases run out and they are claimed again.
func (p *Pool) release(jobs []*agenthooks.Job) {
	now := p.o.Now()
	os := make([]*agenthooks.Outcome, len(jobs))
	for i, j := range jobs {
		os[i] = &agenthooks.Outcome{DeliveryID: j.Delivery.ID, Lease: j.Lease, Status: agenthooks.DeliveryPending, NextAttemptAt: now}
	}
	err := p.o.Store.WriteRelaxed(context.Background(), func(tx agenthooks.Tx) error { return tx.CompleteDeliveries(os) })
	if err != nil {
		p.log.Error("release claimed deliveries", slog.Int("count", len(jobs)), slog.Any("error", err))
	}
}

// Package delivery runs the workers that deliver events: they claim due
// deliveries from the store under a lease, sign each with the webhook's
// secret(s) per Standard Webhooks, POST it, record the attempt and schedule
// the next one by the retry policy. Completions are written in batches, so on
// SQLite they share group commits with the API's writes.
package delivery

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/agenthooks/agenthooks"
	"github.com/agenthooks/agenthooks/webhook/signature"
)

// Options configure a Pool. Zero values take the defaults.
type Options struct {
	Store  agenthooks.Store
	Client *http.Client
	Policy *Policy
	// Workers is the most attempts in flight in this process (default 512).
	Workers int
	// MaxInFlightPerWebhook caps attempts in flight to one webhook (default 32).
	MaxInFlightPerWebhook int
	// Timeout is the per-attempt timeout, used to size the lease (default 15s).
	Timeout time.Duration
	// Lease is how long a claim stays with this process before another may
	// take it (default 2×Timeout + 5s: an attempt ends within Timeout, and
	// its outcome is written soon after).
	Lease time.Duration
	// PollInterval is the fallback poll when no wake-up arrives (default 250ms).
	PollInterval time.Duration
	// Batch is the most deliveries claimed or completed at once (default 256).
	Batch int
	// Writers is how many goroutines record outcomes (and claim the next
	// deliveries in the same transaction) at once. Default: 1 on a store
	// that commits through one writer of its own (SQLite: more would only
	// queue there), 2 otherwise (PostgreSQL: each round trip of one writer
	// leaves the server idle; more than 2 cost more in contention than they
	// gained on the development machine, docs/benchmarks.md).
	Writers int
	// CircuitThreshold is how many consecutive failed attempts to one webhook
	// open its circuit (default 5).
	CircuitThreshold int
	// CircuitCooldown is how long an opened circuit holds a webhook's
	// deliveries back before one probe may go (default 5s; it doubles after
	// each failed probe, up to 5 minutes).
	CircuitCooldown time.Duration
	// UserAgent is sent with every request.
	UserAgent string
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Logger (default slog.Default()).
	Logger *slog.Logger
}

// Pool delivers events. Start it once; Stop it once.
type Pool struct {
	o      Options
	log    *slog.Logger
	sem    chan struct{}
	stop   chan struct{}
	paused atomic.Bool
	resume chan struct{}
	// due wakes the dispatcher when deliveries it held back come due, so
	// that they do not wait for the next poll.
	due chan struct{}

	// claimMu guards the sizing and the dispatch of claims, which the
	// dispatcher makes when deliveries are stored and the completion
	// writers make in the transactions that record outcomes (the workers
	// those outcomes freed take the next deliveries at no extra commit).
	// A claim reserves its size under claimMu, runs its transaction
	// without it, and dispatches under it again: claims run in parallel
	// and never take more workers than are free. stopping ends them.
	claimMu  sync.Mutex
	reserved int // workers reserved by claims whose transaction is running
	stopping bool
	stopOnce sync.Once

	attemptCtx    context.Context
	cancelAttempt context.CancelFunc

	gate *gate

	wg        sync.WaitGroup // attempts in flight
	results   chan result
	loopDone  chan struct{}
	writeDone chan struct{}

	delivered atomic.Int64
	failed    atomic.Int64
	attempts  atomic.Int64
}

type result struct {
	outcome   agenthooks.Outcome
	gone      bool // 410: disable the webhook and end its pending deliveries
	attempted bool // an HTTP attempt was made (not held back, not cancelled)
	ok        bool // the attempt succeeded
	accountID string
	webhookID string
}

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
		o.Lease = 2*o.Timeout + 5*time.Second
	}
	if o.PollInterval <= 0 {
		o.PollInterval = 250 * time.Millisecond
	}
	if o.Batch <= 0 {
		o.Batch = 256
	}
	if o.Writers <= 0 {
		o.Writers = 2
		if _, ok := o.Store.(relaxedWriter); ok {
			o.Writers = 1
		}
	}
	if o.CircuitThreshold <= 0 {
		o.CircuitThreshold = 5
	}
	if o.CircuitCooldown <= 0 {
		o.CircuitCooldown = 5 * time.Second
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
	ctx, cancel := context.WithCancel(context.Background())
	g := newGate(o.MaxInFlightPerWebhook, o.CircuitThreshold, o.CircuitCooldown)
	// A parked job's lease must still cover its attempt (up to Timeout) and
	// the writing of its outcome when it goes.
	g.maxPark = max((o.Lease-o.Timeout)/2, time.Millisecond)
	return &Pool{
		o: o, log: o.Logger,
		sem:  make(chan struct{}, o.Workers),
		stop: make(chan struct{}), resume: make(chan struct{}, 1), due: make(chan struct{}, 1),
		attemptCtx: ctx, cancelAttempt: cancel,
		gate:      g,
		results:   make(chan result, o.Workers),
		loopDone:  make(chan struct{}),
		writeDone: make(chan struct{}),
	}
}

// Start runs the dispatcher and the completion writers.
func (p *Pool) Start() {
	var writers sync.WaitGroup
	for range p.o.Writers {
		writers.Go(p.writer)
	}
	go func() {
		writers.Wait()
		close(p.writeDone)
	}()
	go p.loop()
}

// Pause stops claiming new deliveries (attempts in flight go on); Resume
// starts again. The benchmark uses them to build a backlog.
func (p *Pool) Pause() { p.paused.Store(true) }

// Resume undoes Pause.
func (p *Pool) Resume() {
	p.paused.Store(false)
	select {
	case p.resume <- struct{}{}:
	default:
	}
}

// Stats are counters since Start.
type Stats struct {
	Attempts  int64
	Delivered int64
	Failed    int64
}

// Stats returns the pool's counters.
func (p *Pool) Stats() Stats {
	return Stats{Attempts: p.attempts.Load(), Delivered: p.delivered.Load(), Failed: p.failed.Load()}
}

// Stop stops claiming, waits for attempts in flight until ctx is done, then
// cancels the rest (they are released for retry, with no attempt counted),
// writes every outcome and returns.
// Calling it again does nothing.
func (p *Pool) Stop(ctx context.Context) {
	p.stopOnce.Do(func() { p.stop1(ctx) })
}

func (p *Pool) stop1(ctx context.Context) {
	p.claimMu.Lock()
	p.stopping = true
	p.claimMu.Unlock()
	close(p.stop)
	<-p.loopDone
	waited := make(chan struct{})
	go func() { p.wg.Wait(); close(waited) }()
	select {
	case <-waited:
	case <-ctx.Done():
		p.cancelAttempt()
		<-waited
	}
	p.cancelAttempt()
	close(p.results)
	<-p.writeDone
}

func (p *Pool) loop() {
	defer close(p.loopDone)
	ticker := time.NewTicker(p.o.PollInterval)
	defer ticker.Stop()
	for {
		full := false
		if !p.paused.Load() {
			var err error
			full, err = p.claim()
			if err != nil {
				p.log.Error("claim deliveries", slog.Any("error", err))
			}
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
	}
}

// relaxedWriter is a Store that can commit writes whose loss in a power
// failure costs a repeated attempt, never an accepted event, without an
// fsync of their own (sqlite.Store.WriteRelaxed).
type relaxedWriter interface {
	WriteRelaxed(ctx context.Context, fn func(agenthooks.Tx) error) error
}

// write runs the pool's own bookkeeping (claims and outcomes). It is relaxed
// where the store allows it: a claim lost in a power failure is claimed
// again (on SQLite, every claim is released at start), and a lost outcome
// means the delivery is attempted again, which at-least-once allows and
// receivers deduplicate. The events themselves were stored durably by the
// API calls that accepted them.
func (p *Pool) write(fn func(agenthooks.Tx) error) error {
	if rw, ok := p.o.Store.(relaxedWriter); ok {
		return rw.WriteRelaxed(context.Background(), fn)
	}
	return p.o.Store.Write(context.Background(), func(tx agenthooks.Tx) error {
		if r, ok := tx.(relaxer); ok {
			if err := r.RelaxDurability(); err != nil {
				return err
			}
		}
		return fn(tx)
	})
}

// batchCompleter is a Tx that records many outcomes at once, each exactly as
// CompleteDelivery would (sqlstore.Tx: in two statements on PostgreSQL).
type batchCompleter interface {
	CompleteDeliveries(os []*agenthooks.Outcome) error
}

// relaxer is a Tx that can commit without waiting for the disk
// (sqlstore.Tx.RelaxDurability on PostgreSQL).
type relaxer interface{ RelaxDurability() error }

// claim takes as many due deliveries as there are free workers (up to Batch)
// and starts an attempt for each. It reports whether it filled its batch, in
// which case more may be due at once.
func (p *Pool) claim() (bool, error) {
	limit := p.reserve()
	if limit.n == 0 {
		return false, nil
	}
	var jobs []*agenthooks.Job
	err := p.write(func(tx agenthooks.Tx) error {
		var err error
		jobs, err = tx.ClaimDeliveries(limit.n, tx.Now().Add(p.o.Lease))
		return err
	})
	if err != nil {
		p.unreserve(limit)
		return false, err
	}
	p.dispatchClaimed(limit, jobs)
	return len(jobs) == limit.n, nil
}

// reserve sizes a claim and reserves its workers: as many deliveries as
// there are free workers not reserved by other claims, up to Batch, and no
// more than the webhooks can take (a claim beyond their in-flight caps and
// parks would only hand deliveries back); 0 when paused or stopping. The
// claim then runs its transaction and ends with dispatchClaimed, or with
// unreserve if it failed.
func (p *Pool) reserve() claimSize {
	p.claimMu.Lock()
	defer p.claimMu.Unlock()
	if p.stopping || p.paused.Load() {
		return claimSize{}
	}
	n, probe := p.gate.capacity(p.o.Now())
	l := claimSize{n: max(0, min(cap(p.sem)-len(p.sem)-p.reserved, p.o.Batch, n-p.reserved)), probe: probe}
	if probe {
		l.room = n - 2*p.gate.maxFlight - p.reserved
	}
	p.reserved += l.n
	return l
}

// unreserve gives back the workers of a claim that took nothing.
func (p *Pool) unreserve(l claimSize) {
	p.claimMu.Lock()
	p.reserved -= l.n
	p.claimMu.Unlock()
}

// dispatchClaimed ends a claim that committed: it gives back its
// reservation and starts an attempt for each job, or, if the pool began
// stopping meanwhile, hands the jobs back to the queue, due now.
func (p *Pool) dispatchClaimed(l claimSize, jobs []*agenthooks.Job) {
	p.claimMu.Lock()
	p.reserved -= l.n
	if !p.stopping {
		p.claimed(l, jobs)
		p.dispatch(jobs)
		p.claimMu.Unlock()
		return
	}
	p.claimMu.Unlock()
	if len(jobs) > 0 {
		p.release(jobs)
	}
}

// release hands claimed jobs back to the queue, due now, with no attempt
// counted. If that fails their leases run out and they are claimed again.
func (p *Pool) release(jobs []*agenthooks.Job) {
	now := p.o.Now()
	err := p.write(func(tx agenthooks.Tx) error {
		for _, j := range jobs {
			o := agenthooks.Outcome{DeliveryID: j.Delivery.ID, Lease: j.Lease, Status: agenthooks.DeliveryPending, NextAttemptAt: now}
			if err := tx.CompleteDelivery(&o); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		p.log.Error("release claimed deliveries", slog.Int("count", len(jobs)), slog.Any("error", err))
	}
}

// claimSize is the size of one claim; probe tells that it includes room
// for a webhook the gate does not know, beyond the known ones' room.
type claimSize struct {
	n     int
	probe bool
	room  int
}

// claimed tells the gate what a claim made with l found.
func (p *Pool) claimed(l claimSize, jobs []*agenthooks.Job) {
	if l.probe {
		p.gate.claimed(jobs, l.room, p.o.Now())
	}
}

// dispatch starts an attempt for each claimed job. The caller holds claimMu
// and had reserved their workers, so none of the sends on sem blocks.
func (p *Pool) dispatch(jobs []*agenthooks.Job) {
	for _, j := range jobs {
		p.sem <- struct{}{}
		p.wg.Add(1)
		go p.work(j)
	}
}

// work takes a job to its outcome, then each job parked on its webhook that
// the gate hands over as an attempt ends. A job that is parked instead ends
// work without an outcome: it keeps its worker slot (and its count in wg)
// until the worker of an attempt to the same webhook takes it over.
func (p *Pool) work(j *agenthooks.Job) {
	wait, parked := p.gate.admitOrPark(j, p.o.Now())
	if parked {
		return
	}
	for j != nil {
		j, wait = p.run(j, wait)
	}
}

// run makes an admitted job's attempt (wait 0) or hands a held-back job
// back, due after wait, and sends its outcome. It returns the parked job
// that takes the freed slot, if any, with its own wait.
func (p *Pool) run(j *agenthooks.Job, wait time.Duration) (*agenthooks.Job, time.Duration) {
	var r result
	var next *agenthooks.Job
	var nextWait time.Duration
	if wait > 0 {
		// Held back by the webhook's circuit or rate limit, or its
		// in-flight cap with enough parked already: hand the delivery
		// back, due when it may go, with no attempt counted.
		r = result{outcome: agenthooks.Outcome{DeliveryID: j.Delivery.ID, Lease: j.Lease, Status: agenthooks.DeliveryPending,
			NextAttemptAt: p.o.Now().Add(wait)}}
	} else {
		r = p.attempt(j)
		next, nextWait = p.gate.done(j.Webhook.ID, r.attempted, r.ok, p.o.Now())
	}
	p.finish(r)
	return next, nextWait
}

// finish frees the job's worker and sends its outcome. The worker is free
// before the outcome is sent, so that the completion writer, which claims
// for the workers its batch freed, counts it.
func (p *Pool) finish(r result) {
	<-p.sem
	p.results <- r
	p.wg.Done()
}

// keys returns the signing keys: the current secret, and the previous one
// while a rotation's overlap lasts.
func keys(w *agenthooks.Webhook, now time.Time) ([][]byte, error) {
	k, err := signature.ParseSecret(w.Secret)
	if err != nil {
		return nil, fmt.Errorf("webhook secret: %w", err)
	}
	ks := [][]byte{k}
	if w.PreviousSecret != "" && now.Before(w.PreviousSecretUntil) {
		if old, err := signature.ParseSecret(w.PreviousSecret); err == nil {
			ks = append(ks, old)
		}
	}
	return ks, nil
}

// ResponseBodyLimit is how much of a response body an attempt records.
const ResponseBodyLimit = 4096

// attempt makes one HTTP request and decides the outcome.
func (p *Pool) attempt(j *agenthooks.Job) result {
	d := &j.Delivery
	start := p.o.Now()
	res := result{accountID: d.AccountID, webhookID: d.WebhookID}
	a := &agenthooks.Attempt{ID: newID(), DeliveryID: d.ID, AccountID: d.AccountID, CreatedAt: start}
	status, retryAfter, err := p.post(j, start, a)
	if err != nil && p.attemptCtx.Err() != nil {
		// Cancelled by shutdown: release without counting an attempt.
		res.outcome = agenthooks.Outcome{DeliveryID: d.ID, Lease: j.Lease, Status: agenthooks.DeliveryPending, NextAttemptAt: p.o.Now()}
		return res
	}
	end := p.o.Now()
	a.DurationMS = end.Sub(start).Milliseconds()
	a.StatusCode = status
	if err != nil {
		a.Error = err.Error()
	}
	p.attempts.Add(1)
	res.attempted = true
	o := agenthooks.Outcome{DeliveryID: d.ID, Lease: j.Lease, Attempt: a}
	switch {
	case err == nil && status >= 200 && status < 300:
		o.Status = agenthooks.DeliverySucceeded
		res.ok = true
		p.delivered.Add(1)
	case err == nil && status == http.StatusGone:
		o.Status = agenthooks.DeliveryFailed
		res.gone = true
		p.failed.Add(1)
	default:
		next, ok := p.o.Policy.NextRetry(d.AttemptCount+1, end, retryAfter)
		if ok {
			o.Status, o.NextAttemptAt = agenthooks.DeliveryPending, next
		} else {
			o.Status = agenthooks.DeliveryFailed
			p.failed.Add(1)
		}
	}
	res.outcome = o
	return res
}

// post sends the request; it returns the status code (0 if none), the
// Retry-After floor of a 429 or 503, and the transport error if any.
func (p *Pool) post(j *agenthooks.Job, start time.Time, a *agenthooks.Attempt) (int, time.Duration, error) {
	ks, err := keys(&j.Webhook, start)
	if err != nil {
		return 0, 0, err
	}
	ctx, cancel := context.WithTimeout(p.attemptCtx, p.o.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, j.Webhook.Endpoint, bytes.NewReader(j.Payload))
	if err != nil {
		return 0, 0, fmt.Errorf("invalid endpoint: %w", err)
	}
	for k, v := range j.Webhook.Headers {
		req.Header.Set(k, v)
	}
	ts := start.Unix()
	h := req.Header
	h["Content-Type"] = []string{"application/json"}
	if p.o.UserAgent != "" {
		h["User-Agent"] = []string{p.o.UserAgent}
	}
	// Lower-case names as Standard Webhooks writes them; HTTP/1.1 names are
	// case-insensitive and HTTP/2 lower-cases them anyway.
	h["webhook-id"] = []string{j.Delivery.EventID}
	h["webhook-timestamp"] = []string{itoa(ts)}
	h["webhook-signature"] = []string{signature.Header(ks, j.Delivery.EventID, ts, j.Payload)}
	resp, err := p.o.Client.Do(req)
	if err != nil {
		return 0, 0, cleanError(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, ResponseBodyLimit))
	a.ResponseBody = sanitize(body)
	// Drain a little more so the connection can be reused.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	var retryAfter time.Duration
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
		retryAfter = ParseRetryAfter(resp.Header.Get("Retry-After"), p.o.Now())
	}
	return resp.StatusCode, retryAfter, nil
}

// cleanError drops the method and URL that *url.Error prefixes: the attempt
// record already names the webhook.
func cleanError(err error) error {
	var ue interface{ Unwrap() error }
	if errors.As(err, &ue) {
		if inner := ue.Unwrap(); inner != nil {
			if strings.HasPrefix(err.Error(), "Post ") {
				return inner
			}
		}
	}
	return err
}

// sanitize makes a response body storable as text: valid UTF-8, no NUL.
func sanitize(b []byte) string {
	s := strings.ToValidUTF8(string(b), "\uFFFD")
	return strings.ReplaceAll(s, "\x00", "\uFFFD")
}

// writer records outcomes in batches; Options.Writers of them run.
func (p *Pool) writer() {
	batch := make([]result, 0, p.o.Batch)
	for r := range p.results {
		batch = append(batch[:0], r)
	fill:
		for len(batch) < p.o.Batch {
			select {
			case r, ok := <-p.results:
				if !ok {
					break fill
				}
				batch = append(batch, r)
			default:
				break fill
			}
		}
		p.complete(batch)
	}
}

func (p *Pool) complete(batch []result) {
	// Each webhook's failure streak follows its last attempt in the batch:
	// it starts at a failure and ends at a success (auto-disable reads it).
	last := map[string]bool{}
	gone := false
	for _, r := range batch {
		if r.attempted {
			last[r.webhookID] = r.ok
		}
		gone = gone || r.gone
	}
	var failing, healthy []string
	for id, ok := range last {
		if ok {
			healthy = append(healthy, id)
		} else {
			failing = append(failing, id)
		}
	}
	write := func(tx agenthooks.Tx) error {
		if err := tx.MarkWebhooksFailing(failing, tx.Now()); err != nil {
			return err
		}
		if err := tx.ClearWebhooksFailing(healthy); err != nil {
			return err
		}
		if bc, ok := tx.(batchCompleter); ok && !gone {
			os := make([]*agenthooks.Outcome, len(batch))
			for i := range batch {
				os[i] = &batch[i].outcome
			}
			return bc.CompleteDeliveries(os)
		}
		for i := range batch {
			r := &batch[i]
			if err := tx.CompleteDelivery(&r.outcome); err != nil {
				return err
			}
			if r.gone {
				if err := disableGone(tx, r.accountID, r.webhookID); err != nil {
					return err
				}
			}
		}
		return nil
	}
	// The workers this batch freed take the next due deliveries in the same
	// transaction: one commit instead of two while a backlog drains.
	limit := p.reserve()
	var jobs []*agenthooks.Job
	writeAndClaim := func(tx agenthooks.Tx) error {
		jobs = nil
		if err := write(tx); err != nil {
			return err
		}
		if limit.n > 0 {
			var err error
			jobs, err = tx.ClaimDeliveries(limit.n, tx.Now().Add(p.o.Lease))
			return err
		}
		return nil
	}
	var err error
	for try := 0; try < 5; try++ {
		if try == 1 {
			// A failing claim must not hold the outcomes back.
			p.unreserve(limit)
			limit = claimSize{}
		}
		if err = p.write(writeAndClaim); err == nil {
			p.dispatchClaimed(limit, jobs)
			p.wakeWhenDue(batch)
			return
		}
		if agenthooks.ErrorCode(err) == agenthooks.EUNAVAILABLE {
			break
		}
		time.Sleep(time.Duration(try+1) * 100 * time.Millisecond)
	}
	p.unreserve(limit)
	// The leases will run out and the deliveries will be tried again: at least
	// once still holds.
	p.log.Error("record delivery outcomes", slog.Int("count", len(batch)), slog.Any("error", err))
}

// wakeWhenDue wakes the dispatcher when the first of the deliveries the
// batch held back comes due.
func (p *Pool) wakeWhenDue(batch []result) {
	var first time.Time
	for i := range batch {
		o := &batch[i].outcome
		if o.Attempt == nil && o.Status == agenthooks.DeliveryPending && (first.IsZero() || o.NextAttemptAt.Before(first)) {
			first = o.NextAttemptAt
		}
	}
	if first.IsZero() {
		return
	}
	time.AfterFunc(max(first.Sub(p.o.Now()), 0), func() {
		select {
		case p.due <- struct{}{}:
		default:
		}
	})
}

// disableGone disables a webhook whose endpoint answered 410 Gone and ends
// its pending deliveries.
func disableGone(tx agenthooks.Tx, accountID, webhookID string) error {
	w, err := tx.FindWebhook(accountID, webhookID)
	if agenthooks.ErrorCode(err) == agenthooks.ENOTFOUND {
		return nil
	} else if err != nil {
		return err
	}
	w.Enabled, w.DisabledReason, w.UpdatedAt = false, agenthooks.DisabledGone, tx.Now()
	if err := tx.UpdateWebhook(w); err != nil {
		return err
	}
	_, err = tx.FailPendingDeliveries(webhookID, "endpoint answered 410 Gone")
	return err
}

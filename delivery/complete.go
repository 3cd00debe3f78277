package delivery

import (
	"context"
	"encoding/json"
	"log/slog"
	"time"

	"github.com/agenthooks/agenthooks"
)

// Notifier raises the operational events (webhook.disabled, delivery.failed)
// of what the pool records, in the transaction that records it, so that the
// event exists exactly when the change does. service.Service implements it.
type Notifier interface {
	// WebhookDisabled is called after w was disabled (w holds its new state).
	WebhookDisabled(tx agenthooks.Tx, w *agenthooks.Webhook) error
	// DeliveryFailed is called after d ended failed by its last attempt
	// (d.AttemptCount counts that attempt); eventType is its event's type,
	// statusCode the last answer's status (0 if none) and lastError the
	// delivery's last error.
	DeliveryFailed(tx agenthooks.Tx, d *agenthooks.Delivery, eventType string, statusCode int, lastError string) error
}

// Retry pauses of the writers while the store cannot record outcomes, and
// how many failures other than the store's unavailability a batch may have
// before its outcomes are written one by one.
const (
	firstRetry = 100 * time.Millisecond
	maxRetry   = 2 * time.Second
	maxFaults  = 5
)

// writer records outcomes in batches; Options.Writers of them run. An
// outcome that cannot be written (the store is down) is kept, up to
// Options.MaxHeldOutcomes per writer, and written when the store is back:
// its lease is renewed meanwhile, and writing it late is safe, since an
// outcome under a stale lease changes nothing.
func (p *Pool) writer() {
	var held []result
	var retry <-chan time.Time
	pause, faults := firstRetry, 0
	for {
		var batch []result
		select {
		case r, ok := <-p.results:
			if !ok {
				p.flush(held)
				return
			}
			batch = append(held, r)
		fill:
			for len(batch) < len(held)+p.o.Batch {
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
		case <-retry:
			batch = held
		}
		err := p.complete(batch, true)
		if err != nil && agenthooks.ErrorCode(err) != agenthooks.EUNAVAILABLE {
			// Not the store's unavailability: maybe one outcome the store
			// refuses. After a few tries, write them one by one so that it
			// cannot hold the others back.
			if faults++; faults >= maxFaults {
				batch, err = p.completeEach(batch)
			}
		}
		if err != nil {
			kept := p.hold(batch, err, len(held) == 0)
			p.heldOutcomes.Add(int64(len(kept) - len(held)))
			held = kept
			retry = time.After(pause)
			pause = min(2*pause, maxRetry)
			continue
		}
		if len(held) > 0 {
			p.log.Info("recorded delivery outcomes held while the store was unavailable", slog.Int("count", len(held)))
			if p.heldOutcomes.Add(-int64(len(held))) == 0 {
				p.wake() // the dispatcher's recovery claim waited for them
			}
		}
		held, retry, pause, faults = nil, nil, firstRetry, 0
	}
}

// hold keeps the outcomes of a batch that could not be written, dropping
// the oldest beyond MaxHeldOutcomes: their leases run out and their
// deliveries are attempted again, which at-least-once allows.
func (p *Pool) hold(batch []result, err error, first bool) []result {
	if first {
		p.log.Warn("cannot record delivery outcomes; holding them until the store is back", slog.Int("count", len(batch)), slog.Any("error", err))
	}
	if over := len(batch) - p.o.MaxHeldOutcomes; over > 0 {
		p.log.Error("dropped delivery outcomes held too long; their deliveries will be attempted again", slog.Int("count", over))
		p.leases.remove(batch[:over])
		batch = append([]result(nil), batch[over:]...)
	}
	return batch
}

// completeEach writes each outcome of a batch in its own transaction and
// gives up those that fail: their leases run out and their deliveries are
// attempted again. If the store becomes unavailable meanwhile it stops and
// returns the outcomes not written yet, with the error.
func (p *Pool) completeEach(batch []result) ([]result, error) {
	for i := range batch {
		err := p.complete(batch[i:i+1], false)
		if agenthooks.ErrorCode(err) == agenthooks.EUNAVAILABLE {
			return batch[i:], err
		}
		if err != nil {
			p.log.Error("record delivery outcome; its delivery will be attempted again", slog.String("delivery_id", batch[i].outcome.DeliveryID), slog.Any("error", err))
			p.leases.remove(batch[i : i+1])
		}
	}
	return nil, nil
}

// flush writes the outcomes a writer still holds when the pool stops,
// retrying until Stop's context ends.
func (p *Pool) flush(held []result) {
	pause := firstRetry
	for len(held) > 0 {
		err := p.complete(held, false)
		if err == nil {
			return
		}
		select {
		case <-p.flushCtx.Done():
			p.log.Error("stopped with delivery outcomes not recorded; their deliveries will be attempted again", slog.Int("count", len(held)), slog.Any("error", err))
			return
		case <-time.After(pause):
			pause = min(2*pause, maxRetry)
		}
	}
}

// complete records a batch of outcomes in one transaction, with what they
// imply: the webhooks' failure streaks (auto-disable reads them), a 410's
// disabling of its webhook, and the operational events. When claim is true
// the workers the batch freed take the next due deliveries in the same
// transaction: one commit instead of two while a backlog drains.
func (p *Pool) complete(batch []result, claim bool) error {
	// Each webhook's failure streak follows its last attempt in the batch:
	// it starts at a failure and ends at a success.
	last := map[string]bool{}
	for _, r := range batch {
		if r.attempted {
			last[r.webhookID] = r.ok
		}
	}
	var failing, healthy []string
	for id, ok := range last {
		if ok {
			healthy = append(healthy, id)
		} else {
			failing = append(failing, id)
		}
	}
	outcomes := make([]*agenthooks.Outcome, len(batch))
	for i := range batch {
		outcomes[i] = &batch[i].outcome
	}
	var disabled []*agenthooks.Webhook
	record := func(tx agenthooks.Tx) error {
		disabled = disabled[:0]
		if err := tx.MarkWebhooksFailing(failing, tx.Now()); err != nil {
			return err
		}
		if err := tx.ClearWebhooksFailing(healthy); err != nil {
			return err
		}
		if err := tx.CompleteDeliveries(outcomes); err != nil {
			return err
		}
		for i := range batch {
			r := &batch[i]
			if r.ended != nil {
				if err := p.deliveryFailed(tx, r); err != nil {
					return err
				}
			}
			if r.gone {
				w, err := p.disableGone(tx, r.accountID, r.webhookID)
				if err != nil {
					return err
				}
				if w != nil {
					disabled = append(disabled, w)
				}
			}
		}
		return nil
	}
	var c claimSize
	maybe, gen := p.dueMaybe()
	if claim && maybe && !p.paused.Load() && !p.unsure.Load() {
		c = p.slots.reserve(p.o.Now())
	}
	var jobs []*agenthooks.Job
	err := p.o.Store.WriteRelaxed(context.Background(), func(tx agenthooks.Tx) error {
		jobs = nil
		if err := record(tx); err != nil {
			return err
		}
		if c.n > 0 {
			var err error
			jobs, err = tx.ClaimDeliveries(c.n, tx.Now().Add(p.o.Lease))
			return err
		}
		return nil
	})
	if err != nil && c.n > 0 {
		// A failing claim must not hold the outcomes back.
		p.slots.cancel(c)
		c = claimSize{}
		err = p.o.Store.WriteRelaxed(context.Background(), record)
	}
	if err != nil {
		p.unsure.Store(true)
		return err
	}
	p.leases.remove(batch)
	if c.n > 0 {
		p.dispatchClaimed(c, jobs, gen)
	}
	for _, w := range disabled {
		p.log.Warn("disabled a webhook whose endpoint answered 410 Gone", slog.String("webhook_id", w.ID), slog.String("account_id", w.AccountID),
			slog.String("reason", w.DisabledReason))
	}
	p.wakeWhenDue(batch)
	return nil
}

// deliveryFailed raises delivery.failed about a delivery its attempt ended
// failed, if the outcome was recorded (its lease held: else the claim that
// superseded it decides) and its event is not itself operational.
func (p *Pool) deliveryFailed(tx agenthooks.Tx, r *result) error {
	if p.o.Notifier == nil {
		return nil
	}
	j := r.ended
	var env struct {
		Event string `json:"event"`
	}
	if err := json.Unmarshal(j.Payload, &env); err != nil || agenthooks.IsOperational(env.Event) {
		return nil //nolint:nilerr // a payload we cannot read raises nothing; the outcome is recorded all the same
	}
	d, err := tx.FindDelivery(j.Delivery.AccountID, j.Delivery.ID)
	if agenthooks.ErrorCode(err) == agenthooks.ENOTFOUND {
		return nil
	} else if err != nil {
		return err
	}
	a := r.outcome.Attempt
	if d.Status != agenthooks.DeliveryFailed || d.AttemptCount != j.Delivery.AttemptCount+1 {
		return nil
	}
	return p.o.Notifier.DeliveryFailed(tx, d, env.Event, a.StatusCode, lastError(a))
}

// disableGone disables a webhook whose endpoint answered 410 Gone and ends
// its pending deliveries. It returns the webhook if this call disabled it.
func (p *Pool) disableGone(tx agenthooks.Tx, accountID, webhookID string) (*agenthooks.Webhook, error) {
	w, err := tx.FindWebhook(accountID, webhookID)
	if agenthooks.ErrorCode(err) == agenthooks.ENOTFOUND {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	wasEnabled := w.Enabled
	if wasEnabled || w.DisabledReason != agenthooks.DisabledGone {
		w.Enabled, w.DisabledReason, w.UpdatedAt = false, agenthooks.DisabledGone, tx.Now()
		if err := tx.UpdateWebhook(w); err != nil {
			return nil, err
		}
	}
	if _, err := tx.FailPendingDeliveries(webhookID, "endpoint answered 410 Gone"); err != nil {
		return nil, err
	}
	if !wasEnabled {
		return nil, nil
	}
	if p.o.Notifier != nil {
		if err := p.o.Notifier.WebhookDisabled(tx, w); err != nil {
			return nil, err
		}
	}
	return w, nil
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
	time.AfterFunc(max(first.Sub(p.o.Now()), 0), p.wake)
}

// wake wakes the dispatcher, as held-back deliveries coming due do.
func (p *Pool) wake() {
	select {
	case p.due <- struct{}{}:
	default:
	}
}

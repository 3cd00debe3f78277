package service

import (
	"time"

	"github.com/agenthooks/agenthooks"
)

// Handoff is the delivery pool of this process (delivery.Pool), seen from
// the transactions that store deliveries. A fresh delivery that one of its
// workers can take at once is stored already leased to that worker and
// handed to it when the transaction commits: its first attempt needs no
// claim, so no trip through the store between the API call and the POST.
// A delivery the pool has no room for, or whose transaction does not
// commit, goes the usual way: stored due, claimed by whichever worker of
// whichever process. If the process dies after the commit, the lease runs
// out and the delivery is claimed again, as any claim's would be.
type Handoff interface {
	// Lease reserves a worker for a delivery to w stored in a transaction
	// of time now, and returns the end of its lease; false when the pool
	// has no room for it (paused, stopping, every worker taken, w's
	// in-flight cap or circuit closed to it, or w orders its deliveries).
	Lease(w *agenthooks.Webhook, now time.Time) (leaseUntil time.Time, ok bool)
	// Handed gives the reserved worker its job, once the transaction that
	// stored it has committed (and, on a durable write, synced).
	Handed(j *agenthooks.Job)
	// Unlease gives a reservation back: its transaction did not commit.
	Unlease()
}

// createDelivery stores a new delivery of e to w (the one way deliveries
// are made: a fired, published or replayed event): leased to a worker of
// this process when the pool has one for it, else due now.
func (s *Service) createDelivery(tx agenthooks.Tx, e *agenthooks.Event, w *agenthooks.Webhook) error {
	d := &agenthooks.Delivery{ID: NewID(), AccountID: e.AccountID, EventID: e.ID, WebhookID: w.ID, ConversationID: e.ConversationID,
		Status: agenthooks.DeliveryPending, NextAttemptAt: tx.Now(), CreatedAt: tx.Now(), UpdatedAt: tx.Now()}
	// The pool needs the whole webhook to sign and send; a caller that read
	// only the routing fields gets the usual path.
	if s.Handoff == nil || w.Endpoint == "" {
		return tx.CreateDelivery(d)
	}
	until, ok := s.Handoff.Lease(w, tx.Now())
	if !ok {
		return tx.CreateDelivery(d)
	}
	lease, err := tx.CreateLeasedDelivery(d, until)
	if err != nil {
		s.Handoff.Unlease()
		return err
	}
	j := &agenthooks.Job{Delivery: *d, Lease: lease, Payload: e.Payload, Webhook: *w}
	if t, ok := tx.(interface{ Traceparent() string }); ok {
		j.Traceparent = t.Traceparent() // the event's trace context (sqlstore/trace.go)
	}
	tx.OnCommit(func(committed bool) {
		if committed {
			s.Handoff.Handed(j)
		} else {
			s.Handoff.Unlease()
		}
	})
	return nil
}

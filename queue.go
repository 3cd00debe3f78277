package agenthooks

import (
	"context"
	"time"
)

// Capabilities say how an engine behaves where its callers adapt to it, so
// that no caller needs to know the engine by name.
type Capabilities struct {
	// OneProcess is true when the database belongs to one process, which
	// runs the API and the delivery workers together (SQLite): the API and
	// worker roles cannot be split over several processes.
	OneProcess bool
	// OneWriter is true when every write commits through one writer of the
	// store's own (SQLite's group commit): more concurrent writers only
	// queue there.
	OneWriter bool
}

// queueStore holds the Store operations the delivery workers rely on,
// besides Write. They are part of Store.
type queueStore interface {
	// WriteRelaxed is Write for the delivery workers' own bookkeeping
	// (claims, lease renewals, outcomes): it may return once the
	// transaction is committed but before it is durable. Losing such a
	// write in a power failure costs a repeated attempt, never an accepted
	// event, which at-least-once delivery allows. Writes stay in commit
	// order: a later durable commit makes every earlier relaxed one durable.
	WriteRelaxed(ctx context.Context, fn func(Tx) error) error
	// Capabilities says how the engine behaves.
	Capabilities() Capabilities
}

// Job is a claimed delivery with what an attempt needs. Lease identifies this
// claim: completing with a stale lease does nothing, so a worker whose lease
// expired cannot overwrite the work of the one that claimed the delivery next.
type Job struct {
	Delivery Delivery
	Lease    int64
	Payload  []byte
	Webhook  Webhook
	// Traceparent is the W3C trace context its event was stored under
	// ("" when traces are off): the attempt's span continues it.
	Traceparent string
}

// Outcome is the result of working a claimed delivery. Attempt is nil when the
// delivery is released without an attempt (shutdown); then Status stays
// pending and NextAttemptAt says when it is due again.
type Outcome struct {
	DeliveryID    string
	Lease         int64
	Attempt       *Attempt
	Status        string
	NextAttemptAt time.Time
}

// Claim names one claim of a delivery: its lease number.
type Claim struct {
	DeliveryID string
	Lease      int64
}

// queueTx holds the Tx operations of the delivery workers and of the
// operational events. They are part of Tx.
type queueTx interface {
	// ClaimDeliveries leases up to limit due pending deliveries of enabled
	// webhooks until leaseUntil, the oldest due first, and returns them as
	// jobs, in no particular order.
	ClaimDeliveries(limit int, leaseUntil time.Time) ([]*Job, error)
	// CompleteDelivery records an outcome; it is a no-op if the lease is stale.
	CompleteDelivery(o *Outcome) error
	// ReleaseClaims makes every leased delivery due now (a single-process
	// engine calls it when the process that owns it opens it, when no claim
	// can be alive).
	ReleaseClaims() (int, error)
	// CompleteDeliveries records many outcomes, each exactly as
	// CompleteDelivery would.
	CompleteDeliveries(os []*Outcome) error
	// RenewLeases moves the lease of every claim among claims that still
	// holds (same lease number, still claimed) to leaseUntil, and returns
	// how many it renewed. A worker renews the claims it holds while their
	// attempts run, so that its leases can be short: a crashed worker's
	// deliveries come due again soon after its last renewal.
	RenewLeases(claims []Claim, leaseUntil time.Time) (int, error)
	// FindWebhooksNamingEvent returns the account's enabled webhooks whose
	// events list names eventType explicitly (a webhook subscribed to every
	// event does not name it), ordered by id.
	FindWebhooksNamingEvent(accountID, eventType string) ([]*Webhook, error)
}

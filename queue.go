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

// Claim names one claim of a delivery: its lease number.
type Claim struct {
	DeliveryID string
	Lease      int64
}

// queueTx holds the Tx operations of the delivery workers and of the
// operational events, besides the claim and completion of one delivery.
// They are part of Tx.
type queueTx interface {
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

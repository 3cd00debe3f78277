package agenthooks

import (
	"context"
	"time"
)

// Store is a database holding the domain and the delivery queue. Two engines
// implement it (sqlite, postgres) and pass the same conformance suite
// (storetest).
type Store interface {
	queueStore

	// Write runs fn in one transaction and returns nil only after the
	// transaction is committed and durable (fsynced). An error returned by fn
	// rolls back fn's writes only: engines may commit several callers' work in
	// one transaction (group commit), but one caller's failure never undoes
	// another's. If the commit itself fails, every caller in it gets the error.
	Write(ctx context.Context, fn func(Tx) error) error
	// Read runs fn against a consistent, read-only view.
	Read(ctx context.Context, fn func(Tx) error) error
	// ReadOne is Read for an fn that makes at most one statement: one
	// statement is consistent on its own, so it runs without a transaction
	// around it (no BEGIN and COMMIT; on PostgreSQL two round trips fewer).
	// Every API call authenticates with such a read.
	ReadOne(ctx context.Context, fn func(Tx) error) error
	// Wake returns a channel that receives a value when deliveries may have
	// become due (new deliveries stored by this or, on PostgreSQL, any process).
	Wake() <-chan struct{}
	// Engine names the engine, "sqlite" or "postgres", for logs and
	// metrics; callers adapt to Capabilities, never to the name.
	Engine() string
	// Close releases the database.
	Close() error
}

// Page selects one page of a list: Page counts from 1, Size is 1-100.
type Page struct {
	Page int
	Size int
}

// Offset returns the number of items before the page.
func (p Page) Offset() int { return (p.Page - 1) * p.Size }

// Tx is the set of operations on the store within one transaction. Finders
// return an ENOTFOUND *Error when no row of the account matches. The
// operations are grouped by entity, each group in the entity's file
// (webhookTx in webhook.go, ...).
type Tx interface {
	accountTx
	accountListTx
	sessionTx
	webhookTx
	assistantTx
	widgetTx
	formTx
	intentTx
	contactTx
	conversationTx
	captureTx
	eventTx
	eventTypeTx
	deliveryTx
	idempotencyTx
	activityTx
	queueTx
	sweepTx
	opsTx
	securityTx
	listTx

	// Now is the transaction's clock reading, taken once per transaction.
	Now() time.Time
	// OnCommit registers fn to run once the transaction has ended: with true
	// when it committed (durably, for Store.Write: after the fsync the
	// caller waits for), with false when it did not (rolled back, failed,
	// or a read). fn runs once, on the store's goroutine: it must be quick
	// and must not write to the store. A write that the store runs again
	// (PostgreSQL's retry of a serialization failure) calls the first
	// run's fns with false.
	OnCommit(fn func(committed bool))
}

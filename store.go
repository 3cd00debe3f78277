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

// ConversationFilter narrows a conversation list.
type ConversationFilter struct {
	AssistantID string
	ContactID   string
	From, To    time.Time // zero means unbounded
}

// EventFilter narrows an event list.
type EventFilter struct {
	Type string
}

// DeliveryFilter narrows a delivery list.
type DeliveryFilter struct {
	WebhookID string
	EventID   string
	Status    string
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

// Tx is the set of operations on the store within one transaction. Finders
// return an ENOTFOUND *Error when no row of the account matches.
type Tx interface {
	sweepTx
	accountTx
	insightoTx
	queueTx
	sessionTx
	insightTx
	accountListTx
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

	CreateAccount(a *Account, keyHash string) error
	FindAccountByKeyHash(keyHash string) (*Account, error)
	FindAccountByID(id string) (*Account, error)
	ReplaceAccountKey(accountID, keyHash string) error
	CountAccounts() (int, error)

	CreateWebhook(w *Webhook) error
	FindWebhook(accountID, id string) (*Webhook, error)
	ListWebhooks(accountID string, p Page) ([]*Webhook, int, error)
	// UpdateWebhook writes every mutable field of w.
	UpdateWebhook(w *Webhook) error
	DeleteWebhook(accountID, id string) error
	// FindWebhooksByID returns the account's webhooks among ids (missing ones are skipped).
	FindWebhooksByID(accountID string, ids []string) ([]*Webhook, error)
	// AssistantWebhook returns the webhook assigned to the account's
	// assistant with only what routing needs (ID, AccountID, Enabled,
	// Events), or nil when the assistant or its webhook does not exist.
	AssistantWebhook(accountID, assistantID string) (*Webhook, error)

	CreateAssistant(a *Assistant) error
	FindAssistant(accountID, id string) (*Assistant, error)
	ListAssistants(accountID string, p Page) ([]*Assistant, int, error)
	UpdateAssistant(a *Assistant) error
	DeleteAssistant(accountID, id string) error

	CreateWidget(w *Widget) error
	FindWidget(accountID, id string) (*Widget, error)
	ListWidgets(accountID string, p Page) ([]*Widget, int, error)

	CreateForm(f *Form) error
	FindForm(accountID, id string) (*Form, error)
	ListForms(accountID string, p Page) ([]*Form, int, error)
	UpdateForm(f *Form) error

	CreateIntent(i *Intent) error
	FindIntent(accountID, id string) (*Intent, error)
	ListIntents(accountID string, p Page) ([]*Intent, int, error)

	CreateContact(c *Contact) error
	FindContact(accountID, id string) (*Contact, error)
	ListContacts(accountID string, p Page) ([]*Contact, int, error)

	// UnassignWebhook clears webhookID from every assistant and form of the account.
	UnassignWebhook(accountID, webhookID string) error

	CreateConversation(c *Conversation) error
	FindConversation(accountID, id string) (*Conversation, error)
	ListConversations(accountID string, f ConversationFilter, p Page) ([]*Conversation, int, error)
	UpdateConversation(c *Conversation) error
	// CloseConversation marks an open conversation closed at now and returns
	// it: ENOTFOUND when there is none, ECONFLICT when it is already closed.
	CloseConversation(accountID, id string, now time.Time) (*Conversation, error)
	// FindIdleConversations returns up to limit open conversations of any
	// account whose last activity is before before.
	FindIdleConversations(before time.Time, limit int) ([]*Conversation, error)

	CreateMessage(m *Message) error
	// ListMessages returns the conversation's last limit messages, oldest first.
	ListMessages(accountID, conversationID string, limit int) ([]*Message, error)

	CreateCapturedForm(c *CapturedForm) error
	FindCapturedForm(accountID, id string) (*CapturedForm, error)
	UpdateCapturedForm(c *CapturedForm) error

	CreateCapturedIntent(c *CapturedIntent) error

	CreateEvent(e *Event) error
	FindEvent(accountID, id string) (*Event, error)
	ListEvents(accountID string, f EventFilter, p Page) ([]*Event, int, error)

	// CreateDelivery stores a pending delivery and makes it visible to workers
	// once the transaction commits.
	CreateDelivery(d *Delivery) error
	// CreateLeasedDelivery stores a pending delivery already claimed, under
	// lease number 1 until leaseUntil, for a worker of this process that
	// the caller reserved (the hand-off: no claim before its first attempt).
	// If that worker never records an outcome, the delivery comes due when
	// the lease runs out, as any claim's. It returns the job's lease number.
	CreateLeasedDelivery(d *Delivery, leaseUntil time.Time) (int64, error)
	FindDelivery(accountID, id string) (*Delivery, error)
	// CountDeliveries returns the number of deliveries of every account by status.
	CountDeliveries() (map[string]int, error)
	// ListEventDeliveries returns the deliveries of the account's events
	// among eventIDs, oldest first.
	ListEventDeliveries(accountID string, eventIDs []string) ([]*Delivery, error)
	ListDeliveries(accountID string, f DeliveryFilter, p Page) ([]*Delivery, int, error)
	ListAttempts(deliveryID string) ([]*Attempt, error)
	// RetryDelivery makes the delivery pending and due at due, keeping its attempts.
	RetryDelivery(accountID, id string, due time.Time) error
	// FailPendingDeliveries ends the webhook's pending deliveries as failed with reason.
	FailPendingDeliveries(webhookID, reason string) (int, error)

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
}

// Operations of the background sweeps and of recovery. They are kept apart
// from the per-resource ones above for readability; they are part of Tx.
type sweepTx interface {
	// MarkWebhooksFailing sets failing_since to at on the webhooks among ids
	// that are not already failing.
	MarkWebhooksFailing(ids []string, at time.Time) error
	// ClearWebhooksFailing clears failing_since on the webhooks among ids.
	ClearWebhooksFailing(ids []string) error
	// DisableFailingWebhooks disables, with reason "failing", the enabled
	// webhooks failing since before, and returns them.
	DisableFailingWebhooks(before time.Time) ([]*Webhook, error)
	// RequeueFailedDeliveries makes the webhook's failed deliveries of events
	// created at or after since pending and due now, and returns how many.
	RequeueFailedDeliveries(accountID, webhookID string, since time.Time) (int, error)
	// DeleteExpired deletes up to limit events created before before that have
	// no pending delivery, with their deliveries and attempts, and attempts
	// older than before; it returns how many events it deleted.
	DeleteExpired(before time.Time, limit int) (int, error)

	// ClaimIdempotencyKey returns the record of key if one is alive, or
	// claims the key (state running) and returns nil. A record created before
	// expired, or still running since before stale (its request died with its
	// process), counts as absent.
	ClaimIdempotencyKey(accountID, key, fingerprint string, stale, expired time.Time) (*Idempotency, error)
	// FinishIdempotencyKey stores the response of a claimed key.
	FinishIdempotencyKey(accountID, key string, status int, response []byte) error
	// ForgetIdempotencyKey deletes a key (responses that are not remembered).
	ForgetIdempotencyKey(accountID, key string) error
}

package agenthooks

import "time"

// Operations of the background sweeps and of recovery. They are kept apart
// from the per-resource ones for readability; they are part of Tx.
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
}

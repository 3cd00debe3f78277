package agenthooks

import (
	"slices"
	"strings"
	"time"
)

// Delivery statuses.
const (
	DeliveryPending   = "pending"
	DeliverySucceeded = "succeeded"
	DeliveryFailed    = "failed"
	// DeliveryCanceled: the webhook's transformation set cancel = true; no
	// request was made and it is not a failure.
	DeliveryCanceled = "canceled"
)

// DeliveryStatuses are the statuses a delivery can have.
var DeliveryStatuses = []string{DeliveryPending, DeliverySucceeded, DeliveryFailed, DeliveryCanceled}

// IsDeliveryStatus reports whether s is one of DeliveryStatuses: the one
// check of a ?status= filter, wherever deliveries are listed.
func IsDeliveryStatus(s string) bool { return slices.Contains(DeliveryStatuses, s) }

// DeliveryStatusMsg is the message of the 422 on a status that is not one,
// "Input should be 'pending', 'succeeded', 'failed' or 'canceled'".
var DeliveryStatusMsg = func() string {
	q := make([]string, len(DeliveryStatuses))
	for i, st := range DeliveryStatuses {
		q[i] = "'" + st + "'"
	}
	return "Input should be " + strings.Join(q[:len(q)-1], ", ") + " or " + q[len(q)-1]
}()

// Delivery is one event on its way to one webhook.
type Delivery struct {
	ID             string
	AccountID      string
	EventID        string
	WebhookID      string
	ConversationID string
	Status         string
	AttemptCount   int
	NextAttemptAt  time.Time // zero when the delivery has ended
	LastError      string
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// Attempt is one HTTP request of a delivery. StatusCode is 0 when no response
// came back; Error is "" when the request got a response.
type Attempt struct {
	ID           string
	DeliveryID   string
	AccountID    string
	CreatedAt    time.Time
	StatusCode   int
	DurationMS   int64
	Error        string
	ResponseBody string

	// The request the attempt sent, as the webhook's transformation made
	// it: method, URL and the first RequestBodyLimit bytes of the body.
	// Empty for attempts recorded before they were (and "" method means POST).
	RequestMethod string
	RequestURL    string
	RequestBody   string
}

// RequestBodyLimit is how much of the body sent an attempt records.
const RequestBodyLimit = 4096

// DeliveryFilter narrows a delivery list.
type DeliveryFilter struct {
	WebhookID string
	EventID   string
	Status    string
	// Text, when set, keeps the deliveries of events whose payload contains
	// it, made since From (a search counts at most SearchCap matches).
	Text string
	From time.Time
}

// Operations on deliveries and their attempts; part of Tx. The claims and
// outcomes of the delivery workers are in queueTx (queue.go).
type deliveryTx interface {
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
}

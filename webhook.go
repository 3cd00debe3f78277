package agenthooks

import "time"

// Reasons a webhook is disabled.
const (
	DisabledGone    = "gone"    // the endpoint answered 410 Gone
	DisabledFailing = "failing" // every delivery failed for AGENTHOOKS_DISABLE_AFTER
	DisabledManual  = "manual"  // a user set enabled=false
)

// Ordering modes of a webhook.
const (
	OrderingNone         = "none"
	OrderingConversation = "conversation"
)

// Webhook is a named endpoint that receives events. Secret signs deliveries;
// during a rotation PreviousSecret signs alongside until PreviousSecretUntil.
type Webhook struct {
	ID                  string
	AccountID           string
	Name                string
	Endpoint            string
	Enabled             bool
	DisabledReason      string // "" when enabled or never disabled
	Events              []string
	Ordering            string
	Headers             map[string]string
	RateLimit           *float64
	Secret              string
	PreviousSecret      string
	PreviousSecretUntil time.Time
	FailingSince        time.Time // zero unless every delivery since then failed
	CreatedAt           time.Time
	UpdatedAt           time.Time

	// Destination is the broker the deliveries go to; nil for HTTP to
	// Endpoint (destination.go).
	Destination *Destination
	TLS         *WebhookTLS // nil: system roots, no client certificate (webhooktls.go)

	// Transformation is JavaScript run before each attempt (transform/);
	// nil: the envelope is sent as it is.
	Transformation *Transformation

	// Filter is the webhook's filter in Convoy's syntax (filter/), as JSON;
	// nil: every event it subscribes to.
	Filter []byte
	// EventsFiltered is how many events the filter dropped; filled in by
	// the service's reads, not a column that Create or Update writes.
	EventsFiltered int64
}

// Transformation is a webhook's JavaScript transformation, Svix's
// handler(webhook) shape (docs/events.md).
type Transformation struct {
	Code    string `json:"code"`
	Enabled bool   `json:"enabled"`
}

// Active reports whether t runs: set, enabled and with code.
func (t *Transformation) Active() bool { return t != nil && t.Enabled && t.Code != "" }

// Subscribed reports whether the webhook receives events of type t: those
// its events list names, or without a list, DefaultEventTypes and the
// account's own types (any name EventTable does not hold: callers route
// only names that are the account's).
func (w *Webhook) Subscribed(t string) bool {
	if len(w.Events) == 0 {
		et, ok := LookupEventType(t)
		return !ok || et.Kind == KindConversation
	}
	for _, e := range w.Events {
		if e == t {
			return true
		}
	}
	return false
}

// Operations on webhooks; part of Tx.
type webhookTx interface {
	CreateWebhook(w *Webhook) error
	FindWebhook(accountID, id string) (*Webhook, error)
	ListWebhooks(accountID string, p Page) ([]*Webhook, int, error)
	// UpdateWebhook writes every mutable field of w.
	UpdateWebhook(w *Webhook) error
	DeleteWebhook(accountID, id string) error
	// AddEventsFiltered counts n events the webhook's filter dropped
	// (webhook.events_filtered); a webhook that does not exist counts none.
	AddEventsFiltered(webhookID string, n int) error
	// EventsFiltered returns how many events each of the account's webhooks
	// among ids had dropped by its filter (absent: none).
	EventsFiltered(accountID string, ids []string) (map[string]int64, error)
	// FindWebhooksByID returns the account's webhooks among ids (missing ones are skipped).
	FindWebhooksByID(accountID string, ids []string) ([]*Webhook, error)
	// AssistantWebhook returns the webhook assigned to the account's
	// assistant with only what routing needs (ID, AccountID, Enabled,
	// Events), or nil when the assistant or its webhook does not exist.
	AssistantWebhook(accountID, assistantID string) (*Webhook, error)
	// UnassignWebhook clears webhookID from every assistant and form of the account.
	UnassignWebhook(accountID, webhookID string) error
}

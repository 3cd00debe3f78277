package agenthooks

import (
	"encoding/json"
	"time"
)

// Event types; EventTable (below) describes each.
const (
	EventCapturedFormCreated   = "captured_form.created"
	EventCapturedFormUpdated   = "captured_form.updated"
	EventCapturedIntentCreated = "captured_intent.created"
	EventConversationClosed    = "conversation.closed"
	EventConversationUpdated   = "conversation.updated"
	EventWebhookTest           = "webhook.test"
	// Operational events: sent only to the webhooks whose events list names
	// them (IsOperational), about the account's other webhooks.
	EventWebhookDisabled = "webhook.disabled"
	EventDeliveryFailed  = "delivery.failed"
)

// EventKind says how a webhook comes to receive events of a type.
type EventKind int

const (
	// KindConversation events are fired by an agent's conversation and
	// routed by it (docs/api.md, "Routing"); a webhook with no events list
	// receives them all.
	KindConversation EventKind = iota + 1
	// KindOnRequest events are sent by an action, whatever the webhook's
	// events list says (webhook.test); no webhook subscribes to them.
	KindOnRequest
	// KindOperational events are about the platform itself (a webhook
	// disabled, a delivery failed); only webhooks whose events list names
	// them receive them, never by default.
	KindOperational
)

// EventType is one entry of EventTable.
type EventType struct {
	Name        string    // the value of the envelope's "event", e.g. "captured_form.created"
	Description string    // one sentence on what fires it, shown by GET /event_type
	Kind        EventKind // how a webhook receives it
}

// EventTable is every event type agenthooks sends, in a stable order: the one
// table the lists below, the API's event types with their JSON Schemas (built
// from each type's data struct in package payload) and the OpenAPI document
// derive from. Adding a type is one entry here, its data struct in payload
// (payload.DataOf), and the code that fires it; tests fail until each exists.
var EventTable = []EventType{
	{EventCapturedFormCreated, "A visitor submitted a form in a conversation.", KindConversation},
	{EventCapturedFormUpdated, "A captured form's values changed (field_values holds all values so far).", KindConversation},
	{EventCapturedIntentCreated, "The assistant captured the visitor's intent.", KindConversation},
	{EventConversationClosed, "A conversation ended (closed by the runtime or idle).", KindConversation},
	{EventConversationUpdated, "A message was added to a conversation.", KindConversation},
	{EventWebhookTest, "A test event sent on request.", KindOnRequest},
	{EventWebhookDisabled, "Another webhook of the account was disabled (gone, failing or manual). Operational: sent only to webhooks whose events name it.", KindOperational},
	{EventDeliveryFailed, "A delivery to another webhook of the account ended failed after its last attempt. Operational: sent only to webhooks whose events name it.", KindOperational},
}

// EventTypes lists the event types a webhook may name in its events list, in
// EventTable's order.
var EventTypes = eventNames(func(t EventType) bool { return t.Kind != KindOnRequest })

// DefaultEventTypes lists what a webhook without an events list receives.
var DefaultEventTypes = eventNames(func(t EventType) bool { return t.Kind == KindConversation })

// SentEventTypes lists every event type that can be sent, in EventTable's order.
var SentEventTypes = eventNames(func(EventType) bool { return true })

func eventNames(keep func(EventType) bool) []string {
	var out []string
	for _, t := range EventTable {
		if keep(t) {
			out = append(out, t.Name)
		}
	}
	return out
}

// LookupEventType returns the entry of EventTable named name.
func LookupEventType(name string) (EventType, bool) {
	for _, t := range EventTable {
		if t.Name == name {
			return t, true
		}
	}
	return EventType{}, false
}

// IsOperational reports whether t is an operational event type: one that
// tells about the account's webhooks and deliveries rather than about a
// conversation. A webhook receives it only if its events list names it
// (never by subscribing to every event), never about itself, and none is
// raised about the delivery of an operational event.
func IsOperational(t string) bool {
	et, ok := LookupEventType(t)
	return ok && et.Kind == KindOperational
}

// IsEventType reports whether a webhook may subscribe to t.
func IsEventType(t string) bool {
	et, ok := LookupEventType(t)
	return ok && et.Kind != KindOnRequest
}

// OwnEventType is an event type an account defines and publishes itself
// (POST /event_type, POST /event): a name beside EventTable's, a JSON Schema
// of its events' data, and whether it is deprecated (still publishable,
// flagged in reads, as Svix's). docs/events.md.
type OwnEventType struct {
	AccountID   string
	Name        string // never a name of EventTable (service.CheckEventTypeName)
	Description string
	// Schema is a JSON Schema (draft 2020-12) of data, as given; nil: any object.
	Schema     json.RawMessage
	Deprecated bool
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// Operations on the account's own event types; part of Tx.
type eventTypeTx interface {
	// CreateEventType stores t; ECONFLICT if the account has a type of that name.
	CreateEventType(t *OwnEventType) error
	FindEventType(accountID, name string) (*OwnEventType, error)
	// ListEventTypes returns every type of the account, by name.
	ListEventTypes(accountID string) ([]*OwnEventType, error)
	// UpdateEventType writes t's description, schema, deprecation and updated_at.
	UpdateEventType(t *OwnEventType) error
	// DeleteEventType deletes the account's type and removes its name from
	// the events list of each of the account's webhooks that names it; a
	// list that named only it keeps it (it widens to no other type and
	// never reads back empty: docs/events.md), and returns how many lists
	// changed.
	DeleteEventType(accountID, name string) (int, error)
}

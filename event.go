package agenthooks

import (
	"encoding/json"
	"time"
)

// Event is one webhook event as sent: Payload holds the exact envelope bytes that are signed.
type Event struct {
	ID             string
	AccountID      string
	Type           string
	ConversationID string // "" for events outside a conversation (webhook.test)
	Payload        json.RawMessage
	CreatedAt      time.Time
}

// EventFilter narrows an event list.
type EventFilter struct {
	Type string
}

// EventQuery narrows an event list for the dashboard. Empty fields do not
// narrow; From and To bound created_at (From included, To excluded).
type EventQuery struct {
	Type           string
	AssistantID    string // events of the assistant's conversations
	ConversationID string
	From, To       time.Time
	// Summary leaves each event's Payload out (empty): the dashboard's
	// tables show no payload, and a page of 256 KiB envelopes would hold
	// megabytes to show their ids (issue 25).
	Summary bool
	// Text, when set, keeps the events whose payload contains it (ASCII
	// letters in either case). A search counts at most SearchCap matches;
	// callers bound it in time too (the dashboard: the last 7 days).
	Text string
}

// SearchCap is the most matches a search by text counts: its total is
// min(matches, SearchCap), so that a search never counts an account's whole
// history.
const SearchCap = 1000

// Operations on events; part of Tx. The lists of large events by id are in
// listTx (list.go).
type eventTx interface {
	CreateEvent(e *Event) error
	FindEvent(accountID, id string) (*Event, error)
	ListEvents(accountID string, f EventFilter, p Page) ([]*Event, int, error)

	// Reads of the dashboard, answered from an index on the account's rows,
	// never by scanning other accounts'.

	// QueryEvents returns one page of the account's events, newest first.
	QueryEvents(accountID string, q EventQuery, p Page) ([]*Event, int, error)
	// EventTypesByID returns the type of each of the account's events among
	// ids (missing ones are left out).
	EventTypesByID(accountID string, ids []string) (map[string]string, error)
}

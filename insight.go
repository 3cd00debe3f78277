package agenthooks

import "time"

// EventQuery narrows an event list for the dashboard. Empty fields do not
// narrow; From and To bound created_at (From included, To excluded).
type EventQuery struct {
	Type           string
	AssistantID    string // events of the assistant's conversations
	ConversationID string
	From, To       time.Time
}

// ConversationQuery narrows a conversation list for the dashboard.
type ConversationQuery struct {
	AssistantID string
	From, To    time.Time // created_at; zero means unbounded
	Closed      *bool     // nil: both open and closed
}

// AttemptBucket counts the attempts of one interval of a time series.
type AttemptBucket struct {
	Start    time.Time
	Attempts int
	Failed   int // no 2xx response
}

// WebhookStats sums up a webhook's attempts since a time.
type WebhookStats struct {
	WebhookID     string
	Attempts      int
	Succeeded     int
	LastAttemptAt time.Time
	LastStatus    int    // status code of the last attempt, 0 when none came back
	LastError     string // error of the last attempt
}

// Backlog is an account's pending deliveries: how many, how many are due, and
// the due time of the most overdue one (zero when none is due).
type Backlog struct {
	Pending   int
	Due       int
	OldestDue time.Time
}

// Read operations of the dashboard (lists with more filters than the API's,
// and aggregates for the overview); part of Tx. Every one is answered from an
// index on the account's rows, never by scanning other accounts'.
type insightTx interface {
	// QueryEvents returns one page of the account's events, newest first.
	QueryEvents(accountID string, q EventQuery, p Page) ([]*Event, int, error)
	// QueryConversations returns one page of the account's conversations, newest first.
	QueryConversations(accountID string, q ConversationQuery, p Page) ([]*Conversation, int, error)
	// ListAssistantWidgets returns one page of the assistant's widgets, oldest first.
	ListAssistantWidgets(accountID, assistantID string, p Page) ([]*Widget, int, error)
	// EventTypesByID returns the type of each of the account's events among
	// ids (missing ones are left out).
	EventTypesByID(accountID string, ids []string) (map[string]string, error)
	// ListConversationForms returns the forms captured in the conversation, oldest first.
	ListConversationForms(accountID, conversationID string) ([]*CapturedForm, error)
	// ListConversationIntents returns the intents captured in the conversation, oldest first.
	ListConversationIntents(accountID, conversationID string) ([]*CapturedIntent, error)
	// AttemptSeries counts the account's attempts from since to until in
	// buckets of step, oldest first (buckets without attempts are left out).
	AttemptSeries(accountID string, since, until time.Time, step time.Duration) ([]AttemptBucket, error)
	// WebhookAttemptStats sums up the attempts since since of each of the
	// account's webhooks that had any.
	WebhookAttemptStats(accountID string, since time.Time) ([]WebhookStats, error)
	// DeliveryBacklog returns the account's pending deliveries, due at now.
	DeliveryBacklog(accountID string, now time.Time) (Backlog, error)
}

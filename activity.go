package agenthooks

import "time"

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
// the due time of the most overdue one (zero when none is due). A delivery
// held back unattempted is due since it first fell due.
type Backlog struct {
	Pending   int
	Due       int
	OldestDue time.Time
}

// Aggregates of the dashboard's overview; part of Tx. Every one is answered
// from an index on the account's rows, never by scanning other accounts'.
// The dashboard's lists with more filters than the API's are beside their
// entities (QueryEvents in eventTx, QueryConversations and the captures of a
// conversation in conversationTx, ListAssistantWidgets in widgetTx).
type activityTx interface {
	// AttemptSeries counts the account's attempts from since to until in
	// buckets of step, oldest first (buckets without attempts are left out).
	AttemptSeries(accountID string, since, until time.Time, step time.Duration) ([]AttemptBucket, error)
	// WebhookAttemptStats sums up the attempts since since of each of the
	// account's webhooks that had any.
	WebhookAttemptStats(accountID string, since time.Time) ([]WebhookStats, error)
	// DeliveryBacklog returns the account's pending deliveries, due at now.
	DeliveryBacklog(accountID string, now time.Time) (Backlog, error)
	// CountDeliveriesByStatus counts the account's deliveries made from since
	// to until (excluded), by status; statuses without any are left out.
	CountDeliveriesByStatus(accountID string, since, until time.Time) (map[string]int, error)
}

package agenthooks

import "time"

// QueueStats is what the metrics read of the queue, cheaply: the counts come
// from counters the store maintains (no count over the deliveries), the
// oldest due from the due-order index.
type QueueStats struct {
	// Deliveries counts the deliveries of every account by status.
	Deliveries map[string]int64
	// OldestDue is when the most overdue pending delivery of an enabled
	// webhook fell due; zero when none is due. A delivery held back
	// unattempted (its webhook's circuit, in-flight cap or rate limit)
	// counts from when it first fell due, not from the time it was held to.
	OldestDue time.Time
}

// Operations of readiness and metrics. They are kept apart from the
// per-resource ones for readability; they are part of Tx.
type opsTx interface {
	// Heartbeat records that process (of role) wrote at at: readiness
	// proves a write with it. Rows of processes silent for a day are
	// deleted along the way.
	Heartbeat(process, role string, at time.Time) error
	// QueueStats returns the deliveries by status and the oldest due one
	// (as of now) without scanning the deliveries.
	QueueStats(now time.Time) (*QueueStats, error)
}

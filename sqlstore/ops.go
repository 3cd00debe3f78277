package sqlstore

import (
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/agenthooks/agenthooks"
)

// heartbeatKeep is how long a silent process's heartbeat row is kept.
const heartbeatKeep = 24 * time.Hour

// Heartbeat upserts the process's row; readiness calls it to prove a write.
func (tx *Tx) Heartbeat(process, role string, at time.Time) error {
	if _, err := tx.exec(`INSERT INTO heartbeats (process, role, beat_at) VALUES (?, ?, ?)
		ON CONFLICT (process) DO UPDATE SET role = excluded.role, beat_at = excluded.beat_at`, process, role, Micros(at)); err != nil {
		return fmt.Errorf("heartbeat: %w", err)
	}
	if _, err := tx.exec("DELETE FROM heartbeats WHERE beat_at < ?", Micros(at.Add(-heartbeatKeep))); err != nil {
		return fmt.Errorf("heartbeat: %w", err)
	}
	return nil
}

// deliveryCounts is Dialect.DeliveryCountsSQL's default: the sums of the
// counter rows.
const deliveryCounts = "SELECT COALESCE(SUM(pending), 0), COALESCE(SUM(succeeded), 0), COALESCE(SUM(failed), 0), COALESCE(SUM(canceled), 0) FROM delivery_counts"

// QueueStats reads the delivery counters (Dialect.DeliveryCountsSQL; kept by
// the SQLite writer, sqlite/counts.go, and by PostgreSQL's triggers,
// postgres/counts.go) and the first due pending delivery of an enabled
// webhook through the deliveries_due index: the walk skips only the overdue
// deliveries of disabled webhooks, which wait with no time limit and are no
// backlog. A delivery held back unattempted counts from when it first fell
// due (first_due_at).
func (tx *Tx) QueueStats(now time.Time) (*agenthooks.QueueStats, error) {
	counts := tx.d.DeliveryCountsSQL
	if counts == "" {
		counts = deliveryCounts
	}
	var pending, succeeded, failed, canceled int64
	if err := tx.queryRow(counts).Scan(&pending, &succeeded, &failed, &canceled); err != nil {
		return nil, fmt.Errorf("queue stats: %w", err)
	}
	st := &agenthooks.QueueStats{Deliveries: map[string]int64{
		agenthooks.DeliveryPending: pending, agenthooks.DeliverySucceeded: succeeded, agenthooks.DeliveryFailed: failed,
		agenthooks.DeliveryCanceled: canceled,
	}}
	var due int64
	err := tx.queryRow(`SELECT d.next_attempt_at FROM deliveries d JOIN webhooks w ON w.id = d.webhook_id
		WHERE d.status = 'pending' AND d.next_attempt_at <= ? AND w.enabled = 1
		ORDER BY d.next_attempt_at LIMIT 1`, Micros(now)).Scan(&due)
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return nil, fmt.Errorf("queue stats: oldest due: %w", err)
	default:
		st.OldestDue = FromMicros(due)
	}
	// A delivery held back by its webhook's circuit, cap or rate limit has
	// its next_attempt_at moved on: it counts from when it first fell due
	// (deliveries_held index).
	var held int64
	err = tx.queryRow(`SELECT d.first_due_at FROM deliveries d JOIN webhooks w ON w.id = d.webhook_id
		WHERE d.status = 'pending' AND d.claimed = 0 AND d.first_due_at > 0 AND w.enabled = 1
		ORDER BY d.first_due_at LIMIT 1`).Scan(&held)
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return nil, fmt.Errorf("queue stats: oldest held: %w", err)
	case st.OldestDue.IsZero() || held < due:
		st.OldestDue = FromMicros(held)
	}
	return st, nil
}

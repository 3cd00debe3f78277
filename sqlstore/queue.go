package sqlstore

import (
	"database/sql"
	"fmt"
	"sort"
	"time"

	"github.com/agenthooks/agenthooks"
)

const deliveryCols = "id, account_id, event_id, webhook_id, conversation_id, status, attempt_count, next_attempt_at, last_error, created_at, updated_at"

func scanDelivery(s scanner) (*agenthooks.Delivery, error) {
	var d agenthooks.Delivery
	var next, created, updated int64
	if err := s.Scan(&d.ID, &d.AccountID, &d.EventID, &d.WebhookID, &d.ConversationID, &d.Status, &d.AttemptCount, &next, &d.LastError, &created, &updated); err != nil {
		return nil, err
	}
	d.NextAttemptAt, d.CreatedAt, d.UpdatedAt = FromMicros(next), FromMicros(created), FromMicros(updated)
	return &d, nil
}

// CreateDelivery stores a pending delivery.
func (tx *Tx) CreateDelivery(d *agenthooks.Delivery) error {
	_, err := tx.exec("INSERT INTO deliveries ("+deliveryCols+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		d.ID, d.AccountID, d.EventID, d.WebhookID, d.ConversationID, d.Status, d.AttemptCount, Micros(d.NextAttemptAt), d.LastError, Micros(d.CreatedAt), Micros(d.UpdatedAt))
	if err != nil {
		return fmt.Errorf("insert delivery: %w", err)
	}
	return tx.notifyDelivered()
}

// FindDelivery returns the account's delivery.
func (tx *Tx) FindDelivery(accountID, id string) (*agenthooks.Delivery, error) {
	d, err := scanDelivery(tx.queryRow("SELECT "+deliveryCols+" FROM deliveries WHERE id = ? AND account_id = ?"+tx.lock(), id, accountID))
	if err != nil {
		return nil, notFound(err, "delivery")
	}
	return d, nil
}

// CountDeliveries returns the number of deliveries by status.
func (tx *Tx) CountDeliveries() (map[string]int, error) {
	rows, err := tx.query("SELECT status, COUNT(*) FROM deliveries GROUP BY status")
	if err != nil {
		return nil, fmt.Errorf("count deliveries: %w", err)
	}
	defer rows.Close()
	n := map[string]int{}
	for rows.Next() {
		var status string
		var c int
		if err := rows.Scan(&status, &c); err != nil {
			return nil, fmt.Errorf("count deliveries: %w", err)
		}
		n[status] = c
	}
	return n, rows.Err()
}

// ListEventDeliveries returns the deliveries of the account's events among eventIDs.
func (tx *Tx) ListEventDeliveries(accountID string, eventIDs []string) ([]*agenthooks.Delivery, error) {
	if len(eventIDs) == 0 {
		return nil, nil
	}
	args := append([]any{accountID}, idArgs(eventIDs)...)
	rows, err := tx.query("SELECT "+deliveryCols+" FROM deliveries WHERE account_id = ? AND event_id IN ("+placeholders(len(eventIDs))+") ORDER BY id", args...)
	if err != nil {
		return nil, fmt.Errorf("list event deliveries: %w", err)
	}
	return collect(rows, scanDelivery)
}

// ListDeliveries returns one page of the account's deliveries, newest first.
func (tx *Tx) ListDeliveries(accountID string, f agenthooks.DeliveryFilter, p agenthooks.Page) ([]*agenthooks.Delivery, int, error) {
	where, args := "account_id = ?", []any{accountID}
	if f.WebhookID != "" {
		where, args = where+" AND webhook_id = ?", append(args, f.WebhookID)
	}
	if f.EventID != "" {
		where, args = where+" AND event_id = ?", append(args, f.EventID)
	}
	if f.Status != "" {
		where, args = where+" AND status = ?", append(args, f.Status)
	}
	return listPage(tx, "deliveries", deliveryCols, "deliveries", where, args, "id DESC", p, scanDelivery)
}

const attemptCols = "id, delivery_id, account_id, created_at, status_code, duration_ms, error, response_body"

func scanAttempt(s scanner) (*agenthooks.Attempt, error) {
	var a agenthooks.Attempt
	var created int64
	if err := s.Scan(&a.ID, &a.DeliveryID, &a.AccountID, &created, &a.StatusCode, &a.DurationMS, &a.Error, &a.ResponseBody); err != nil {
		return nil, err
	}
	a.CreatedAt = FromMicros(created)
	return &a, nil
}

// ListAttempts returns the delivery's attempts, oldest first.
func (tx *Tx) ListAttempts(deliveryID string) ([]*agenthooks.Attempt, error) {
	rows, err := tx.query("SELECT "+attemptCols+" FROM attempts WHERE delivery_id = ? ORDER BY id", deliveryID)
	if err != nil {
		return nil, fmt.Errorf("list attempts: %w", err)
	}
	return collect(rows, scanAttempt)
}

// RetryDelivery makes the delivery pending and due at due; a claim in flight
// is superseded (its lease goes stale).
func (tx *Tx) RetryDelivery(accountID, id string, due time.Time) error {
	res, err := tx.exec("UPDATE deliveries SET status = 'pending', next_attempt_at = ?, claimed = 0, lease = lease + 1, updated_at = ? WHERE id = ? AND account_id = ?",
		Micros(due), Micros(tx.now), id, accountID)
	if err != nil {
		return fmt.Errorf("retry delivery: %w", err)
	}
	if err := checkAffected(res, "delivery"); err != nil {
		return err
	}
	return tx.notifyDelivered()
}

// FailPendingDeliveries ends the webhook's pending deliveries as failed.
func (tx *Tx) FailPendingDeliveries(webhookID, reason string) (int, error) {
	res, err := tx.exec("UPDATE deliveries SET status = 'failed', next_attempt_at = 0, claimed = 0, lease = lease + 1, last_error = ?, updated_at = ? WHERE webhook_id = ? AND status = 'pending'",
		reason, Micros(tx.now), webhookID)
	if err != nil {
		return 0, fmt.Errorf("fail pending deliveries: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("rows affected: %w", err)
	}
	return int(n), nil
}

// ClaimDeliveries leases up to limit due deliveries until leaseUntil.
func (tx *Tx) ClaimDeliveries(limit int, leaseUntil time.Time) ([]*agenthooks.Job, error) {
	rows, err := tx.query(tx.d.ClaimSQL, Micros(tx.now), limit)
	if err != nil {
		return nil, fmt.Errorf("select due deliveries: %w", err)
	}
	var ids []any
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, fmt.Errorf("scan due delivery: %w", err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("select due deliveries: %w", err)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	in := placeholders(len(ids))
	args := append([]any{Micros(leaseUntil), Micros(tx.now)}, ids...)
	if _, err := tx.exec("UPDATE deliveries SET claimed = 1, lease = lease + 1, next_attempt_at = ?, updated_at = ? WHERE id IN ("+in+")", args...); err != nil {
		return nil, fmt.Errorf("lease deliveries: %w", err)
	}
	rows, err = tx.query(`SELECT d.id, d.account_id, d.event_id, d.webhook_id, d.conversation_id, d.status, d.attempt_count, d.next_attempt_at, d.last_error, d.created_at, d.updated_at,
		d.lease, e.payload, `+webhookColsPrefixed+`
		FROM deliveries d JOIN events e ON e.id = d.event_id JOIN webhooks w ON w.id = d.webhook_id WHERE d.id IN (`+in+`)`, ids...)
	if err != nil {
		return nil, fmt.Errorf("load claimed deliveries: %w", err)
	}
	jobs, err := collect(rows, scanJob)
	if err != nil {
		return nil, fmt.Errorf("load claimed deliveries: %w", err)
	}
	// Hand the jobs out in due order, as the claim query chose them.
	rank := make(map[string]int, len(ids))
	for i, id := range ids {
		rank[id.(string)] = i
	}
	sort.Slice(jobs, func(a, b int) bool { return rank[jobs[a].Delivery.ID] < rank[jobs[b].Delivery.ID] })
	return jobs, nil
}

const webhookColsPrefixed = "w.id, w.account_id, w.name, w.endpoint, w.enabled, w.disabled_reason, w.events, w.ordering, w.headers, w.rate_limit, w.secret, w.previous_secret, w.previous_secret_until, w.failing_since, w.created_at, w.updated_at"

func scanJob(s scanner) (*agenthooks.Job, error) {
	var j agenthooks.Job
	d := &j.Delivery
	w := &j.Webhook
	var next, created, updated int64
	var payload string
	var enabled int
	var events, headers string
	var prevUntil, failing, wcreated, wupdated int64
	if err := s.Scan(&d.ID, &d.AccountID, &d.EventID, &d.WebhookID, &d.ConversationID, &d.Status, &d.AttemptCount, &next, &d.LastError, &created, &updated,
		&j.Lease, &payload,
		&w.ID, &w.AccountID, &w.Name, &w.Endpoint, &enabled, &w.DisabledReason, &events, &w.Ordering, &headers, &w.RateLimit,
		&w.Secret, &w.PreviousSecret, &prevUntil, &failing, &wcreated, &wupdated); err != nil {
		return nil, err
	}
	d.NextAttemptAt, d.CreatedAt, d.UpdatedAt = FromMicros(next), FromMicros(created), FromMicros(updated)
	j.Payload = []byte(payload)
	w.Enabled = enabled == 1
	if err := unmarshalWebhookJSON(w, events, headers); err != nil {
		return nil, err
	}
	w.PreviousSecretUntil, w.FailingSince = FromMicros(prevUntil), FromMicros(failing)
	w.CreatedAt, w.UpdatedAt = FromMicros(wcreated), FromMicros(wupdated)
	return &j, nil
}

// CompleteDelivery records an outcome unless the lease is stale.
func (tx *Tx) CompleteDelivery(o *agenthooks.Outcome) error {
	var attempts int
	var lastErr string
	if o.Attempt != nil {
		attempts = 1
		lastErr = o.Attempt.Error
		if lastErr == "" && o.Status != agenthooks.DeliverySucceeded {
			lastErr = fmt.Sprintf("HTTP %d", o.Attempt.StatusCode)
		}
	}
	next := Micros(o.NextAttemptAt)
	if o.Status != agenthooks.DeliveryPending {
		next = 0
	}
	var res sql.Result
	var err error
	if o.Attempt != nil {
		res, err = tx.exec("UPDATE deliveries SET status = ?, attempt_count = attempt_count + ?, next_attempt_at = ?, claimed = 0, last_error = ?, updated_at = ? WHERE id = ? AND lease = ? AND claimed = 1",
			o.Status, attempts, next, lastErr, Micros(tx.now), o.DeliveryID, o.Lease)
	} else {
		// Released without an attempt: the last attempt's error still stands.
		res, err = tx.exec("UPDATE deliveries SET status = ?, next_attempt_at = ?, claimed = 0, updated_at = ? WHERE id = ? AND lease = ? AND claimed = 1",
			o.Status, next, Micros(tx.now), o.DeliveryID, o.Lease)
	}
	if err != nil {
		return fmt.Errorf("complete delivery: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("rows affected: %w", err)
	}
	if n == 0 || o.Attempt == nil {
		return nil // stale lease: the delivery was retried, failed or claimed again
	}
	a := o.Attempt
	_, err = tx.exec("INSERT INTO attempts ("+attemptCols+") VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
		a.ID, o.DeliveryID, a.AccountID, Micros(a.CreatedAt), a.StatusCode, a.DurationMS, a.Error, a.ResponseBody)
	if err != nil {
		return fmt.Errorf("insert attempt: %w", err)
	}
	return nil
}

// ReleaseClaims makes every claimed delivery due now.
func (tx *Tx) ReleaseClaims() (int, error) {
	res, err := tx.exec("UPDATE deliveries SET claimed = 0, lease = lease + 1, next_attempt_at = ? WHERE claimed = 1 AND status = 'pending'", Micros(tx.now))
	if err != nil {
		return 0, fmt.Errorf("release claims: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("rows affected: %w", err)
	}
	return int(n), nil
}

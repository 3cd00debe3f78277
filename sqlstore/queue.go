package sqlstore

import (
	"database/sql"
	"fmt"
	"strings"
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

// CreateLeasedDelivery stores a pending delivery already claimed under lease
// number 1 until leaseUntil (the hand-off to a worker of this process). No
// wake-up: the worker has it.
func (tx *Tx) CreateLeasedDelivery(d *agenthooks.Delivery, leaseUntil time.Time) (int64, error) {
	due := d.NextAttemptAt // first_due_at, as a claim would set it
	d.NextAttemptAt = leaseUntil
	_, err := tx.exec("INSERT INTO deliveries ("+deliveryCols+", claimed, lease, first_due_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, 1, ?)",
		d.ID, d.AccountID, d.EventID, d.WebhookID, d.ConversationID, d.Status, d.AttemptCount, Micros(d.NextAttemptAt), d.LastError, Micros(d.CreatedAt), Micros(d.UpdatedAt), Micros(due))
	if err != nil {
		return 0, fmt.Errorf("insert delivery: %w", err)
	}
	return 1, nil
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
	if !f.From.IsZero() {
		where, args = where+" AND created_at >= ?", append(args, Micros(f.From))
	}
	if f.Text != "" {
		// A delivery is made in its event's transaction, so the event of a
		// delivery made since From was created since From too (give or take
		// the clock's step): the subquery reads the same window.
		where = where + " AND event_id IN (SELECT id FROM events WHERE account_id = ? AND created_at >= ? AND " + payloadContains + ")"
		args = append(args, accountID, Micros(f.From), likePattern(f.Text))
		return searchPage(tx, "deliveries", deliveryCols, "deliveries", where, args, "created_at DESC, id DESC", p, scanDelivery)
	}
	return listPage(tx, "deliveries", deliveryCols, "deliveries", where, args, "id DESC", p, scanDelivery)
}

const attemptCols = "id, delivery_id, account_id, created_at, status_code, duration_ms, error, response_body, request_method, request_url, request_body"

func scanAttempt(s scanner) (*agenthooks.Attempt, error) {
	var a agenthooks.Attempt
	var created int64
	if err := s.Scan(&a.ID, &a.DeliveryID, &a.AccountID, &created, &a.StatusCode, &a.DurationMS, &a.Error, &a.ResponseBody, &a.RequestMethod, &a.RequestURL, &a.RequestBody); err != nil {
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
	res, err := tx.exec("UPDATE deliveries SET status = 'pending', next_attempt_at = ?, claimed = 0, lease = lease + 1, first_due_at = 0, updated_at = ? WHERE id = ? AND account_id = ?",
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

// ClaimCols are what the claim statement returns per delivery: the
// delivery's columns, its new lease number and its event's payload. They
// are named on the updated table (deliveries), which RETURNING may use on
// both engines; the payload comes from a subquery, since SQLite's RETURNING
// cannot name another table.
const ClaimCols = "id, account_id, event_id, webhook_id, conversation_id, status, attempt_count, next_attempt_at, last_error, created_at, updated_at, " +
	"lease, (SELECT e.payload FROM events e WHERE e.id = deliveries.event_id)" +
	", (SELECT e.traceparent FROM events e WHERE e.id = deliveries.event_id)" // sqlstore/trace.go

// ClaimWhere chooses the deliveries a claim may take, both engines alike:
// due pending deliveries of enabled webhooks (a disabled webhook's wait
// until it is enabled again). On a webhook with ordering "conversation" a
// delivery waits while an earlier one of the same conversation is pending
// (in flight or waiting for its retry), so that the conversation's events
// arrive in order. Its one argument is now. It names deliveries d alone:
// the webhook's rules are a subquery per delivery, which the planner
// cannot turn into a join (joined, PostgreSQL planned a read and a sort of
// every pending delivery on tables not yet analysed), and with
// Dialect.ClaimPlan the ordered scan of the due index, which stops at the
// limit, is the only plan left (postgres/claim_test.go).
const ClaimWhere = `d.status = 'pending' AND d.next_attempt_at <= ? AND (SELECT w.enabled = 1
		AND (w.ordering <> 'conversation' OR d.conversation_id = '' OR NOT EXISTS (
			SELECT 1 FROM deliveries p WHERE p.webhook_id = d.webhook_id AND p.conversation_id = d.conversation_id
			AND p.status = 'pending' AND p.id < d.id))
		FROM webhooks w WHERE w.id = d.webhook_id)`

// ClaimDeliveries leases up to limit due deliveries until leaseUntil, in the
// one statement of the dialect, then reads their webhooks (one statement: a
// batch holds many deliveries of few webhooks).
func (tx *Tx) ClaimDeliveries(limit int, leaseUntil time.Time) ([]*agenthooks.Job, error) {
	if tx.d.ClaimPlan != "" {
		if _, err := tx.exec(tx.d.ClaimPlan); err != nil {
			return nil, fmt.Errorf("claim deliveries: %w", err)
		}
	}
	rows, err := tx.query(tx.d.ClaimSQL, Micros(leaseUntil), Micros(tx.now), Micros(tx.now), limit)
	if err != nil {
		return nil, fmt.Errorf("claim deliveries: %w", err)
	}
	jobs, err := collect(rows, scanJob)
	if err != nil {
		return nil, fmt.Errorf("claim deliveries: %w", err)
	}
	if len(jobs) == 0 {
		return nil, nil
	}
	hooks := make(map[string]*agenthooks.Webhook)
	var hookIDs []any
	for _, j := range jobs {
		if _, ok := hooks[j.Delivery.WebhookID]; !ok {
			hooks[j.Delivery.WebhookID] = nil
			hookIDs = append(hookIDs, j.Delivery.WebhookID)
		}
	}
	rows, err = tx.query("SELECT "+webhookCols+" FROM webhooks WHERE id IN ("+placeholders(len(hookIDs))+")", hookIDs...)
	if err != nil {
		return nil, fmt.Errorf("load claimed deliveries' webhooks: %w", err)
	}
	ws, err := collect(rows, tx.scanWebhook)
	if err != nil {
		return nil, fmt.Errorf("load claimed deliveries' webhooks: %w", err)
	}
	for _, w := range ws {
		hooks[w.ID] = w
	}
	kept := jobs[:0]
	for _, j := range jobs {
		// The claim joined the webhook, so it exists in this transaction.
		if w := hooks[j.Delivery.WebhookID]; w != nil {
			j.Webhook = *w
			kept = append(kept, j)
		}
	}
	return kept, nil
}

func scanJob(s scanner) (*agenthooks.Job, error) {
	var j agenthooks.Job
	d := &j.Delivery
	var next, created, updated int64
	var payload sql.NullString
	if err := s.Scan(&d.ID, &d.AccountID, &d.EventID, &d.WebhookID, &d.ConversationID, &d.Status, &d.AttemptCount, &next, &d.LastError, &created, &updated,
		&j.Lease, &payload, &j.Traceparent); err != nil {
		return nil, err
	}
	d.NextAttemptAt, d.CreatedAt, d.UpdatedAt = FromMicros(next), FromMicros(created), FromMicros(updated)
	j.Payload = []byte(payload.String)
	return &j, nil
}

// outcomeColumns returns what an outcome writes on its delivery: the
// attempts it adds (1 when an attempt was made), the delivery's last error
// (the attempt's, or "HTTP <status>" for a failed answer; "" when no attempt
// was made, which leaves the last one standing) and its next due time (0
// once it has ended).
func outcomeColumns(o *agenthooks.Outcome) (attempts int, lastErr string, next int64) {
	if o.Attempt != nil {
		attempts = 1
		lastErr = o.Attempt.Error
		if lastErr == "" && o.Status != agenthooks.DeliverySucceeded {
			lastErr = fmt.Sprintf("HTTP %d", o.Attempt.StatusCode)
		}
	}
	if o.Status == agenthooks.DeliveryPending {
		next = Micros(o.NextAttemptAt)
	}
	return attempts, lastErr, next
}

// CompleteDelivery records an outcome unless the lease is stale.
func (tx *Tx) CompleteDelivery(o *agenthooks.Outcome) error {
	attempts, lastErr, next := outcomeColumns(o)
	var res sql.Result
	var err error
	if o.Attempt != nil {
		res, err = tx.exec("UPDATE deliveries SET status = ?, attempt_count = attempt_count + ?, next_attempt_at = ?, claimed = 0, first_due_at = 0, last_error = ?, updated_at = ? WHERE id = ? AND lease = ? AND claimed = 1",
			o.Status, attempts, next, lastErr, Micros(tx.now), o.DeliveryID, o.Lease)
	} else {
		// Released without an attempt: the last attempt's error still
		// stands, and first_due_at keeps when the delivery fell due.
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
	_, err = tx.exec("INSERT INTO attempts ("+attemptCols+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		a.ID, o.DeliveryID, a.AccountID, Micros(a.CreatedAt), a.StatusCode, a.DurationMS, a.Error, a.ResponseBody, a.RequestMethod, a.RequestURL, a.RequestBody)
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

// CompleteDeliveries records many outcomes, each as CompleteDelivery would:
// in two statements per chunk where the dialect says BatchByValues (an
// UPDATE joined to the outcomes' VALUES, and one INSERT of the attempts
// whose lease still held), else one by one.
func (tx *Tx) CompleteDeliveries(os []*agenthooks.Outcome) error {
	if !tx.d.BatchByValues {
		for _, o := range os {
			if err := tx.CompleteDelivery(o); err != nil {
				return err
			}
		}
		return nil
	}
	// Chunks of power-of-two sizes keep the number of distinct statements
	// (each prepared and cached per connection) small.
	for len(os) > 0 {
		n := 1
		for n*2 <= len(os) && n*2 <= 256 {
			n *= 2
		}
		if err := tx.completeChunk(os[:n]); err != nil {
			return err
		}
		os = os[n:]
	}
	return nil
}

const completeRow = "(CAST(? AS TEXT), CAST(? AS BIGINT), CAST(? AS TEXT), CAST(? AS BIGINT), CAST(? AS BIGINT), CAST(? AS TEXT), CAST(? AS BIGINT))"

func (tx *Tx) completeChunk(os []*agenthooks.Outcome) error {
	args := make([]any, 0, 1+7*len(os))
	args = append(args, Micros(tx.now))
	byID := make(map[string]*agenthooks.Outcome, len(os))
	for _, o := range os {
		attempts, lastErr, next := outcomeColumns(o)
		// attempts is 1 exactly when an attempt was made: it also says
		// whether lastErr replaces the stored one.
		args = append(args, o.DeliveryID, o.Lease, o.Status, attempts, next, lastErr, attempts)
		byID[o.DeliveryID] = o
	}
	rows, err := tx.query(`UPDATE deliveries SET status = v.column3, attempt_count = deliveries.attempt_count + v.column4, next_attempt_at = v.column5,
		claimed = 0, last_error = CASE WHEN v.column7 = 1 THEN v.column6 ELSE deliveries.last_error END,
		first_due_at = CASE WHEN v.column7 = 1 THEN 0 ELSE deliveries.first_due_at END, updated_at = ?
		FROM (VALUES `+strings.TrimSuffix(strings.Repeat(completeRow+",", len(os)), ",")+`) AS v
		WHERE deliveries.id = v.column1 AND deliveries.lease = v.column2 AND deliveries.claimed = 1 RETURNING deliveries.id`, args...)
	if err != nil {
		return fmt.Errorf("complete deliveries: %w", err)
	}
	var done []*agenthooks.Outcome
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return fmt.Errorf("complete deliveries: %w", err)
		}
		// Only a delivery whose lease held gets its attempt recorded.
		if o := byID[id]; o != nil && o.Attempt != nil {
			done = append(done, o)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("complete deliveries: %w", err)
	}
	if len(done) == 0 {
		return nil
	}
	args = args[:0]
	for _, o := range done {
		a := o.Attempt
		args = append(args, a.ID, o.DeliveryID, a.AccountID, Micros(a.CreatedAt), a.StatusCode, a.DurationMS, a.Error, a.ResponseBody, a.RequestMethod, a.RequestURL, a.RequestBody)
	}
	if _, err := tx.exec("INSERT INTO attempts ("+attemptCols+") VALUES "+strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?),", len(done)), ","), args...); err != nil {
		return fmt.Errorf("insert attempts: %w", err)
	}
	return nil
}

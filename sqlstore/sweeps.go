package sqlstore

import (
	"fmt"
	"time"

	"github.com/agenthooks/agenthooks"
)

func idArgs(ids []string) []any {
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	return args
}

// MarkWebhooksFailing starts the failure streak of webhooks not yet failing.
func (tx *Tx) MarkWebhooksFailing(ids []string, at time.Time) error {
	if len(ids) == 0 {
		return nil
	}
	args := append([]any{Micros(at)}, idArgs(ids)...)
	if _, err := tx.exec("UPDATE webhooks SET failing_since = ? WHERE failing_since = 0 AND id IN ("+placeholders(len(ids))+")", args...); err != nil {
		return fmt.Errorf("mark webhooks failing: %w", err)
	}
	return nil
}

// ClearWebhooksFailing ends the failure streak of webhooks.
func (tx *Tx) ClearWebhooksFailing(ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	if _, err := tx.exec("UPDATE webhooks SET failing_since = 0 WHERE failing_since <> 0 AND id IN ("+placeholders(len(ids))+")", idArgs(ids)...); err != nil {
		return fmt.Errorf("clear webhooks failing: %w", err)
	}
	return nil
}

// DisableFailingWebhooks disables webhooks failing since before.
func (tx *Tx) DisableFailingWebhooks(before time.Time) ([]*agenthooks.Webhook, error) {
	rows, err := tx.query("SELECT "+webhookCols+" FROM webhooks WHERE enabled = 1 AND failing_since <> 0 AND failing_since < ?"+tx.lock(), Micros(before))
	if err != nil {
		return nil, fmt.Errorf("find failing webhooks: %w", err)
	}
	ws, err := collect(rows, tx.scanWebhook)
	if err != nil {
		return nil, fmt.Errorf("find failing webhooks: %w", err)
	}
	for _, w := range ws {
		w.Enabled, w.DisabledReason, w.UpdatedAt = false, agenthooks.DisabledFailing, tx.now
		if err := tx.UpdateWebhook(w); err != nil {
			return nil, err
		}
	}
	return ws, nil
}

// RequeueFailedDeliveries gives the webhook's failed deliveries of events
// created since then a fresh schedule, keeping their attempts.
func (tx *Tx) RequeueFailedDeliveries(accountID, webhookID string, since time.Time) (int, error) {
	res, err := tx.exec(`UPDATE deliveries SET status = 'pending', attempt_count = 0, next_attempt_at = ?, claimed = 0, lease = lease + 1, first_due_at = 0, updated_at = ?
		WHERE account_id = ? AND webhook_id = ? AND status = 'failed' AND event_id IN (SELECT id FROM events WHERE account_id = ? AND created_at >= ?)`,
		Micros(tx.now), Micros(tx.now), accountID, webhookID, accountID, Micros(since))
	if err != nil {
		return 0, fmt.Errorf("requeue failed deliveries: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("rows affected: %w", err)
	}
	if n > 0 {
		if err := tx.notifyDelivered(); err != nil {
			return 0, err
		}
	}
	return int(n), nil
}

// DeleteExpired deletes a batch of expired events (never one with a pending
// delivery) with their deliveries and attempts, and old attempts.
func (tx *Tx) DeleteExpired(before time.Time, limit int) (int, error) {
	rows, err := tx.query(`SELECT e.id FROM events e WHERE e.created_at < ?
		AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id AND d.status = 'pending') ORDER BY e.created_at LIMIT ?`, Micros(before), limit)
	if err != nil {
		return 0, fmt.Errorf("find expired events: %w", err)
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return 0, fmt.Errorf("find expired events: %w", err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("find expired events: %w", err)
	}
	if len(ids) > 0 {
		in, args := placeholders(len(ids)), idArgs(ids)
		if _, err := tx.exec("DELETE FROM attempts WHERE delivery_id IN (SELECT id FROM deliveries WHERE event_id IN ("+in+"))", args...); err != nil {
			return 0, fmt.Errorf("delete expired attempts: %w", err)
		}
		if _, err := tx.exec("DELETE FROM deliveries WHERE event_id IN ("+in+")", args...); err != nil {
			return 0, fmt.Errorf("delete expired deliveries: %w", err)
		}
		if _, err := tx.exec("DELETE FROM events WHERE id IN ("+in+")", args...); err != nil {
			return 0, fmt.Errorf("delete expired events: %w", err)
		}
	}
	if _, err := tx.exec("DELETE FROM idempotency_keys WHERE created_at < ?", Micros(tx.now.Add(-agenthooks.IdempotencyTTL))); err != nil {
		return 0, fmt.Errorf("delete expired idempotency keys: %w", err)
	}
	// Attempts of deliveries still alive (a long retry schedule, or retried
	// by hand) age out on their own.
	if _, err := tx.exec("DELETE FROM attempts WHERE id IN (SELECT id FROM attempts WHERE created_at < ? LIMIT ?)", Micros(before), limit); err != nil {
		return 0, fmt.Errorf("delete expired attempts: %w", err)
	}
	return len(ids), nil
}

// notifyDelivered wakes workers after the commit (once per transaction).
func (tx *Tx) notifyDelivered() error {
	if tx.Delivered == 0 && tx.d.DeliveryCreated != nil {
		if err := tx.d.DeliveryCreated(tx.ctx, tx.q); err != nil {
			return fmt.Errorf("notify delivery: %w", err)
		}
	}
	tx.Delivered++
	return nil
}

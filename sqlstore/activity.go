package sqlstore

import (
	"fmt"
	"time"

	"github.com/agenthooks/agenthooks"
)

// QueryEvents returns one page of the account's events, newest first. The
// assistant filter goes through the assistant's conversations
// (events_conversation index).
func (tx *Tx) QueryEvents(accountID string, q agenthooks.EventQuery, p agenthooks.Page) ([]*agenthooks.Event, int, error) {
	where, args := "account_id = ?", []any{accountID}
	if q.Type != "" {
		where, args = where+" AND type = ?", append(args, q.Type)
	}
	if q.ConversationID != "" {
		where, args = where+" AND conversation_id = ?", append(args, q.ConversationID)
	}
	if q.AssistantID != "" {
		where, args = where+" AND conversation_id IN (SELECT id FROM conversations WHERE account_id = ? AND assistant_id = ?)", append(args, accountID, q.AssistantID)
	}
	if !q.From.IsZero() {
		where, args = where+" AND created_at >= ?", append(args, Micros(q.From))
	}
	if !q.To.IsZero() {
		where, args = where+" AND created_at < ?", append(args, Micros(q.To))
	}
	cols := eventCols
	if q.Summary {
		cols = eventSummaryCols
	}
	if q.Text != "" {
		where, args = where+" AND "+payloadContains, append(args, likePattern(q.Text))
		// By time, so that the events_account_created index bounds the
		// scan to the window instead of the account's whole history.
		return searchPage(tx, "events", cols, "events", where, args, "created_at DESC, id DESC", p, scanEvent)
	}
	return listPage(tx, "events", cols, "events", where, args, "id DESC", p, scanEvent)
}

// QueryConversations returns one page of the account's conversations, newest first.
func (tx *Tx) QueryConversations(accountID string, q agenthooks.ConversationQuery, p agenthooks.Page) ([]*agenthooks.Conversation, int, error) {
	where, args := "account_id = ?", []any{accountID}
	if q.AssistantID != "" {
		where, args = where+" AND assistant_id = ?", append(args, q.AssistantID)
	}
	if !q.From.IsZero() {
		where, args = where+" AND created_at >= ?", append(args, Micros(q.From))
	}
	if !q.To.IsZero() {
		where, args = where+" AND created_at < ?", append(args, Micros(q.To))
	}
	if q.Closed != nil {
		where, args = where+" AND closed = ?", append(args, b2i(*q.Closed))
	}
	return listPage(tx, "conversations", conversationCols, "conversations", where, args, "created_at DESC, id DESC", p, scanConversation)
}

// ListAssistantWidgets returns one page of the assistant's widgets
// (widgets_assistant index).
func (tx *Tx) ListAssistantWidgets(accountID, assistantID string, p agenthooks.Page) ([]*agenthooks.Widget, int, error) {
	return listPage(tx, "widgets", widgetCols, "widgets", "assistant_id = ? AND account_id = ?", []any{assistantID, accountID}, "id", p, scanWidget)
}

// EventTypesByID returns the types of the account's events among ids (primary key lookups).
func (tx *Tx) EventTypesByID(accountID string, ids []string) (map[string]string, error) {
	m := make(map[string]string, len(ids))
	if len(ids) == 0 {
		return m, nil
	}
	rows, err := tx.query("SELECT id, type FROM events WHERE id IN ("+placeholders(len(ids))+") AND account_id = ?", append(idArgs(ids), accountID)...)
	if err != nil {
		return nil, fmt.Errorf("event types: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, typ string
		if err := rows.Scan(&id, &typ); err != nil {
			return nil, fmt.Errorf("event types: %w", err)
		}
		m[id] = typ
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("event types: %w", err)
	}
	return m, nil
}

// ListConversationForms returns the forms captured in the conversation, oldest first.
func (tx *Tx) ListConversationForms(accountID, conversationID string) ([]*agenthooks.CapturedForm, error) {
	rows, err := tx.query("SELECT "+capturedFormCols+" FROM captured_forms WHERE conversation_id = ? AND account_id = ? ORDER BY id", conversationID, accountID)
	if err != nil {
		return nil, fmt.Errorf("list captured forms: %w", err)
	}
	fs, err := collect(rows, scanCapturedForm)
	if err != nil {
		return nil, fmt.Errorf("list captured forms: %w", err)
	}
	return fs, nil
}

// ListConversationIntents returns the intents captured in the conversation, oldest first.
func (tx *Tx) ListConversationIntents(accountID, conversationID string) ([]*agenthooks.CapturedIntent, error) {
	rows, err := tx.query("SELECT id, account_id, conversation_id, intent_id, created_at FROM captured_intents WHERE conversation_id = ? AND account_id = ? ORDER BY id",
		conversationID, accountID)
	if err != nil {
		return nil, fmt.Errorf("list captured intents: %w", err)
	}
	is, err := collect(rows, func(s scanner) (*agenthooks.CapturedIntent, error) {
		var c agenthooks.CapturedIntent
		var created int64
		if err := s.Scan(&c.ID, &c.AccountID, &c.ConversationID, &c.IntentID, &created); err != nil {
			return nil, err
		}
		c.CreatedAt = FromMicros(created)
		return &c, nil
	})
	if err != nil {
		return nil, fmt.Errorf("list captured intents: %w", err)
	}
	return is, nil
}

// failedAttempt is SQL that is 1 for an attempt without a 2xx response.
const failedAttempt = "CASE WHEN status_code >= 200 AND status_code < 300 THEN 0 ELSE 1 END"

// AttemptSeries counts the account's attempts per bucket of step
// (attempts_account_created index).
func (tx *Tx) AttemptSeries(accountID string, since, until time.Time, step time.Duration) ([]agenthooks.AttemptBucket, error) {
	stepUS := step.Microseconds()
	if stepUS <= 0 {
		return nil, fmt.Errorf("attempt series: step %s is not positive", step)
	}
	from := Micros(since)
	rows, err := tx.query("SELECT (created_at - ?) / ? AS bucket, COUNT(*), SUM("+failedAttempt+") FROM attempts "+
		"WHERE account_id = ? AND created_at >= ? AND created_at < ? GROUP BY bucket ORDER BY bucket",
		from, stepUS, accountID, from, Micros(until))
	if err != nil {
		return nil, fmt.Errorf("attempt series: %w", err)
	}
	bs, err := collect(rows, func(s scanner) (agenthooks.AttemptBucket, error) {
		var b agenthooks.AttemptBucket
		var n int64
		err := s.Scan(&n, &b.Attempts, &b.Failed)
		b.Start = FromMicros(from + n*stepUS)
		return b, err
	})
	if err != nil {
		return nil, fmt.Errorf("attempt series: %w", err)
	}
	return bs, nil
}

// WebhookAttemptStats sums up each webhook's attempts since since.
func (tx *Tx) WebhookAttemptStats(accountID string, since time.Time) ([]agenthooks.WebhookStats, error) {
	rows, err := tx.query(`SELECT d.webhook_id, COUNT(*), SUM(CASE WHEN a.status_code >= 200 AND a.status_code < 300 THEN 1 ELSE 0 END), MAX(a.id)
		FROM attempts a JOIN deliveries d ON d.id = a.delivery_id
		WHERE a.account_id = ? AND a.created_at >= ? GROUP BY d.webhook_id`, accountID, Micros(since))
	if err != nil {
		return nil, fmt.Errorf("webhook attempt stats: %w", err)
	}
	type row struct {
		s    agenthooks.WebhookStats
		last string
	}
	rs, err := collect(rows, func(s scanner) (row, error) {
		var r row
		err := s.Scan(&r.s.WebhookID, &r.s.Attempts, &r.s.Succeeded, &r.last)
		return r, err
	})
	if err != nil {
		return nil, fmt.Errorf("webhook attempt stats: %w", err)
	}
	out := make([]agenthooks.WebhookStats, 0, len(rs))
	for _, r := range rs {
		var created int64
		if err := tx.queryRow("SELECT created_at, status_code, error FROM attempts WHERE id = ?", r.last).Scan(&created, &r.s.LastStatus, &r.s.LastError); err != nil {
			return nil, fmt.Errorf("webhook last attempt: %w", err)
		}
		r.s.LastAttemptAt = FromMicros(created)
		out = append(out, r.s)
	}
	return out, nil
}

// DeliveryBacklog counts the account's pending deliveries (deliveries_due index);
// a delivery held back unattempted counts as due since it first fell due.
func (tx *Tx) DeliveryBacklog(accountID string, now time.Time) (agenthooks.Backlog, error) {
	var b agenthooks.Backlog
	var due, oldest int64
	n := Micros(now)
	// A delivery held back unattempted is due from when it first fell due
	// (first_due_at), wherever its next_attempt_at was moved.
	err := tx.queryRow(`SELECT COUNT(*), COALESCE(SUM(CASE WHEN next_attempt_at <= ? OR (claimed = 0 AND first_due_at > 0) THEN 1 ELSE 0 END), 0),
		COALESCE(MIN(CASE WHEN claimed = 0 AND first_due_at > 0 THEN first_due_at WHEN next_attempt_at <= ? THEN next_attempt_at END), 0)
		FROM deliveries WHERE status = 'pending' AND account_id = ?`, n, n, accountID).Scan(&b.Pending, &due, &oldest)
	if err != nil {
		return b, fmt.Errorf("delivery backlog: %w", err)
	}
	b.Due, b.OldestDue = int(due), FromMicros(oldest)
	return b, nil
}

// CountDeliveriesByStatus counts the account's deliveries made in [since,
// until) by status (deliveries_account_created index).
func (tx *Tx) CountDeliveriesByStatus(accountID string, since, until time.Time) (map[string]int, error) {
	rows, err := tx.query("SELECT status, COUNT(*) FROM deliveries WHERE account_id = ? AND created_at >= ? AND created_at < ? GROUP BY status",
		accountID, Micros(since), Micros(until))
	if err != nil {
		return nil, fmt.Errorf("count deliveries by status: %w", err)
	}
	type row struct {
		status string
		n      int
	}
	rs, err := collect(rows, func(s scanner) (row, error) {
		var r row
		err := s.Scan(&r.status, &r.n)
		return r, err
	})
	if err != nil {
		return nil, fmt.Errorf("count deliveries by status: %w", err)
	}
	m := make(map[string]int, len(rs))
	for _, r := range rs {
		m[r.status] = r.n
	}
	return m, nil
}

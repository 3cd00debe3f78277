package sqlstore

import "fmt"

// AddEventsFiltered counts n events the webhook's filter dropped
// (Dialect.EventsFilteredSQL).
func (tx *Tx) AddEventsFiltered(webhookID string, n int) error {
	if n == 0 {
		return nil
	}
	q := tx.d.EventsFilteredSQL
	if q == "" {
		q = "UPDATE webhooks SET events_filtered = events_filtered + ? WHERE id = ?"
	}
	if _, err := tx.exec(q, n, webhookID); err != nil {
		return fmt.Errorf("count filtered events: %w", err)
	}
	return nil
}

// EventsFiltered returns the filtered-event counts of the account's webhooks
// among ids: the column plus the deltas not folded into it yet, in one
// statement (one snapshot, so a fold is seen whole or not at all).
func (tx *Tx) EventsFiltered(accountID string, ids []string) (map[string]int64, error) {
	out := map[string]int64{}
	if len(ids) == 0 {
		return out, nil
	}
	args := []any{accountID}
	for _, id := range ids {
		args = append(args, id)
	}
	rows, err := tx.query(`SELECT w.id, w.events_filtered + COALESCE((SELECT SUM(d.n) FROM webhook_filtered_deltas d WHERE d.webhook_id = w.id), 0)
		FROM webhooks w WHERE w.account_id = ? AND w.id IN (`+placeholders(len(ids))+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("read filtered counts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var n int64
		if err := rows.Scan(&id, &n); err != nil {
			return nil, fmt.Errorf("read filtered counts: %w", err)
		}
		if n != 0 {
			out[id] = n
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read filtered counts: %w", err)
	}
	return out, nil
}

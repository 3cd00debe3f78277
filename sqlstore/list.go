package sqlstore

import (
	"fmt"
	"slices"

	"github.com/agenthooks/agenthooks"
)

// ListEventIDs returns the ids of one page of the account's events, newest
// first, and the total.
func (tx *Tx) ListEventIDs(accountID string, f agenthooks.EventFilter, p agenthooks.Page) ([]string, int, error) {
	where, args := "account_id = ?", []any{accountID}
	if f.Type != "" {
		where, args = where+" AND type = ?", append(args, f.Type)
	}
	return listPage(tx, "event ids", "id", "events", where, args, "id DESC", p, func(s scanner) (string, error) {
		var id string
		err := s.Scan(&id)
		return id, err
	})
}

// FindEventsByID returns the account's events among ids.
func (tx *Tx) FindEventsByID(accountID string, ids []string) ([]*agenthooks.Event, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	args := []any{accountID}
	for _, id := range ids {
		args = append(args, id)
	}
	rows, err := tx.query("SELECT "+eventCols+" FROM events WHERE account_id = ? AND id IN ("+placeholders(len(ids))+")", args...)
	if err != nil {
		return nil, fmt.Errorf("find events: %w", err)
	}
	events, err := collect(rows, scanEvent)
	if err != nil {
		return nil, fmt.Errorf("find events: %w", err)
	}
	return events, nil
}

// ListRecentAttempts returns the delivery's last limit attempts, oldest first.
func (tx *Tx) ListRecentAttempts(deliveryID string, limit int) ([]*agenthooks.Attempt, error) {
	rows, err := tx.query("SELECT "+attemptCols+" FROM attempts WHERE delivery_id = ? ORDER BY id DESC LIMIT ?", deliveryID, limit)
	if err != nil {
		return nil, fmt.Errorf("list recent attempts: %w", err)
	}
	as, err := collect(rows, scanAttempt)
	if err != nil {
		return nil, fmt.Errorf("list recent attempts: %w", err)
	}
	slices.Reverse(as)
	return as, nil
}

// LatestAttempts returns the latest attempt of each of the account's
// deliveries among deliveryIDs (attempt ids grow with time, as ListAttempts
// orders them). One statement per call; the (delivery_id, id) index answers
// each MAX.
func (tx *Tx) LatestAttempts(accountID string, deliveryIDs []string) (map[string]*agenthooks.Attempt, error) {
	out := make(map[string]*agenthooks.Attempt, len(deliveryIDs))
	if len(deliveryIDs) == 0 {
		return out, nil
	}
	args := []any{accountID}
	for _, id := range deliveryIDs {
		args = append(args, id)
	}
	rows, err := tx.query("SELECT "+attemptCols+" FROM attempts WHERE account_id = ? AND id IN (SELECT MAX(id) FROM attempts WHERE delivery_id IN ("+
		placeholders(len(deliveryIDs))+") GROUP BY delivery_id)", args...)
	if err != nil {
		return nil, fmt.Errorf("latest attempts: %w", err)
	}
	as, err := collect(rows, scanAttempt)
	if err != nil {
		return nil, fmt.Errorf("latest attempts: %w", err)
	}
	for _, a := range as {
		out[a.DeliveryID] = a
	}
	return out, nil
}

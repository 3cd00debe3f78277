package sqlstore

import (
	"encoding/json"
	"fmt"
	"slices"

	"github.com/agenthooks/agenthooks"
)

const eventTypeCols = "account_id, name, description, data_schema, deprecated, created_at, updated_at"

func scanEventType(s scanner) (*agenthooks.OwnEventType, error) {
	var t agenthooks.OwnEventType
	var schema string
	var deprecated int
	var created, updated int64
	if err := s.Scan(&t.AccountID, &t.Name, &t.Description, &schema, &deprecated, &created, &updated); err != nil {
		return nil, err
	}
	if schema != "" {
		t.Schema = json.RawMessage(schema)
	}
	t.Deprecated, t.CreatedAt, t.UpdatedAt = deprecated != 0, FromMicros(created), FromMicros(updated)
	return &t, nil
}

// CreateEventType stores t; ECONFLICT when the account has a type of its
// name. ON CONFLICT (both engines) decides it in the one statement, so two
// concurrent creates cannot both pass a check and one fail on the key.
func (tx *Tx) CreateEventType(t *agenthooks.OwnEventType) error {
	res, err := tx.exec("INSERT INTO event_types ("+eventTypeCols+") VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (account_id, name) DO NOTHING",
		t.AccountID, t.Name, t.Description, string(t.Schema), b2i(t.Deprecated), Micros(t.CreatedAt), Micros(t.UpdatedAt))
	if err != nil {
		return fmt.Errorf("insert event type: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("rows affected: %w", err)
	}
	if n == 0 {
		return agenthooks.Errorf(agenthooks.ECONFLICT, "An event type named %s exists already.", t.Name)
	}
	return nil
}

// FindEventType returns the account's event type.
func (tx *Tx) FindEventType(accountID, name string) (*agenthooks.OwnEventType, error) {
	t, err := scanEventType(tx.queryRow("SELECT "+eventTypeCols+" FROM event_types WHERE account_id = ? AND name = ?"+tx.lock(), accountID, name))
	if err != nil {
		return nil, notFound(err, "event type")
	}
	return t, nil
}

// ListEventTypes returns the account's event types by name.
func (tx *Tx) ListEventTypes(accountID string) ([]*agenthooks.OwnEventType, error) {
	rows, err := tx.query("SELECT "+eventTypeCols+" FROM event_types WHERE account_id = ? ORDER BY name", accountID)
	if err != nil {
		return nil, fmt.Errorf("list event types: %w", err)
	}
	ts, err := collect(rows, scanEventType)
	if err != nil {
		return nil, fmt.Errorf("list event types: %w", err)
	}
	return ts, nil
}

// UpdateEventType writes t's mutable fields.
func (tx *Tx) UpdateEventType(t *agenthooks.OwnEventType) error {
	res, err := tx.exec("UPDATE event_types SET description = ?, data_schema = ?, deprecated = ?, updated_at = ? WHERE account_id = ? AND name = ?",
		t.Description, string(t.Schema), b2i(t.Deprecated), Micros(t.UpdatedAt), t.AccountID, t.Name)
	if err != nil {
		return fmt.Errorf("update event type: %w", err)
	}
	return checkAffected(res, "event type")
}

// DeleteEventType deletes the account's type and takes its name out of the
// events lists of the account's webhooks (agenthooks.Tx documents a list
// that named only it).
func (tx *Tx) DeleteEventType(accountID, name string) (int, error) {
	res, err := tx.exec("DELETE FROM event_types WHERE account_id = ? AND name = ?", accountID, name)
	if err != nil {
		return 0, fmt.Errorf("delete event type: %w", err)
	}
	if err := checkAffected(res, "event type"); err != nil {
		return 0, err
	}
	// Lists are JSON text: a LIKE on the quoted name finds the candidates
	// (disabled webhooks too), the decoded list decides.
	rows, err := tx.query("SELECT id, events FROM webhooks WHERE account_id = ? AND events LIKE ?"+tx.lock(), accountID, "%\""+name+"\"%")
	if err != nil {
		return 0, fmt.Errorf("find webhooks naming %s: %w", name, err)
	}
	type hook struct {
		id     string
		events []string
	}
	hooks, err := collect(rows, func(s scanner) (hook, error) {
		var h hook
		var events string
		if err := s.Scan(&h.id, &events); err != nil {
			return h, err
		}
		return h, json.Unmarshal([]byte(events), &h.events)
	})
	if err != nil {
		return 0, fmt.Errorf("find webhooks naming %s: %w", name, err)
	}
	changed := 0
	for _, h := range hooks {
		rest := slices.DeleteFunc(slices.Clone(h.events), func(e string) bool { return e == name })
		if len(rest) == len(h.events) || len(rest) == 0 {
			continue
		}
		if _, err := tx.exec("UPDATE webhooks SET events = ?, updated_at = ? WHERE id = ? AND account_id = ?", jsonList(rest), Micros(tx.now), h.id, accountID); err != nil {
			return 0, fmt.Errorf("update webhook %s events: %w", h.id, err)
		}
		changed++
	}
	return changed, nil
}

package sqlstore

import (
	"fmt"

	"github.com/agenthooks/agenthooks"
)

// The operations behind Insighto's own routes (in agenthooks.widgetTx,
// intentTx, contactTx, conversationTx and assistantTx, in widget.go,
// intent.go, contact.go, conversation.go and assistant.go at the
// repository's root).

// UpdateWidget writes the widget's mutable fields.
func (tx *Tx) UpdateWidget(w *agenthooks.Widget) error {
	res, err := tx.exec("UPDATE widgets SET assistant_id = ?, name = ?, widget_type = ? WHERE id = ? AND account_id = ?",
		w.AssistantID, w.Name, w.WidgetType, w.ID, w.AccountID)
	if err != nil {
		return fmt.Errorf("update widget: %w", err)
	}
	return checkAffected(res, "widget")
}

// DeleteWidget deletes the account's widget. Its conversations keep its id.
func (tx *Tx) DeleteWidget(accountID, id string) error {
	res, err := tx.exec("DELETE FROM widgets WHERE id = ? AND account_id = ?", id, accountID)
	if err != nil {
		return fmt.Errorf("delete widget: %w", err)
	}
	return checkAffected(res, "widget")
}

// DeleteIntent deletes the account's intent and every assistant's use of it.
// Captured intents keep its id.
func (tx *Tx) DeleteIntent(accountID, id string) error {
	res, err := tx.exec("DELETE FROM intents WHERE id = ? AND account_id = ?", id, accountID)
	if err != nil {
		return fmt.Errorf("delete intent: %w", err)
	}
	if err := checkAffected(res, "intent"); err != nil {
		return err
	}
	if _, err := tx.exec("DELETE FROM assistant_intents WHERE intent_id = ? AND account_id = ?", id, accountID); err != nil {
		return fmt.Errorf("delete intent's assistant links: %w", err)
	}
	return nil
}

// UpdateContact writes the contact's fields and match keys.
func (tx *Tx) UpdateContact(c *agenthooks.Contact) error {
	res, err := tx.exec("UPDATE contacts SET first_name = ?, last_name = ?, email = ?, phone_number = ?, email_key = ?, phone_key = ? WHERE id = ? AND account_id = ?",
		c.FirstName, c.LastName, c.Email, c.PhoneNumber, agenthooks.ContactEmailKey(c.Email), agenthooks.ContactPhoneKey(c.PhoneNumber), c.ID, c.AccountID)
	if err != nil {
		return fmt.Errorf("update contact: %w", err)
	}
	return checkAffected(res, "contact")
}

// MatchContact finds the account's oldest contact by email key, else by
// phone key. In a write transaction it first locks the account's row
// (PostgreSQL; SQLite has one writer), which serialises the account's
// upserts: a contact is found or created by one of them at a time.
func (tx *Tx) MatchContact(accountID, email, phone string) (*agenthooks.Contact, error) {
	if tx.write && tx.d.LockSuffix != "" {
		var id string
		if err := tx.queryRow("SELECT id FROM accounts WHERE id = ?"+tx.d.LockSuffix, accountID).Scan(&id); err != nil {
			return nil, notFound(err, "contact")
		}
	}
	// The literal "<> ''" terms let the engines use the partial indexes
	// contacts_email_key and contacts_phone_key (migration 004).
	if key := agenthooks.ContactEmailKey(email); key != "" {
		c, err := scanContact(tx.queryRow("SELECT "+contactCols+" FROM contacts WHERE account_id = ? AND email_key = ? AND email_key <> '' ORDER BY id LIMIT 1", accountID, key))
		if err == nil {
			return c, nil
		} else if !isNoRows(err) {
			return nil, fmt.Errorf("match contact by email: %w", err)
		}
	}
	if key := agenthooks.ContactPhoneKey(phone); key != "" {
		c, err := scanContact(tx.queryRow("SELECT "+contactCols+" FROM contacts WHERE account_id = ? AND phone_key = ? AND phone_key <> '' ORDER BY id LIMIT 1", accountID, key))
		if err == nil {
			return c, nil
		} else if !isNoRows(err) {
			return nil, fmt.Errorf("match contact by phone: %w", err)
		}
	}
	return nil, agenthooks.NotFound("contact")
}

// ListTranscript returns one page of the conversation's messages, oldest first.
func (tx *Tx) ListTranscript(accountID, conversationID string, p agenthooks.Page) ([]*agenthooks.Message, int, error) {
	return listPage(tx, "messages", messageCols, "messages", "conversation_id = ? AND account_id = ?", []any{conversationID, accountID}, "id", p, scanMessage)
}

// AddAssistantIntent links the intent to the assistant, once.
func (tx *Tx) AddAssistantIntent(accountID, assistantID, intentID string) error {
	_, err := tx.exec("INSERT INTO assistant_intents (account_id, assistant_id, intent_id, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (assistant_id, intent_id) DO NOTHING",
		accountID, assistantID, intentID, Micros(tx.now))
	if err != nil {
		return fmt.Errorf("add assistant intent: %w", err)
	}
	return nil
}

// RemoveAssistantIntent unlinks the intent from the assistant.
func (tx *Tx) RemoveAssistantIntent(accountID, assistantID, intentID string) error {
	res, err := tx.exec("DELETE FROM assistant_intents WHERE assistant_id = ? AND intent_id = ? AND account_id = ?", assistantID, intentID, accountID)
	if err != nil {
		return fmt.Errorf("remove assistant intent: %w", err)
	}
	return checkAffected(res, "assistant intent")
}

// AssistantIntentIDs returns the intents each assistant among assistantIDs
// uses, ordered by intent id (UUIDv7: creation order).
func (tx *Tx) AssistantIntentIDs(accountID string, assistantIDs []string) (map[string][]string, error) {
	out := map[string][]string{}
	if len(assistantIDs) == 0 {
		return out, nil
	}
	args := []any{accountID}
	for _, id := range assistantIDs {
		args = append(args, id)
	}
	rows, err := tx.query("SELECT assistant_id, intent_id FROM assistant_intents WHERE account_id = ? AND assistant_id IN ("+placeholders(len(assistantIDs))+") ORDER BY assistant_id, intent_id", args...)
	if err != nil {
		return nil, fmt.Errorf("list assistant intents: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var assistantID, intentID string
		if err := rows.Scan(&assistantID, &intentID); err != nil {
			return nil, fmt.Errorf("list assistant intents: %w", err)
		}
		out[assistantID] = append(out[assistantID], intentID)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list assistant intents: %w", err)
	}
	return out, nil
}

package sqlstore

import (
	"encoding/json"
	"fmt"

	"github.com/agenthooks/agenthooks"
)

// The operations behind Insighto's own routes (in agenthooks.widgetTx,
// intentTx, contactTx, conversationTx and assistantTx, in widget.go,
// intent.go, contact.go, conversation.go and assistant.go at the
// repository's root).

// UpdateWidget writes the widget's mutable fields.
func (tx *Tx) UpdateWidget(w *agenthooks.Widget) error {
	res, err := tx.exec("UPDATE widgets SET assistant_id = ?, name = ?, widget_type = ?, profile = ? WHERE id = ? AND account_id = ?",
		w.AssistantID, w.Name, w.WidgetType, marshal(w.Profile), w.ID, w.AccountID)
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
	res, err := tx.exec("UPDATE contacts SET first_name = ?, last_name = ?, email = ?, phone_number = ?, email_key = ?, phone_key = ?, profile = ? WHERE id = ? AND account_id = ?",
		c.FirstName, c.LastName, c.Email, c.PhoneNumber, agenthooks.ContactEmailKey(c.Email), agenthooks.ContactPhoneKey(c.PhoneNumber), marshal(c.Profile), c.ID, c.AccountID)
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

// readProfile decodes a profile column ('{}' when nothing was set).
func readProfile(s string, dst any) error {
	if s == "" || s == "{}" {
		return nil
	}
	return json.Unmarshal([]byte(s), dst)
}

// ContactActivity derives each contact's first and last conversation's
// assistant and widget (by creation), its last activity (last_seen) and its
// latest user message (last_sent), from the conversations started with its
// id; two indexed reads (conversations_contact, messages_conversation).
func (tx *Tx) ContactActivity(accountID string, ids []string) (map[string]agenthooks.ContactActivity, error) {
	out := map[string]agenthooks.ContactActivity{}
	if len(ids) == 0 {
		return out, nil
	}
	args := []any{accountID}
	for _, id := range ids {
		args = append(args, id)
	}
	in := placeholders(len(ids))
	rows, err := tx.query("SELECT contact_id, assistant_id, widget_id, last_activity_at FROM conversations WHERE account_id = ? AND contact_id IN ("+in+") AND contact_id <> '' ORDER BY contact_id, created_at, id", args...)
	if err != nil {
		return nil, fmt.Errorf("contact activity: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var contact, assistant, widget string
		var last int64
		if err := rows.Scan(&contact, &assistant, &widget, &last); err != nil {
			return nil, fmt.Errorf("contact activity: %w", err)
		}
		a, seen := out[contact]
		if !seen {
			a.FirstAssistantID, a.FirstWidgetID = assistant, widget
		}
		a.LastAssistantID, a.LastWidgetID = assistant, widget
		if t := FromMicros(last); t.After(a.LastSeen) {
			a.LastSeen = t
		}
		out[contact] = a
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("contact activity: %w", err)
	}
	rows.Close()
	sent, err := tx.query(`SELECT c.contact_id, MAX(m.created_at) FROM conversations c JOIN messages m ON m.conversation_id = c.id
		WHERE c.account_id = ? AND c.contact_id IN (`+in+`) AND c.contact_id <> '' AND m.sender_type = 'user' GROUP BY c.contact_id`, args...)
	if err != nil {
		return nil, fmt.Errorf("contact last sent: %w", err)
	}
	defer sent.Close()
	for sent.Next() {
		var contact string
		var at int64
		if err := sent.Scan(&contact, &at); err != nil {
			return nil, fmt.Errorf("contact last sent: %w", err)
		}
		a := out[contact]
		a.LastSent = FromMicros(at)
		out[contact] = a
	}
	if err := sent.Err(); err != nil {
		return nil, fmt.Errorf("contact last sent: %w", err)
	}
	return out, nil
}

// ConversationRows reads the names of each conversation's assistant, contact
// and widget and of the last intent it captured: one read per kind, of the
// page's ids only.
func (tx *Tx) ConversationRows(accountID string, cs []*agenthooks.Conversation) (map[string]agenthooks.ConversationRow, error) {
	out := make(map[string]agenthooks.ConversationRow, len(cs))
	if len(cs) == 0 {
		return out, nil
	}
	var assistants, widgets, contacts, convs []string
	for _, c := range cs {
		assistants, widgets, convs = append(assistants, c.AssistantID), append(widgets, c.WidgetID), append(convs, c.ID)
		if c.ContactID != "" {
			contacts = append(contacts, c.ContactID)
		}
	}
	names := map[string]string{}
	if err := tx.eachIn("SELECT id, name FROM assistants WHERE account_id = ? AND id IN (%s)", accountID, assistants, func(s scanner) error {
		var id, name string
		err := s.Scan(&id, &name)
		names[id] = name
		return err
	}); err != nil {
		return nil, fmt.Errorf("conversation rows' assistants: %w", err)
	}
	type contactName struct{ first, last string }
	people := map[string]contactName{}
	if err := tx.eachIn("SELECT id, first_name, last_name FROM contacts WHERE account_id = ? AND id IN (%s)", accountID, contacts, func(s scanner) error {
		var id string
		var n contactName
		err := s.Scan(&id, &n.first, &n.last)
		people[id] = n
		return err
	}); err != nil {
		return nil, fmt.Errorf("conversation rows' contacts: %w", err)
	}
	ws := map[string]*agenthooks.Widget{}
	if err := tx.eachIn("SELECT "+widgetCols+" FROM widgets WHERE account_id = ? AND id IN (%s)", accountID, widgets, func(s scanner) error {
		w, err := scanWidget(s)
		if err == nil {
			ws[w.ID] = w
		}
		return err
	}); err != nil {
		return nil, fmt.Errorf("conversation rows' widgets: %w", err)
	}
	intents := map[string]string{}
	// Ordered by captured intent id (UUIDv7: capture order): the last one wins.
	if err := tx.eachIn(`SELECT ci.conversation_id, i.name FROM captured_intents ci JOIN intents i ON i.id = ci.intent_id AND i.account_id = ci.account_id
		WHERE ci.account_id = ? AND ci.conversation_id IN (%s) ORDER BY ci.id`, accountID, convs, func(s scanner) error {
		var conv, name string
		err := s.Scan(&conv, &name)
		intents[conv] = name
		return err
	}); err != nil {
		return nil, fmt.Errorf("conversation rows' intents: %w", err)
	}
	for _, c := range cs {
		r := agenthooks.ConversationRow{AssistantName: names[c.AssistantID], IntentName: intents[c.ID]}
		if p, ok := people[c.ContactID]; ok {
			r.ContactFirstName, r.ContactLastName = p.first, p.last
		}
		if w := ws[c.WidgetID]; w != nil {
			r.WidgetType = w.WidgetType
			if w.Profile.WidgetProvider != nil {
				r.WidgetProvider = *w.Profile.WidgetProvider
			}
		}
		out[c.ID] = r
	}
	return out, nil
}

// eachIn runs query (its %s is the IN list) with the account and the
// distinct ids, calling each per row; no ids, no query.
func (tx *Tx) eachIn(query, accountID string, ids []string, each func(scanner) error) error {
	args := []any{accountID}
	seen := map[string]bool{}
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			args = append(args, id)
		}
	}
	if len(args) == 1 {
		return nil
	}
	rows, err := tx.query(fmt.Sprintf(query, placeholders(len(args)-1)), args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := each(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

package sqlstore

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/agenthooks/agenthooks"
)

// CreateAccount stores an account and its first API key hash, as a key
// named "default" (CreateAccountWithKey stores one with its name and prefix).
func (tx *Tx) CreateAccount(a *agenthooks.Account, keyHash string) error {
	return tx.CreateAccountWithKey(a, legacyKey(keyHash, a.CreatedAt))
}

func scanAccount(s scanner) (*agenthooks.Account, error) {
	var a agenthooks.Account
	var created int64
	if err := s.Scan(&a.ID, &a.Name, &created); err != nil {
		return nil, err
	}
	a.CreatedAt = FromMicros(created)
	return &a, nil
}

// FindAccountByKeyHash returns the account owning the API key hash.
func (tx *Tx) FindAccountByKeyHash(keyHash string) (*agenthooks.Account, error) {
	a, err := scanAccount(tx.queryRow("SELECT a.id, a.name, a.created_at FROM api_keys k JOIN accounts a ON a.id = k.account_id WHERE k.key_hash = ?", keyHash))
	if err != nil {
		return nil, notFound(err, "account")
	}
	return a, nil
}

// FindAccountByID returns the account.
func (tx *Tx) FindAccountByID(id string) (*agenthooks.Account, error) {
	a, err := scanAccount(tx.queryRow("SELECT id, name, created_at FROM accounts WHERE id = ?", id))
	if err != nil {
		return nil, notFound(err, "account")
	}
	return a, nil
}

// ReplaceAccountKey revokes every key of the account and stores keyHash, as
// a key named "default".
func (tx *Tx) ReplaceAccountKey(accountID, keyHash string) error {
	return tx.ReplaceAccountKeys(accountID, legacyKey(keyHash, tx.now))
}

// CountAccounts returns the number of accounts.
func (tx *Tx) CountAccounts() (int, error) {
	var n int
	if err := tx.queryRow("SELECT COUNT(*) FROM accounts").Scan(&n); err != nil {
		return 0, fmt.Errorf("count accounts: %w", err)
	}
	return n, nil
}

const webhookCols = "id, account_id, name, endpoint, enabled, disabled_reason, events, ordering, headers, rate_limit, secret, previous_secret, previous_secret_until, failing_since, created_at, updated_at, destination, destination_url" +
	", " + webhookTLSCols + // sqlstore/webhooktls.go
	", transformation" +
	", filter"

// scanWebhookRow reads a webhook row as stored; tx.scanWebhook also opens
// its secrets.
func scanWebhookRow(s scanner) (*agenthooks.Webhook, storedDestinationColumns, error) {
	var w agenthooks.Webhook
	var dest storedDestinationColumns
	var enabled int
	var events, headers string
	var prevUntil, failing, created, updated int64
	var rate *float64
	var t agenthooks.WebhookTLS
	var transformation, filter string
	if err := s.Scan(&w.ID, &w.AccountID, &w.Name, &w.Endpoint, &enabled, &w.DisabledReason, &events, &w.Ordering, &headers, &rate,
		&w.Secret, &w.PreviousSecret, &prevUntil, &failing, &created, &updated, &dest.settings, &dest.sealedURL,
		&t.ClientCertificate, &t.ClientKey, &t.CACertificates, &transformation, &filter); err != nil {
		return nil, dest, err
	}
	if filter != "" {
		w.Filter = []byte(filter)
	}
	if transformation != "" {
		w.Transformation = new(agenthooks.Transformation)
		if err := json.Unmarshal([]byte(transformation), w.Transformation); err != nil {
			return nil, dest, fmt.Errorf("webhook %s transformation: %w", w.ID, err)
		}
	}
	if !t.IsZero() {
		w.TLS = &t
	}
	w.Enabled = enabled == 1
	w.RateLimit = rate
	if err := unmarshalWebhookJSON(&w, events, headers); err != nil {
		return nil, dest, err
	}
	w.PreviousSecretUntil, w.FailingSince = FromMicros(prevUntil), FromMicros(failing)
	w.CreatedAt, w.UpdatedAt = FromMicros(created), FromMicros(updated)
	return &w, dest, nil
}

func unmarshalWebhookJSON(w *agenthooks.Webhook, events, headers string) error {
	// Webhooks are read on every API call that fires an event and every
	// claim: the common stored forms (what jsonList and jsonMap write for
	// event names and no headers) skip encoding/json, with the same result.
	if list, ok := simpleStringList(events); ok {
		w.Events = list
	} else if err := json.Unmarshal([]byte(events), &w.Events); err != nil {
		return fmt.Errorf("webhook %s events: %w", w.ID, err)
	}
	if headers == "{}" {
		w.Headers = map[string]string{}
	} else if err := json.Unmarshal([]byte(headers), &w.Headers); err != nil {
		return fmt.Errorf("webhook %s headers: %w", w.ID, err)
	}
	return nil
}

// simpleStringList parses a JSON array of strings written without spaces,
// escapes or non-ASCII characters (["a","b"]), as json.Unmarshal would; ok
// is false for anything else.
func simpleStringList(s string) ([]string, bool) {
	if len(s) < 2 || s[0] != '[' || s[len(s)-1] != ']' {
		return nil, false
	}
	body := s[1 : len(s)-1]
	if body == "" {
		return []string{}, true
	}
	list := make([]string, 0, strings.Count(body, ",")+1)
	for body != "" {
		if len(body) < 2 || body[0] != '"' {
			return nil, false
		}
		end := strings.IndexByte(body[1:], '"') + 1
		if end == 0 {
			return nil, false
		}
		item := body[1:end]
		for i := 0; i < len(item); i++ {
			if c := item[i]; c < 0x20 || c >= 0x7f || c == '\\' {
				return nil, false
			}
		}
		list = append(list, item)
		body = body[end+1:]
		if body == "" {
			break
		}
		if body[0] != ',' || len(body) == 1 {
			return nil, false
		}
		body = body[1:]
	}
	return list, true
}

func marshal(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		// Only domain values of known types reach here.
		panic(fmt.Sprintf("sqlstore: marshal %T: %v", v, err))
	}
	return string(b)
}

func jsonList(v []string) string {
	if v == nil {
		return "[]"
	}
	return marshal(v)
}

func jsonMap(v map[string]string) string {
	if v == nil {
		return "{}"
	}
	return marshal(v)
}

// CreateWebhook stores a webhook.
func (tx *Tx) CreateWebhook(w *agenthooks.Webhook) error {
	secret, previous, err := tx.sealSecrets(w)
	if err != nil {
		return err
	}
	dest, destURL, err := tx.destinationColumns(w)
	if err != nil {
		return err
	}
	cert, key, cas, err := tx.sealTLS(w)
	if err != nil {
		return err
	}
	_, err = tx.exec("INSERT INTO webhooks ("+webhookCols+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		w.ID, w.AccountID, w.Name, w.Endpoint, b2i(w.Enabled), w.DisabledReason, jsonList(w.Events), w.Ordering, jsonMap(w.Headers), w.RateLimit,
		secret, previous, Micros(w.PreviousSecretUntil), Micros(w.FailingSince), Micros(w.CreatedAt), Micros(w.UpdatedAt), dest, destURL,
		cert, key, cas, transformationColumn(w.Transformation), string(w.Filter))
	if err != nil {
		return fmt.Errorf("insert webhook: %w", err)
	}
	return nil
}

// FindWebhook returns the account's webhook.
func (tx *Tx) FindWebhook(accountID, id string) (*agenthooks.Webhook, error) {
	w, err := tx.scanWebhook(tx.queryRow("SELECT "+webhookCols+" FROM webhooks WHERE id = ? AND account_id = ?"+tx.lock(), id, accountID))
	if err != nil {
		return nil, notFound(err, "webhook")
	}
	return w, nil
}

// AssistantWebhook returns the webhook assigned to the assistant, or nil:
// one indexed join instead of reading the assistant and then its webhook,
// on every event's path. The whole webhook (secrets opened): a delivery
// handed to a worker of this process from the transaction that stores it
// is signed and sent with it.
func (tx *Tx) AssistantWebhook(accountID, assistantID string) (*agenthooks.Webhook, error) {
	w, err := tx.scanWebhook(tx.queryRow(`SELECT `+joinedWebhookCols+` FROM assistants a JOIN webhooks w ON w.id = a.webhook_id AND w.account_id = a.account_id
		WHERE a.id = ? AND a.account_id = ?`, assistantID, accountID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("find assistant webhook: %w", err)
	}
	return w, nil
}

// joinedWebhookCols are webhookCols named on the table alias w.
var joinedWebhookCols = "w." + strings.ReplaceAll(webhookCols, ", ", ", w.")

// FindWebhooksByID returns the account's webhooks among ids.
func (tx *Tx) FindWebhooksByID(accountID string, ids []string) ([]*agenthooks.Webhook, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	args := []any{accountID}
	for _, id := range ids {
		args = append(args, id)
	}
	rows, err := tx.query("SELECT "+webhookCols+" FROM webhooks WHERE account_id = ? AND id IN ("+placeholders(len(ids))+") ORDER BY id", args...)
	if err != nil {
		return nil, fmt.Errorf("find webhooks: %w", err)
	}
	return collect(rows, tx.scanWebhook)
}

// ListWebhooks returns one page of the account's webhooks, oldest first.
func (tx *Tx) ListWebhooks(accountID string, p agenthooks.Page) ([]*agenthooks.Webhook, int, error) {
	return listPage(tx, "webhooks", webhookCols, "webhooks", "account_id = ?", []any{accountID}, "id", p, tx.scanWebhook)
}

// UpdateWebhook writes every mutable field of w.
func (tx *Tx) UpdateWebhook(w *agenthooks.Webhook) error {
	secret, previous, err := tx.sealSecrets(w)
	if err != nil {
		return err
	}
	dest, destURL, err := tx.destinationColumns(w)
	if err != nil {
		return err
	}
	cert, key, cas, err := tx.sealTLS(w)
	if err != nil {
		return err
	}
	res, err := tx.exec(`UPDATE webhooks SET name = ?, endpoint = ?, enabled = ?, disabled_reason = ?, events = ?, ordering = ?, headers = ?, rate_limit = ?,
		secret = ?, previous_secret = ?, previous_secret_until = ?, failing_since = ?, updated_at = ?,
		destination = ?, destination_url = ?,
		tls_client_certificate = ?, tls_client_key = ?, tls_ca_certificates = ?, transformation = ?, filter = ? WHERE id = ? AND account_id = ?`,
		w.Name, w.Endpoint, b2i(w.Enabled), w.DisabledReason, jsonList(w.Events), w.Ordering, jsonMap(w.Headers), w.RateLimit,
		secret, previous, Micros(w.PreviousSecretUntil), Micros(w.FailingSince), Micros(w.UpdatedAt), dest, destURL,
		cert, key, cas, transformationColumn(w.Transformation), string(w.Filter), w.ID, w.AccountID)
	if err != nil {
		return fmt.Errorf("update webhook: %w", err)
	}
	return checkAffected(res, "webhook")
}

// transformationColumn is the stored form of a transformation: its JSON,
// or ” for none (migration transformations).
func transformationColumn(t *agenthooks.Transformation) string {
	if t == nil {
		return ""
	}
	return marshal(t)
}

// DeleteWebhook deletes the account's webhook.
func (tx *Tx) DeleteWebhook(accountID, id string) error {
	res, err := tx.exec("DELETE FROM webhooks WHERE id = ? AND account_id = ?", id, accountID)
	if err != nil {
		return fmt.Errorf("delete webhook: %w", err)
	}
	return checkAffected(res, "webhook")
}

// UnassignWebhook clears the webhook from the account's assistants and forms.
func (tx *Tx) UnassignWebhook(accountID, webhookID string) error {
	if _, err := tx.exec("UPDATE assistants SET webhook_id = '', updated_at = ? WHERE account_id = ? AND webhook_id = ?", Micros(tx.now), accountID, webhookID); err != nil {
		return fmt.Errorf("unassign webhook from assistants: %w", err)
	}
	if _, err := tx.exec("UPDATE forms SET webhook_id = '', updated_at = ? WHERE account_id = ? AND webhook_id = ?", Micros(tx.now), accountID, webhookID); err != nil {
		return fmt.Errorf("unassign webhook from forms: %w", err)
	}
	return nil
}

const assistantCols = "id, account_id, name, assistant_type, webhook_id, description, llm_model, system_prompt, voice, voice_languages, attributes, created_at, updated_at, voice_enabled, profile"

func scanAssistant(s scanner) (*agenthooks.Assistant, error) {
	var a agenthooks.Assistant
	var languages, attrs, profile string
	var created, updated int64
	var voice int
	if err := s.Scan(&a.ID, &a.AccountID, &a.Name, &a.AssistantType, &a.WebhookID, &a.Description, &a.LLMModel, &a.SystemPrompt, &a.VoiceName,
		&languages, &attrs, &created, &updated, &voice, &profile); err != nil {
		return nil, err
	}
	a.Voice = voice == 1
	if err := readProfile(profile, &a.Profile); err != nil {
		return nil, fmt.Errorf("assistant %s profile: %w", a.ID, err)
	}
	if list, ok := simpleStringList(languages); ok {
		a.VoiceLanguages = list
	} else if err := json.Unmarshal([]byte(languages), &a.VoiceLanguages); err != nil {
		return nil, fmt.Errorf("assistant %s voice languages: %w", a.ID, err)
	}
	a.Attributes = json.RawMessage(attrs)
	a.CreatedAt, a.UpdatedAt = FromMicros(created), FromMicros(updated)
	return &a, nil
}

// CreateAssistant stores an assistant.
func (tx *Tx) CreateAssistant(a *agenthooks.Assistant) error {
	_, err := tx.exec("INSERT INTO assistants ("+assistantCols+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		a.ID, a.AccountID, a.Name, a.AssistantType, a.WebhookID, a.Description, a.LLMModel, a.SystemPrompt, a.VoiceName,
		jsonList(a.VoiceLanguages), rawObject(a.Attributes), Micros(a.CreatedAt), Micros(a.UpdatedAt), b2i(a.Voice), marshal(a.Profile))
	if err != nil {
		return fmt.Errorf("insert assistant: %w", err)
	}
	return nil
}

// FindAssistant returns the account's assistant (without IntentIDs).
func (tx *Tx) FindAssistant(accountID, id string) (*agenthooks.Assistant, error) {
	a, err := scanAssistant(tx.queryRow("SELECT "+assistantCols+" FROM assistants WHERE id = ? AND account_id = ?", id, accountID))
	if err != nil {
		return nil, notFound(err, "assistant")
	}
	return a, nil
}

// ListAssistants returns one page of the account's assistants (without IntentIDs).
func (tx *Tx) ListAssistants(accountID string, p agenthooks.Page) ([]*agenthooks.Assistant, int, error) {
	return listPage(tx, "assistants", assistantCols, "assistants", "account_id = ?", []any{accountID}, "id", p, scanAssistant)
}

// UpdateAssistant writes the assistant's mutable fields.
func (tx *Tx) UpdateAssistant(a *agenthooks.Assistant) error {
	res, err := tx.exec(`UPDATE assistants SET name = ?, assistant_type = ?, webhook_id = ?, description = ?, llm_model = ?, system_prompt = ?, voice = ?,
		voice_languages = ?, attributes = ?, updated_at = ?, voice_enabled = ?, profile = ? WHERE id = ? AND account_id = ?`,
		a.Name, a.AssistantType, a.WebhookID, a.Description, a.LLMModel, a.SystemPrompt, a.VoiceName,
		jsonList(a.VoiceLanguages), rawObject(a.Attributes), Micros(a.UpdatedAt), b2i(a.Voice), marshal(a.Profile), a.ID, a.AccountID)
	if err != nil {
		return fmt.Errorf("update assistant: %w", err)
	}
	return checkAffected(res, "assistant")
}

// DeleteAssistant deletes the account's assistant and its use of intents.
func (tx *Tx) DeleteAssistant(accountID, id string) error {
	res, err := tx.exec("DELETE FROM assistants WHERE id = ? AND account_id = ?", id, accountID)
	if err != nil {
		return fmt.Errorf("delete assistant: %w", err)
	}
	if err := checkAffected(res, "assistant"); err != nil {
		return err
	}
	if _, err := tx.exec("DELETE FROM assistant_intents WHERE assistant_id = ? AND account_id = ?", id, accountID); err != nil {
		return fmt.Errorf("delete assistant intents: %w", err)
	}
	return nil
}

const widgetCols = "id, account_id, assistant_id, name, widget_type, created_at, profile"

func scanWidget(s scanner) (*agenthooks.Widget, error) {
	var w agenthooks.Widget
	var created int64
	var profile string
	if err := s.Scan(&w.ID, &w.AccountID, &w.AssistantID, &w.Name, &w.WidgetType, &created, &profile); err != nil {
		return nil, err
	}
	if err := readProfile(profile, &w.Profile); err != nil {
		return nil, fmt.Errorf("widget %s profile: %w", w.ID, err)
	}
	w.CreatedAt = FromMicros(created)
	return &w, nil
}

// CreateWidget stores a widget.
func (tx *Tx) CreateWidget(w *agenthooks.Widget) error {
	_, err := tx.exec("INSERT INTO widgets ("+widgetCols+") VALUES (?, ?, ?, ?, ?, ?, ?)", w.ID, w.AccountID, w.AssistantID, w.Name, w.WidgetType, Micros(w.CreatedAt),
		marshal(w.Profile))
	if err != nil {
		return fmt.Errorf("insert widget: %w", err)
	}
	return nil
}

// FindWidget returns the account's widget.
func (tx *Tx) FindWidget(accountID, id string) (*agenthooks.Widget, error) {
	w, err := scanWidget(tx.queryRow("SELECT "+widgetCols+" FROM widgets WHERE id = ? AND account_id = ?", id, accountID))
	if err != nil {
		return nil, notFound(err, "widget")
	}
	return w, nil
}

// ListWidgets returns one page of the account's widgets.
func (tx *Tx) ListWidgets(accountID string, p agenthooks.Page) ([]*agenthooks.Widget, int, error) {
	return listPage(tx, "widgets", widgetCols, "widgets", "account_id = ?", []any{accountID}, "id", p, scanWidget)
}

const formCols = "id, account_id, name, fields, webhook_id, created_at, updated_at"

func scanForm(s scanner) (*agenthooks.Form, error) {
	var f agenthooks.Form
	var fields string
	var created, updated int64
	if err := s.Scan(&f.ID, &f.AccountID, &f.Name, &fields, &f.WebhookID, &created, &updated); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(fields), &f.Fields); err != nil {
		return nil, fmt.Errorf("form %s fields: %w", f.ID, err)
	}
	f.CreatedAt, f.UpdatedAt = FromMicros(created), FromMicros(updated)
	return &f, nil
}

func formFields(f []agenthooks.FormField) string {
	if f == nil {
		return "[]"
	}
	return marshal(f)
}

// CreateForm stores a form.
func (tx *Tx) CreateForm(f *agenthooks.Form) error {
	_, err := tx.exec("INSERT INTO forms ("+formCols+") VALUES (?, ?, ?, ?, ?, ?, ?)", f.ID, f.AccountID, f.Name, formFields(f.Fields), f.WebhookID, Micros(f.CreatedAt), Micros(f.UpdatedAt))
	if err != nil {
		return fmt.Errorf("insert form: %w", err)
	}
	return nil
}

// FindForm returns the account's form.
func (tx *Tx) FindForm(accountID, id string) (*agenthooks.Form, error) {
	f, err := scanForm(tx.queryRow("SELECT "+formCols+" FROM forms WHERE id = ? AND account_id = ?", id, accountID))
	if err != nil {
		return nil, notFound(err, "form")
	}
	return f, nil
}

// ListForms returns one page of the account's forms.
func (tx *Tx) ListForms(accountID string, p agenthooks.Page) ([]*agenthooks.Form, int, error) {
	return listPage(tx, "forms", formCols, "forms", "account_id = ?", []any{accountID}, "id", p, scanForm)
}

// UpdateForm writes the form's mutable fields.
func (tx *Tx) UpdateForm(f *agenthooks.Form) error {
	res, err := tx.exec("UPDATE forms SET name = ?, fields = ?, webhook_id = ?, updated_at = ? WHERE id = ? AND account_id = ?",
		f.Name, formFields(f.Fields), f.WebhookID, Micros(f.UpdatedAt), f.ID, f.AccountID)
	if err != nil {
		return fmt.Errorf("update form: %w", err)
	}
	return checkAffected(res, "form")
}

const intentCols = "id, account_id, name, description, created_at, profile"

func scanIntent(s scanner) (*agenthooks.Intent, error) {
	var i agenthooks.Intent
	var created int64
	var profile string
	if err := s.Scan(&i.ID, &i.AccountID, &i.Name, &i.Description, &created, &profile); err != nil {
		return nil, err
	}
	if err := readProfile(profile, &i.Profile); err != nil {
		return nil, fmt.Errorf("intent %s profile: %w", i.ID, err)
	}
	i.CreatedAt = FromMicros(created)
	return &i, nil
}

// CreateIntent stores an intent.
func (tx *Tx) CreateIntent(i *agenthooks.Intent) error {
	if _, err := tx.exec("INSERT INTO intents ("+intentCols+") VALUES (?, ?, ?, ?, ?, ?)", i.ID, i.AccountID, i.Name, i.Description, Micros(i.CreatedAt), marshal(i.Profile)); err != nil {
		return fmt.Errorf("insert intent: %w", err)
	}
	return nil
}

// FindIntent returns the account's intent.
func (tx *Tx) FindIntent(accountID, id string) (*agenthooks.Intent, error) {
	i, err := scanIntent(tx.queryRow("SELECT "+intentCols+" FROM intents WHERE id = ? AND account_id = ?", id, accountID))
	if err != nil {
		return nil, notFound(err, "intent")
	}
	return i, nil
}

// ListIntents returns one page of the account's intents.
func (tx *Tx) ListIntents(accountID string, p agenthooks.Page) ([]*agenthooks.Intent, int, error) {
	return listPage(tx, "intents", intentCols, "intents", "account_id = ?", []any{accountID}, "id", p, scanIntent)
}

const contactCols = "id, account_id, first_name, last_name, email, phone_number, created_at, profile"

func scanContact(s scanner) (*agenthooks.Contact, error) {
	var c agenthooks.Contact
	var created int64
	var profile string
	if err := s.Scan(&c.ID, &c.AccountID, &c.FirstName, &c.LastName, &c.Email, &c.PhoneNumber, &created, &profile); err != nil {
		return nil, err
	}
	if err := readProfile(profile, &c.Profile); err != nil {
		return nil, fmt.Errorf("contact %s profile: %w", c.ID, err)
	}
	c.CreatedAt = FromMicros(created)
	return &c, nil
}

// CreateContact stores a contact with its match keys (agenthooks.ContactEmailKey, ContactPhoneKey).
func (tx *Tx) CreateContact(c *agenthooks.Contact) error {
	_, err := tx.exec("INSERT INTO contacts ("+contactCols+", email_key, phone_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		c.ID, c.AccountID, c.FirstName, c.LastName, c.Email, c.PhoneNumber, Micros(c.CreatedAt), marshal(c.Profile),
		agenthooks.ContactEmailKey(c.Email), agenthooks.ContactPhoneKey(c.PhoneNumber))
	if err != nil {
		return fmt.Errorf("insert contact: %w", err)
	}
	return nil
}

// FindContact returns the account's contact.
func (tx *Tx) FindContact(accountID, id string) (*agenthooks.Contact, error) {
	c, err := scanContact(tx.queryRow("SELECT "+contactCols+" FROM contacts WHERE id = ? AND account_id = ?", id, accountID))
	if err != nil {
		return nil, notFound(err, "contact")
	}
	return c, nil
}

// ListContacts returns one page of the account's contacts.
func (tx *Tx) ListContacts(accountID string, p agenthooks.Page) ([]*agenthooks.Contact, int, error) {
	return listPage(tx, "contacts", contactCols, "contacts", "account_id = ?", []any{accountID}, "id", p, scanContact)
}

const conversationCols = "id, account_id, assistant_id, widget_id, contact_id, device_type, attributes, chat_count, first_message, closed, closed_at, last_activity_at, created_at, updated_at, unique_device_id, includes_voice, summary"

func scanConversation(s scanner) (*agenthooks.Conversation, error) {
	var c agenthooks.Conversation
	var attrs string
	var closed, voice int
	var closedAt, last, created, updated int64
	if err := s.Scan(&c.ID, &c.AccountID, &c.AssistantID, &c.WidgetID, &c.ContactID, &c.DeviceType, &attrs, &c.ChatCount, &c.FirstMessage,
		&closed, &closedAt, &last, &created, &updated, &c.UniqueDeviceID, &voice, &c.Summary); err != nil {
		return nil, err
	}
	c.IncludesVoice = voice == 1
	c.Attributes = json.RawMessage(attrs)
	c.Closed = closed == 1
	c.ClosedAt, c.LastActivityAt = FromMicros(closedAt), FromMicros(last)
	c.CreatedAt, c.UpdatedAt = FromMicros(created), FromMicros(updated)
	return &c, nil
}

func rawObject(r json.RawMessage) string {
	if len(r) == 0 {
		return "{}"
	}
	return string(r)
}

// CreateConversation stores a conversation.
func (tx *Tx) CreateConversation(c *agenthooks.Conversation) error {
	_, err := tx.exec("INSERT INTO conversations ("+conversationCols+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		c.ID, c.AccountID, c.AssistantID, c.WidgetID, c.ContactID, c.DeviceType, rawObject(c.Attributes), c.ChatCount, c.FirstMessage,
		b2i(c.Closed), Micros(c.ClosedAt), Micros(c.LastActivityAt), Micros(c.CreatedAt), Micros(c.UpdatedAt),
		c.UniqueDeviceID, b2i(c.IncludesVoice), c.Summary)
	if err != nil {
		return fmt.Errorf("insert conversation: %w", err)
	}
	return nil
}

// FindConversation returns the account's conversation (locked in a write transaction).
func (tx *Tx) FindConversation(accountID, id string) (*agenthooks.Conversation, error) {
	c, err := scanConversation(tx.queryRow("SELECT "+conversationCols+" FROM conversations WHERE id = ? AND account_id = ?"+tx.lock(), id, accountID))
	if err != nil {
		return nil, notFound(err, "conversation")
	}
	return c, nil
}

// ListConversations returns one page of the account's conversations, newest first.
func (tx *Tx) ListConversations(accountID string, f agenthooks.ConversationFilter, p agenthooks.Page) ([]*agenthooks.Conversation, int, error) {
	where, args := "account_id = ?", []any{accountID}
	if f.AssistantID != "" {
		where, args = where+" AND assistant_id = ?", append(args, f.AssistantID)
	}
	if f.ContactID != "" {
		// The literal term lets the engines use the partial index
		// conversations_contact (migration 004).
		where, args = where+" AND contact_id = ? AND contact_id <> ''", append(args, f.ContactID)
	}
	if f.IntentID != "" {
		// Uses the index captured_intents_intent (migration insighto_fields).
		where, args = where+" AND id IN (SELECT conversation_id FROM captured_intents WHERE account_id = ? AND intent_id = ?)", append(args, accountID, f.IntentID)
	}
	if f.Voice != nil {
		where, args = where+" AND includes_voice = ?", append(args, b2i(*f.Voice))
	}
	if !f.From.IsZero() {
		where, args = where+" AND created_at >= ?", append(args, Micros(f.From))
	}
	if !f.To.IsZero() {
		where, args = where+" AND created_at <= ?", append(args, Micros(f.To))
	}
	return listPage(tx, "conversations", conversationCols, "conversations", where, args, "created_at DESC, id DESC", p, scanConversation)
}

// UpdateConversation writes the conversation's mutable fields.
func (tx *Tx) UpdateConversation(c *agenthooks.Conversation) error {
	res, err := tx.exec(`UPDATE conversations SET contact_id = ?, attributes = ?, chat_count = ?, first_message = ?, closed = ?, closed_at = ?,
		last_activity_at = ?, updated_at = ?, unique_device_id = ?, includes_voice = ?, summary = ? WHERE id = ? AND account_id = ?`,
		c.ContactID, rawObject(c.Attributes), c.ChatCount, c.FirstMessage, b2i(c.Closed), Micros(c.ClosedAt), Micros(c.LastActivityAt), Micros(c.UpdatedAt),
		c.UniqueDeviceID, b2i(c.IncludesVoice), c.Summary, c.ID, c.AccountID)
	if err != nil {
		return fmt.Errorf("update conversation: %w", err)
	}
	return checkAffected(res, "conversation")
}

// CloseConversation closes an open conversation in one statement
// (UPDATE ... RETURNING); only when nothing was updated does it read the row
// to tell a missing conversation from a closed one.
func (tx *Tx) CloseConversation(accountID, id string, now time.Time) (*agenthooks.Conversation, error) {
	at := Micros(now)
	c, err := scanConversation(tx.queryRow("UPDATE conversations SET closed = 1, closed_at = ?, updated_at = ? WHERE id = ? AND account_id = ? AND closed = 0 RETURNING "+conversationCols,
		at, at, id, accountID))
	if err == nil {
		return c, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("close conversation: %w", err)
	}
	if _, err := tx.FindConversation(accountID, id); err != nil {
		return nil, err
	}
	return nil, agenthooks.Errorf(agenthooks.ECONFLICT, "Conversation is closed.")
}

// FindIdleConversations returns open conversations idle since before.
func (tx *Tx) FindIdleConversations(before time.Time, limit int) ([]*agenthooks.Conversation, error) {
	rows, err := tx.query("SELECT "+conversationCols+" FROM conversations WHERE closed = 0 AND last_activity_at < ? ORDER BY last_activity_at LIMIT ?", Micros(before), limit)
	if err != nil {
		return nil, fmt.Errorf("find idle conversations: %w", err)
	}
	return collect(rows, scanConversation)
}

const messageCols = "id, account_id, conversation_id, sender_type, message_type, text, created_at"

func scanMessage(s scanner) (*agenthooks.Message, error) {
	var m agenthooks.Message
	var created int64
	if err := s.Scan(&m.ID, &m.AccountID, &m.ConversationID, &m.SenderType, &m.MessageType, &m.Text, &created); err != nil {
		return nil, err
	}
	m.CreatedAt = FromMicros(created)
	return &m, nil
}

// CreateMessage stores a message.
func (tx *Tx) CreateMessage(m *agenthooks.Message) error {
	_, err := tx.exec("INSERT INTO messages ("+messageCols+") VALUES (?, ?, ?, ?, ?, ?, ?)", m.ID, m.AccountID, m.ConversationID, m.SenderType, m.MessageType, m.Text, Micros(m.CreatedAt))
	if err != nil {
		return fmt.Errorf("insert message: %w", err)
	}
	return nil
}

// ListMessages returns the conversation's last limit messages, oldest first.
func (tx *Tx) ListMessages(accountID, conversationID string, limit int) ([]*agenthooks.Message, error) {
	rows, err := tx.query("SELECT "+messageCols+" FROM messages WHERE conversation_id = ? AND account_id = ? ORDER BY id DESC LIMIT ?", conversationID, accountID, limit)
	if err != nil {
		return nil, fmt.Errorf("list messages: %w", err)
	}
	ms, err := collect(rows, scanMessage)
	if err != nil {
		return nil, fmt.Errorf("list messages: %w", err)
	}
	for i, j := 0, len(ms)-1; i < j; i, j = i+1, j-1 {
		ms[i], ms[j] = ms[j], ms[i]
	}
	return ms, nil
}

const capturedFormCols = "id, account_id, conversation_id, form_id, field_values, created_at, updated_at"

func scanCapturedForm(s scanner) (*agenthooks.CapturedForm, error) {
	var c agenthooks.CapturedForm
	var values string
	var created, updated int64
	if err := s.Scan(&c.ID, &c.AccountID, &c.ConversationID, &c.FormID, &values, &created, &updated); err != nil {
		return nil, err
	}
	dec := json.NewDecoder(strings.NewReader(values))
	dec.UseNumber() // keep numbers as sent, digit for digit
	if err := dec.Decode(&c.FieldValues); err != nil {
		return nil, fmt.Errorf("captured form %s values: %w", c.ID, err)
	}
	c.CreatedAt, c.UpdatedAt = FromMicros(created), FromMicros(updated)
	return &c, nil
}

func fieldValues(v map[string]any) string {
	if v == nil {
		return "{}"
	}
	return marshal(v)
}

// CreateCapturedForm stores a captured form.
func (tx *Tx) CreateCapturedForm(c *agenthooks.CapturedForm) error {
	_, err := tx.exec("INSERT INTO captured_forms ("+capturedFormCols+") VALUES (?, ?, ?, ?, ?, ?, ?)",
		c.ID, c.AccountID, c.ConversationID, c.FormID, fieldValues(c.FieldValues), Micros(c.CreatedAt), Micros(c.UpdatedAt))
	if err != nil {
		return fmt.Errorf("insert captured form: %w", err)
	}
	return nil
}

// FindCapturedForm returns the account's captured form (locked in a write transaction).
func (tx *Tx) FindCapturedForm(accountID, id string) (*agenthooks.CapturedForm, error) {
	c, err := scanCapturedForm(tx.queryRow("SELECT "+capturedFormCols+" FROM captured_forms WHERE id = ? AND account_id = ?"+tx.lock(), id, accountID))
	if err != nil {
		return nil, notFound(err, "captured form")
	}
	return c, nil
}

// UpdateCapturedForm writes the captured form's values.
func (tx *Tx) UpdateCapturedForm(c *agenthooks.CapturedForm) error {
	res, err := tx.exec("UPDATE captured_forms SET field_values = ?, updated_at = ? WHERE id = ? AND account_id = ?", fieldValues(c.FieldValues), Micros(c.UpdatedAt), c.ID, c.AccountID)
	if err != nil {
		return fmt.Errorf("update captured form: %w", err)
	}
	return checkAffected(res, "captured form")
}

// CreateCapturedIntent stores a captured intent.
func (tx *Tx) CreateCapturedIntent(c *agenthooks.CapturedIntent) error {
	_, err := tx.exec("INSERT INTO captured_intents (id, account_id, conversation_id, intent_id, created_at) VALUES (?, ?, ?, ?, ?)",
		c.ID, c.AccountID, c.ConversationID, c.IntentID, Micros(c.CreatedAt))
	if err != nil {
		return fmt.Errorf("insert captured intent: %w", err)
	}
	return nil
}

const eventCols = "id, account_id, type, conversation_id, payload, created_at"

// eventSummaryCols is eventCols with an empty payload (EventQuery.Summary).
const eventSummaryCols = "id, account_id, type, conversation_id, '' AS payload, created_at"

func scanEvent(s scanner) (*agenthooks.Event, error) {
	var e agenthooks.Event
	var payload string
	var created int64
	if err := s.Scan(&e.ID, &e.AccountID, &e.Type, &e.ConversationID, &payload, &created); err != nil {
		return nil, err
	}
	e.Payload = json.RawMessage(payload)
	e.CreatedAt = FromMicros(created)
	return &e, nil
}

// CreateEvent stores an event.
func (tx *Tx) CreateEvent(e *agenthooks.Event) error {
	_, err := tx.exec("INSERT INTO events ("+eventCols+", traceparent) VALUES (?, ?, ?, ?, ?, ?, ?)", e.ID, e.AccountID, e.Type, e.ConversationID, string(e.Payload), Micros(e.CreatedAt),
		tx.traceparent) // sqlstore/trace.go
	if err != nil {
		return fmt.Errorf("insert event: %w", err)
	}
	return nil
}

// FindEvent returns the account's event.
func (tx *Tx) FindEvent(accountID, id string) (*agenthooks.Event, error) {
	e, err := scanEvent(tx.queryRow("SELECT "+eventCols+" FROM events WHERE id = ? AND account_id = ?", id, accountID))
	if err != nil {
		return nil, notFound(err, "event")
	}
	return e, nil
}

// ListEvents returns one page of the account's events, newest first.
func (tx *Tx) ListEvents(accountID string, f agenthooks.EventFilter, p agenthooks.Page) ([]*agenthooks.Event, int, error) {
	where, args := "account_id = ?", []any{accountID}
	if f.Type != "" {
		where, args = where+" AND type = ?", append(args, f.Type)
	}
	return listPage(tx, "events", eventCols, "events", where, args, "id DESC", p, scanEvent)
}

package service

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/agenthooks/agenthooks"
	"github.com/agenthooks/agenthooks/payload"
)

// ConversationInput starts a conversation.
type ConversationInput struct {
	AssistantID string
	WidgetID    string
	DeviceType  string
	ContactID   string
	Attributes  json.RawMessage // a JSON object, or empty
	// UniqueDeviceID is Insighto's unique_device_id, kept as given.
	UniqueDeviceID string
}

// MaxTextLen bounds one message's text (bytes): a transcript carries up to
// payload.TranscriptLimit of them in every conversation event.
const MaxTextLen = 32 << 10

// CreateConversation starts a conversation; the widget must be the assistant's.
func (s *Service) CreateConversation(ctx context.Context, accountID string, in ConversationInput) (*agenthooks.Conversation, error) {
	if err := oneOf("device_type", in.DeviceType, agenthooks.DeviceTypes); err != nil {
		return nil, err
	}
	if err := checkObject("attributes", in.Attributes); err != nil {
		return nil, err
	}
	return write(ctx, s, func(tx agenthooks.Tx) (*agenthooks.Conversation, error) {
		if _, err := tx.FindAssistant(accountID, in.AssistantID); err != nil {
			if agenthooks.ErrorCode(err) == agenthooks.ENOTFOUND {
				return nil, agenthooks.Invalid("assistant_id", "Assistant not found", "value_error")
			}
			return nil, err
		}
		w, err := tx.FindWidget(accountID, in.WidgetID)
		if agenthooks.ErrorCode(err) == agenthooks.ENOTFOUND {
			return nil, agenthooks.Invalid("widget_id", "Widget not found", "value_error")
		} else if err != nil {
			return nil, err
		}
		if w.AssistantID == "" {
			return nil, agenthooks.Invalid("widget_id", "Widget has no assistant yet: assign one (PATCH /widget/{id} {assistant_id}) before starting conversations", "value_error")
		}
		if w.AssistantID != in.AssistantID {
			return nil, agenthooks.Invalid("widget_id", "Widget does not belong to the assistant", "value_error")
		}
		if in.ContactID != "" {
			if _, err := tx.FindContact(accountID, in.ContactID); agenthooks.ErrorCode(err) == agenthooks.ENOTFOUND {
				return nil, agenthooks.Invalid("contact_id", "Contact not found", "value_error")
			} else if err != nil {
				return nil, err
			}
		}
		attrs := in.Attributes
		if len(attrs) == 0 {
			attrs = json.RawMessage("{}")
		}
		c := &agenthooks.Conversation{
			ID: NewID(), AccountID: accountID, AssistantID: in.AssistantID, WidgetID: in.WidgetID, ContactID: in.ContactID,
			DeviceType: in.DeviceType, Attributes: attrs, UniqueDeviceID: in.UniqueDeviceID, LastActivityAt: tx.Now(), CreatedAt: tx.Now(), UpdatedAt: tx.Now(),
		}
		return c, tx.CreateConversation(c)
	})
}

// ConversationView is a conversation with its transcript.
type ConversationView struct {
	*agenthooks.Conversation
	Transcript []*agenthooks.Message
}

// GetConversation returns a conversation with its last TranscriptLimit messages.
func (s *Service) GetConversation(ctx context.Context, accountID, id string) (*ConversationView, error) {
	return read(ctx, s, func(tx agenthooks.Tx) (*ConversationView, error) {
		c, err := tx.FindConversation(accountID, id)
		if err != nil {
			return nil, err
		}
		msgs, err := tx.ListMessages(accountID, id, payload.TranscriptLimit)
		if err != nil {
			return nil, err
		}
		return &ConversationView{Conversation: c, Transcript: msgs}, nil
	})
}

// ListConversations returns one page of the account's conversations, each
// with its Row.
func (s *Service) ListConversations(ctx context.Context, accountID string, f agenthooks.ConversationFilter, p agenthooks.Page) (*List[*agenthooks.Conversation], error) {
	return list(ctx, s, p, func(tx agenthooks.Tx) ([]*agenthooks.Conversation, int, error) {
		return conversationRows(tx, accountID, f, p)
	})
}

// conversationRows lists one page of conversations and fills in their rows.
func conversationRows(tx agenthooks.Tx, accountID string, f agenthooks.ConversationFilter, p agenthooks.Page) ([]*agenthooks.Conversation, int, error) {
	items, total, err := tx.ListConversations(accountID, f, p)
	if err != nil {
		return nil, 0, err
	}
	rows, err := tx.ConversationRows(accountID, items)
	if err != nil {
		return nil, 0, err
	}
	for _, c := range items {
		r := rows[c.ID]
		c.Row = &r
	}
	return items, total, nil
}

// openConversation finds a conversation that still takes input (409 once closed).
func openConversation(tx agenthooks.Tx, accountID, id string) (*agenthooks.Conversation, error) {
	c, err := tx.FindConversation(accountID, id)
	if err != nil {
		return nil, err
	}
	if c.Closed {
		return nil, agenthooks.Errorf(agenthooks.ECONFLICT, "Conversation is closed.")
	}
	return c, nil
}

// MessageInput adds a message.
type MessageInput struct {
	SenderType  string
	Text        string
	MessageType string
}

// AddMessage adds a message to an open conversation and fires conversation.updated.
func (s *Service) AddMessage(ctx context.Context, accountID, conversationID string, in MessageInput) (*agenthooks.Message, error) {
	if err := oneOf("sender_type", in.SenderType, agenthooks.SenderTypes); err != nil {
		return nil, err
	}
	if in.MessageType == "" {
		in.MessageType = "text"
	}
	if err := oneOf("message_type", in.MessageType, agenthooks.MessageTypes); err != nil {
		return nil, err
	}
	if len(in.Text) > MaxTextLen {
		return nil, agenthooks.Invalid("text", fmt.Sprintf("String should have at most %d bytes", MaxTextLen), "string_too_long")
	}
	return write(ctx, s, func(tx agenthooks.Tx) (*agenthooks.Message, error) {
		c, err := openConversation(tx, accountID, conversationID)
		if err != nil {
			return nil, err
		}
		m := &agenthooks.Message{ID: NewID(), AccountID: accountID, ConversationID: c.ID, SenderType: in.SenderType,
			MessageType: in.MessageType, Text: in.Text, CreatedAt: tx.Now()}
		if err := tx.CreateMessage(m); err != nil {
			return nil, err
		}
		c.ChatCount++
		c.IncludesVoice = c.IncludesVoice || m.MessageType == "voice"
		if c.FirstMessage == "" && m.SenderType == "user" && m.Text != "" {
			c.FirstMessage = m.Text
		}
		c.LastActivityAt, c.UpdatedAt = tx.Now(), tx.Now()
		if err := tx.UpdateConversation(c); err != nil {
			return nil, err
		}
		return m, s.fireConversation(tx, c, agenthooks.EventConversationUpdated)
	})
}

// CaptureForm records a form submitted in a conversation and fires
// captured_form.created. A required field that is missing or empty is 422.
func (s *Service) CaptureForm(ctx context.Context, accountID, conversationID, formID string, values map[string]any) (*agenthooks.CapturedForm, error) {
	if err := checkValues("field_values", values); err != nil {
		return nil, err
	}
	return write(ctx, s, func(tx agenthooks.Tx) (*agenthooks.CapturedForm, error) {
		c, err := openConversation(tx, accountID, conversationID)
		if err != nil {
			return nil, err
		}
		f, err := tx.FindForm(accountID, formID)
		if agenthooks.ErrorCode(err) == agenthooks.ENOTFOUND {
			return nil, agenthooks.Invalid("form_id", "Form not found", "value_error")
		} else if err != nil {
			return nil, err
		}
		if values == nil {
			values = map[string]any{}
		}
		if err := checkRequired(f, values); err != nil {
			return nil, err
		}
		cf := &agenthooks.CapturedForm{ID: NewID(), AccountID: accountID, ConversationID: c.ID, FormID: f.ID, FieldValues: values, CreatedAt: tx.Now(), UpdatedAt: tx.Now()}
		if err := tx.CreateCapturedForm(cf); err != nil {
			return nil, err
		}
		if err := touch(tx, c); err != nil {
			return nil, err
		}
		return cf, s.fireForm(tx, c, f, cf, agenthooks.EventCapturedFormCreated)
	})
}

func checkRequired(f *agenthooks.Form, values map[string]any) error {
	for _, field := range f.Fields {
		if !field.Required {
			continue
		}
		v, ok := values[field.Name]
		if !ok || v == nil || v == "" || v == false && field.Type == "gdpr" {
			return agenthooks.InvalidAt("Field required", "missing", "field_values", field.Name)
		}
	}
	return nil
}

// touch records activity on a conversation (the idle close counts from it).
func touch(tx agenthooks.Tx, c *agenthooks.Conversation) error {
	c.LastActivityAt, c.UpdatedAt = tx.Now(), tx.Now()
	return tx.UpdateConversation(c)
}

// UpdateCapturedForm merges values into a captured form and fires captured_form.updated.
func (s *Service) UpdateCapturedForm(ctx context.Context, accountID, id string, values map[string]any) (*agenthooks.CapturedForm, error) {
	if err := checkValues("field_values", values); err != nil {
		return nil, err
	}
	return write(ctx, s, func(tx agenthooks.Tx) (*agenthooks.CapturedForm, error) {
		cf, err := tx.FindCapturedForm(accountID, id)
		if err != nil {
			return nil, err
		}
		// A closed conversation takes no more input, so its captured forms are final too
		// (409, nothing fired after conversation.closed), like messages and intents.
		c, err := openConversation(tx, accountID, cf.ConversationID)
		if err != nil {
			return nil, err
		}
		f, err := tx.FindForm(accountID, cf.FormID)
		if err != nil {
			return nil, err
		}
		if cf.FieldValues == nil {
			cf.FieldValues = map[string]any{}
		}
		for k, v := range values {
			cf.FieldValues[k] = v
		}
		// The merge may outgrow the limit that each part kept.
		if err := checkValues("field_values", cf.FieldValues); err != nil {
			return nil, err
		}
		if err := checkRequired(f, cf.FieldValues); err != nil {
			return nil, err
		}
		cf.UpdatedAt = tx.Now()
		if err := tx.UpdateCapturedForm(cf); err != nil {
			return nil, err
		}
		return cf, s.fireForm(tx, c, f, cf, agenthooks.EventCapturedFormUpdated)
	})
}

// CaptureIntent records an intent captured in a conversation and fires captured_intent.created.
func (s *Service) CaptureIntent(ctx context.Context, accountID, conversationID, intentID string) (*agenthooks.CapturedIntent, error) {
	return write(ctx, s, func(tx agenthooks.Tx) (*agenthooks.CapturedIntent, error) {
		c, err := openConversation(tx, accountID, conversationID)
		if err != nil {
			return nil, err
		}
		i, err := tx.FindIntent(accountID, intentID)
		if agenthooks.ErrorCode(err) == agenthooks.ENOTFOUND {
			return nil, agenthooks.Invalid("intent_id", "Intent not found", "value_error")
		} else if err != nil {
			return nil, err
		}
		ci := &agenthooks.CapturedIntent{ID: NewID(), AccountID: accountID, ConversationID: c.ID, IntentID: i.ID, CreatedAt: tx.Now()}
		if err := tx.CreateCapturedIntent(ci); err != nil {
			return nil, err
		}
		if err := touch(tx, c); err != nil {
			return nil, err
		}
		data := payload.NewCapturedIntent(i, c)
		return ci, s.fire(tx, c, agenthooks.EventCapturedIntentCreated, data, c.AssistantID, "")
	})
}

// CloseConversation closes a conversation and fires conversation.closed once;
// closing again is ECONFLICT and fires nothing.
func (s *Service) CloseConversation(ctx context.Context, accountID, id string) (*agenthooks.Conversation, error) {
	return s.CloseConversationWithSummary(ctx, accountID, id, "")
}

// CloseConversationWithSummary is CloseConversation reporting the
// conversation's summary (Insighto's, e.g. written by the agent): it is kept
// on the conversation and shown in GET /conversation's rows; "" reports none.
func (s *Service) CloseConversationWithSummary(ctx context.Context, accountID, id, summary string) (*agenthooks.Conversation, error) {
	if len(summary) > MaxObjectBytes {
		return nil, tooLong("summary", MaxObjectBytes, "bytes")
	}
	return write(ctx, s, func(tx agenthooks.Tx) (*agenthooks.Conversation, error) {
		c, err := tx.CloseConversation(accountID, id, tx.Now())
		if err != nil {
			return nil, err
		}
		if summary != "" {
			c.Summary = summary
			if err := tx.UpdateConversation(c); err != nil {
				return nil, err
			}
		}
		return c, s.fireConversation(tx, c, agenthooks.EventConversationClosed)
	})
}

func (s *Service) close(tx agenthooks.Tx, c *agenthooks.Conversation) error {
	c.Closed, c.ClosedAt, c.UpdatedAt = true, tx.Now(), tx.Now()
	if err := tx.UpdateConversation(c); err != nil {
		return err
	}
	return s.fireConversation(tx, c, agenthooks.EventConversationClosed)
}

// CloseIdle closes open conversations with no activity since before, firing
// conversation.closed for each, in batches; it returns how many it closed.
func (s *Service) CloseIdle(ctx context.Context, before time.Time) (int, error) {
	closed := 0
	for {
		var n, found int
		err := s.store.Write(ctx, func(tx agenthooks.Tx) error {
			n = 0
			idle, err := tx.FindIdleConversations(before, idleBatch)
			if err != nil {
				return err
			}
			found = len(idle)
			for _, c := range idle {
				// Re-read under the row lock: a message may have just arrived.
				c, err := tx.FindConversation(c.AccountID, c.ID)
				if err != nil {
					return err
				}
				if c.Closed || !c.LastActivityAt.Before(before) {
					continue
				}
				if err := s.close(tx, c); err != nil {
					return err
				}
				n++
			}
			return nil
		})
		if err != nil {
			return closed, fmt.Errorf("close idle conversations: %w", err)
		}
		closed += n
		if found < idleBatch {
			if closed > 0 {
				s.log.Info("closed idle conversations", slog.Int("count", closed))
			}
			return closed, nil
		}
	}
}

const idleBatch = 100

func (s *Service) fireConversation(tx agenthooks.Tx, c *agenthooks.Conversation, eventType string) error {
	// chat_count counts the messages (AddMessage adds both in one
	// transaction): a conversation without any has no transcript to read.
	var msgs []*agenthooks.Message
	if c.ChatCount > 0 {
		var err error
		if msgs, err = tx.ListMessages(c.AccountID, c.ID, payload.TranscriptLimit); err != nil {
			return err
		}
	}
	return s.fire(tx, c, eventType, payload.NewConversation(c, msgs), c.AssistantID, "")
}

func (s *Service) fireForm(tx agenthooks.Tx, c *agenthooks.Conversation, f *agenthooks.Form, cf *agenthooks.CapturedForm, eventType string) error {
	return s.fire(tx, c, eventType, payload.NewCapturedForm(cf, f, c), c.AssistantID, f.WebhookID)
}

// fire stores an event and one delivery per routed webhook: the conversation's
// assistant's webhook and, for forms, the form's (once if they are the same);
// only enabled webhooks subscribed to the type receive it.
func (s *Service) fire(tx agenthooks.Tx, c *agenthooks.Conversation, eventType string, data any, assistantID, formWebhookID string) error {
	var ids []string
	if formWebhookID != "" {
		ids = append(ids, formWebhookID)
	}
	var hooks []*agenthooks.Webhook
	if len(ids) > 0 {
		var err error
		if hooks, err = tx.FindWebhooksByID(c.AccountID, ids); err != nil {
			return err
		}
	}
	if assistantID != "" {
		w, err := tx.AssistantWebhook(c.AccountID, assistantID)
		if err != nil {
			return err
		}
		if w != nil && !slices.Contains(ids, w.ID) {
			hooks = append(hooks, w)
		}
	}
	return s.emit(tx, c.AccountID, c.ID, eventType, data, hooks, false)
}

// emit stores the event and its deliveries. force sends to every webhook in
// hooks whatever its subscription and filter (webhook.test); otherwise a
// webhook's filter may drop the event (counted on the webhook: passes).
func (s *Service) emit(tx agenthooks.Tx, accountID, conversationID, eventType string, data any, hooks []*agenthooks.Webhook, force bool) error {
	return s.emitID(tx, NewID(), accountID, conversationID, eventType, data, hooks, force)
}

// emitID is emit of an event whose id the caller chose (PublishEvent reads
// the event back by it).
func (s *Service) emitID(tx agenthooks.Tx, id, accountID, conversationID, eventType string, data any, hooks []*agenthooks.Webhook, force bool) error {
	body, err := payload.Encode(id, eventType, tx.Now(), data)
	if err != nil {
		return err
	}
	e := &agenthooks.Event{ID: id, AccountID: accountID, Type: eventType, ConversationID: conversationID, Payload: body, CreatedAt: tx.Now()}
	if err := tx.CreateEvent(e); err != nil {
		return err
	}
	// Counted once stored: a transaction that then fails (a full disk at
	// commit, a rolled-back request) counts nothing.
	tx.OnCommit(func(committed bool) {
		if committed {
			s.eventCreated(eventType)
		}
	})
	for _, w := range hooks {
		if !force && (!w.Enabled || !w.Subscribed(eventType)) {
			continue
		}
		if !force {
			if ok, err := s.passes(tx, e, w, true); err != nil {
				return err
			} else if !ok {
				continue
			}
		}
		if err := s.createDelivery(tx, e, w); err != nil {
			return err
		}
	}
	return nil
}

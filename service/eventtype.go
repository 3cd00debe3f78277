package service

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/agenthooks/agenthooks"
	"github.com/agenthooks/agenthooks/payload"
)

// The account's own event types (POST /event_type) and the events it
// publishes of them (POST /event): docs/events.md.

// MaxEventTypeNameChars bounds an own event type's name.
const MaxEventTypeNameChars = 64

// MaxEventTypes is the most own event types an account may have.
const MaxEventTypes = 500

// MaxEventDataBytes bounds a published event's data, as sent.
const MaxEventDataBytes = 64 << 10

var eventTypeName = regexp.MustCompile(`^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$`)

// reservedPrefixes are the namespaces of agenthooks' own event types.
var reservedPrefixes = []string{"webhook.", "delivery."}

// CheckEventTypeName refuses a name an account cannot give its own type,
// as a 422 on name.
func CheckEventTypeName(name string) error {
	if len(name) > MaxEventTypeNameChars {
		return agenthooks.Invalid("name", fmt.Sprintf("String should have at most %d characters", MaxEventTypeNameChars), "string_too_long")
	}
	if !eventTypeName.MatchString(name) {
		return agenthooks.Invalid("name", "String should match pattern '^[a-z][a-z0-9_]*(\\.[a-z][a-z0-9_]*)+$' (lower-case words joined by dots, such as call.ended)", "string_pattern_mismatch")
	}
	if _, ok := agenthooks.LookupEventType(name); ok {
		return agenthooks.Invalid("name", name+" is a built-in event type: choose another name", "value_error")
	}
	for _, p := range reservedPrefixes {
		if strings.HasPrefix(name, p) {
			return agenthooks.Invalid("name", fmt.Sprintf("Names starting with %q are reserved for agenthooks' own events", p), "value_error")
		}
	}
	return nil
}

// ownEventTypeName reports whether name could be one of an account's own
// types (the store decides whether it is).
func ownEventTypeName(name string) bool { return CheckEventTypeName(name) == nil }

// EventTypeInput creates an own event type. Schema is nil for none.
type EventTypeInput struct {
	Name        string
	Description string
	Schema      json.RawMessage
}

// EventTypePatch updates an own event type; nil fields stay.
type EventTypePatch struct {
	Description *string
	Schema      Nullable[json.RawMessage] // null removes the schema
	Deprecated  *bool
}

// checkSchema compiles a schema given in a request (422 on schema); it
// returns raw compacted, as stored.
func checkSchema(raw json.RawMessage) (json.RawMessage, error) {
	if raw == nil || string(raw) == "null" {
		return nil, nil
	}
	if _, err := compileSchema(raw, "schema"); err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return nil, agenthooks.Invalid("schema", "Schema should be valid JSON", "json_invalid")
	}
	return b.Bytes(), nil
}

// CreateEventType creates one of the account's own event types.
func (s *Service) CreateEventType(ctx context.Context, accountID string, in EventTypeInput) (*agenthooks.OwnEventType, error) {
	if err := CheckEventTypeName(in.Name); err != nil {
		return nil, err
	}
	if err := CheckDescription("description", in.Description); err != nil {
		return nil, err
	}
	schema, err := checkSchema(in.Schema)
	if err != nil {
		return nil, err
	}
	return write(ctx, s, func(tx agenthooks.Tx) (*agenthooks.OwnEventType, error) {
		have, err := tx.ListEventTypes(accountID)
		if err != nil {
			return nil, err
		}
		if len(have) >= MaxEventTypes {
			msg := fmt.Sprintf("This account has %d event types, the most allowed; delete one first", len(have))
			return nil, &agenthooks.Error{Code: agenthooks.EINVALID, Message: msg,
				Fields: []agenthooks.FieldError{{Loc: []any{}, Msg: msg, Type: "too_many"}}}
		}
		t := &agenthooks.OwnEventType{AccountID: accountID, Name: in.Name, Description: in.Description, Schema: schema,
			CreatedAt: tx.Now(), UpdatedAt: tx.Now()}
		return t, tx.CreateEventType(t)
	})
}

// GetEventType returns one of the account's own event types.
func (s *Service) GetEventType(ctx context.Context, accountID, name string) (*agenthooks.OwnEventType, error) {
	return read(ctx, s, func(tx agenthooks.Tx) (*agenthooks.OwnEventType, error) { return tx.FindEventType(accountID, name) })
}

// ListEventTypes returns the account's own event types, by name.
func (s *Service) ListEventTypes(ctx context.Context, accountID string) ([]*agenthooks.OwnEventType, error) {
	return read(ctx, s, func(tx agenthooks.Tx) ([]*agenthooks.OwnEventType, error) { return tx.ListEventTypes(accountID) })
}

// builtInChange refuses to change or delete a built-in type (422 on name).
func builtInChange(name string) error {
	if _, ok := agenthooks.LookupEventType(name); ok {
		return agenthooks.Invalid("name", name+" is a built-in event type: it cannot be changed or deleted", "value_error")
	}
	return nil
}

// UpdateEventType applies a patch to one of the account's own types.
func (s *Service) UpdateEventType(ctx context.Context, accountID, name string, p EventTypePatch) (*agenthooks.OwnEventType, error) {
	if err := builtInChange(name); err != nil {
		return nil, err
	}
	if p.Description != nil {
		if err := CheckDescription("description", *p.Description); err != nil {
			return nil, err
		}
	}
	var schema json.RawMessage
	if p.Schema.Set && p.Schema.Value != nil {
		var err error
		if schema, err = checkSchema(*p.Schema.Value); err != nil {
			return nil, err
		}
	}
	return write(ctx, s, func(tx agenthooks.Tx) (*agenthooks.OwnEventType, error) {
		t, err := tx.FindEventType(accountID, name)
		if err != nil {
			return nil, err
		}
		if p.Description != nil {
			t.Description = *p.Description
		}
		if p.Schema.Set {
			t.Schema = schema
		}
		if p.Deprecated != nil {
			t.Deprecated = *p.Deprecated
		}
		t.UpdatedAt = tx.Now()
		return t, tx.UpdateEventType(t)
	})
}

// DeleteEventType deletes one of the account's own types; the webhooks
// that name it keep their other types (agenthooks.Tx.DeleteEventType).
func (s *Service) DeleteEventType(ctx context.Context, accountID, name string) error {
	if err := builtInChange(name); err != nil {
		return err
	}
	return s.store.Write(ctx, func(tx agenthooks.Tx) error {
		_, err := tx.DeleteEventType(accountID, name)
		return err
	})
}

// checkOwnEvents checks, in the transaction that stores a webhook's events
// list, that each name that is not a built-in type is one of the account's
// own types, or was on the list already (keep: a list left naming a deleted
// type reads back and is written back as it is). 422 on events.i.
func checkOwnEvents(tx agenthooks.Tx, accountID string, events, keep []string) error {
	for i, e := range events {
		if _, ok := agenthooks.LookupEventType(e); ok || slices.Contains(keep, e) {
			continue
		}
		if _, err := tx.FindEventType(accountID, e); agenthooks.ErrorCode(err) == agenthooks.ENOTFOUND {
			return agenthooks.InvalidAt(fmt.Sprintf("%s is not a built-in event type nor one of this account's (GET /event_type lists them)", e), "enum", "events", i)
		} else if err != nil {
			return err
		}
	}
	return nil
}

// CheckEventFilter checks a GET /event ?event= value: a built-in type or
// one of the account's own; false if it is neither.
func (s *Service) CheckEventFilter(ctx context.Context, accountID, name string) (bool, error) {
	if _, ok := agenthooks.LookupEventType(name); ok {
		return true, nil
	}
	if !ownEventTypeName(name) {
		return false, nil
	}
	_, err := s.GetEventType(ctx, accountID, name)
	if agenthooks.ErrorCode(err) == agenthooks.ENOTFOUND {
		return false, nil
	}
	return err == nil, err
}

// PublishInput is an event the account publishes of one of its own types.
type PublishInput struct {
	EventType      string
	Data           json.RawMessage // a JSON object
	AssistantID    string          // "" for none
	ConversationID string          // "" for none
}

// PublishEvent stores an event of one of the account's own types, with a
// delivery to each webhook it is routed to (CONTRACT section 3: every
// enabled webhook whose events names the type, and the assistant's webhook
// when it subscribes), in one transaction, through the same emit as the
// built-in events; it returns the event with its deliveries.
func (s *Service) PublishEvent(ctx context.Context, accountID string, in PublishInput) (*EventView, error) {
	if _, ok := agenthooks.LookupEventType(in.EventType); ok {
		return nil, agenthooks.Invalid("event_type", in.EventType+" is a built-in event type: those are fired by the agent runtime; publish one of your own (POST /event_type)", "value_error")
	}
	var data bytes.Buffer
	if err := json.Compact(&data, in.Data); err != nil || data.Len() == 0 || data.Bytes()[0] != '{' {
		return nil, agenthooks.Invalid("data", "Input should be a valid dictionary", "dict_type")
	}
	if data.Len() > MaxEventDataBytes {
		return nil, agenthooks.Invalid("data", fmt.Sprintf("Object should be at most %d bytes of JSON", MaxEventDataBytes), "too_long")
	}
	if JSONDepth(data.Bytes()) > MaxObjectDepth*2 {
		return nil, agenthooks.Invalid("data", fmt.Sprintf("Object should be nested at most %d levels deep", MaxObjectDepth*2), "too_deep")
	}
	return write(ctx, s, func(tx agenthooks.Tx) (*EventView, error) {
		t, err := tx.FindEventType(accountID, in.EventType)
		if agenthooks.ErrorCode(err) == agenthooks.ENOTFOUND {
			return nil, agenthooks.Invalid("event_type", "Unknown event type: create it first (POST /event_type)", "value_error")
		} else if err != nil {
			return nil, err
		}
		if t.Schema != nil {
			if err := validateData(t.Schema, data.Bytes()); err != nil {
				return nil, err
			}
		}
		if err := checkPublishRefs(tx, accountID, in); err != nil {
			return nil, err
		}
		hooks, err := tx.FindWebhooksNamingEvent(accountID, in.EventType)
		if err != nil {
			return nil, err
		}
		if in.AssistantID != "" {
			w, err := tx.AssistantWebhook(accountID, in.AssistantID)
			if err != nil {
				return nil, err
			}
			if w != nil && !slices.ContainsFunc(hooks, func(h *agenthooks.Webhook) bool { return h.ID == w.ID }) {
				hooks = append(hooks, w)
			}
		}
		id := NewID()
		if err := s.emitID(tx, id, accountID, in.ConversationID, in.EventType, json.RawMessage(data.Bytes()), hooks, false); err != nil {
			return nil, err
		}
		e, err := tx.FindEvent(accountID, id)
		if err != nil {
			return nil, err
		}
		ds, err := tx.ListEventDeliveries(accountID, []string{id})
		if err != nil {
			return nil, err
		}
		return &EventView{Event: e, Deliveries: ds}, nil
	})
}

// checkPublishRefs checks a published event's assistant and conversation
// (422 on the field that is not one of the account's).
func checkPublishRefs(tx agenthooks.Tx, accountID string, in PublishInput) error {
	if in.AssistantID != "" {
		if _, err := tx.FindAssistant(accountID, in.AssistantID); agenthooks.ErrorCode(err) == agenthooks.ENOTFOUND {
			return agenthooks.Invalid("assistant_id", "Assistant not found", "value_error")
		} else if err != nil {
			return err
		}
	}
	if in.ConversationID != "" {
		c, err := tx.FindConversation(accountID, in.ConversationID)
		if agenthooks.ErrorCode(err) == agenthooks.ENOTFOUND {
			return agenthooks.Invalid("conversation_id", "Conversation not found", "value_error")
		} else if err != nil {
			return err
		}
		if in.AssistantID != "" && c.AssistantID != in.AssistantID {
			return agenthooks.Invalid("conversation_id", "Conversation does not belong to the assistant", "value_error")
		}
	}
	return nil
}

// testExample is the type and data a webhook test sends: webhook.test
// without eventType; else that type's example.
func testExample(tx agenthooks.Tx, w *agenthooks.Webhook, eventType string) (string, any, error) {
	if eventType == "" || eventType == agenthooks.EventWebhookTest {
		return agenthooks.EventWebhookTest, payload.Test{WebhookID: w.ID, Message: "This is a test event from agenthooks."}, nil
	}
	if ex := payload.Example(eventType); ex != nil {
		return eventType, ex, nil
	}
	t, err := tx.FindEventType(w.AccountID, eventType)
	if agenthooks.ErrorCode(err) == agenthooks.ENOTFOUND {
		return "", nil, agenthooks.Invalid("event_type", "Unknown event type: a built-in one or one of this account's (GET /event_type)", "value_error")
	} else if err != nil {
		return "", nil, err
	}
	return eventType, SchemaExample(t.Schema), nil
}

// SchemaExample is the first of a schema's examples when it is a JSON
// object, else {}.
func SchemaExample(schema json.RawMessage) json.RawMessage {
	var s struct {
		Examples []json.RawMessage `json:"examples"`
	}
	if json.Unmarshal(schema, &s) == nil && len(s.Examples) > 0 {
		if ex := bytes.TrimSpace(s.Examples[0]); len(ex) > 0 && ex[0] == '{' {
			return ex
		}
	}
	return json.RawMessage("{}")
}

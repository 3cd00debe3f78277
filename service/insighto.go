package service

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/agenthooks/agenthooks"
)

// The operations behind Insighto's own routes: widget and contact updates,
// widget and intent deletes, contact upsert, transcripts and conversations by
// contact, and the intents an assistant uses (README.md, "Concepts").

// Limits of an assistant's descriptive fields.
const (
	maxDescriptionLen  = 4 << 10  // description, bytes
	maxSystemPromptLen = 64 << 10 // system_prompt, bytes
	maxVoiceLanguages  = 100      // voice_languages, items
)

// assistantType checks an assistant type and returns its current name.
func assistantType(t string) (string, error) {
	name, ok := agenthooks.CanonicalAssistantType(t)
	if !ok {
		return "", oneOf("assistant_type", t, agenthooks.AssistantTypes)
	}
	return name, nil
}

// widgetType checks a widget type and returns its current name.
func widgetType(t string) (string, error) {
	name, ok := agenthooks.CanonicalWidgetType(t)
	if !ok {
		return "", oneOf("widget_type", t, agenthooks.WidgetTypeNames())
	}
	return name, nil
}

func tooLong(field string, n int, unit string) error {
	return agenthooks.Invalid(field, fmt.Sprintf("String should have at most %d %s", n, unit), "string_too_long")
}

// checkAssistant checks an assistant's descriptive fields.
func checkAssistant(a *agenthooks.Assistant) error {
	switch {
	case len(a.Description) > maxDescriptionLen:
		return tooLong("description", maxDescriptionLen, "bytes")
	case len(a.SystemPrompt) > maxSystemPromptLen:
		return tooLong("system_prompt", maxSystemPromptLen, "bytes")
	case len(a.LLMModel) > maxNameLen:
		return tooLong("llm_model", maxNameLen, "characters")
	case len(a.VoiceName) > maxNameLen:
		return tooLong("voice_name", maxNameLen, "characters")
	case len(a.VoiceLanguages) > maxVoiceLanguages:
		return agenthooks.Invalid("voice_languages", fmt.Sprintf("List should have at most %d items", maxVoiceLanguages), "too_long")
	}
	for i, l := range a.VoiceLanguages {
		if len(l) > maxNameLen {
			return agenthooks.InvalidAt(fmt.Sprintf("String should have at most %d characters", maxNameLen), "string_too_long", "voice_languages", i)
		}
	}
	return checkObject("attributes", a.Attributes)
}

// withIntentIDs fills in the intents each assistant uses.
func withIntentIDs(tx agenthooks.Tx, accountID string, as ...*agenthooks.Assistant) error {
	ids := make([]string, len(as))
	for i, a := range as {
		ids[i] = a.ID
	}
	byAssistant, err := tx.AssistantIntentIDs(accountID, ids)
	if err != nil {
		return err
	}
	for _, a := range as {
		a.IntentIDs = byAssistant[a.ID]
		if a.IntentIDs == nil {
			a.IntentIDs = []string{}
		}
	}
	return nil
}

// refAssistant checks that an assistant id in a body is one of the account's.
func refAssistant(tx agenthooks.Tx, accountID, field, id string) error {
	if _, err := tx.FindAssistant(accountID, id); err != nil {
		if agenthooks.ErrorCode(err) == agenthooks.ENOTFOUND {
			return agenthooks.Invalid(field, "Assistant not found", "value_error")
		}
		return err
	}
	return nil
}

// WidgetPatch updates a widget; nil fields stay as they are, and
// AssistantID set to null leaves the widget without an assistant.
type WidgetPatch struct {
	AssistantID Nullable[string]
	Name        *string
	WidgetType  *string
	Profile     map[string]json.RawMessage // the fields given change (null clears)
}

// UpdateWidget applies a patch (PUT and PATCH /widget/{id}).
func (s *Service) UpdateWidget(ctx context.Context, accountID, id string, p WidgetPatch) (*agenthooks.Widget, error) {
	if p.Name != nil {
		if err := checkOptionalName("name", *p.Name); err != nil {
			return nil, err
		}
	}
	var typ string
	if p.WidgetType != nil {
		var err error
		if typ, err = widgetType(*p.WidgetType); err != nil {
			return nil, err
		}
	}
	return write(ctx, s, func(tx agenthooks.Tx) (*agenthooks.Widget, error) {
		w, err := tx.FindWidget(accountID, id)
		if err != nil {
			return nil, err
		}
		if p.AssistantID.Set {
			w.AssistantID = ""
			if p.AssistantID.Value != nil {
				if err := refAssistant(tx, accountID, "assistant_id", *p.AssistantID.Value); err != nil {
					return nil, err
				}
				w.AssistantID = *p.AssistantID.Value
			}
		}
		if err := agenthooks.ApplyProfile(&w.Profile, p.Profile); err != nil {
			return nil, err
		}
		if p.Name != nil {
			w.Name = strings.TrimSpace(*p.Name)
		}
		if p.WidgetType != nil {
			w.WidgetType = typ
		}
		return w, tx.UpdateWidget(w)
	})
}

// DeleteWidget deletes a widget; its conversations keep its id.
func (s *Service) DeleteWidget(ctx context.Context, accountID, id string) error {
	return s.store.Write(ctx, func(tx agenthooks.Tx) error { return tx.DeleteWidget(accountID, id) })
}

// DeleteIntent deletes an intent; assistants stop using it, captured intents keep its id.
func (s *Service) DeleteIntent(ctx context.Context, accountID, id string) error {
	return s.store.Write(ctx, func(tx agenthooks.Tx) error { return tx.DeleteIntent(accountID, id) })
}

// checkContact checks a contact's fields.
func checkContact(c *agenthooks.Contact) error {
	for _, f := range []struct{ name, v string }{{"first_name", c.FirstName}, {"last_name", c.LastName}, {"email", c.Email}, {"phone_number", c.PhoneNumber}} {
		if len(f.v) > maxNameLen {
			return tooLong(f.name, maxNameLen, "characters")
		}
	}
	if c.Email != "" && !strings.Contains(c.Email, "@") {
		return agenthooks.Invalid("email", "value is not a valid email address", "value_error")
	}
	return nil
}

// ContactPatch updates a contact; nil fields stay as they are, and an
// empty string clears one.
type ContactPatch struct {
	FirstName, LastName, Email, PhoneNumber *string
	// Profile sets ContactProfile's fields given (JSON names; null clears).
	Profile map[string]json.RawMessage
}

func (p ContactPatch) apply(c *agenthooks.Contact) error {
	setIf(&c.FirstName, p.FirstName)
	setIf(&c.LastName, p.LastName)
	setIf(&c.Email, p.Email)
	setIf(&c.PhoneNumber, p.PhoneNumber)
	return agenthooks.ApplyProfile(&c.Profile, p.Profile)
}

// setIf sets *dst to *src unless src is nil.
func setIf(dst, src *string) {
	if src != nil {
		*dst = *src
	}
}

// nonEmpty returns &s, or nil for "".
func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// UpdateContact applies a patch (PUT and PATCH /contact/{id}).
func (s *Service) UpdateContact(ctx context.Context, accountID, id string, p ContactPatch) (*agenthooks.Contact, error) {
	return write(ctx, s, func(tx agenthooks.Tx) (*agenthooks.Contact, error) {
		c, err := tx.FindContact(accountID, id)
		if err != nil {
			return nil, err
		}
		if err := p.apply(c); err != nil {
			return nil, err
		}
		if err := checkContact(c); err != nil {
			return nil, err
		}
		if err := tx.UpdateContact(c); err != nil {
			return nil, err
		}
		return c, withActivity(tx, accountID, c)
	})
}

// UpsertContact updates the account's contact that matches the email or,
// failing that, the phone number (agenthooks.ContactEmailKey and
// ContactPhoneKey: case and spacing do not matter), or creates one; created
// says which. Empty fields of in are not given: they change nothing. An
// email or a phone number is required (EINVALID on email).
func (s *Service) UpsertContact(ctx context.Context, accountID string, in agenthooks.Contact) (c *agenthooks.Contact, created bool, err error) {
	in.FirstName, in.LastName = strings.TrimSpace(in.FirstName), strings.TrimSpace(in.LastName)
	in.Email, in.PhoneNumber = strings.TrimSpace(in.Email), strings.TrimSpace(in.PhoneNumber)
	if in.Email == "" && in.PhoneNumber == "" {
		return nil, false, agenthooks.Invalid("email", "An email or a phone_number is required", "missing")
	}
	if err := checkContact(&in); err != nil {
		return nil, false, err
	}
	p := ContactPatch{FirstName: nonEmpty(in.FirstName), LastName: nonEmpty(in.LastName), Email: nonEmpty(in.Email), PhoneNumber: nonEmpty(in.PhoneNumber)}
	c, err = write(ctx, s, func(tx agenthooks.Tx) (*agenthooks.Contact, error) {
		found, err := tx.MatchContact(accountID, in.Email, in.PhoneNumber)
		switch {
		case err == nil:
			created = false
			if err := p.apply(found); err != nil {
				return nil, err
			}
			if err := tx.UpdateContact(found); err != nil {
				return nil, err
			}
			return found, withActivity(tx, accountID, found)
		case agenthooks.ErrorCode(err) == agenthooks.ENOTFOUND:
			created = true
			nc := in
			nc.ID, nc.AccountID, nc.CreatedAt = NewID(), accountID, tx.Now()
			return &nc, tx.CreateContact(&nc)
		default:
			return nil, err
		}
	})
	if err != nil {
		return nil, false, err
	}
	return c, created, nil
}

// ListTranscript returns one page of a conversation's messages, oldest first.
func (s *Service) ListTranscript(ctx context.Context, accountID, conversationID string, p agenthooks.Page) (*List[*agenthooks.Message], error) {
	return list(ctx, s, p, func(tx agenthooks.Tx) ([]*agenthooks.Message, int, error) {
		if _, err := tx.FindConversation(accountID, conversationID); err != nil {
			return nil, 0, err
		}
		return tx.ListTranscript(accountID, conversationID, p)
	})
}

// ListContactConversations returns one page of a contact's conversations, newest first.
func (s *Service) ListContactConversations(ctx context.Context, accountID, contactID string, p agenthooks.Page) (*List[*agenthooks.Conversation], error) {
	return list(ctx, s, p, func(tx agenthooks.Tx) ([]*agenthooks.Conversation, int, error) {
		if _, err := tx.FindContact(accountID, contactID); err != nil {
			return nil, 0, err
		}
		return conversationRows(tx, accountID, agenthooks.ConversationFilter{ContactID: contactID}, p)
	})
}

// AddAssistantIntent records that the assistant uses the intent (again is
// fine) and returns the assistant. Either id not the account's: ENOTFOUND.
func (s *Service) AddAssistantIntent(ctx context.Context, accountID, assistantID, intentID string) (*agenthooks.Assistant, error) {
	return write(ctx, s, func(tx agenthooks.Tx) (*agenthooks.Assistant, error) {
		a, err := tx.FindAssistant(accountID, assistantID)
		if err != nil {
			return nil, err
		}
		if _, err := tx.FindIntent(accountID, intentID); err != nil {
			return nil, err
		}
		if err := tx.AddAssistantIntent(accountID, assistantID, intentID); err != nil {
			return nil, err
		}
		return a, withIntentIDs(tx, accountID, a)
	})
}

// RemoveAssistantIntent ends the assistant's use of the intent and returns
// the assistant; ENOTFOUND when either id is not the account's or the
// assistant did not use the intent.
func (s *Service) RemoveAssistantIntent(ctx context.Context, accountID, assistantID, intentID string) (*agenthooks.Assistant, error) {
	return write(ctx, s, func(tx agenthooks.Tx) (*agenthooks.Assistant, error) {
		a, err := tx.FindAssistant(accountID, assistantID)
		if err != nil {
			return nil, err
		}
		if _, err := tx.FindIntent(accountID, intentID); err != nil {
			return nil, err
		}
		if err := tx.RemoveAssistantIntent(accountID, assistantID, intentID); err != nil {
			if agenthooks.ErrorCode(err) == agenthooks.ENOTFOUND {
				return nil, agenthooks.Errorf(agenthooks.ENOTFOUND, "The assistant does not use this intent.")
			}
			return nil, err
		}
		return a, withIntentIDs(tx, accountID, a)
	})
}

package service

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/agenthooks/agenthooks"
)

// oneOf checks an enumerated value.
func oneOf(field, v string, allowed []string) error {
	if !slices.Contains(allowed, v) {
		quoted := make([]string, len(allowed))
		for i, a := range allowed {
			quoted[i] = "'" + a + "'"
		}
		return agenthooks.Invalid(field, "Input should be "+strings.Join(quoted, ", "), "enum")
	}
	return nil
}

// refWebhook checks that a webhook id in a body is one of the account's.
func refWebhook(tx agenthooks.Tx, accountID, field, id string) error {
	if id == "" {
		return nil
	}
	if _, err := tx.FindWebhook(accountID, id); err != nil {
		if agenthooks.ErrorCode(err) == agenthooks.ENOTFOUND {
			return agenthooks.Invalid(field, "Webhook not found", "value_error")
		}
		return err
	}
	return nil
}

// AssistantInput creates an assistant. The descriptive fields (Description
// to Attributes) are Insighto's, kept and returned.
type AssistantInput struct {
	Name           string
	AssistantType  string
	WebhookID      string
	Description    string
	LLMModel       string
	SystemPrompt   string
	Voice          bool
	VoiceName      string
	VoiceLanguages []string
	Attributes     json.RawMessage // a JSON object, or empty
	// Profile sets Insighto's other fields (AssistantProfile's JSON names),
	// checked by the API's decoder.
	Profile map[string]json.RawMessage
}

// AssistantPatch updates an assistant; nil fields stay as they are, and
// WebhookID set to null unassigns.
type AssistantPatch struct {
	Name           *string
	AssistantType  *string
	WebhookID      Nullable[string]
	Description    *string
	LLMModel       *string
	SystemPrompt   *string
	Voice          *bool
	VoiceName      *string
	VoiceLanguages *[]string
	Attributes     json.RawMessage            // nil: unchanged
	Profile        map[string]json.RawMessage // the fields given change (null clears)
}

// CreateAssistant creates an assistant.
func (s *Service) CreateAssistant(ctx context.Context, accountID string, in AssistantInput) (*agenthooks.Assistant, error) {
	if err := checkOptionalName("name", in.Name); err != nil {
		return nil, err
	}
	if in.AssistantType == "" {
		in.AssistantType = agenthooks.DefaultAssistantType
	}
	typ, err := assistantType(in.AssistantType)
	if err != nil {
		return nil, err
	}
	a := &agenthooks.Assistant{AccountID: accountID, Name: strings.TrimSpace(in.Name), AssistantType: typ, WebhookID: in.WebhookID,
		Description: in.Description, LLMModel: in.LLMModel, SystemPrompt: in.SystemPrompt, Voice: in.Voice || in.VoiceName != "", VoiceName: in.VoiceName,
		VoiceLanguages: in.VoiceLanguages, Attributes: in.Attributes}
	if err := agenthooks.ApplyProfile(&a.Profile, in.Profile); err != nil {
		return nil, err
	}
	if a.VoiceLanguages == nil {
		a.VoiceLanguages = []string{}
	}
	if len(a.Attributes) == 0 {
		a.Attributes = json.RawMessage("{}")
	}
	if err := checkAssistant(a); err != nil {
		return nil, err
	}
	return write(ctx, s, func(tx agenthooks.Tx) (*agenthooks.Assistant, error) {
		if err := refWebhook(tx, accountID, "webhook_id", in.WebhookID); err != nil {
			return nil, err
		}
		a.ID, a.CreatedAt, a.UpdatedAt, a.IntentIDs = NewID(), tx.Now(), tx.Now(), []string{}
		return a, tx.CreateAssistant(a)
	})
}

// GetAssistant returns the account's assistant with the intents it uses.
func (s *Service) GetAssistant(ctx context.Context, accountID, id string) (*agenthooks.Assistant, error) {
	return read(ctx, s, func(tx agenthooks.Tx) (*agenthooks.Assistant, error) {
		a, err := tx.FindAssistant(accountID, id)
		if err != nil {
			return nil, err
		}
		return a, withIntentIDs(tx, accountID, a)
	})
}

// ListAssistants returns one page of the account's assistants, each with the intents it uses.
func (s *Service) ListAssistants(ctx context.Context, accountID string, p agenthooks.Page) (*List[*agenthooks.Assistant], error) {
	return list(ctx, s, p, func(tx agenthooks.Tx) ([]*agenthooks.Assistant, int, error) {
		items, total, err := tx.ListAssistants(accountID, p)
		if err != nil {
			return nil, 0, err
		}
		return items, total, withIntentIDs(tx, accountID, items...)
	})
}

// UpdateAssistant applies a patch ("Assign Webhook" is a patch of WebhookID).
func (s *Service) UpdateAssistant(ctx context.Context, accountID, id string, p AssistantPatch) (*agenthooks.Assistant, error) {
	if p.Name != nil {
		if err := checkOptionalName("name", *p.Name); err != nil {
			return nil, err
		}
	}
	var typ string
	if p.AssistantType != nil {
		var err error
		if typ, err = assistantType(*p.AssistantType); err != nil {
			return nil, err
		}
	}
	return write(ctx, s, func(tx agenthooks.Tx) (*agenthooks.Assistant, error) {
		a, err := tx.FindAssistant(accountID, id)
		if err != nil {
			return nil, err
		}
		if p.Name != nil {
			a.Name = strings.TrimSpace(*p.Name)
		}
		if p.AssistantType != nil {
			a.AssistantType = typ
		}
		setIf(&a.Description, p.Description)
		setIf(&a.LLMModel, p.LLMModel)
		setIf(&a.SystemPrompt, p.SystemPrompt)
		setIf(&a.VoiceName, p.VoiceName)
		if p.Voice != nil {
			a.Voice = *p.Voice
		}
		if err := agenthooks.ApplyProfile(&a.Profile, p.Profile); err != nil {
			return nil, err
		}
		if p.VoiceLanguages != nil {
			a.VoiceLanguages = *p.VoiceLanguages
		}
		if p.Attributes != nil {
			a.Attributes = p.Attributes
		}
		if err := checkAssistant(a); err != nil {
			return nil, err
		}
		if p.WebhookID.Set {
			a.WebhookID = ""
			if p.WebhookID.Value != nil {
				if err := refWebhook(tx, accountID, "webhook_id", *p.WebhookID.Value); err != nil {
					return nil, err
				}
				a.WebhookID = *p.WebhookID.Value
			}
		}
		a.UpdatedAt = tx.Now()
		if err := tx.UpdateAssistant(a); err != nil {
			return nil, err
		}
		return a, withIntentIDs(tx, accountID, a)
	})
}

// DeleteAssistant deletes an assistant.
func (s *Service) DeleteAssistant(ctx context.Context, accountID, id string) error {
	return s.store.Write(ctx, func(tx agenthooks.Tx) error { return tx.DeleteAssistant(accountID, id) })
}

// WidgetInput creates a widget; AssistantID and Name may be empty (such a
// widget takes no conversations until it has an assistant).
type WidgetInput struct {
	AssistantID string
	Name        string
	WidgetType  string
	Profile     map[string]json.RawMessage // WidgetProfile's JSON names
}

// CreateWidget creates a widget of one of the account's assistants.
func (s *Service) CreateWidget(ctx context.Context, accountID string, in WidgetInput) (*agenthooks.Widget, error) {
	if err := checkOptionalName("name", in.Name); err != nil {
		return nil, err
	}
	typ, err := widgetType(in.WidgetType)
	if err != nil {
		return nil, err
	}
	in.WidgetType = typ
	w := &agenthooks.Widget{AccountID: accountID, AssistantID: in.AssistantID, Name: strings.TrimSpace(in.Name), WidgetType: in.WidgetType}
	if err := agenthooks.ApplyProfile(&w.Profile, in.Profile); err != nil {
		return nil, err
	}
	return write(ctx, s, func(tx agenthooks.Tx) (*agenthooks.Widget, error) {
		if in.AssistantID != "" {
			if err := refAssistant(tx, accountID, "assistant_id", in.AssistantID); err != nil {
				return nil, err
			}
		}
		w.ID, w.CreatedAt = NewID(), tx.Now()
		return w, tx.CreateWidget(w)
	})
}

// GetWidget returns the account's widget.
func (s *Service) GetWidget(ctx context.Context, accountID, id string) (*agenthooks.Widget, error) {
	return read(ctx, s, func(tx agenthooks.Tx) (*agenthooks.Widget, error) { return tx.FindWidget(accountID, id) })
}

// ListWidgets returns one page of the account's widgets.
func (s *Service) ListWidgets(ctx context.Context, accountID string, p agenthooks.Page) (*List[*agenthooks.Widget], error) {
	return list(ctx, s, p, func(tx agenthooks.Tx) ([]*agenthooks.Widget, int, error) { return tx.ListWidgets(accountID, p) })
}

// FormInput creates a form.
type FormInput struct {
	Name      string
	Fields    []agenthooks.FormField
	WebhookID string
}

// FormPatch updates a form; WebhookID set to null unassigns.
type FormPatch struct {
	Name      *string
	Fields    *[]agenthooks.FormField
	WebhookID Nullable[string]
}

func checkFields(fields []agenthooks.FormField) error {
	if len(fields) > 100 {
		return agenthooks.Invalid("fields", "List should have at most 100 items", "too_long")
	}
	seen := map[string]bool{}
	for i, f := range fields {
		if err := CheckName("fields", i, "name")(f.Name); err != nil {
			return err
		}
		if seen[f.Name] {
			return agenthooks.InvalidAt(fmt.Sprintf("Duplicate field name %q", f.Name), "value_error", "fields", i, "name")
		}
		seen[f.Name] = true
		if !slices.Contains(agenthooks.FieldTypes, f.Type) {
			return agenthooks.InvalidAt("Input should be one of: "+strings.Join(agenthooks.FieldTypes, ", "), "enum", "fields", i, "type")
		}
	}
	return nil
}

// CreateForm creates a form.
func (s *Service) CreateForm(ctx context.Context, accountID string, in FormInput) (*agenthooks.Form, error) {
	if err := checkName("name", in.Name); err != nil {
		return nil, err
	}
	if err := checkFields(in.Fields); err != nil {
		return nil, err
	}
	return write(ctx, s, func(tx agenthooks.Tx) (*agenthooks.Form, error) {
		if err := refWebhook(tx, accountID, "webhook_id", in.WebhookID); err != nil {
			return nil, err
		}
		f := &agenthooks.Form{ID: NewID(), AccountID: accountID, Name: strings.TrimSpace(in.Name), Fields: in.Fields, WebhookID: in.WebhookID, CreatedAt: tx.Now(), UpdatedAt: tx.Now()}
		if f.Fields == nil {
			f.Fields = []agenthooks.FormField{}
		}
		return f, tx.CreateForm(f)
	})
}

// GetForm returns the account's form.
func (s *Service) GetForm(ctx context.Context, accountID, id string) (*agenthooks.Form, error) {
	return read(ctx, s, func(tx agenthooks.Tx) (*agenthooks.Form, error) { return tx.FindForm(accountID, id) })
}

// ListForms returns one page of the account's forms.
func (s *Service) ListForms(ctx context.Context, accountID string, p agenthooks.Page) (*List[*agenthooks.Form], error) {
	return list(ctx, s, p, func(tx agenthooks.Tx) ([]*agenthooks.Form, int, error) { return tx.ListForms(accountID, p) })
}

// UpdateForm applies a patch.
func (s *Service) UpdateForm(ctx context.Context, accountID, id string, p FormPatch) (*agenthooks.Form, error) {
	if p.Name != nil {
		if err := checkName("name", *p.Name); err != nil {
			return nil, err
		}
	}
	if p.Fields != nil {
		if err := checkFields(*p.Fields); err != nil {
			return nil, err
		}
	}
	return write(ctx, s, func(tx agenthooks.Tx) (*agenthooks.Form, error) {
		f, err := tx.FindForm(accountID, id)
		if err != nil {
			return nil, err
		}
		if p.Name != nil {
			f.Name = strings.TrimSpace(*p.Name)
		}
		if p.Fields != nil {
			f.Fields = *p.Fields
		}
		if p.WebhookID.Set {
			f.WebhookID = ""
			if p.WebhookID.Value != nil {
				if err := refWebhook(tx, accountID, "webhook_id", *p.WebhookID.Value); err != nil {
					return nil, err
				}
				f.WebhookID = *p.WebhookID.Value
			}
		}
		f.UpdatedAt = tx.Now()
		return f, tx.UpdateForm(f)
	})
}

// CreateIntent creates an intent.
// The name may be empty, as Insighto's; profile sets IntentProfile's fields
// (JSON names, checked by the API's decoder).
func (s *Service) CreateIntent(ctx context.Context, accountID, name, description string, profile map[string]json.RawMessage) (*agenthooks.Intent, error) {
	if err := checkOptionalName("name", name); err != nil {
		return nil, err
	}
	i := &agenthooks.Intent{AccountID: accountID, Name: strings.TrimSpace(name), Description: description}
	if err := agenthooks.ApplyProfile(&i.Profile, profile); err != nil {
		return nil, err
	}
	if err := CheckDescription("description", description); err != nil {
		return nil, err
	}
	return write(ctx, s, func(tx agenthooks.Tx) (*agenthooks.Intent, error) {
		i.ID, i.CreatedAt = NewID(), tx.Now()
		return i, tx.CreateIntent(i)
	})
}

// GetIntent returns the account's intent.
func (s *Service) GetIntent(ctx context.Context, accountID, id string) (*agenthooks.Intent, error) {
	return read(ctx, s, func(tx agenthooks.Tx) (*agenthooks.Intent, error) { return tx.FindIntent(accountID, id) })
}

// ListIntents returns one page of the account's intents.
func (s *Service) ListIntents(ctx context.Context, accountID string, p agenthooks.Page) (*List[*agenthooks.Intent], error) {
	return list(ctx, s, p, func(tx agenthooks.Tx) ([]*agenthooks.Intent, int, error) { return tx.ListIntents(accountID, p) })
}

// CreateContact creates a contact.
func (s *Service) CreateContact(ctx context.Context, accountID string, c agenthooks.Contact) (*agenthooks.Contact, error) {
	if err := checkContact(&c); err != nil {
		return nil, err
	}
	return write(ctx, s, func(tx agenthooks.Tx) (*agenthooks.Contact, error) {
		c.ID, c.AccountID, c.CreatedAt = NewID(), accountID, tx.Now()
		return &c, tx.CreateContact(&c)
	})
}

// GetContact returns the account's contact with its activity.
func (s *Service) GetContact(ctx context.Context, accountID, id string) (*agenthooks.Contact, error) {
	return read(ctx, s, func(tx agenthooks.Tx) (*agenthooks.Contact, error) {
		c, err := tx.FindContact(accountID, id)
		if err != nil {
			return nil, err
		}
		return c, withActivity(tx, accountID, c)
	})
}

// ListContacts returns one page of the account's contacts, each with its activity.
func (s *Service) ListContacts(ctx context.Context, accountID string, p agenthooks.Page) (*List[*agenthooks.Contact], error) {
	return list(ctx, s, p, func(tx agenthooks.Tx) ([]*agenthooks.Contact, int, error) {
		items, total, err := tx.ListContacts(accountID, p)
		if err != nil {
			return nil, 0, err
		}
		return items, total, withActivity(tx, accountID, items...)
	})
}

// withActivity fills in each contact's activity (first and last assistant
// and widget, last_seen, last_sent).
func withActivity(tx agenthooks.Tx, accountID string, cs ...*agenthooks.Contact) error {
	ids := make([]string, len(cs))
	for i, c := range cs {
		ids[i] = c.ID
	}
	byID, err := tx.ContactActivity(accountID, ids)
	if err != nil {
		return err
	}
	for _, c := range cs {
		c.Activity = byID[c.ID]
	}
	return nil
}

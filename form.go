package agenthooks

import "time"

// FormField is one field of a form.
type FormField struct {
	Name     string `json:"name"`
	Type     string `json:"type" oapi:"enum=field_type"`
	Required bool   `json:"required"`
}

// FieldTypes lists the accepted form field types.
var FieldTypes = []string{"text", "textarea", "date", "checkbox", "select", "gdpr", "tel"}

// Form is a form an assistant asks visitors to fill; WebhookID receives its submissions.
type Form struct {
	ID        string
	AccountID string
	Name      string
	Fields    []FormField
	WebhookID string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Operations on forms; part of Tx.
type formTx interface {
	CreateForm(f *Form) error
	FindForm(accountID, id string) (*Form, error)
	ListForms(accountID string, p Page) ([]*Form, int, error)
	UpdateForm(f *Form) error
}

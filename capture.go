package agenthooks

import "time"

// CapturedForm is a form submitted in a conversation; FieldValues holds every value so far.
type CapturedForm struct {
	ID             string
	AccountID      string
	ConversationID string
	FormID         string
	FieldValues    map[string]any
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// CapturedIntent is an intent captured in a conversation.
type CapturedIntent struct {
	ID             string
	AccountID      string
	ConversationID string
	IntentID       string
	CreatedAt      time.Time
}

// Operations on captured forms and intents; part of Tx. The lists of a
// conversation's captures are in conversationTx.
type captureTx interface {
	CreateCapturedForm(c *CapturedForm) error
	FindCapturedForm(accountID, id string) (*CapturedForm, error)
	UpdateCapturedForm(c *CapturedForm) error

	CreateCapturedIntent(c *CapturedIntent) error
}

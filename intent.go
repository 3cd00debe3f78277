package agenthooks

import "time"

// Intent is a named user intention an assistant can capture (e.g. SALES).
type Intent struct {
	ID          string
	AccountID   string
	Name        string
	Description string
	Profile     IntentProfile
	CreatedAt   time.Time
}

// Active reports whether the intent is active (Insighto's is_active; an
// intent that never set it is).
func (i *Intent) Active() bool { return i.Profile.IsActive == nil || *i.Profile.IsActive }

// Operations on intents; part of Tx.
type intentTx interface {
	CreateIntent(i *Intent) error
	FindIntent(accountID, id string) (*Intent, error)
	ListIntents(accountID string, p Page) ([]*Intent, int, error)
	// DeleteIntent deletes the account's intent and its assistants' use of
	// it; ENOTFOUND if there is none.
	DeleteIntent(accountID, id string) error
}

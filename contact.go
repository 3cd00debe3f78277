package agenthooks

import (
	"strings"
	"time"
	"unicode"
)

// Contact is a known visitor.
type Contact struct {
	ID          string
	AccountID   string
	FirstName   string
	LastName    string
	Email       string
	PhoneNumber string
	Profile     ContactProfile
	CreatedAt   time.Time
	// Activity is derived from the contact's conversations and messages;
	// the store's contact reads leave it zero, and the service fills it in
	// (Tx.ContactActivity).
	Activity ContactActivity
}

// ContactActivity is what agenthooks derives about a contact from the
// conversations started with its id: the assistant and widget of the first
// and the last (by creation), when it was last seen (the latest activity of
// any of them) and when it last sent a message (its latest user message).
type ContactActivity struct {
	FirstAssistantID, FirstWidgetID string
	LastAssistantID, LastWidgetID   string
	LastSeen, LastSent              time.Time
}

// ContactEmailKey is the form under which contacts are matched on email:
// trimmed of surrounding white space and lower-cased.
func ContactEmailKey(email string) string {
	return strings.ToLower(strings.TrimSpace(email))
}

// ContactPhoneKey is the form under which contacts are matched on phone
// number: white space, dashes, dots and parentheses removed, so that
// "+1 (555) 010-9999" and "+15550109999" match; a leading + is kept.
func ContactPhoneKey(phone string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || r == '-' || r == '.' || r == '(' || r == ')' {
			return -1
		}
		return r
	}, phone)
}

// Operations on contacts, among them the match of POST /contact/upsert; part
// of Tx.
type contactTx interface {
	CreateContact(c *Contact) error
	FindContact(accountID, id string) (*Contact, error)
	ListContacts(accountID string, p Page) ([]*Contact, int, error)
	// ContactActivity returns the activity of each of the account's
	// contacts among ids that has any conversation.
	ContactActivity(accountID string, ids []string) (map[string]ContactActivity, error)
	// UpdateContact writes the contact's mutable fields (names, email,
	// phone number, Profile) and their match keys. ENOTFOUND if there is none.
	UpdateContact(c *Contact) error
	// MatchContact returns the account's oldest contact whose email key
	// (ContactEmailKey) is that of email, or else whose phone key
	// (ContactPhoneKey) is that of phone; an empty email or phone matches
	// nothing. ENOTFOUND when none matches. In a write transaction it
	// serialises the account's matches, so that two upserts of one new
	// contact cannot both create it.
	MatchContact(accountID, email, phone string) (*Contact, error)
}

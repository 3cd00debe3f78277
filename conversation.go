package agenthooks

import (
	"encoding/json"
	"time"
)

// DeviceTypes lists the accepted device types of a conversation.
var DeviceTypes = []string{"desktop", "mobile", "tablet", "phone", "native"}

// Conversation is one visitor's session with an assistant through a widget.
type Conversation struct {
	ID             string
	AccountID      string
	AssistantID    string
	WidgetID       string
	ContactID      string // "" when none
	DeviceType     string
	Attributes     json.RawMessage // a JSON object
	ChatCount      int
	FirstMessage   string // the first user message's text, "" if none yet
	UniqueDeviceID string // Insighto's unique_device_id, as the client gave it
	IncludesVoice  bool   // a message of type voice was added
	Summary        string // as reported when it was closed, "" if none
	Closed         bool
	ClosedAt       time.Time
	LastActivityAt time.Time
	CreatedAt      time.Time
	UpdatedAt      time.Time
	// Row is what a row of GET /conversation shows besides the
	// conversation's own fields; only the service's lists fill it in
	// (Tx.ConversationRows).
	Row *ConversationRow
}

// ConversationRow holds the names a conversation list row shows: of its
// assistant, contact and widget, and of the last intent it captured.
type ConversationRow struct {
	AssistantName                     string
	ContactFirstName, ContactLastName string
	IntentName                        string
	WidgetProvider, WidgetType        string
}

// ConversationFilter narrows a conversation list.
type ConversationFilter struct {
	AssistantID string
	ContactID   string
	IntentID    string    // conversations that captured this intent
	Voice       *bool     // nil: any; else IncludesVoice equals it
	From, To    time.Time // zero means unbounded
}

// ConversationQuery narrows a conversation list for the dashboard.
type ConversationQuery struct {
	AssistantID string
	From, To    time.Time // created_at; zero means unbounded
	Closed      *bool     // nil: both open and closed
}

// Message sender and kind values.
var (
	SenderTypes  = []string{"user", "bot", "agent", "tool"}
	MessageTypes = []string{"text", "voice"}
)

// Message is one message of a conversation.
type Message struct {
	ID             string
	AccountID      string
	ConversationID string
	SenderType     string
	MessageType    string
	Text           string
	CreatedAt      time.Time
}

// Operations on conversations and their messages; part of Tx.
type conversationTx interface {
	CreateConversation(c *Conversation) error
	FindConversation(accountID, id string) (*Conversation, error)
	ListConversations(accountID string, f ConversationFilter, p Page) ([]*Conversation, int, error)
	// ConversationRows returns the row of each of cs (the account's),
	// by conversation id.
	ConversationRows(accountID string, cs []*Conversation) (map[string]ConversationRow, error)
	UpdateConversation(c *Conversation) error
	// CloseConversation marks an open conversation closed at now and returns
	// it: ENOTFOUND when there is none, ECONFLICT when it is already closed.
	CloseConversation(accountID, id string, now time.Time) (*Conversation, error)
	// FindIdleConversations returns up to limit open conversations of any
	// account whose last activity is before before.
	FindIdleConversations(before time.Time, limit int) ([]*Conversation, error)

	CreateMessage(m *Message) error
	// ListMessages returns the conversation's last limit messages, oldest first.
	ListMessages(accountID, conversationID string, limit int) ([]*Message, error)
	// ListTranscript returns one page of the conversation's messages, oldest
	// first, and their total.
	ListTranscript(accountID, conversationID string, p Page) ([]*Message, int, error)

	// Reads of the dashboard, answered from an index on the account's rows,
	// never by scanning other accounts'.

	// QueryConversations returns one page of the account's conversations, newest first.
	QueryConversations(accountID string, q ConversationQuery, p Page) ([]*Conversation, int, error)
	// ListConversationForms returns the forms captured in the conversation, oldest first.
	ListConversationForms(accountID, conversationID string) ([]*CapturedForm, error)
	// ListConversationIntents returns the intents captured in the conversation, oldest first.
	ListConversationIntents(accountID, conversationID string) ([]*CapturedIntent, error)
}

package agenthooks

import (
	"maps"
	"slices"
	"strings"
	"unicode"
)

// This file holds what clients written against Insighto's own API need
// beyond the webhook routes: its widget and assistant types, the contact
// match keys of POST /contact/upsert, and the store operations behind its
// update, lookup and list routes (README.md, "Concepts").

// WidgetType is one kind of widget, the channel an assistant talks through.
type WidgetType struct {
	Name  string // the API value, e.g. "web_call"
	Label string // a readable name for people, e.g. "Web call (voice)"
	Voice bool   // the channel is a voice call
}

// WidgetTypes lists Insighto's widget types, in a stable order. The label of
// a voice channel says so ("(voice)").
var WidgetTypes = []WidgetType{
	{Name: "chat", Label: "Chat"},
	{Name: "fb_messenger", Label: "Facebook Messenger"},
	{Name: "html", Label: "HTML embed"},
	{Name: "html_call", Label: "HTML call (voice)", Voice: true},
	{Name: "instagram", Label: "Instagram"},
	{Name: "leadconnector", Label: "LeadConnector"},
	{Name: "leadconnector_call", Label: "LeadConnector call (voice)", Voice: true},
	{Name: "phone", Label: "Phone (voice)", Voice: true},
	{Name: "plivo_call", Label: "Plivo call (voice)", Voice: true},
	{Name: "render_form", Label: "Form"},
	{Name: "sip", Label: "SIP (voice)", Voice: true},
	{Name: "sms", Label: "SMS"},
	{Name: "telegram", Label: "Telegram"},
	{Name: "telnyx_call", Label: "Telnyx call (voice)", Voice: true},
	{Name: "web_call", Label: "Web call (voice)", Voice: true},
	{Name: "whatsapp", Label: "WhatsApp"},
}

// widgetTypeAliases are older names still accepted on input and stored and
// read under the current one ("messenger" was this API's name for Facebook
// Messenger before it took Insighto's).
var widgetTypeAliases = map[string]string{"messenger": "fb_messenger"}

// WidgetTypeNames returns the API values of WidgetTypes, in order.
func WidgetTypeNames() []string {
	names := make([]string, len(WidgetTypes))
	for i, t := range WidgetTypes {
		names[i] = t.Name
	}
	return names
}

// WidgetTypeAliases returns the older widget type names still accepted
// on input, sorted (each is stored and read as its current name).
func WidgetTypeAliases() []string {
	return slices.Sorted(maps.Keys(widgetTypeAliases))
}

// CanonicalWidgetType returns the current name of widget type t (an alias
// becomes the name it stands for) and whether t is a widget type at all.
func CanonicalWidgetType(t string) (string, bool) {
	if name, ok := widgetTypeAliases[t]; ok {
		return name, true
	}
	for _, w := range WidgetTypes {
		if w.Name == t {
			return t, true
		}
	}
	return "", false
}

// AssistantTypes lists Insighto's assistant types; DefaultAssistantType is
// the one an assistant created without a type gets.
var AssistantTypes = []string{"chat", "nl2sql", "phone", "realtime_openai", "simple"}

// DefaultAssistantType is the type of an assistant created without one.
const DefaultAssistantType = "simple"

// assistantTypeAliases: "personal" was this API's default before it took
// Insighto's types; it is still accepted and stored as "simple".
var assistantTypeAliases = map[string]string{"personal": DefaultAssistantType}

// CanonicalAssistantType returns the current name of assistant type t and
// whether t is an assistant type at all (an alias counts).
func CanonicalAssistantType(t string) (string, bool) {
	if name, ok := assistantTypeAliases[t]; ok {
		return name, true
	}
	for _, a := range AssistantTypes {
		if a == t {
			return t, true
		}
	}
	return "", false
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

// Operations behind Insighto's own routes. They are part of Tx.
type insightoTx interface {
	// UpdateWidget writes the widget's mutable fields (AssistantID, Name,
	// WidgetType). Returns ENOTFOUND if the account has no such widget.
	UpdateWidget(w *Widget) error
	// DeleteWidget deletes the account's widget; ENOTFOUND if there is none.
	DeleteWidget(accountID, id string) error

	// DeleteIntent deletes the account's intent and its assistants' use of
	// it; ENOTFOUND if there is none.
	DeleteIntent(accountID, id string) error

	// UpdateContact writes the contact's mutable fields (names, email,
	// phone number) and their match keys. ENOTFOUND if there is none.
	UpdateContact(c *Contact) error
	// MatchContact returns the account's oldest contact whose email key
	// (ContactEmailKey) is that of email, or else whose phone key
	// (ContactPhoneKey) is that of phone; an empty email or phone matches
	// nothing. ENOTFOUND when none matches. In a write transaction it
	// serialises the account's matches, so that two upserts of one new
	// contact cannot both create it.
	MatchContact(accountID, email, phone string) (*Contact, error)

	// ListTranscript returns one page of the conversation's messages, oldest
	// first, and their total.
	ListTranscript(accountID, conversationID string, p Page) ([]*Message, int, error)

	// AddAssistantIntent records that the assistant uses the intent (doing
	// nothing if it already does). The caller checks that both are the
	// account's.
	AddAssistantIntent(accountID, assistantID, intentID string) error
	// RemoveAssistantIntent ends the assistant's use of the intent;
	// ENOTFOUND if it did not use it.
	RemoveAssistantIntent(accountID, assistantID, intentID string) error
	// AssistantIntentIDs returns the intent ids of each of the account's
	// assistants among assistantIDs that uses any, in the intents' creation
	// order.
	AssistantIntentIDs(accountID string, assistantIDs []string) (map[string][]string, error)
}

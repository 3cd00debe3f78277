package agenthooks

import (
	"maps"
	"slices"
	"time"
)

// Widget is a channel through which an assistant talks (chat, phone, ...).
type Widget struct {
	ID          string
	AccountID   string
	AssistantID string // "" when none yet: such a widget takes no conversations
	Name        string
	WidgetType  string
	Profile     WidgetProfile
	CreatedAt   time.Time
}

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

// Operations on widgets; part of Tx.
type widgetTx interface {
	CreateWidget(w *Widget) error
	FindWidget(accountID, id string) (*Widget, error)
	ListWidgets(accountID string, p Page) ([]*Widget, int, error)
	// UpdateWidget writes the widget's mutable fields (AssistantID, Name,
	// WidgetType, Profile). Returns ENOTFOUND if the account has no such widget.
	UpdateWidget(w *Widget) error
	// DeleteWidget deletes the account's widget; ENOTFOUND if there is none.
	DeleteWidget(accountID, id string) error
	// ListAssistantWidgets returns one page of the assistant's widgets, oldest first.
	ListAssistantWidgets(accountID, assistantID string, p Page) ([]*Widget, int, error)
}
